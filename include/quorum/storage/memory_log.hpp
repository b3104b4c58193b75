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

}  // namespace detail

// Records live in blocks of block_bytes (a record larger than that gets a
// block of its own) that never move once written: the log grows without
// copying what it holds, a record may be appended from a view of the log's
// own bytes, and compaction frees whole blocks instead of moving the rest.
class memory_log {
 public:
  static constexpr std::size_t block_bytes = std::size_t{64} << 10;
  // core/log.hpp's optional promise: blocks never move, truncation and
  // compaction free or reuse only the bytes of the records they remove.
  static constexpr bool records_stay_in_place = true;

  memory_log() = default;
  explicit memory_log(memory_log_options options) : options_{options} {}

  [[nodiscard]] log_index first_index() const noexcept { return first_; }
  [[nodiscard]] log_index last_index() const noexcept { return first_ + count_ - 1; }

  // A whole record is written as a body: the copy made for long bytes.
  result<log_index> append(byte_view record) { return append(byte_view{}, record); }

  // Inlined: raft_log reads each record it has just written, to view it.
  [[gnu::always_inline]] result<byte_view> read(log_index i) const {
    if (i < first_ || i > last_index()) [[unlikely]] return read_outside(i);
    const ref& r = refs_.at(i.value());
    return byte_view{blocks_[r.block - first_block_].bytes.get() + r.offset, r.size};
  }

  // The same as append() of head and body joined, without joining them
  // first: raft_log writes an entry's header and its data this way, once per
  // leader proposal (inlined there: the call would cost a quarter of it).
  [[gnu::always_inline]] result<log_index> append(byte_view head, byte_view body) {
    const std::size_t size = head.size() + body.size();
    if (size > options_.max_record_bytes || last_index().value() == std::numeric_limits<std::uint64_t>::max())
        [[unlikely]]
      return refuse(size);
    write(head, body);
    return last_index();
  }

  // Appends every record in order (each a head and a body, as if joined):
  // one pass for the run. On an error nothing is appended.
  result<log_index> append_run(std::span<const record_parts> records) {
    QUORUM_TRY(write_run(
        records.size(), [records](std::size_t k) { return records[k]; }, [](std::size_t, byte_view) {}));
    return last_index();
  }

  // The same, and placed[k] views record k where it now stays (core/log.hpp:
  // what read() would give), so that raft_log need not read the run back.
  result<log_index> append_run(std::span<const record_parts> records, std::span<byte_view> placed) {
    QUORUM_ASSERT(placed.size() >= records.size());
    byte_view* const out = placed.data();
    QUORUM_TRY(write_run(
        records.size(), [records](std::size_t k) { return records[k]; },
        [out](std::size_t k, byte_view at) { out[k] = at; }));
    return last_index();
  }

  // The same as append_run of n records given one at a time: parts(k) gives
  // record k (a record_parts; called in order, and again for k when the run
  // outgrows the last block, so it must give the same each time), and
  // place(k, view) is told where record k now stays (core/log.hpp, optional).
  // One pass that builds no list of records: raft_log writes a run's views
  // straight into its entry cache from place(). On an error nothing is
  // appended and place() may have been called for some records.
  template <class Parts, class Place>
  [[gnu::always_inline]] result<log_index> append_run_with(std::size_t n, Parts&& parts, Place&& place) {
    QUORUM_TRY(write_run(n, parts, place));
    return last_index();
  }

  // append(head, body), and `placed` views the record where it now stays
  // (core/log.hpp: what read() would give): raft_log caches a leader's
  // proposal as that view instead of reading the record back.
  [[gnu::always_inline]] result<log_index> append(byte_view head, byte_view body, byte_view& placed) {
    const std::size_t size = head.size() + body.size();
    if (size > options_.max_record_bytes || last_index().value() == std::numeric_limits<std::uint64_t>::max())
        [[unlikely]]
      return refuse(size);
    placed = write(head, body);
    return last_index();
  }

  // append(h, b, placed) with the body given as n pieces: piece(k) gives
  // piece k (asked once each, in order) and body_bytes is their size in
  // all. The pieces are copied straight into the record, nothing joined
  // first: the Paxos journal writes an accept's values this way when they
  // lie apart (a decoded message's, each after its length on the wire).
  template <class Piece>
  [[gnu::always_inline]] result<log_index> append_gathered(byte_view head, std::size_t n, std::size_t body_bytes,
                                                           const Piece& piece, byte_view& placed) {
    const std::size_t size = head.size() + body_bytes;
    if (size > options_.max_record_bytes || last_index().value() == std::numeric_limits<std::uint64_t>::max())
        [[unlikely]]
      return refuse(size);
    if (blocks_.empty() || blocks_.back().capacity - blocks_.back().used < size) add_block(size);
    block& b = blocks_.back();
    std::byte* const start = b.bytes.get() + b.used;
    write_head(start, head);
    std::byte* out = start + head.size();
    std::byte* const end = start + size;
    for (std::size_t k = 0; k < n; ++k) {
      const byte_view v = piece(k);
      QUORUM_ASSERT(v.size() <= static_cast<std::size_t>(end - out));  // the pieces add up to body_bytes
      copy_bytes(out, v);
      out += v.size();
    }
    QUORUM_ASSERT(out == end);
    refs_.set(first_.value() + count_, ref{end_block_ - 1, b.used, size});
    ++count_;
    b.used += size;
    live_bytes_ += size;
    placed = byte_view{start, size};
    return last_index();
  }

  result<void> truncate(log_index i) {
    if (i < first_ || i > last_index().next())
      return fail(errc::out_of_range, "truncate outside [first_index, last_index + 1]", i.value());
    if (i > last_index()) return {};
    for (log_index j = i; j <= last_index(); j = j.next()) live_bytes_ -= refs_.at(j.value()).size;
    const ref cut = refs_.at(i.value());
    while (first_block_ + blocks_.size() > cut.block + 1) drop_last_block();
    blocks_.back().used = cut.offset;
    count_ = static_cast<std::size_t>(i - first_);
    refs_.truncate(i.value());
    return {};
  }

  // Compacting to or below first_index() is a no-op: the prefix is gone already.
  result<void> compact(log_index i) {
    if (i <= first_) return {};
    if (i > last_index()) {
      while (!blocks_.empty()) drop_first_block();
      live_bytes_ = 0;
      count_ = 0;
    } else {
      live_bytes_ -= bytes_before(i);
      while (first_block_ < refs_.at(i.value()).block) drop_first_block();  // blocks holding only compacted records
      count_ -= static_cast<std::size_t>(i - first_);
    }
    refs_.start_at(i.value());
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
  [[nodiscard]] std::size_t live_bytes() const noexcept { return live_bytes_; }
  [[nodiscard]] const memory_log_options& options() const noexcept { return options_; }

 private:
  // Writes the run parts(0) .. parts(n - 1), telling place(k, view) where
  // record k went. The records that fit the last block are written and
  // checked in one pass and counted only at the end, so a record over the
  // limit leaves nothing appended; a run that outgrows the block (rare)
  // checks the rest first.
  template <class Parts, class Place>
  [[gnu::always_inline]] result<void> write_run(const std::size_t n, const Parts& parts, const Place& place) {
    if (std::numeric_limits<std::uint64_t>::max() - last_index().value() < n) [[unlikely]] {
      auto e = refuse(0);
      return unexpected{e.error()};
    }
    std::size_t k = 0, bytes = 0;
    if (!blocks_.empty()) {
      block& b = blocks_.back();
      const std::size_t block_no = end_block_ - 1;
      std::byte* const base = b.bytes.get();
      const std::size_t start = b.used;
      std::size_t used = start;
      std::uint64_t p = first_.value() + count_;
      while (k < n) {
        // The refs of positions p.. lie in one page up to its end.
        const auto [slot, room] = refs_.tail_slots(p);
        const std::size_t end = k + static_cast<std::size_t>(std::min<std::uint64_t>(room, n - k));
        const std::size_t page_first = k;
        for (; k < end; ++k) {
          const record_parts r = parts(k);
          const std::size_t size = r.head.size() + r.body.size();
          if (size > options_.max_record_bytes) [[unlikely]] {
            auto e = refuse(size);
            return unexpected{e.error()};
          }
          if (b.capacity - used < size) break;
          std::byte* out = base + used;
          write_head(out, r.head);
          copy_bytes(out + r.head.size(), r.body);  // never overlaps: written past every byte in use
          slot[k - page_first] = ref{block_no, used, size};
          place(k, byte_view{out, size});
          used += size;
        }
        if (k < end) break;  // the block is full
        p += room;
      }
      bytes = used - start;
      if (k < n) {  // the rest goes to new blocks: every record checked before any is counted
        for (std::size_t j = k; j < n; ++j) {
          const record_parts r = parts(j);
          const std::size_t size = r.head.size() + r.body.size();
          if (size > options_.max_record_bytes) [[unlikely]] {
            auto e = refuse(size);
            return unexpected{e.error()};
          }
        }
      }
      b.used = used;
      count_ += k;
      live_bytes_ += bytes;
    } else {
      for (std::size_t j = 0; j < n; ++j) {
        const record_parts r = parts(j);
        const std::size_t size = r.head.size() + r.body.size();
        if (size > options_.max_record_bytes) [[unlikely]] {
          auto e = refuse(size);
          return unexpected{e.error()};
        }
      }
    }
    for (; k < n; ++k) {
      const record_parts r = parts(k);
      place(k, write(r.head, r.body));
    }
    return {};
  }

  // The errors, out of line: the paths that take them are hot.
  [[gnu::noinline, gnu::cold]] result<byte_view> read_outside(log_index i) const {
    return fail(errc::out_of_range, "read outside the log", i.value());
  }
  [[gnu::noinline, gnu::cold]] result<log_index> refuse(std::size_t size) const {
    if (size > options_.max_record_bytes) return fail(errc::too_large, "record over max_record_bytes", size);
    return fail(errc::out_of_range, "log position space exhausted");
  }

  // Where a record is: its block (counted over the log's life), offset, size.
  struct ref {
    std::size_t block;
    std::size_t offset;
    std::size_t size;
  };

  struct block {
    std::unique_ptr<std::byte[]> bytes;
    std::size_t capacity = 0;
    std::size_t used = 0;

    block() = default;
    explicit block(std::size_t n) : bytes{std::make_unique_for_overwrite<std::byte[]>(n)}, capacity{n} {}
    block(const block& o) : block(o.used) {  // a copy keeps only the bytes in use
      used = o.used;
      if (used > 0) std::memcpy(bytes.get(), o.bytes.get(), used);
    }
    block(block&&) noexcept = default;
    block& operator=(const block& o) {
      if (this != &o) *this = block{o};
      return *this;
    }
    block& operator=(block&&) noexcept = default;
    ~block() = default;
  };

  // Where position p's record is, in pages of refs that never move: the
  // table grows and shrinks by whole pages, copying none.
  class ref_table {
   public:
    static constexpr std::size_t page_bits = 10;
    static constexpr std::uint64_t page_size = std::uint64_t{1} << page_bits;

    ref_table() = default;
    ref_table(const ref_table& o) : first_page_{o.first_page_} {
      for (const auto& p : o.pages_) {
        pages_.push_back(std::make_unique_for_overwrite<ref[]>(page_size));
        std::copy(p.get(), p.get() + page_size, pages_.back().get());
      }
    }
    ref_table(ref_table&&) noexcept = default;
    ref_table& operator=(const ref_table& o) {
      if (this != &o) *this = ref_table{o};
      return *this;
    }
    ref_table& operator=(ref_table&&) noexcept = default;
    ~ref_table() = default;

    [[nodiscard]] const ref& at(std::uint64_t p) const noexcept {
      return pages_[static_cast<std::size_t>((p >> page_bits) - first_page_)][p & (page_size - 1)];
    }
    // p is the position after the last one set (or the table's first).
    [[gnu::always_inline]] void set(std::uint64_t p, const ref& r) {
      const auto page = static_cast<std::size_t>((p >> page_bits) - first_page_);
      if (page == pages_.size()) add_page();
      pages_[page][p & (page_size - 1)] = r;
    }
    // The slots of positions p, p + 1, ... to the end of p's page, and how
    // many there are; p as for set().
    struct slots {
      ref* first;
      std::uint64_t count;
    };
    [[gnu::always_inline]] slots tail_slots(std::uint64_t p) {
      const auto page = static_cast<std::size_t>((p >> page_bits) - first_page_);
      if (page == pages_.size()) add_page();
      const std::uint64_t at = p & (page_size - 1);
      return slots{pages_[page].get() + at, page_size - at};
    }
    // Forgets positions >= p: keeps the pages that start below p.
    void truncate(std::uint64_t p) {
      const auto keep = static_cast<std::size_t>((p >> page_bits) - first_page_ + ((p & (page_size - 1)) != 0 ? 1 : 0));
      if (pages_.size() > keep) pages_.resize(keep);
    }
    // Forgets positions < p; p may lie past the end (the log restarts there).
    void start_at(std::uint64_t p) {
      const std::uint64_t page = p >> page_bits;
      const std::uint64_t drop = std::min<std::uint64_t>(page - first_page_, pages_.size());
      pages_.erase(pages_.begin(), pages_.begin() + static_cast<std::ptrdiff_t>(drop));
      if (pages_.empty()) first_page_ = page;
      else first_page_ += drop;
    }

   private:
    [[gnu::noinline]] void add_page() { pages_.push_back(std::make_unique_for_overwrite<ref[]>(page_size)); }

    std::vector<std::unique_ptr<ref[]>> pages_;  // pages_[k] holds positions of page first_page_ + k
    std::uint64_t first_page_ = 0;
  };

  // Writes head then body as the next record. Heads are a few bytes: a loop
  // beats a call to memcpy. Never moves a stored byte, so head and body may
  // view the log itself. Inlined into append and append_run's loop: a call
  // per record would cost as much as the record's copy.
  [[gnu::always_inline]] byte_view write(byte_view head, byte_view body) {
    const std::size_t size = head.size() + body.size();
    if (blocks_.empty() || blocks_.back().capacity - blocks_.back().used < size) add_block(size);
    block& b = blocks_.back();
    std::byte* out = b.bytes.get() + b.used;
    write_head(out, head);
    out += head.size();
    copy_bytes(out, body);
    refs_.set(first_.value() + count_, ref{end_block_ - 1, b.used, size});
    ++count_;
    b.used += size;
    live_bytes_ += size;
    return byte_view{out - head.size(), size};
  }

  // Heads are a few bytes (raft_log's: 2 or 3; the Paxos journal's: 3-8):
  // fixed-size moves for those, a long head (a caller's own framing) by memcpy.
  [[gnu::always_inline]] static void write_head(std::byte* out, byte_view head) noexcept {
    const std::size_t h = head.size();
    if (h == 2) [[likely]] {
      std::memcpy(out, head.data(), 2);
    } else if (h == 3) {
      std::memcpy(out, head.data(), 2);
      out[2] = head[2];
    } else if (h >= 4 && h <= 8) {  // two overlapping moves of four (Paxos's heads are 3-8 bytes)
      std::memcpy(out, head.data(), 4);
      std::memcpy(out + h - 4, head.data() + h - 4, 4);
    } else if (h < 4) {
      for (std::size_t k = 0; k < h; ++k) out[k] = head[k];
    } else {
      std::memcpy(out, head.data(), h);
    }
  }

  // A block emptied earlier is reused when it is large enough: in steady
  // state (compacting behind, appending ahead) the log allocates nothing.
  [[gnu::noinline]] void add_block(std::size_t record) {
    if (record <= block_bytes && spare_.capacity == block_bytes) {
      spare_.used = 0;
      blocks_.push_back(std::move(spare_));
      spare_ = block{};
    } else {
      blocks_.emplace_back(std::max(record, block_bytes));
    }
    ++end_block_;
  }

  // The bytes of the records first_ .. i - 1 (i <= last_index()). Records
  // lie back to back in a block and each block's first record starts it, so
  // this sums offsets per block instead of sizes per record: compaction
  // costs per block, not per record.
  [[nodiscard]] std::size_t bytes_before(log_index i) const {
    const ref from = refs_.at(first_.value());
    const ref to = refs_.at(i.value());
    if (from.block == to.block) return to.offset - from.offset;
    std::size_t bytes = blocks_[from.block - first_block_].used - from.offset;
    for (std::size_t b = from.block + 1; b < to.block; ++b) bytes += blocks_[b - first_block_].used;
    return bytes + to.offset;
  }

  void drop_first_block() {
    keep_spare(std::move(blocks_.front()));
    blocks_.erase(blocks_.begin());
    ++first_block_;
  }
  void drop_last_block() {
    keep_spare(std::move(blocks_.back()));
    blocks_.pop_back();
    --end_block_;
  }
  void keep_spare(block&& b) noexcept {
    if (b.capacity == block_bytes) spare_ = std::move(b);
  }

  memory_log_options options_{};
  log_index first_{1};
  std::vector<block> blocks_;     // blocks_[k] is block first_block_ + k
  std::size_t first_block_ = 0;
  std::size_t end_block_ = 0;     // first_block_ + blocks_.size(): the number the next block gets
  block spare_;                   // the last block emptied, kept for the next one needed
  ref_table refs_;                // by position
  std::size_t count_ = 0;         // records held: positions first_ .. first_ + count_ - 1
  std::size_t live_bytes_ = 0;
  byte_buffer state_;
  std::uint64_t sync_count_ = 0;
};

static_assert(quorum::check_log<memory_log>());

}  // namespace quorum::storage
