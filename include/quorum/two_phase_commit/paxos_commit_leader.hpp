// The leader's part of a paxos_commit_node (first leader or recovery leader):
// learning each instance's outcome from the acceptors' phase 2b, deciding,
// and phase 1 and 2 of a recovery. Member definitions; included by paxos_commit.hpp.
#pragma once

#include "quorum/two_phase_commit/paxos_commit.hpp"

namespace quorum::two_phase_commit {

template <class P>
void paxos_commit_node<P>::on_phase2b(const pc_message& m) {
  txn_state* st = known(m.txn);
  const std::size_t pos = acceptor_position(m.from);
  if (st == nullptr || !st->leading || st->decided || pos == paxos::membership::npos) {
    ++stats_.dropped_stale;
    return;
  }
  for (const pc_entry& e : m.entries) {
    const std::size_t i = index_of(*st, e.instance);
    if (i == st->parts().size() || e.value == pc_value::none) continue;
    detail::pc_instance& in = st->inst()[i];
    if (in.chosen == pc_value::none && in.learn(acceptors_, pos, e.bal)) in.chosen = e.value;
  }
  maybe_decide(m.txn, *st);
}

// Commit iff every instance chose Prepared; one Aborted settles it early.
template <class P>
void paxos_commit_node<P>::maybe_decide(txn_id txn, txn_state& st) {
  bool any_abort = false;
  bool all_prepared = true;
  for (const detail::pc_instance& in : st.inst()) {
    any_abort |= in.chosen == pc_value::aborted;
    all_prepared &= in.chosen == pc_value::prepared;
  }
  if (!any_abort && !all_prepared) return;
  const decision d = any_abort ? decision::abort : decision::commit;
  st.decided = d;
  st.ack_ticks = 0;
  if (st.origin == self_) st.resolved.set(st.parts().size());
  ++(d == decision::commit ? stats_.commits : stats_.aborts);
  report(txn, d);
  pc_message m = make(pc_message_type::decision, txn, st);
  m.participants = {};
  m.decision = d;
  for (const node_id p : st.parts()) send(p, m);
  if (!st.resolved.test(st.parts().size())) send(st.origin, m);  // it may still lead txn: it must stop
}

template <class P>
void paxos_commit_node<P>::report(txn_id txn, decision d) {
  if (!opts_.report_decisions) return;
  if (decisions_.size() < opts_.max_unread_decisions) decisions_.push_back(decided_txn{txn, d});
  else ++stats_.unreported_decisions;
}

// Learned the outcome another leader reached: a leader that has not decided
// stops (its phase 1 could otherwise find acceptors that forgot) and reports it.
template <class P>
void paxos_commit_node<P>::adopt(txn_id txn, txn_state& st, decision d) {
  if (!st.leading || st.decided) return;
  st.decided = d;
  st.leading = false;
  report(txn, d);
}

template <class P>
void paxos_commit_node<P>::start_recovery(txn_id txn, txn_state& st) {
  // No round above ballot::max_round (only damaged input gets a txn there):
  // the round after it would leave the range every acceptor takes.
  if (std::max(st.highest_round, st.bal.round) >= ballot::max_round) {
    ++stats_.recoveries_refused_exhausted;
    st.leader_ticks = 0;
    return;
  }
  st.bal = ballot{std::max(st.highest_round, st.bal.round) + 1, self_};
  st.highest_round = st.bal.round;
  st.leader_ticks = 0;
  st.leader = self_;
  if (st.prop.size() != st.parts().size()) st.prop.assign(st.parts().size(), paxos::proposer{});
  for (paxos::proposer& p : st.prop) p.start(st.bal);
  ++stats_.recoveries;
  pc_message m = make(pc_message_type::phase1a, txn, st);
  m.bal = st.bal;
  for (const node_id a : acceptors_.members()) send(a, m);
}

template <class P>
void paxos_commit_node<P>::on_phase1b(const pc_message& m) {
  txn_state* st = known(m.txn);
  const std::size_t pos = acceptor_position(m.from);
  // prop is made by start_recovery: no 1b is expected before it.
  if (st == nullptr || !st->leading || st->decided || pos == paxos::membership::npos || m.bal != st->bal ||
      m.entries.size() != st->parts().size() || st->prop.size() != st->parts().size()) {
    ++stats_.dropped_stale;
    return;
  }
  bool reached = true;
  for (const pc_entry& e : m.entries) {
    const std::size_t i = index_of(*st, e.instance);
    if (i == st->parts().size()) return;
    const std::byte v{static_cast<std::uint8_t>(e.value)};
    const std::span<const std::byte> val = e.value == pc_value::none ? std::span<const std::byte>{}
                                                                      : std::span<const std::byte>{&v, 1};
    reached &= st->prop[i].on_promise(acceptors_, pos, e.value == pc_value::none ? ballot{} : e.bal, val);
  }
  if (reached) propose_recovered(m.txn, *st);
}

// Phase 2 of recovery: each instance keeps the value accepted at its highest
// ballot; one with none gets Aborted (its RM may not have voted).
template <class P>
void paxos_commit_node<P>::propose_recovered(txn_id txn, txn_state& st) {
  std::vector<pc_entry>& es = entries_buf_;
  es.clear();
  for (std::size_t i = 0; i < st.parts().size(); ++i) {
    paxos::proposer& p = st.prop[i];
    const std::byte abort_byte{static_cast<std::uint8_t>(pc_value::aborted)};
    const byte_buffer v = p.highest_accepted().round != 0 ? to_buffer(p.value()) : byte_buffer{abort_byte};
    p.start_accept(v);
    es.push_back(pc_entry{st.parts()[i], st.bal, static_cast<pc_value>(std::to_integer<std::uint8_t>(v[0]))});
  }
  pc_message m = make(pc_message_type::phase2a, txn, st);
  m.entries = es;
  for (const node_id a : acceptors_.members()) send(a, m);
}

template <class P>
void paxos_commit_node<P>::on_nack(const pc_message& m) {
  if (txn_state* st = known(m.txn)) st->highest_round = std::max(st->highest_round, m.bal.round);
}

}  // namespace quorum::two_phase_commit
