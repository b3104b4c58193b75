// The history vocabulary: values, the recorder's bookkeeping and its errors,
// and the checker's refusal of malformed histories.
#include <doctest/doctest.h>

#include <thread>
#include <type_traits>
#include <vector>

#include "quorum/sim/history.hpp"
#include "quorum/sim/linearizability.hpp"

using namespace quorum::sim;
using quorum::errc;

TEST_CASE("values are small, trivially copyable and compare by kind and content") {
  static_assert(std::is_trivially_copyable_v<value>);
  static_assert(sizeof(value) <= 16);
  CHECK(value{} == value::absent());
  CHECK(value::integer(0) != value::absent());
  CHECK(value::integer(1) != value::boolean(true));
  CHECK(value::integer(1) != value::symbol(1));
  CHECK(value::integer(-5).as_integer() == -5);
  CHECK(value::integer(7).hash() == value::integer(7).hash());
  CHECK(value::integer(1).hash() != value::symbol(1).hash());

  history h;
  const value x = h.intern("x");
  CHECK(h.intern("x") == x);
  CHECK(h.intern("y") != x);
  CHECK(h.text(x) == "\"x\"");
  CHECK(h.text(value::integer(-3)) == "-3");
  CHECK(h.text(value::absent()) == "absent");
  CHECK(h.text(value::boolean(true)) == "true");
}

TEST_CASE("the recorder turns invocations and their fates into a history") {
  recorder rec;
  const value k = rec.intern("k");
  auto w = rec.invoke(1, op_kind::write, k, value::integer(1), 10);
  auto r = rec.invoke(2, op_kind::read, k, {}, 11);
  auto i = rec.invoke(3, op_kind::incr, k, value::integer(1), 12);
  auto c = rec.invoke(4, op_kind::cas, k, value::integer(2), 13, value::integer(1));
  auto lost = rec.invoke(5, op_kind::write, k, value::integer(9), 14);
  REQUIRE((w && r && i && c && lost));
  CHECK(rec.ok(*w, {}, 20).has_value());
  CHECK(rec.ok(*r, value::integer(1), 21).has_value());
  CHECK(rec.failed(*i, 22).has_value());
  CHECK(rec.unknown(*c).has_value());

  const history h = rec.take();
  REQUIRE(h.size() == 5);
  CHECK(h[*w].status == op_status::ok);
  CHECK(h[*w].invoke == 10);
  CHECK(h[*w].complete == 20);
  CHECK(h[*r].output == value::integer(1));
  CHECK(h[*i].status == op_status::failed);
  CHECK(h[*c].status == op_status::unknown);
  CHECK(h[*c].expected == value::integer(1));
  CHECK(h[*lost].status == op_status::unknown);  // still open at take()
  CHECK(h.describe(*r) == "op 1: client 2 read \"k\" -> 1 [11, 21]");
  CHECK(h.describe(*c) == "op 3: client 4 cas \"k\" 1 -> 2 unknown [13, ...)");

  auto verdict = check(h);
  REQUIRE(verdict.has_value());
  CHECK(verdict->outcome == check_outcome::ok);
  CHECK(rec.take().size() == 0);
}

TEST_CASE("the recorder refuses to complete an operation twice, early or that does not exist") {
  recorder rec{recorder_options{2}};
  auto a = rec.invoke(1, op_kind::read, value::integer(0), {}, 10);
  REQUIRE(a.has_value());
  auto early = rec.ok(*a, value::absent(), 9);
  REQUIRE_FALSE(early.has_value());
  CHECK(early.error().code == errc::invalid_argument);
  CHECK(rec.ok(*a, value::absent(), 10).has_value());
  auto twice = rec.failed(*a, 11);
  REQUIRE_FALSE(twice.has_value());
  CHECK(twice.error().code == errc::invalid_argument);
  auto missing = rec.unknown(42);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == errc::not_found);
  CHECK(missing.error().detail == 42);

  auto bad_incr = rec.invoke(1, op_kind::incr, value::integer(0), value::boolean(true), 12);
  REQUIRE_FALSE(bad_incr.has_value());
  CHECK(bad_incr.error().code == errc::invalid_argument);

  REQUIRE(rec.invoke(1, op_kind::read, value::integer(0), {}, 12).has_value());
  auto full = rec.invoke(1, op_kind::read, value::integer(0), {}, 13);
  REQUIRE_FALSE(full.has_value());
  CHECK(full.error().code == errc::too_large);
  CHECK(rec.take().size() == 2);  // the refused ones left no trace
}

TEST_CASE("the recorder can be shared by client threads") {
  recorder rec;
  constexpr int threads = 4;
  constexpr int per_thread = 250;
  std::vector<std::thread> clients;
  for (int t = 0; t < threads; ++t) {
    clients.emplace_back([&rec, t] {
      for (int i = 0; i < per_thread; ++i) {
        // Each client owns its key, so the history is trivially linearizable.
        const auto key = value::integer(t);
        auto id = rec.invoke(static_cast<std::uint64_t>(t), op_kind::incr, key, value::integer(1), 2 * i);
        if (id) (void)rec.ok(*id, value::integer(i + 1), 2 * i + 1);
      }
    });
  }
  for (auto& c : clients) c.join();
  const history h = rec.take();
  REQUIRE(h.size() == threads * per_thread);
  for (const operation& op : h.operations()) CHECK(op.status == op_status::ok);
  auto verdict = check(h);
  REQUIRE(verdict.has_value());
  CHECK(verdict->outcome == check_outcome::ok);
  CHECK(verdict->keys == threads);
}

TEST_CASE("the checker refuses a malformed history and names the operation") {
  auto refused = [](const history& h, std::uint64_t index) {
    auto r = check(h);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == errc::invalid_argument);
    CHECK(r.error().detail == index);
  };
  history backwards;
  backwards.write(1, value::integer(0), value::integer(1), 0, 1);
  backwards.read(1, value::integer(0), value::integer(1), 5, 4);
  refused(backwards, 1);

  history symbol_delta;
  operation op;
  op.kind = op_kind::incr;
  op.status = op_status::ok;
  op.input = symbol_delta.intern("one");
  op.output = value::integer(1);
  symbol_delta.add(op);
  refused(symbol_delta, 0);

  history bad_incr_result;
  bad_incr_result.incr(1, value::integer(0), 1, value::absent(), 0, 1);
  refused(bad_incr_result, 0);

  history bad_cas_result;
  operation cas;
  cas.kind = op_kind::cas;
  cas.status = op_status::ok;
  cas.output = value::integer(1);
  bad_cas_result.add(cas);
  refused(bad_cas_result, 0);

  history bad_kind;
  operation odd;
  odd.kind = static_cast<op_kind>(9);
  odd.status = op_status::ok;
  bad_kind.add(odd);
  refused(bad_kind, 0);

  // An unknown operation's return time is meaningless, so it is not checked.
  history open;
  open.write(1, value::integer(0), value::integer(1), 5, 0, op_status::unknown);
  CHECK(check(open).has_value());
}
