// One RM's synod instance within a Paxos Commit transaction, as a node holds
// it in every role: the acceptor's durable state with its one-byte value
// inline and the leader's tally of phase 2b answers.
// The rules are the synod's (paxos/synod.hpp: acceptor, learner), restated
// here over one cache line because a value is one of three bytes: no heap
// buffer per acceptor, nothing optional in the tally.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quorum/core/ids.hpp"
#include "quorum/paxos/quorums.hpp"
#include "quorum/paxos/synod.hpp"
#include "quorum/two_phase_commit/paxos_commit_message.hpp"

namespace quorum::two_phase_commit::detail {

struct alignas(64) pc_instance {
  // Acceptor (valid once the txn's has_acc is set): paxos::acceptor's state.
  ballot promised{};
  ballot accepted{};  // round 0: none, and then value is none
  // Leader: paxos::learner's tally of the latest ballot heard.
  ballot tally{};
  std::uint64_t mask{0};
  pc_value value{pc_value::none};   // acceptor: accepted at `accepted`
  bool dirty{false};                // acceptor: changed since last saved
  bool tally_chosen{false};         // leader: `tally` is chosen
  pc_value chosen{pc_value::none};  // leader: what the instance chose

  [[nodiscard]] bool has_value() const noexcept { return accepted.round != 0; }

  // paxos::acceptor::prepare: promise b unless a higher ballot was promised.
  bool prepare(ballot b) noexcept {
    if (b < promised) return false;
    if (b > promised) {
      promised = b;
      dirty = true;
    }
    return true;
  }
  // paxos::acceptor::accept, of a one-byte value.
  bool accept(ballot b, pc_value v) noexcept {
    if (b < promised) return false;
    if (accepted == b) return true;  // one value per ballot: a retransmission
    promised = b;
    accepted = b;
    value = v;
    dirty = true;
    return true;
  }
  // From a replayed record (its value is none or one byte).
  void restore(const paxos::acceptor_state& s) noexcept {
    promised = s.promised;
    accepted = s.accepted;
    value = s.has_value() && s.value.size() == 1 ? static_cast<pc_value>(std::to_integer<std::uint8_t>(s.value[0]))
                                                 : pc_value::none;
    dirty = false;
  }

  // paxos::learner::on_accepted: true when b is chosen, a phase-2 quorum's latest accept.
  bool learn(const paxos::membership& m, std::size_t position, ballot b) noexcept {
    if (tally_chosen) return tally == b;
    if (b != tally) {
      if (b < tally) return false;
      tally = b;
      mask = 0;
    }
    mask |= paxos::membership::bit(position);
    tally_chosen = m.phase2_reached(mask);
    return tally_chosen;
  }
};
static_assert(sizeof(pc_instance) == 64, "one instance, one cache line");

}  // namespace quorum::two_phase_commit::detail
