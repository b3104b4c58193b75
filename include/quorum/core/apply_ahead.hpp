// Applying a run of committed commands with a prefetch hint a few commands
// ahead. A state machine whose apply waits on memory (a hash table larger
// than the caches costs a miss per command) may offer `prefetch(b)` (see
// raft/state_machine.hpp): when a node applies several commands in one go,
// it hints each one `apply_ahead_distance` applies before its own, so that
// the miss overlaps the applies in between instead of stalling one of them.
// quorum-kv (a hash table of 100,000 keys) spends a fifth less CPU per SET
// on a follower with the hints (bench/README.md, quorum-kv run 17).
#pragma once

#include <cstddef>

namespace quorum::detail {

inline constexpr std::size_t apply_ahead_distance = 4;

// The last apply_ahead_distance items pushed: each push applies the item
// that many pushes behind it (once there is one), drain() the rest, in the
// order they were pushed. Items must stay valid until applied.
template <class Item>
class apply_ahead {
 public:
  template <class Apply>
  void push(const Item& item, Apply&& apply) {
    if (held_ < apply_ahead_distance) {
      ring_[(head_ + held_++) % apply_ahead_distance] = item;
      return;
    }
    const Item due = ring_[head_];
    ring_[head_] = item;
    head_ = (head_ + 1) % apply_ahead_distance;
    apply(due);
  }

  template <class Apply>
  void drain(Apply&& apply) {
    while (held_ > 0) {
      const Item due = ring_[head_];
      head_ = (head_ + 1) % apply_ahead_distance;
      --held_;
      apply(due);
    }
  }

  [[nodiscard]] std::size_t held() const noexcept { return held_; }

 private:
  Item ring_[apply_ahead_distance]{};
  std::size_t head_ = 0;
  std::size_t held_ = 0;
};

}  // namespace quorum::detail
