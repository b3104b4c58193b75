// quorum::raft::node, continued (node.hpp includes this file at its end).
// Linearizable reads (thesis §6.4): ReadIndex rounds and the lease.
#pragma once

#include "quorum/raft/node.hpp"

namespace quorum::raft {

template <class Policies>
inline void node<Policies>::on_read_ack(std::size_t from, std::uint64_t round) {
  if (role_ != role::leader) return;
  if (rounds_.acknowledge(config_, from, round, opts_.election_ticks, opts_.clock_drift_ticks))
    reads_.confirm(rounds_.confirmed());
}

// Sends the round that reads are waiting for, fixes the read index once
// the term has committed, and serves every read confirmed and applied.
template <class Policies>
inline void node<Policies>::advance_reads() {
  if (reads_.empty() || role_ != role::leader) return;
  if (rounds_.wanted()) broadcast_heartbeats();
  if (log_.term_at(commit_) == term_) reads_.set_index(commit_);
  reads_.take_ready(applied_, [&](std::uint64_t id, log_index i) { notify_read_ready(id, i); });
}

template <class Policies>
inline void node<Policies>::expire_reads() {
  reads_.take_expired(leader_ticks_, opts_.election_ticks, [&](std::uint64_t id) {
    notify_read_failed(id, error{errc::timeout, "raft: no quorum confirmed the read in time", opts_.election_ticks});
  });
}

// Reads are queued only through read(), which requires ReadingStateMachine.
template <class Policies>
inline void node<Policies>::notify_read_ready(std::uint64_t id, log_index i) {
  if constexpr (ReadingStateMachine<state_machine_type>) {
    ++stats_.reads_served;
    fsm_.read_ready(id, i);
  }
}

template <class Policies>
inline void node<Policies>::notify_read_failed(std::uint64_t id, const error& e) {
  if constexpr (ReadingStateMachine<state_machine_type>) {
    ++stats_.reads_failed;
    fsm_.read_failed(id, e);
  }
}

}  // namespace quorum::raft
