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

  // Reads the hard state and every entry's term back from the Log.
  result<hard_state> recover() {
    auto hs = decode_hard_state(log_.state());
    if (!hs) return fail(errc::corrupt_log, "raft: the hard state does not decode", hs.error().detail);
    if (log_.first_index() != log_index{1})
      return fail(errc::invalid_argument, "raft: a compacted log needs a snapshot (not supported yet)");
    terms_.reset(log_index{0}, term_id{0});
    for (log_index i = log_.first_index(); i <= log_.last_index(); i = i.next()) {
      auto e = entry(i);
      if (!e) return unexpected{e.error()};
      if (e->term < terms_.last_term()) return fail(errc::corrupt_log, "raft: entry terms go down", i.value());
      terms_.append(i, e->term);
    }
    dirty_ = true;  // what survived a restart may not have been synced yet
    synced_ = log_index{0};
    return *hs;
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
  result<void> append_from(log_index start, std::span<const entry_view> entries, log_index commit) {
    for (std::size_t k = 0; k < entries.size(); ++k) {
      const log_index i = start + k;
      if (i <= terms_.last_index()) {
        if (*terms_.term_at(i) == entries[k].term) continue;
        QUORUM_ASSERT(i > commit);  // a committed entry is never overwritten
        QUORUM_TRY(log_.truncate(i));
        terms_.truncate(i);
        if (synced_ >= i) synced_ = i.prev();
      }
      auto a = append(entries[k]);
      if (!a) return unexpected{a.error()};
    }
    return {};
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
