// quorum::raft::node, continued (node.hpp includes this file at its end).
// Election (§5.2, PreVote and CheckQuorum of thesis §9.6), roles, and
// leadership transfer (thesis §3.10).
#pragma once

#include "quorum/raft/node.hpp"

namespace quorum::raft {

template <class Policies>
inline void node<Policies>::reset_election_timer() {
  election_elapsed_ = 0;
  randomized_timeout_ = opts_.election_ticks + static_cast<std::uint32_t>(rng_.below(opts_.election_ticks));
}

template <class Policies>
inline void node<Policies>::tick_election() {
  if (++election_elapsed_ < randomized_timeout_) return;
  if (!may_campaign()) return reset_election_timer();  // learners and removed nodes never campaign
  if (terms_exhausted()) return reset_election_timer();
  if (opts_.pre_vote) become_pre_candidate();
  else become_candidate();
}

// Thesis §4.2.2: a node left out of its latest configuration still
// campaigns (its own vote uncounted) until it knows that configuration is
// committed, or a change that removes it could leave the group leaderless.
template <class Policies>
inline bool node<Policies>::may_campaign() const {
  if (config_.self_is_voter()) return true;
  if (configs_.latest().index <= commit_ || configs_.size() < 2) return false;
  const auto& before = configs_.at(configs_.latest().index.prev()).config;
  return contains(before.voters, self_) || contains(before.outgoing, self_);
}

// At max_term a node campaigns no more: the next term would wrap around
// below the one it voted in. Only damaged or forged input gets it there.
template <class Policies>
inline bool node<Policies>::terms_exhausted() {
  if (term_.value() < max_term) [[likely]]
    return false;
  ++stats_.elections_refused_exhausted;
  return true;
}

template <class Policies>
inline void node<Policies>::tick_leader() {
  rounds_.on_tick(++leader_ticks_);
  expire_reads();
  if (transfer_.tick(opts_.transfer_timeout_ticks != 0 ? opts_.transfer_timeout_ticks : opts_.election_ticks))
    ++stats_.transfers_aborted;
  ++heartbeat_elapsed_;
  if (++election_elapsed_ >= opts_.election_ticks) {
    election_elapsed_ = 0;
    if (opts_.check_quorum) {
      if (!quorum_active()) {
        become_follower(term_, no_node);
        return;
      }
      for (auto& p : progress_) p.recent_active = false;
    }
  }
  if (heartbeat_elapsed_ >= opts_.heartbeat_ticks) {
    heartbeat_elapsed_ = 0;
    broadcast_heartbeats();
  }
}

template <class Policies>
inline void node<Policies>::become_follower(term_id t, node_id leader) {
  QUORUM_ASSERT(t >= term_);
  if (t > term_) {
    term_ = t;
    vote_ = no_node;
    persist_state();
  }
  if (role_ == role::leader) leave_leadership(leader);
  role_ = role::follower;
  leader_ = leader;
  reset_election_timer();
}

template <class Policies>
inline void node<Policies>::become_pre_candidate() {
  role_ = role::pre_candidate;
  leader_ = no_node;
  reset_election_timer();
  ++stats_.pre_votes_started;
  config_.start_poll();
  if (!tally_reached()) request_votes(message_type::pre_vote, term_.value() + 1);
}

template <class Policies>
inline void node<Policies>::become_candidate() {
  role_ = role::candidate;
  leader_ = no_node;
  term_ = term_id{term_.value() + 1};
  vote_ = self_;
  reset_election_timer();
  ++stats_.elections_started;
  persist_state();
  if (!sync_now()) return;  // the vote for ourselves is durable before anyone hears of it
  config_.start_poll();
  if (!tally_reached()) request_votes(message_type::request_vote, term_.value());
}

template <class Policies>
inline void node<Policies>::become_leader() {
  QUORUM_ASSERT(role_ == role::candidate);
  role_ = role::leader;
  leader_ = self_;
  election_elapsed_ = heartbeat_elapsed_ = 0;
  uncommitted_bytes_ = 0;
  ++stats_.times_leader;
  rounds_.start_term(leader_ticks_);
  transfer_.end();
  for (auto& p : progress_) p.reset(log_.last_index(), false);
  // A leader commits entries of earlier terms only through one of its own (§5.4.2).
  auto noop = log_.append(entry_view{term_, entry_kind::noop, {}});
  if (!noop) status_ = unexpected{noop.error()};
}

// Moves on when the poll is decided: pre_candidate -> candidate -> leader,
// or back to follower on a quorum of refusals. True if it was decided.
template <class Policies>
inline bool node<Policies>::tally_reached() {
  switch (config_.tally()) {
    case vote_result::won:
      if (role_ == role::pre_candidate) become_candidate();
      else become_leader();
      return true;
    case vote_result::lost: become_follower(term_, no_node); return true;
    case vote_result::pending: return false;
  }
  return false;
}

template <class Policies>
inline void node<Policies>::request_votes(message_type type, std::uint64_t term) {
  for (std::size_t i = 0; i < config_.size(); ++i) {
    if (i == config_.self() || !config_.is_voter(i)) continue;
    message m = outgoing(type, config_.at(i), term_id{term});
    m.index = log_.last_index();
    m.log_term = log_.last_term();
    m.context = forced_campaign_ ? 1 : 0;
    transport_.send(m.to, m);
  }
}

template <class Policies>
inline void node<Policies>::handle_vote_request(const message& m) {
  const bool pre = m.type == message_type::pre_vote;
  const bool can_vote = vote_ == m.from || (vote_ == no_node && leader_ == no_node) || (pre && m.term > term_);
  const bool up_to_date = m.log_term > log_.last_term() ||
                          (m.log_term == log_.last_term() && m.index >= log_.last_index());
  const auto type = pre ? message_type::pre_vote_response : message_type::request_vote_response;
  if (!can_vote || !up_to_date) return reply(m, type, true);
  if (!pre) {
    QUORUM_ASSERT(m.term == term_ && (vote_ == no_node || vote_ == m.from));  // one vote per term
    vote_ = m.from;
    reset_election_timer();
    persist_state();
    if (!sync_now()) return;  // durability rule: the vote is on disk before it is sent
  }
  reply(m, type, false, m.term);
}

template <class Policies>
inline void node<Policies>::handle_vote_response(const message& m, std::size_t from) {
  if (m.type == message_type::pre_vote_response) {
    if (role_ != role::pre_candidate) return;
    if (!m.reject && m.term != term_id{term_.value() + 1}) return;
  } else if (role_ != role::candidate) {
    return;
  }
  config_.record_vote(from, !m.reject);
  tally_reached();
}

// On timeout_now from our leader: campaign at once, skipping PreVote, with
// vote requests that ask the voters to look past their leader lease.
template <class Policies>
inline void node<Policies>::handle_timeout_now(const message& m) {
  if (role_ != role::follower || m.from != leader_ || !config_.self_is_voter())
    return static_cast<void>(++stats_.dropped_invalid);
  if (terms_exhausted()) return;
  forced_campaign_ = true;
  become_candidate();
  forced_campaign_ = false;
}

// The target holds every entry we have: it can win at once.
template <class Policies>
inline void node<Policies>::maybe_send_timeout_now(std::size_t i) {
  if (!transfer_.active() || transfer_.timeout_now_sent || config_.at(i) != transfer_.target) return;
  if (progress_[i].match != log_.last_index()) return;
  transfer_.timeout_now_sent = true;
  rounds_.revoke_lease();  // the target's election ignores the followers' leases
  transport_.send(transfer_.target, outgoing(message_type::timeout_now, transfer_.target, term_));
}

template <class Policies>
inline void node<Policies>::leave_leadership(node_id hint) {
  transfer_.end();
  reads_.take_all([&](std::uint64_t id) {
    notify_read_failed(id, error{errc::not_leader, "raft: leadership lost before the read was served", hint.value()});
  });
}

}  // namespace quorum::raft
