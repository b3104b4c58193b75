// A small randomized check: 3 and 5 nodes under random loss, reordering,
// duplication and crashes (losing unsynced writes), with Raft's safety
// properties checked after every step: Election Safety, Log Matching,
// Leader Completeness, State Machine Safety, commit monotonicity and the
// durability rule; and after the faults stop, the group commits again.
#include <doctest/doctest.h>

#include <map>
#include <optional>

#include "cluster.hpp"

using namespace raft_test;

namespace {

template <class Cluster>
struct checker {
  using test_node = typename Cluster::node_type;
  Cluster& c;
  std::map<std::uint64_t, std::uint64_t> leader_of_term;  // term -> leader
  // index -> (entry term, the lowest term of a node that saw it committed):
  // every leader of a later term must hold it (Leader Completeness).
  std::map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>> committed;
  std::map<std::uint64_t, std::string> applied;           // index -> value, across all nodes
  std::vector<std::uint64_t> last_commit;                 // per node incarnation
  std::vector<std::size_t> seen_applied;

  explicit checker(Cluster& cl) : c{cl}, last_commit(cl.size() + 1, 0), seen_applied(cl.size() + 1, 0) {}

  void restarted(std::uint64_t id) {
    last_commit[id] = 0;
    seen_applied[id] = 0;
  }

  // Cheap checks after every step; the whole-log ones (Log Matching, committed
  // entries unchanged, Leader Completeness) when `full`, and for every new leader.
  void check(bool full) {
    for (std::uint64_t id = 1; id <= c.size(); ++id) check_node(id, full);
    if (full)
      for (std::uint64_t a = 1; a <= c.size(); ++a)
        for (std::uint64_t b = a + 1; b <= c.size(); ++b) check_matching(a, b);
    REQUIRE(c.net.violations.empty());
  }

  void check_node(std::uint64_t id, bool full) {
    test_node& n = c[id];
    REQUIRE(n.status().has_value());
    if (n.role() == raft::role::leader) {
      auto [it, fresh] = leader_of_term.emplace(n.term().value(), id);
      REQUIRE_MESSAGE(it->second == id, "two leaders in term " << n.term().value());  // Election Safety
      if (fresh || full) check_complete(n);
    }
    check_commit(id, n, full);
    const auto& mine = n.state_machine().applied;
    for (std::size_t k = seen_applied[id]; k < mine.size(); ++k) {  // State Machine Safety
      auto [it, fresh] = applied.emplace(mine[k].first, mine[k].second);
      REQUIRE_MESSAGE(it->second == mine[k].second, "two values applied at index " << mine[k].first);
    }
    seen_applied[id] = mine.size();
  }

  void check_complete(test_node& n) {
    bool complete = true;
    for (auto& [index, seen] : committed)
      if (seen.second < n.term().value()) complete = complete && n.term_at(log_index{index}) == term_id{seen.first};
    REQUIRE_MESSAGE(complete, "leader of term " << n.term().value() << " lacks a committed entry");
  }

  void check_commit(std::uint64_t id, test_node& n, bool full) {
    const std::uint64_t commit = n.commit_index().value();
    REQUIRE(commit >= last_commit[id]);
    REQUIRE(commit <= n.last_index().value());
    bool stable = true;  // a committed entry never changes, anywhere
    for (std::uint64_t i = full ? 1 : last_commit[id] + 1; i <= commit; ++i) {
      const std::uint64_t t = n.term_at(log_index{i})->value();
      auto [it, fresh] = committed.emplace(i, std::pair{t, n.term().value()});
      stable = stable && it->second.first == t;
      it->second.second = std::min(it->second.second, n.term().value());
    }
    REQUIRE_MESSAGE(stable, "node " << id << " holds a committed index with another term");
    last_commit[id] = commit;
  }

  // Log Matching: if two logs agree on the term at some index, they agree on every earlier one.
  void check_matching(std::uint64_t a, std::uint64_t b) {
    test_node& x = c[a];
    test_node& y = c[b];
    std::uint64_t i = std::min(x.last_index(), y.last_index()).value();
    while (i > 0 && x.term_at(log_index{i}) != y.term_at(log_index{i})) --i;
    bool match = true;
    for (; i > 0; --i) match = match && x.term_at(log_index{i}) == y.term_at(log_index{i});
    REQUIRE_MESSAGE(match, "the logs of " << a << " and " << b << " agree on a term but not on a prefix");
  }
};

struct run_result {
  std::uint64_t leaders = 0;
  std::uint64_t commits = 0;
};

// Cluster: cluster, or in_place_cluster (entry caches view the Log's records).
// batches: a leader sometimes proposes several values inside one batch().
template <class Cluster = cluster>
run_result run(std::size_t nodes, std::uint64_t seed, int steps, bool batches = false) {
  Cluster c{nodes, test_options(), seed};
  c.start();
  checker<Cluster> chk{c};
  seeded_random rng{seed * 7919 + nodes};
  std::uint64_t proposals = 0;
  auto any = [&] { return rng.between(1, nodes); };
  for (int step = 0; step < steps; ++step) {
    const double roll = rng.unit();
    if (roll < 0.35) {
      c.tick(any());
    } else if (roll < 0.80 && !c.net.queue.empty()) {
      // Deliver a random queued message: the queue is also a reordering buffer.
      const auto k = static_cast<std::ptrdiff_t>(rng.below(c.net.queue.size()));
      envelope e = std::move(c.net.queue[static_cast<std::size_t>(k)]);
      c.net.queue.erase(c.net.queue.begin() + k);
      if (rng.chance(0.05)) c.net.queue.push_back(e);  // duplicated
      if (!rng.chance(0.1)) c[e.to.value()].receive(byte_view{e.bytes});  // else lost
    } else if (roll < 0.93) {
      const std::uint64_t l = c.leader();
      if (l != 0) {
        const std::uint64_t n = batches && rng.chance(0.3) ? rng.between(2, 6) : 1;
        std::optional<typename Cluster::node_type::batch_guard> guard;
        if (batches) guard.emplace(c[l]);
        for (std::uint64_t k = 0; k < n; ++k) {
          const std::string v = "s" + std::to_string(seed) + "v" + std::to_string(++proposals);
          (void)c[l].propose(as_bytes(v));
        }
      }
    } else if (roll < 0.94) {
      const std::uint64_t id = any();
      c.restart(id);
      chk.restarted(id);
    }
    while (c.net.queue.size() > 400) c.net.queue.pop_front();  // a bounded network loses the oldest
    chk.check(step % 8 == 0);
  }
  // Faults stop: every node ticks and every message arrives; the group must commit again.
  const std::uint64_t before = c[1].commit_index().value();
  bool progressed = false;
  for (int round = 0; round < 300 && !progressed; ++round) {
    for (std::uint64_t id = 1; id <= nodes; ++id) c.tick(id);
    c.deliver();
    if (const std::uint64_t l = c.leader(); l != 0) (void)c[l].propose(as_bytes("after"));
    c.deliver();
    chk.check(true);
    progressed = c[1].commit_index().value() > before && c.leader() != 0;
  }
  CHECK_MESSAGE(progressed, "seed " << seed << ": no commit after the faults stopped");
  MESSAGE("nodes " << nodes << " seed " << seed << ": " << chk.leader_of_term.size() << " leaders, "
                   << chk.committed.size() << " committed, " << chk.applied.size() << " applied values");
  return run_result{chk.leader_of_term.size(), chk.committed.size()};
}

}  // namespace

TEST_CASE("randomized: 3 nodes under loss, reordering, duplication and crashes stay safe and recover") {
  std::uint64_t leaders = 0, commits = 0;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    CAPTURE(seed);
    auto r = run(3, seed, 3000);
    leaders += r.leaders;
    commits += r.commits;
  }
  CHECK(leaders > 8);  // elections really happened, and more than once per run on average
  CHECK(commits > 100);
}

TEST_CASE("randomized: 5 nodes under loss, reordering, duplication and crashes stay safe and recover") {
  std::uint64_t leaders = 0, commits = 0;
  for (std::uint64_t seed = 100; seed < 105; ++seed) {
    CAPTURE(seed);
    auto r = run(5, seed, 3000);
    leaders += r.leaders;
    commits += r.commits;
  }
  CHECK(leaders > 5);
  CHECK(commits > 50);
}

TEST_CASE("randomized: 3 and 5 nodes whose entry caches view the Log stay safe and recover, with batches") {
  for (const bool batches : {false, true}) {
    std::uint64_t leaders = 0, commits = 0;
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
      CAPTURE(seed);
      CAPTURE(batches);
      auto r = run<in_place_cluster>(seed <= 5 ? 3 : 5, seed, 3000, batches);
      leaders += r.leaders;
      commits += r.commits;
    }
    CHECK(leaders > 8);
    CHECK(commits > 100);
  }
}

TEST_CASE("randomized: 3 nodes proposing in batches stay safe and recover") {
  std::uint64_t leaders = 0, commits = 0;
  for (std::uint64_t seed = 20; seed < 26; ++seed) {
    CAPTURE(seed);
    auto r = run(3, seed, 3000, true);
    leaders += r.leaders;
    commits += r.commits;
  }
  CHECK(leaders > 6);
  CHECK(commits > 100);
}
