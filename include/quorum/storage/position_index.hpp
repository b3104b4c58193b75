// position_index: file_log's in-memory map from a log position to where its
// record lies (segment, offset, length). The same structure is rebuilt by
// recovery and kept by the writer, so both apply truncate/compact one way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/core/ids.hpp"

namespace quorum::storage::detail {

struct locator {
  std::uint64_t seq = 0;     // segment sequence number
  std::uint64_t offset = 0;  // offset of the record's first byte in that segment
  std::uint32_t length = 0;  // record bytes
};

class position_index {
 public:
  [[nodiscard]] log_index first() const noexcept { return first_; }
  [[nodiscard]] log_index last() const noexcept { return first_ + size() - 1; }
  [[nodiscard]] std::size_t size() const noexcept { return items_.size() - head_; }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }

  [[nodiscard]] const locator& at(log_index i) const noexcept {
    QUORUM_ASSERT(i >= first_ && i <= last());
    return items_[head_ + static_cast<std::size_t>(i - first_)];
  }
  [[nodiscard]] const locator& front() const noexcept { return items_[head_]; }

  void push_back(const locator& l) { items_.push_back(l); }

  // Drops positions >= i; first() <= i <= last() + 1.
  void truncate(log_index i) {
    QUORUM_ASSERT(i >= first_ && i <= last().next());
    items_.resize(head_ + static_cast<std::size_t>(i - first_));
  }

  // Drops positions < i; past the end, the index empties and starts at i.
  void compact(log_index i) {
    if (i <= first_) return;
    if (i > last()) {
      items_.clear();
      head_ = 0;
    } else {
      head_ += static_cast<std::size_t>(i - first_);
      // Move the live part down once the dead prefix outweighs it: O(1) amortised.
      if (head_ >= size()) {
        items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
      }
    }
    first_ = i;
  }

  // Restarts as an empty index whose next position is `next`.
  void reset(log_index next) {
    items_.clear();
    head_ = 0;
    first_ = next;
  }

 private:
  log_index first_{1};
  std::vector<locator> items_;
  std::size_t head_ = 0;
};

}  // namespace quorum::storage::detail
