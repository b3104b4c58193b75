// The recent tail of a Multi-Paxos journal in memory, already decoded: the
// leader's accepts and every node's applies read it instead of reading and
// decoding the Log. Keyed by journal position and the item within the
// record's run (a record never changes once sealed), bounded in bytes; a
// miss only means the journal reads the Log.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/paxos/message.hpp"

namespace quorum::paxos {

class record_cache {
 public:
  // Bytes held at most: values plus a small header per record and per slot
  // (the buffers may reach about twice that between compactions); 0: off.
  explicit record_cache(std::size_t max_bytes) noexcept : max_bytes_{max_bytes} {}

  void clear() noexcept {
    run_head_ = count_ = value_head_ = value_end_ = arena_head_ = arena_end_ = held_bytes_ = 0;
  }

  // Remembers item `item` of the record at `position` (a run is added slot
  // by slot as the journal stages it: e is slot first + item, at the run's
  // ballot). What does not follow what is held (the Log was compacted past
  // its end, or the run's start was evicted) starts over or is left out.
  void add(log_index position, std::size_t item, const entry& e) {
    const std::size_t size = e.data.size();
    if (size + sizeof(value) + sizeof(run) > max_bytes_) return clear();
    const bool extends = count_ != 0 && position == first_ + (count_ - 1) && item == value_end_ - last_run().begin;
    if (!extends) {
      if (count_ != 0 && (item != 0 || position != first_ + count_)) clear();
      if (item != 0) return;
      while (count_ != 0 && held_bytes_ + size + sizeof(value) + sizeof(run) > max_bytes_) drop_oldest();
      if (count_ == 0) first_ = position;
      if (run_head_ >= compact_after && run_head_ >= count_) shift();
      if (run_head_ + count_ == runs_.size()) runs_.emplace_back();
      runs_[run_head_ + count_++] = run{e.slot, e.bal, value_end_, sizeof(run)};
      held_bytes_ += sizeof(run);
    } else {
      while (count_ > 1 && held_bytes_ + size + sizeof(value) > max_bytes_) drop_oldest();
      if (held_bytes_ + size + sizeof(value) > max_bytes_) return clear();  // this run alone is over the budget
    }
    if (value_end_ == values_.size()) values_.emplace_back();
    values_[value_end_++] = value{arena_end_, size, e.kind};
    // The arena's size is its capacity (arena_end_ marks the data).
    if (arena_.size() - arena_end_ < size) arena_.resize(std::max(arena_.size() * 2, arena_end_ + size));
    if (size != 0) std::memcpy(arena_.data() + arena_end_, e.data.data(), size);
    arena_end_ += size;
    runs_[run_head_ + count_ - 1].bytes += size + sizeof(value);
    held_bytes_ += size + sizeof(value);
  }

  // Items item.. of the record at `position`: the same as add() of each, in
  // one pass where they start a new record or extend the last, and fit.
  void add_run(log_index position, std::size_t item, std::span<const entry> es) {
    const bool starts = count_ == 0 || position == first_ + count_;
    const bool extends = count_ != 0 && position == first_ + (count_ - 1) && item == value_end_ - last_run().begin;
    std::size_t data = 0;
    for (const entry& e : es) data += e.data.size();
    const std::size_t bytes = data + es.size() * sizeof(value) + (extends ? 0 : sizeof(run));
    if (es.empty() || !(extends || (item == 0 && starts)) || held_bytes_ + bytes > max_bytes_) {
      for (std::size_t k = 0; k < es.size(); ++k) add(position, item + k, es[k]);
      return;
    }
    if (!extends) {
      if (count_ == 0) first_ = position;
      if (run_head_ >= compact_after && run_head_ >= count_) shift();
      if (run_head_ + count_ == runs_.size()) runs_.emplace_back();
      runs_[run_head_ + count_++] = run{es.front().slot, es.front().bal, value_end_, 0};
    }
    if (values_.size() - value_end_ < es.size()) values_.resize(std::max(values_.size() * 2, value_end_ + es.size()));
    if (arena_.size() - arena_end_ < data) arena_.resize(std::max(arena_.size() * 2, arena_end_ + data));
    for (const entry& e : es) {
      const std::size_t size = e.data.size();
      values_[value_end_++] = value{arena_end_, size, e.kind};
      if (size != 0) std::memcpy(arena_.data() + arena_end_, e.data.data(), size);
      arena_end_ += size;
    }
    runs_[run_head_ + count_ - 1].bytes += bytes;
    held_bytes_ += bytes;
  }

  // Forgets records before `position` (those a node will not read again).
  void release_before(log_index position) noexcept {
    while (count_ != 0 && first_ < position) drop_oldest();
  }

  // Item `item` of the record at `position`, its data viewing the cache
  // until the next add(); nothing if not held.
  [[nodiscard]] std::optional<entry> find(log_index position, std::size_t item) const noexcept {
    if (position < first_ || position - first_ >= count_) return std::nullopt;
    const std::size_t r = run_head_ + static_cast<std::size_t>(position - first_);
    const run& h = runs_[r];
    const std::size_t end = r + 1 < run_head_ + count_ ? runs_[r + 1].begin : value_end_;
    if (item >= end - h.begin) return std::nullopt;
    const value& v = values_[h.begin + item];
    return entry{h.first_slot + item, h.bal, v.kind, byte_view{arena_.data() + v.offset, v.size}};
  }

  // Records held.
  [[nodiscard]] std::size_t size() const noexcept { return count_; }

 private:
  struct run {
    log_index first_slot;
    ballot bal;
    std::size_t begin;  // its first value in values_
    std::size_t bytes;  // what it counts toward max_bytes_
  };
  struct value {
    std::size_t offset;  // into arena_
    std::size_t size;
    entry_kind kind;
  };

  // Dead records kept before the live ones are moved to the front.
  static constexpr std::size_t compact_after = 64;

  [[nodiscard]] const run& last_run() const noexcept { return runs_[run_head_ + count_ - 1]; }

  void drop_oldest() noexcept {
    const std::size_t end = count_ > 1 ? runs_[run_head_ + 1].begin : value_end_;
    held_bytes_ -= runs_[run_head_].bytes;
    ++run_head_;
    --count_;
    first_ = first_.next();
    if (count_ == 0) return clear();
    value_head_ = end;
    arena_head_ = values_[end].offset;
  }

  // Moves the live records to the front once the dead ones outnumber them,
  // so the buffers stop growing and each record is moved O(1) times.
  void shift() noexcept {
    std::copy(runs_.begin() + static_cast<std::ptrdiff_t>(run_head_),
              runs_.begin() + static_cast<std::ptrdiff_t>(run_head_ + count_), runs_.begin());
    for (std::size_t k = 0; k < count_; ++k) runs_[k].begin -= value_head_;
    std::copy(values_.begin() + static_cast<std::ptrdiff_t>(value_head_),
              values_.begin() + static_cast<std::ptrdiff_t>(value_end_), values_.begin());
    value_end_ -= value_head_;
    for (std::size_t k = 0; k < value_end_; ++k) values_[k].offset -= arena_head_;
    if (arena_end_ > arena_head_) std::memmove(arena_.data(), arena_.data() + arena_head_, arena_end_ - arena_head_);
    arena_end_ -= arena_head_;
    run_head_ = value_head_ = arena_head_ = 0;
  }

  std::vector<run> runs_;      // [run_head_, run_head_ + count_): positions first_ on
  std::vector<value> values_;  // their slots' values, [value_head_, value_end_)
  byte_buffer arena_;          // the bytes of those, in [arena_head_, arena_end_)
  std::size_t run_head_{0};
  std::size_t count_{0};
  std::size_t value_head_{0};
  std::size_t value_end_{0};
  std::size_t arena_head_{0};
  std::size_t arena_end_{0};
  std::size_t held_bytes_{0};
  std::size_t max_bytes_;
  log_index first_{};
};

}  // namespace quorum::paxos
