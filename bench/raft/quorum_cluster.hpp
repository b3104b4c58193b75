// The quorum side of the Raft benchmark (raft_bench.cpp, raft_callgrind.cpp):
// three quorum::raft nodes over memory_log, a transport queueing message
// copies in reused slots, a frozen clock and a state machine that counts.
// Each node snapshots and compacts its log as canonical raft's fixture does
// (every 1,024 applied entries, keeping 128), so that a run measures a steady
// state, not a log that grows by gigabytes and the page faults that feed it.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "quorum/raft.hpp"
#include "quorum/storage/memory_log.hpp"
#include "quorum/storage/memory_snapshot_store.hpp"
#include "message_queue.hpp"

namespace quorum_bench {

using quorum::byte_buffer;
using quorum::byte_view;
using quorum::log_index;
using quorum::node_id;

using message_queue = basic_message_queue<quorum::raft::message>;

struct queue_transport {
  message_queue* q;
  void send(node_id, const quorum::raft::message& m) { q->push(m); }
};

struct frozen_clock {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<frozen_clock, duration>;
  [[nodiscard]] time_point now() const noexcept { return time_point{}; }
};

struct counting_state_machine {
  std::uint64_t applied = 0;
  std::uint64_t bytes = 0;
  void apply(log_index, byte_view command) noexcept {
    ++applied;
    bytes += command.size();
  }
  // The image: both counters, 8 bytes each, little-endian.
  void snapshot(byte_buffer& out) const {
    for (const std::uint64_t v : {applied, bytes})
      for (int b = 0; b < 8; ++b) out.push_back(static_cast<std::byte>(v >> (8 * b)));
  }
  void restore(log_index, byte_view image) noexcept {
    std::uint64_t v[2] = {0, 0};
    for (std::size_t k = 0; k < 16 && k < image.size(); ++k)
      v[k / 8] |= std::uint64_t{std::to_integer<std::uint8_t>(image[k])} << (8 * (k % 8));
    applied = v[0];
    bytes = v[1];
  }
};

// When each node snapshots, and what it keeps: canonical raft's documented
// defaults (raft.h), which its side of the benchmark runs with.
inline constexpr std::uint64_t snapshot_threshold = 1024;
inline constexpr std::uint64_t snapshot_trailing = 128;

// Called once all of `nodes` applied `last` (the end of every commit step):
// one comparison says whether their snapshots are due; `next` is the mark.
template <class Nodes>
[[nodiscard]] bool snapshot_when_due(Nodes& nodes, log_index last, std::uint64_t& next) {
  if (last.value() < next) [[likely]] return true;
  next = last.value() + snapshot_threshold;
  for (auto* n : nodes)
    if (!n->take_snapshot()) return false;
  return true;
}

struct bench_policies {
  using transport = queue_transport;
  using log = quorum::storage::memory_log;
  using clock = frozen_clock;
  using state_machine = counting_state_machine;
  using snapshot_store = quorum::storage::memory_snapshot_store;
};

using bench_node = quorum::raft::node<bench_policies>;

inline constexpr std::size_t command_bytes = 64;
inline constexpr std::size_t cluster_size = 3;

// A bound on the messages one commit may take, so that a node that stops
// making progress ends the benchmark with an error instead of spinning.
inline constexpr std::uint64_t max_messages_per_commit = 100000;

class quorum_cluster {
 public:
  explicit quorum_cluster(wire_mode mode = wire_mode::copy) : queue_{mode} {
    quorum::raft::options o;
    o.max_entries_per_append = 64;
    o.snapshot_trailing_entries = snapshot_trailing;
    for (std::size_t i = 1; i <= cluster_size; ++i) ids_.push_back(node_id{i});
    for (auto id : ids_)
      nodes_.push_back(std::make_unique<bench_node>(id, ids_, queue_transport{&queue_}, quorum::storage::memory_log{},
                                                    frozen_clock{}, counting_state_machine{}, o));
    for (std::size_t i = 0; i < cluster_size; ++i) by_id_[i] = nodes_[i].get();
  }

  // Ticks node 1 until it leads; empty on success, else what went wrong.
  [[nodiscard]] std::string elect() {
    for (auto& n : nodes_)
      if (!n->status()) return "node refused its configuration: " + n->status().error().message();
    for (int k = 0; k < 1000 && leader().role() != quorum::raft::role::leader; ++k) {
      leader().tick();
      if (!drain()) return "election did not settle";
    }
    return leader().role() == quorum::raft::role::leader ? std::string{} : "node 1 was not elected";
  }

  // Proposes one command and delivers until every node applied it.
  [[nodiscard]] bool commit_one() {
    auto p = leader().propose(byte_view{command_});
    return p && deliver_until_applied(p->index) && compact_when_due(p->index);
  }

  // Proposes `n` commands inside one batch() guard, then delivers until every
  // node applied the last.
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

  // Proposes `n` commands in one propose_all() call (as canonical raft's one
  // raft_apply of n buffers), then delivers until every node applied the last.
  [[gnu::noinline]] [[nodiscard]] bool commit_batch_one_request(std::size_t n) {
    if (group_.size() != n) group_.assign(n, byte_view{command_});
    auto p = leader().propose_all(group_);
    return p && deliver_until_applied(p->index + (n - 1)) && compact_when_due(p->index + (n - 1));
  }

  // Delivers in rounds (a round hands over every message queued when it
  // began), so that a round is one message delay. Proposes one command and
  // says after how many rounds the leader committed it and all applied it.
  struct latency {
    int leader_commit = -1;
    int all_applied = -1;
  };
  [[nodiscard]] latency measure_rounds() {
    latency l;
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

  // Delivers until nothing is in flight; false if that takes unreasonably long.
  [[nodiscard]] bool drain() {
    for (std::uint64_t k = 0; !queue_.empty(); ++k) {
      if (k == max_messages_per_commit) return false;
      deliver_one();
    }
    return true;
  }

  [[nodiscard]] bench_node& leader() noexcept { return *nodes_[0]; }
  [[nodiscard]] bench_node& node(std::size_t i) noexcept { return *nodes_[i]; }
  [[nodiscard]] std::uint64_t messages_sent() const noexcept { return queue_.sent(); }
  [[nodiscard]] std::uint64_t syncs() const noexcept {
    std::uint64_t total = 0;
    for (const auto& n : nodes_) total += n->stats().syncs;
    return total;
  }
  // Commands applied by the follower that is last in line: entries committed
  // on all three nodes.
  [[nodiscard]] std::uint64_t applied_everywhere_count() noexcept {
    std::uint64_t least = nodes_[0]->state_machine().applied;
    for (auto& n : nodes_) least = std::min(least, n->state_machine().applied);
    return least;
  }

 private:
  [[nodiscard]] bool compact_when_due(log_index last) { return snapshot_when_due(by_id_, last, next_snapshot_); }

  // Asked after every delivery: the last follower, which applies last, first.
  [[nodiscard]] bool applied_everywhere(log_index i) const noexcept {
    for (std::size_t k = cluster_size; k > 0; --k)
      if (by_id_[k - 1]->applied_index() < i) return false;
    return true;
  }

  // Stops as soon as all three applied it: messages still in flight (the
  // acknowledgements of the append that carried the commit index) go out
  // with the next entry, as they would under a steady load.
  [[nodiscard]] bool deliver_until_applied(log_index i) {
    for (std::uint64_t k = 0; !applied_everywhere(i); ++k) {
      if (queue_.empty() || k == max_messages_per_commit) return false;
      deliver_one();
    }
    return true;
  }

  void deliver_one() {
    const message_queue::slot& s = queue_.front();
    bench_node& to = *by_id_[s.m.to.value() - 1];
    if (queue_.mode() == wire_mode::wire) to.receive(byte_view{s.data});
    else to.receive(s.m);
    queue_.pop();
  }

  message_queue queue_;
  std::vector<node_id> ids_;
  std::vector<std::unique_ptr<bench_node>> nodes_;
  std::array<bench_node*, cluster_size> by_id_{};  // node i + 1 at i: no vector or unique_ptr on the hot path
  std::array<std::byte, command_bytes> command_{};
  std::uint64_t next_snapshot_ = snapshot_threshold;  // snapshot_when_due's mark
  std::vector<byte_view> group_;  // commit_batch_one_request's commands, all command_
};

}  // namespace quorum_bench
