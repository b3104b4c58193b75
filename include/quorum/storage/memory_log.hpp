// memory_log: the Log concept's exemplar, held entirely in memory. Used by
// tests, by benchmarks and as the model file_log is checked against; sync() is
// a no-op that only counts, so a test can see when a protocol asked for one.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
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

}  // namespace detail

class memory_log {
 public:
  memory_log() = default;
  explicit memory_log(memory_log_options options) : options_{options} {}

  [[nodiscard]] log_index first_index() const noexcept { return first_; }
  [[nodiscard]] log_index last_index() const noexcept { return first_ + live_count() - 1; }

  result<log_index> append(byte_view record) {
    if (record.size() > options_.max_record_bytes)
      return fail(errc::too_large, "record over max_record_bytes", record.size());
    if (last_index().value() == std::numeric_limits<std::uint64_t>::max())
      return fail(errc::out_of_range, "log position space exhausted");
    if (detail::aliases(arena_, record)) {
      const byte_buffer copy(record.begin(), record.end());
      arena_.insert(arena_.end(), copy.begin(), copy.end());
    } else {
      arena_.insert(arena_.end(), record.begin(), record.end());
    }
    ends_.push_back(arena_.size());
    return last_index();
  }

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
      byte_buffer copy(head.begin(), head.end());
      copy.insert(copy.end(), body.begin(), body.end());
      return append(copy);
    }
    arena_.insert(arena_.end(), head.begin(), head.end());
    arena_.insert(arena_.end(), body.begin(), body.end());
    ends_.push_back(arena_.size());
    return last_index();
  }

  result<void> truncate(log_index i) {
    if (i < first_ || i > last_index().next())
      return fail(errc::out_of_range, "truncate outside [first_index, last_index + 1]", i.value());
    const std::size_t k = dead_ + static_cast<std::size_t>(i - first_);
    arena_.resize(start_of(k));
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
  [[nodiscard]] std::size_t start_of(std::size_t k) const noexcept { return k == 0 ? 0 : ends_[k - 1]; }

  // Compacted records stay in the arena until they outweigh the live ones, so
  // reclaiming (a move of the live part) costs O(1) amortised per record.
  void reclaim_if_worth_it() {
    const std::size_t dead_bytes = start_of(dead_);
    const std::size_t live = live_count() + live_bytes();
    if (dead_ + dead_bytes < live || dead_ == 0) return;
    arena_.erase(arena_.begin(), arena_.begin() + static_cast<std::ptrdiff_t>(dead_bytes));
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
  byte_buffer arena_;               // record bytes back to back, compacted ones first
  std::vector<std::size_t> ends_;   // ends_[k]: end in arena_ of the k-th stored record
  std::size_t dead_ = 0;            // leading records of ends_ already compacted away
  byte_buffer state_;
  std::uint64_t sync_count_ = 0;
};

static_assert(quorum::check_log<memory_log>());

}  // namespace quorum::storage
