// What a leader knows about one follower's log (in the manner of etcd's
// progress tracker): the match and next indices, the probe / replicate state,
// and a bounded window of appends in flight, so that a leader pipelines to a
// healthy follower and sends one probe at a time to a lagging one; a follower
// behind the log's start gets the snapshot, a bounded window of chunks at a time.
#pragma once

#include <cstddef>
#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/core/ids.hpp"

namespace quorum::raft {

// A ring of the last index of each unacknowledged append, oldest first.
// Sized once at construction: no allocation per message.
class inflights {
 public:
  explicit inflights(std::size_t capacity = 1) : ring_(capacity) { QUORUM_ASSERT(capacity > 0); }

  [[nodiscard]] bool full() const noexcept { return count_ == ring_.size(); }
  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return ring_.size(); }

  void add(log_index last) {
    QUORUM_ASSERT(!full());
    std::size_t at = start_ + count_;
    if (at >= ring_.size()) at -= ring_.size();  // start_ and count_ are each below the size: no division
    ring_[at] = last;
    ++count_;
  }

  // An acknowledgement of `upto` covers every append that ended at or before it.
  void free_to(log_index upto) noexcept {
    while (count_ > 0 && ring_[start_] <= upto) pop_first();
  }

  // Makes room for one more when acknowledgements may have been lost.
  void free_first() noexcept {
    if (count_ > 0) pop_first();
  }

  void clear() noexcept { start_ = count_ = 0; }

 private:
  void pop_first() noexcept {
    if (++start_ == ring_.size()) start_ = 0;
    --count_;
  }

  std::vector<log_index> ring_;
  std::size_t start_{0};
  std::size_t count_{0};
};

enum class progress_state : unsigned char {
  probe,      // match unknown: one append at a time, each waiting for its answer
  replicate,  // match known: appends pipelined up to the in-flight window
  snapshot,   // behind the log's start: snapshot chunks instead of appends
};

struct progress {
  explicit progress(std::size_t max_inflight = 1) : window{max_inflight} {}

  log_index match{};         // highest index known to be on the follower's durable log
  log_index next{1};         // next index to send
  progress_state state{progress_state::probe};
  bool probe_sent{false};    // probe state: an append is out and unanswered
  bool recent_active{false}; // heard from within the current election timeout (CheckQuorum)
  inflights window;
  // snapshot state: which image, how far the follower holds it, how far we sent,
  // and heartbeats answered with no chunk acknowledged since (a stall: resend).
  log_index snapshot_index{};
  std::uint64_t snapshot_acked{0};
  std::uint64_t snapshot_sent{0};
  std::uint32_t snapshot_stalls{0};

  void become_snapshot(log_index index) noexcept {
    state = progress_state::snapshot;
    snapshot_index = index;
    snapshot_acked = snapshot_sent = 0;
    snapshot_stalls = 0;
    probe_sent = false;
    window.clear();
  }

  // The follower holds everything up to `index` (a snapshot it installed, or had).
  void snapshot_done(log_index index) noexcept {
    if (index > match) match = index;
    next = match.next();
    state = progress_state::probe;
    probe_sent = false;
    window.clear();
  }

  void reset(log_index leader_last, bool active) noexcept {
    match = log_index{};
    next = leader_last.next();
    state = progress_state::probe;
    probe_sent = false;
    recent_active = active;
    window.clear();
  }

  // Appends must wait: a probe is out, the window is full, or a snapshot is on its way.
  [[nodiscard]] bool paused() const noexcept {
    if (state == progress_state::snapshot) return true;
    return state == progress_state::probe ? probe_sent : window.full();
  }

  // An acknowledgement up to n; false if it tells nothing new (stale or duplicate).
  bool acknowledge(log_index n) noexcept {
    probe_sent = false;
    if (n < match) return false;
    if (n == match) {
      // A probe answered at the match we knew (after a snapshot, or a
      // rejection): the follower is in line, pipelining may start.
      if (state == progress_state::probe && next == match.next()) {
        state = progress_state::replicate;
        window.clear();
      }
      return false;
    }
    match = n;
    if (next <= n) next = n.next();
    if (state == progress_state::snapshot) {
      if (match >= snapshot_index) snapshot_done(match);
      return true;
    }
    if (state == progress_state::probe) {
      state = progress_state::replicate;
      window.clear();
    } else {
      window.free_to(n);
    }
    return true;
  }

  // A rejection of the append after `rejected`; returns false when it answers
  // an append already superseded (it must then change nothing).
  bool reject(log_index rejected, log_index new_next) noexcept {
    if (state == progress_state::snapshot) return false;
    if (state == progress_state::replicate) {
      if (rejected <= match) return false;
    } else if (rejected != next.prev()) {
      return false;
    }
    state = progress_state::probe;
    window.clear();
    probe_sent = false;
    next = new_next > match ? new_next : match.next();
    return true;
  }

  // Records an append of entries up to `last` (nothing when it carried none).
  void sent(log_index last, bool had_entries) {
    if (state == progress_state::replicate) {
      if (!had_entries) return;
      next = last.next();
      window.add(last);
    } else {
      probe_sent = true;
    }
  }
};

}  // namespace quorum::raft
