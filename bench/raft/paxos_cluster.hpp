// The Multi-Paxos side of the Raft benchmark (raft_bench.cpp,
// raft_callgrind.cpp): three quorum::paxos nodes on the Raft side's workload,
// over the same memory_log, frozen clock and counting state machine, with a
// queue that copies messages into reused slots as quorum_cluster's does, and
// the same snapshots and compaction (every 1,024 applied slots, keeping 128).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "quorum/paxos.hpp"
#include "quorum/storage/memory_log.hpp"
#include "quorum_cluster.hpp"

namespace quorum_bench {

using paxos_message_queue = basic_message_queue<quorum::paxos::message>;

struct paxos_queue_transport {
  paxos_message_queue* q;
  void send(node_id, const quorum::paxos::message& m) { q->push(m); }
};

struct paxos_bench_policies {
  using transport = paxos_queue_transport;
  using log = quorum::storage::memory_log;
  using clock = frozen_clock;
  using state_machine = counting_state_machine;
  using snapshot_store = quorum::storage::memory_snapshot_store;
};

using paxos_bench_node = quorum::paxos::node<paxos_bench_policies>;

// The same calls as quorum_cluster, so one benchmark body drives either.
class paxos_cluster {
 public:
  explicit paxos_cluster(wire_mode mode = wire_mode::copy) : queue_{mode} {
    quorum::paxos::options o;
    o.max_entries_per_message = 64;  // as Raft's max_entries_per_append
    o.snapshot_trailing_slots = snapshot_trailing;
    for (std::size_t i = 1; i <= cluster_size; ++i) ids_.push_back(node_id{i});
    for (auto id : ids_)
      nodes_.push_back(std::make_unique<paxos_bench_node>(id, ids_, paxos_queue_transport{&queue_},
                                                          quorum::storage::memory_log{}, frozen_clock{},
                                                          counting_state_machine{}, o));
    for (std::size_t i = 0; i < cluster_size; ++i) by_id_[i] = nodes_[i].get();
  }

  // Ticks node 1 until it leads (phase 1 done); empty on success, else what went wrong.
  [[nodiscard]] std::string elect() {
    for (auto& n : nodes_)
      if (!n->status()) return "node refused its configuration: " + n->status().error().message();
    for (int k = 0; k < 1000 && leader().role() != quorum::paxos::role::leader; ++k) {
      leader().tick();
      if (!drain()) return "phase 1 did not settle";
    }
    return leader().role() == quorum::paxos::role::leader ? std::string{} : "node 1 did not become leader";
  }

  [[nodiscard]] bool commit_one() {
    auto p = leader().propose(byte_view{command_});
    return p && deliver_until_applied(p->index) && compact_when_due(p->index);
  }

  [[nodiscard]] bool commit_batch(std::size_t n) {
    log_index last{};
    {
      auto guard = leader().batch();
      for (std::size_t k = 0; k < n; ++k) {
        auto p = leader().propose(byte_view{command_});
        if (!p) return false;
        last = p->index;
      }
    }
    return deliver_until_applied(last) && compact_when_due(last);
  }

  // As quorum_cluster's: `n` commands in one propose_all() call, then
  // deliveries until every node applied the last.
  [[gnu::noinline]] [[nodiscard]] bool commit_batch_one_request(std::size_t n) {
    if (group_.size() != n) group_.assign(n, byte_view{command_});
    auto p = leader().propose_all(group_);
    return p && deliver_until_applied(p->index + (n - 1)) && compact_when_due(p->index + (n - 1));
  }

  // As quorum_cluster::measure_rounds: rounds of delivery (one message delay
  // each) until the leader knows the command chosen and until all applied it.
  [[nodiscard]] quorum_cluster::latency measure_rounds() {
    quorum_cluster::latency l;
    if (!drain()) return l;
    auto p = leader().propose(byte_view{command_});
    if (!p) return l;
    for (int round = 0; round <= 64; ++round) {
      if (l.leader_commit < 0 && leader().commit_index() >= p->index) l.leader_commit = round;
      if (applied_everywhere(p->index)) {
        l.all_applied = round;
        return l;
      }
      for (std::size_t n = queue_.size(); n > 0; --n) deliver_one();
    }
    return l;
  }

  [[nodiscard]] bool drain() {
    for (std::uint64_t k = 0; !queue_.empty(); ++k) {
      if (k == max_messages_per_commit) return false;
      deliver_one();
    }
    return true;
  }

  [[nodiscard]] paxos_bench_node& leader() noexcept { return *nodes_[0]; }
  [[nodiscard]] paxos_bench_node& node(std::size_t i) noexcept { return *nodes_[i]; }
  [[nodiscard]] std::uint64_t messages_sent() const noexcept { return queue_.sent(); }
  [[nodiscard]] std::uint64_t syncs() const noexcept {
    std::uint64_t total = 0;
    for (const auto& n : nodes_) total += n->stats().syncs;
    return total;
  }
  [[nodiscard]] std::uint64_t applied_everywhere_count() noexcept {
    std::uint64_t least = nodes_[0]->state_machine().applied;
    for (auto& n : nodes_) least = std::min(least, n->state_machine().applied);
    return least;
  }

 private:
  [[nodiscard]] bool compact_when_due(log_index last) { return snapshot_when_due(by_id_, last, next_snapshot_); }

  // Asked after every delivery, as quorum_cluster does: the last follower,
  // which applies last, first.
  [[nodiscard]] bool applied_everywhere(log_index i) const noexcept {
    for (std::size_t k = cluster_size; k > 0; --k)
      if (by_id_[k - 1]->applied_index() < i) return false;
    return true;
  }

  // Stops once all three applied it; what is still in flight goes out with
  // the next command, as under a steady load.
  [[nodiscard]] bool deliver_until_applied(log_index i) {
    for (std::uint64_t k = 0; !applied_everywhere(i); ++k) {
      if (queue_.empty() || k == max_messages_per_commit) return false;
      deliver_one();
    }
    return true;
  }

  void deliver_one() {
    const paxos_message_queue::slot& s = queue_.front();
    paxos_bench_node& to = *by_id_[s.m.to.value() - 1];
    if (queue_.mode() == wire_mode::wire) to.receive(byte_view{s.data});
    else to.receive(s.m);
    queue_.pop();
  }

  paxos_message_queue queue_;
  std::vector<node_id> ids_;
  std::vector<std::unique_ptr<paxos_bench_node>> nodes_;
  std::array<paxos_bench_node*, cluster_size> by_id_{};  // node i + 1 at i, as quorum_cluster's
  std::array<std::byte, command_bytes> command_{};
  std::vector<byte_view> group_;  // commit_batch_one_request's commands, all command_
  std::uint64_t next_snapshot_ = snapshot_threshold;  // snapshot_when_due's mark
};

}  // namespace quorum_bench
