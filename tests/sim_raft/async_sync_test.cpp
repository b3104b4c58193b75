// Raft in the simulator with the leader's syncs started in flush() and
// finished at a later event (core/log.hpp's start_sync, raft::node::log_synced):
// seeds run clean, the leader really runs ahead of its disk, and a Log that
// reports a sync finished without making it durable is caught; a sync that
// fails stops the node, which comes back from what its disk kept.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "quorum/sim/raft_driver.hpp"
#include "support/sweep.hpp"

namespace {

constexpr std::uint64_t sweep_scale = quorum::test::optimized_scale(16);

using namespace quorum::sim;
using raft_sim::driver_options;
using raft_sim::plant;

driver_options async_options(plant bug = plant::none) {
  driver_options o;
  o.async_sync_share = 0.25;
  o.bug = bug;
  return o;
}

void sweep(run_config c, std::uint64_t first, std::uint64_t last) {
  const auto run = [](const run_config& rc) { return raft_sim::run_seed(rc, async_options()); };
  quorum::test::sweep_seeds(run, c, first, last, /*elects=*/true);
}

}  // namespace

TEST_CASE("sim raft-async: seeds 1-480 (1-30 unoptimized) run clean, 3 nodes") {
  sweep(run_config{}, 1, 30 * sweep_scale);
}

TEST_CASE("sim raft-async: seeds under heavy explicit faults and in 5-node clusters run clean") {
  sweep(quorum::test::heavy_faults(), 1, 6 * sweep_scale);
  run_config five;
  five.nodes = 5;
  sweep(five, 1, 4 * sweep_scale);
}

TEST_CASE("sim raft-async: leaders start syncs, the driver finishes them, and commits wait for no leader's disk") {
  run_config c;
  c.seed = 7;
  c.nodes = 3;
  raft_sim::driver d{c.seed, async_options()};
  world<raft_sim::driver> w{c, d};
  const seed_report r = w.run();
  INFO(r.what);
  REQUIRE_FALSE(r.violation);
  CHECK(r.commits > 10);
  CHECK(d.syncs_finished() > 10);
  std::uint64_t started = 0;
  for (std::uint64_t n = 1; n <= c.nodes; ++n)
    if (const auto* node = d.node(quorum::node_id{n})) started += node->stats().syncs_started;
  CHECK(started > 0);
  // The same seed without it starts none.
  raft_sim::driver plain{c.seed};
  world<raft_sim::driver> w2{c, plain};
  REQUIRE_FALSE(w2.run().violation);
  CHECK(plain.syncs_finished() == 0);
  for (std::uint64_t n = 1; n <= c.nodes; ++n)
    if (const auto* node = plain.node(quorum::node_id{n})) CHECK(node->stats().syncs_started == 0);
}

TEST_CASE("sim raft-async: a failed sync stops the node, which restarts from a disk that lost what was not durable") {
  std::uint64_t failed = 0, restarts = 0;
  for (std::uint64_t s = 1; s <= 3 * sweep_scale; ++s) {
    run_config c;
    c.seed = s;
    c.nodes = 3;
    driver_options o = async_options();
    o.async_sync_failure_rate = 0.05;
    raft_sim::driver d{c.seed, o};
    world<raft_sim::driver> w{c, d};
    const seed_report r = w.run();
    INFO("seed " << s << ": " << r.what);
    REQUIRE_FALSE(r.violation);
    CHECK(r.commits > 0);
    failed += d.failed_syncs();
    restarts += d.failure_restarts();
  }
  CHECK(failed > 0);
  CHECK(restarts >= failed);
}

TEST_CASE("sim raft-async: planted bug finish_sync_early (a sync reported done, never durable) loses commits") {
  // With crashes frequent, a leader that counted its own copy of an entry
  // the crash then lost, and one follower's, committed it on one durable
  // copy: a later leader lacks it. Seeds 3, 7 and 8 of this tree show it
  // (found by running seeds 1-16 with the plant); the test asks for any of 1-12.
  std::size_t lost = 0;
  for (std::uint64_t s = 1; s <= 12; ++s) {
    run_config c;
    c.seed = s;
    c.crash = 0.02;
    const seed_report r = raft_sim::run_seed(c, async_options(plant::finish_sync_early));
    INFO("seed " << s << ": " << r.what);
    if (r.violation && r.what.find("Leader Completeness") != std::string::npos) ++lost;
    CHECK_FALSE(raft_sim::run_seed(c, async_options()).violation);
  }
  CHECK(lost > 0);
}
