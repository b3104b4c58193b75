// A Raft node's options: timers in ticks (the user calls node::tick() at a
// fixed interval), and a named bound on every batch, window and backlog
// (DESIGN.md principle 6). validate() says which option cannot work.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quorum/core/error.hpp"
#include "quorum/core/result.hpp"

namespace quorum::raft {

struct options {
  // A follower starts an election after a timeout drawn uniformly from
  // [election_ticks, 2 * election_ticks), redrawn at every reset (§5.2).
  std::uint32_t election_ticks = 10;
  // A leader sends heartbeats this often; must be well under election_ticks.
  std::uint32_t heartbeat_ticks = 1;
  // One append_entries carries at most this many entries and about this many
  // bytes of entry data (always at least one entry, however large).
  std::size_t max_entries_per_append = 64;
  std::size_t max_bytes_per_append = std::size_t{1} << 20;
  // Appends sent to a follower in the replicate state and not yet acknowledged.
  std::size_t max_inflight_appends = 256;
  // Entry data appended by this leader and not yet committed; a proposal
  // beyond it is refused with errc::busy (one entry is always admitted).
  std::size_t max_uncommitted_bytes = std::size_t{64} << 20;
  // A proposal's command may be at most this large (errc::too_large).
  std::size_t max_entry_bytes = std::size_t{1} << 20;
  // Ask for votes without disrupting anyone first (Ongaro's thesis §9.6).
  bool pre_vote = true;
  // A leader that has not heard from a quorum for an election timeout steps
  // down; followers that heard from a leader recently ignore vote requests.
  bool check_quorum = true;
  // Snapshots: the image travels in chunks of at most this many bytes, with
  // at most max_inflight_snapshot_chunks unacknowledged per follower; a
  // follower refuses an image over max_snapshot_bytes.
  std::size_t snapshot_chunk_bytes = std::size_t{1} << 20;
  std::size_t max_inflight_snapshot_chunks = 4;
  std::size_t max_snapshot_bytes = std::size_t{1} << 30;
  // take_snapshot() keeps this many entries behind the snapshot, so that a
  // follower only slightly behind catches up from the log, not a snapshot.
  std::uint64_t snapshot_trailing_entries = 1024;
  // The recent tail of the log kept in memory (entry data plus a small
  // header each), so that appends to followers and applies need no Log
  // read; older entries are read from the Log. 0 turns the cache off.
  std::size_t entry_cache_bytes = std::size_t{8} << 20;
  // Linearizable reads: ReadIndex always; with lease_reads, a leader that
  // heard from a quorum within election_ticks - clock_drift_ticks serves
  // reads without a round (safe only if clocks drift less than that); a
  // node that restarts then grants no vote for its first election_ticks.
  bool lease_reads = false;
  std::uint32_t clock_drift_ticks = 2;
  // Reads waiting for a quorum round or for the apply index (errc::busy beyond).
  std::size_t max_pending_reads = 4096;
  // A leadership transfer that has not finished within this many ticks is
  // abandoned (0: election_ticks).
  std::uint32_t transfer_timeout_ticks = 0;
  // A leader whose removal commits steps down (Ongaro's thesis §4.2.2).
  bool step_down_when_removed = true;
  // The seed of the election-timeout jitter; mixed with the node id, so the
  // whole cluster may share one options value without timing out in lockstep.
  std::uint64_t seed = 0;
};

[[nodiscard]] inline result<void> validate(const options& o) noexcept {
  if (o.election_ticks < 2) return fail(errc::invalid_config, "election_ticks must be at least 2", o.election_ticks);
  if (o.election_ticks > (1u << 30))
    return fail(errc::invalid_config, "election_ticks is unreasonably large", o.election_ticks);
  if (o.heartbeat_ticks == 0) return fail(errc::invalid_config, "heartbeat_ticks must be at least 1");
  if (o.heartbeat_ticks >= o.election_ticks)
    return fail(errc::invalid_config, "heartbeat_ticks must be below election_ticks", o.heartbeat_ticks);
  if (o.max_entries_per_append == 0) return fail(errc::invalid_config, "max_entries_per_append must be at least 1");
  if (o.max_bytes_per_append == 0) return fail(errc::invalid_config, "max_bytes_per_append must be at least 1");
  if (o.max_inflight_appends == 0) return fail(errc::invalid_config, "max_inflight_appends must be at least 1");
  if (o.max_inflight_appends > (std::size_t{1} << 20))
    return fail(errc::invalid_config, "max_inflight_appends is unreasonably large", o.max_inflight_appends);
  if (o.max_entry_bytes == 0) return fail(errc::invalid_config, "max_entry_bytes must be at least 1");
  if (o.max_uncommitted_bytes == 0) return fail(errc::invalid_config, "max_uncommitted_bytes must be at least 1");
  if (o.snapshot_chunk_bytes == 0) return fail(errc::invalid_config, "snapshot_chunk_bytes must be at least 1");
  if (o.max_inflight_snapshot_chunks == 0)
    return fail(errc::invalid_config, "max_inflight_snapshot_chunks must be at least 1");
  if (o.max_snapshot_bytes == 0) return fail(errc::invalid_config, "max_snapshot_bytes must be at least 1");
  if (o.lease_reads && o.clock_drift_ticks >= o.election_ticks)
    return fail(errc::invalid_config, "clock_drift_ticks must be below election_ticks for lease reads",
                o.clock_drift_ticks);
  if (o.lease_reads && !o.check_quorum)
    return fail(errc::invalid_config, "lease_reads needs check_quorum (followers must honour the lease)");
  if (o.max_pending_reads == 0) return fail(errc::invalid_config, "max_pending_reads must be at least 1");
  return {};
}

}  // namespace quorum::raft
