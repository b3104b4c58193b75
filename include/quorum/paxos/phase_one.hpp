// A candidate's phase 1 over every open slot, one page at a time: a promise
// reports accepted values from the page's first slot up to a bound it names
// (all_slots when it held nothing more), so no message grows with the log.
// Once a phase-1 quorum answered, every slot up to the lowest bound named is
// settled: it must carry the value accepted at the highest ballot, or a no-op.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <span>

#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/paxos/message.hpp"
#include "quorum/paxos/quorums.hpp"

namespace quorum::paxos {

class phase_one {
 public:
  struct found {
    ballot bal;
    entry_kind kind;
    byte_buffer data;
  };

  void start(log_index first) {
    first_ = first;
    mask_ = 0;
    bound_ = all_slots;
    found_.clear();
  }

  // One acceptor's report for the page; false if it was not for this page
  // or already counted. Entries outside [first, bound] are ignored.
  bool add(std::size_t position, log_index first, log_index bound, std::span<const entry> entries) {
    if (first != first_ || (mask_ & membership::bit(position)) != 0 || bound < first_) return false;
    mask_ |= membership::bit(position);
    bound_ = std::min(bound_, bound);
    for (const entry& e : entries)
      if (e.slot >= first_ && e.slot <= bound) offer(e);
    return true;
  }

  // Keeps the value accepted at the highest ballot for the entry's slot.
  void offer(const entry& e) {
    auto [it, fresh] = found_.try_emplace(e.slot.value());
    if (fresh || e.bal > it->second.bal) {
      it->second.bal = e.bal;
      it->second.kind = e.kind;
      it->second.data.assign(e.data.begin(), e.data.end());
    }
  }

  [[nodiscard]] bool reached(const membership& m) const noexcept { return m.phase1_reached(mask_); }
  [[nodiscard]] log_index first() const noexcept { return first_; }
  [[nodiscard]] std::uint64_t mask() const noexcept { return mask_; }
  // The last slot the page settles: all_slots when every responder told all.
  [[nodiscard]] log_index bound() const noexcept { return bound_; }
  // The last slot with a value found, settled by this page (first - 1: none).
  [[nodiscard]] log_index last_found() const noexcept {
    log_index last = first_.prev();
    for (const auto& [slot, f] : found_)
      if (slot <= bound_.value()) last = std::max(last, log_index{slot});
    return last;
  }
  [[nodiscard]] const found* at(log_index s) const {
    auto it = found_.find(s.value());
    return it == found_.end() ? nullptr : &it->second;
  }

 private:
  log_index first_{};
  std::uint64_t mask_{0};
  log_index bound_{all_slots};
  std::map<std::uint64_t, found> found_;
};

}  // namespace quorum::paxos
