// entry_cache: the recent tail of a Raft log in memory, entry views into one
// reused arena (or, over a Log that keeps records in place, into the Log's own
// bytes), owned by raft_log: appends to followers and applying read it
// instead of reading and decoding the Log; what it does not hold comes from the Log.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/raft/entry.hpp"

namespace quorum::raft {

namespace detail {

// The cache's entry views: a vector whose push_back stays inline (growth is
// out of line and rare: the cache reuses its room), since a leader pushes
// one view per proposal and std::vector's push_back was a call each time.
class view_line {
 public:
  view_line() = default;
  view_line(const view_line&) = delete;
  view_line& operator=(const view_line&) = delete;
  view_line(view_line&&) noexcept = default;
  view_line& operator=(view_line&&) noexcept = default;
  ~view_line() = default;

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] entry_view* data() noexcept { return items_.get(); }
  [[nodiscard]] const entry_view* data() const noexcept { return items_.get(); }
  [[nodiscard]] entry_view& operator[](std::size_t k) noexcept { return items_[k]; }
  [[nodiscard]] const entry_view& operator[](std::size_t k) const noexcept { return items_[k]; }
  [[nodiscard]] entry_view& back() noexcept { return items_[size_ - 1]; }

  void push_back(const entry_view& e) {
    if (size_ == capacity_) grow(size_ + 1);
    items_[size_++] = e;
  }
  // push_back when size() < capacity() is known already.
  void push_back_in_room(const entry_view& e) noexcept {
    QUORUM_ASSERT(size_ < capacity_);
    items_[size_++] = e;
  }
  void append(std::span<const entry_view> es) {
    if (capacity_ - size_ < es.size()) grow(size_ + es.size());
    std::copy(es.begin(), es.end(), items_.get() + size_);
    size_ += es.size();
  }
  // n more slots at the end, for the caller to fill.
  entry_view* extend(std::size_t n) {
    if (capacity_ - size_ < n) grow(size_ + n);
    entry_view* slots = items_.get() + size_;
    size_ += n;
    return slots;
  }
  void pop_back() noexcept { --size_; }
  void clear() noexcept { size_ = 0; }
  // Drops the first n, moving the rest to the front.
  void erase_front(std::size_t n) noexcept {
    std::copy(items_.get() + n, items_.get() + size_, items_.get());
    size_ -= n;
  }

 private:
  [[gnu::noinline]] void grow(std::size_t need) {
    const std::size_t cap = std::max({need, 2 * capacity_, std::size_t{16}});
    auto bigger = std::make_unique<entry_view[]>(cap);
    std::copy(items_.get(), items_.get() + size_, bigger.get());
    items_ = std::move(bigger);
    capacity_ = cap;
  }

  std::unique_ptr<entry_view[]> items_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace detail

struct entry_cache_options {
  // Bytes the cache may hold: entry data plus sizeof(entry_view) per entry.
  // Beyond it the oldest entries are dropped (and read from the Log when
  // needed); an entry alone over it is not cached. 0 turns the cache off.
  std::size_t max_bytes = std::size_t{8} << 20;
};

class entry_cache {
 public:
  static constexpr std::size_t per_entry_bytes = sizeof(entry_view);

  // Where cached entries' bytes live.
  //   copies: in the cache's own arena, copied in by append().
  //   borrowed: where the appended views point (raft_log passes views of a
  //     Log whose records stay in place, core/log.hpp); the caller keeps those
  //     bytes valid while the entry is cached. Nothing is copied.
  enum class storage { copies, borrowed };

  explicit entry_cache(entry_cache_options o = {}, storage s = storage::copies) noexcept
      : opts_{o}, borrowed_{s == storage::borrowed} {}
  [[nodiscard]] bool borrows() const noexcept { return borrowed_; }

  // The cache holds [first(), last()]; empty when first() > last().
  [[nodiscard]] log_index first() const noexcept { return first_; }
  [[nodiscard]] log_index last() const noexcept { return first_ + live() - 1; }
  [[nodiscard]] bool holds(log_index i) const noexcept { return i >= first_ && i - first_ < live(); }
  [[nodiscard]] std::size_t size() const noexcept { return live(); }
  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
  [[nodiscard]] const entry_cache_options& options() const noexcept { return opts_; }
  // True when an entry of data_bytes can be appended without dropping any.
  [[nodiscard]] bool fits(std::size_t data_bytes) const noexcept {
    return data_bytes + per_entry_bytes <= opts_.max_bytes - bytes_;
  }

  // Entry i as cached; holds(i) must be true. Valid until the next non-const call.
  [[nodiscard]] const entry_view& at(log_index i) const noexcept {
    QUORUM_ASSERT(holds(i));
    return views_[head_ + static_cast<std::size_t>(i - first_)];
  }

  // The cached entries from `from` (held) on: at most max_entries, and about
  // max_bytes of data (at least one entry). Valid until the next non-const call.
  [[nodiscard]] std::span<const entry_view> run(log_index from, std::size_t max_entries,
                                                std::size_t max_bytes) const noexcept {
    QUORUM_ASSERT(holds(from));
    const std::size_t begin = head_ + static_cast<std::size_t>(from - first_);
    const std::size_t end = begin + std::min(max_entries, views_.size() - begin);
    // All the cached data within max_bytes (nearly always): so is any run of it.
    if (bytes_ - live() * per_entry_bytes <= max_bytes)
      return std::span<const entry_view>{views_.data() + begin, end - begin};
    std::size_t k = begin, data = 0;
    for (; k < end; ++k) {
      if (k > begin && data + views_[k].data.size() > max_bytes) break;
      data += views_[k].data.size();
    }
    return std::span<const entry_view>{views_.data() + begin, k - begin};
  }

  // Up to n cached entries from `from` on; empty when `from` is not held.
  [[nodiscard]] std::span<const entry_view> upto(log_index from, std::uint64_t n) const noexcept {
    if (!holds(from)) return {};
    const std::size_t begin = head_ + static_cast<std::size_t>(from - first_);
    const std::size_t count = static_cast<std::size_t>(std::min<std::uint64_t>(n, views_.size() - begin));
    return std::span<const entry_view>{views_.data() + begin, count};
  }

  // Entry i follows the log; when it does not follow last(), the cache
  // starts over at i (the Log was reset under it).
  [[gnu::always_inline, gnu::flatten]] void append(log_index i, const entry_view& e) {
    // The steady state of a cache that borrows: a view appended in place.
    if (borrowed_ && i == last().next() && e.data.size() + per_entry_bytes <= opts_.max_bytes - bytes_ &&
        views_.size() < views_.capacity()) {
      views_.push_back_in_room(e);  // the check above leaves room
      bytes_ += e.data.size() + per_entry_bytes;
      return;
    }
    append_any(i, e);
  }

 private:
  [[gnu::noinline]] void append_any(log_index i, const entry_view& e) {
    if (i != last().next()) restart(i);
    const std::size_t need = e.data.size() + per_entry_bytes;
    if (need > opts_.max_bytes) return restart(i.next());  // too large to keep: stay contiguous after it
    while (bytes_ + need > opts_.max_bytes) drop_front();
    byte_view data = store(e.data);
    if (head_ > 0 && views_.size() == views_.capacity()) drop_dead_views();  // reuse, do not grow
    views_.push_back(entry_view{e.term, e.kind, data});
    bytes_ += need;
  }

 public:
  // Entries i, i + 1, ... follow the log: the same as append() of each, with
  // one room check and one view reservation for the run.
  void append_run(log_index i, std::span<const entry_view> es) {
    std::size_t data = 0;
    bool aliased = false;
    if (borrowed_) {
      for (const entry_view& e : es) data += e.data.size();
    } else {
      for (const entry_view& e : es) {
        data += e.data.size();
        aliased = aliased || (!e.data.empty() && aliases_arena(e.data));
      }
    }
    if (aliased) return append_run_copied(i, es, data);
    const std::size_t need = data + es.size() * per_entry_bytes;
    if (es.empty() || need > opts_.max_bytes) {  // rare: one at a time, dropping what does not fit
      for (std::size_t k = 0; k < es.size(); ++k) append(i + k, es[k]);
      return;
    }
    if (i != last().next()) restart(i);
    while (bytes_ + need > opts_.max_bytes) drop_front();
    if (borrowed_) {
      if (head_ > 0 && views_.capacity() - views_.size() < es.size()) drop_dead_views();  // reuse, do not grow
      views_.append(es);
      bytes_ += need;
      return;
    }
    if (tail_ + data > arena_bytes_) make_room(data);
    if (head_ > 0 && views_.capacity() - views_.size() < es.size()) drop_dead_views();  // reuse, do not grow
    std::byte* out = arena_.get() + tail_;
    for (const entry_view& e : es) {
      byte_view stored{};
      if (!e.data.empty()) {
        std::memcpy(out, e.data.data(), e.data.size());  // not the arena's own bytes: checked above
        stored = byte_view{out, e.data.size()};
        out += e.data.size();
      }
      views_.push_back(entry_view{e.term, e.kind, stored});
    }
    tail_ += data;
    bytes_ += need;
  }

  // A cache that borrows only: room for entries i .. i + n - 1 holding
  // data_bytes in all, as append_run() would make for them, returned as n
  // slots that the caller must fill at once with those entries' views (so a
  // run's views are written once, not built elsewhere and copied in). Empty
  // when the run would not fit at all: the cache then holds none of it.
  [[nodiscard]] std::span<entry_view> extend(log_index i, std::size_t n, std::size_t data_bytes) {
    QUORUM_ASSERT(borrowed_);
    const std::size_t need = data_bytes + n * per_entry_bytes;
    if (n == 0 || need > opts_.max_bytes) {
      restart(i + n);
      return {};
    }
    if (i != last().next()) restart(i);
    while (bytes_ + need > opts_.max_bytes) drop_front();
    if (head_ > 0 && views_.capacity() - views_.size() < n) drop_dead_views();  // reuse, do not grow
    bytes_ += need;
    return std::span<entry_view>{views_.extend(n), n};
  }

  // True when p points into the array of views (which extend() and the
  // appends may move): a run viewing it must not be appended through extend().
  [[nodiscard]] bool views_hold(const entry_view* p) const noexcept {
    const std::less<const entry_view*> before;
    return views_.data() != nullptr && !before(p, views_.data()) && before(p, views_.data() + views_.capacity());
  }

  // Forgets every index >= i.
  void truncate(log_index i) {
    if (i <= first_) return restart(i);
    while (live() > 0 && last() >= i) {
      // Data lies in entry order, so the last entry's bytes end the arena's line.
      const std::size_t n = views_.back().data.size();
      bytes_ -= n + per_entry_bytes;
      if (!borrowed_) tail_ -= n;
      views_.pop_back();
    }
    if (live() == 0) restart(i);
  }

  // Forgets every index <= upto: the entries leave in one step, their bytes
  // counted in one pass.
  void release(log_index upto) noexcept {
    if (upto < first_) return;
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(upto - first_ + 1, live()));
    if (n == live()) return restart(std::max(first_ + n, upto.next()));  // all of them: nothing to count
    std::size_t data = 0;
    for (std::size_t k = head_; k < head_ + n; ++k) data += views_[k].data.size();
    bytes_ -= data + n * per_entry_bytes;
    head_ += n;
    first_ = first_ + n;
    if (live() == 0) restart(std::max(first_, upto.next()));
  }

  // Empties the cache; the next entry it expects is `next`.
  void restart(log_index next) noexcept {
    views_.clear();
    head_ = 0;
    tail_ = 0;
    bytes_ = 0;
    first_ = next;
  }

 private:
  [[nodiscard]] std::size_t live() const noexcept { return views_.size() - head_; }

  void drop_front() noexcept {
    QUORUM_ASSERT(live() > 0);
    bytes_ -= views_[head_].data.size() + per_entry_bytes;
    ++head_;
    first_ = first_.next();
    if (live() == 0) restart(first_);
  }

  // Copies data behind the live entries: the arena is used as a line that
  // is packed to its front (views re-pointed) when it runs out, and grows
  // only when the live entries fill more than half of it, so that steady
  // state neither allocates nor moves more than O(1) bytes per entry.
  byte_view store(byte_view data) {
    if (data.empty()) return byte_view{};
    if (borrowed_) return data;
    if (tail_ + data.size() > arena_bytes_) {
      if (aliases_arena(data)) {  // an entry's own cached bytes proposed again: copy before they move
        const byte_buffer copy(data.begin(), data.end());
        return store_after_room(copy);
      }
      make_room(data.size());
    }
    // memmove: bytes of an entry just dropped may be stored again, over themselves.
    std::memmove(arena_.get() + tail_, data.data(), data.size());
    const byte_view stored{arena_.get() + tail_, data.size()};
    tail_ += data.size();
    return stored;
  }

  byte_view store_after_room(byte_view data) {
    make_room(data.size());
    return store(data);
  }

  // A run viewing the cache's own bytes (cached commands proposed again):
  // all of it is copied out first, since the arena may move under any entry.
  void append_run_copied(log_index i, std::span<const entry_view> es, std::size_t data) {
    byte_buffer copy;
    copy.reserve(data);
    for (const entry_view& e : es) copy.insert(copy.end(), e.data.begin(), e.data.end());
    std::vector<entry_view> views;
    std::size_t at = 0;
    for (const entry_view& e : es) {
      views.push_back(entry_view{e.term, e.kind, byte_view{copy}.subspan(at, e.data.size())});
      at += e.data.size();
    }
    append_run(i, views);
  }

  [[nodiscard]] bool aliases_arena(byte_view b) const noexcept {
    const std::less<const std::byte*> before;
    return arena_ && !before(b.data(), arena_.get()) && before(b.data(), arena_.get() + arena_bytes_);
  }

  void make_room(std::size_t n) {
    const std::size_t live_data = bytes_ - live() * per_entry_bytes;
    const std::size_t want = std::max(arena_bytes_, 2 * (live_data + n));
    if (want > arena_bytes_) {
      const std::size_t size = std::max(want, min_arena_bytes);
      auto bigger = std::make_unique_for_overwrite<std::byte[]>(size);  // no zeroing: every byte read is written first
      pack_into(bigger.get());
      arena_ = std::move(bigger);
      arena_bytes_ = size;
    } else {
      pack_into(arena_.get());
    }
    drop_dead_views();
  }

  void drop_dead_views() noexcept {
    views_.erase_front(head_);
    head_ = 0;
  }

  // Moves the live data, in order, to the front of `to` (which may be the
  // arena itself: each piece moves down or stays).
  void pack_into(std::byte* to) noexcept {
    std::size_t at = 0;
    for (std::size_t k = head_; k < views_.size(); ++k) {
      entry_view& v = views_[k];
      if (v.data.empty()) continue;
      std::memmove(to + at, v.data.data(), v.data.size());
      v.data = byte_view{to + at, v.data.size()};
      at += v.data.size();
    }
    tail_ = at;
  }

  static constexpr std::size_t min_arena_bytes = 4096;

  entry_cache_options opts_;
  bool borrowed_;
  std::unique_ptr<std::byte[]> arena_;  // entry data; live data sits before tail_
  std::size_t arena_bytes_ = 0;
  detail::view_line views_;  // views_[head_ + k] is entry first_ + k
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
  std::size_t bytes_ = 0;          // what the live entries count against max_bytes
  log_index first_{1};
};

}  // namespace quorum::raft
