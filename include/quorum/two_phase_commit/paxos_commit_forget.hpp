// How a paxos_commit_node forgets finished transactions (the rule is at the
// top of paxos_commit.hpp), compacts its Log behind them, and rebuilds itself
// from the Log on restart. Member definitions; included by paxos_commit.hpp.
#pragma once

#include "quorum/two_phase_commit/paxos_commit.hpp"

namespace quorum::two_phase_commit {

// The RM has nothing more to do for txn: remember never to vote on it again.
// Not durable until flush_resolutions() has synced; no one is told before.
template <class P>
void paxos_commit_node<P>::resolve(txn_id txn, txn_state& st) {
  if (st.rm_resolved || !is_rm(st)) return;
  if (!tombstones_.add(st.origin, txn)) return;  // an origin past max_origins: kept until the node restarts
  st.rm_resolved = true;
  st.rm_durable = false;
  need_sync_ = true;
}

// From here on the RM will not vote on txn (it resolved and forgot it before,
// or has not voted and now never will). False: its origin cannot be tracked.
template <class P>
bool paxos_commit_node<P>::refuse(txn_id txn, txn_state& st) {
  if (!tombstones_.add(st.origin, txn)) return false;
  st.rm = rm_phase::refused;
  st.rm_resolved = true;
  st.rm_durable = false;
  need_sync_ = true;
  return true;
}

template <class P>
void paxos_commit_node<P>::acknowledge(txn_id txn, node_id origin, node_id to) {
  // Bounded: past it the asker asks again later.
  if (acks_.size() < 2 * opts_.max_transactions) acks_.push_back(pending_ack{txn, origin, to});
}

// The origin's slot is last: it is known to lead txn no more.
template <class P>
void paxos_commit_node<P>::init_resolved(txn_state& st) {
  st.resolved.reset(st.parts().size() + 1);
  st.resolved.set(st.parts().size(), index_of(st, st.origin) != st.parts().size());  // an RM: its resolution says it
}

// resolved and forget name many txns: each is handled as its own message
// would have been, and forgotten here once done.
template <class P>
void paxos_commit_node<P>::handle_batch(const pc_message& m) {
  for (const pc_txn_ref& r : m.batch) {
    txn_state* st = r.txn == no_txn ? nullptr : txns_.find(r.txn);
    if (st == nullptr) {
      if (m.type == pc_message_type::resolved) ++stats_.dropped_stale;  // a forget may well come twice
      continue;
    }
    st->idle_ticks = 0;
    if (m.type == pc_message_type::resolved) {
      on_resolved(m.from, r.txn, *st);
    } else {
      st->resolved.set_all(st->parts().size() + 1);
    }
    forget_if_done(*st);
  }
}

template <class P>
void paxos_commit_node<P>::on_resolved(node_id from, txn_id txn, txn_state& st) {
  const std::size_t i = index_of(st, from);
  if (i == st.parts().size() && from != st.origin) {
    ++stats_.dropped_stale;
    return;
  }
  if (st.resolved.test(i)) return;  // i == parts.size(): the origin's flag
  st.resolved.set(i);
  if (!st.leading || !all_resolved(st)) return;
  // The acceptors are told at the next tick, with every other txn finished
  // by then. Past the bound they ask the RMs themselves (acceptor_query_ticks).
  if (forgets_.size() < 2 * opts_.max_transactions) forgets_.push_back(pc_txn_ref{txn, st.origin});
}

// One message per max_gc_batch of refs, all to `to`.
template <class P>
void paxos_commit_node<P>::send_batches(pc_message_type type, std::vector<pc_txn_ref>& refs, node_id to) {
  for (std::size_t at = 0; at < refs.size(); at += opts_.max_gc_batch) {
    pc_message m;
    m.type = type;
    m.from = self_;
    m.batch = std::span<const pc_txn_ref>{refs}.subspan(at, std::min(opts_.max_gc_batch, refs.size() - at));
    send(to, m);
  }
}

// The acknowledgements made true by the last sync, one resolved per destination.
template <class P>
void paxos_commit_node<P>::flush_acks() {
  const auto key = [](const pending_ack& a) { return std::tuple{a.to, a.origin, a.txn}; };
  std::sort(acks_.begin(), acks_.end(), [&](const pending_ack& a, const pending_ack& b) { return key(a) < key(b); });
  acks_.erase(std::unique(acks_.begin(), acks_.end(), [&](const pending_ack& a, const pending_ack& b) {
                return key(a) == key(b);
              }), acks_.end());
  for (std::size_t i = 0; i < acks_.size();) {
    batch_buf_.clear();
    const node_id to = acks_[i].to;
    for (; i < acks_.size() && acks_[i].to == to; ++i) batch_buf_.push_back(pc_txn_ref{acks_[i].txn, acks_[i].origin});
    send_batches(pc_message_type::resolved, batch_buf_, to);
  }
  acks_.clear();
}

template <class P>
void paxos_commit_node<P>::flush_forgets() {
  if (forgets_.empty()) return;
  for (const node_id a : acceptors_.members())
    if (a != self_) send_batches(pc_message_type::forget, forgets_, a);
  forgets_.clear();
}

// As an RM, asked by an acceptor: answer once the resolution is durable; a txn
// it never voted on is refused now (the acceptor asks only after a long silence).
// As the origin and not an RM: answer unless it still leads txn undecided.
template <class P>
void paxos_commit_node<P>::on_query(const pc_message& m) {
  if (acceptor_position(m.from) == paxos::membership::npos) {
    ++stats_.dropped_stale;
    return;
  }
  txn_state* st = known(m.txn);
  if (m.origin == self_ && !std::binary_search(m.participants.begin(), m.participants.end(), self_)) {
    if (st == nullptr || !st->leading || st->decided) acknowledge(m.txn, m.origin, m.from);
    return;
  }
  if (st == nullptr) {
    if (!tombstones_.covers(m.origin, m.txn)) {
      if (!tombstones_.add(m.origin, m.txn)) return;
      need_sync_ = true;
      rm_.abort(m.txn);  // any work it holds for txn rolls back: it never voted yes
    }
    return acknowledge(m.txn, m.origin, m.from);
  }
  if (!is_rm(*st)) {
    ++stats_.dropped_stale;
    return;
  }
  // Not voted: its instance can only choose Aborted, so the outcome is abort.
  if (st->rm == rm_phase::none && !st->applied && refuse(m.txn, *st)) apply(m.txn, *st, decision::abort);
  if (st->rm_resolved) acknowledge(m.txn, st->origin, m.from);
}

template <class P>
void paxos_commit_node<P>::resend_decision(txn_id txn, txn_state& st) {
  st.ack_ticks = 0;
  pc_message m = make(pc_message_type::decision, txn, st);
  m.participants = {};
  m.decision = *st.decided;
  for (std::size_t i = 0; i < st.parts().size(); ++i)
    if (!st.resolved.test(i)) send(st.parts()[i], m);
  if (!st.resolved.test(st.parts().size())) send(st.origin, m);
}

// A query carries the participants: the origin answers it differently if it is not one.
template <class P>
void paxos_commit_node<P>::send_to_unresolved(pc_message_type type, txn_id txn, txn_state& st) {
  st.idle_ticks = 0;
  pc_message m = make(type, txn, st);
  for (std::size_t i = 0; i < st.parts().size(); ++i)
    if (!st.resolved.test(i)) send(st.parts()[i], m);
  if (!st.resolved.test(st.parts().size())) send(st.origin, m);
}

// Nothing held for txn is needed by anyone: as an RM its resolution is
// durable; as a leader or acceptor every RM has resolved it.
template <class P>
bool paxos_commit_node<P>::done(const txn_state& st) const {
  if (is_rm(st) && !(st.rm_resolved && st.rm_durable)) return false;
  return (!st.leading && !st.has_acc) || all_resolved(st);
}

// Its slot and buffers wait for the next txn.
template <class P>
void paxos_commit_node<P>::forget_if_done(txn_state& st) {
  if (!done(st)) return;
  if (hot_.st == &st) hot_.st = nullptr;
  txns_.erase(st.txn);
  ++stats_.forgotten;
}

// Once per tick: one sync makes every resolution since the last one durable
// (the tombstones in the hard state, the lazy decided records in the log),
// then the acknowledgements it makes true go out (one resolved per
// destination), so do the leader's forgets (one per acceptor), finished txns
// are dropped and the log prefix nothing needs is compacted.
template <class P>
void paxos_commit_node<P>::flush_resolutions() {
  const bool synced = need_sync_ || tombstones_.dirty();
  if (synced) {
    tombstones_.encode(buf_);
    if (auto s = log_.save_state(buf_); !s) return (void)stop(s.error());
    if (auto s = log_.sync(); !s) return (void)stop(s.error());
    ++stats_.gc_syncs;
    tombstones_.saved();
    need_sync_ = false;
  }
  flush_acks();
  flush_forgets();
  // One pass: what the sync made durable, what is done, and the oldest
  // record what stays still needs.
  std::uint64_t keep = log_.last_index().value() + 1;
  txns_.for_each([&](txn_state& st) {
    if (synced) st.rm_durable = st.rm_resolved;
    if (done(st)) forget_if_done(st);  // erasing an entry leaves the walk over the others as it was
    else if (st.first_record != 0) keep = std::min(keep, st.first_record);
  });
  compact(keep);
}

// keep: the oldest log position a held txn still needs (flush_resolutions).
// The tombstones that cover every dropped RM record were synced first
// (flush_resolutions), and a crash keeps a prefix of the Log's calls, so a
// compaction that survives comes with them and with any copies made before it.
template <class P>
void paxos_commit_node<P>::compact(std::uint64_t keep) {
  if (keep + opts_.max_log_span <= log_.last_index().value()) {
    relocate();
    if (!status_) return;
    keep = log_.last_index().value() + 1;
    txns_.for_each([&keep](const txn_state& st) {
      if (st.first_record != 0) keep = std::min(keep, st.first_record);
    });
  }
  if (keep <= log_.first_index().value()) return;
  if (auto s = log_.compact(log_index{keep}); !s) (void)stop(s.error());
}

// A transaction held for long (an RM down) would pin the log's prefix: its
// records are written again at the end, so replay gives the same state.
template <class P>
void paxos_commit_node<P>::relocate() {
  txns_.for_each([this](txn_state& st) {
    if (!status_ || st.first_record == 0) return;  // a failed write stopped the node: write no more
    st.first_record = 0;
    ++stats_.relocated;
    if (st.rm == rm_phase::voted_yes) {
      if (!write(pc_record_kind::prepared, st.txn, st, false, false)) return;
      if (st.applied && !write(pc_record_kind::decided, st.txn, st, false, false)) return;
    }
    if (st.has_acc) (void)write(pc_record_kind::acceptor, st.txn, st, false, false);
  });
}

// Replays the log (the last acceptor record of a txn holds its state), then
// drops what the replay shows finished: an RM whose decided record survived
// has resolved its txn (the tombstones are synced with it, or re-derived here).
template <class P>
result<void> paxos_commit_node<P>::recover() {
  QUORUM_TRY(tombstones_.decode(log_.state()));
  for (log_index i = log_.first_index(); i <= log_.last_index() && i.value() != 0; i = i.next()) {
    auto bytes = log_.read(i);
    if (!bytes) return unexpected{bytes.error()};
    auto r = decode_pc_record(*bytes, opts_.max_participants);
    if (!r) return fail(errc::corrupt_log, "paxos commit: undecodable record at log index", i.value());
    txn_state* held = txns_.find(r->txn);
    txn_state& st = held != nullptr ? *held : txns_.insert(r->txn);
    if (st.first_record == 0) st.first_record = i.value();
    if (st.parts().empty()) set_parts(st, r->participants);
    if (st.origin == no_node) st.origin = r->origin;
    if (st.leader == no_node) st.leader = r->leader;
    if (r->kind == pc_record_kind::prepared) st.rm = rm_phase::voted_yes;
    if (r->kind == pc_record_kind::decided) st.applied = r->decision;
    if (r->kind == pc_record_kind::acceptor) {
      // A txn's records all carry its participants; states are none or one per participant.
      if (!r->states.empty() && r->states.size() != st.parts().size())
        return fail(errc::corrupt_log, "paxos commit: acceptor record disagrees on participants at log index",
                    i.value());
      st.has_acc = !r->states.empty();
      for (std::size_t k = 0; k < st.parts().size(); ++k) {
        detail::pc_instance& in = st.inst()[k];
        in.restore(st.has_acc ? r->states[k] : paxos::acceptor_state{});
        st.unanswered.set(k, false);
      }
    }
  }
  txns_.for_each([this](txn_state& st) {
    init_resolved(st);
    if (!is_rm(st)) return;
    if (st.applied) resolve(st.txn, st);
    else if (st.rm == rm_phase::none && tombstones_.covers(st.origin, st.txn)) (void)refuse(st.txn, st);
  });
  return {};
}

}  // namespace quorum::two_phase_commit
