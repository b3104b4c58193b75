// Raft election, pinned to the paper: §5.1 term rules, §5.2 leader election,
// §5.4.1 the election restriction, PreVote and CheckQuorum (Ongaro's thesis
// §9.6), leader stickiness, and the durability rule for votes.
#include <doctest/doctest.h>

#include "cluster.hpp"

using namespace raft_test;

namespace {

std::size_t count_queued(network& net, message_type type) {
  return static_cast<std::size_t>(
      std::count_if(net.queue.begin(), net.queue.end(), [&](const envelope& e) { return e.type == type; }));
}

}  // namespace

TEST_CASE("§5.1: a message of a newer term turns every role into a follower of that term") {
  for (auto start : {raft::role::follower, raft::role::candidate, raft::role::leader}) {
    cluster c{3, test_options(false, false)};
    c.start();
    if (start != raft::role::follower) c.tick(1, 100);  // times out: candidate
    if (start == raft::role::leader) c.deliver();
    REQUIRE(c[1].role() == start);
    const term_id before = c[1].term();
    c.drop_all();
    c[1].receive(msg(message_type::heartbeat, 2, 1, before.value() + 5));
    CHECK(c[1].role() == raft::role::follower);
    CHECK(c[1].term() == term_id{before.value() + 5});
    CHECK(c[1].leader() == node_id{2});
    CHECK(c[1].vote() == no_node);
  }
}

TEST_CASE("§5.1: a request of an older term is rejected and counted, and changes nothing") {
  cluster c{3, test_options(false, false)};
  c.start();
  c.elect(1);
  REQUIRE(c[1].role() == raft::role::leader);
  c[2].receive(msg(message_type::heartbeat, 3, 2, 5));  // node 2 moves to term 5
  c.drop_all();
  const auto stale_before = c[2].stats().dropped_stale_term;
  message vote = msg(message_type::request_vote, 3, 2, 4);
  vote.index = log_index{100};
  vote.log_term = term_id{4};
  c[2].receive(vote);
  c[2].receive(msg(message_type::append_entries, 1, 2, 1));
  CHECK(c[2].stats().dropped_stale_term == stale_before + 2);
  CHECK(c[2].term() == term_id{5});
  CHECK(c[2].vote() == no_node);
  CHECK(count_queued(c.net, message_type::request_vote_response) == 0);
}

TEST_CASE("§5.2: a follower that hears nothing campaigns after a timeout drawn from e to 2e - 1 ticks") {
  std::set<std::uint32_t> seen;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    cluster c{3, test_options(false, false), seed};
    c.start();
    int ticks = 0;
    while (c[1].role() == raft::role::follower) {
      c.tick(1);
      ++ticks;
      REQUIRE(ticks < 20);
    }
    CHECK(ticks >= 10);
    seen.insert(static_cast<std::uint32_t>(ticks));
    CHECK(c[1].role() == raft::role::candidate);
    CHECK(c[1].term() == term_id{1});
    CHECK(c[1].vote() == node_id{1});
    CHECK(count_queued(c.net, message_type::request_vote) == 2);
  }
  CHECK(seen.size() > 3);  // the timeout is randomised, not fixed
}

TEST_CASE("§5.2: a candidate with a quorum of votes leads, and opens its term with a no-op (§8)") {
  cluster c{3};
  c.start();
  c.elect(1);
  CHECK(c[1].role() == raft::role::leader);
  CHECK(c[1].term() == term_id{1});
  CHECK(c[2].leader() == node_id{1});
  CHECK(c[3].leader() == node_id{1});
  CHECK(c[1].last_index() == log_index{1});
  CHECK(c[1].commit_index() == log_index{1});
  CHECK(c[1].state_machine().applied.empty());  // the no-op is not the application's
  CHECK(c[1].applied_index() == log_index{1});
  CHECK(c.net.violations.empty());
}

TEST_CASE("§5.2: a vote is granted to at most one candidate per term, and survives a restart") {
  cluster c{3, test_options(false, false)};
  c.start();
  auto ask = [&](std::uint64_t from, std::uint64_t term) {
    c.drop_all();
    message m = msg(message_type::request_vote, from, 1, term);
    c[1].receive(m);
    std::vector<std::vector<entry_view>> st;
    auto r = queued(c.net, message_type::request_vote_response, st);
    REQUIRE(r.size() == 1);
    return !r[0].reject;
  };
  CHECK(ask(2, 1));
  CHECK_FALSE(ask(3, 1));
  CHECK(ask(2, 1));  // a repeated request from the same candidate is granted again
  c.restart(1);
  CHECK(c[1].vote() == node_id{2});
  CHECK_FALSE(ask(3, 1));
  CHECK(ask(3, 2));  // a new term frees the vote
  CHECK(c.net.violations.empty());
}

TEST_CASE("§5.2: after a split vote, candidates time out and retry in a newer term until one wins") {
  cluster c{4, test_options(false, false)};
  c.start();
  // 1 and 2 campaign at once; 3 hears only 1, 4 hears only 2: two votes each of four.
  c.tick(1, 30);
  c.tick(2, 30);
  REQUIRE(c[1].role() == raft::role::candidate);
  REQUIRE(c[2].role() == raft::role::candidate);
  c.cut = {{1, 4}, {4, 1}, {2, 3}, {3, 2}, {1, 2}, {2, 1}};
  c.deliver();
  CHECK(c[1].role() == raft::role::candidate);
  CHECK(c[2].role() == raft::role::candidate);
  CHECK(c.leader() == 0);
  c.heal();
  const term_id first = c[1].term();
  while (c[1].term() == first) c.tick(1);  // its election timer fires again
  c.deliver();
  CHECK(c[1].term() > first);
  CHECK(c.leader() == 1);
  CHECK(c.net.violations.empty());
}

TEST_CASE("§5.2: a candidate that hears from a leader of its term becomes its follower") {
  cluster c{3, test_options(false, false)};
  c.start();
  c.tick(2, 30);
  REQUIRE(c[2].role() == raft::role::candidate);
  c.drop_all();
  message app = msg(message_type::append_entries, 3, 2, c[2].term().value());
  const term_id term = c[2].term();
  c[2].receive(app);
  CHECK(c[2].role() == raft::role::follower);
  CHECK(c[2].leader() == node_id{3});
  CHECK(c[2].term() == term);
}

TEST_CASE("§5.4.1: a vote goes only to a candidate whose log is at least as up to date") {
  struct row {
    std::uint64_t last_term, last_index;
    bool granted;
  };
  // The voter's log ends at (term 2, index 3).
  const row rows[] = {{1, 5, false}, {2, 2, false}, {2, 3, true}, {2, 9, true}, {3, 1, true}};
  for (const row& r : rows) {
    cluster c{3, test_options(false, false)};
    preload(c.disk_of(1), {1, 2, 2}, 2);
    c.start();
    message m = msg(message_type::request_vote, 2, 1, 3);
    m.log_term = term_id{r.last_term};
    m.index = log_index{r.last_index};
    c[1].receive(m);
    std::vector<std::vector<entry_view>> st;
    auto out = queued(c.net, message_type::request_vote_response, st);
    REQUIRE(out.size() == 1);
    CAPTURE(r.last_term);
    CAPTURE(r.last_index);
    CHECK(out[0].reject == !r.granted);
    CHECK(c[1].vote() == (r.granted ? node_id{2} : no_node));
  }
}

TEST_CASE("PreVote: a partitioned node that rejoins does not disrupt the leader") {
  for (bool pre_vote : {true, false}) {
    CAPTURE(pre_vote);
    cluster c{3, test_options(pre_vote, false)};
    c.start();
    c.elect(1);
    REQUIRE(c.leader() == 1);
    c.isolate(3);
    REQUIRE(c[1].propose(as_bytes("while 3 was away")));
    c.deliver();
    c.tick(3, 100);  // campaigns again and again behind the partition
    c.deliver();
    CHECK(c[3].role() != raft::role::leader);
    c.heal();
    c.tick(3, 20);  // campaigns at least once more, now heard by all
    c.deliver();
    if (pre_vote) {
      CHECK(c[3].term() == term_id{1});  // pre-votes moved no term
      CHECK(c.leader() == 1);
      CHECK(c[1].term() == term_id{1});
    } else {
      CHECK(c[1].term() > term_id{1});  // without PreVote the rejoining node deposes the leader
      CHECK(c[1].role() != raft::role::leader);
    }
  }
}

TEST_CASE("CheckQuorum: a leader that hears from no quorum for an election timeout steps down") {
  cluster c{3};
  c.start();
  c.elect(1);
  REQUIRE(c.leader() == 1);
  c.isolate(1);
  for (int k = 0; k < 25 && c[1].role() == raft::role::leader; ++k) {
    c.tick(1);
    c.deliver();
  }
  CHECK(c[1].role() == raft::role::follower);
  CHECK(c[1].term() == term_id{1});  // stepping down needs no new term
  auto r = c[1].propose(as_bytes("x"));
  CHECK(r.error().code == errc::not_leader);

  cluster healthy{3};
  healthy.start();
  healthy.elect(1);
  for (int k = 0; k < 50; ++k) {
    healthy.tick(1);
    healthy.deliver();
  }
  CHECK(healthy[1].role() == raft::role::leader);  // a leader that hears from its followers stays
}

TEST_CASE("leader stickiness: a follower that heard from a live leader ignores a newer vote request") {
  cluster c{3};
  c.start();
  c.elect(1);
  c.drop_all();
  message m = msg(message_type::request_vote, 3, 2, 5);
  m.log_term = term_id{9};
  m.index = log_index{9};
  c[2].receive(m);
  message pre = m;
  pre.type = message_type::pre_vote;
  c[2].receive(pre);
  CHECK(c[2].stats().dropped_in_lease == 2);
  CHECK(c[2].term() == term_id{1});
  CHECK(c.net.queue.empty());
  // Once the leader has been silent for an election timeout, the same request is heard.
  c.tick(2, 10);
  c[2].receive(m);
  CHECK(c[2].term() == term_id{5});
  CHECK(c[2].vote() == node_id{3});
}

TEST_CASE("durability: no vote and no vote request is sent before the sync that makes it durable") {
  cluster c{3, test_options(false, false)};
  c.start();
  c.net.record_events = true;
  c.elect(1);
  REQUIRE(c.leader() == 1);
  // Each node's first vote message follows a sync of that node.
  for (const char* send : {"send 1 request_vote", "send 2 request_vote_response", "send 3 request_vote_response"}) {
    auto at = std::find(c.net.events.begin(), c.net.events.end(), std::string(send));
    REQUIRE(at != c.net.events.end());
    const std::string sync = std::string("sync ") + send[5];
    CHECK(std::find(c.net.events.begin(), at, sync) != at);
  }
  CHECK(c.net.violations.empty());

  // A node whose log cannot sync sends no vote at all and says why.
  cluster broken{3, test_options(false, false)};
  broken.start();
  broken.disk_of(1).fail_sync = true;
  broken.tick(1, 30);
  CHECK(count_queued(broken.net, message_type::request_vote) == 0);
  CHECK(broken[1].status().error().code == errc::io_error);
  CHECK(broken[1].propose(as_bytes("x")).error().code == errc::io_error);
}

TEST_CASE("bad input: unknown senders, misrouted, malformed and impossible messages are dropped and counted") {
  cluster c{3};
  c.start();
  c.elect(1);
  c.drop_all();
  const auto term = c[2].term().value();
  c[2].receive(msg(message_type::heartbeat_response, 9, 2, term));  // an answer from a non-member
  c[2].receive(msg(message_type::heartbeat, 2, 2, term + 3));  // from itself
  c[2].receive(msg(message_type::heartbeat, 1, 3, term + 3));  // not for it
  c[2].receive(byte_view{});                                  // no message
  const std::byte junk[] = {std::byte{1}, std::byte{5}, std::byte{0xff}};
  c[2].receive(byte_view{junk});
  entry_view e{term_id{term}, entry_kind::normal, as_bytes("x")};
  message hb = msg(message_type::heartbeat, 1, 2, term);
  hb.entries = std::span<const entry_view>{&e, 1};  // entries only ride on appends
  c[2].receive(hb);
  message backwards = msg(message_type::append_entries, 1, 2, term);
  backwards.log_term = term_id{term + 1};  // an entry older than its predecessor
  backwards.entries = std::span<const entry_view>{&e, 1};
  c[2].receive(backwards);
  c[1].receive(msg(message_type::append_entries, 3, 1, term));  // a second leader in the term
  const auto& s = c[2].stats();
  CHECK(s.dropped_unknown_sender == 2);
  CHECK(s.dropped_misrouted == 1);
  CHECK(s.dropped_malformed == 4);
  CHECK(c[1].stats().dropped_invalid == 1);
  CHECK(c[2].term() == term_id{term});
  CHECK(c[2].last_index() == log_index{1});
  CHECK(c[1].role() == raft::role::leader);
  CHECK(c.net.queue.empty());
}

TEST_CASE("configuration: invalid members or options leave the node inert with invalid_config") {
  network net;
  disk d;
  net.disks[1] = &d;
  auto make = [&](std::vector<node_id> members, options o) {
    return test_node{node_id{1}, members, test_transport{&net}, test_log{&d, &net, node_id{1}}, manual_clock{},
                     recorder{}, o};
  };
  options bad = test_options();
  bad.heartbeat_ticks = 50;
  CHECK(make({node_id{1}, node_id{2}}, bad).status().error().code == errc::invalid_config);
  CHECK(make({node_id{2}, node_id{3}}, test_options()).status().error().code == errc::invalid_config);
  CHECK(make({node_id{1}, node_id{1}}, test_options()).status().error().code == errc::invalid_config);
  // No members: a node joining a group, which waits to hear from a leader and never campaigns.
  auto joining = make({}, test_options());
  CHECK(joining.status().has_value());
  for (int k = 0; k < 50; ++k) joining.tick();
  CHECK(joining.role() == raft::role::follower);
  CHECK(joining.term() == term_id{0});
  CHECK(net.queue.empty());
  auto inert = make({node_id{0}, node_id{1}}, test_options());
  CHECK(inert.status().error().code == errc::invalid_config);
  for (int k = 0; k < 50; ++k) inert.tick();
  CHECK(net.queue.empty());
  CHECK(inert.propose(as_bytes("x")).error().code == errc::invalid_config);
  // A single-member group elects itself.
  auto solo = make({node_id{1}}, test_options());
  for (int k = 0; k < 30; ++k) solo.tick();
  CHECK(solo.role() == raft::role::leader);
  auto p = solo.propose(as_bytes("only"));
  REQUIRE(p.has_value());
  CHECK(solo.commit_index() == p->index);
  CHECK(solo.state_machine().applied.back().second == "only");
}
