// The recent values a Multi-Paxos journal wrote, in memory: the leader's
// accepts and every node's applies read them here instead of reading and
// decoding the Log. Keyed by the journal's write sequence (it numbers every
// slot it writes, in order), bounded in bytes; a miss only means the journal
// reads the Log. It also holds the open run (journal.hpp) whole, whatever
// the bound: that run's values reach the Log from here, back to back.
// Only over a Log that copies: over one whose records stay in place
// (core/log.hpp) the journal's slot index views the values in the Log.
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

// A value the cache holds: the slot and ballot it was written for are the
// journal's to say (its index names the write by sequence number).
struct cached_value {
  entry_kind kind{entry_kind::normal};
  byte_view data{};
};

class record_cache {
 public:
  // Bytes held at most, but for the open run: values plus a small header per
  // slot (the buffers may reach about twice that between compactions); 0:
  // nothing past its record's seal.
  explicit record_cache(std::size_t max_bytes) noexcept : max_bytes_{max_bytes} {}

  void clear() noexcept { head_ = count_ = arena_head_ = arena_end_ = data_bytes_ = 0; }

  // Remembers the values written with sequence numbers seq, seq + 1, ...
  // (following the last one held, or it starts over); those from `pinned`
  // on (the open run) are never dropped to make room.
  void add(std::uint64_t seq, std::span<const entry> es, std::uint64_t pinned) {
    if (count_ != 0 && seq != first_ + count_) clear();
    std::size_t data = 0;
    for (const entry& e : es) data += e.data.size();
    while (count_ != 0 && first_ < pinned && held_bytes() + data + es.size() * sizeof(held) > max_bytes_) drop_oldest();
    if (count_ == 0) first_ = seq;
    if (head_ >= compact_after && head_ >= count_) shift();
    if (items_.size() - (head_ + count_) < es.size())
      items_.resize(std::max(items_.size() * 2, head_ + count_ + es.size()));
    // The arena's size is its capacity (arena_end_ marks the data): a plain
    // copy into room made once is much cheaper than vector::insert per value.
    if (arena_.size() - arena_end_ < data) arena_.resize(std::max(arena_.size() * 2, arena_end_ + data));
    for (const entry& e : es) {
      const std::size_t size = e.data.size();
      items_[head_ + count_++] = held{arena_end_, size, e.kind};
      if (size != 0) std::memcpy(arena_.data() + arena_end_, e.data.data(), size);
      arena_end_ += size;
    }
    data_bytes_ += data;
  }

  // add() of one value: the one-at-a-time path, kept lean.
  void add(std::uint64_t seq, const entry& e, std::uint64_t pinned) {
    const std::size_t size = e.data.size();
    if (count_ != 0 && seq != first_ + count_) clear();
    while (count_ != 0 && first_ < pinned && held_bytes() + size + sizeof(held) > max_bytes_) drop_oldest();
    if (count_ == 0) first_ = seq;
    if (head_ >= compact_after && head_ >= count_) shift();
    if (head_ + count_ == items_.size()) items_.emplace_back();
    items_[head_ + count_++] = held{arena_end_, size, e.kind};
    if (arena_.size() - arena_end_ < size) arena_.resize(std::max(arena_.size() * 2, arena_end_ + size));
    copy_bytes(arena_.data() + arena_end_, e.data);
    arena_end_ += size;
    data_bytes_ += size;
  }

  // Forgets values before `seq` (those a node will not read again).
  void release_before(std::uint64_t seq) noexcept {
    if (seq <= first_) return;
    const std::uint64_t n = std::min<std::uint64_t>(seq - first_, count_);
    if (n == count_) return clear();
    for (std::uint64_t k = 0; k < n; ++k) data_bytes_ -= items_[head_ + k].size;
    head_ += static_cast<std::size_t>(n);
    count_ -= static_cast<std::size_t>(n);
    first_ += n;
    arena_head_ = items_[head_].offset;
  }

  // Back within the bound (nothing pinned any more: the open run was sealed).
  void trim() noexcept {
    while (count_ != 0 && held_bytes() > max_bytes_) drop_oldest();
  }

  // The value written as `seq`, its data viewing the cache until the next
  // add(); nothing if not held.
  [[nodiscard]] std::optional<cached_value> find(std::uint64_t seq) const noexcept {
    if (seq < first_ || seq - first_ >= count_) return std::nullopt;
    return value_of(items_[head_ + static_cast<std::size_t>(seq - first_)]);
  }

  // Calls f(k, value) for the values written as seq, seq + 1, ..., at most
  // n, while they are held and f returns true; returns how many it called
  // f for and f accepted. The values view the cache: f must not add to it.
  template <class F>
  std::size_t visit(std::uint64_t seq, std::size_t n, F&& f) const {
    if (seq < first_ || seq - first_ >= count_) return 0;
    const std::size_t from = head_ + static_cast<std::size_t>(seq - first_);
    const std::size_t m = std::min(n, head_ + count_ - from);
    for (std::size_t k = 0; k < m; ++k)
      if (!f(k, value_of(items_[from + k]))) return k;
    return m;
  }

  // The values from `seq` (held, as the open run is) to the last, back to back.
  [[nodiscard]] byte_view values_from(std::uint64_t seq) const noexcept {
    if (seq < first_ || seq - first_ >= count_) return {};
    const std::size_t from = items_[head_ + static_cast<std::size_t>(seq - first_)].offset;
    return byte_view{arena_.data() + from, arena_end_ - from};
  }

  // Values held.
  [[nodiscard]] std::size_t size() const noexcept { return count_; }

 private:
  // 24 bytes: the journal knows each write's slot and ballot by its index.
  struct held {
    std::size_t offset;  // into arena_
    std::size_t size;
    entry_kind kind;
  };
  static_assert(sizeof(held) == 24);

  [[nodiscard]] cached_value value_of(const held& h) const noexcept {
    return cached_value{h.kind, byte_view{arena_.data() + h.offset, h.size}};
  }

  // Dead values kept before the live ones are moved to the front.
  static constexpr std::size_t compact_after = 64;

  [[nodiscard]] std::size_t held_bytes() const noexcept { return data_bytes_ + count_ * sizeof(held); }

  void drop_oldest() noexcept {
    const held& h = items_[head_++];
    --count_;
    data_bytes_ -= h.size;
    arena_head_ = h.offset + h.size;
    ++first_;
    if (count_ == 0) clear();
  }

  // Moves the live values to the front once the dead ones outnumber them,
  // so the buffers stop growing and each value is moved O(1) times.
  void shift() noexcept {
    std::copy(items_.begin() + static_cast<std::ptrdiff_t>(head_),
              items_.begin() + static_cast<std::ptrdiff_t>(head_ + count_), items_.begin());
    for (std::size_t k = 0; k < count_; ++k)
      items_[k].offset -= arena_head_;
    if (arena_end_ > arena_head_) std::memmove(arena_.data(), arena_.data() + arena_head_, arena_end_ - arena_head_);
    arena_end_ -= arena_head_;
    head_ = arena_head_ = 0;
  }

  std::vector<held> items_;  // [head_, head_ + count_): sequence numbers first_ on
  byte_buffer arena_;        // their values, in [arena_head_, arena_end_)
  std::size_t head_{0};
  std::size_t count_{0};
  std::size_t arena_head_{0};
  std::size_t arena_end_{0};
  std::size_t data_bytes_{0};
  std::size_t max_bytes_;
  std::uint64_t first_{0};
};

}  // namespace quorum::paxos
