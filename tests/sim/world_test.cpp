// The harness on whole runs: reproducible from the seed (byte-identical
// traces), the correct self-test protocol passes under faults, the planted
// bug and a liveness bug are caught with a clear explanation, and the
// checker really runs after every event.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "quorum/sim/selftest.hpp"
#include "quorum/sim/trace.hpp"
#include "quorum/sim/world.hpp"

using quorum::node_id;
using quorum::sim::run_config;
using quorum::sim::seed_report;
using quorum::sim::trace_writer;
namespace selftest = quorum::sim::selftest;

namespace {

std::string traced_run(run_config c, bool planted_bug, seed_report* report = nullptr) {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  {
    trace_writer w{f};
    c.trace = &w;
    const seed_report r = selftest::run_seed(c, planted_bug);
    if (report != nullptr) *report = r;
  }
  std::rewind(f);
  std::string out;
  char buf[8192];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  std::fclose(f);
  return out;
}

bool same(const seed_report& a, const seed_report& b) {
  return a.seed == b.seed && a.events == b.events && a.commits == b.commits &&
         a.leader_changes == b.leader_changes && a.faults == b.faults &&
         a.violation == b.violation && a.what == b.what;
}

// A protocol-free driver that records what the harness does to it.
struct probe_driver {
  using message = int;
  void boot(const quorum::sim::node_env<int>& env) {
    ++boots;
    max_incarnation = std::max(max_incarnation, env.incarnation);
    up[env.self.value()] = true;
  }
  void crash(node_id n) {
    ++crashes;
    up[n.value()] = false;
  }
  void deliver(node_id, node_id, const int&) {}
  void tick(node_id n) {
    if (!up[n.value()]) tick_while_down = true;
  }
  void client_request(std::string_view) { ++requests; }
  std::optional<std::string> check() const {
    ++checks;
    return std::nullopt;
  }
  std::uint64_t commits() const { return requests > heal_mark ? requests : 0; }
  std::uint64_t leader_changes() const { return 0; }
  void on_heal() {
    healed = true;
    heal_mark = requests;
    all_up_at_heal = up[1] && up[2] && up[3];
  }

  std::uint64_t boots{0};
  std::uint64_t crashes{0};
  std::uint64_t max_incarnation{0};
  std::uint64_t requests{0};
  std::uint64_t heal_mark{~std::uint64_t{0}};
  mutable std::uint64_t checks{0};
  bool up[8]{};  // by node id; room for the 5-node runs below
  bool tick_while_down{false};
  bool healed{false};
  bool all_up_at_heal{false};
};

}  // namespace

TEST_CASE("world runs the checker after every event and restarts every node for the heal") {
  static_assert(quorum::sim::Driver<probe_driver>);
  probe_driver d;
  run_config c;
  c.seed = 5;
  c.steps = 3000;
  c.crash = 0.01;
  c.partition = 0.0;
  quorum::sim::world<probe_driver> w{c, d};
  const seed_report r = w.run();
  CHECK_FALSE(r.violation);
  CHECK(r.events > c.steps);          // the fault phase, then the heal phase's events
  CHECK(d.checks == r.events);        // one check per event, no more, no less
  CHECK(d.crashes > 5);               // about 30 crash draws land
  CHECK(d.boots == 3 + d.crashes);    // every crash came back, some only at the heal
  CHECK(d.max_incarnation >= 2);
  CHECK(d.healed);
  CHECK(d.all_up_at_heal);
  CHECK_FALSE(d.tick_while_down);     // a crashed node is never ticked
  CHECK(r.faults >= d.crashes);
}

TEST_CASE("same seed, byte-identical trace, different seeds differ") {
  run_config c;
  c.seed = 42;
  c.steps = 3000;
  seed_report r1;
  seed_report r2;
  const std::string a = traced_run(c, false, &r1);
  const std::string b = traced_run(c, false, &r2);
  CHECK(a.size() > 1000);
  CHECK(a == b);
  CHECK(same(r1, r2));
  CHECK(a.find(R"("event":"apply")") != std::string::npos);
  CHECK(a.find(R"("event":"ack")") != std::string::npos);
  CHECK(a.find(R"("event":"propose")") != std::string::npos);
  c.seed = 43;
  const std::string other = traced_run(c, false);
  CHECK(other != a);
}

TEST_CASE("the correct self-test protocol passes seeds 1..300 under swarm faults") {
  std::uint64_t commits = 0;
  std::uint64_t faults = 0;
  std::uint64_t crashed_seeds = 0;
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    run_config c;
    c.seed = seed;
    const seed_report r = selftest::run_seed(c, false);
    REQUIRE_MESSAGE(!r.violation, r.what);
    CHECK(r.seed == seed);
    CHECK(r.events > 5000);
    CHECK(r.commits > 0);
    commits += r.commits;
    faults += r.faults;
    crashed_seeds += r.leader_changes > 1;
  }
  MESSAGE("300 seeds: ", commits, " values committed, ", faults, " faults injected, ",
          crashed_seeds, " seeds restarted the primary");
  CHECK(faults > 10'000);
  CHECK(crashed_seeds > 30);
}

// Regression, kept forever: with one node a restarted primary never re-learned
// its commit index (no acknowledgement arrives to prompt it), so back-pressure
// refused every value after the heal. Seeds 3, 8, 13 and 20 failed liveness.
TEST_CASE("regression: a lone primary re-learns its commit index after a restart") {
  for (std::uint64_t seed : {3, 8, 13, 20}) {
    run_config c;
    c.seed = seed;
    c.nodes = 1;
    const seed_report r = selftest::run_seed(c, false);
    REQUIRE_MESSAGE(!r.violation, r.what);
    CHECK(r.commits > 0);
  }
}

TEST_CASE("the correct protocol survives a storm of every fault at once") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    run_config c;
    c.seed = seed;
    c.nodes = 5;
    c.drop = 0.2;
    c.duplicate = 0.2;
    c.reorder = 0.2;
    c.partition = 0.005;
    c.crash = 0.005;
    const seed_report r = selftest::run_seed(c, false);
    REQUIRE_MESSAGE(!r.violation, r.what);
    CHECK(r.faults > 200);
  }
}

TEST_CASE("the planted bug (ack before sync) is caught, and its seed replays exactly") {
  seed_report caught;
  for (std::uint64_t seed = 1; seed <= 200 && !caught.violation; ++seed) {
    run_config c;
    c.seed = seed;
    caught = selftest::run_seed(c, true);
  }
  REQUIRE_MESSAGE(caught.violation, "the planted bug survived seeds 1..200");
  MESSAGE("caught on seed ", caught.seed, ": ", caught.what);
  CHECK(caught.what.find("seed " + std::to_string(caught.seed)) == 0);
  CHECK(caught.what.find("acknowledged value") != std::string::npos);
  CHECK(caught.what.find("a crash lost a committed value") != std::string::npos);

  run_config replay;
  replay.seed = caught.seed;
  seed_report again;
  const std::string t1 = traced_run(replay, true, &again);
  CHECK(same(again, caught));
  seed_report third;
  CHECK(traced_run(replay, true, &third) == t1);
  CHECK(same(third, caught));
  CHECK(t1.find(R"("event":"crash")") != std::string::npos);

  // The bug needs a fault: without crashes the same seed passes.
  replay.crash = 0.0;
  CHECK_FALSE(selftest::run_seed(replay, true).violation);
  // And the correct protocol passes that very seed with its faults.
  replay.crash.reset();
  CHECK_FALSE(selftest::run_seed(replay, false).violation);
}

TEST_CASE("the liveness check fires for a protocol that stops answering after the heal") {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    run_config c;
    c.seed = seed;
    c.steps = 2000;
    const seed_report r = selftest::run_seed(c, selftest::variant::mute_after_heal);
    REQUIRE(r.violation);
    CHECK(r.what.find("liveness: no new value was committed within") != std::string::npos);
    CHECK_FALSE(selftest::run_seed(c, selftest::variant::correct).violation);
  }
}

TEST_CASE("world gives each node a clock skew within the configured bound") {
  struct skew_driver : probe_driver {
    void boot(const quorum::sim::node_env<int>& env) {
      probe_driver::boot(env);
      skews.push_back(env.clock.skew_ppm());
    }
    std::vector<std::int64_t> skews;
  };
  quorum::sim::world_options o;
  o.max_clock_skew_ppm = 2000;
  bool differ = false;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    skew_driver d;
    run_config c;
    c.seed = seed;
    c.nodes = 5;
    quorum::sim::world<skew_driver> w{c, d, o};
    w.start();
    REQUIRE(d.skews.size() == 5);
    for (const auto s : d.skews) CHECK((s >= -2000 && s <= 2000));
    for (const auto s : d.skews) differ = differ || s != d.skews[0];
  }
  CHECK(differ);
}

TEST_CASE("a crashed node comes back from exactly what its disk kept") {
  selftest::driver d{selftest::variant::correct};
  run_config c;
  c.seed = 9;
  c.drop = c.duplicate = c.reorder = c.partition = c.crash = 0.0;
  quorum::sim::world<selftest::driver> w{c, d};
  w.start();
  while (w.events() < 2000) w.step();
  REQUIRE_FALSE(w.violated());
  const node_id backup{2};
  const auto before = w.disk(backup).durable().records;
  REQUIRE(before.size() > 10);
  CHECK(w.disk(backup).unsynced_calls() == 0);  // the correct backup syncs before it acks
  w.crash(backup);
  CHECK_FALSE(w.up(backup));
  CHECK(w.disk(backup).current().records == before);
  w.restart(backup);
  CHECK(w.up(backup));
  while (w.events() < 4000) w.step();
  CHECK_FALSE(w.violated());
  CHECK(w.disk(backup).current().records.size() > before.size());  // it caught up again
  CHECK(w.report().commits > 50);
}

TEST_CASE("explicit zero rates switch every fault off for that seed") {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    run_config c;
    c.seed = seed;
    c.drop = c.duplicate = c.reorder = c.partition = c.crash = 0.0;
    const seed_report r = selftest::run_seed(c, true);  // even the planted bug survives calm runs
    CHECK_FALSE(r.violation);
    CHECK(r.faults == 0);
    CHECK(r.leader_changes == 1);
    CHECK(r.commits > 100);
  }
}

TEST_CASE("a watched run publishes its seed and each event as it begins, and watching changes nothing") {
  run_config c;
  c.seed = 7;
  c.steps = 2000;
  quorum::sim::run_progress progress;
  const seed_report unwatched = selftest::run_seed(c, false);
  c.progress = &progress;
  const seed_report watched = selftest::run_seed(c, false);
  CHECK(same(watched, unwatched));
  CHECK(progress.seed.load() == 7);
  // The last thing a run begins is its final check, after its last event.
  CHECK(progress.events.load() == watched.events);
  CHECK(std::string{progress.what.load()} == "final check");
  CHECK(progress.node.load() == 0);
}
