// quorum::raft::node, continued (node.hpp includes this file at its end). Log
// replication (§5.3), commitment (§5.4.2), acknowledgements after sync, and
// applying.
#pragma once

#include "quorum/raft/node.hpp"

namespace quorum::raft {

// Any message from the leader of our term makes us its follower.
template <class Policies>
inline bool node<Policies>::follow(const message& m) {
  if (role_ == role::leader) {
    ++stats_.dropped_invalid;  // two leaders in one term cannot come from correct peers
    return false;
  }
  if (role_ != role::follower) become_follower(term_, m.from);
  leader_ = m.from;
  election_elapsed_ = 0;
  return true;
}

template <class Policies>
inline void node<Policies>::handle_append(const message& m) {
  // Configuration entries are rare: only an append that carries one pays for them.
  const bool carries_config = std::any_of(m.entries.begin(), m.entries.end(),
                                          [](const entry_view& e) { return e.kind == entry_kind::config; });
  if (!entries_well_formed(m) || (carries_config && !configs_well_formed(m)))
    return static_cast<void>(++stats_.dropped_malformed);
  if (!follow(m)) return;
  if (m.index < commit_) return queue_ack(m.from, commit_);  // the prefix is committed already
  // Most appends start right after our last entry: its term is at hand.
  const auto prev_term =
      m.index == log_.last_index() ? std::optional<term_id>{log_.last_term()} : log_.term_at(m.index);
  if (!prev_term || *prev_term != m.log_term) return reject_append(m);
  if (m.entries.empty() && log_.deferred() == 0) {
    // Nothing to write (a commit announcement, or a probe): what the general
    // path below comes to for an empty append.
    commit_to(std::min(m.commit, m.index));
    if (!m.no_answer) queue_ack(m.from, m.index);
    return;
  }
  const log_index last_new = m.index + m.entries.size();
  const log_index last_before = log_.last_index();
  auto truncated = log_.append_from(m.index.next(), m.entries, commit_);
  if (!truncated) return static_cast<void>(set_failed(truncated.error()));
  if (*truncated != log_index{} && configs_.truncate(*truncated)) set_config(configs_.latest().config);
  const log_index first_new = *truncated != log_index{} ? *truncated : last_before.next();
  for (log_index i = std::max(first_new, m.index.next()); carries_config && i <= last_new; i = i.next()) {
    const entry_view& e = m.entries[i - m.index.next()];
    if (e.kind != entry_kind::config) continue;
    if (auto r = note_config(i, e); !r) return static_cast<void>(set_failed(r.error()));
    set_config(configs_.latest().config);
  }
  commit_to(std::min(m.commit, last_new));
  // The leader knows we hold m.index (its match): an answer would tell it nothing.
  if (!m.no_answer) queue_ack(m.from, last_new);
}

template <class Policies>
inline bool node<Policies>::configs_well_formed(const message& m) {
  return std::all_of(m.entries.begin(), m.entries.end(), [](const entry_view& e) {
    return e.kind != entry_kind::config || decode_membership(e.data).has_value();
  });
}

// Fast backtracking: name our last entry at or before the leader's prev
// index whose term is no newer than its prev term, skipping whole terms.
template <class Policies>
inline void node<Policies>::reject_append(const message& m) {
  const log_index hint = log_.last_at_or_below(m.index, m.log_term);
  message r = outgoing(message_type::append_entries_response, m.from, term_);
  r.reject = true;
  r.index = m.index;
  r.hint_index = hint;
  r.log_term = log_.term_at(hint).value_or(term_id{});
  transport_.send(r.to, r);
}

template <class Policies>
inline void node<Policies>::handle_heartbeat(const message& m) {
  if (!follow(m)) return;
  // The leader sends min(our match, its commit): a prefix we are known to share.
  commit_to(std::min(m.commit, log_.last_index()));
  message r = outgoing(message_type::heartbeat_response, m.from, term_);
  r.index = m.index;
  r.context = m.context;  // names the read round this answer confirms
  transport_.send(r.to, r);
}

template <class Policies>
inline void node<Policies>::handle_append_response(const message& m, std::size_t from) {
  if (role_ != role::leader) return;
  progress& p = progress_[from];
  if (m.reject) {
    const log_index k = log_.last_at_or_below(m.hint_index, m.log_term);
    if (p.reject(m.index, k.next())) send_appends(from, false);
    return;
  }
  if (m.index > log_.last_index()) return static_cast<void>(++stats_.dropped_invalid);  // never had those
  // Only an acknowledgement past the commit index can move it.
  if (p.acknowledge(m.index) && m.index > commit_ && maybe_commit()) broadcast_appends(true);
  // A follower in replicate that has every entry (the usual answer to the
  // last append) would be sent nothing: no call for it.
  if (p.state != progress_state::replicate || p.next <= log_.last_index()) send_appends(from, false);
  maybe_send_timeout_now(from);
}

template <class Policies>
inline void node<Policies>::handle_heartbeat_response(std::size_t from) {
  if (role_ != role::leader) return;
  progress& p = progress_[from];
  p.probe_sent = false;
  if (p.state == progress_state::snapshot) return resume_stalled_snapshot(from);
  // Acknowledgements may all have been lost: let one more append out.
  if (p.state == progress_state::replicate && p.window.full()) p.window.free_first();
  // Appends lost in replicate are only noticed when the next one is refused:
  // an empty one at next - 1 makes a follower with a gap say so.
  if (p.match < log_.last_index()) send_appends(from, true);
}

// even_empty: the commit index moved, and every follower is told at once.
template <class Policies>
inline void node<Policies>::broadcast_appends(bool even_empty) {
  for (std::size_t i = 0; i < config_.size() && status_; ++i)
    if (i != config_.self()) send_appends(i, even_empty, even_empty);
}

// Pipelines appends to a follower until it is caught up or its window is
// full; a probe goes out alone. even_empty: send one with no entries if
// nothing else goes (to carry a new commit index, or to ask about a gap);
// announcing_commit: it is sent only for the commit index.
template <class Policies>
inline void node<Policies>::send_appends(std::size_t i, bool even_empty, bool announcing_commit) {
  progress& p = progress_[i];
  if (p.state != progress_state::snapshot && p.next.prev() < log_.snapshot_index()) {
    if constexpr (!can_snapshot) return;  // unreachable: without snapshots nothing is compacted
    p.become_snapshot(snap_meta_.index);
  }
  if (p.state == progress_state::snapshot) return send_snapshot_chunks(i);
  while (!p.paused() && status_) {
    const bool has_entries = p.next <= log_.last_index();
    if (!has_entries && !even_empty && p.state == progress_state::replicate) return;
    send_append(i, announcing_commit);
    if (!has_entries || p.state == progress_state::probe) return;
  }
}

// The entries view the log's cache (or its copy buffers): valid during
// transport_.send, and no log call happens before it returns.
template <class Policies>
inline void node<Policies>::send_append(std::size_t i, bool announcing_commit) {
  progress& p = progress_[i];
  const log_index prev = p.next.prev();
  // Most appends start at or just before the last entry: its term is at hand.
  const auto prev_term = prev == log_.last_index() ? std::optional<term_id>{log_.last_term()} : log_.term_at(prev);
  QUORUM_ASSERT(prev_term.has_value());  // send_appends sends a snapshot when prev is compacted
  // Past the last entry (an append that only announces the commit index, or
  // asks about a gap) there is nothing to read.
  auto entries = p.next > log_.last_index()
                     ? result<std::span<const entry_view>>{std::span<const entry_view>{}}
                     : log_.batch(p.next, opts_.max_entries_per_append, opts_.max_bytes_per_append);
  if (!entries) return static_cast<void>(set_failed(entries.error()));
  message m = outgoing(message_type::append_entries, config_.at(i), term_);
  m.index = prev;
  m.log_term = *prev_term;
  m.commit = commit_;
  m.entries = *entries;
  // An empty append that only announces the commit index to a follower in
  // replicate asks for no answer: every entry up to prev went to it in
  // appends it answers (or has answered), so accepting this one would tell
  // us nothing. A follower that cannot accept it still answers (it lost
  // entries, or never got them), and the empty append sent after a
  // heartbeat when acknowledgements seem lost (match < last) is answered.
  m.no_answer = announcing_commit && entries->empty() && p.state == progress_state::replicate;
  transport_.send(m.to, m);
  p.sent(prev + entries->size(), !entries->empty());
}

template <class Policies>
inline void node<Policies>::broadcast_heartbeats() {
  const std::uint64_t round = rounds_.begin_round();
  for (std::size_t i = 0; i < config_.size(); ++i) {
    if (i == config_.self()) continue;
    message m = outgoing(message_type::heartbeat, config_.at(i), term_);
    m.commit = std::min(progress_[i].match, commit_);
    m.context = round;
    transport_.send(m.to, m);
  }
}

// Commits the highest index a quorum holds durably, if it is of our term
// (§5.4.2: counting replicas never commits an entry of an earlier term).
template <class Policies>
inline bool node<Policies>::maybe_commit() {
  const std::size_t self = config_.self();
  // Cheap for the usual three voters (a median), and a few compares up to seven.
  const log_index q =
      config_.quorum_index([&](std::size_t i) { return i == self ? log_.synced_index() : progress_[i].match; });
  if (q <= commit_) return false;
  if ((q == log_.last_index() ? log_.last_term() : log_.term_at(q)) != term_) return false;
  commit_to(q);
  return true;
}

template <class Policies>
inline void node<Policies>::commit_to(log_index i) {
  if (i <= commit_) return;
  QUORUM_ASSERT(i <= log_.last_index());
  commit_ = i;
}

template <class Policies>
inline void node<Policies>::queue_ack(node_id to, log_index index) {
  if (ack_to_ == to && ack_term_ == term_) {
    ack_index_ = std::max(ack_index_, index);
    return;
  }
  ack_to_ = to;
  ack_term_ = term_;
  ack_index_ = index;
}

// Called only after the sync that covers every entry up to ack_index_.
template <class Policies>
inline void node<Policies>::send_pending_ack() {
  if (ack_to_ == no_node) return;
  QUORUM_ASSERT(!log_.dirty() && ack_index_ <= log_.synced_index());
  message r = outgoing(message_type::append_entries_response, ack_to_, ack_term_);
  r.index = ack_index_;
  ack_to_ = no_node;
  transport_.send(r.to, r);
}

// Every flush calls this and most have nothing to apply: the check stays
// small enough to inline, the work is apply_new_commits().
template <class Policies>
inline void node<Policies>::apply_committed() {
  if (applied_ < commit_) apply_new_commits();
  if (!reads_.empty()) advance_reads();
}

// What changes here changes only when something is applied.
template <class Policies>
[[gnu::noinline]] inline void node<Policies>::apply_new_commits() {
  while (applied_ < commit_ && status_) {
    // Recent entries come straight from the log's cache, older ones from the Log.
    const auto run = log_.cached(applied_.next(), commit_ - applied_);
    if constexpr (PrefetchingStateMachine<state_machine_type>) {
      // Each command is hinted a few applies before its own (the run stays put meanwhile).
      quorum::detail::apply_ahead<const entry_view*> ahead;
      const auto apply = [&](const entry_view* e) { apply_one(*e); };
      for (const entry_view& e : run) {
        if (e.kind == entry_kind::normal) fsm_.prefetch(e.data);
        ahead.push(&e, apply);
      }
      ahead.drain(apply);
    } else {
      for (const entry_view& e : run) apply_one(e);
    }
    if (!run.empty()) continue;
    auto e = log_.entry(applied_.next());
    if (!e) return static_cast<void>(set_failed(e.error()));
    apply_one(*e);
  }
  if (configs_.size() > 1) configs_.forget_before(applied_);  // only a second configuration can be dropped
  release_cache();
  // Leaving a joint configuration or stepping down when removed: after almost
  // every apply there is neither, and the test costs less than the call.
  if (role_ == role::leader && (config_.joint() || (!config_.self_is_voter() && opts_.step_down_when_removed)) &&
      configs_.latest().index <= commit_)
    on_membership_committed();
}

template <class Policies>
inline void node<Policies>::apply_one(const entry_view& e) {
  const log_index i = applied_.next();
  if (role_ == role::leader && e.term == term_ && e.kind == entry_kind::normal)
    uncommitted_bytes_ -= std::min(uncommitted_bytes_, e.data.size());
  applied_ = i;
  if (e.kind == entry_kind::normal) fsm_.apply(i, e.data);
}

// The log's cache keeps what may still be sent or applied: on a leader,
// what some follower may lack; elsewhere what is not applied yet.
template <class Policies>
inline void node<Policies>::release_cache() {
  log_index upto = applied_;
  if (role_ == role::leader)
    for (std::size_t i = 0; i < progress_.size(); ++i)
      if (i != config_.self()) upto = std::min(upto, progress_[i].match);
  log_.release(upto);
}

}  // namespace quorum::raft
