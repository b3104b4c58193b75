// quorum::raft::node, continued (node.hpp includes this file at its end).
// Membership (§6 and thesis ch. 4): configuration entries, joint consensus, a
// removed leader.
#pragma once

#include "quorum/raft/node.hpp"

namespace quorum::raft {

// Records a configuration entry found in the log; false if it does not decode.
template <class Policies>
inline result<void> node<Policies>::note_config(log_index i, const entry_view& e) {
  if (e.kind != entry_kind::config) return {};
  auto m = decode_membership(e.data);
  if (!m) return fail(errc::corrupt_log, "raft: a configuration entry does not decode", i.value());
  configs_.push(i, std::move(*m));
  return {};
}

// The configuration in force becomes m; progress is kept for those who stay.
template <class Policies>
inline void node<Policies>::set_config(const raft::membership& m) {
  configuration next{self_, m};
  std::vector<progress> kept;
  kept.reserve(next.size());
  for (std::size_t j = 0; j < next.size(); ++j) {
    const std::size_t old = config_.position_of(next.at(j));
    if (old != configuration::npos && old < progress_.size()) {
      kept.push_back(std::move(progress_[old]));
    } else {
      kept.emplace_back(opts_.max_inflight_appends);
      kept.back().reset(log_.last_index(), true);  // a newcomer gets an election timeout to answer
    }
  }
  config_ = std::move(next);
  progress_ = std::move(kept);
}

template <class Policies>
inline result<log_index> node<Policies>::append_config(const raft::membership& m) {
  byte_buffer data;
  encode(m, data);
  const bool deferred = log_.deferred() > 0;
  auto at = log_.append(entry_view{term_, entry_kind::config, data});
  if (!at) return failed_with_deferred(deferred, at.error());
  configs_.push(*at, m);
  set_config(m);
  return at;
}

// The configuration in force is committed: a leader leaves a joint one at
// once, and steps down from one that no longer counts it (thesis §4.2.2).
template <class Policies>
inline void node<Policies>::on_membership_committed() {
  if (config_.joint()) {
    if (log_.term_at(commit_) != term_) return;  // first commit an entry of this term
    const raft::membership& now = config_.membership();
    if (auto r = append_config(raft::membership{now.voters, {}, now.learners}); !r)
      return static_cast<void>(set_failed(r.error()));
    broadcast_appends(false);
  } else if (!config_.self_is_voter() && opts_.step_down_when_removed) {
    ++stats_.stepped_down_removed;
    become_follower(term_, no_node);
  }
}

}  // namespace quorum::raft
