// The optional prefetch hint (state_machine.hpp): a node that applies a run
// of committed commands hints each one apply_ahead_distance applies before
// its own, in order (a run of one: just before). A state machine without
// prefetch() is applied exactly as before (every other Raft test uses one).
#include <doctest/doctest.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "quorum/raft.hpp"
#include "quorum/storage/memory_log.hpp"
#include "support/prefetch_events.hpp"

namespace {

using namespace quorum;
using namespace quorum::raft;

struct queue {
  struct parcel {
    node_id to;
    byte_buffer bytes;
  };
  std::deque<parcel> parcels;
};

struct queue_transport {
  queue* q;
  void send(node_id to, const message& m) {
    q->parcels.push_back({to, {}});
    encode(m, q->parcels.back().bytes);
  }
};

struct still_clock {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<still_clock, duration>;
  time_point now() const noexcept { return time_point{}; }
};

using quorum::test::hinted_fsm;
static_assert(PrefetchingStateMachine<hinted_fsm>);

struct plain_fsm {
  void apply(log_index, byte_view) {}
};
static_assert(StateMachine<plain_fsm> && !PrefetchingStateMachine<plain_fsm>);

struct hinted_policies {
  using transport = queue_transport;
  using log = storage::memory_log;
  using clock = still_clock;
  using state_machine = hinted_fsm;
};
using hinted_node = node<hinted_policies>;

struct group {
  queue net;
  std::vector<node_id> ids{node_id{1}, node_id{2}, node_id{3}};
  std::vector<std::unique_ptr<hinted_node>> nodes;

  group() {
    for (auto id : ids)
      nodes.push_back(std::make_unique<hinted_node>(id, ids, queue_transport{&net}, storage::memory_log{},
                                                    still_clock{}, hinted_fsm{}, options{}));
    for (int k = 0; k < 100 && nodes[0]->role() != role::leader; ++k) {
      nodes[0]->tick();
      deliver();
    }
    REQUIRE(nodes[0]->role() == role::leader);
    deliver();  // the leader's no-op is applied everywhere
    for (auto& n : nodes) n->state_machine().events.clear();
  }

  void deliver() {
    while (!net.parcels.empty()) {
      queue::parcel p = std::move(net.parcels.front());
      net.parcels.pop_front();
      nodes[p.to.value() - 1]->receive(byte_view{p.bytes});
    }
  }
};

using quorum::test::expected_run;

}  // namespace

TEST_CASE("prefetch: a batch committed together is hinted ahead, in order, on the leader and on each follower") {
  for (std::size_t n : {std::size_t{1}, std::size_t{3}, quorum::detail::apply_ahead_distance, std::size_t{10}}) {
    CAPTURE(n);
    group g;
    {
      auto guard = g.nodes[0]->batch();
      for (std::size_t k = 0; k < n; ++k) REQUIRE(g.nodes[0]->propose(as_bytes("c" + std::to_string(k))));
    }
    g.deliver();
    for (auto& node : g.nodes) {
      CAPTURE(node->id());
      CHECK(node->applied_index() == g.nodes[0]->last_index());
      CHECK(node->state_machine().events == expected_run(n));
    }
  }
}

TEST_CASE("prefetch: commands committed one at a time are applied as ever, each after its own hint") {
  group g;
  for (int k = 0; k < 3; ++k) {
    REQUIRE(g.nodes[0]->propose(as_bytes("c" + std::to_string(k))));
    g.deliver();
  }
  for (auto& node : g.nodes) {
    CAPTURE(node->id());
    CHECK(node->state_machine().events == std::vector<std::string>{"h:c0", "a:c0", "h:c1", "a:c1", "h:c2", "a:c2"});
  }
}
