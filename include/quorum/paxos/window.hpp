// A leader's open slots: [base, next) proposed at its ballot and not yet all
// known chosen, each with the mask of acceptors that acknowledged it. The
// window's size is what max_open_slots bounds for new proposals. The masks
// live in a ring that only grows (to the most slots ever open at once), so
// opening and closing slots allocates nothing in steady state.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/core/ids.hpp"

namespace quorum::paxos {

class slot_window {
 public:
  void reset(log_index first) {
    head_ = 0;
    base_ = next_ = unsent_ = self_counted_ = first;
  }

  // Opens the next slot; returns it.
  log_index open() {
    if (size() == acks_.size()) grow();
    acks_[ring(size())] = 0;
    const log_index s = next_;
    next_ = next_.next();
    return s;
  }

  // Opens the next n slots (open() of each, in one pass); returns the first.
  log_index open_run(std::size_t n) {
    while (acks_.size() - size() < n) grow();
    const std::size_t wrap = acks_.size() - 1;
    std::size_t k = ring(size());
    for (std::size_t i = 0; i < n; ++i, k = (k + 1) & wrap) acks_[k] = 0;
    const log_index first = next_;
    next_ = next_ + n;
    return first;
  }

  // Adds `bit` to the acknowledgements of slots lo..hi (all open), and calls
  // chosen(first, last) for each stretch of them whose mask now satisfies
  // quorum(mask). An accept's run is acknowledged as a run, so its masks
  // are usually all equal: one pass adds the bit and checks that (a loop the
  // compiler vectorizes), and quorum() is asked once; otherwise a second
  // pass asks it wherever the mask changes.
  template <class Quorum, class Chosen>
  void acknowledge_range(log_index lo, log_index hi, std::uint64_t bit, Quorum&& quorum, Chosen&& chosen) {
    QUORUM_ASSERT(contains(lo) && contains(hi));
    const std::size_t k = ring(lo - base_);
    if (lo == hi) {  // one at a time
      if (quorum(acks_[k] |= bit)) chosen(lo, hi);
      return;
    }
    const std::size_t n = static_cast<std::size_t>(hi - lo) + 1;
    const std::size_t first_part = std::min(n, acks_.size() - k);  // up to the ring's end, then from its start
    const std::uint64_t mask = acks_[k] | bit;
    const std::uint64_t differ = add_bit(acks_.data() + k, first_part, bit, mask) |
                                 add_bit(acks_.data(), n - first_part, bit, mask);
    if (differ == 0) {
      if (quorum(mask)) chosen(lo, hi);
      return;
    }
    std::uint64_t last_mask = 0;  // never a mask here: each holds `bit`
    bool reached = false;
    log_index from{};  // the stretch that reached a quorum so far (none: 0)
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t m = acks_[(k + i) & (acks_.size() - 1)];
      if (m != last_mask) {
        last_mask = m;
        reached = quorum(m);
      }
      const log_index s = lo + i;
      if (reached) {
        if (from == log_index{}) from = s;
      } else if (from != log_index{}) {
        chosen(from, s.prev());
        from = log_index{};
      }
    }
    if (from != log_index{}) chosen(from, hi);
  }

  // Closes the slots from the front through `last`, all known chosen (a
  // run that reached its quorum at once): one step instead of a check each.
  void close_through(log_index last) noexcept {
    if (last < base_) return;
    QUORUM_ASSERT(last < next_);
    head_ = ring(last - base_ + 1);
    base_ = last.next();
    if (self_counted_ < base_) self_counted_ = base_;
  }

  // Closes slots from the front while chosen(slot) says so.
  template <class Chosen>
  void close_chosen(Chosen&& chosen) {
    while (base_ < next_ && chosen(base_)) {
      head_ = ring(1);
      base_ = base_.next();
    }
    if (self_counted_ < base_) self_counted_ = base_;
  }

  [[nodiscard]] bool contains(log_index s) const noexcept { return s >= base_ && s < next_; }
  [[nodiscard]] std::uint64_t mask(log_index s) const noexcept {
    return contains(s) ? acks_[ring(s - base_)] : ~std::uint64_t{0};
  }
  [[nodiscard]] std::uint64_t size() const noexcept { return next_ - base_; }
  [[nodiscard]] log_index base() const noexcept { return base_; }
  [[nodiscard]] log_index next() const noexcept { return next_; }
  // Slots from here on were not sent to the acceptors yet.
  [[nodiscard]] log_index unsent() const noexcept { return unsent_; }
  void sent_through(log_index s) noexcept { unsent_ = s.next(); }
  // Slots from here on were opened after the last sync: our own accept of
  // them does not count yet.
  [[nodiscard]] log_index self_counted() const noexcept { return self_counted_; }
  void self_counted_through(log_index s) noexcept { self_counted_ = s.next(); }

 private:
  static constexpr std::size_t initial_capacity = 64;  // a power of two, as every capacity

  // Adds bit to masks[0..n); nonzero if any result differs from `mask`.
  [[nodiscard]] static std::uint64_t add_bit(std::uint64_t* masks, std::size_t n, std::uint64_t bit,
                                             std::uint64_t mask) noexcept {
    std::uint64_t differ = 0;
    for (std::size_t i = 0; i < n; ++i) {
      masks[i] |= bit;
      differ |= masks[i] ^ mask;
    }
    return differ;
  }

  // The ring position of the slot k after base_.
  [[nodiscard]] std::size_t ring(std::uint64_t k) const noexcept {
    return (head_ + static_cast<std::size_t>(k)) & (acks_.size() - 1);
  }

  void grow() {
    std::vector<std::uint64_t> bigger(acks_.empty() ? initial_capacity : acks_.size() * 2);
    for (std::uint64_t k = 0; k < size(); ++k) bigger[static_cast<std::size_t>(k)] = acks_[ring(k)];
    acks_ = std::move(bigger);
    head_ = 0;
  }

  std::vector<std::uint64_t> acks_;  // a ring: slot base_ + k at (head_ + k) mod capacity
  std::size_t head_{0};
  log_index base_{1};
  log_index next_{1};
  log_index unsent_{1};
  log_index self_counted_{1};
};

}  // namespace quorum::paxos
