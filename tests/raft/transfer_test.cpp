// Leadership transfer, pinned to Ongaro's thesis §3.10: the target is caught
// up, told to campaign with timeout_now, and wins the next term without a
// PreVote and past the followers' leases; proposals wait meanwhile; a transfer
// that cannot finish is abandoned after its timeout.
#include <doctest/doctest.h>

#include "cluster.hpp"

using namespace raft_test;

namespace {

std::size_t count_queued(network& net, message_type type) {
  return static_cast<std::size_t>(
      std::count_if(net.queue.begin(), net.queue.end(), [&](const envelope& e) { return e.type == type; }));
}

// Elects node 1 and lets a few heartbeat rounds pass: every follower is
// inside its leader lease.
void settle(cluster& c) {
  c.start();
  c.elect(1);
  REQUIRE(c.leader() == 1);
  for (int k = 0; k < 3; ++k) {
    c.tick(1);
    c.deliver();
  }
}

}  // namespace

TEST_CASE("transfer: the target leads the next term without a PreVote and despite the followers' leases") {
  cluster c{3};
  settle(c);
  const term_id before = c[1].term();
  const auto pre_votes = c[2].stats().pre_votes_started;
  const auto elections = c[2].stats().elections_started;
  c.net.record_events = true;
  REQUIRE(c[1].transfer_leadership(node_id{2}));
  CHECK(c[1].transfer_target() == node_id{2});
  CHECK(c[1].stats().transfers_started == 1);
  CHECK(count_queued(c.net, message_type::timeout_now) == 1);  // node 2 was caught up already
  c.deliver();
  CHECK(c.leader() == 2);
  CHECK(c[2].term() == term_id{before.value() + 1});
  CHECK(c[2].stats().pre_votes_started == pre_votes);
  CHECK(c[2].stats().elections_started == elections + 1);
  CHECK(c[3].stats().dropped_in_lease == 0);  // node 3 heard from node 1 just now, yet it voted
  CHECK(c[3].vote() == node_id{2});
  CHECK(c[1].role() == raft::role::follower);
  CHECK(c[1].transfer_target() == no_node);
  CHECK(std::find(c.net.events.begin(), c.net.events.end(), "send 2 pre_vote") == c.net.events.end());
  REQUIRE(c[2].propose(as_bytes("after the transfer")));
  c.deliver();
  CHECK(c[1].state_machine().applied.back().second == "after the transfer");
  CHECK(c.net.violations.empty());
}

TEST_CASE("transfer: a vote request without the transfer flag is still refused inside the lease") {
  cluster c{3};
  settle(c);
  c.drop_all();
  message m = msg(message_type::request_vote, 2, 3, c[3].term().value() + 1);
  m.index = c[3].last_index();
  m.log_term = c[3].last_term();
  c[3].receive(m);
  CHECK(c[3].stats().dropped_in_lease == 1);
  m.context = 1;  // what a campaign started by timeout_now sends
  c[3].receive(m);
  CHECK(c[3].vote() == node_id{2});
  CHECK(c[3].term() == m.term);
}

TEST_CASE("transfer: a lagging target is caught up before timeout_now is sent") {
  cluster c{3};
  settle(c);
  c.isolate(3);
  for (int k = 0; k < 5; ++k) REQUIRE(c[1].propose(as_bytes("while 3 was away " + std::to_string(k))));
  c.deliver();
  c.heal();
  REQUIRE(c[3].last_index() < c[1].last_index());
  REQUIRE(c[1].transfer_leadership(node_id{3}));
  CHECK(count_queued(c.net, message_type::timeout_now) == 0);
  auto refused = c[1].propose(as_bytes("during the transfer"));
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == errc::busy);
  std::vector<message_type> to_target;  // what node 3 received, in order
  bool caught_up_at_timeout_now = false;
  auto keep = [&](const envelope& e) {
    if (e.to.value() == 3) to_target.push_back(e.type);
    if (e.type == message_type::timeout_now) {
      const log_index last = c[1].last_index();
      caught_up_at_timeout_now = c[3].last_index() == last && c.disk_of(3).durable.last_index() == last &&
                                 c[3].term_at(last) == c[1].term_at(last);
    }
    return true;
  };
  for (int k = 0; k < 20 && c.leader() != 3; ++k) {
    c.tick(1);
    c.deliver(keep);
  }
  CHECK(c.leader() == 3);
  CHECK(caught_up_at_timeout_now);
  const auto at = std::find(to_target.begin(), to_target.end(), message_type::timeout_now);
  REQUIRE(at != to_target.end());
  CHECK(std::count(to_target.begin(), at, message_type::append_entries) >= 1);  // the catch-up came first
  CHECK(std::count(at, to_target.end(), message_type::timeout_now) == 1);
  CHECK(c.log_terms(3).size() == 7);  // no-op, 5 writes, the new leader's no-op
  CHECK(c.net.violations.empty());
}

TEST_CASE("transfer: a transfer to a partitioned target is abandoned after its timeout and proposals work again") {
  for (std::uint32_t timeout : {0u, 4u}) {
    CAPTURE(timeout);
    options o = test_options();
    o.transfer_timeout_ticks = timeout;
    const std::uint32_t expect = timeout == 0 ? o.election_ticks : timeout;
    cluster c{3, o};
    settle(c);
    c.isolate(3);
    REQUIRE(c[1].propose(as_bytes("3 misses this")));
    c.deliver();
    REQUIRE(c[1].transfer_leadership(node_id{3}));
    std::uint32_t ticks = 0;
    while (c[1].transfer_target() != no_node && ticks < 100) {
      CHECK(c[1].propose(as_bytes("x")).error().code == errc::busy);
      c.tick(1);
      c.deliver();
      ++ticks;
    }
    CHECK(ticks == expect);
    CHECK(c[1].role() == raft::role::leader);
    CHECK(c[1].stats().transfers_aborted == 1);
    auto p = c[1].propose(as_bytes("after the abort"));
    REQUIRE(p.has_value());
    c.deliver();
    CHECK(c[1].commit_index() == p->index);
    CHECK(c[1].stats().proposals_refused_busy == 0);  // busy from a transfer is not the uncommitted limit
  }
}

TEST_CASE("transfer: a target that is told but cannot win leaves the old leader to resume after the timeout") {
  cluster c{3};
  settle(c);
  REQUIRE(c[1].transfer_leadership(node_id{2}));
  REQUIRE(count_queued(c.net, message_type::timeout_now) == 1);
  c.drop_all();  // timeout_now is lost
  for (int k = 0; k < 10; ++k) {
    c.tick(1);
    c.deliver();
  }
  CHECK(c.leader() == 1);
  CHECK(c[1].transfer_target() == no_node);
  CHECK(c[1].stats().transfers_aborted == 1);
  CHECK(c[1].propose(as_bytes("resumed")).has_value());
}

TEST_CASE("transfer: errors for self or unknown targets and for a second target and not_leader on a follower") {
  cluster c{3};
  settle(c);
  auto self = c[1].transfer_leadership(node_id{1});
  CHECK(self.error().code == errc::invalid_argument);
  auto unknown = c[1].transfer_leadership(node_id{9});
  CHECK(unknown.error().code == errc::invalid_argument);
  CHECK(unknown.error().detail == 9);
  auto follower = c[2].transfer_leadership(node_id{3});
  CHECK(follower.error().code == errc::not_leader);
  CHECK(follower.error().detail == 1);
  CHECK(c[1].stats().transfers_started == 0);
  c.isolate(3);
  REQUIRE(c[1].propose(as_bytes("3 lags")));
  c.deliver();
  REQUIRE(c[1].transfer_leadership(node_id{3}));
  auto other = c[1].transfer_leadership(node_id{2});
  CHECK(other.error().code == errc::busy);
  CHECK(other.error().detail == 3);
  CHECK(c[1].transfer_leadership(node_id{3}).has_value());  // the same target again: nothing new
  CHECK(c[1].stats().transfers_started == 1);
  CHECK(c[1].transfer_target() == node_id{3});
}

TEST_CASE("transfer: timeout_now from a node that is not our leader is dropped and starts nothing") {
  cluster c{3};
  settle(c);
  c.drop_all();
  const term_id t = c[3].term();
  c[3].receive(msg(message_type::timeout_now, 2, 3, t.value()));
  CHECK(c[3].stats().dropped_invalid == 1);
  CHECK(c[3].role() == raft::role::follower);
  CHECK(c[3].term() == t);
  CHECK(c.net.queue.empty());
}

TEST_CASE("transfer: a lease is not trusted once timeout_now has gone out") {
  options o = test_options();
  o.lease_reads = true;
  cluster c{3, o};
  settle(c);
  REQUIRE(c[1].read(1));
  REQUIRE(c[1].state_machine().reads.size() == 1);  // served from the lease
  REQUIRE(c[1].transfer_leadership(node_id{2}));
  REQUIRE(count_queued(c.net, message_type::timeout_now) == 1);
  c.drop_all();
  REQUIRE(c[1].read(2));
  CHECK(c[1].state_machine().reads.size() == 1);  // waits for a round instead
  CHECK(count_queued(c.net, message_type::heartbeat) == 2);
}
