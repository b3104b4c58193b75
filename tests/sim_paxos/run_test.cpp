// Whole seeds of Multi-Paxos in the simulator (sim/paxos_driver.hpp): a sweep
// runs clean under faults drawn per seed, a run is a pure function of its
// seed, planted bugs are caught, and the client's history is checked for real.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <string_view>

#include "quorum/sim/paxos_driver.hpp"
#include "quorum/sim/trace.hpp"
#include "support/sweep.hpp"
#include "support/trace_text.hpp"

namespace {

constexpr std::uint64_t sweep_scale = quorum::test::optimized_scale(10);

using namespace quorum::sim;
using paxos_sim::driver;
using paxos_sim::plant;

constexpr auto run = [](const run_config& c) { return paxos_sim::run_seed(c); };

seed_report traced(std::uint64_t seed, std::string& out) { return quorum::test::traced_run({}, seed, run, out); }

void sweep(run_config c, std::uint64_t first, std::uint64_t last) {
  quorum::test::sweep_seeds(run, c, first, last, /*elects=*/true);
}

}  // namespace

TEST_CASE("sim paxos: seeds 1-300 (1-30 unoptimized) run clean, faults drawn per seed, 3 nodes") {
  sweep(run_config{}, 1, 30 * sweep_scale);
}

TEST_CASE("sim paxos: seeds under heavy explicit faults run clean") {
  sweep(quorum::test::heavy_faults(), 1, 8 * sweep_scale);
}

TEST_CASE("sim paxos: 5 and 1 node clusters run clean") {
  run_config five;
  five.nodes = 5;
  sweep(five, 1, 6 * sweep_scale);
  run_config one;
  one.nodes = 1;
  sweep(one, 1, 2 * sweep_scale);
}

TEST_CASE("sim paxos: flexible quorums with a phase-2 quorum of 2 out of 5 run clean") {
  for (std::uint64_t s = 1; s <= 4 * sweep_scale; ++s) {
    run_config c;
    c.seed = s;
    c.nodes = 5;
    paxos_sim::driver_options o;
    o.paxos.phase1_quorum = 4;
    o.paxos.phase2_quorum = 2;
    const seed_report r = paxos_sim::run_seed(c, o);
    INFO(r.what);
    CHECK_FALSE(r.violation);
    CHECK(r.commits > 0);
  }
}

TEST_CASE("sim paxos: a seed is a pure function: the same seed gives the same trace") {
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
  CHECK(a.find("\"event\":\"leader\",\"ballot\":{\"round\":") != std::string::npos);
  CHECK(a.find("\"term\"") == std::string::npos);  // paxos applies carry no term
}

TEST_CASE("sim paxos: planted bug corrupt_apply is caught on every seed") {
  for (std::uint64_t s = 1; s <= 10; ++s) {
    run_config c;
    c.seed = s;
    const seed_report r = paxos_sim::run_seed(c, {.bug = plant::corrupt_apply});
    INFO("seed " << s << ": " << r.what);
    REQUIRE(r.violation);
    CHECK(r.what.find("Agreement") != std::string::npos);
  }
}

TEST_CASE("sim paxos: planted bug forget_accepts (a restart forgets what it accepted) chooses two values") {
  // An exact replay: seed 3 is the first seed that catches it since the
  // leader's watermark announcement asks for no answer (6 messages per
  // command, not 8). That changed every message schedule, and seed 39, where
  // the sweep first caught the plant, no longer reaches two values. The
  // checker catches it about as often as before (27 and 31 of seeds 1-300,
  // after and before); the test below does not depend on one schedule.
  run_config c;
  c.seed = 3;
  const seed_report r = paxos_sim::run_seed(c, paxos_sim::driver_options::without_snapshots(plant::forget_accepts));
  INFO(r.what);
  CHECK(r.violation);
  CHECK(r.what.find("Agreement") != std::string::npos);
  CHECK_FALSE(paxos_sim::run_seed(c).violation);  // the bug, not the seed, fires
}

TEST_CASE("sim paxos: planted bug forget_promise (a restart forgets its promise) reuses a ballot") {
  // An acceptor that forgets its promise also forgets the ballots it
  // proposed with, and leads one of them twice. Recovery takes the highest
  // ballot the journal's accepts carry as a floor for the promise (3b0aa01),
  // so the plant now bites only where a node promised a ballot it accepted
  // nothing at: a phase 1 that a crash cut short. Frequent crashes find
  // that; an exact replay: seed 7 at crash rate 0.05 (before that change,
  // seed 3 with the rates drawn per seed, which the floor now saves).
  run_config c;
  c.seed = 7;
  c.crash = 0.05;
  const seed_report r = paxos_sim::run_seed(c, paxos_sim::driver_options::without_snapshots(plant::forget_promise));
  INFO(r.what);
  CHECK(r.violation);
  CHECK(r.what.find("became leader twice") != std::string::npos);
  CHECK_FALSE(paxos_sim::run_seed(c).violation);
}

namespace {

// Runs seeds 1..last at crash rate `crash` with the bug planted; returns on
// how many the checker reported a violation naming one of `signs`. The
// correct driver must be clean on every one of them.
std::size_t caught_on(plant bug, std::uint64_t last, double crash, std::initializer_list<std::string_view> signs) {
  std::size_t caught = 0;
  for (std::uint64_t s = 1; s <= last; ++s) {
    run_config c;
    c.seed = s;
    c.crash = crash;
    const seed_report p = paxos_sim::run_seed(c, paxos_sim::driver_options::without_snapshots(bug));
    caught += p.violation && std::any_of(signs.begin(), signs.end(), [&](std::string_view sign) {
                return p.what.find(sign) != std::string::npos;
              });
    const seed_report clean = paxos_sim::run_seed(c);
    INFO("seed " << s << ": " << clean.what);
    CHECK_FALSE(clean.violation);
  }
  return caught;
}

}  // namespace

TEST_CASE("sim paxos: planted bugs that act after a restart are caught on many seeds under frequent crashes") {
  // Not one schedule: with crashes frequent, forget_accepts is caught on
  // every one of seeds 1-20.
  CHECK(caught_on(plant::forget_accepts, 20, 0.02, {"Agreement"}) >= 15);
  // forget_promise bites only where a crash cut a phase 1 short (recovery
  // floors the promise at the journal's highest accepted ballot), so it
  // takes more seeds and more crashes: of seeds 1-200 at crash rate 0.05,
  // 15 lead a ballot twice and 9 more choose two values in a slot (before
  // the floor: 18 of seeds 1-20 at 0.02 led a ballot twice).
  CHECK(caught_on(plant::forget_promise, 200, 0.05, {"became leader twice", "Agreement"}) >= 12);
}

TEST_CASE("sim paxos: the client's history is checked, and a wrong answer in it is a violation") {
  run_config c;
  c.seed = 5;
  driver d{c.seed};
  world<driver> w{c, d};
  const seed_report r = w.run();
  REQUIRE_FALSE(r.violation);
  history h = d.client_history();
  std::size_t ok_reads = 0, ok_writes = 0;
  std::size_t victim = h.size();
  for (std::size_t i = 0; i < h.size(); ++i) {
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
  auto fine = check(h, {});
  REQUIRE(fine.has_value());
  CHECK(fine->outcome == check_outcome::ok);
  REQUIRE(victim < h.size());
  h[victim].output = h.intern("never written");
  auto bad = check(h, {});
  REQUIRE(bad.has_value());
  CHECK(bad->outcome == check_outcome::violation);
}

TEST_CASE("sim paxos: a lagging candidate acknowledging mid phase 1 is no violation (seed 205)") {
  // This seed once failed a final check that wanted a leader up at the
  // instant of the heal's first acknowledgement: a candidate still runs phase
  // 2 for the slots its phase 1 settled, and its own proposals get applied.
  run_config c;
  c.seed = 205;
  const seed_report r = paxos_sim::run_seed(c);
  INFO(r.what);
  CHECK_FALSE(r.violation);
}

TEST_CASE("sim paxos: a voter left out of the next configuration finishes the slots before it (soak seeds)") {
  // A 100,000-seed soak caught these: a voter of the old configuration only
  // won phase 1, re-proposed values found up to the boundary, stepped down
  // with them open and campaigned again, forever; nothing new was committed
  // after faults healed (paxos/node.hpp, start_page).
  for (const std::uint64_t seed : {std::uint64_t{24648}, std::uint64_t{26192}, std::uint64_t{91191}}) {
    run_config c;
    c.seed = seed;
    const seed_report r = paxos_sim::run_seed(c);
    INFO("seed " << seed << ": " << r.what);
    CHECK_FALSE(r.violation);
    CHECK(r.commits > 0);
  }
}

TEST_CASE("sim paxos: GETs served by quorum reads and by leases are linearizable") {
  for (const paxos_sim::read_path path : {paxos_sim::read_path::quorum_read, paxos_sim::read_path::lease_read}) {
    std::size_t ok_reads = 0;
    for (std::uint64_t s = 1; s <= 3 * sweep_scale; ++s) {
      run_config c;
      c.seed = s;
      paxos_sim::driver_options o;
      o.reads = path;
      driver d{c.seed, o};
      world<driver> w{c, d};
      const seed_report r = w.run();
      INFO("seed " << s << ": " << r.what);
      REQUIRE_FALSE(r.violation);  // final_check ran the linearizability check
      const history& h = d.client_history();
      for (std::size_t i = 0; i < h.size(); ++i)
        ok_reads += h[i].kind == op_kind::read && h[i].status == op_status::ok ? 1 : 0;
    }
    CHECK(ok_reads > 30);
  }
}

TEST_CASE("sim paxos: planted bug local_reads (GETs answered from a stale store) fails linearizability") {
  std::size_t caught = 0;
  for (std::uint64_t s = 1; s <= 10; ++s) {
    run_config c;
    c.seed = s;
    const seed_report r = paxos_sim::run_seed(c, {.bug = plant::local_reads});
    if (r.violation) {
      CHECK(r.what.find("linearizability") != std::string::npos);
      ++caught;
    }
  }
  CHECK(caught >= 5);
}

TEST_CASE("sim paxos: the operator's membership changes take effect inside simulated runs") {
  // Over a few seeds: changes are proposed and chosen, leaders enter new
  // configurations with phase 1, removed leaders step down, and every seed
  // stays clean (agreement, validity, contiguity, linearizability).
  for (const std::size_t nodes : {std::size_t{3}, std::size_t{5}}) {
    std::uint64_t changes = 0, entered = 0, stepped_down = 0, configs_traced = 0;
    for (std::uint64_t s = 1; s <= 10 * sweep_scale; ++s) {
      std::FILE* f = std::tmpfile();
      REQUIRE(f != nullptr);
      run_config c;
      c.seed = s;
      c.nodes = static_cast<std::uint32_t>(nodes);
      driver d{c.seed};
      seed_report r;
      {
        trace_writer t{f};
        c.trace = &t;
        world<driver> w{c, d};
        r = w.run();
      }
      configs_traced += quorum::test::count_of(quorum::test::read_all(f), "\"value\":\"config voters");
      std::fclose(f);
      INFO("seed " << s << ": " << r.what);
      REQUIRE_FALSE(r.violation);
      changes += d.membership_changes();
      for (std::uint64_t n = 1; n <= nodes; ++n) {
        const auto* p = d.node(quorum::node_id{n});
        if (p == nullptr) continue;
        entered += p->stats().phase1_for_configuration;
        stepped_down += p->stats().stepped_down_removed;
      }
    }
    MESSAGE(nodes << " nodes: changes proposed " << changes << ", configurations entered " << entered
                  << ", removed leaders stepped down " << stepped_down << ", config applies traced " << configs_traced);
    CHECK(changes > 10);
    CHECK(entered > 0);
    CHECK(configs_traced > 0);
    CHECK(stepped_down > 0);
  }
}

TEST_CASE("sim paxos: voters that lag behind a removed leader still find each other (seed 15932)") {
  // The leader removed itself and stepped down; its two successors each lagged
  // where their own view did not count them as voters, so neither campaigned
  // and no leader was left to tell them. A node that may not campaign now asks
  // a peer for chosen values at each election timeout.
  run_config c;
  c.seed = 15932;
  const seed_report r = paxos_sim::run_seed(c);
  INFO(r.what);
  CHECK_FALSE(r.violation);
}

TEST_CASE("sim paxos: a removed node that lags learns its removal from the promises it gets (seed 6785)") {
  // Node 3 was left out of slots 253 on but had applied only to 238, where it
  // was still a voter: no leader talked to it any more, so it campaigned,
  // settled its old slots, met its removal and stepped down, again and again,
  // outbidding the real leader each time until liveness failed. A candidate
  // now fetches the chosen values its promisers report past its own.
  run_config c;
  c.seed = 6785;
  driver d{c.seed};
  world<driver> w{c, d};
  const seed_report r = w.run();
  INFO(r.what);
  CHECK_FALSE(r.violation);
  CHECK(d.membership_changes() > 0);
}

TEST_CASE("sim paxos: seeds run a copying Log and ones whose records stay in place, so the record cache views the disk") {
  int kinds[3] = {0, 0, 0};
  for (std::uint64_t seed = 1; seed <= 96; ++seed) ++kinds[static_cast<int>(paxos_sim::log_of_seed(seed))];
  CHECK(kinds[0] > 24);
  CHECK(kinds[1] > 8);
  CHECK(kinds[2] > 8);
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    run_config c;
    c.seed = seed;
    // The same seed over each Log: the journal's paths differ, what it decides may not.
    const seed_report copying = paxos_sim::run_seed_with<sim_log>(c, {});
    const seed_report in_place = paxos_sim::run_seed_with<paxos_sim::in_place_sim_log>(c, {});
    const seed_report placing = paxos_sim::run_seed_with<paxos_sim::placing_sim_log>(c, {});
    INFO("seed " << seed << ": " << copying.what << " / " << in_place.what << " / " << placing.what);
    CHECK_FALSE(copying.violation);
    CHECK_FALSE(in_place.violation);
    CHECK_FALSE(placing.violation);
    CHECK(in_place.commits > 0);
    CHECK(in_place.events == copying.events);
    CHECK(placing.events == copying.events);
  }
}

// The first sweep over the in-place Logs (seeds 1-20000) stopped here: an
// accept's run whose first value filled a run alone was placed as a single
// slot's record while the run it had started stayed open (an assertion in
// journal::place; without it, a later write would have extended that stale
// run). Fixed in journal::write_run.
TEST_CASE("sim paxos: regression seed of a run value too large to share a record, over in-place Logs") {
  run_config c;
  c.seed = 18462;
  const seed_report in_place = paxos_sim::run_seed_with<paxos_sim::in_place_sim_log>(c, {});
  const seed_report placing = paxos_sim::run_seed_with<paxos_sim::placing_sim_log>(c, {});
  INFO(in_place.what << " / " << placing.what);
  CHECK_FALSE(in_place.violation);
  CHECK_FALSE(placing.violation);
  CHECK(placing.commits > 0);
}

// Batches (quorum-sim paxos-batch): a leader's proposals inside batch()
// guards, with ticks between them, and groups in one propose_all(), over
// each Log: the journal stages a batch's writes, or places a group at once.
TEST_CASE("sim paxos: client batches and propose_all groups run clean over every Log, to the same decisions") {
  const paxos_sim::driver_options o = paxos_sim::driver_options::with_batches();
  std::uint64_t batches = 0;
  std::uint64_t groups = 0;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    run_config c;
    c.seed = seed;
    const auto run_on = [&]<class Log>(Log*) {
      paxos_sim::basic_driver<Log> d{c.seed, o};
      world<paxos_sim::basic_driver<Log>> w{c, d};
      const seed_report r = w.run();
      batches += d.batches();
      groups += d.groups();
      return r;
    };
    const seed_report copying = run_on(static_cast<sim_log*>(nullptr));
    const seed_report in_place = run_on(static_cast<paxos_sim::in_place_sim_log*>(nullptr));
    const seed_report placing = run_on(static_cast<paxos_sim::placing_sim_log*>(nullptr));
    INFO("seed " << seed << ": " << copying.what << " / " << in_place.what << " / " << placing.what);
    CHECK_FALSE(copying.violation);
    CHECK_FALSE(in_place.violation);
    CHECK_FALSE(placing.violation);
    CHECK(copying.commits > 0);
    CHECK(in_place.events == copying.events);
    CHECK(placing.events == copying.events);
    CHECK(in_place.commits == copying.commits);
  }
  CHECK(batches > 300);
  CHECK(groups > 100);
  CHECK(groups < batches);
}
