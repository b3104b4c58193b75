// quorum::raft::node, continued (node.hpp includes this file at its end).
// Every inbound message: sender and term checks (§5.1), then dispatch by type.
#pragma once

#include "quorum/raft/node.hpp"

namespace quorum::raft {

template <class Policies>
inline void node<Policies>::step(const message& m) {
  if (m.to != self_) {
    ++stats_.dropped_misrouted;
    return;
  }
  const std::size_t from = config_.position_of(m.from);
  if (m.from == self_ || m.from == no_node || (from == configuration::npos && !from_anyone(m.type))) {
    ++stats_.dropped_unknown_sender;
    return;
  }
  if (!well_shaped(m)) return static_cast<void>(++stats_.dropped_malformed);
  if (m.term < term_) return on_stale_term(m);
  if (m.term > term_ && !on_higher_term(m)) return;
  if (role_ == role::leader && m.term == term_ && from != configuration::npos) progress_[from].recent_active = true;
  dispatch(m, from);
}

// Only appends carry entries, only empty appends go unanswered, only
// snapshot chunks carry data. An append is asked two things, the rest three.
// No term past max_term (an append's entries are at or below its own).
template <class Policies>
inline bool node<Policies>::well_shaped(const message& m) noexcept {
  if (m.term.value() > max_term) [[unlikely]]
    return false;
  if (m.type == message_type::append_entries) return m.data.empty() && !(m.no_answer && !m.entries.empty());
  return m.entries.empty() && !m.no_answer && (m.data.empty() || m.type == message_type::install_snapshot);
}

// False when the message must go no further.
template <class Policies>
inline bool node<Policies>::on_higher_term(const message& m) {
  const bool vote_request = m.type == message_type::pre_vote || m.type == message_type::request_vote;
  const bool transfer_vote = m.type == message_type::request_vote && m.context == 1;
  if (vote_request && in_lease() && !transfer_vote) {
    ++stats_.dropped_in_lease;
    return false;
  }
  // A pre-vote moves no term: neither asking nor being granted one.
  if (m.type == message_type::pre_vote) return true;
  if (m.type == message_type::pre_vote_response && !m.reject) return true;
  const bool from_leader = m.type == message_type::append_entries || m.type == message_type::heartbeat ||
                           m.type == message_type::install_snapshot;
  become_follower(m.term, from_leader ? m.from : no_node);
  return true;
}

// Tells a deposed leader or a stale pre-candidate about the newer term, so
// that one cut off by PreVote/CheckQuorum does not wait forever (§5.1).
template <class Policies>
inline void node<Policies>::on_stale_term(const message& m) {
  ++stats_.dropped_stale_term;
  const bool from_leader = m.type == message_type::append_entries || m.type == message_type::heartbeat ||
                           m.type == message_type::install_snapshot;
  if (from_leader && (opts_.check_quorum || opts_.pre_vote)) {
    reply(m, message_type::append_entries_response, true);
  } else if (m.type == message_type::pre_vote) {
    reply(m, message_type::pre_vote_response, true);
  }
}

template <class Policies>
inline void node<Policies>::reply(const message& to, message_type type, bool reject, term_id term) {
  message r = outgoing(type, to.from, term == term_id{} ? term_ : term);
  r.index = to.index;
  r.reject = reject;
  transport_.send(r.to, r);
}

// Inlined into step(): one call per message, not two.
template <class Policies>
[[gnu::always_inline]] inline void node<Policies>::dispatch(const message& m, std::size_t from) {
  switch (m.type) {
    case message_type::pre_vote:
    case message_type::request_vote: return handle_vote_request(m);
    case message_type::pre_vote_response:
    case message_type::request_vote_response: return handle_vote_response(m, from);
    case message_type::append_entries: return handle_append(m);
    case message_type::append_entries_response: return handle_append_response(m, from);
    case message_type::heartbeat: return handle_heartbeat(m);
    case message_type::heartbeat_response:
      on_read_ack(from, m.context);
      return handle_heartbeat_response(from);
    case message_type::install_snapshot: return handle_snapshot_chunk(m);
    case message_type::install_snapshot_response: return handle_snapshot_response(m, from);
    case message_type::timeout_now: return handle_timeout_now(m);
  }
}

}  // namespace quorum::raft
