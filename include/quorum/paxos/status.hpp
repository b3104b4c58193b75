// What a Multi-Paxos node reports about itself: its role, the result of a
// proposal, and counters of the inbound messages it refused (DESIGN.md
// principle 7: protocol-invalid input is dropped and counted, never acted on).
#pragma once

#include <cstdint>

#include "quorum/core/ids.hpp"

namespace quorum::paxos {

enum class role : std::uint8_t {
  follower,   // accepts from the leader it hears from
  candidate,  // running phase 1 with its own ballot
  leader,     // phase 1 done: proposes in phase 2 only
};

[[nodiscard]] constexpr const char* to_string(role r) noexcept {
  switch (r) {
    case role::follower: return "follower";
    case role::candidate: return "candidate";
    case role::leader: return "leader";
  }
  return "unknown";
}

// Where a proposal sits: a client that later sees another ballot's value
// chosen at `index` knows the proposal was lost to a leader change.
struct proposal {
  log_index index{};
  ballot bal{};

  friend constexpr bool operator==(const proposal&, const proposal&) noexcept = default;
};

struct node_stats {
  std::uint64_t dropped_malformed{0};       // undecodable bytes, or fields that cannot be
  std::uint64_t dropped_unknown_sender{0};  // from outside the configuration, or from ourselves
  std::uint64_t dropped_misrouted{0};       // addressed to another node
  std::uint64_t dropped_stale{0};           // below our promise (answered with a reject)
  std::uint64_t dropped_out_of_window{0};   // slots past max_slot_gap
  std::uint64_t dropped_in_lease{0};        // prepares ignored: a leader's lease is live
  std::uint64_t elections_started{0};
  std::uint64_t elections_refused_exhausted{0};  // none started: a ballot at ballot::max_round was promised or seen
  std::uint64_t times_leader{0};
  std::uint64_t preempted{0};               // phase 1 or 2 refused by a higher ballot
  std::uint64_t noops_proposed{0};          // gaps a new leader filled
  std::uint64_t reproposed{0};              // values a new leader found and proposed again
  std::uint64_t syncs{0};
  std::uint64_t proposals_refused_busy{0};
  std::uint64_t reads_served{0};
  std::uint64_t reads_by_lease{0};          // served without a heartbeat round of their own
  std::uint64_t snapshots_taken{0};
  std::uint64_t snapshots_installed{0};     // images received from a peer and restored
  std::uint64_t snapshot_chunks_sent{0};
  std::uint64_t snapshots_refused{0};       // received images that were damaged or over max_snapshot_bytes
  std::uint64_t prepares_behind_snapshot{0};  // prepares from below our snapshot: answered with the image
  std::uint64_t configuration_changes{0};     // change_membership() calls this node proposed
  std::uint64_t configs_malformed{0};         // chosen configuration commands that did not decode (skipped)
  std::uint64_t stepped_down_removed{0};      // leaderships given up: the next slot's configuration left us out
  std::uint64_t phase1_for_configuration{0};  // phase 1 run again by a leader reaching a new configuration

  [[nodiscard]] std::uint64_t dropped() const noexcept {
    return dropped_malformed + dropped_unknown_sender + dropped_misrouted + dropped_stale + dropped_out_of_window +
           dropped_in_lease;
  }
};

}  // namespace quorum::paxos
