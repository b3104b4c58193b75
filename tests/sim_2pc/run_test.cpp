// Whole seeds of two-phase commit in the simulator (sim/two_phase_commit_driver.hpp):
// a sweep runs clean under faults drawn per seed with both presumptions, a run
// is a pure function of its seed, and the planted bug is caught.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "quorum/sim/trace.hpp"
#include "support/sweep.hpp"
#include "support/trace_text.hpp"
#include "quorum/sim/two_phase_commit_driver.hpp"

namespace {

constexpr std::uint64_t sweep_scale = quorum::test::optimized_scale(8);

using namespace quorum::sim;
using tpc_sim::driver;
using tpc_sim::plant;

constexpr auto run = [](const run_config& c) { return tpc_sim::run_seed(c); };

seed_report traced(std::uint64_t seed, std::string& out) { return quorum::test::traced_run({}, seed, run, out); }

void sweep(run_config c, std::uint64_t first, std::uint64_t last) {
  quorum::test::sweep_seeds(run, c, first, last, /*elects=*/false);
}

}  // namespace

TEST_CASE("sim 2pc: seeds 1-400 (1-50 unoptimized) run clean with faults drawn per seed") {
  sweep(run_config{}, 1, 50 * sweep_scale);
}

TEST_CASE("sim 2pc: heavy explicit faults with frequent crashes run clean") {
  run_config c;
  c.drop = 0.2;
  c.duplicate = 0.2;
  c.reorder = 0.3;
  c.partition = 0.005;
  c.crash = 0.01;
  sweep(c, 1, 10 * sweep_scale);
}

TEST_CASE("sim 2pc: 2 and 8 node clusters run clean") {
  run_config two;
  two.nodes = 2;
  sweep(two, 1, 5 * sweep_scale);
  run_config eight;
  eight.nodes = 8;
  sweep(eight, 1, 5 * sweep_scale);
}

TEST_CASE("sim 2pc: both presumptions are exercised and both commit and abort happen") {
  for (std::uint64_t s = 1; s <= 2; ++s) {
    run_config c;
    c.seed = s;
    driver d{s};
    world_options o;
    o.default_nodes = 4;
    world<driver> w{c, d, o};
    const seed_report r = w.run();
    REQUIRE_FALSE(r.violation);
    CHECK(d.presumption() == (s % 2 == 0 ? quorum::two_phase_commit::presumption::commit
                                         : quorum::two_phase_commit::presumption::abort));
    CHECK(d.committed() > 0);
    CHECK(d.committed() < d.transactions());
  }
}

TEST_CASE("sim 2pc: a seed is a pure function: the same seed gives the same trace") {
  std::string a, b, c;
  const seed_report ra = traced(11, a);
  const seed_report rb = traced(11, b);
  (void)traced(12, c);
  REQUIRE_FALSE(ra.violation);
  CHECK(a == b);
  CHECK(ra.events == rb.events);
  CHECK(a != c);
  CHECK(quorum::test::count_of(a, "\"event\":\"vote\"") > 0);
  CHECK(quorum::test::count_of(a, "\"event\":\"decide\"") > 0);
  CHECK(quorum::test::count_of(a, "\"event\":\"outcome\"") > 0);
  CHECK(quorum::test::count_of(a, "\"vote\":\"no\"") > 0);
  CHECK(quorum::test::count_of(a, "\"decision\":\"abort\"") > 0);
  CHECK(quorum::test::count_of(a, "\"decision\":\"commit\"") > 0);
}

TEST_CASE("sim 2pc: planted bug forget_prepared (a restart loses prepared records) is caught") {
  run_config c;
  c.crash = 0.01;
  std::size_t caught = 0;
  std::uint64_t first = 0;
  for (std::uint64_t s = 1; s <= 20; ++s) {
    c.seed = s;
    const seed_report r = tpc_sim::run_seed(c, {.bug = plant::forget_prepared});
    if (!r.violation) continue;
    ++caught;
    if (first == 0) first = s;
    INFO(r.what);
    CHECK((r.what.find("a promise was lost") != std::string::npos ||
           r.what.find("liveness") != std::string::npos));
  }
  CHECK(caught > 0);
  // The correct driver on the first catching seed is clean: the bug, not the seed, fires.
  REQUIRE(first != 0);
  c.seed = first;
  const seed_report clean = tpc_sim::run_seed(c);
  INFO(clean.what);
  CHECK_FALSE(clean.violation);
}

TEST_CASE("sim 2pc: planted bug decide_alone (an in-doubt participant aborts on its own) breaks atomicity and is caught") {
  std::size_t caught = 0;
  for (std::uint64_t s = 1; s <= 10; ++s) {
    run_config c;
    c.seed = s;
    const seed_report r = tpc_sim::run_seed(c, {.bug = plant::decide_alone});
    INFO("seed " << s << ": " << r.what);
    if (!r.violation) continue;
    ++caught;
    CHECK(r.what.find("atomicity") != std::string::npos);
  }
  CHECK(caught >= 5);
}

TEST_CASE("sim 2pc: crashes exercise recovery and termination on both sides") {
  tpc_sim::coverage total;
  for (std::uint64_t s = 1; s <= 20; ++s) {
    run_config c;
    c.seed = s;
    c.crash = 0.01;
    driver d{s};
    world_options o;
    o.default_nodes = 4;
    world<driver> w{c, d, o};
    const seed_report r = w.run();
    INFO(r.what);
    REQUIRE_FALSE(r.violation);
    const tpc_sim::coverage k = d.exercised();
    total.coordinator_recovered += k.coordinator_recovered;
    total.in_doubt_recovered += k.in_doubt_recovered;
    total.inquiries += k.inquiries;
    total.unilateral_aborts += k.unilateral_aborts;
    total.vote_timeouts += k.vote_timeouts;
  }
  CHECK(total.coordinator_recovered > 0);
  CHECK(total.in_doubt_recovered > 0);
  CHECK(total.inquiries > 0);
  CHECK(total.unilateral_aborts > 0);
  CHECK(total.vote_timeouts > 0);
  MESSAGE("recovered " << total.coordinator_recovered << " coordinator txns, " << total.in_doubt_recovered
                       << " in-doubt participants; " << total.inquiries << " inquiries, " << total.unilateral_aborts
                       << " unilateral aborts, " << total.vote_timeouts << " vote timeouts");
}
