// Randomized checks of the checker: histories made by a real sequential store
// must pass, the same histories with one read corrupted must fail at that
// read, small random histories must agree with a brute-force search, budgets
// must turn into `unknown`, and thousands of operations must check quickly.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "generate.hpp"
#include "quorum/core/random.hpp"
#include "quorum/sim/linearizability.hpp"

using namespace quorum::sim;
using lin_test::generate;
using lin_test::generate_options;

namespace {

check_result run(const history& h, const check_options& o = {}) {
  auto r = check(h, o);
  REQUIRE(r.has_value());
  return *r;
}

// Makes one ok read return a value no operation ever wrote; returns its index.
std::size_t corrupt_one_read(history& h, quorum::seeded_random& rng) {
  std::vector<std::size_t> reads;
  for (std::size_t i = 0; i < h.size(); ++i)
    if (h[i].kind == op_kind::read && h[i].status == op_status::ok) reads.push_back(i);
  REQUIRE_FALSE(reads.empty());
  const std::size_t victim = reads[rng.below(reads.size())];
  h[victim].output = value::integer(-1'000'000);
  return victim;
}

// The specification, independently: try every order of the operations that
// respects real time, with unknown operations placed anywhere after their
// invocation or nowhere, failed ones nowhere.
class brute_force {
 public:
  explicit brute_force(const history& h) : h_{h}, before_(h.size(), 0) {
    for (std::size_t i = 0; i < h.size(); ++i) {
      if (h[i].status == op_status::ok) must_ |= 1U << i;
      for (std::size_t j = 0; j < h.size(); ++j)
        if (h[j].status == op_status::ok && h[j].complete < h[i].invoke) before_[i] |= 1U << j;
    }
  }
  bool linearizable() {
    std::vector<value> store(4);
    return search(0, store);
  }

 private:
  static bool apply(const operation& op, value& cell) {
    const bool ok = op.status == op_status::ok;
    switch (op.kind) {
      case op_kind::read: return !ok || op.output == cell;
      case op_kind::write: cell = op.input; return true;
      case op_kind::incr:
        if (cell.is_symbol() || cell.is_boolean()) return false;
        cell = value::integer((cell.is_integer() ? cell.as_integer() : 0) + op.input.as_integer());
        return !ok || op.output == cell;
      case op_kind::cas: {
        const bool swap = cell == op.expected;
        if (swap) cell = op.input;
        return !ok || op.output == value::boolean(swap);
      }
    }
    return false;
  }
  bool search(std::uint32_t placed, std::vector<value>& store) {
    if ((placed & must_) == must_) return true;
    for (std::size_t i = 0; i < h_.size(); ++i) {
      if ((placed >> i) & 1U || h_[i].status == op_status::failed) continue;
      if ((before_[i] & placed) != before_[i]) continue;
      auto& cell = store[static_cast<std::size_t>(h_[i].key.as_integer())];
      const value saved = cell;
      if (apply(h_[i], cell) && search(placed | (1U << i), store)) return true;
      cell = saved;
    }
    return false;
  }

  const history& h_;
  std::vector<std::uint32_t> before_;
  std::uint32_t must_{0};
};

history random_small(quorum::seeded_random& rng) {
  history h;
  const auto n = rng.between(1, 7);
  auto small = [&] {
    return rng.chance(0.2) ? value::absent() : value::integer(static_cast<std::int64_t>(rng.between(1, 3)));
  };
  for (std::uint64_t i = 0; i < n; ++i) {
    operation op;
    op.client = rng.below(3);
    op.key = value::integer(static_cast<std::int64_t>(rng.below(2)));
    op.invoke = static_cast<std::int64_t>(rng.below(10));
    op.complete = op.invoke + static_cast<std::int64_t>(rng.below(6));
    const auto s = rng.below(10);
    op.status = s < 7 ? op_status::ok : s < 9 ? op_status::unknown : op_status::failed;
    switch (rng.below(4)) {
      case 0: op.kind = op_kind::read; op.output = small(); break;
      case 1: op.kind = op_kind::write; op.input = value::integer(static_cast<std::int64_t>(rng.between(1, 3))); break;
      case 2:
        op.kind = op_kind::incr;
        op.input = value::integer(1);
        op.output = value::integer(static_cast<std::int64_t>(rng.between(1, 4)));
        break;
      default:
        op.kind = op_kind::cas;
        op.expected = small();
        op.input = value::integer(static_cast<std::int64_t>(rng.between(1, 3)));
        op.output = value::boolean(rng.chance(0.5));
        break;
    }
    h.add(op);
  }
  return h;
}

}  // namespace

TEST_CASE("histories of a real sequential store are linearizable, over many seeds") {
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    CAPTURE(seed);
    const history h = generate(seed, generate_options{});
    const auto r = run(h);
    REQUIRE(r.outcome == check_outcome::ok);
  }
}

TEST_CASE("one corrupted read makes a violation at that read, over many seeds") {
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    CAPTURE(seed);
    history h = generate(seed, generate_options{});
    quorum::seeded_random rng{seed * 7919};
    const std::size_t victim = corrupt_one_read(h, rng);
    const auto r = run(h);
    REQUIRE(r.outcome == check_outcome::violation);
    CHECK(r.explanation->operation == victim);
    CHECK(r.explanation->key == h[victim].key);
    CHECK_FALSE(r.explanation->possible.empty());
    CHECK(r.what.find(h.describe(victim)) != std::string::npos);
  }
}

TEST_CASE("many unknown and failed operations: still accepted, and a corruption never is") {
  generate_options g;
  g.unknown = 0.4;  // over 64 unknown operations per history: a multi-word bitset
  g.failed = 0.1;
  g.keys = 2;
  int refuted = 0;
  for (std::uint64_t seed = 1; seed <= 25; ++seed) {
    CAPTURE(seed);
    history h = generate(seed, g);
    REQUIRE(run(h).outcome == check_outcome::ok);
    quorum::seeded_random rng{seed};
    const std::size_t victim = corrupt_one_read(h, rng);
    check_options o;
    o.max_steps = 20'000;  // unknown writes can make a refutation exponential
    const auto r = run(h, o);
    CHECK(r.outcome != check_outcome::ok);
    if (r.outcome == check_outcome::violation) {
      CHECK(r.explanation->operation == victim);
      ++refuted;
    }
  }
  MESSAGE(refuted << " of 25 corrupted histories refuted, the rest unknown");
  CHECK(refuted >= 5);
}

TEST_CASE("small random histories agree with a brute-force search") {
  quorum::seeded_random rng{20261126};
  int linearizable = 0;
  int not_linearizable = 0;
  for (int i = 0; i < 4000; ++i) {
    CAPTURE(i);
    const history h = random_small(rng);
    const bool expected = brute_force{h}.linearizable();
    const auto r = run(h);
    REQUIRE(r.outcome == (expected ? check_outcome::ok : check_outcome::violation));
    (expected ? linearizable : not_linearizable) += 1;
  }
  // Both answers must be well represented, or the comparison proves little.
  CHECK(linearizable > 800);
  CHECK(not_linearizable > 800);
}

TEST_CASE("the same history gives the same verdict, steps and explanation") {
  history h = generate(42, generate_options{400, 4, 6});
  quorum::seeded_random rng{42};
  corrupt_one_read(h, rng);
  const auto a = run(h);
  const auto b = run(h);
  CHECK(a.outcome == check_outcome::violation);
  CHECK(a.outcome == b.outcome);
  CHECK(a.steps == b.steps);
  CHECK(a.what == b.what);
  CHECK(a.explanation->possible == b.explanation->possible);
}

namespace {

// Many incrs whose clients gave up, and a read of a value no subset of them
// sums to: to refute it the search must try every subset (2^24 of them).
history exponential() {
  history h;
  for (std::int64_t i = 0; i < 24; ++i)
    h.incr(1 + static_cast<std::uint64_t>(i), value::integer(0), std::int64_t{1} << i, {}, i, 0,
           op_status::unknown);
  h.read(100, value::integer(0), value::integer(-1), 100, 101);
  return h;
}

}  // namespace

TEST_CASE("a spent step budget gives unknown, not a wrong answer") {
  const history h = exponential();
  check_options o;
  o.max_steps = 10'000;
  const auto r = run(h, o);
  CHECK(r.outcome == check_outcome::unknown);
  CHECK(r.steps == 10'001);
  CHECK_FALSE(r.explanation);
  CHECK(r.what.find("max_steps") != std::string::npos);

  // A budget large enough for an easy history changes nothing.
  const auto easy = run(generate(3, generate_options{}), o);
  CHECK(easy.outcome == check_outcome::ok);
}

TEST_CASE("a spent time budget gives unknown promptly") {
  check_options o;
  o.max_steps = 0;
  o.max_milliseconds = 50;
  const auto start = std::chrono::steady_clock::now();
  const auto r = run(exponential(), o);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(r.outcome == check_outcome::unknown);
  CHECK(r.what.find("max_milliseconds") != std::string::npos);
  CHECK(elapsed < std::chrono::seconds(5));
}

TEST_CASE("a spent memory budget gives unknown") {
  check_options o;
  o.max_memory_bytes = 1 << 20;
  const auto r = run(exponential(), o);
  CHECK(r.outcome == check_outcome::unknown);
  CHECK(r.what.find("max_memory_bytes") != std::string::npos);
  CHECK(r.memo_entries > 1000);
  CHECK(r.memo_entries < (1 << 20) / 32);
}

TEST_CASE("5,000 operations over 5 keys from 8 clients check in well under a second") {
  generate_options g;
  g.ops = 5000;
  g.keys = 5;
  g.clients = 8;
  g.unknown = 0.01;
  g.failed = 0.01;
  g.values = 50;
  history h = generate(7, g);
  check_options o;
  o.max_milliseconds = 20'000;  // a stuck search reports instead of hanging the suite

  auto start = std::chrono::steady_clock::now();
  const auto good = run(h, o);
  const auto ok_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  CHECK(good.outcome == check_outcome::ok);

  quorum::seeded_random rng{7};
  const std::size_t victim = corrupt_one_read(h, rng);
  start = std::chrono::steady_clock::now();
  const auto bad = run(h, o);
  const auto bad_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  CHECK(bad.outcome == check_outcome::violation);
  CHECK(bad.explanation->operation == victim);

  MESSAGE("5000 ops: ok in " << ok_ms << " ms (" << good.steps << " steps, " << good.memo_entries
          << " memo entries); violation in " << bad_ms << " ms (" << bad.steps << " steps)");
  // Milliseconds in an optimised build; the bound leaves room for a sanitizer build.
  CHECK(ok_ms < 2000);
  CHECK(bad_ms < 2000);
}

TEST_CASE("a key that spends its memory budget does not hide another key's violation") {
  history h = exponential();  // key 0: cannot be decided within the memory budget
  h.write(1, value::integer(1), value::integer(5), 200, 201);
  const auto stale = h.read(2, value::integer(1), value::absent(), 202, 203);
  check_options o;
  o.max_memory_bytes = 1 << 20;
  const auto r = run(h, o);
  REQUIRE(r.outcome == check_outcome::violation);
  CHECK(r.explanation->key == value::integer(1));
  CHECK(r.explanation->operation == stale);
  CHECK(r.keys == 2);

  history undecided = exponential();  // without the violation: unknown, naming key 0
  undecided.write(1, value::integer(1), value::integer(5), 200, 201);
  const auto u = run(undecided, o);
  CHECK(u.outcome == check_outcome::unknown);
  CHECK(u.keys == 2);
  CHECK(u.what.find("gave up on key 0") != std::string::npos);
}
