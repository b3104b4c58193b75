// The StateMachine concept: the application policy that committed commands
// are applied to, in log order, exactly once per node incarnation. apply is
// required; snapshots and reads are optional abilities, detected: a node
// whose state machine lacks one says so at compile time where it is used.
//
//   expression              type  semantics
//   ----------------------  ----  ------------------------------------------------
//   s.apply(i, b)           any   apply the command b committed at log index i; b is
//                                 only valid during the call. Called for entries of
//                                 kind normal only: no-ops and configuration entries
//                                 are consumed by the node (applied_index() moves past)
// A hint (optional):
//   s.prefetch(b)           any   the command b will be applied within the next few
//                                 apply calls of this node call: start loading what
//                                 that apply will touch (core/apply_ahead.hpp). Must
//                                 not change the state; b is only valid during the
//                                 call. Hinted commands are applied in the order
//                                 hinted; a command may be applied without a hint
// Snapshots (both, or neither):
//   s.snapshot(out)         any   append the state as of the last applied index to
//                                 out (a quorum::byte_buffer&)
//   s.restore(i, b)         any   replace the whole state with the snapshot b, taken
//                                 at log index i; b is only valid during the call
// Linearizable reads (both, or neither):
//   s.read_ready(id, i)     any   read `id` (a std::uint64_t from node::read) may now
//                                 be served from the state: every entry up to the
//                                 read index i is applied
//   s.read_failed(id, e)    any   read `id` cannot be served (e: a quorum::error,
//                                 not_leader with the leader hint when known)
#pragma once

#include <cstdint>

#include "quorum/core/bytes.hpp"
#include "quorum/core/error.hpp"
#include "quorum/core/ids.hpp"

namespace quorum::raft {

namespace detail {

template <class S>
concept state_machine_has_apply = requires(S& s, log_index i, byte_view b) { s.apply(i, b); };

}  // namespace detail

template <class S>
concept StateMachine = detail::state_machine_has_apply<S>;

// A state machine that takes prefetch hints: the node names committed commands a few applies early.
template <class S>
concept PrefetchingStateMachine = StateMachine<S> && requires(S& s, byte_view b) { s.prefetch(b); };

// A state machine that can be snapshotted and restored: log compaction and
// catching a far-behind follower up need it.
template <class S>
concept SnapshottingStateMachine = StateMachine<S> && requires(S& s, byte_buffer& out, log_index i, byte_view b) {
  s.snapshot(out);
  s.restore(i, b);
};

// A state machine that serves linearizable reads (node::read).
template <class S>
concept ReadingStateMachine = StateMachine<S> && requires(S& s, std::uint64_t id, log_index i, const error& e) {
  s.read_ready(id, i);
  s.read_failed(id, e);
};

template <class S>
consteval bool check_state_machine() {
  static_assert(detail::state_machine_has_apply<S>,
                "quorum::raft::StateMachine: the type must have 'apply(quorum::log_index, "
                "quorum::byte_view)'");
  return StateMachine<S>;
}

}  // namespace quorum::raft
