// Options of a coordinator and of a participant: timers in ticks (the user
// calls tick() at a fixed interval) and a named bound on everything that could
// grow (DESIGN.md principle 6). validate() says which option cannot work.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quorum/core/error.hpp"
#include "quorum/core/result.hpp"
#include "quorum/two_phase_commit/types.hpp"

namespace quorum::two_phase_commit {

struct coordinator_options {
  // Presumed abort (the default) or presumed commit: which decision is forced
  // and acknowledged, and what the coordinator answers for a txn it has no
  // record of.
  two_phase_commit::presumption presumption{presumption::abort};
  // A transaction with a single participant skips the voting phase: that
  // participant prepares, decides and reports (one-phase commit).
  bool one_phase{true};
  // Last-agent optimisation (presumed abort only): the last participant is
  // asked only once the others have voted; if they all voted read-only it is
  // the single updating participant and gets the one-phase request. Saves the
  // second phase at the price of a sequential round when it does not apply.
  bool last_agent{false};
  // Votes not all in after this many ticks: the coordinator decides abort.
  std::uint32_t vote_timeout_ticks{50};
  // A prepare without a vote, or a decision without its ack, is sent again
  // this often.
  std::uint32_t retry_ticks{10};
  // Transactions begun and not yet finished; begin() beyond it: errc::busy.
  std::size_t max_open_transactions{4096};
  // Participants of one transaction (errc::too_large beyond).
  std::size_t max_participants{64};
  // Decisions reported by decisions() and not yet taken by the user; begin()
  // refuses with errc::busy while this many wait.
  std::size_t max_unread_decisions{65536};
  // Log records kept behind the oldest open transaction's first record;
  // beyond it the open transactions' records are copied forward and the
  // prefix compacted, so a long-open transaction cannot grow the log. At
  // least twice max_open_transactions, so copying stays occasional.
  std::uint64_t max_log_span{65536};
};

struct participant_options {
  // An enlisted transaction with no prepare after this many ticks is aborted
  // unilaterally (the participant has not voted, so it may).
  std::uint32_t unilateral_abort_ticks{100};
  // An in-doubt (prepared) participant asks for the outcome this often.
  std::uint32_t inquiry_ticks{20};
  // Also ask the other participants (cooperative termination); whoever knows
  // the outcome, or has not voted and so can still abort, answers.
  bool cooperative_termination{true};
  // Transactions this participant holds state for (enlisted, voted, in doubt,
  // or decided and not yet below its coordinator's horizon); a prepare beyond
  // it is answered no, an enlist() beyond it errc::busy.
  std::size_t max_transactions{8192};
  // Coordinators whose horizons are tracked; a prepare from one more is refused.
  std::size_t max_coordinators{64};
  // Participants named in one prepare (decoder and record bound).
  std::size_t max_participants{1024};
  // Heuristic reports kept until forget_heuristic(); a heuristic decision
  // beyond it is refused with errc::busy.
  std::size_t max_heuristics{1024};
  // As coordinator_options::max_log_span: the bound on records behind the
  // oldest transaction still held.
  std::uint64_t max_log_span{65536};
};

[[nodiscard]] inline result<void> validate(const coordinator_options& o) noexcept {
  if (o.presumption != presumption::abort && o.presumption != presumption::commit)
    return fail(errc::invalid_config, "presumption must be abort or commit");
  if (o.last_agent && o.presumption != presumption::abort)
    return fail(errc::invalid_config,
                "last_agent needs presumed abort (nothing may be logged before the one-phase request)");
  if (o.retry_ticks == 0) return fail(errc::invalid_config, "retry_ticks must be at least 1");
  if (o.vote_timeout_ticks == 0) return fail(errc::invalid_config, "vote_timeout_ticks must be at least 1");
  if (o.max_open_transactions == 0) return fail(errc::invalid_config, "max_open_transactions must be at least 1");
  if (o.max_participants == 0) return fail(errc::invalid_config, "max_participants must be at least 1");
  if (o.max_unread_decisions == 0) return fail(errc::invalid_config, "max_unread_decisions must be at least 1");
  if (o.max_log_span < 2 * static_cast<std::uint64_t>(o.max_open_transactions))
    return fail(errc::invalid_config, "max_log_span must be at least twice max_open_transactions", o.max_log_span);
  return {};
}

[[nodiscard]] inline result<void> validate(const participant_options& o) noexcept {
  if (o.unilateral_abort_ticks == 0) return fail(errc::invalid_config, "unilateral_abort_ticks must be at least 1");
  if (o.inquiry_ticks == 0) return fail(errc::invalid_config, "inquiry_ticks must be at least 1");
  if (o.max_transactions == 0) return fail(errc::invalid_config, "max_transactions must be at least 1");
  if (o.max_coordinators == 0) return fail(errc::invalid_config, "max_coordinators must be at least 1");
  if (o.max_participants == 0) return fail(errc::invalid_config, "max_participants must be at least 1");
  if (o.max_heuristics == 0) return fail(errc::invalid_config, "max_heuristics must be at least 1");
  // A held transaction is copied forward as up to three records.
  if (o.max_log_span < 4 * static_cast<std::uint64_t>(o.max_transactions))
    return fail(errc::invalid_config, "max_log_span must be at least four times max_transactions", o.max_log_span);
  return {};
}

}  // namespace quorum::two_phase_commit
