// Two-phase commit's small vocabulary: transaction ids, votes, decisions and
// the presumption (abort or commit) that says what "no record" means. Shared by
// the coordinator, the participant, their messages and their log records.
#pragma once

#include <cstdint>

#include "quorum/core/ids.hpp"

namespace quorum::two_phase_commit {

// A transaction, named by its coordinator. 0 is reserved for "none"; a
// coordinator begins its transactions in increasing order (see coordinator.hpp).
using txn_id = strong_id<struct txn_id_tag>;
inline constexpr txn_id no_txn{};

enum class vote : std::uint8_t {
  yes = 1,    // prepared: durable, will commit or abort as told
  no,         // refused: the transaction aborts
  read_only,  // changed nothing: drops out of phase two, wrote nothing
};

enum class decision : std::uint8_t { commit = 1, abort };

// What a node concludes when it finds no record of a transaction (Mohan,
// Lindsay & Obermarck 1986). The decision that differs from the presumption is
// the one that must be forced and acknowledged.
enum class presumption : std::uint8_t { abort = 1, commit };

[[nodiscard]] constexpr decision presumed(presumption p) noexcept {
  return p == presumption::abort ? decision::abort : decision::commit;
}

[[nodiscard]] constexpr const char* to_string(vote v) noexcept {
  switch (v) {
    case vote::yes: return "yes";
    case vote::no: return "no";
    case vote::read_only: return "read_only";
  }
  return "unknown";
}

[[nodiscard]] constexpr const char* to_string(decision d) noexcept {
  return d == decision::commit ? "commit" : d == decision::abort ? "abort" : "unknown";
}

[[nodiscard]] constexpr const char* to_string(presumption p) noexcept {
  return p == presumption::abort ? "presumed abort" : p == presumption::commit ? "presumed commit" : "unknown";
}

}  // namespace quorum::two_phase_commit
