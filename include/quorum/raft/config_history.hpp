// The configurations a node's log holds: the one in force at the log's base
// (the bootstrap configuration, or the snapshot's), then one per
// configuration entry after it. A configuration takes effect when appended
// (§6, thesis §4.1), so a truncated entry must give back the one before it.
#pragma once

#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/raft/configuration.hpp"

namespace quorum::raft {

class config_history {
 public:
  struct entry {
    log_index index;  // the entry that set it (0: bootstrap)
    raft::membership config;
  };

  void reset(log_index index, raft::membership base) {
    entries_.clear();
    entries_.push_back(entry{index, std::move(base)});
  }

  void push(log_index index, raft::membership m) {
    QUORUM_ASSERT(index > entries_.back().index);
    entries_.push_back(entry{index, std::move(m)});
  }

  // Forgets the entries at or after i; true if the latest one changed.
  bool truncate(log_index i) {
    bool changed = false;
    while (entries_.size() > 1 && entries_.back().index >= i) {
      entries_.pop_back();
      changed = true;
    }
    return changed;
  }

  // Keeps only what a snapshot at `applied` or later could need.
  void forget_before(log_index applied) {
    std::size_t drop = 0;
    while (drop + 1 < entries_.size() && entries_[drop + 1].index <= applied) ++drop;
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(drop));
  }

  [[nodiscard]] const entry& latest() const noexcept { return entries_.back(); }

  // The configuration in force at index i (i >= the oldest one kept).
  [[nodiscard]] const entry& at(log_index i) const noexcept {
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
      if (it->index <= i) return *it;
    return entries_.front();
  }

  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

 private:
  std::vector<entry> entries_{entry{}};
};

}  // namespace quorum::raft
