// A Raft leader's bookkeeping for linearizable reads (thesis §6.4), driven by
// node.hpp: read_queue holds reads waiting for a quorum round or the apply
// index; read_rounds numbers heartbeat rounds, tallies answers, keeps the lease.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/core/ids.hpp"

namespace quorum::raft {

struct pending_read {
  std::uint64_t id{};
  std::uint64_t round{};      // the heartbeat round a quorum must acknowledge
  log_index index{};          // served once applied reaches it; unknown until the term commits
  std::uint64_t since{};      // leader tick at which the read arrived
  bool confirmed{false};      // leadership confirmed after the read arrived
  bool has_index{false};
};

// Reads in arrival order, at most `capacity` of them. The vector grows to the
// high-water mark and is then reused: a steady stream of reads allocates nothing.
// Callbacks run while the queue is being edited: they must not call back into it.
class read_queue {
 public:
  explicit read_queue(std::size_t capacity = 1) : capacity_{capacity} {}

  [[nodiscard]] std::size_t size() const noexcept { return reads_.size(); }
  [[nodiscard]] bool empty() const noexcept { return reads_.empty(); }
  [[nodiscard]] bool full() const noexcept { return reads_.size() >= capacity_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

  // False (and nothing queued) when full.
  bool push(const pending_read& r) {
    if (full()) return false;
    reads_.push_back(r);
    return true;
  }

  // A quorum acknowledged round `upto`: every read that waited for it, or an
  // earlier one, knows it was asked of a leader that still led afterwards.
  void confirm(std::uint64_t upto) noexcept {
    for (auto& r : reads_)
      if (r.round <= upto) r.confirmed = true;
  }

  // The leader's first commit of its term makes the commit index a safe read index.
  void set_index(log_index commit) noexcept {
    for (auto& r : reads_) {
      if (r.has_index) continue;
      r.index = commit;
      r.has_index = true;
    }
  }

  // Removes every read that is confirmed and applied, calling ready(id, index) for each.
  template <class Ready>
  void take_ready(log_index applied, Ready&& ready) {
    take_if([&](const pending_read& r) { return r.confirmed && r.has_index && r.index <= applied; },
            [&](const pending_read& r) { ready(r.id, r.index); });
  }

  // Removes every read still unconfirmed (or without an index) `timeout`
  // ticks after it arrived, calling expired(id) for each.
  template <class Expired>
  void take_expired(std::uint64_t now, std::uint64_t timeout, Expired&& expired) {
    take_if([&](const pending_read& r) { return (!r.confirmed || !r.has_index) && now - r.since >= timeout; },
            [&](const pending_read& r) { expired(r.id); });
  }

  template <class Each>
  void take_all(Each&& each) {
    take_if([](const pending_read&) { return true; }, [&](const pending_read& r) { each(r.id); });
  }

 private:
  // A stable, in-place partition: what stays keeps its order.
  template <class Pred, class Taken>
  void take_if(Pred&& pred, Taken&& taken) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < reads_.size(); ++i) {
      if (pred(reads_[i])) {
        taken(reads_[i]);
      } else {
        if (kept != i) reads_[kept] = reads_[i];
        ++kept;
      }
    }
    reads_.resize(kept);
  }

  std::vector<pending_read> reads_;
  std::size_t capacity_;
};

// Heartbeat rounds of one node's leaderships. Round numbers grow over the
// node's whole life, never per term, so an answer to any earlier broadcast
// (a lower round) can never pass for an answer to a later one.
class read_rounds {
 public:
  // Ticks whose first round is remembered for the lease. A round sent
  // earlier gives no lease: with the defaults such a lease has expired anyway,
  // and forgetting only ever shortens a lease.
  static constexpr std::size_t lease_tick_history = 64;

  // A new leadership at leader tick `now`: nobody has acknowledged anything yet.
  void start_term(std::uint64_t now) {
    acked_.clear();
    confirmed_ = sent_;
    lease_until_ = 0;
    lease_revoked_ = false;
    wanted_ = false;
    ticks_.fill(tick_mark{});
    on_tick(now);
  }

  // Remembers which round was the next to go when tick `now` began: any
  // round at or above it was sent at tick `now` or later.
  void on_tick(std::uint64_t now) noexcept {
    ticks_[now % ticks_.size()] = tick_mark{now, sent_ + 1, true};
  }

  [[nodiscard]] std::uint64_t next_round() const noexcept { return sent_ + 1; }
  [[nodiscard]] std::uint64_t last_sent() const noexcept { return sent_; }
  [[nodiscard]] std::uint64_t confirmed() const noexcept { return confirmed_; }
  [[nodiscard]] bool wanted() const noexcept { return wanted_; }
  void want() noexcept { wanted_ = true; }

  // The context of a heartbeat broadcast about to leave.
  std::uint64_t begin_round() noexcept {
    wanted_ = false;
    return ++sent_;
  }

  // Member `from` (of cfg) answered round `round` in the current term. True
  // when that makes a later round acknowledged by a quorum (self included).
  template <class Config>
  bool acknowledge(const Config& cfg, std::size_t from, std::uint64_t round, std::uint64_t election_ticks,
                   std::uint64_t drift_ticks) {
    if (round == 0 || round > sent_ || round <= confirmed_) return false;
    record(cfg, cfg.at(from), round);
    std::uint64_t best = confirmed_;
    for (const auto& a : acked_) {
      if (a.second <= best) continue;
      const std::uint64_t c = a.second;
      if (cfg.has_quorum([&](std::size_t i) { return i == cfg.self() || acked_of(cfg.at(i)) >= c; })) best = c;
    }
    if (best == confirmed_) return false;
    confirmed_ = best;
    extend_lease(best, election_ticks, drift_ticks);
    return true;
  }

  // A leadership transfer lets the target be elected inside the followers'
  // leases: from then on this term's lease cannot be trusted.
  void revoke_lease() noexcept {
    lease_revoked_ = true;
    lease_until_ = 0;
  }
  [[nodiscard]] bool lease_valid(std::uint64_t now) const noexcept { return !lease_revoked_ && now < lease_until_; }
  [[nodiscard]] std::uint64_t lease_until() const noexcept { return lease_until_; }

 private:
  struct tick_mark {
    std::uint64_t tick{};
    std::uint64_t first_round{};
    bool used{false};
  };

  // Acknowledgements are kept by node id, not position, so that a change of
  // membership cannot lend one member's answer to another.
  template <class Config>
  void record(const Config& cfg, node_id who, std::uint64_t round) {
    for (auto& a : acked_) {
      if (a.first != who) continue;
      a.second = std::max(a.second, round);
      return;
    }
    std::erase_if(acked_, [&](const auto& a) { return cfg.position_of(a.first) == Config::npos; });
    acked_.emplace_back(who, round);
  }

  [[nodiscard]] std::uint64_t acked_of(node_id who) const noexcept {
    for (const auto& a : acked_)
      if (a.first == who) return a.second;
    return 0;
  }

  // Followers that answered `round` heard us no earlier than the tick it
  // was sent at, and refuse votes for election_ticks after that. The margin
  // clock_drift_ticks must also cover the up to one tick by which two nodes'
  // tick timers are out of phase. A follower that restarts forgets whom it
  // heard and may vote at once: leases assume restarts slower than a lease.
  void extend_lease(std::uint64_t round, std::uint64_t election_ticks, std::uint64_t drift_ticks) noexcept {
    if (lease_revoked_) return;
    bool found = false;
    std::uint64_t sent_at = 0;
    for (const auto& t : ticks_) {
      if (!t.used || t.first_round > round || (found && t.tick <= sent_at)) continue;
      sent_at = t.tick;
      found = true;
    }
    if (found && election_ticks > drift_ticks)
      lease_until_ = std::max(lease_until_, sent_at + election_ticks - drift_ticks);
  }

  std::vector<std::pair<node_id, std::uint64_t>> acked_;  // highest round each member answered
  std::uint64_t sent_{0};
  std::uint64_t confirmed_{0};
  std::uint64_t lease_until_{0};
  bool lease_revoked_{false};
  bool wanted_{false};
  std::array<tick_mark, lease_tick_history> ticks_{};
};

}  // namespace quorum::raft
