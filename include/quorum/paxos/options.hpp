// A Multi-Paxos node's options: timers in ticks (the user calls node::tick()
// at a fixed interval), the quorum sizes, and a named bound on every batch,
// window and gap (DESIGN.md principle 6). validate() says which cannot work.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quorum/core/error.hpp"
#include "quorum/core/result.hpp"

namespace quorum::paxos {

struct options {
  // A node that has not heard from a leader for a timeout drawn uniformly
  // from [election_ticks, 2 * election_ticks) runs phase 1 with a higher
  // ballot; the draw is redrawn at every reset, and a proposer preempted by a
  // higher ballot backs off for a fresh draw (against duelling proposers).
  std::uint32_t election_ticks = 10;
  // A leader sends heartbeats (with its chosen watermark) this often.
  std::uint32_t heartbeat_ticks = 1;
  // Prepares, accepts and catch-up requests not answered are sent again this often.
  std::uint32_t retransmit_ticks = 2;
  // Slots a leader has proposed and not yet seen chosen; propose() beyond it
  // is refused with errc::busy. Re-proposals after a leader change do not count.
  // It is also α of reconfiguration: a configuration chosen at slot s governs
  // slots s + α on, so every node of a group must use the same value.
  std::size_t max_open_slots = 256;
  // One accept, promise or catch-up message carries at most this many slots
  // and about this many bytes of values (always at least one slot).
  std::size_t max_entries_per_message = 64;
  std::size_t max_bytes_per_message = std::size_t{1} << 20;
  // A proposal's command may be at most this large (errc::too_large).
  std::size_t max_command_bytes = std::size_t{1} << 20;
  // An acceptor ignores slots further than this past the highest it knows:
  // a node that far behind catches up on chosen values first.
  std::uint64_t max_slot_gap = std::uint64_t{1} << 16;
  // The journal keeps its recent records decoded in memory, up to about this
  // many bytes, so that sending accepts and applying do not read the Log
  // back; older ones are read from the Log. 0 turns the cache off. Over a
  // Log whose records stay in place (core/log.hpp) there is no cache: the
  // slot index views each value where the Log keeps it (16 bytes a slot
  // not yet applied and folded), and this is not used.
  std::size_t journal_cache_bytes = std::size_t{8} << 20;
  // Consecutive slots journalled at one ballot (an accept's run) become one
  // Log record of at most about this many bytes (a larger value makes a
  // record of its own). Keep it under the Log's record limit.
  std::size_t journal_run_bytes = std::size_t{64} << 10;
  // Quorum sizes of phase 1 and phase 2; 0 means a majority. Flexible
  // quorums need |Q1| + |Q2| > members (refused otherwise).
  std::size_t phase1_quorum = 0;
  std::size_t phase2_quorum = 0;
  // A leader that has not heard from a phase-2 quorum for election_ticks
  // steps down, so that one cut off from answers cannot stall the cluster.
  bool check_quorum = true;
  // Linearizable reads (node::read): a heartbeat round answered by a phase-2
  // quorum always; with lease_reads, a leader whose round was answered within
  // election_ticks - clock_drift_ticks serves reads without a round, and
  // followers ignore prepares for election_ticks after hearing from their
  // leader (or booting). Safe only if clocks drift less than that.
  bool lease_reads = false;
  std::uint32_t clock_drift_ticks = 2;
  // Reads waiting for a round or for the apply index (errc::busy beyond).
  std::size_t max_pending_reads = 4096;
  // Snapshots (with a snapshot_store policy and a state machine that has
  // snapshot/restore): an image goes to a peer behind the journal in chunks
  // of at most snapshot_chunk_bytes (and max_command_bytes, the bound on a
  // value in a message), at most max_inflight_snapshot_chunks of
  // them unconfirmed; a receiver refuses an image over max_snapshot_bytes.
  std::size_t snapshot_chunk_bytes = std::size_t{1} << 18;
  std::size_t max_inflight_snapshot_chunks = 4;
  std::size_t max_snapshot_bytes = std::size_t{1} << 30;
  // take_snapshot() keeps this many chosen slots behind the snapshot (in the
  // journal and the slot index), so that a peer slightly behind catches up
  // from values, not an image.
  std::uint64_t snapshot_trailing_slots = 1024;
  // The seed of the timeout jitter, mixed with the node id: the whole
  // cluster may share one options value without timing out in lockstep.
  std::uint64_t seed = 0;
};

[[nodiscard]] inline result<void> validate(const options& o) noexcept {
  if (o.election_ticks < 2)
    return fail(errc::invalid_config, "paxos: election_ticks must be at least 2", o.election_ticks);
  if (o.election_ticks > (1u << 30))
    return fail(errc::invalid_config, "paxos: election_ticks is unreasonably large", o.election_ticks);
  if (o.heartbeat_ticks == 0) return fail(errc::invalid_config, "paxos: heartbeat_ticks must be at least 1");
  if (o.heartbeat_ticks >= o.election_ticks)
    return fail(errc::invalid_config, "paxos: heartbeat_ticks must be below election_ticks", o.heartbeat_ticks);
  if (o.retransmit_ticks == 0) return fail(errc::invalid_config, "paxos: retransmit_ticks must be at least 1");
  if (o.max_open_slots == 0) return fail(errc::invalid_config, "paxos: max_open_slots must be at least 1");
  if (o.max_open_slots > (std::size_t{1} << 20))
    return fail(errc::invalid_config, "paxos: max_open_slots is unreasonably large", o.max_open_slots);
  if (o.max_entries_per_message == 0)
    return fail(errc::invalid_config, "paxos: max_entries_per_message must be at least 1");
  if (o.max_bytes_per_message == 0)
    return fail(errc::invalid_config, "paxos: max_bytes_per_message must be at least 1");
  if (o.max_command_bytes == 0) return fail(errc::invalid_config, "paxos: max_command_bytes must be at least 1");
  if (o.journal_run_bytes == 0) return fail(errc::invalid_config, "paxos: journal_run_bytes must be at least 1");
  if (o.max_slot_gap < o.max_open_slots)
    return fail(errc::invalid_config, "paxos: max_slot_gap must be at least max_open_slots", o.max_slot_gap);
  if (o.lease_reads && o.clock_drift_ticks >= o.election_ticks)
    return fail(errc::invalid_config, "paxos: clock_drift_ticks must be below election_ticks for lease reads",
                o.clock_drift_ticks);
  if (o.lease_reads && !o.check_quorum)
    return fail(errc::invalid_config, "paxos: lease_reads needs check_quorum (a deaf leader must let its lease lapse)");
  if (o.snapshot_chunk_bytes == 0) return fail(errc::invalid_config, "paxos: snapshot_chunk_bytes must be at least 1");
  if (o.max_inflight_snapshot_chunks == 0)
    return fail(errc::invalid_config, "paxos: max_inflight_snapshot_chunks must be at least 1");
  if (o.max_snapshot_bytes == 0) return fail(errc::invalid_config, "paxos: max_snapshot_bytes must be at least 1");
  if (o.max_pending_reads == 0) return fail(errc::invalid_config, "paxos: max_pending_reads must be at least 1");
  return {};
}

}  // namespace quorum::paxos
