// The Paxos Commit side of quorum_2pc_bench: N resource managers (nodes
// 1..N), the first 2F+1 of them also acceptors, node 1 the leader that begins
// every transaction; memory_log, frozen clock and fixed-vote RMs as on the
// classic side, and the same two wire modes: copy hands the message struct
// (with copies of its lists) to receive(const pc_message&), wire encodes it
// and the receiver decodes it.
// Every node ticks once per tick_every transactions begun: a tick is when a
// node makes its resolutions durable and says so (one resolved message per
// destination, one forget per acceptor, naming every txn finished since), so
// finished transactions are forgotten and the run reaches a steady state, as
// classic's acks do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "classic_cluster.hpp"
#include "quorum/two_phase_commit/paxos_commit.hpp"

namespace tpc_bench {

// A FIFO of Paxos Commit messages in slots whose buffers are reused, as
// classic_cluster's message_queue.
class pc_queue {
 public:
  struct slot {
    tpc::pc_message m;
    std::vector<node_id> participants;
    std::vector<tpc::pc_entry> entries;
    std::vector<tpc::pc_txn_ref> batch;
    byte_buffer bytes;
  };

  explicit pc_queue(wire_mode mode) : mode_{mode}, slots_(initial_slots) {}

  void push(const tpc::pc_message& m) {
    if (count_ == slots_.size()) grow();
    slot& s = slots_[(head_ + count_++) & (slots_.size() - 1)];
    ++sent_;
    s.m = m;
    if (mode_ == wire_mode::wire) {
      s.bytes.clear();
      encode(m, s.bytes);
      return;
    }
    // The sender's spans are only valid during send(): keep copies (most
    // messages carry one or two of the three lists).
    keep(m.participants, s.participants, s.m.participants);
    keep(m.entries, s.entries, s.m.entries);
    keep(m.batch, s.batch, s.m.batch);
  }
  void pop(slot& out) {
    std::swap(out, slots_[head_]);
    head_ = (head_ + 1) & (slots_.size() - 1);
    --count_;
  }
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  [[nodiscard]] std::uint64_t sent() const noexcept { return sent_; }
  [[nodiscard]] wire_mode mode() const noexcept { return mode_; }

 private:
  static constexpr std::size_t initial_slots = 64;  // a power of two, and so every size after it
  template <class T>
  static void keep(std::span<const T> from, std::vector<T>& copy, std::span<const T>& view) {
    if (from.empty()) return;  // s.m = m left view empty
    copy.assign(from.begin(), from.end());
    view = copy;
  }
  void grow() {
    std::vector<slot> bigger(slots_.size() * 2);
    for (std::size_t k = 0; k < count_; ++k) bigger[k] = std::move(slots_[(head_ + k) & (slots_.size() - 1)]);
    slots_ = std::move(bigger);
    head_ = 0;
  }
  wire_mode mode_;
  std::vector<slot> slots_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::uint64_t sent_ = 0;
};

struct pc_queue_transport {
  pc_queue* q;
  void send(node_id, const tpc::pc_message& m) { q->push(m); }
};

struct paxos_commit_policies {
  using transport = pc_queue_transport;
  using log = quorum::storage::memory_log;
  using clock = frozen_clock;
  using resource_manager = fixed_vote_rm;
};

class paxos_commit_cluster {
 public:
  using node = tpc::paxos_commit_node<paxos_commit_policies>;

  static constexpr std::uint64_t tick_every = 64;

  paxos_commit_cluster(std::size_t n, std::size_t f, wire_mode mode) : queue_{mode} {
    tpc::paxos_commit_options o;
    o.f = f;
    for (std::size_t i = 1; i <= 2 * f + 1; ++i) o.acceptors.push_back(node_id{i});
    for (std::size_t i = 1; i <= n; ++i) ids_.push_back(node_id{i});
    for (const node_id id : ids_)
      nodes_.push_back(std::make_unique<node>(id, pc_queue_transport{&queue_}, quorum::storage::memory_log{},
                                              frozen_clock{}, fixed_vote_rm{}, o));
  }

  [[nodiscard]] std::string check() const {
    for (const auto& n : nodes_)
      if (!n->status()) return "paxos commit node: " + n->status().error().message();
    return {};
  }

  // As classic_cluster::begin_next: open = begun and not yet decided by the leader.
  [[nodiscard]] bool begin_next(std::size_t window) {
    for (std::uint64_t k = 0; open() >= window; ++k) {
      if (queue_.empty() || k == max_messages_per_drain) return false;
      deliver_one();
    }
    ++begun_;
    if (!leader().begin(tpc::txn_id{begun_}, ids_)) return false;
    if (begun_ % tick_every == 0)
      for (const auto& n : nodes_) n->tick();
    return true;
  }
  [[nodiscard]] bool drain() {
    for (std::uint64_t k = 0; !queue_.empty(); ++k) {
      if (k == max_messages_per_drain) return false;
      deliver_one();
    }
    return true;
  }

  [[nodiscard]] std::uint64_t open() const { return begun_ - decided(); }
  [[nodiscard]] std::uint64_t commits() const { return nodes_.front()->stats().commits; }
  [[nodiscard]] std::uint64_t decided() const { return commits() + nodes_.front()->stats().aborts; }
  [[nodiscard]] std::uint64_t messages() const noexcept { return queue_.sent(); }
  // Of messages(): those that only serve forgetting (resolved, forget, query).
  [[nodiscard]] std::uint64_t gc_messages() const {
    std::uint64_t k = 0;
    for (const auto& n : nodes_) k += n->stats().gc_messages;
    return k;
  }
  [[nodiscard]] std::uint64_t gc_syncs() const {
    std::uint64_t k = 0;
    for (const auto& n : nodes_) k += n->stats().gc_syncs;
    return k;
  }
  // Transactions some node still holds records of.
  [[nodiscard]] std::uint64_t held() const {
    std::uint64_t k = 0;
    for (const auto& n : nodes_) k += n->tracked_transactions();
    return k;
  }
  [[nodiscard]] std::uint64_t forced_writes() const {
    std::uint64_t k = 0;
    for (const auto& n : nodes_) k += n->stats().forced_writes;
    return k;
  }
  [[nodiscard]] std::uint64_t rm_commits() const {
    std::uint64_t k = 0;
    for (const auto& n : nodes_) k += n->resource_manager().commits;
    return k;
  }

 private:
  node& leader() { return *nodes_.front(); }
  void deliver_one() {
    queue_.pop(in_hand_);
    node& to = *nodes_[in_hand_.m.to.value() - 1];
    if (queue_.mode() == wire_mode::wire) to.receive(byte_view{in_hand_.bytes});
    else to.receive(in_hand_.m);
  }

  pc_queue queue_;
  pc_queue::slot in_hand_;
  std::vector<node_id> ids_;
  std::vector<std::unique_ptr<node>> nodes_;
  std::uint64_t begun_ = 0;
};

}  // namespace tpc_bench
