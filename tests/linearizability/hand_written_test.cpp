// Hand-written histories with a known answer: the classic anomalies must be
// caught, and unknown, failed and concurrent operations must be judged by
// what they may have done, not by how the history looks.
#include <doctest/doctest.h>

#include <algorithm>

#include "quorum/sim/linearizability.hpp"

using namespace quorum::sim;

namespace {

value I(std::int64_t v) { return value::integer(v); }
const value key = I(0);
constexpr auto unknown = op_status::unknown;
constexpr auto failed = op_status::failed;

check_result run(const history& h) {
  auto r = check(h);
  REQUIRE(r.has_value());
  return *r;
}

bool possible(const check_result& r, value v) {
  REQUIRE(r.explanation);
  const auto& p = r.explanation->possible;
  return std::find(p.begin(), p.end(), v) != p.end();
}

}  // namespace

TEST_CASE("an empty history and a sequential one are linearizable") {
  history empty;
  CHECK(run(empty).outcome == check_outcome::ok);

  history h;
  h.read(1, key, value::absent(), 0, 1);
  h.write(1, key, I(1), 2, 3);
  h.read(2, key, I(1), 4, 5);
  h.incr(2, key, 5, I(6), 6, 7);
  h.cas(1, key, I(6), I(9), true, 8, 9);
  h.cas(1, key, I(6), I(10), false, 10, 11);
  h.read(3, key, I(9), 12, 13);
  const auto r = run(h);
  CHECK(r.outcome == check_outcome::ok);
  CHECK(r.keys == 1);
  CHECK_FALSE(r.explanation);
}

TEST_CASE("a stale read after a completed write is a violation") {
  history h;
  h.write(1, key, I(1), 0, 1);
  h.write(1, key, I(2), 2, 3);
  const auto stale = h.read(2, key, I(1), 4, 5);
  const auto r = run(h);
  REQUIRE(r.outcome == check_outcome::violation);
  CHECK(r.explanation->key == key);
  CHECK(r.explanation->operation == stale);
  CHECK(r.explanation->possible == std::vector<value>{I(2)});
  CHECK(r.what.find("op 2: client 2 read 0 -> 1 [4, 5]") != std::string::npos);
}

TEST_CASE("two clients that see two writes in opposite orders are a violation") {
  history h;
  h.write(1, key, I(1), 0, 100);
  h.write(2, key, I(2), 0, 100);
  h.read(3, key, I(1), 10, 20);
  h.read(3, key, I(2), 30, 40);
  h.read(4, key, I(2), 10, 20);
  h.read(4, key, I(1), 30, 40);
  CHECK(run(h).outcome == check_outcome::violation);

  // The same reads in the same order for both clients are fine.
  history same;
  same.write(1, key, I(1), 0, 100);
  same.write(2, key, I(2), 0, 100);
  same.read(3, key, I(1), 10, 20);
  same.read(3, key, I(2), 30, 40);
  same.read(4, key, I(1), 10, 20);
  same.read(4, key, I(2), 30, 40);
  CHECK(run(same).outcome == check_outcome::ok);
}

TEST_CASE("a read of a value never written is a violation") {
  history h;
  h.write(1, key, I(1), 0, 10);
  const auto bad = h.read(2, key, I(7), 5, 6);
  const auto r = run(h);
  REQUIRE(r.outcome == check_outcome::violation);
  CHECK(r.explanation->operation == bad);
  CHECK(possible(r, value::absent()));
  CHECK(possible(r, I(1)));
  CHECK_FALSE(possible(r, I(7)));
}

TEST_CASE("a lost incr and a duplicated incr result are violations") {
  history lost;
  lost.incr(1, key, 1, I(1), 0, 1);
  lost.incr(2, key, 1, I(2), 2, 3);
  const auto bad = lost.read(3, key, I(1), 4, 5);
  const auto r = run(lost);
  REQUIRE(r.outcome == check_outcome::violation);
  CHECK(r.explanation->operation == bad);
  CHECK(r.explanation->possible == std::vector<value>{I(2)});

  history dup;
  dup.incr(1, key, 1, I(1), 0, 10);
  dup.incr(2, key, 1, I(1), 0, 10);
  CHECK(run(dup).outcome == check_outcome::violation);

  history fine;  // concurrent incrs may return in either order
  fine.incr(1, key, 1, I(2), 0, 3);
  fine.incr(2, key, 1, I(1), 0, 10);
  CHECK(run(fine).outcome == check_outcome::ok);
}

TEST_CASE("a read that sees a write before the write was invoked is a violation") {
  history h;
  const auto early = h.read(1, key, I(1), 0, 1);
  h.write(2, key, I(1), 5, 6);
  const auto r = run(h);
  REQUIRE(r.outcome == check_outcome::violation);
  CHECK(r.explanation->operation == early);
  CHECK(r.explanation->possible == std::vector<value>{value::absent()});

  // Touching intervals overlap: a read that returns when the write is invoked may see it.
  history touching;
  touching.read(1, key, I(1), 0, 5);
  touching.write(2, key, I(1), 5, 6);
  CHECK(run(touching).outcome == check_outcome::ok);
}

TEST_CASE("an unknown write may take effect or not, but once and not before it was invoked") {
  auto base = [] {
    history h;
    h.write(1, key, I(1), 0, 1);
    h.write(2, key, I(2), 2, 0, unknown);
    return h;
  };
  history seen = base();
  seen.read(3, key, I(2), 10, 11);
  seen.read(3, key, I(2), 12, 13);
  CHECK(run(seen).outcome == check_outcome::ok);

  history not_seen = base();
  not_seen.read(3, key, I(1), 10, 11);
  not_seen.read(3, key, I(1), 1000, 1001);
  CHECK(run(not_seen).outcome == check_outcome::ok);

  history late = base();  // takes effect long after its client gave up
  late.read(3, key, I(1), 10, 11);
  late.read(3, key, I(2), 1000, 1001);
  CHECK(run(late).outcome == check_outcome::ok);

  history flicker = base();  // seen, then undone: it cannot take effect twice
  flicker.read(3, key, I(2), 10, 11);
  flicker.read(3, key, I(1), 12, 13);
  CHECK(run(flicker).outcome == check_outcome::violation);

  history before = base();  // seen before it was invoked
  before.read(3, key, I(2), 0, 1);
  CHECK(run(before).outcome == check_outcome::violation);
}

TEST_CASE("an unknown incr counts at most once") {
  history h;
  h.incr(1, key, 1, I(1), 0, 1);
  h.incr(2, key, 1, {}, 2, 0, unknown);
  h.read(3, key, I(2), 5, 6);
  CHECK(run(h).outcome == check_outcome::ok);
  h.incr(3, key, 1, I(3), 7, 8);  // 1 + the unknown one + this one
  CHECK(run(h).outcome == check_outcome::ok);
  h.read(3, key, I(4), 9, 10);
  CHECK(run(h).outcome == check_outcome::violation);
}

TEST_CASE("an unknown read constrains nothing") {
  history h;
  h.write(1, key, I(1), 0, 1);
  h.read(2, key, I(99), 2, 0, unknown);
  CHECK(run(h).outcome == check_outcome::ok);
}

TEST_CASE("a failed operation does not take effect") {
  history h;
  h.write(1, key, I(1), 0, 1);
  h.write(2, key, I(2), 2, 3, failed);
  h.read(3, key, I(1), 4, 5);
  CHECK(run(h).outcome == check_outcome::ok);

  history seen;
  seen.write(1, key, I(1), 0, 1);
  seen.write(2, key, I(2), 2, 3, failed);
  const auto bad = seen.read(3, key, I(2), 4, 5);
  const auto r = run(seen);
  REQUIRE(r.outcome == check_outcome::violation);
  CHECK(r.explanation->operation == bad);

  history incr;
  incr.incr(1, key, 1, I(1), 0, 1);
  incr.incr(2, key, 1, {}, 2, 3, failed);
  incr.incr(1, key, 1, I(3), 4, 5);
  CHECK(run(incr).outcome == check_outcome::violation);
}

TEST_CASE("concurrency makes an odd-looking history legal") {
  // The read returns 2 before the write of 2 returns, and even before the
  // write of 1 that precedes it in the listing has returned.
  history h;
  h.write(1, key, I(1), 0, 50);
  h.write(2, key, I(2), 10, 60);
  h.read(3, key, I(2), 20, 30);
  h.read(4, key, I(1), 40, 45);  // ... and then 1 again: write 1 took effect last
  h.read(3, key, I(1), 70, 80);
  CHECK(run(h).outcome == check_outcome::ok);

  // But once both writes are over, 1 being last is fixed.
  h.read(4, key, I(2), 90, 95);
  CHECK(run(h).outcome == check_outcome::violation);
}

TEST_CASE("cas swaps only on a match and only one of two rivals wins") {
  history one;
  one.cas(1, key, value::absent(), I(1), true, 0, 10);
  one.cas(2, key, value::absent(), I(2), false, 0, 10);
  one.read(3, key, I(1), 11, 12);
  CHECK(run(one).outcome == check_outcome::ok);

  history both;
  both.cas(1, key, value::absent(), I(1), true, 0, 10);
  both.cas(2, key, value::absent(), I(2), true, 0, 10);
  CHECK(run(both).outcome == check_outcome::violation);

  history missed;
  missed.write(1, key, I(5), 0, 1);
  missed.cas(2, key, I(5), I(6), false, 2, 3);
  CHECK(run(missed).outcome == check_outcome::violation);
}

TEST_CASE("strings are values and incr on a string cannot succeed") {
  history h;
  const value k = h.intern("user:1");
  const value alice = h.intern("alice");
  h.write(1, k, alice, 0, 1);
  h.read(2, k, h.intern("alice"), 2, 3);
  CHECK(run(h).outcome == check_outcome::ok);
  h.incr(2, k, 1, I(1), 4, 5);
  const auto r = run(h);
  REQUIRE(r.outcome == check_outcome::violation);
  CHECK(r.explanation->possible == std::vector<value>{alice});
  CHECK(r.what.find("key \"user:1\"") != std::string::npos);
  CHECK(r.what.find("\"alice\"") != std::string::npos);
}

TEST_CASE("keys are checked independently and the violation names its key") {
  history h;
  const value a = h.intern("a");
  const value b = h.intern("b");
  h.write(1, a, I(1), 0, 10);
  h.write(2, b, I(1), 0, 10);
  h.read(3, a, I(1), 11, 12);
  h.read(3, b, value::absent(), 11, 12);  // b's write completed: stale
  h.read(4, a, value::absent(), 5, 6);    // concurrent with a's write: fine
  const auto r = run(h);
  REQUIRE(r.outcome == check_outcome::violation);
  CHECK(r.explanation->key == b);
  CHECK(r.explanation->operation == 3);
  CHECK(r.keys == 2);
}

TEST_CASE("a read of another key's value is not confused across keys") {
  history h;
  h.write(1, I(1), I(10), 0, 1);
  h.write(1, I(2), I(20), 2, 3);
  h.read(2, I(1), I(10), 4, 5);
  h.read(2, I(2), I(20), 4, 5);
  CHECK(run(h).outcome == check_outcome::ok);
  h.read(2, I(1), I(20), 6, 7);
  CHECK(run(h).outcome == check_outcome::violation);
}
