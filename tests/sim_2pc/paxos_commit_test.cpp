// Whole seeds of Paxos Commit in the simulator (sim/paxos_commit_driver.hpp):
// sweeps run clean under faults drawn per seed and under explicit storms, the
// coordinator-crash rule is exercised and catches a blocking implementation,
// forgetting happens under faults, `quorum-sim 2pc` gives one seed in four to
// Paxos Commit, and the trace alone shows agreement.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>

#include "quorum/sim/paxos_commit_driver.hpp"
#include "support/trace_text.hpp"

namespace {

#if defined(__OPTIMIZE__)
constexpr std::uint64_t sweep_scale = 8;
#else
constexpr std::uint64_t sweep_scale = 1;
#endif

using namespace quorum::sim;
using pc_sim::plant;

struct sweep_result {
  std::uint64_t settled{0};
  pc_sim::coverage covered;
};

sweep_result sweep(run_config c, std::uint64_t first, std::uint64_t last, std::uint32_t nodes = 4) {
  sweep_result out;
  for (std::uint64_t s = first; s <= last; ++s) {
    c.seed = s;
    pc_sim::driver d{s};
    world_options w;
    w.default_nodes = nodes;
    world<pc_sim::driver> sim{c, d, w};
    d.attach(sim, w.tick_interval);
    const seed_report r = sim.run();
    INFO(r.what);
    REQUIRE_FALSE(r.violation);
    CHECK(r.commits > 0);
    out.settled += r.commits;
    const pc_sim::coverage k = d.exercised();
    out.covered.recoveries += k.recoveries;
    out.covered.forgotten += k.forgotten;
    out.covered.refused_forgotten += k.refused_forgotten;
    out.covered.gc_messages += k.gc_messages;
    out.covered.decisions += k.decisions;
    out.covered.longest_watch = std::max(out.covered.longest_watch, k.longest_watch);
  }
  CHECK(out.settled > (last - first + 1) * 10);
  return out;
}

// Lossless, no partitions, frequent crashes: the coordinator is often down
// while the rest can finish, which is when the non-blocking rule applies.
run_config crashy() {
  run_config c;
  c.drop = 0;
  c.partition = 0;
  c.crash = 0.01;
  return c;
}

}  // namespace

TEST_CASE("sim paxos commit: seeds 1-400 (1-50 unoptimized) run clean with faults drawn per seed, and forget") {
  const sweep_result r = sweep(run_config{}, 1, 50 * sweep_scale);
  CHECK(r.covered.recoveries > 0);
  CHECK(r.covered.forgotten > r.settled);  // several nodes forget each txn
  CHECK(r.covered.gc_messages > 0);
  MESSAGE(r.settled << " txns settled; " << r.covered.recoveries << " recovery rounds, " << r.covered.forgotten
                    << " txns forgotten, " << r.covered.refused_forgotten << " late prepares refused");
}

TEST_CASE("sim paxos commit: heavy explicit faults with frequent crashes run clean") {
  run_config c;
  c.drop = 0.2;
  c.duplicate = 0.2;
  c.reorder = 0.3;
  c.partition = 0.005;
  c.crash = 0.01;
  sweep(c, 1, 10 * sweep_scale);
}

TEST_CASE("sim paxos commit: 2, 3, 5 and 8 node clusters run clean") {
  for (const std::uint32_t n : {2u, 3u, 5u, 8u}) {
    CAPTURE(n);
    sweep(run_config{}, 1, 5 * sweep_scale, n);
  }
}

TEST_CASE("sim paxos commit: with the coordinator down, in-doubt participants finish in time (the rule is exercised)") {
  const sweep_result r = sweep(crashy(), 1, 20 * sweep_scale);
  // The rule held for some in-doubt participant long enough to matter: more
  // than the in-doubt timeout, after which a recovery leader must act.
  CHECK(r.covered.longest_watch > std::chrono::milliseconds{100});
  CHECK(r.covered.recoveries > 0);
}

TEST_CASE("sim paxos commit: planted bug no_recovery (no phase 1 ever leaves a node) is caught while the coordinator is down") {
  std::size_t caught = 0, in_run = 0;
  std::uint64_t first = 0;
  for (std::uint64_t s = 1; s <= 20; ++s) {
    run_config c = crashy();
    c.seed = s;
    const seed_report r = pc_sim::run_seed(c, {.bug = plant::no_recovery});
    if (!r.violation) continue;
    ++caught;
    INFO(r.what);
    CHECK((r.what.find("the coordinator's crash blocked it") != std::string::npos ||
           r.what.find("liveness") != std::string::npos));
    if (r.what.find("the coordinator's crash blocked it") == std::string::npos) continue;
    ++in_run;
    if (first == 0) first = s;
  }
  CHECK(caught >= 15);
  CHECK(in_run >= 10);  // caught during the run, not only once faults healed
  REQUIRE(first != 0);
  run_config c = crashy();
  c.seed = first;
  const seed_report clean = pc_sim::run_seed(c);
  INFO(clean.what);
  CHECK_FALSE(clean.violation);  // the bug, not the seed, fires
}

TEST_CASE("sim 2pc: seeds = 2 mod 4 run Paxos Commit, the rest classic two-phase commit") {
  for (std::uint64_t s = 1; s <= 8; ++s) {
    CAPTURE(s);
    run_config c;
    c.seed = s;
    const bool pc = s % 4 == 2;
    CHECK((variant_of_seed(s) == tpc_variant::paxos_commit) == pc);
    const seed_report mixed = run_2pc_seed(c);
    const seed_report alone = pc ? pc_sim::run_seed(c) : tpc_sim::run_seed(c);
    CHECK(mixed.events == alone.events);
    CHECK(mixed.commits == alone.commits);
    CHECK_FALSE(mixed.violation);
  }
}

TEST_CASE("sim paxos commit: the trace alone shows one outcome per txn, commit only without a no vote") {
  using quorum::test::run_traced;
  using quorum::test::trace_field;
  const auto run = [](const run_config& c) { return pc_sim::run_seed(c); };
  std::size_t decisions = 0, commits = 0, outcomes = 0, no_votes = 0, by_others = 0;
  std::string a;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    const std::string text = run_traced(seed, run);
    if (seed == 1) a = text;
    std::istringstream in{text};
    std::map<std::string, std::string> first;            // txn -> the first decision or outcome
    std::map<std::string, std::set<std::string>> votes;  // txn -> the votes cast
    for (std::string line; std::getline(in, line);) {
      INFO("seed " << seed << ": " << line);
      const std::string node = trace_field(line, "node");
      const std::string event = trace_field(line, "event");
      const std::string txn = trace_field(line, "txn");
      if (event == "\"vote\"") {
        CHECK(node != "1");
        votes[txn].insert(trace_field(line, "vote"));
        no_votes += trace_field(line, "vote") == "\"no\"" ? 1 : 0;
      } else if (event == "\"decide\"" || event == "\"outcome\"") {
        const std::string d = trace_field(line, "decision");
        auto [it, fresh] = first.emplace(txn, d);
        CHECK(it->second == d);
        if (event == "\"outcome\"") {
          ++outcomes;
          continue;
        }
        ++decisions;
        by_others += node != "1" ? 1 : 0;  // a recovery leader decided
        if (d == "\"commit\"") {
          ++commits;
          CHECK(votes[txn].count("\"no\"") == 0);
          CHECK_FALSE(votes[txn].empty());
        }
      }
    }
  }
  CHECK(decisions > 100);
  CHECK(commits > 50);
  CHECK(commits < decisions);
  CHECK(outcomes > decisions);
  CHECK(no_votes > 10);
  CHECK(by_others > 0);
  CHECK(a == run_traced(1, run));  // a seed is a pure function
}
