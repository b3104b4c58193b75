// The transactions a Paxos Commit node holds, in a flat table: entries in
// chunks of 64 (their addresses never change), a forgotten entry's slot
// reused by the next txn with every buffer it had, and an open-addressed
// index from txn id to slot (linear probing, Fibonacci hashing, deletion by
// backward shift, so no tombstones). A tick walks the slots in order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "quorum/two_phase_commit/types.hpp"

namespace quorum::two_phase_commit::detail {

// Entry: default-constructible, with `txn_id txn`, `bool used` and reset()
// (back to a new entry, keeping its buffers).
template <class Entry>
class txn_table {
 public:
  txn_table() = default;
  txn_table(const txn_table& o) { *this = o; }
  txn_table& operator=(const txn_table& o) {
    if (this == &o) return *this;
    chunks_.clear();
    for (const auto& c : o.chunks_) {
      chunks_.push_back(std::make_unique<Entry[]>(chunk_size));
      for (std::size_t i = 0; i < chunk_size; ++i) chunks_.back()[i] = c[i];
    }
    free_ = o.free_;
    slots_ = o.slots_;
    size_ = o.size_;
    index_ = o.index_;
    shift_ = o.shift_;
    return *this;
  }
  txn_table(txn_table&&) noexcept = default;
  txn_table& operator=(txn_table&&) noexcept = default;
  ~txn_table() = default;

  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  [[nodiscard]] Entry* find(txn_id txn) noexcept {
    const std::uint32_t s = slot_of(txn);
    return s == npos ? nullptr : &at(s);
  }
  [[nodiscard]] const Entry* find(txn_id txn) const noexcept {
    const std::uint32_t s = slot_of(txn);
    return s == npos ? nullptr : &at(s);
  }

  // A new entry for txn, which must not be held. The caller bounds size().
  Entry& insert(txn_id txn) {
    if (2 * (size_ + 1) > index_.size()) rehash(index_.empty() ? min_buckets : 2 * index_.size());
    std::uint32_t s;
    if (!free_.empty()) {
      s = free_.back();
      free_.pop_back();
    } else {
      if (slots_ == chunks_.size() * chunk_size) chunks_.push_back(std::make_unique<Entry[]>(chunk_size));
      s = slots_++;
    }
    Entry& e = at(s);
    e.reset();
    e.txn = txn;
    e.used = true;
    std::size_t i = home(txn);
    while (index_[i].slot != npos) i = (i + 1) & (index_.size() - 1);
    index_[i] = bucket{txn.value(), s};
    ++size_;
    return e;
  }

  // Drops txn's entry (if held); its slot and buffers wait for the next insert.
  void erase(txn_id txn) noexcept {
    if (index_.empty()) return;
    const std::size_t mask = index_.size() - 1;
    std::size_t i = home(txn);
    while (index_[i].slot != npos && index_[i].txn != txn.value()) i = (i + 1) & mask;
    if (index_[i].slot == npos) return;
    at(index_[i].slot).used = false;
    free_.push_back(index_[i].slot);
    --size_;
    // Backward shift: pull up every later entry of the run that may sit at i.
    for (std::size_t j = (i + 1) & mask; index_[j].slot != npos; j = (j + 1) & mask) {
      const std::size_t k = home(txn_id{index_[j].txn});
      // k cyclically in (i, j]: the entry is where it may be; otherwise move it to i.
      const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (stays) continue;
      index_[i] = index_[j];
      i = j;
    }
    index_[i].slot = npos;
  }

  // Every held entry, in slot order. f may erase the entry it is given.
  template <class F>
  void for_each(F&& f) {
    for (std::uint32_t s = 0; s < slots_; ++s)
      if (Entry& e = at(s); e.used) f(e);
  }
  template <class F>
  void for_each(F&& f) const {
    for (std::uint32_t s = 0; s < slots_; ++s)
      if (const Entry& e = at(s); e.used) f(e);
  }

 private:
  static constexpr std::uint32_t npos = ~std::uint32_t{0};
  static constexpr std::size_t chunk_size = 64;
  static constexpr std::size_t min_buckets = 128;
  struct bucket {
    std::uint64_t txn{0};
    std::uint32_t slot{npos};
  };

  [[nodiscard]] Entry& at(std::uint32_t s) noexcept { return chunks_[s / chunk_size][s % chunk_size]; }
  [[nodiscard]] const Entry& at(std::uint32_t s) const noexcept { return chunks_[s / chunk_size][s % chunk_size]; }
  // Fibonacci hashing: consecutive or strided ids spread over the buckets.
  [[nodiscard]] std::size_t home(txn_id txn) const noexcept {
    return static_cast<std::size_t>((txn.value() * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  [[nodiscard]] std::uint32_t slot_of(txn_id txn) const noexcept {
    if (index_.empty()) return npos;
    const std::size_t mask = index_.size() - 1;
    for (std::size_t i = home(txn);; i = (i + 1) & mask) {
      const bucket& b = index_[i];
      if (b.slot == npos || b.txn == txn.value()) return b.slot;
    }
  }
  void rehash(std::size_t buckets) {
    std::vector<bucket> old = std::move(index_);
    index_.assign(buckets, bucket{});
    shift_ = 64;
    for (std::size_t n = buckets; n > 1; n >>= 1) --shift_;
    for (const bucket& b : old) {
      if (b.slot == npos) continue;
      std::size_t i = home(txn_id{b.txn});
      while (index_[i].slot != npos) i = (i + 1) & (buckets - 1);
      index_[i] = b;
    }
  }

  std::vector<std::unique_ptr<Entry[]>> chunks_;
  std::vector<std::uint32_t> free_;  // slots of forgotten entries, reused last-forgotten first
  std::uint32_t slots_{0};           // slots ever handed out
  std::size_t size_{0};
  std::vector<bucket> index_;  // a power of two, at most half full
  int shift_{64};
};

}  // namespace quorum::two_phase_commit::detail
