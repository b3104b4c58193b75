// raft_log: a node's view of its Log policy. Entry i at position i, the term
// of every entry cached in term_runs, the hard state, and the bookkeeping of
// what a sync() has covered: the node may acknowledge or count only that.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/log.hpp"
#include "quorum/core/result.hpp"
#include "quorum/raft/entry.hpp"
#include "quorum/raft/hard_state.hpp"
#include "quorum/raft/term_runs.hpp"

namespace quorum::raft {

template <class L>
class raft_log {
  static_assert(check_log<L>());

 public:
  explicit raft_log(L log) : log_{std::move(log)} {}

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
        return fail(errc::corrupt_log, "raft: the log is compacted but there is no snapshot", log_.first_index().value());
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
    QUORUM_TRY(log_.compact(upto.next()));
    terms_.compact(upto);
    if (synced_ < upto) synced_ = upto;
    return {};
  }

  // Makes the log start after an installed snapshot (§7): the entries after
  // it are kept if the log holds the snapshot's last entry, else all go.
  result<void> install(log_index index, term_id term) {
    if (terms_.term_at(index) == term) return compact(index);
    QUORUM_TRY(drop_covered(index, term));
    terms_.reset(index, term);
    synced_ = index;  // the snapshot itself is durable before it is installed
    dirty_ = true;
    return {};
  }

  [[nodiscard]] log_index last_index() const noexcept { return terms_.last_index(); }
  [[nodiscard]] term_id last_term() const noexcept { return terms_.last_term(); }
  [[nodiscard]] std::optional<term_id> term_at(log_index i) const noexcept { return terms_.term_at(i); }
  [[nodiscard]] log_index last_at_or_below(log_index i, term_id t) const noexcept {
    return terms_.last_at_or_below(i, t);
  }
  // The last index a completed sync() covers; everything after it may vanish in a crash.
  [[nodiscard]] log_index synced_index() const noexcept { return synced_; }
  [[nodiscard]] bool dirty() const noexcept { return dirty_; }

  result<log_index> append(const entry_view& e) {
    record_.clear();
    encode_entry_record(e, record_);
    auto at = log_.append(record_);
    if (!at) return at;
    QUORUM_ASSERT(*at == terms_.last_index().next());
    terms_.append(*at, e.term);
    dirty_ = true;
    return at;
  }

  // A follower's append (§5.3): skips entries it holds already, truncates at
  // the first conflict (never at or below `commit`), appends the rest.
  // Returns where it truncated (log_index{} when it did not).
  result<log_index> append_from(log_index start, std::span<const entry_view> entries, log_index commit) {
    log_index truncated{};
    for (std::size_t k = 0; k < entries.size(); ++k) {
      const log_index i = start + k;
      if (i <= terms_.last_index()) {
        if (*terms_.term_at(i) == entries[k].term) continue;
        QUORUM_ASSERT(i > commit);  // a committed entry is never overwritten
        if (auto t = log_.truncate(i); !t) return unexpected{t.error()};
        terms_.truncate(i);
        if (synced_ >= i) synced_ = i.prev();
        truncated = i;
      }
      auto a = append(entries[k]);
      if (!a) return unexpected{a.error()};
    }
    return truncated;
  }

  result<void> save_state(const hard_state& s) {
    record_.clear();
    encode_hard_state(s, record_);
    QUORUM_TRY(log_.save_state(record_));
    dirty_ = true;
    return {};
  }

  result<void> sync() {
    QUORUM_TRY(log_.sync());
    dirty_ = false;
    synced_ = terms_.last_index();
    return {};
  }

  // The entry at i; its data views the Log's buffer until the next non-const call.
  result<entry_view> entry(log_index i) {
    auto rec = log_.read(i);
    if (!rec) return unexpected{rec.error()};
    auto e = decode_entry_record(*rec);
    if (!e) return fail(errc::corrupt_log, "raft: a log record is no entry", i.value());
    return e;
  }

  // Copies entries from `from` into reused buffers, at most max_entries and
  // about max_bytes of data (at least one entry): the body of one append.
  // The views stay valid until the next call.
  result<std::span<const entry_view>> batch(log_index from, std::size_t max_entries, std::size_t max_bytes) {
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
    for (const meta& m : meta_) views_.push_back(entry_view{m.term, m.kind, byte_view{arena_}.subspan(m.offset, m.size)});
    return std::span<const entry_view>{views_};
  }

  [[nodiscard]] L& policy() noexcept { return log_; }

 private:
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
  log_index synced_{};
  bool dirty_{false};
  byte_buffer record_;
  byte_buffer arena_;
  std::vector<meta> meta_;
  std::vector<entry_view> views_;
};

}  // namespace quorum::raft
