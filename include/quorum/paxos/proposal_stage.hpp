// A leader's proposals inside node::batch(), waiting to be journalled as one
// run: each command is copied behind the ones before it, and the slots are
// consecutive at one ballot, so the journal takes the whole batch in the one
// pass propose_all() takes (one record, one copy into the Log) instead of a
// write per proposal. The Paxos counterpart of raft_log's staging buffer.
// Bounded by the node's window: at most max_open_slots commands of at most
// max_command_bytes each; the buffer keeps the largest batch's room.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "quorum/core/assert.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/paxos/message.hpp"

namespace quorum::paxos {

class proposal_stage {
 public:
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  // The commands' bytes staged so far.
  [[nodiscard]] std::size_t bytes() const noexcept { return used_; }
  // The staged slots: consecutive, at one ballot. Their values view the
  // stage: valid until the next add() or clear().
  [[nodiscard]] std::span<const entry> entries() const noexcept { return {entries_.get(), count_}; }

  // Stages a normal command at slot s, ballot b: the slot after the last
  // staged one, at its ballot, when any is staged.
  void add(log_index s, ballot b, byte_view command) {
    QUORUM_ASSERT(count_ == 0 || (s == entries_[count_ - 1].slot.next() && b == entries_[count_ - 1].bal));
    const std::size_t n = command.size();
    if (cap_ - used_ < n) [[unlikely]] grow(n);
    if (count_ == entry_cap_) [[unlikely]] grow_entries();
    std::byte* const out = bytes_.get() + used_;
    copy_bytes(out, command);
    used_ += n;
    // Stored in place, not by a vector's push_back, which GCC leaves out of
    // line: a call per proposal, about 20 instructions of a command's cost.
    entries_[count_++] = entry{s, b, entry_kind::normal, byte_view{out, n}};
  }

  // Forgets every staged command (journalled, or lost with a failed node).
  // The room stays, for the next batch: entries() taken before stays
  // readable until the next add() (a flush sends them after journalling).
  void clear() noexcept {
    count_ = 0;
    used_ = 0;
  }

 private:
  // Out of line and rare: the buffer only grows to the largest batch's bytes.
  // The staged entries' views move with it.
  [[gnu::noinline]] void grow(std::size_t n) {
    const std::size_t cap = std::max({2 * cap_, used_ + n, std::size_t{4096}});
    auto bigger = std::make_unique_for_overwrite<std::byte[]>(cap);
    if (used_ > 0) std::memcpy(bigger.get(), bytes_.get(), used_);
    for (std::size_t k = 0; k < count_; ++k) {
      entry& e = entries_[k];
      e.data = byte_view{bigger.get() + (e.data.data() - bytes_.get()), e.data.size()};
    }
    bytes_ = std::move(bigger);
    cap_ = cap;
  }

  // Out of line and rare: room for twice the entries (the window bounds them).
  [[gnu::noinline]] void grow_entries() {
    const std::size_t cap = std::max<std::size_t>(2 * entry_cap_, 64);
    auto bigger = std::make_unique<entry[]>(cap);
    std::copy(entries_.get(), entries_.get() + count_, bigger.get());
    entries_ = std::move(bigger);
    entry_cap_ = cap;
  }

  std::unique_ptr<entry[]> entries_;
  std::size_t count_{0};
  std::size_t entry_cap_{0};
  std::unique_ptr<std::byte[]> bytes_;
  std::size_t cap_{0};
  std::size_t used_{0};
};

}  // namespace quorum::paxos
