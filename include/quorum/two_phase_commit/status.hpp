// What a coordinator and a participant report: decisions made, heuristic
// outcomes, and counters. Messages and forced writes are counted so that tests
// can hold each variant to its table (Mohan, Lindsay & Obermarck 1986).
#pragma once

#include <cstdint>
#include <optional>

#include "quorum/two_phase_commit/types.hpp"

namespace quorum::two_phase_commit {

// A decision the coordinator reached (or, after a restart, re-learned from its log).
struct decided_txn {
  txn_id txn{};
  two_phase_commit::decision decision{decision::abort};
  friend constexpr bool operator==(const decided_txn&, const decided_txn&) noexcept = default;
};

// An operator forced an in-doubt participant's hand. Once the real outcome is
// known, `mixed` says whether it disagrees: a heuristic hazard the operator
// must repair by hand. Kept until forget_heuristic().
struct heuristic_report {
  txn_id txn{};
  two_phase_commit::decision forced{decision::abort};
  std::optional<two_phase_commit::decision> outcome{};
  [[nodiscard]] constexpr bool mixed() const noexcept { return outcome && *outcome != forced; }
};

// Counts shared by both roles.
struct io_stats {
  std::uint64_t messages_sent{0};
  std::uint64_t forced_writes{0};  // records made durable (sync) before a message that depends on them
  std::uint64_t lazy_writes{0};    // records written without a sync of their own
  std::uint64_t syncs{0};
  std::uint64_t dropped_malformed{0};  // undecodable bytes
  std::uint64_t dropped_misrouted{0};  // addressed to another node, or from ourselves
  std::uint64_t dropped_stale{0};      // about a txn that is over, or from an unknown sender
  std::uint64_t log_errors{0};         // the Log refused a call; the node stopped
  std::uint64_t relocated{0};          // open txns copied forward so the log could be compacted
};

struct coordinator_stats : io_stats {
  std::uint64_t begun{0};
  std::uint64_t commits{0};
  std::uint64_t aborts{0};
  std::uint64_t vote_timeouts{0};
  std::uint64_t refused_busy{0};
  std::uint64_t recovered{0};  // transactions found unfinished in the log at start
};

struct participant_stats : io_stats {
  std::uint64_t votes_yes{0};
  std::uint64_t votes_no{0};
  std::uint64_t votes_read_only{0};
  std::uint64_t unilateral_aborts{0};
  std::uint64_t inquiries_sent{0};
  std::uint64_t refused_busy{0};
  std::uint64_t in_doubt_recovered{0};  // prepared records without a decision found at start
  std::uint64_t heuristic_hazards{0};   // heuristic decisions the real outcome contradicted
};

}  // namespace quorum::two_phase_commit
