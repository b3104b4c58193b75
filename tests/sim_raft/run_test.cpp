// Whole seeds of Raft in the simulator (sim/raft_driver.hpp): a sweep runs
// clean under faults drawn per seed, a run is a pure function of its seed,
// planted bugs are caught, and the client's history is checked for real.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "quorum/sim/raft_driver.hpp"
#include "quorum/sim/trace.hpp"
#include "support/sweep.hpp"
#include "support/trace_text.hpp"

namespace {

constexpr std::uint64_t sweep_scale = quorum::test::optimized_scale(16);

using namespace quorum::sim;
using raft_sim::driver;
using raft_sim::driver_options;
using raft_sim::plant;

constexpr auto run = [](const run_config& c) { return raft_sim::run_seed(c); };

seed_report traced(std::uint64_t seed, std::string& out) { return quorum::test::traced_run({}, seed, run, out); }

void sweep(run_config c, std::uint64_t first, std::uint64_t last) {
  quorum::test::sweep_seeds(run, c, first, last, /*elects=*/true);
}

}  // namespace

TEST_CASE("sim raft: seeds 1-960 (1-60 unoptimized) run clean, faults drawn per seed, 3 nodes") {
  sweep(run_config{}, 1, 60 * sweep_scale);
}

TEST_CASE("sim raft: seeds under heavy explicit faults run clean") {
  sweep(quorum::test::heavy_faults(), 1, 8 * sweep_scale);
}

TEST_CASE("sim raft: 5 and 1 node clusters run clean") {
  run_config five;
  five.nodes = 5;
  sweep(five, 1, 6 * sweep_scale);
  run_config one;
  one.nodes = 1;
  sweep(one, 1, 2 * sweep_scale);
}

TEST_CASE("sim raft: a seed is a pure function: the same seed gives the same trace") {
  std::string a, b, c;
  const seed_report ra = traced(11, a);
  const seed_report rb = traced(11, b);
  const seed_report rc = traced(12, c);
  REQUIRE_FALSE(ra.violation);
  CHECK(a == b);
  CHECK(ra.events == rb.events);
  CHECK(a != c);
  // The trace holds what DESIGN.md promises, consistently with the report.
  CHECK(quorum::test::count_of(a, "\"event\":\"ack\"") == ra.commits);
  CHECK(quorum::test::count_of(a, "\"event\":\"leader\"") == ra.leader_changes);
  CHECK(quorum::test::count_of(a, "\"event\":\"propose\"") >= ra.commits);
  CHECK(quorum::test::count_of(a, "\"event\":\"apply\"") > ra.commits);
  CHECK(a.find("\"value\":\"noop term 1\",\"term\":1") != std::string::npos);
}

TEST_CASE("sim raft: planted bug corrupt_apply is caught on every seed") {
  // Whichever sees node 2's mangled value first fires: State Machine Safety
  // when another node applied the index before, else the client's own check.
  std::size_t by_safety = 0;
  for (std::uint64_t s = 1; s <= 10; ++s) {
    run_config c;
    c.seed = s;
    const seed_report r = raft_sim::run_seed(c, {.bug = plant::corrupt_apply});
    INFO("seed " << s << ": " << r.what);
    REQUIRE(r.violation);
    const bool safety = r.what.find("State Machine Safety") != std::string::npos;
    CHECK((safety || r.what.find("was proposed as") != std::string::npos));
    by_safety += safety ? 1 : 0;
  }
  CHECK(by_safety > 0);
}

TEST_CASE("sim raft: planted bug forget_vote (a restart forgets its vote) elects two leaders in a term") {
  // An exact replay: seed 1302 is the first seed of 1-30000 on which the
  // plant elects two leaders since a leader stopped asking for answers to
  // appends that only carry the commit index (6 messages per entry, not 8).
  // That changed every message schedule, and seed 209, where the sweep first
  // caught the plant, no longer reaches a second leader. The checker catches
  // the plant about as often as before (on 11 and 10 of seeds 1-300 with
  // crash = 0.01, after and before); the test below does not depend on one
  // schedule.
  run_config c;
  c.seed = 1302;
  const seed_report r = raft_sim::run_seed(c, driver_options::client_only(plant::forget_vote));
  INFO(r.what);
  CHECK(r.violation);
  CHECK(r.what.find("Election Safety") != std::string::npos);
  // The correct driver on the same seed is clean: the bug, not the seed, fires.
  CHECK_FALSE(raft_sim::run_seed(c, driver_options::client_only()).violation);
  CHECK_FALSE(raft_sim::run_seed(c).violation);
}

TEST_CASE("sim raft: planted bug forget_vote is caught as two leaders in a term under frequent crashes") {
  // The plant acts only after a restart: with crashes frequent, several of
  // 40 seeds reach a second leader (5 of them in this tree), whatever the
  // exact schedules are; the correct driver is clean on every one.
  std::size_t two_leaders = 0;
  for (std::uint64_t s = 1; s <= 40; ++s) {
    run_config c;
    c.seed = s;
    c.crash = 0.02;
    const seed_report r = raft_sim::run_seed(c, driver_options::client_only(plant::forget_vote));
    if (r.violation && r.what.find("Election Safety") != std::string::npos) ++two_leaders;
    INFO("seed " << s << ": " << r.what);
    CHECK_FALSE(raft_sim::run_seed(c, driver_options::client_only()).violation);
  }
  CHECK(two_leaders > 0);
}

TEST_CASE("sim raft: the client's history is checked, and a wrong answer in it is a violation") {
  run_config c;
  c.seed = 5;
  driver d{c.seed};
  world<driver> w{c, d};
  const seed_report r = w.run();
  REQUIRE_FALSE(r.violation);
  history h = d.client_history();
  std::size_t ok_reads = 0, ok_writes = 0, failed = 0;
  std::size_t victim = h.size();
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (h[i].status == op_status::failed) ++failed;
    if (h[i].status != op_status::ok) continue;
    if (h[i].kind == op_kind::read) {
      ++ok_reads;
      if (h[i].output.is_symbol() && victim == h.size()) victim = i;
    } else {
      ++ok_writes;
    }
  }
  CHECK(ok_reads > 10);
  CHECK(ok_writes > 10);
  CHECK(failed < h.size());
  auto fine = check(h, {});
  REQUIRE(fine.has_value());
  CHECK(fine->outcome == check_outcome::ok);
  REQUIRE(victim < h.size());
  h[victim].output = h.intern("never written");
  auto bad = check(h, {});
  REQUIRE(bad.has_value());
  CHECK(bad->outcome == check_outcome::violation);
}

TEST_CASE("sim raft: after the heal the cluster commits within the bound even from a partitioned start") {
  run_config c;
  c.seed = 3;
  c.partition = 0.05;  // partitions nearly all the time
  c.crash = 0.002;
  driver d{c.seed};
  world_options o;
  o.heal_ticks = 100;  // tighter than the default: 1 s of simulated time
  world<driver> w{c, d, o};
  const seed_report r = w.run();
  INFO(r.what);
  CHECK_FALSE(r.violation);
  CHECK(d.checker().committed_index() > 0);
}

TEST_CASE("sim raft: a deposed leader acknowledging its own entry late is no violation (seeds 3794, 1026)") {
  // These seeds once failed a too-strict final check that wanted the last
  // node to acknowledge to have applied every acknowledged index: a deposed
  // leader may learn late that its entry committed under the next leader.
  run_config c;
  c.seed = 3794;
  seed_report r = raft_sim::run_seed(c);
  INFO(r.what);
  CHECK_FALSE(r.violation);
  c.seed = 1026;
  c.nodes = 5;
  r = raft_sim::run_seed(c);
  CHECK_FALSE(r.violation);
}

TEST_CASE("sim raft: seed 157 - a follower whose entry at the leader's snapshot index has an older term gets the snapshot") {
  // Found by the sweep once snapshots ran in the simulator: the leader's
  // backtracking stopped at its snapshot's index, whose term it took as a
  // match, and probed the same entry forever. The group never committed again.
  run_config c;
  c.seed = 157;
  const seed_report r = raft_sim::run_seed(c);
  INFO(r.what);
  CHECK_FALSE(r.violation);
  CHECK(r.commits > 40);  // 27 before it stalled
}
