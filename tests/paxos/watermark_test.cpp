// The leader's announcement of a new chosen watermark (a heartbeat marked
// no_answer) is not answered: a command costs 6 messages one at a time in a
// group of three (accept and accepted per acceptor, then the announcement),
// not 8. Everything that needs answers still gets them: a lost accepted is
// recovered by the periodic round, a lagging acceptor catches up by asking,
// an acceptor that promised a higher ballot still rejects, CheckQuorum
// still hears from the quorum.
#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <string>

#include "cluster.hpp"

using namespace paxos_test;

namespace {

// Messages delivered, by type.
struct tally {
  std::array<std::size_t, max_message_type + 1> by_type{};
  std::size_t total = 0;
  std::size_t operator[](message_type t) const { return by_type[static_cast<std::size_t>(t)]; }
};

tally deliver_counting(cluster& c) {
  tally t;
  c.deliver([&](const envelope& e) {
    ++t.by_type[static_cast<std::size_t>(e.type)];
    ++t.total;
    return true;
  });
  return t;
}

bool applied_everywhere(cluster& c, log_index s) {
  for (std::uint64_t id = 1; id <= c.size(); ++id)
    if (c[id].applied_index() < s) return false;
  return true;
}

}  // namespace

TEST_CASE("paxos watermark: a command one at a time costs 6 messages, the announcement is not answered") {
  cluster c{3};
  c.start();
  c.elect(1);
  REQUIRE(c[1].role() == role::leader);
  for (int k = 0; k < 20; ++k) {
    CAPTURE(k);
    auto p = c[1].propose(as_bytes("v" + std::to_string(k)));
    REQUIRE(p.has_value());
    const tally t = deliver_counting(c);
    CHECK(applied_everywhere(c, p->index));
    CHECK(t.total == 6);
    CHECK(t[message_type::accept] == 2);
    CHECK(t[message_type::accepted] == 2);
    CHECK(t[message_type::heartbeat] == 2);
    CHECK(t[message_type::heartbeat_response] == 0);
  }
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos watermark: a batch of 64 costs 6 messages too") {
  options o = test_options();
  o.max_entries_per_message = 64;
  cluster c{3, o};
  c.start();
  c.elect(1);
  for (int round = 0; round < 3; ++round) {
    log_index last{};
    {
      auto guard = c[1].batch();
      for (int k = 0; k < 64; ++k) {
        auto p = c[1].propose(as_bytes("b" + std::to_string(k)));
        REQUIRE(p.has_value());
        last = p->index;
      }
    }
    const tally t = deliver_counting(c);
    CHECK(applied_everywhere(c, last));
    CHECK(t.total == 6);
    CHECK(t[message_type::heartbeat_response] == 0);
  }
}

TEST_CASE("paxos watermark: the periodic round is answered, and lost accepted answers are recovered by it") {
  cluster c{3};
  c.start();
  c.elect(1);
  auto p = c[1].propose(as_bytes("lost"));
  REQUIRE(p.has_value());
  // Both acceptors accept, but their answers are lost: nothing is chosen.
  c.deliver([](const envelope& e) { return e.type != message_type::accepted; });
  CHECK(c[1].commit_index() < p->index);
  CHECK(c[2].applied_index() < p->index);
  // The periodic round: heartbeats are answered, and the slots a peer has
  // not acknowledged are accepted again (retransmit_ticks = 2).
  tally t;
  for (int k = 0; k < 2 && !applied_everywhere(c, p->index); ++k) {
    c.tick_all();
    const tally got = deliver_counting(c);
    for (std::size_t i = 0; i < t.by_type.size(); ++i) t.by_type[i] += got.by_type[i];
  }
  CHECK(applied_everywhere(c, p->index));
  CHECK(t[message_type::heartbeat_response] >= 2);
  CHECK(t[message_type::accepted] >= 1);
  CHECK(c.applied_values(2) == std::vector<std::string>{"lost"});
}

TEST_CASE("paxos watermark: an acceptor that missed the accepts catches up from the announcement alone") {
  cluster c{3};
  c.start();
  c.elect(1);
  c.isolate(3);
  for (int k = 0; k < 5; ++k) REQUIRE(c[1].propose(as_bytes("x" + std::to_string(k))));
  c.deliver();
  REQUIRE(c[1].commit_index() == log_index{5});
  CHECK(c[3].applied_index() == log_index{});
  c.heal();
  // The accept of slot 6 is lost on its way to node 3: it hears only the
  // announcement of watermark 6, and asks for what it lacks, without a tick.
  auto p = c[1].propose(as_bytes("x5"));
  REQUIRE(p.has_value());
  std::size_t answers_by_3 = 0;
  c.deliver([&](const envelope& e) {
    if (e.from == node_id{3} && e.type == message_type::heartbeat_response) ++answers_by_3;
    return !(e.type == message_type::accept && e.to == node_id{3});
  });
  CHECK(answers_by_3 == 0);
  CHECK(c[3].applied_index() == log_index{6});
  CHECK(c.applied_values(3) == c.applied_values(1));
}

TEST_CASE("paxos watermark: an acceptor answers a no_answer heartbeat only to reject it") {
  cluster c{3};
  c.start();
  c.elect(1);
  const ballot b = c[1].current_ballot();
  REQUIRE(c[2].promised() == b);

  // At its promise: accepted in silence, the watermark learned.
  REQUIRE(c[1].propose(as_bytes("a")));
  c.deliver([](const envelope& e) { return e.type != message_type::heartbeat; });  // no announcement reaches anyone
  REQUIRE(c[1].commit_index() == log_index{1});
  CHECK(c[2].commit_index() == log_index{});
  message hb = msg(message_type::heartbeat, 1, 2, b);
  hb.commit = log_index{1};
  hb.no_answer = true;
  c.net.queue.clear();
  c[2].receive(hb);
  CHECK(c.net.queue.empty());
  CHECK(c[2].commit_index() == log_index{1});
  CHECK(c[2].applied_index() == log_index{1});

  // Without the mark the same heartbeat is answered.
  hb.no_answer = false;
  c[2].receive(hb);
  REQUIRE(c.net.queue.size() == 1);
  CHECK(c.net.queue.front().type == message_type::heartbeat_response);
  c.net.queue.clear();

  // Below its promise: rejected, mark or not, so a deposed leader learns it.
  message prepare = msg(message_type::prepare, 3, 2, bal(b.round + 5, 3));
  prepare.slot = log_index{2};
  c[2].receive(prepare);
  REQUIRE(c[2].promised() == bal(b.round + 5, 3));
  c.net.queue.clear();
  hb.no_answer = true;
  c[2].receive(hb);
  REQUIRE(c.net.queue.size() == 1);
  const envelope& e = c.net.queue.front();
  CHECK(e.type == message_type::heartbeat_response);
  std::vector<entry> scratch;
  auto r = decode(byte_view{e.bytes}, scratch);
  REQUIRE(r.has_value());
  CHECK(r->reject);
  CHECK(r->bal == bal(b.round + 5, 3));
}

TEST_CASE("paxos watermark: a deposed leader learns it from the reject of its announcement") {
  cluster c{3};
  c.start();
  c.elect(1);
  const ballot b = c[1].current_ballot();
  REQUIRE(c[1].propose(as_bytes("a")));
  c.deliver();
  // Node 2 promises a higher ballot (node 3's phase 1, which node 3 forgets).
  message prepare = msg(message_type::prepare, 3, 2, bal(b.round + 1, 3));
  prepare.slot = log_index{2};
  c[2].receive(prepare);
  REQUIRE(c[2].promised() == bal(b.round + 1, 3));
  c.net.queue.clear();
  // Node 1's next accept reaches node 3 only: chosen with it, the watermark
  // is announced, and node 2 rejects the announcement.
  auto p = c[1].propose(as_bytes("b"));
  REQUIRE(p.has_value());
  std::size_t rejects = 0;
  c.deliver([&](const envelope& e) {
    if (e.type == message_type::accept && e.to == node_id{2}) return false;
    if (e.type == message_type::heartbeat_response && e.from == node_id{2}) ++rejects;
    return true;
  });
  CHECK(c[1].commit_index() == p->index);
  CHECK(rejects == 1);
  CHECK(c[1].role() == role::follower);
  CHECK(c.net.violations.empty());
}

TEST_CASE("paxos watermark: a leader committing on every tick keeps its quorum and leads on") {
  cluster c{3};
  c.start();
  c.elect(1);
  for (int k = 0; k < 100; ++k) {
    REQUIRE(c[1].propose(as_bytes("t" + std::to_string(k))));
    c.tick_all();
    c.deliver();
    REQUIRE(c[1].role() == role::leader);
  }
  CHECK(c[1].stats().times_leader == 1);
  CHECK(applied_everywhere(c, log_index{100}));
}
