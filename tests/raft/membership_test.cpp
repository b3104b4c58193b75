// Membership change (Raft §6, Ongaro's thesis ch. 4) as scenarios: learners,
// one-server changes and joint consensus, the 2015 single-server fix, removed
// and demoted leaders, configurations that take effect on append and revert on
// truncation, restart and snapshot recovery, joining nodes, a group replaced.
#include <doctest/doctest.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <vector>

#include "cluster.hpp"

using namespace raft_test;

namespace {

membership target(std::initializer_list<std::uint64_t> voters, std::initializer_list<std::uint64_t> learners = {}) {
  membership m;
  for (auto v : voters) m.voters.push_back(node_id{v});
  for (auto l : learners) m.learners.push_back(node_id{l});
  return m;
}

// Ticks each node of `who` (every node when empty) once, then delivers; `rounds` times.
void run(cluster& c, int rounds, const std::vector<std::uint64_t>& who = {}) {
  for (int r = 0; r < rounds; ++r) {
    for (std::uint64_t id = 1; id <= c.size(); ++id)
      if (who.empty() || std::find(who.begin(), who.end(), id) != who.end()) c.tick(id);
    c.deliver();
  }
}

// Runs rounds until done() holds; false if it did not within max_rounds.
template <class Done>
bool run_until(cluster& c, int max_rounds, Done done, const std::vector<std::uint64_t>& who = {}) {
  for (int r = 0; r < max_rounds; ++r) {
    if (done()) return true;
    run(c, 1, who);
  }
  return done();
}

std::vector<std::string> commands(test_node& n) {
  std::vector<std::string> out;
  for (const auto& [index, value] : n.state_machine().applied) out.push_back(value);
  return out;
}

proposal propose(cluster& c, std::uint64_t leader, const std::string& command) {
  auto p = c[leader].propose(as_bytes(command));
  REQUIRE(p.has_value());
  return *p;
}

bool committed(cluster& c, std::uint64_t id, const proposal& p) {
  return c[id].commit_index() >= p.index && c[id].term_at(p.index) == p.term;
}

// Proposes and waits until the leader has applied it.
void propose_committed(cluster& c, std::uint64_t leader, const std::string& command,
                       const std::vector<std::uint64_t>& who = {}) {
  const proposal p = propose(c, leader, command);
  REQUIRE(run_until(c, 30, [&] { return committed(c, leader, p) && c[leader].applied_index() >= p.index; }, who));
}

// The configuration in force at `id` is committed there.
bool change_done(cluster& c, std::uint64_t id, const membership& m) {
  return c[id].membership() == m && c[id].commit_index() >= c[id].membership_index();
}

// Node 1 wins a first election and its no-op commits.
void settle(cluster& c) {
  c.start();
  c.elect(1);
  REQUIRE(c.leader() == 1);
  run(c, 2);
}

}  // namespace

TEST_CASE("membership: a learner catches up without a vote or a campaign and counts once promoted") {
  cluster c{3};
  settle(c);
  for (int k = 0; k < 3; ++k) propose_committed(c, 1, "before-" + std::to_string(k));
  REQUIRE(c.add_machine() == 4);
  c.start();
  CHECK(c[4].membership().voters.empty());  // a joining node knows no configuration
  auto p = c[1].change_membership(target({1, 2, 3}, {4}));
  REQUIRE(p.has_value());
  CHECK_FALSE(c[1].membership().joint());  // a learner is no voter: one entry, no joint step
  CHECK(run_until(c, 30, [&] { return change_done(c, 1, target({1, 2, 3}, {4})); }));
  for (int k = 0; k < 3; ++k) propose_committed(c, 1, "after-" + std::to_string(k));
  run(c, 2);
  CHECK(c[4].membership() == target({1, 2, 3}, {4}));
  CHECK(c[4].membership_index() == p->index);
  CHECK(commands(c[4]) == commands(c[1]));
  CHECK(commands(c[4]).size() == 6);

  // Alone for a long time: a learner never campaigns.
  const term_id term4 = c[4].term();
  c.isolate(4);
  c.tick(4, 1000);
  c.deliver();
  CHECK(c[4].term() == term4);
  CHECK(c[4].role() == raft::role::follower);
  CHECK(c[4].stats().pre_votes_started == 0);
  CHECK(c[4].stats().elections_started == 0);

  // With 3 and 4 away, 1 and 2 are a majority of the voters {1,2,3}: the learner is not counted.
  c.isolate(3);
  const proposal without = propose(c, 1, "without 3 and 4");
  run(c, 3);
  CHECK(committed(c, 1, without));
  CHECK(commands(c[2]).back() == "without 3 and 4");
  c.heal();
  CHECK(run_until(c, 30, [&] { return c[4].applied_index() == c[1].applied_index(); }));

  // Promoted by a one-voter change: now 3 of the 4 voters are needed.
  auto promote = c[1].change_membership(target({1, 2, 3, 4}));
  REQUIRE(promote.has_value());
  CHECK_FALSE(c[1].membership().joint());
  CHECK(run_until(c, 30, [&] {
    return change_done(c, 1, target({1, 2, 3, 4})) && change_done(c, 4, target({1, 2, 3, 4}));
  }));
  c.isolate(3);
  c.isolate(4);
  const proposal two_of_four = propose(c, 1, "two of four");
  run(c, 3);
  CHECK(c[1].role() == raft::role::leader);
  CHECK_FALSE(committed(c, 1, two_of_four));
  c.heal();
  c.isolate(3);
  CHECK(run_until(c, 5, [&] { return committed(c, 1, two_of_four); }));
  run(c, 1);
  CHECK(commands(c[4]).back() == "two of four");
  CHECK(c.net.violations.empty());
}

TEST_CASE("membership: the 2015 single-server fix refuses a change before the new leader's no-op commits") {
  cluster c{3};
  REQUIRE(c.add_machine() == 4);
  c.start();
  // Node 1 wins an election; every acknowledgement of its no-op is lost.
  for (int k = 0; k < 1000 && c[1].role() == raft::role::follower; ++k) c.tick(1);
  c.deliver([](const envelope& e) { return e.type != message_type::append_entries_response; });
  REQUIRE(c[1].role() == raft::role::leader);
  REQUIRE(c[1].commit_index() < c[1].last_index());
  const log_index last = c[1].last_index();
  auto early = c[1].change_membership(target({1, 2, 3}, {4}));
  REQUIRE_FALSE(early.has_value());
  CHECK(early.error().code == errc::busy);
  CHECK(c[1].last_index() == last);  // nothing appended
  CHECK(c[1].membership() == target({1, 2, 3}));
  CHECK(c[1].stats().configuration_changes == 0);

  REQUIRE(run_until(c, 10, [&] { return c[1].commit_index() == last; }, {1}));
  auto first = c[1].change_membership(target({1, 2, 3}, {4}));
  REQUIRE(first.has_value());
  CHECK(first->index == last.next());
  CHECK(c[1].stats().configuration_changes == 1);

  // A second change while the first is uncommitted.
  auto second = c[1].change_membership(target({1, 2, 3, 4}));
  REQUIRE_FALSE(second.has_value());
  CHECK(second.error().code == errc::busy);
  CHECK(c[1].last_index() == first->index);

  REQUIRE(run_until(c, 10, [&] { return change_done(c, 1, target({1, 2, 3}, {4})); }));
  CHECK(c[1].change_membership(target({1, 2, 3, 4})).has_value());
  CHECK(c[1].stats().configuration_changes == 2);
  CHECK(c.net.violations.empty());
}

TEST_CASE("membership: joint consensus needs both majorities and the leader leaves the joint configuration itself") {
  cluster c{3};
  settle(c);
  REQUIRE(c.add_machine() == 4);
  REQUIRE(c.add_machine() == 5);
  c.start();
  c.isolate(4);
  c.isolate(5);
  auto p = c[1].change_membership(target({1, 4, 5}));
  REQUIRE(p.has_value());
  const membership joint{{node_id{1}, node_id{4}, node_id{5}}, {node_id{1}, node_id{2}, node_id{3}}, {}};
  CHECK(c[1].membership().joint());
  CHECK(c[1].membership() == joint);
  CHECK(c[1].membership_index() == p->index);
  // The old majority holds the entry, the new one does not: no commit.
  run(c, 5);
  CHECK(c[2].last_index() >= p->index);
  CHECK(c[3].last_index() >= p->index);
  CHECK(c[2].membership() == joint);
  CHECK(c[1].role() == raft::role::leader);
  CHECK(c[1].commit_index() < p->index);
  CHECK(c[1].membership() == joint);  // not left before it commits

  c.heal();
  REQUIRE(run_until(c, 30, [&] { return change_done(c, 1, target({1, 4, 5})); }));
  CHECK(committed(c, 1, *p));
  CHECK(c[1].membership_index() > p->index);  // the entry that leaves, appended on its own
  CHECK(c[1].term_at(c[1].membership_index()) == p->term);
  CHECK(c[1].stats().configuration_changes == 1);  // one call, two entries
  run(c, 2);
  CHECK(c[4].membership() == target({1, 4, 5}));
  CHECK(c[5].membership() == target({1, 4, 5}));

  // The old voters are no longer needed.
  c.isolate(2);
  c.isolate(3);
  const proposal q = propose(c, 1, "with 4 and 5 only");
  CHECK(run_until(c, 5, [&] { return committed(c, 1, q); }));
  run(c, 1);
  CHECK(commands(c[4]).back() == "with 4 and 5 only");
  CHECK(commands(c[5]).back() == "with 4 and 5 only");
  CHECK(c.net.violations.empty());
}

TEST_CASE("membership: a new leader leaves a joint configuration its predecessor could not") {
  cluster c{3};
  settle(c);
  REQUIRE(c.add_machine() == 4);
  REQUIRE(c.add_machine() == 5);
  c.start();
  // Every node gets the joint entry; no acknowledgement of it reaches node 1, which is then cut off.
  auto p = c[1].change_membership(target({1, 2, 3, 4, 5}));
  REQUIRE(p.has_value());
  REQUIRE(c[1].membership().joint());
  auto no_acks = [](const envelope& e) {
    if (e.type != message_type::append_entries_response) return true;
    std::vector<entry_view> scratch;
    return decode(byte_view{e.bytes}, scratch)->reject;  // refusals pass: they let 1 probe 4 and 5
  };
  for (int r = 0; r < 10; ++r) {
    c.tick(1);
    c.deliver(no_acks);
  }
  for (std::uint64_t id = 2; id <= 5; ++id) REQUIRE(c[id].last_index() >= p->index);
  REQUIRE(c[1].commit_index() < p->index);
  c.isolate(1);
  const log_index joint_at = p->index;
  REQUIRE(run_until(c, 100, [&] {
    const auto l = c.leader();
    return l != 0 && l != 1 && change_done(c, l, target({1, 2, 3, 4, 5}));
  }, {2, 3, 4, 5}));
  const auto l = c.leader();
  CHECK(c[l].membership_index() > joint_at);
  CHECK(c[l].term_at(c[l].membership_index()) == c[l].term());
  const proposal q = propose(c, l, "after the joint change");
  CHECK(run_until(c, 10, [&] { return committed(c, l, q); }, {2, 3, 4, 5}));
  CHECK(c.net.violations.empty());
}

TEST_CASE("membership: a leader that removes itself steps down once it commits and the rest carry on") {
  cluster c{3};
  settle(c);
  propose_committed(c, 1, "before");
  const term_id old_term = c[1].term();
  auto p = c[1].change_membership(target({2, 3}));
  REQUIRE(p.has_value());
  CHECK(c[1].role() == raft::role::leader);  // it manages the change it is not part of
  REQUIRE(run_until(c, 10, [&] { return c[1].role() != raft::role::leader; }, {1}));
  CHECK(c[1].commit_index() >= p->index);
  CHECK(c[1].stats().stepped_down_removed == 1);
  CHECK(c[1].role() == raft::role::follower);
  CHECK(c[1].membership() == target({2, 3}));

  // Never again a candidate, however long it waits.
  const auto pre_votes = c[1].stats().pre_votes_started;
  const auto elections = c[1].stats().elections_started;
  for (int k = 0; k < 500; ++k) {
    c.tick(1);
    c.deliver();
  }
  CHECK(c[1].term() == old_term);
  CHECK(c[1].stats().pre_votes_started == pre_votes);
  CHECK(c[1].stats().elections_started == elections);

  // 2 or 3 leads within a bounded time and commits.
  int rounds = 0;
  while (rounds < 100 && (c.leader() == 0 || c.leader() == 1)) {
    run(c, 1);
    ++rounds;
  }
  const auto l = c.leader();
  MESSAGE("ticks until a new leader: " << rounds);
  CHECK((l == 2 || l == 3));
  CHECK(rounds <= 4 * 10);  // 4 election timeouts (election_ticks = 10)
  const proposal q = propose(c, l, "without 1");
  CHECK(run_until(c, 5, [&] { return committed(c, l, q); }));
  run(c, 1);
  CHECK(commands(c[2]).back() == "without 1");
  CHECK(commands(c[3]).back() == "without 1");
  CHECK(c[1].term() == old_term);
  CHECK(c[1].stats().stepped_down_removed == 1);
  CHECK(c.net.violations.empty());
}

TEST_CASE("membership: a leader demoted to learner by a joint change steps down and keeps receiving the log") {
  cluster c{3};
  settle(c);
  REQUIRE(c.add_machine() == 4);
  c.start();
  auto p = c[1].change_membership(target({2, 3, 4}, {1}));
  REQUIRE(p.has_value());
  CHECK(c[1].membership().outgoing == std::vector<node_id>{node_id{1}, node_id{2}, node_id{3}});
  CHECK(c[1].membership().learners == std::vector<node_id>{node_id{1}});  // outgoing voter and learner at once
  REQUIRE(run_until(c, 30, [&] { return c[1].role() != raft::role::leader; }));
  CHECK(c[1].stats().stepped_down_removed == 1);
  CHECK(c[1].membership() == target({2, 3, 4}, {1}));
  const auto pre_votes = c[1].stats().pre_votes_started;
  REQUIRE(run_until(c, 100, [&] { return c.leader() >= 2 && change_done(c, c.leader(), target({2, 3, 4}, {1})); }));
  const auto l = c.leader();
  const proposal q = propose(c, l, "to the demoted leader too");
  REQUIRE(run_until(c, 10, [&] { return committed(c, l, q) && c[1].applied_index() >= q.index; }));
  CHECK(commands(c[1]) == commands(c[l]));
  CHECK(c[1].stats().pre_votes_started == pre_votes);
  CHECK(c.net.violations.empty());
}

// Thesis §4.2.2: a server not in its own latest configuration must still
// campaign (without counting its own vote) while that configuration is not
// known committed, since only it may hold the log the others' votes need.
TEST_CASE("membership: a leader removed from a two-node group that crashes before the removal commits is not a dead end") {
  cluster c{2};
  settle(c);
  c.cut.insert({1, 2});  // the removal stays on node 1
  auto p = c[1].change_membership(target({2}));
  REQUIRE(p.has_value());
  REQUIRE(c.disk_of(1).durable.last_index() == p->index);
  c.drop_all();
  c.restart(1);
  c.heal();
  REQUIRE(c[1].membership() == target({2}));
  REQUIRE(c[2].membership() == target({1, 2}));
  // Node 2 needs node 1's vote, which its shorter log cannot get; only node 1 can finish the change.
  const bool done = run_until(c, 300, [&] { return c.leader() == 2 && change_done(c, 2, target({2})); });
  CHECK_MESSAGE(done, "no leader after 300 rounds; node 2 ran " << c[2].stats().pre_votes_started << " pre-votes");
  if (done) {
    const proposal q = propose(c, 2, "alone");
    CHECK(run_until(c, 5, [&] { return committed(c, 2, q); }));
  }
  CHECK(c.net.violations.empty());
}

TEST_CASE("membership: an old voter holding the only copy of the leave entry is not a dead end") {
  cluster c{1};
  c.start();
  c.elect(1);
  REQUIRE(c.leader() == 1);
  REQUIRE(c.add_machine() == 2);
  REQUIRE(c.add_machine() == 3);
  c.start();
  auto p = c[1].change_membership(target({2, 3}));
  REQUIRE(p.has_value());
  REQUIRE(c[1].membership().joint());
  // The joint entry commits; the entry that leaves it reaches no one.
  auto keep = [&](const envelope& e) {
    return !(e.from == node_id{1} && e.type == message_type::append_entries && !c[1].membership().joint());
  };
  for (int r = 0; r < 20 && c[1].membership().joint(); ++r) {
    for (std::uint64_t id = 1; id <= 3; ++id) c.tick(id);
    c.deliver(keep);
  }
  REQUIRE(c[1].membership() == target({2, 3}));
  c.tick(1);
  c.deliver(keep);
  REQUIRE(c.disk_of(1).durable.last_index() == c[1].membership_index());  // the leave entry is durable
  REQUIRE(c[2].membership().joint());
  REQUIRE(c[3].membership().joint());
  c.restart(1);
  // 2 and 3 need the outgoing side's vote, node 1's, which their shorter logs cannot get.
  const bool done = run_until(c, 300, [&] {
    const auto l = c.leader();
    return (l == 2 || l == 3) && change_done(c, l, target({2, 3}));
  });
  CHECK_MESSAGE(done, "no leader after 300 rounds; node 2 ran " << c[2].stats().pre_votes_started << " pre-votes");
  CHECK(c.net.violations.empty());
}

TEST_CASE("membership: a change while a leadership transfer is in progress is busy") {
  cluster c{3};
  settle(c);
  c.isolate(2);  // the transfer cannot finish
  REQUIRE(c[1].transfer_leadership(node_id{2}).has_value());
  REQUIRE(c[1].transfer_target() == node_id{2});
  auto r = c[1].change_membership(target({1, 2}));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::busy);
  CHECK(r.error().detail == 2);
  CHECK(c[1].membership() == target({1, 2, 3}));
  // Once the transfer is abandoned, the same change goes through.
  REQUIRE(run_until(c, 30, [&] { return c[1].transfer_target() == no_node; }, {1, 3}));
  REQUIRE(c[1].role() == raft::role::leader);
  CHECK(c[1].change_membership(target({1, 2})).has_value());
  CHECK(c.net.violations.empty());
}

TEST_CASE("membership: a configuration takes effect on append and a truncated one gives back the previous") {
  cluster c{5};
  settle(c);
  const membership original = target({1, 2, 3, 4, 5});
  REQUIRE(c[2].membership() == original);
  for (std::uint64_t id : {3, 4, 5}) c.cut.insert({1, id});
  auto p = c[1].change_membership(target({1, 2, 3, 4}));
  REQUIRE(p.has_value());
  c.deliver();
  CHECK(c[1].membership() == target({1, 2, 3, 4}));
  CHECK(c[2].membership() == target({1, 2, 3, 4}));  // in force on append, uncommitted
  CHECK(c[2].membership_index() == p->index);
  CHECK(c[3].membership() == original);

  // {1,2} | {3,4,5}: the majority elects a leader and commits over the slot.
  c.heal();
  for (std::uint64_t a : {1, 2})
    for (std::uint64_t b : {3, 4, 5}) {
      c.cut.insert({a, b});
      c.cut.insert({b, a});
    }
  std::uint64_t l = 0;
  REQUIRE(run_until(c, 100, [&] {
    l = c.leader();
    return l >= 3 && c[l].term() > p->term && c[l].term_at(c[l].commit_index()) == c[l].term();
  }));
  const proposal q = propose(c, l, "in the majority");
  REQUIRE(run_until(c, 10, [&] { return committed(c, l, q); }));
  REQUIRE(c[l].term_at(p->index) != p->term);
  CHECK(c[2].membership() == target({1, 2, 3, 4}));  // still in force there

  c.heal();
  CHECK(run_until(c, 50, [&] { return c[2].term_at(p->index) == c[l].term_at(p->index); }));
  CHECK(c[2].membership() == original);
  CHECK(c[2].membership_index() == log_index{0});
  CHECK(run_until(c, 50, [&] { return c[1].term_at(p->index) == c[l].term_at(p->index); }));
  CHECK(c[1].membership() == original);
  CHECK(c[1].membership_index() == log_index{0});
  run(c, 2);
  CHECK(commands(c[2]) == commands(c[l]));
  CHECK(c.net.violations.empty());
}

TEST_CASE("membership: a restart recovers the configuration from the log and from a snapshot") {
  options o = test_options();
  o.snapshot_trailing_entries = 0;
  cluster c{3, o};
  settle(c);
  REQUIRE(c.add_machine() == 4);
  c.start();
  auto p = c[1].change_membership(target({1, 2, 3}, {4}));
  REQUIRE(p.has_value());
  REQUIRE(run_until(c, 30, [&] { return change_done(c, 1, target({1, 2, 3}, {4})); }));
  propose_committed(c, 1, "x");
  run(c, 2);
  for (std::uint64_t id : {2, 4}) {
    REQUIRE(c[id].membership() == target({1, 2, 3}, {4}));
    c.restart(id);
    REQUIRE(c[id].status().has_value());
    CHECK(c[id].membership() == target({1, 2, 3}, {4}));
    CHECK(c[id].membership_index() == p->index);
  }
  run(c, 2);
  // The configuration entry compacted away: the snapshot image carries it.
  for (std::uint64_t id : {2, 4}) {
    REQUIRE(c[id].applied_index() > p->index);
    REQUIRE(c[id].take_snapshot().has_value());
    REQUIRE(c[id].first_index() > p->index);
    c.restart(id);
    REQUIRE(c[id].status().has_value());
    CHECK(c[id].snapshot_index() > p->index);
    CHECK(c[id].membership() == target({1, 2, 3}, {4}));
    CHECK(c[id].membership_index() == p->index);
  }
  // A restarted learner is still one: it never campaigns.
  c.isolate(4);
  c.tick(4, 200);
  CHECK(c[4].stats().pre_votes_started == 0);
  CHECK(c.net.violations.empty());
}

TEST_CASE("membership: a node joining a compacted log learns the configuration from the snapshot") {
  options o = test_options();
  o.snapshot_trailing_entries = 0;
  cluster c{3, o};
  settle(c);
  REQUIRE(c.add_machine() == 4);  // not booted yet
  auto p = c[1].change_membership(target({1, 2, 3}, {4}));
  REQUIRE(p.has_value());
  REQUIRE(run_until(c, 30, [&] { return change_done(c, 1, target({1, 2, 3}, {4})); }, {1, 2, 3}));
  for (int k = 0; k < 4; ++k) propose_committed(c, 1, "in the snapshot " + std::to_string(k), {1, 2, 3});
  REQUIRE(c[1].take_snapshot().has_value());
  REQUIRE(c[1].first_index() > p->index);
  for (int k = 0; k < 2; ++k) propose_committed(c, 1, "after the snapshot " + std::to_string(k), {1, 2, 3});
  c.start();
  CHECK(run_until(c, 50, [&] { return c[4].applied_index() == c[1].applied_index(); }));
  CHECK(c[4].stats().snapshots_installed == 1);
  CHECK(c[4].snapshot_index() == c[1].snapshot_index());
  CHECK(c[4].membership() == target({1, 2, 3}, {4}));
  CHECK(c[4].membership_index() == p->index);
  CHECK(c[4].state_machine().restored_at == c[1].snapshot_index().value());
  CHECK(commands(c[4]) == commands(c[1]));
  CHECK(commands(c[4]).back() == "after the snapshot 1");
  CHECK(c.net.violations.empty());
}

TEST_CASE("membership: a node joining after the snapshot learns its own addition from the entries after it") {
  options o = test_options();
  o.snapshot_trailing_entries = 0;
  cluster c{3, o};
  settle(c);
  for (int k = 0; k < 4; ++k) propose_committed(c, 1, "old " + std::to_string(k));
  REQUIRE(c[1].take_snapshot().has_value());
  REQUIRE(c.add_machine() == 4);
  c.start();
  auto p = c[1].change_membership(target({1, 2, 3}, {4}));
  REQUIRE(p.has_value());
  REQUIRE(p->index > c[1].snapshot_index());
  CHECK(run_until(c, 50, [&] {
    return c[4].applied_index() == c[1].applied_index() && change_done(c, 4, target({1, 2, 3}, {4}));
  }));
  CHECK(c[4].stats().snapshots_installed == 1);
  CHECK(c[4].membership_index() == p->index);
  CHECK(commands(c[4]) == commands(c[1]));
  CHECK(c.net.violations.empty());
}

// A joining node applies the entries before the one that adds it while it
// still knows no configuration; a snapshot taken then must still restart.
TEST_CASE("membership: a joining node that snapshots before its own addition applies still restarts") {
  options o = test_options();
  o.max_entries_per_append = 1;
  o.snapshot_trailing_entries = 0;
  cluster c{3, o};
  settle(c);
  for (int k = 0; k < 3; ++k) propose_committed(c, 1, "early " + std::to_string(k));
  REQUIRE(c.add_machine() == 4);
  c.start();
  auto p = c[1].change_membership(target({1, 2, 3}, {4}));
  REQUIRE(p.has_value());
  auto before_config = [&](const envelope& e) {  // node 4 never gets the configuration entry
    if (e.to != node_id{4} || e.type != message_type::append_entries) return true;
    std::vector<entry_view> scratch;
    const auto m = decode(byte_view{e.bytes}, scratch);
    return m->entries.empty() || m->index.next() < p->index;
  };
  for (int r = 0; r < 20; ++r) {
    for (std::uint64_t id = 1; id <= 4; ++id) c.tick(id);
    c.deliver(before_config);
  }
  REQUIRE(c[4].applied_index() == p->index.prev());
  REQUIRE(c[4].membership().voters.empty());
  auto snap = c[4].take_snapshot();
  if (snap.has_value()) {
    c.restart(4);
    CHECK_MESSAGE(c[4].status().has_value(), "restart refused: " << std::string{c[4].status().error().what});
    if (c[4].status().has_value()) {
      CHECK(run_until(c, 30, [&] { return c[4].applied_index() == c[1].applied_index(); }));
      CHECK(commands(c[4]) == commands(c[1]));
      CHECK(c[4].membership() == target({1, 2, 3}, {4}));
    }
  } else {
    CHECK(c.disk_of(4).snapshots.saves() == 0);  // refused up front, nothing stored: acceptable too
    c.restart(4);
    CHECK(c[4].status().has_value());
  }
  CHECK(c.net.violations.empty());
}

TEST_CASE("membership: invalid targets are refused with their error codes") {
  cluster c{3};
  settle(c);
  auto code = [&](std::uint64_t id, const membership& m) {
    auto r = c[id].change_membership(m);
    return r.has_value() ? errc{} : r.error().code;
  };
  CHECK(code(2, target({1, 2})) == errc::not_leader);
  CHECK(c[2].change_membership(target({1, 2})).error().detail == 1);  // the leader hint
  CHECK(code(1, membership{}) == errc::invalid_config);
  CHECK(code(1, target({}, {4})) == errc::invalid_config);
  CHECK(code(1, target({1, 2, 0})) == errc::invalid_config);
  CHECK(code(1, target({1, 2, 2})) == errc::invalid_config);
  CHECK(code(1, target({1, 2, 3}, {4, 4})) == errc::invalid_config);
  CHECK(code(1, target({1, 2, 3}, {3})) == errc::invalid_config);
  membership with_outgoing = target({1, 2, 3});
  with_outgoing.outgoing = {node_id{1}};
  CHECK(code(1, with_outgoing) == errc::invalid_argument);
  CHECK(code(1, target({1, 2, 3})) == errc::invalid_argument);
  CHECK(code(1, target({3, 1, 2})) == errc::invalid_argument);  // the same, in another order
  CHECK(c[1].last_index() == log_index{1});                      // nothing appended
  CHECK(c[1].stats().configuration_changes == 0);
  CHECK(c[1].membership() == target({1, 2, 3}));
  // busy: a change in progress.
  REQUIRE(c[1].change_membership(target({1, 2, 3}, {4})).has_value());
  CHECK(code(1, target({1, 2})) == errc::busy);
  CHECK(c.net.violations.empty());
}

TEST_CASE("membership: every member replaced one server at a time while proposals keep committing") {
  cluster c{3};
  settle(c);
  std::vector<std::string> proposed;
  int seq = 0;
  auto leader_ready = [&] {
    const auto l = c.leader();
    return l != 0 && c[l].term_at(c[l].commit_index()) == c[l].term();
  };
  auto some_proposals = [&] {
    REQUIRE(run_until(c, 100, leader_ready));
    for (int k = 0; k < 3; ++k) {
      proposed.push_back("cmd-" + std::to_string(seq++));
      propose_committed(c, c.leader(), proposed.back());
    }
  };
  auto change = [&](const membership& m) {
    REQUIRE(run_until(c, 100, leader_ready));
    REQUIRE(c[c.leader()].change_membership(m).has_value());
    REQUIRE(run_until(c, 200, [&] { return leader_ready() && change_done(c, c.leader(), m); }));
  };
  some_proposals();
  const std::vector<std::pair<std::uint64_t, membership>> steps{
      {4, target({1, 2, 3, 4})}, {0, target({2, 3, 4})}, {5, target({2, 3, 4, 5})},
      {0, target({3, 4, 5})},    {6, target({3, 4, 5, 6})}, {0, target({4, 5, 6})}};
  for (const auto& [added, m] : steps) {
    if (added != 0) {
      REQUIRE(c.add_machine() == added);
      c.start();
    }
    change(m);
    some_proposals();
  }
  run(c, 3);
  CHECK(c.leader() >= 4);
  for (std::uint64_t id : {4, 5, 6}) {
    CHECK(c[id].membership() == target({4, 5, 6}));
    CHECK(commands(c[id]) == proposed);
  }
  // The removed nodes hold a prefix of the same history.
  for (std::uint64_t id : {1, 2, 3}) {
    const auto mine = commands(c[id]);
    REQUIRE(mine.size() <= proposed.size());
    CHECK(std::equal(mine.begin(), mine.end(), proposed.begin()));
  }
  CHECK(proposed.size() == 21);
  CHECK(c.net.violations.empty());
}
