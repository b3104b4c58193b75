// Linearizable reads at the leader (node::read): a read is served only after
// a heartbeat round answered by a phase-2 quorum and once every slot opened
// before it is applied; a deposed or cut-off leader never serves one; with
// leases a fresh round vouches for later reads and followers honour it.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "cluster.hpp"

using namespace paxos_test;

namespace {

struct reading_recorder : recorder {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ready;  // (id, slot)
  std::vector<std::pair<std::uint64_t, errc>> failed;
  void read_ready(std::uint64_t id, log_index i) {
    REQUIRE((applied.empty() || applied.back().first <= i.value()));
    ready.emplace_back(id, i.value());
  }
  void read_failed(std::uint64_t id, const error& e) { failed.emplace_back(id, e.code); }
};

struct reading_policies {
  using transport = test_transport;
  using log = test_log;
  using clock = manual_clock;
  using state_machine = reading_recorder;
};

using reading_node = quorum::paxos::node<reading_policies>;
static_assert(ReadingStateMachine<reading_recorder>);

class group : public fabric {
 public:
  explicit group(std::size_t n, options o = test_options()) : fabric{n} {
    for (std::size_t i = 0; i < n; ++i)
      nodes_.push_back(std::make_unique<reading_node>(ids_[i], ids_, test_transport{&net}, test_log{disks_[i].get()},
                                                      manual_clock{}, reading_recorder{}, o));
  }
  reading_node& operator[](std::uint64_t id) { return *nodes_.at(id - 1); }
  void deliver() {
    while (!net.queue.empty()) {
      envelope e = std::move(net.queue.front());
      net.queue.pop_front();
      if (net.cut.count({e.from.value(), e.to.value()}) == 0) (*this)[e.to.value()].receive(byte_view{e.bytes});
    }
  }
  void elect(std::uint64_t id) {
    for (int k = 0; k < 1000 && (*this)[id].role() == role::follower; ++k) (*this)[id].tick();
    deliver();
    REQUIRE((*this)[id].role() == role::leader);
  }
  void tick_all() {
    for (auto& n : nodes_) n->tick();
  }

 private:
  std::vector<std::unique_ptr<reading_node>> nodes_;
};

}  // namespace

TEST_CASE("paxos reads: a read waits for a quorum round and for the slots opened before it") {
  group g{3};
  g.elect(1);
  REQUIRE(g[1].propose(as_bytes("a")));
  REQUIRE(g[1].read(7));
  CHECK(g[1].state_machine().ready.empty());  // no round answered yet
  g.deliver();
  REQUIRE(g[1].state_machine().ready.size() == 1);
  CHECK(g[1].state_machine().ready[0] == std::pair<std::uint64_t, std::uint64_t>{7, 1});
  CHECK(g[1].applied_index() == log_index{1});
  CHECK(g[1].stats().reads_served == 1);
  auto r = g[2].read(8);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::not_leader);
  CHECK(r.error().detail == 1);
  CHECK(g.net.violations.empty());
}

TEST_CASE("paxos reads: the reads of one batch share one heartbeat round, sent at its end") {
  group g{3};
  g.elect(1);
  g.deliver();
  g.net.queue.clear();
  {
    auto b = g[1].batch();
    for (std::uint64_t id = 1; id <= 5; ++id) REQUIRE(g[1].read(id));
    CHECK(g.net.queue.empty());  // nothing leaves before the batch ends
  }
  CHECK(g.net.queue.size() == 2);  // one heartbeat to each peer for all five reads
  CHECK(g[1].state_machine().ready.empty());
  g.deliver();
  REQUIRE(g[1].state_machine().ready.size() == 5);
  for (std::uint64_t id = 1; id <= 5; ++id) CHECK(g[1].state_machine().ready[id - 1].first == id);
  // Outside a batch each read still gets its round at once.
  REQUIRE(g[1].read(6));
  CHECK(g.net.queue.size() == 2);
  g.deliver();
  CHECK(g[1].state_machine().ready.size() == 6);
}

TEST_CASE("paxos reads: a leader cut off from the quorum never serves, and fails its reads on stepping down") {
  group g{3};
  g.elect(1);
  g.isolate(1);
  REQUIRE(g[1].read(1));
  for (int t = 0; t < 30 && g[1].role() == role::leader; ++t) {
    g[1].tick();
    g.deliver();
    CHECK(g[1].state_machine().ready.empty());
  }
  CHECK(g[1].role() == role::follower);  // check_quorum
  REQUIRE(g[1].state_machine().failed.size() == 1);
  CHECK(g[1].state_machine().failed[0].second == errc::not_leader);
}

TEST_CASE("paxos reads: a deposed leader's read is not served from its stale state") {
  options o = test_options();
  o.check_quorum = false;  // the old leader keeps believing it leads
  group g{3, o};
  g.elect(1);
  g.isolate(1);
  g.elect(2);
  REQUIRE(g[2].propose(as_bytes("newer")));
  g.deliver();
  REQUIRE(g[1].role() == role::leader);
  REQUIRE(g[1].read(5));
  g.heal();
  g.deliver();  // its round is answered with rejects: it steps down
  CHECK(g[1].state_machine().ready.empty());
  CHECK(g[1].role() == role::follower);
  REQUIRE(g[1].state_machine().failed.size() == 1);
}

TEST_CASE("paxos reads: with a lease a fresh round vouches for reads without messages, until it lapses") {
  options o = test_options();
  o.lease_reads = true;
  o.election_ticks = 10;
  o.clock_drift_ticks = 2;
  group g{3, o};
  g.elect(1);
  REQUIRE(g[1].read(1));  // the leader's first round is still unanswered: a round of its own
  g.deliver();
  REQUIRE(g[1].state_machine().ready.size() == 1);
  g.net.queue.clear();
  REQUIRE(g[1].read(2));
  CHECK(g.net.queue.empty());  // no round needed
  CHECK(g[1].state_machine().ready.size() == 2);
  CHECK(g[1].stats().reads_by_lease >= 1);
  // Cut off, the leader's lease lapses after election_ticks - clock_drift_ticks.
  g.isolate(1);
  for (int t = 0; t < 8; ++t) g[1].tick();
  g.net.queue.clear();
  REQUIRE(g[1].read(3));
  CHECK_FALSE(g.net.queue.empty());
  CHECK(g[1].state_machine().ready.size() == 2);
}

TEST_CASE("paxos reads: a follower in its leader's lease ignores other proposers' prepares") {
  options o = test_options();
  o.lease_reads = true;
  group g{3, o};
  g.elect(1);
  message m = msg(message_type::prepare, 3, 2, bal(9, 3));
  m.slot = log_index{1};
  g[2].receive(m);
  CHECK(g[2].stats().dropped_in_lease == 1);
  CHECK(g[2].promised() == g[1].current_ballot());
  g.isolate(1);
  for (std::uint32_t t = 0; t < o.election_ticks; ++t) g[2].tick();
  g.net.queue.clear();
  m.bal = bal(50, 3);  // above whatever node 2 may have tried on its own meanwhile
  g[2].receive(m);
  CHECK(g[2].promised() == bal(50, 3));
}

TEST_CASE("paxos reads: pending reads are bounded, and lease options are validated") {
  options o = test_options();
  o.max_pending_reads = 2;
  group g{3, o};
  g.elect(1);
  g.isolate(1);
  REQUIRE(g[1].read(1));
  REQUIRE(g[1].read(2));
  auto r = g[1].read(3);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::busy);
  options bad = test_options();
  bad.lease_reads = true;
  bad.clock_drift_ticks = bad.election_ticks;
  CHECK(validate(bad).error().code == errc::invalid_config);
  bad.clock_drift_ticks = 1;
  bad.check_quorum = false;
  CHECK(validate(bad).error().code == errc::invalid_config);
}

TEST_CASE("paxos reads: a read still gets an answered round, the announcement of a watermark alone is not answered") {
  group g{3};
  g.elect(1);
  std::size_t heartbeats = 0;
  std::size_t answers = 0;
  const auto deliver_counting = [&] {
    while (!g.net.queue.empty()) {
      envelope e = std::move(g.net.queue.front());
      g.net.queue.pop_front();
      heartbeats += e.type == message_type::heartbeat;
      answers += e.type == message_type::heartbeat_response;
      g[e.to.value()].receive(byte_view{e.bytes});
    }
  };
  REQUIRE(g[1].propose(as_bytes("a")));
  deliver_counting();
  CHECK(heartbeats == 2);  // the announcement of slot 1
  CHECK(answers == 0);

  // A read gets its round, answered by both; the announcement is not.
  heartbeats = answers = 0;
  {
    auto guard = g[1].batch();
    REQUIRE(g[1].propose(as_bytes("b")));
    REQUIRE(g[1].read(9));
  }
  deliver_counting();
  CHECK(heartbeats == 4);  // the read's round, then the announcement of slot 2
  CHECK(answers == 2);
  REQUIRE(g[1].state_machine().ready.size() == 1);
  CHECK(g[1].state_machine().ready[0] == std::pair<std::uint64_t, std::uint64_t>{9, 2});

  // The watermark moves in the flush that sends a read's round: one round,
  // answered, carries both.
  heartbeats = answers = 0;
  REQUIRE(g[1].propose(as_bytes("c")));
  std::vector<envelope> held;  // the acceptors' answers, delivered inside the batch
  while (!g.net.queue.empty()) {
    envelope e = std::move(g.net.queue.front());
    g.net.queue.pop_front();
    if (e.type == message_type::accepted) held.push_back(std::move(e));
    else g[e.to.value()].receive(byte_view{e.bytes});
  }
  REQUIRE(held.size() == 2);
  REQUIRE(g[1].commit_index() == log_index{2});
  {
    auto guard = g[1].batch();
    REQUIRE(g[1].read(10));
    for (const envelope& e : held) g[1].receive(byte_view{e.bytes});
  }
  CHECK(g[1].commit_index() == log_index{3});
  deliver_counting();
  CHECK(heartbeats == 2);
  CHECK(answers == 2);
  CHECK(g[2].commit_index() == log_index{3});
  CHECK(g[3].commit_index() == log_index{3});
  REQUIRE(g[1].state_machine().ready.size() == 2);
  CHECK(g[1].state_machine().ready[1] == std::pair<std::uint64_t, std::uint64_t>{10, 3});
}
