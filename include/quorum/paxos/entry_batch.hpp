// The body of one outbound accept, promise or catch-up message: values copied
// out of the Log into one reused arena (a Log's read views die at its next
// call), or viewed where they stay put until the message is sent (the
// journal's record cache), bounded by a count and a byte budget, then handed
// out as views.
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
    copied_ = 0;
  }

  // Whether e still fits: max_entries, and max_bytes unless the batch is empty.
  [[nodiscard]] bool fits(const entry& e, std::size_t max_entries, std::size_t max_bytes) const noexcept {
    if (meta_.size() >= max_entries) return false;
    return meta_.empty() || bytes_ + e.data.size() <= max_bytes;
  }

  void add(const entry& e) {
    offsets_.resize(meta_.size(), external);  // the views before it, if any (kept only once a value is copied)
    meta_.push_back(entry{e.slot, e.bal, e.kind, byte_view{}});
    offsets_.push_back(arena_.size());
    ++copied_;
    arena_.insert(arena_.end(), e.data.begin(), e.data.end());
    bytes_ += e.data.size();
  }

  // Adds e without copying its value: e.data must stay valid until the
  // message is sent.
  void add_view(const entry& e) {
    meta_.push_back(e);
    if (copied_ != 0) offsets_.push_back(external);
    bytes_ += e.data.size();
  }

  // The same, at ballot `as` unless that is 0.
  void add_view(const entry& e, ballot as) {
    meta_.push_back(e);
    if (as.round != 0) meta_.back().bal = as;
    if (copied_ != 0) offsets_.push_back(external);
    bytes_ += e.data.size();
  }

  // add_view(make(k)) for k = 0 .. n - 1, in one piece; bytes: their
  // values' size (the caller checked that they fit).
  template <class Make>
  void add_views(std::size_t n, std::size_t bytes, Make&& make) {
    const std::size_t old = meta_.size();
    meta_.resize(old + n);
    entry* out = meta_.data() + old;
    for (std::size_t k = 0; k < n; ++k) out[k] = make(k);
    if (copied_ != 0) offsets_.resize(meta_.size(), external);
    bytes_ += bytes;
  }

  [[nodiscard]] std::size_t size() const noexcept { return meta_.size(); }
  // The values' bytes so far.
  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }

  // The entries, valid until the next clear() or add().
  [[nodiscard]] std::span<const entry> views() {
    if (copied_ == 0) return meta_;  // every value viewed where it stays
    views_.clear();
    // Views are taken only now: the arena may have moved while it grew.
    std::size_t next_offset = arena_.size();  // where the copied value after i starts
    views_.resize(meta_.size());
    for (std::size_t i = meta_.size(); i-- > 0;) {
      views_[i] = meta_[i];
      if (offsets_[i] == external) continue;
      views_[i].data = byte_view{arena_}.subspan(offsets_[i], next_offset - offsets_[i]);
      next_offset = offsets_[i];
    }
    return views_;
  }

  [[nodiscard]] bool empty() const noexcept { return meta_.empty(); }
  [[nodiscard]] const entry& back() const noexcept { return meta_.back(); }

 private:
  static constexpr std::size_t external = ~std::size_t{0};  // offsets_: a viewed value

  byte_buffer arena_;
  std::vector<entry> meta_;
  std::vector<std::size_t> offsets_;  // into arena_, or external; empty while nothing is copied
  std::vector<entry> views_;
  std::size_t bytes_{0};
  std::size_t copied_{0};  // entries added by add()
};

}  // namespace quorum::paxos
