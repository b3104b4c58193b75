// The recent tail of a Multi-Paxos journal in memory, already decoded: the
// leader's accepts and every node's applies read it instead of reading and
// decoding the Log. Keyed by journal position (a record never changes in
// place), bounded in bytes; a miss only means the journal reads the Log.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/paxos/message.hpp"

namespace quorum::paxos {

class record_cache {
 public:
  // Bytes held at most: values plus a small header per record (the buffers
  // may reach about twice that between compactions); 0: off.
  explicit record_cache(std::size_t max_bytes) noexcept : max_bytes_{max_bytes} {}

  void clear() noexcept { head_ = count_ = arena_head_ = arena_end_ = data_bytes_ = 0; }

  // Remembers the record just appended at `position`. One that does not
  // follow the last held (the Log was compacted past its end) starts over.
  void add(log_index position, const entry& e) {
    const std::size_t size = e.data.size();
    if (size + sizeof(held) > max_bytes_) return clear();
    if (count_ != 0 && position != first_ + count_) clear();
    if (count_ == 0) first_ = position;
    while (count_ != 0 && held_bytes() + size + sizeof(held) > max_bytes_) drop_oldest();
    if (head_ >= compact_after && head_ >= count_) shift();
    if (head_ + count_ == items_.size()) items_.emplace_back();
    items_[head_ + count_++] = held{e.slot, e.bal, e.kind, arena_end_, size};
    // The arena's size is its capacity (arena_end_ marks the data): a plain
    // copy into room made once is much cheaper than vector::insert per record.
    if (arena_.size() - arena_end_ < size) arena_.resize(std::max(arena_.size() * 2, arena_end_ + size));
    if (size != 0) std::memcpy(arena_.data() + arena_end_, e.data.data(), size);
    arena_end_ += size;
    data_bytes_ += size;
  }

  // Forgets records before `position` (those a node will not read again).
  void release_before(log_index position) noexcept {
    if (position <= first_) return;
    const std::uint64_t n = std::min<std::uint64_t>(position - first_, count_);
    if (n == count_) return clear();
    for (std::uint64_t k = 0; k < n; ++k) data_bytes_ -= items_[head_ + k].size;
    head_ += static_cast<std::size_t>(n);
    count_ -= static_cast<std::size_t>(n);
    first_ = first_ + n;
    arena_head_ = items_[head_].offset;
  }

  // The record at `position`, its data viewing the cache until the next
  // add(); nothing if not held.
  [[nodiscard]] std::optional<entry> find(log_index position) const noexcept {
    if (position < first_ || position - first_ >= count_) return std::nullopt;
    const held& h = items_[head_ + static_cast<std::size_t>(position - first_)];
    return entry{h.slot, h.bal, h.kind, byte_view{arena_.data() + h.offset, h.size}};
  }

  [[nodiscard]] std::size_t size() const noexcept { return count_; }

 private:
  struct held {
    log_index slot;
    ballot bal;
    entry_kind kind;
    std::size_t offset;  // into arena_
    std::size_t size;
  };

  // Dead records kept before the live ones are moved to the front.
  static constexpr std::size_t compact_after = 64;

  [[nodiscard]] std::size_t held_bytes() const noexcept { return data_bytes_ + count_ * sizeof(held); }

  void drop_oldest() noexcept {
    const held& h = items_[head_++];
    --count_;
    data_bytes_ -= h.size;
    arena_head_ = h.offset + h.size;
    first_ = first_.next();
  }

  // Moves the live records to the front once the dead ones outnumber them,
  // so the buffers stop growing and each record is moved O(1) times.
  void shift() noexcept {
    std::copy(items_.begin() + static_cast<std::ptrdiff_t>(head_),
              items_.begin() + static_cast<std::ptrdiff_t>(head_ + count_), items_.begin());
    for (std::size_t k = 0; k < count_; ++k) items_[k].offset -= arena_head_;
    if (arena_end_ > arena_head_) std::memmove(arena_.data(), arena_.data() + arena_head_, arena_end_ - arena_head_);
    arena_end_ -= arena_head_;
    head_ = arena_head_ = 0;
  }

  std::vector<held> items_;  // [head_, head_ + count_): positions first_ on
  byte_buffer arena_;        // their values, in [arena_head_, arena_end_)
  std::size_t head_{0};
  std::size_t count_{0};
  std::size_t arena_head_{0};
  std::size_t arena_end_{0};
  std::size_t data_bytes_{0};
  std::size_t max_bytes_;
  log_index first_{};
};

}  // namespace quorum::paxos
