// The term of every log entry, kept in memory as runs of equal terms: terms
// change rarely, so a handful of (start, term) pairs answers term_at(i) for a
// long log without reading it, which log matching and backtracking need often.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/core/ids.hpp"

namespace quorum::raft {

class term_runs {
 public:
  // Forgets everything; the log then starts after base (index 0, term 0 for a
  // new log; a snapshot's last index and term once snapshots exist).
  void reset(log_index base_index, term_id base_term) {
    runs_.clear();
    base_index_ = base_index;
    base_term_ = base_term;
    last_ = base_index;
    note_tail();
  }

  [[nodiscard]] log_index base_index() const noexcept { return base_index_; }
  [[nodiscard]] log_index last_index() const noexcept { return last_; }
  [[nodiscard]] term_id last_term() const noexcept { return last_term_; }

  // Entries arrive in order and terms never go down along a log (§5.3).
  // Inlined: a leader calls it for every proposal, and a new run is rare.
  [[gnu::always_inline]] void append(log_index i, term_id t) {
    QUORUM_ASSERT(i == last_.next());
    QUORUM_ASSERT(t >= last_term());
    if (t != tail_term_ || runs_.empty()) start_run(i, t);
    last_ = i;
  }

  // Entries last_index() + 1 through upto, all of term t: append() of each.
  void append_upto(log_index upto, term_id t) {
    QUORUM_ASSERT(upto > last_);
    QUORUM_ASSERT(t >= last_term());
    if (t != tail_term_ || runs_.empty()) start_run(last_.next(), t);
    last_ = upto;
  }

  // Forgets every index <= new_base (compaction behind a snapshot); the base
  // keeps its term so that the entry after it can still be matched.
  void compact(log_index new_base) {
    QUORUM_ASSERT(new_base >= base_index_ && new_base <= last_);
    if (new_base == base_index_) return;
    base_term_ = *term_at(new_base);
    base_index_ = new_base;
    // Drop the runs that end at or before the base; the one it falls in starts after it.
    std::size_t keep = 0;
    while (keep + 1 < runs_.size() && runs_[keep + 1].start <= new_base.next()) ++keep;
    runs_.erase(runs_.begin(), runs_.begin() + static_cast<std::ptrdiff_t>(keep));
    if (!runs_.empty() && runs_.front().start <= new_base) runs_.front().start = new_base.next();
    if (new_base == last_) runs_.clear();
    note_tail();
  }

  // Removes every index >= i (a follower's conflicting suffix).
  void truncate(log_index i) {
    QUORUM_ASSERT(i > base_index_);
    if (i > last_) return;
    while (!runs_.empty() && runs_.back().start >= i) runs_.pop_back();
    note_tail();
    last_ = i.prev();
  }

  // The term at i, for i in [base_index, last_index]; nothing outside.
  // Inlined: nearly always i lies in the last run, one compare away.
  [[gnu::always_inline]] [[nodiscard]] std::optional<term_id> term_at(log_index i) const noexcept {
    if (i <= last_ && i >= tail_start_) [[likely]] return tail_term_;  // every run starts after the base
    return term_before_tail(i);
  }

  // The largest j <= min(i, last_index) whose term is <= t, or base_index:
  // both sides of fast backtracking skip a whole run of a term at once.
  // Below the base the terms are gone: i itself is returned, so that a
  // leader backtracking past its log's start sends the snapshot.
  [[nodiscard]] log_index last_at_or_below(log_index i, term_id t) const noexcept {
    if (i < base_index_) return i;
    log_index j = std::min(i, last_);
    for (auto it = runs_.rbegin(); it != runs_.rend(); ++it) {
      if (it->start > j) continue;
      if (it->term <= t) return j;
      j = it->start.prev();
    }
    // The base itself, if its term qualifies; else somewhere below it, where
    // the terms are gone: the leader must send its snapshot.
    if (base_term_ <= t || base_index_ == log_index{}) return base_index_;
    return base_index_.prev();
  }

  [[nodiscard]] std::size_t run_count() const noexcept { return runs_.size(); }

 private:
  [[gnu::noinline]] std::optional<term_id> term_before_tail(log_index i) const noexcept {
    if (i < base_index_ || i > last_) return std::nullopt;
    if (i == base_index_) return base_term_;
    if (!runs_.empty() && i >= runs_.back().start) return runs_.back().term;
    auto it = std::upper_bound(runs_.begin(), runs_.end(), i,
                               [](log_index x, const run& r) { return x < r.start; });
    QUORUM_ASSERT(it != runs_.begin());
    return std::prev(it)->term;
  }

  [[gnu::noinline]] void start_run(log_index i, term_id t) {
    runs_.push_back(run{i, t});
    note_tail();
  }

  // The last run's start and term, kept beside runs_ for the inlined
  // term_at, append and last_term; no run: a start past every index, so
  // term_at's check always fails, and the last term is the base's.
  void note_tail() noexcept {
    if (runs_.empty()) {
      tail_start_ = log_index{~std::uint64_t{0}};
      tail_term_ = term_id{};
      last_term_ = base_term_;
    } else {
      QUORUM_ASSERT(runs_.back().start > base_index_);
      tail_start_ = runs_.back().start;
      tail_term_ = runs_.back().term;
      last_term_ = tail_term_;
    }
  }

  struct run {
    log_index start;
    term_id term;
  };
  std::vector<run> runs_;
  log_index base_index_{};
  term_id base_term_{};
  log_index last_{};
  log_index tail_start_{~std::uint64_t{0}};  // runs_.back().start, or past every index when there is no run
  term_id tail_term_{};                      // runs_.back().term
  term_id last_term_{};                      // tail_term_, or base_term_ when there is no run
};

}  // namespace quorum::raft
