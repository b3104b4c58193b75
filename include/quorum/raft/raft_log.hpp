// raft_log: a node's view of its Log policy. Entry i at position i, every term
// in term_runs, the recent entries in an entry_cache, the hard state, and what
// a sync() has covered: the node may acknowledge or count only that.
#pragma once

#include <array>
#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/log.hpp"
#include "quorum/core/result.hpp"
#include "quorum/codec/varint.hpp"
#include "quorum/raft/entry.hpp"
#include "quorum/raft/entry_cache.hpp"
#include "quorum/raft/hard_state.hpp"
#include "quorum/raft/term_runs.hpp"

namespace quorum::raft {

namespace detail {

// A Log that can take a record in two pieces (header, body) saves raft_log
// from joining them in a scratch buffer first: memory_log does.
template <class L>
concept appends_in_two_pieces = requires(L& l, byte_view a, byte_view b) {
  { l.append(a, b) } -> std::same_as<result<log_index>>;
};

// A Log that takes a run of records in one call (core/log.hpp, optional)
// lets a follower store an append's entries with one check and one copy each.
template <class L>
concept appends_runs = requires(L& l, std::span<const record_parts> rs) {
  { l.append_run(rs) } -> std::same_as<result<log_index>>;
};

// A Log that also says where each record of a run now stays (core/log.hpp,
// optional, with the in-place promise): the cache views them without reads.
template <class L>
concept places_runs = requires(L& l, std::span<const record_parts> rs, std::span<byte_view> ps) {
  { l.append_run(rs, ps) } -> std::same_as<result<log_index>>;
};

// A Log that writes a run given record by record and says where each went
// (core/log.hpp, optional, with the in-place promise): a run's views go
// straight into the cache in the pass that writes it, no list built first.
struct run_parts_probe {
  record_parts operator()(std::size_t) const;
};
struct run_place_probe {
  void operator()(std::size_t, byte_view) const;
};
template <class L>
concept places_runs_in_one_pass =
    log_records_stay_in_place<L> && requires(L& l, std::size_t n, run_parts_probe p, run_place_probe q) {
      { l.append_run_with(n, p, q) } -> std::same_as<result<log_index>>;
    };

// The same for one record (core/log.hpp, optional): a leader's proposal is
// cached as a view of its record without reading the record back.
template <class L>
concept places_records = requires(L& l, byte_view h, byte_view b, byte_view& p) {
  { l.append(h, b, p) } -> std::same_as<result<log_index>>;
};

}  // namespace detail

template <class L>
class raft_log {
  static_assert(check_log<L>());

 public:
  explicit raft_log(L log, entry_cache_options cache = {})
      : log_{std::move(log)},
        cache_{cache, log_records_stay_in_place<L> ? entry_cache::storage::borrowed : entry_cache::storage::copies} {}

  // Reads the hard state and every entry's term back from the Log, after
  // the snapshot `base` (index and term 0: none). Entries the snapshot
  // covers are dropped; so is a log that disagrees with the snapshot at its
  // index (the snapshot is committed, the log there was not). A log that
  // starts after the snapshot ends has lost entries: an error, nothing touched.
  // on_entry(index, entry_view) -> result<void> sees every entry kept, in order.
  template <class OnEntry>
  result<hard_state> recover(log_index base_index, term_id base_term, OnEntry&& on_entry) {
    auto hs = decode_hard_state(log_.state());
    if (!hs) return fail(errc::corrupt_log, "raft: the hard state does not decode", hs.error().detail);
    if (log_.first_index() > base_index.next()) {
      if (base_index == log_index{})
        return fail(errc::corrupt_log, "raft: the log is compacted but there is no snapshot",
                    log_.first_index().value());
      return fail(errc::corrupt_log, "raft: the log starts after the snapshot ends", log_.first_index().value());
    }
    if (base_index > log_index{}) QUORUM_TRY(drop_covered(base_index, base_term));
    terms_.reset(base_index, base_term);
    for (log_index i = base_index.next(); i <= log_.last_index(); i = i.next()) {
      auto e = entry(i);
      if (!e) return unexpected{e.error()};
      if (e->term < terms_.last_term()) return fail(errc::corrupt_log, "raft: entry terms go down", i.value());
      terms_.append(i, e->term);
      QUORUM_TRY(on_entry(i, *e));
    }
    dirty_ = true;  // what survived a restart may not have been synced yet
    synced_ = base_index;
    ++sync_epoch_;
    cache_.restart(terms_.last_index().next());
    return *hs;
  }

  result<hard_state> recover() {
    return recover(log_index{}, term_id{}, [](log_index, const entry_view&) -> result<void> { return {}; });
  }

  // The first index still in the log, and the snapshot's index and term before it.
  [[nodiscard]] log_index first_index() const noexcept { return terms_.base_index().next(); }
  [[nodiscard]] log_index snapshot_index() const noexcept { return terms_.base_index(); }
  [[nodiscard]] term_id snapshot_term() const noexcept { return *terms_.term_at(terms_.base_index()); }

  // Forgets the entries up to `upto` (a snapshot covers them). Needs no sync:
  // a crash that undoes it leaves entries the snapshot covers, dropped on recovery.
  result<void> compact(log_index upto) {
    QUORUM_ASSERT(upto <= terms_.last_index());
    if (upto <= terms_.base_index()) return {};
    if (deferred_ > 0) QUORUM_TRY(write_deferred());
    QUORUM_TRY(log_.compact(upto.next()));
    terms_.compact(upto);
    cache_.release(upto);
    if (synced_ < upto) synced_ = upto;
    return {};
  }

  // Makes the log start after an installed snapshot (§7): the entries after
  // it are kept if the log holds the snapshot's last entry, else all go.
  result<void> install(log_index index, term_id term) {
    if (terms_.term_at(index) == term) return compact(index);
    if (deferred_ > 0) QUORUM_TRY(write_deferred());
    QUORUM_TRY(drop_covered(index, term));
    terms_.reset(index, term);
    cache_.restart(index.next());
    synced_ = index;  // the snapshot itself is durable before it is installed
    ++sync_epoch_;
    dirty_ = true;
    return {};
  }

  [[nodiscard]] log_index last_index() const noexcept { return terms_.last_index(); }
  [[nodiscard]] term_id last_term() const noexcept { return terms_.last_term(); }
  [[gnu::always_inline]] [[nodiscard]] std::optional<term_id> term_at(log_index i) const noexcept {
    return terms_.term_at(i);
  }
  [[nodiscard]] log_index last_at_or_below(log_index i, term_id t) const noexcept {
    return terms_.last_at_or_below(i, t);
  }
  // The last index a completed sync() covers; everything after it may vanish in a crash.
  [[nodiscard]] log_index synced_index() const noexcept { return synced_; }
  [[nodiscard]] bool dirty() const noexcept { return dirty_; }

  result<log_index> append(const entry_view& e) {
    if (deferred_ > 0)
      if (auto w = write_deferred(); !w) return unexpected{w.error()};
    if constexpr (log_records_stay_in_place<L> && detail::places_records<L>) {
      // The Log says where the record went: the cache views its data there.
      head_bytes head;
      byte_view placed;
      auto at = log_.append(encode_head(e, head), e.data, placed);
      if (!at) return at;
      QUORUM_ASSERT(*at == terms_.last_index().next());
      QUORUM_ASSERT(placed.size() >= e.data.size());
      terms_.append(*at, e.term);
      cache_.append(*at, entry_view{e.term, e.kind, placed.last(e.data.size())});
      dirty_ = true;
      return at;
    }
    auto at = write_record(e);
    if (!at) return at;
    QUORUM_ASSERT(*at == terms_.last_index().next());
    terms_.append(*at, e.term);
    if constexpr (log_records_stay_in_place<L>) {
      // The cache views the record's data where the Log keeps it. Should the
      // Log not give it back, the entry is not cached and is read when needed.
      if (auto rec = log_.read(*at); rec && rec->size() >= e.data.size())
        cache_.append(*at, entry_view{e.term, e.kind, rec->last(e.data.size())});
    } else {
      cache_.append(*at, e);
    }
    dirty_ = true;
    return at;
  }

  // A follower's append (§5.3): skips entries it holds already, truncates at
  // the first conflict (never at or below `commit`), appends the rest.
  // Returns where it truncated (log_index{} when it did not).
  result<log_index> append_from(log_index start, std::span<const entry_view> entries, log_index commit) {
    // Nearly always the entries just follow the log: nothing to compare.
    if (start == terms_.last_index().next() && deferred_ == 0) [[likely]] {
      if (entries.size() == 1) {  // one at a time: a plain append
        if (auto a = append(entries[0]); !a) return unexpected{a.error()};
      } else if (!entries.empty()) {
        if (auto a = append_run(entries); !a) return unexpected{a.error()};
      }
      return log_index{};
    }
    return append_from_overlapping(start, entries, commit);
  }

 private:
  [[gnu::noinline]] result<log_index> append_from_overlapping(log_index start, std::span<const entry_view> entries,
                                                              log_index commit) {
    if (deferred_ > 0)
      if (auto w = write_deferred(); !w) return unexpected{w.error()};
    log_index truncated{};
    std::size_t k = 0;
    for (; k < entries.size(); ++k) {
      const log_index i = start + k;
      if (i > terms_.last_index()) break;
      if (*terms_.term_at(i) == entries[k].term) continue;
      QUORUM_ASSERT(i > commit);  // a committed entry is never overwritten
      if (auto t = log_.truncate(i); !t) return unexpected{t.error()};
      terms_.truncate(i);
      cache_.truncate(i);
      if (synced_ >= i) synced_ = i.prev();
      ++sync_epoch_;  // a sync started before this covers other entries at i and after
      truncated = i;
      break;
    }
    if (k < entries.size()) QUORUM_TRY(append_run(entries.subspan(k)));
    return truncated;
  }

 public:
  // Appends entries after last_index(): one Log call for them all when the
  // Log takes runs, else one per entry.
  result<void> append_run(std::span<const entry_view> entries) {
    if constexpr (detail::appends_runs<L>) {
      if (entries.size() == 1) {  // the common case one at a time: no run to set up
        auto a = append(entries[0]);
        if (!a) return unexpected{a.error()};
        return {};
      }
      if (entries.empty()) return {};
      if (cache_.views_hold(entries.data())) [[unlikely]] {
        // Entries viewing the cache's own array, which caching the run may
        // move: they are taken out of it first (their data stays put).
        const std::vector<entry_view> copy(entries.begin(), entries.end());
        return append_run(copy);
      }
      if (deferred_ > 0) QUORUM_TRY(write_deferred());
      const log_index first = terms_.last_index().next();
      if constexpr (detail::places_runs_in_one_pass<L>) {
        auto taken = append_run_in_one_pass(first, entries);
        if (!taken) return unexpected{taken.error()};
        if (*taken) return {};
      }
      QUORUM_TRY(write_run(first, entries));
      // Terms change rarely: one call per stretch of equal terms, and no
      // second look at the entries when write_run saw a single stretch.
      if (head_stretches_ == 1) {
        terms_.append_upto(first + (entries.size() - 1), entries.front().term);
      } else {
        for (std::size_t k = 0; k < entries.size(); ++k)
          if (k + 1 == entries.size() || entries[k + 1].term != entries[k].term)
            terms_.append_upto(first + k, entries[k].term);
      }
      cache_append_run(first, entries);
      dirty_ = true;
    } else {
      for (const entry_view& e : entries) QUORUM_TRY(append(e));
    }
    return {};
  }

  // Appends one entry of `term` and `kind` per datas[k] after last_index():
  // append_run of those entries, without building them first when the Log
  // writes runs record by record (one pass writes records and cache views).
  // On an error, what append_run leaves.
  result<void> append_datas(term_id term, entry_kind kind, std::span<const byte_view> datas) {
    if (datas.empty()) return {};
    if constexpr (detail::places_runs_in_one_pass<L>) {
      if (deferred_ > 0) QUORUM_TRY(write_deferred());
      const log_index first = terms_.last_index().next();
      std::size_t data_bytes = 0;
      for (const byte_view& d : datas) data_bytes += d.size();
      const byte_view* const ds = datas.data();
      QUORUM_TRY(write_uniform_run(first, datas.size(), term, kind, data_bytes, [ds](std::size_t k) { return ds[k]; }));
      terms_.append_upto(first + (datas.size() - 1), term);
      dirty_ = true;
      return {};
    } else {
      std::vector<entry_view> entries;
      entries.reserve(datas.size());
      for (const byte_view& d : datas) entries.push_back(entry_view{term, kind, d});
      return append_run(entries);
    }
  }

  // A leader's proposal inside node::batch(): the entry goes to the terms
  // and the cache now, and to the Log with the rest of the batch as one
  // append_run before the next sync() or any other Log call, so a batch
  // costs the Log one call. Only for a Log that takes runs, and only while
  // the cache can hold every deferred entry (else the entry is written now).
  // An error of that later write comes back from the call that made it.
  // A Log whose records stay in place and that writes runs record by record
  // (places_runs_in_one_pass) gets the batch the same way: the entry's data
  // waits in a staging buffer, not in the cache, and the run is written
  // before anything reads it (batch(), entry(), any other Log call): its
  // views then go to the cache in the pass that writes it. Any other Log
  // whose records stay in place takes the entry at once.
  result<log_index> append_deferred(const entry_view& e) {
    if constexpr (detail::places_runs_in_one_pass<L>) {
      // The staged entries share a term and kind (a run with one header):
      // an entry of another is staged after the others are written.
      if (deferred_ > 0 && (e.term != stage_term_ || e.kind != stage_kind_)) [[unlikely]]
        if (auto w = write_deferred(); !w) return unexpected{w.error()};
      if (stage_used_ + e.data.size() <= stage_limit()) [[likely]] {
        const log_index at = terms_.last_index().next();
        stage(e);
        terms_.append(at, e.term);
        ++deferred_;
        dirty_ = true;
        return at;
      }
    } else if constexpr (detail::appends_runs<L> && !log_records_stay_in_place<L>) {
      const log_index at = terms_.last_index().next();
      if (cache_.fits(e.data.size()) && (deferred_ == 0 || cache_.last() == terms_.last_index())) {
        cache_.append(at, e);
        QUORUM_ASSERT(cache_.holds(at - deferred_));  // still every deferred entry
        terms_.append(at, e.term);
        ++deferred_;
        dirty_ = true;
        return at;
      }
    }
    return append(e);
  }

  result<void> save_state(const hard_state& s) {
    if (deferred_ > 0) QUORUM_TRY(write_deferred());
    record_.clear();
    encode_hard_state(s, record_);
    QUORUM_TRY(log_.save_state(record_));
    dirty_ = true;
    return {};
  }

  result<void> sync() {
    if (deferred_ > 0) QUORUM_TRY(write_deferred());
    QUORUM_TRY(log_.sync());
    dirty_ = false;
    synced_ = terms_.last_index();
    return {};
  }

  // The Log's start_sync (core/log.hpp, optional): every write so far goes
  // to the Log and a sync of it starts. True when it finishes later: the
  // writes stop counting as dirty, and synced_index() moves only when the
  // ticket comes back to synced(). False when the Log synced at once.
  result<bool> start_sync()
    requires AsyncSyncingLog<L>
  {
    if (deferred_ > 0) QUORUM_TRY(write_deferred());
    const sync_ticket t{terms_.last_index().value(), sync_epoch_};
    auto started = log_.start_sync(t);
    if (!started) return started;
    dirty_ = false;
    if (!*started) synced_ = terms_.last_index();
    return started;
  }

  // A started sync finished: what it covered is durable, unless a truncation
  // since then replaced some of it (the ticket's epoch is then an old one).
  // Returns whether synced_index() moved.
  bool synced(const sync_ticket& t) noexcept {
    if (t.epoch != sync_epoch_ || t.position <= synced_.value()) return false;
    QUORUM_ASSERT(t.position <= terms_.last_index().value());
    synced_ = log_index{t.position};
    return true;
  }

  // The entry at i; its data views the cache or the Log's buffer until the
  // next non-const call.
  result<entry_view> entry(log_index i) {
    if (cache_.holds(i)) return cache_.at(i);
    if (deferred_ > 0)
      if (auto w = write_deferred(); !w) return unexpected{w.error()};
    auto rec = log_.read(i);
    if (!rec) return unexpected{rec.error()};
    auto e = decode_entry_record(*rec);
    if (!e) return fail(errc::corrupt_log, "raft: a log record is no entry", i.value());
    return e;
  }

  // Entries from `from`, at most max_entries and about max_bytes of data (at
  // least one entry): the body of one append. Views into the cache when it
  // holds `from` (nothing copied), else copies out of the Log into reused
  // buffers. Valid until the next non-const call.
  result<std::span<const entry_view>> batch(log_index from, std::size_t max_entries, std::size_t max_bytes) {
    if (cache_.holds(from) && !staging()) [[likely]] return cache_.run(from, max_entries, max_bytes);
    if (from > terms_.last_index()) return std::span<const entry_view>{};  // an append that only carries the commit
    return batch_from_log(from, max_entries, max_bytes);
  }

 private:
  // batch() of entries the cache does not hold (or while entries are
  // staged): out of line, so that the cached case stays a few instructions
  // inlined into the caller.
  [[gnu::noinline]] result<std::span<const entry_view>> batch_from_log(log_index from, std::size_t max_entries,
                                                                      std::size_t max_bytes) {
    if (staging()) {  // staged entries are not in the cache yet: written first, cached then
      QUORUM_TRY(write_deferred());
      if (cache_.holds(from)) return cache_.run(from, max_entries, max_bytes);
    }
    arena_.clear();
    meta_.clear();
    views_.clear();
    std::size_t bytes = 0;
    for (log_index i = from; i <= terms_.last_index() && meta_.size() < max_entries; i = i.next()) {
      auto e = entry(i);
      if (!e) return unexpected{e.error()};
      if (!meta_.empty() && bytes + e->data.size() > max_bytes) break;
      meta_.push_back(meta{e->term, e->kind, arena_.size(), e->data.size()});
      arena_.insert(arena_.end(), e->data.begin(), e->data.end());
      bytes += e->data.size();
    }
    // Views are taken only now: the arena may have moved while it grew.
    for (const meta& m : meta_)
      views_.push_back(entry_view{m.term, m.kind, byte_view{arena_}.subspan(m.offset, m.size)});
    return std::span<const entry_view>{views_};
  }

 public:
  // The node needs entries up to `upto` no more (applied, and on a leader
  // held by every follower): the cache lets them go; the Log keeps them.
  // Deferred entries stay: the cache is where they wait for the Log.
  void release(log_index upto) noexcept {
    if (deferred_ > 0) upto = std::min(upto, terms_.last_index() - deferred_);
    cache_.release(upto);
  }
  // Entries appended with append_deferred() and not yet written to the Log.
  [[nodiscard]] std::size_t deferred() const noexcept { return deferred_; }
  [[nodiscard]] const entry_cache& cache() const noexcept { return cache_; }
  // Up to n entries from `from` on, straight from the cache (empty when it
  // does not hold `from`). Valid until the next non-const call.
  [[nodiscard]] std::span<const entry_view> cached(log_index from, std::uint64_t n) const noexcept {
    return cache_.upto(from, n);
  }

  [[nodiscard]] L& policy() noexcept { return log_; }

 private:
  // The record is u8 kind, varint term, data (entry.hpp); a Log that takes
  // it in two pieces gets the header from the stack and the data as it is.
  using head_bytes = std::array<std::byte, 1 + codec::max_varint_bytes>;

  static byte_view encode_head(const entry_view& e, head_bytes& head) noexcept {
    head[0] = static_cast<std::byte>(e.kind);
    return byte_view{head.data(), 1 + codec::encode_varint(e.term.value(), head.data() + 1)};
  }

  // The Log's half of a run append: entries become records first, first + 1, ...
  result<void> write_run(log_index first, std::span<const entry_view> entries) {
    QUORUM_ASSERT(!entries.empty());
    if (parts_.size() < entries.size()) {  // reused, only ever grown: no allocation in steady state
      heads_.resize(entries.size());
      parts_.resize(entries.size());
    }
    // Entries of one term and kind share a header: it is encoded once per
    // stretch. Counted in locals: the stores to parts_ might alias members.
    record_parts* const parts = parts_.data();
    byte_view head = encode_head(entries[0], heads_[0]);
    term_id term = entries[0].term;
    entry_kind kind = entries[0].kind;
    std::size_t stretches = 1, data_bytes = 0;
    for (std::size_t k = 0; k < entries.size(); ++k) {
      const entry_view& e = entries[k];
      data_bytes += e.data.size();
      if (e.term != term || e.kind != kind) [[unlikely]] {
        head = encode_head(e, heads_[k]);
        term = e.term;
        kind = e.kind;
        ++stretches;
      }
      parts[k] = record_parts{head, e.data};
    }
    head_stretches_ = stretches;
    run_data_bytes_ = data_bytes;
    const std::span<const record_parts> records{parts_.data(), entries.size()};
    result<log_index> last;
    if constexpr (log_records_stay_in_place<L> && detail::places_runs<L>) {
      if (placed_.size() < entries.size()) placed_.resize(entries.size());
      last = log_.append_run(records, std::span<byte_view>{placed_.data(), entries.size()});
    } else {
      last = log_.append_run(records);
    }
    if (!last) return unexpected{last.error()};
    QUORUM_ASSERT(*last == first + (entries.size() - 1));
    return {};
  }

  // append_run over a Log that writes a run record by record: entries of
  // one term and kind (nearly always) are written to the Log, their views
  // into the cache and their term to term_runs, the records and the views
  // in one pass. A run of several terms or kinds is not taken (false): the
  // general path. On a Log error the cache and the terms are as before.
  result<bool> append_run_in_one_pass(log_index first, std::span<const entry_view> entries) {
    const term_id term = entries.front().term;
    const entry_kind kind = entries.front().kind;
    std::size_t data_bytes = 0;
    bool uniform = true;
    for (const entry_view& e : entries) {
      data_bytes += e.data.size();
      uniform &= e.term == term && e.kind == kind;
    }
    if (!uniform) [[unlikely]] return false;
    const entry_view* const es = entries.data();
    QUORUM_TRY(write_uniform_run(first, entries.size(), term, kind, data_bytes,
                                 [es](std::size_t k) { return es[k].data; }));
    terms_.append_upto(first + (entries.size() - 1), term);
    dirty_ = true;
    return true;
  }

  // Writes n entries of one term and kind, whose data data_of(k) gives
  // (the same each time it is asked), as positions first, first + 1, ...:
  // the records go to the Log and their views to the cache in one pass (a
  // Log that places_runs_in_one_pass). data_bytes is their data in all.
  // On a Log error the cache holds none of them; terms are the caller's.
  template <class DataOf>
  [[gnu::always_inline]] result<void> write_uniform_run(log_index first, std::size_t n, term_id term, entry_kind kind,
                                                       std::size_t data_bytes, const DataOf& data_of) {
    head_bytes head_buf;
    const byte_view head = encode_head(entry_view{term, kind, {}}, head_buf);
    const auto parts = [&data_of, head](std::size_t k) { return record_parts{head, data_of(k)}; };
    const auto slots = cache_.extend(first, n, data_bytes);
    result<log_index> last;
    if (!slots.empty()) [[likely]] {
      entry_view* const out = slots.data();
      const std::size_t h = head.size();
      last = log_.append_run_with(n, parts, [out, term, kind, h](std::size_t k, byte_view at) {
        out[k] = entry_view{term, kind, at.subspan(h)};
      });
    } else {  // the run does not fit the cache: it is read from the Log when needed
      last = log_.append_run_with(n, parts, [](std::size_t, byte_view) {});
    }
    if (!last) [[unlikely]] {
      cache_.truncate(first);
      return unexpected{last.error()};
    }
    QUORUM_ASSERT(*last == first + (n - 1));
    return {};
  }


  // Caches entries first, first + 1, ... just written to the Log: as they
  // are, or as views of the Log's records when those stay in place.
  void cache_append_run(log_index first, std::span<const entry_view> entries) {
    if constexpr (log_records_stay_in_place<L> && detail::places_runs<L>) {
      // Views written straight into the cache: an entry's data ends its record.
      const auto slots = cache_.extend(first, entries.size(), run_data_bytes_);
      const byte_view* const placed = placed_.data();
      for (std::size_t k = 0; k < slots.size(); ++k) {
        const entry_view& e = entries[k];
        QUORUM_ASSERT(placed[k].size() >= e.data.size());  // the Log placed the whole record
        slots[k] = entry_view{e.term, e.kind, placed[k].last(e.data.size())};
      }
    } else if constexpr (log_records_stay_in_place<L>) {
      if (run_views_.size() < entries.size())
        run_views_.resize(entries.size());  // reused: no allocation in steady state
      for (std::size_t k = 0; k < entries.size(); ++k) {
        const entry_view& e = entries[k];
        byte_view rec{};
        bool found = true;
        if (auto r = log_.read(first + k)) rec = *r;
        else found = false;
        if (!found || rec.size() < e.data.size()) {
          cache_.restart(first + entries.size());  // not given back: the run is read from the Log when needed
          return;
        }
        run_views_[k] = entry_view{e.term, e.kind, rec.last(e.data.size())};
      }
      cache_.append_run(first, std::span<const entry_view>{run_views_.data(), entries.size()});
    } else {
      cache_.append_run(first, entries);
    }
  }

  // Writes the deferred entries (all in the cache) as one run; callers check
  // deferred_ > 0 first. On an error they are forgotten everywhere: the log
  // ends where the Log does. Out of line: once per batch, and kept out of
  // the hot callers' inlining budget.
  [[gnu::noinline]] result<void> write_deferred() {
    if constexpr (detail::places_runs_in_one_pass<L>) {
      const std::size_t n = deferred_;
      const log_index first = terms_.last_index() + 1 - n;
      deferred_ = 0;
      auto w = write_staged(first, n);
      stage_ends_.clear();
      stage_used_ = 0;
      if (!w) {
        terms_.truncate(first);
        cache_.truncate(first);
        return w;
      }
    } else if constexpr (detail::appends_runs<L>) {
      const log_index first = terms_.last_index() + 1 - deferred_;
      const auto run = cache_.upto(first, deferred_);
      QUORUM_ASSERT(run.size() == deferred_);
      deferred_ = 0;
      if (auto w = write_run(first, run); !w) {
        terms_.truncate(first);
        cache_.truncate(first);
        return w;
      }
    }
    return {};
  }

  // True when entries wait in the staging buffer (places_runs_in_one_pass).
  [[nodiscard]] bool staging() const noexcept {
    if constexpr (detail::places_runs_in_one_pass<L>) return deferred_ > 0;
    else return false;
  }

  // What the staging buffer may hold: what the cache could hold of the run.
  [[nodiscard]] std::size_t stage_limit() const noexcept { return cache_.options().max_bytes; }

  // Copies e's data behind the staged ones. A command of 16 to 64 bytes
  // goes in two overlapping fixed-size moves (a few vector instructions,
  // not a call); the buffer grows rarely and is reused.
  [[gnu::always_inline]] void stage(const entry_view& e) {
    const std::size_t n = e.data.size();
    if (stage_cap_ - stage_used_ < n) [[unlikely]] grow_stage(n);
    std::byte* const out = stage_.get() + stage_used_;
    const std::byte* const in = e.data.data();
    if (n >= 32 && n <= 64) {
      std::memcpy(out, in, 32);
      std::memcpy(out + n - 32, in + n - 32, 32);
    } else if (n > 0) {
      std::memcpy(out, in, n);
    }
    stage_term_ = e.term;
    stage_kind_ = e.kind;
    stage_used_ += n;
    stage_ends_.push_back(stage_used_);
  }

  [[gnu::noinline]] void grow_stage(std::size_t n) {
    const std::size_t cap = std::max({2 * stage_cap_, stage_used_ + n, std::size_t{4096}});
    auto bigger = std::make_unique_for_overwrite<std::byte[]>(cap);
    if (stage_used_ > 0) std::memcpy(bigger.get(), stage_.get(), stage_used_);
    stage_ = std::move(bigger);
    stage_cap_ = cap;
  }

  // Writes the n staged entries (of one term and kind) as positions first,
  // first + 1, ... and caches their views, in one pass.
  result<void> write_staged(log_index first, std::size_t n) {
    QUORUM_ASSERT(n == stage_ends_.size() && n > 0);
    const std::size_t* const ends = stage_ends_.data();
    const std::byte* const base = stage_.get();
    return write_uniform_run(first, n, stage_term_, stage_kind_, stage_used_, [ends, base](std::size_t k) {
      const std::size_t from = k == 0 ? 0 : ends[k - 1];
      return byte_view{base + from, ends[k] - from};
    });
  }


  result<log_index> write_record(const entry_view& e) {
    if constexpr (detail::appends_in_two_pieces<L>) {
      head_bytes head;
      return log_.append(encode_head(e, head), e.data);
    } else {
      record_.clear();
      encode_entry_record(e, record_);
      return log_.append(record_);
    }
  }

  // Empties the log of everything up to a snapshot at (index, term), and of
  // everything after it too unless the log holds that very entry.
  result<void> drop_covered(log_index index, term_id term) {
    if (log_.first_index() == index.next()) return {};  // starts right after it: nothing covered
    if (log_.last_index() >= index && log_.first_index() <= index) {
      auto e = entry(index);
      if (e && e->term == term) return log_.compact(index.next());
    }
    if (log_.last_index() >= log_.first_index()) QUORUM_TRY(log_.truncate(log_.first_index()));
    return log_.compact(index.next());
  }

  struct meta {
    term_id term;
    entry_kind kind;
    std::size_t offset;
    std::size_t size;
  };

  [[no_unique_address]] L log_;
  term_runs terms_;
  entry_cache cache_;
  log_index synced_{};
  std::uint64_t sync_epoch_{0};  // bumped when entries a started sync covered may be replaced
  bool dirty_{false};
  std::size_t deferred_ = 0;  // the last deferred_ entries are in the cache, not yet in the Log
  byte_buffer record_;
  std::vector<head_bytes> heads_;      // append_run's entry headers (heads_[k] used when entry k starts a stretch)
  std::vector<record_parts> parts_;    // and its records, for the Log
  std::size_t head_stretches_ = 0;     // stretches of equal term and kind in the last write_run
  std::size_t run_data_bytes_ = 0;     // and the entries' data bytes in all
  std::vector<entry_view> run_views_;  // a run's entries as the Log keeps them, for the cache
  std::vector<byte_view> placed_;      // where the Log put a run's records (places_runs)
  std::unique_ptr<std::byte[]> stage_;  // staged entries' data (places_runs_in_one_pass)
  std::size_t stage_cap_ = 0;
  std::size_t stage_used_ = 0;
  std::vector<std::size_t> stage_ends_;  // where each staged entry's data ends in stage_
  term_id stage_term_{};                  // the staged entries' term and kind
  entry_kind stage_kind_{};
  byte_buffer arena_;
  std::vector<meta> meta_;
  std::vector<entry_view> views_;
};

}  // namespace quorum::raft
