// The body of one outbound accept, promise or catch-up message: values copied
// out of the Log into one reused arena (a Log's read views die at its next
// call), bounded by a count and a byte budget, then handed out as views.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "quorum/core/bytes.hpp"
#include "quorum/paxos/message.hpp"

namespace quorum::paxos {

class entry_batch {
 public:
  void clear() noexcept {
    arena_.clear();
    meta_.clear();
    offsets_.clear();
    views_.clear();
    bytes_ = 0;
  }

  // Whether e still fits: max_entries, and max_bytes unless the batch is empty.
  [[nodiscard]] bool fits(const entry& e, std::size_t max_entries, std::size_t max_bytes) const noexcept {
    if (meta_.size() >= max_entries) return false;
    return meta_.empty() || bytes_ + e.data.size() <= max_bytes;
  }

  void add(const entry& e) {
    meta_.push_back(entry{e.slot, e.bal, e.kind, byte_view{}});
    offsets_.push_back(arena_.size());
    arena_.insert(arena_.end(), e.data.begin(), e.data.end());
    bytes_ += e.data.size();
  }

  // The entries, valid until the next clear() or add().
  [[nodiscard]] std::span<const entry> views() {
    views_.clear();
    // Views are taken only now: the arena may have moved while it grew.
    for (std::size_t i = 0; i < meta_.size(); ++i) {
      const std::size_t end = i + 1 < meta_.size() ? offsets_[i + 1] : arena_.size();
      entry e = meta_[i];
      e.data = byte_view{arena_}.subspan(offsets_[i], end - offsets_[i]);
      views_.push_back(e);
    }
    return views_;
  }

  [[nodiscard]] bool empty() const noexcept { return meta_.empty(); }
  [[nodiscard]] const entry& back() const noexcept { return meta_.back(); }

 private:
  byte_buffer arena_;
  std::vector<entry> meta_;
  std::vector<std::size_t> offsets_;
  std::vector<entry> views_;
  std::size_t bytes_{0};
};

}  // namespace quorum::paxos
