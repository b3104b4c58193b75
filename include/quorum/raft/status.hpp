// What a Raft node reports about itself: its role, the result of a proposal,
// and counters of the inbound messages it refused (DESIGN.md principle 7:
// protocol-invalid input is dropped and counted, never acted on).
#pragma once

#include <cstdint>

#include "quorum/core/ids.hpp"

namespace quorum::raft {

enum class role : std::uint8_t {
  follower,
  pre_candidate,  // polling with pre_vote; its term has not moved yet
  candidate,
  leader,
};

[[nodiscard]] constexpr const char* to_string(role r) noexcept {
  switch (r) {
    case role::follower: return "follower";
    case role::pre_candidate: return "pre_candidate";
    case role::candidate: return "candidate";
    case role::leader: return "leader";
  }
  return "unknown";
}

// Where a proposal will sit if it commits: a client that later sees another
// term at `index` knows the proposal was lost to a leader change.
struct proposal {
  log_index index{};
  term_id term{};

  friend constexpr bool operator==(const proposal&, const proposal&) noexcept = default;
};

struct node_stats {
  std::uint64_t dropped_malformed{0};       // undecodable bytes, or fields that cannot be
  std::uint64_t dropped_unknown_sender{0};  // from outside the configuration, or from ourselves
  std::uint64_t dropped_misrouted{0};       // addressed to another node
  std::uint64_t dropped_stale_term{0};      // from an older term (answered when that helps the sender)
  std::uint64_t dropped_in_lease{0};        // (pre)vote requests ignored: a leader is live
  std::uint64_t dropped_invalid{0};         // impossible from a correct peer (a second leader in a term)
  std::uint64_t pre_votes_started{0};
  std::uint64_t elections_started{0};
  std::uint64_t elections_refused_exhausted{0};  // none started: the term is max_term
  std::uint64_t times_leader{0};
  std::uint64_t syncs{0};                   // durability barriers asked of the Log, started ones included
  std::uint64_t syncs_started{0};           // of them, start_sync calls that finish later (log_synced)
  std::uint64_t proposals_refused_busy{0};
  std::uint64_t snapshots_taken{0};
  std::uint64_t snapshots_installed{0};
  std::uint64_t snapshots_refused{0};       // images over max_snapshot_bytes
  std::uint64_t snapshot_chunks_sent{0};
  std::uint64_t configuration_changes{0};   // change_membership calls accepted
  std::uint64_t stepped_down_removed{0};    // leaderships ended by a committed removal
  std::uint64_t reads_served{0};           // read_ready calls
  std::uint64_t reads_failed{0};           // read_failed calls (not the errors read() returns)
  std::uint64_t transfers_started{0};
  std::uint64_t transfers_aborted{0};      // ran out of transfer_timeout_ticks

  [[nodiscard]] std::uint64_t dropped() const noexcept {
    return dropped_malformed + dropped_unknown_sender + dropped_misrouted + dropped_stale_term +
           dropped_in_lease + dropped_invalid;
  }
};

}  // namespace quorum::raft
