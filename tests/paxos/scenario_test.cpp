// Multi-Paxos scenarios, named after what they pin: duelling proposers, a
// leader that crashes after a minority accepted its slot (the value must
// survive), a new leader that finds gaps (filled with no-ops), an acceptor
// restarting from its log, a would-be leader in a minority partition, flexible
// quorums with |Q2| = 2 of 5, and a far-behind node catching up page by page.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cluster.hpp"

using namespace paxos_test;

namespace {

// The first slot an accept message carries (0 for any other message).
std::uint64_t accept_slot(const envelope& e) {
  if (e.type != message_type::accept) return 0;
  std::vector<entry> scratch;
  auto m = decode(byte_view{e.bytes}, scratch);
  REQUIRE(m.has_value());
  return m->entries.empty() ? 0 : m->entries.front().slot.value();
}

// Ticks and delivers until every up node has applied through `slot`.
void converge(cluster& c, std::uint64_t slot, int rounds = 400) {
  for (int r = 0; r < rounds; ++r) {
    bool done = true;
    for (std::uint64_t n = 1; n <= c.size(); ++n)
      if (c.up(n) && c[n].applied_index().value() < slot) done = false;
    if (done) return;
    c.tick_all();
    c.deliver();
  }
}

}  // namespace

TEST_CASE("paxos scenario: duelling proposers back off until one leads, and nothing diverges") {
  cluster c{3};
  c.start();
  // Nodes 1 and 2 start phase 1 in the same tick, again and again: each
  // prepare overtakes the other's before its accepts land.
  for (int k = 0; k < 1000 && (c[1].role() == role::follower || c[2].role() == role::follower); ++k) {
    if (c[1].role() == role::follower) c[1].tick();
    if (c[2].role() == role::follower) c[2].tick();
  }
  REQUIRE(c[1].role() == role::candidate);
  REQUIRE(c[2].role() == role::candidate);
  c.deliver();
  const std::uint64_t l = c.settle();
  REQUIRE(l != 0);
  std::uint64_t preempted = 0;
  for (std::uint64_t n = 1; n <= 3; ++n) preempted += c[n].stats().preempted;
  CHECK(preempted >= 1);
  for (int i = 0; i < 5; ++i) REQUIRE(c[l].propose(as_bytes("d" + std::to_string(i))));
  converge(c, 5);
  for (std::uint64_t n = 1; n <= 3; ++n) CHECK(c.applied_values(n) == c.applied_values(l));
  CHECK(c.applied_values(l).size() == 5);
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos scenario: a value accepted by one follower survives its leader's crash") {
  cluster c{3};
  c.start();
  c.elect(1);
  REQUIRE(c[1].role() == role::leader);
  c.tick_all();
  c.deliver();
  REQUIRE(c[1].propose(as_bytes("keep me")));
  // Only node 2 gets the accept; its answer is lost, so nothing is known chosen.
  c.deliver([](const envelope& e) {
    return e.type != message_type::accepted && !(e.type == message_type::accept && e.to == node_id{3});
  });
  CHECK(c[1].commit_index() == log_index{0});
  c.crash(1);
  c.net.queue.clear();
  const std::uint64_t l = c.settle();
  REQUIRE((l == 2 || l == 3));
  converge(c, 1);
  CHECK(c.applied_values(2) == std::vector<std::string>{"keep me"});
  CHECK(c.applied_values(3) == std::vector<std::string>{"keep me"});
  CHECK(c[l].stats().reproposed >= 1);
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos scenario: a new leader fills the gaps it finds with no-ops, never applied") {
  cluster c{3};
  c.start();
  c.elect(1);
  REQUIRE(c[1].role() == role::leader);
  c.tick_all();
  c.deliver();
  for (const char* v : {"a", "b", "c"}) REQUIRE(c[1].propose(as_bytes(v)));
  // Node 2 accepts slots 1 and 3, never 2; node 3 nothing; no answer returns.
  c.deliver([](const envelope& e) {
    if (e.type == message_type::accepted || e.to == node_id{3}) return false;
    return accept_slot(e) != 2;
  });
  c.crash(1);
  c.net.queue.clear();
  const std::uint64_t l = c.settle();
  REQUIRE((l == 2 || l == 3));
  converge(c, 3);
  CHECK(c[l].stats().noops_proposed >= 1);
  for (std::uint64_t n : {2, 3}) {
    INFO("node " << n);
    CHECK(c[n].applied_index() == log_index{3});
    const auto& applied = c[n].state_machine().applied;
    REQUIRE(applied.size() == 2);
    CHECK(applied[0] == std::pair<std::uint64_t, std::string>{1, "a"});
    CHECK(applied[1] == std::pair<std::uint64_t, std::string>{3, "c"});
  }
  // The old leader comes back holding "b" at slot 2 from its own ballot: it
  // must learn the no-op, not apply its stale value.
  c.restart(1);
  converge(c, 3);
  CHECK(c.applied_values(1) == std::vector<std::string>{"a", "c"});
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos scenario: an acceptor restarted from its log keeps its promise and accepted values") {
  cluster c{3};
  c.start();
  c.elect(1);
  REQUIRE(c[1].role() == role::leader);
  c.elect(2);  // a second ballot, so that node 1's first one is now stale
  REQUIRE(c[2].role() == role::leader);
  const ballot stale = bal(1, 1);
  REQUIRE(c[2].current_ballot() > stale);
  for (int i = 0; i < 4; ++i) REQUIRE(c[2].propose(as_bytes("r" + std::to_string(i))));
  c.deliver();
  const ballot promised = c[3].promised();
  CHECK(promised == c[2].current_ballot());
  c.restart(3);
  CHECK(c[3].promised() == promised);
  for (std::uint64_t s = 1; s <= 4; ++s) {
    const auto st = c[3].slot(log_index{s});
    REQUIRE(st.has_value());
    CHECK(st->accepted == promised);
  }
  // A proposer with a lower ballot is still refused after the restart.
  message m = msg(message_type::prepare, 1, 3, stale);
  m.slot = log_index{1};
  c.net.queue.clear();
  c[3].receive(m);
  REQUIRE(c.net.queue.size() == 1);
  std::vector<entry> scratch;
  auto r = decode(byte_view{c.net.queue.front().bytes}, scratch);
  REQUIRE(r.has_value());
  CHECK(r->reject);
  CHECK(r->bal == promised);
  c.net.queue.clear();
  converge(c, 4);
  CHECK(c.applied_values(3) == std::vector<std::string>{"r0", "r1", "r2", "r3"});
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos scenario: a would-be leader in a minority partition never chooses anything") {
  cluster c{5};
  c.start();
  for (std::uint64_t a : {1, 2})
    for (std::uint64_t b : {3, 4, 5}) {
      c.net.cut.insert({a, b});
      c.net.cut.insert({b, a});
    }
  for (int r = 0; r < 300; ++r) {
    c.tick_all();
    c.deliver();
    for (std::uint64_t n : {1, 2}) {
      REQUIRE(c[n].role() != role::leader);
      REQUIRE(c[n].commit_index() == log_index{0});
    }
  }
  CHECK(c[1].stats().elections_started + c[2].stats().elections_started > 0);
  const std::uint64_t l = c.leader();
  REQUIRE(l >= 3);
  REQUIRE(c[l].propose(as_bytes("majority")));
  converge(c, 1);
  CHECK(c[1].applied_index() == log_index{0});
  c.heal();
  converge(c, 1);
  for (std::uint64_t n = 1; n <= 5; ++n) CHECK(c.applied_values(n) == std::vector<std::string>{"majority"});
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos scenario: flexible quorums choose with |Q2| = 2 of 5 and a |Q1| = 4 leader finds it") {
  options o = test_options();
  o.phase1_quorum = 4;
  o.phase2_quorum = 2;
  cluster c{5, o};
  c.start();
  c.elect(1);
  REQUIRE(c[1].role() == role::leader);
  // Only node 2 hears the leader: itself and node 2 are a phase-2 quorum.
  for (std::uint64_t b : {3, 4, 5}) {
    c.net.cut.insert({1, b});
    c.net.cut.insert({b, 1});
  }
  for (int i = 0; i < 3; ++i) REQUIRE(c[1].propose(as_bytes("f" + std::to_string(i))));
  c.deliver();
  CHECK(c[1].commit_index() == log_index{3});
  CHECK(c.applied_values(1) == std::vector<std::string>{"f0", "f1", "f2"});
  c.crash(1);
  c.heal();
  c.net.queue.clear();
  const std::uint64_t l = c.settle();
  REQUIRE(l >= 2);
  converge(c, 3);
  for (std::uint64_t n = 2; n <= 5; ++n) CHECK(c.applied_values(n) == std::vector<std::string>{"f0", "f1", "f2"});
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos scenario: a flexible quorum that would not intersect is refused with invalid_config") {
  options o = test_options();
  o.phase1_quorum = 2;
  o.phase2_quorum = 2;
  fabric f{5};
  test_node n{node_id{1}, f.ids(), test_transport{&f.net}, test_log{&f.disk_of(1)}, manual_clock{}, recorder{}, o};
  REQUIRE_FALSE(n.status().has_value());
  CHECK(n.status().error().code == errc::invalid_config);
  CHECK(n.status().error().message().find("would not intersect") != std::string::npos);
}

TEST_CASE("paxos scenario: a node far behind catches up, and a far-behind candidate recovers page by page") {
  options o = test_options();
  o.max_entries_per_message = 4;
  cluster c{3, o};
  c.start();
  c.elect(1);
  REQUIRE(c[1].role() == role::leader);
  c.isolate(3);
  for (int i = 0; i < 30; ++i) {
    REQUIRE(c[1].propose(as_bytes("p" + std::to_string(i))));
    c.deliver();
  }
  CHECK(c[1].commit_index() == log_index{30});
  CHECK(c[3].commit_index() == log_index{0});
  // Node 3 comes back while node 1 dies: node 3 may run phase 1 from slot 1,
  // learning node 2's 30 accepted slots four per promise.
  c.crash(1);
  c.heal();
  c.isolate(1);
  c.elect(3);
  for (int r = 0; r < 400 && c.leader() == 0; ++r) {
    c.tick_all();
    c.deliver();
  }
  REQUIRE(c.leader() != 0);
  converge(c, 30);
  std::vector<std::string> expected;
  for (int i = 0; i < 30; ++i) expected.push_back("p" + std::to_string(i));
  CHECK(c.applied_values(2) == expected);
  CHECK(c.applied_values(3) == expected);
  CHECK(c.net.violations.empty());
}
