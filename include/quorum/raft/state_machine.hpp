// The StateMachine concept: the application policy that committed commands
// are applied to, in log order, exactly once per node incarnation. Snapshot
// and restore will join it with log compaction.
//
//   expression       type  semantics
//   ---------------  ----  ----------------------------------------------------
//   s.apply(i, b)    any   apply the command b committed at log index i; b is
//                          only valid during the call. Called for entries of
//                          kind normal only: a leader's no-op is consumed by
//                          the node (node::applied_index() still moves past it)
#pragma once

#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"

namespace quorum::raft {

namespace detail {

template <class S>
concept state_machine_has_apply = requires(S& s, log_index i, byte_view b) { s.apply(i, b); };

}  // namespace detail

template <class S>
concept StateMachine = detail::state_machine_has_apply<S>;

template <class S>
consteval bool check_state_machine() {
  static_assert(detail::state_machine_has_apply<S>,
                "quorum::raft::StateMachine: the type must have 'apply(quorum::log_index, "
                "quorum::byte_view)'");
  return StateMachine<S>;
}

}  // namespace quorum::raft
