// Linearizable reads at the leader, without a slot each. A read waits for a
// round of heartbeats answered by a phase-2 quorum, which meets every phase-1
// quorum: no newer leader finished phase 1 before the round began. It is then
// served once every slot the leader had opened when it asked is applied.
// With a lease, a round answered within election_ticks - clock_drift_ticks
// (followers ignore prepares that long after hearing from their leader)
// vouches for later reads too, so they wait for no round of their own.
// Across a reconfiguration a round must be answered by a phase-2 quorum of
// every configuration the leader knows for its open and coming slots.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <utility>
#include <vector>

#include "quorum/core/ids.hpp"
#include "quorum/paxos/config_history.hpp"
#include "quorum/paxos/quorums.hpp"

namespace quorum::paxos {

class read_tracker {
 public:
  static constexpr std::size_t max_unconfirmed_rounds = 1024;

  struct pending {
    std::uint64_t id;
    log_index index;      // served once applied reaches it
    std::uint64_t round;  // and a quorum answered this heartbeat round (0: vouched by the lease)
  };

  void reset() {
    acked_.clear();
    sent_.clear();
    reads_.clear();
    confirmed_ = round_;
    has_confirmed_tick_ = false;
  }

  // A new heartbeat round, sent at `tick`; its number goes on the heartbeats.
  std::uint64_t start_round(std::uint64_t tick) {
    if (sent_.size() >= max_unconfirmed_rounds) sent_.pop_front();  // only forgets a lease start
    sent_.push_back(sent_round{++round_, tick});
    return round_;
  }
  [[nodiscard]] std::uint64_t round() const noexcept { return round_; }

  // Our own answer is implied: we are the leader that sent the round. The
  // caller passes only members of its configurations (a bounded set).
  void acknowledge(node_id from, std::uint64_t round) {
    if (round > round_) return;
    for (auto& [id, r] : acked_)
      if (id == from) return static_cast<void>(r = std::max(r, round));
    acked_.emplace_back(from, round);
  }

  // The highest round a phase-2 quorum of every configuration answered
  // (ourselves included), and the tick it was sent at; rounds before it are
  // forgotten.
  void confirm(std::span<const config_history::entry> configs, node_id self) {
    std::uint64_t answered = round_;
    for (const auto& c : configs) answered = std::min(answered, quorum_round(c.quorums, self));
    confirmed_ = std::max(confirmed_, answered);
    while (!sent_.empty() && sent_.front().round <= confirmed_) {
      confirmed_tick_ = sent_.front().tick;
      has_confirmed_tick_ = true;
      sent_.pop_front();
    }
  }

  // Whether a round answered by a quorum was sent less than `span` ticks before `now`.
  [[nodiscard]] bool vouches(std::uint64_t now, std::uint64_t span) const noexcept {
    return has_confirmed_tick_ && confirmed_tick_ + span > now;
  }

  [[nodiscard]] std::size_t size() const noexcept { return reads_.size(); }
  void add(const pending& p) { reads_.push_back(p); }

  // Hands out, in order, every read whose round is confirmed and whose index is applied.
  template <class Ready>
  void serve(log_index applied, Ready&& ready) {
    while (!reads_.empty() && reads_.front().round <= confirmed_ && reads_.front().index <= applied) {
      const pending p = reads_.front();
      reads_.pop_front();
      ready(p);
    }
  }

  template <class Failed>
  void fail_all(Failed&& failed) {
    while (!reads_.empty()) {
      const pending p = reads_.front();
      reads_.pop_front();
      failed(p);
    }
  }

 private:
  struct sent_round {
    std::uint64_t round;
    std::uint64_t tick;
  };

  // A FIFO in a ring that only grows (to max_unconfirmed_rounds at most): a
  // heartbeat round per commit costs no allocation, unlike a deque's blocks.
  class round_ring {
   public:
    void clear() noexcept { head_ = count_ = 0; }
    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
    [[nodiscard]] std::size_t size() const noexcept { return count_; }
    [[nodiscard]] const sent_round& front() const noexcept { return ring_[head_]; }
    void pop_front() noexcept {
      head_ = (head_ + 1) & (ring_.size() - 1);
      --count_;
    }
    void push_back(const sent_round& r) {
      if (count_ == ring_.size()) grow();
      ring_[(head_ + count_++) & (ring_.size() - 1)] = r;
    }

   private:
    void grow() {
      std::vector<sent_round> bigger(ring_.empty() ? 16 : ring_.size() * 2);  // powers of two
      for (std::size_t k = 0; k < count_; ++k) bigger[k] = ring_[(head_ + k) & (ring_.size() - 1)];
      ring_ = std::move(bigger);
      head_ = 0;
    }
    std::vector<sent_round> ring_;
    std::size_t head_{0};
    std::size_t count_{0};
  };

  // The q2-th highest round among m's voters (0 when no quorum answered).
  std::uint64_t quorum_round(const membership& m, node_id self) {
    scratch_.clear();
    for (node_id v : m.members()) {
      std::uint64_t r = v == self ? round_ : 0;
      for (const auto& [id, got] : acked_)
        if (id == v) r = got;
      scratch_.push_back(r);
    }
    const std::size_t q = m.phase2_quorum();
    if (q == 0 || q > scratch_.size()) return 0;
    const auto nth = scratch_.begin() + static_cast<std::ptrdiff_t>(q - 1);
    std::nth_element(scratch_.begin(), nth, scratch_.end(), std::greater<>{});
    return *nth;
  }

  std::vector<std::pair<node_id, std::uint64_t>> acked_;  // highest round each answered
  std::vector<std::uint64_t> scratch_;
  round_ring sent_;                   // rounds not yet confirmed, with their send ticks
  std::deque<pending> reads_;
  std::uint64_t round_{0};
  std::uint64_t confirmed_{0};
  std::uint64_t confirmed_tick_{0};
  bool has_confirmed_tick_{false};
};

}  // namespace quorum::paxos
