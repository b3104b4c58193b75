// memory_log: the Log concept's exemplar, held entirely in memory. Used by
// tests, by benchmarks and as the model file_log is checked against; sync() is
// a no-op that only counts, so a test can see when a protocol asked for one.
#pragma once

#include <algorithm>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/log.hpp"
#include "quorum/core/result.hpp"

namespace quorum::storage {

struct memory_log_options {
  std::size_t max_record_bytes = std::size_t{16} << 20;  // append() over this: errc::too_large
  std::size_t max_state_bytes = std::size_t{1} << 20;    // save_state() over this: errc::too_large
};

namespace detail {

// True when b points into buf's storage: inserting b into buf must copy it first.
[[nodiscard]] inline bool aliases(const byte_buffer& buf, byte_view b) noexcept {
  if (b.empty() || buf.empty()) return false;
  const std::less<const std::byte*> before;
  return !before(b.data(), buf.data()) && before(b.data(), buf.data() + buf.size());
}

// Bytes back to back in one buffer that grows geometrically, like a vector
// of bytes but extended without zeroing or a generic insert: the records
// appended are copied in once.
class byte_arena {
 public:
  byte_arena() = default;
  byte_arena(const byte_arena& o) : size_{o.size_} {
    if (size_ == 0) return;
    buf_ = std::make_unique_for_overwrite<std::byte[]>(size_);
    capacity_ = size_;
    std::memcpy(buf_.get(), o.buf_.get(), size_);
  }
  byte_arena(byte_arena&& o) noexcept
      : buf_{std::move(o.buf_)}, size_{std::exchange(o.size_, 0)}, capacity_{std::exchange(o.capacity_, 0)} {}
  byte_arena& operator=(const byte_arena& o) {
    if (this != &o) *this = byte_arena{o};
    return *this;
  }
  byte_arena& operator=(byte_arena&& o) noexcept {
    if (this == &o) return *this;
    buf_ = std::move(o.buf_);
    size_ = std::exchange(o.size_, 0);
    capacity_ = std::exchange(o.capacity_, 0);
    return *this;
  }
  ~byte_arena() = default;

  [[nodiscard]] std::byte* data() noexcept { return buf_.get(); }
  [[nodiscard]] const std::byte* data() const noexcept { return buf_.get(); }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  // Grows by n bytes, left for the caller to write; returns where they start.
  std::byte* extend(std::size_t n) {
    if (capacity_ - size_ < n) reallocate(std::max({capacity_ * 2, size_ + n, min_bytes}));
    std::byte* at = buf_.get() + size_;
    size_ += n;
    return at;
  }
  void resize_down(std::size_t n) noexcept {
    QUORUM_ASSERT(n <= size_);
    size_ = n;
  }
  void clear() noexcept { size_ = 0; }
  // Drops the first n bytes; the rest moves to the front.
  void erase_front(std::size_t n) noexcept {
    QUORUM_ASSERT(n <= size_);
    if (size_ > n) std::memmove(buf_.get(), buf_.get() + n, size_ - n);
    size_ -= n;
  }
  void shrink_to_fit() {
    if (size_ == 0) {
      buf_.reset();
      capacity_ = 0;
    } else {
      reallocate(size_);
    }
  }

 private:
  void reallocate(std::size_t capacity) {
    auto bigger = std::make_unique_for_overwrite<std::byte[]>(capacity);  // every byte read is written first
    if (size_ > 0) std::memcpy(bigger.get(), buf_.get(), size_);
    buf_ = std::move(bigger);
    capacity_ = capacity;
  }

  static constexpr std::size_t min_bytes = 4096;

  std::unique_ptr<std::byte[]> buf_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

// True when b points into the arena's storage: appending b must copy it first.
[[nodiscard]] inline bool aliases(const byte_arena& arena, byte_view b) noexcept {
  if (b.empty() || arena.capacity() == 0) return false;
  const std::less<const std::byte*> before;
  return !before(b.data(), arena.data()) && before(b.data(), arena.data() + arena.capacity());
}

}  // namespace detail

class memory_log {
 public:
  memory_log() = default;
  explicit memory_log(memory_log_options options) : options_{options} {}

  [[nodiscard]] log_index first_index() const noexcept { return first_; }
  [[nodiscard]] log_index last_index() const noexcept { return first_ + live_count() - 1; }

  result<log_index> append(byte_view record) { return append(record, byte_view{}); }

  result<byte_view> read(log_index i) const {
    if (i < first_ || i > last_index()) return fail(errc::out_of_range, "read outside the log", i.value());
    const std::size_t k = dead_ + static_cast<std::size_t>(i - first_);
    const std::size_t begin = start_of(k);
    return byte_view{arena_.data() + begin, ends_[k] - begin};
  }

  // The same as append() of head and body joined, without joining them
  // first: raft_log writes an entry's header and its data this way.
  result<log_index> append(byte_view head, byte_view body) {
    const std::size_t size = head.size() + body.size();
    if (size > options_.max_record_bytes) return fail(errc::too_large, "record over max_record_bytes", size);
    if (last_index().value() == std::numeric_limits<std::uint64_t>::max())
      return fail(errc::out_of_range, "log position space exhausted");
    if (detail::aliases(arena_, head) || detail::aliases(arena_, body)) {
      const record_parts one{head, body};
      return append_copies(std::span<const record_parts>{&one, 1});
    }
    write(arena_.extend(size), head, body);
    ends_.push_back(arena_.size());
    return last_index();
  }

  // Appends every record in order (each a head and a body, as if joined):
  // one check and at most one growth for the run. On an error nothing is appended.
  result<log_index> append_run(std::span<const record_parts> records) {
    std::size_t total = 0;
    for (const record_parts& r : records) {
      const std::size_t size = r.head.size() + r.body.size();
      if (size > options_.max_record_bytes) return fail(errc::too_large, "record over max_record_bytes", size);
      total += size;
    }
    if (std::numeric_limits<std::uint64_t>::max() - last_index().value() < records.size())
      return fail(errc::out_of_range, "log position space exhausted");
    for (const record_parts& r : records)
      if (detail::aliases(arena_, r.head) || detail::aliases(arena_, r.body)) return append_copies(records);
    std::byte* out = arena_.extend(total);
    std::size_t end = arena_.size() - total;
    for (const record_parts& r : records) {
      out = write(out, r.head, r.body);
      end += r.head.size() + r.body.size();
      ends_.push_back(end);
    }
    return last_index();
  }

  result<void> truncate(log_index i) {
    if (i < first_ || i > last_index().next())
      return fail(errc::out_of_range, "truncate outside [first_index, last_index + 1]", i.value());
    const std::size_t k = dead_ + static_cast<std::size_t>(i - first_);
    arena_.resize_down(start_of(k));
    ends_.resize(k);
    return {};
  }

  // Compacting to or below first_index() is a no-op: the prefix is gone already.
  result<void> compact(log_index i) {
    if (i <= first_) return {};
    if (i > last_index()) {
      arena_.clear();
      ends_.clear();
      dead_ = 0;
      shrink_if_sparse();
    } else {
      dead_ += static_cast<std::size_t>(i - first_);
      reclaim_if_worth_it();
    }
    first_ = i;
    return {};
  }

  result<void> save_state(byte_view state) {
    if (state.size() > options_.max_state_bytes)
      return fail(errc::too_large, "state over max_state_bytes", state.size());
    if (detail::aliases(state_, state)) {
      byte_buffer copy(state.begin(), state.end());
      state_.swap(copy);
    } else {
      state_.assign(state.begin(), state.end());
    }
    return {};
  }

  [[nodiscard]] byte_view state() const noexcept { return state_; }

  result<void> sync() noexcept {
    ++sync_count_;
    return {};
  }

  // How many times sync() was called: the durability barriers a protocol asked for.
  [[nodiscard]] std::uint64_t sync_count() const noexcept { return sync_count_; }
  // Bytes of live records (what a snapshot would have to replace).
  [[nodiscard]] std::size_t live_bytes() const noexcept { return arena_.size() - start_of(dead_); }
  [[nodiscard]] const memory_log_options& options() const noexcept { return options_; }

 private:
  [[nodiscard]] std::size_t live_count() const noexcept { return ends_.size() - dead_; }

  // Writes head then body at out; returns the end. Heads are a few bytes:
  // a loop beats a call to memcpy.
  static std::byte* write(std::byte* out, byte_view head, byte_view body) noexcept {
    for (std::byte b : head) *out++ = b;
    if (!body.empty()) std::memcpy(out, body.data(), body.size());
    return out + body.size();
  }

  // Records that view the arena itself (a record read back and appended
  // again) are copied out first: the arena may move while it grows.
  result<log_index> append_copies(std::span<const record_parts> records) {
    byte_buffer copy;
    std::vector<std::size_t> ends;
    for (const record_parts& r : records) {
      copy.insert(copy.end(), r.head.begin(), r.head.end());
      copy.insert(copy.end(), r.body.begin(), r.body.end());
      ends.push_back(copy.size());
    }
    std::vector<record_parts> parts;
    for (std::size_t k = 0, begin = 0; k < ends.size(); begin = ends[k], ++k)
      parts.push_back(record_parts{byte_view{copy}.subspan(begin, ends[k] - begin), byte_view{}});
    return append_run(std::span<const record_parts>{parts});
  }
  [[nodiscard]] std::size_t start_of(std::size_t k) const noexcept { return k == 0 ? 0 : ends_[k - 1]; }

  // Compacted records stay in the arena until they outweigh the live ones, so
  // reclaiming (a move of the live part) costs O(1) amortised per record.
  void reclaim_if_worth_it() {
    const std::size_t dead_bytes = start_of(dead_);
    const std::size_t live = live_count() + live_bytes();
    if (dead_ + dead_bytes < live || dead_ == 0) return;
    arena_.erase_front(dead_bytes);
    ends_.erase(ends_.begin(), ends_.begin() + static_cast<std::ptrdiff_t>(dead_));
    for (auto& e : ends_) e -= dead_bytes;
    dead_ = 0;
    shrink_if_sparse();
  }

  // Gives memory back once the log has shrunk to a quarter of its peak.
  void shrink_if_sparse() {
    constexpr std::size_t keep = 64 * 1024;
    if (arena_.capacity() > keep && arena_.capacity() / 4 > arena_.size()) arena_.shrink_to_fit();
    if (ends_.capacity() > keep / 8 && ends_.capacity() / 4 > ends_.size()) ends_.shrink_to_fit();
  }

  memory_log_options options_{};
  log_index first_{1};
  detail::byte_arena arena_;        // record bytes back to back, compacted ones first
  std::vector<std::size_t> ends_;   // ends_[k]: end in arena_ of the k-th stored record
  std::size_t dead_ = 0;            // leading records of ends_ already compacted away
  byte_buffer state_;
  std::uint64_t sync_count_ = 0;
};

static_assert(quorum::check_log<memory_log>());

}  // namespace quorum::storage
