// The StateMachine concept of Multi-Paxos: the application policy chosen
// commands are applied to, in slot order, contiguously, once per node
// incarnation. The same requirements as raft::StateMachine, so one type
// serves both protocols.
//
//   expression              type  semantics
//   ----------------------  ----  ------------------------------------------------
//   s.apply(i, b)           any   apply the command b chosen at slot i (a log_index);
//                                 b is only valid during the call. No-op slots (a new
//                                 leader's gap fillers) are never handed over:
//                                 applied_index() moves past them
// A hint (optional), as for Raft: s.prefetch(b), the command b will be applied
//                                 within the next few apply calls of this node call.
// Snapshots (both, or neither): s.snapshot(out), s.restore(i, b), as for Raft.
// Linearizable reads (both, or neither), as for Raft:
//   s.read_ready(id, i)     any   read `id` (from node::read) may now be served from
//                                 the state: every slot up to i is applied
//   s.read_failed(id, e)    any   read `id` cannot be served (e: a quorum::error,
//                                 not_leader with the leader hint when known)
#pragma once

#include <cstdint>

#include "quorum/core/bytes.hpp"
#include "quorum/core/error.hpp"
#include "quorum/core/ids.hpp"

namespace quorum::paxos {

namespace detail {

template <class S>
concept state_machine_has_apply = requires(S& s, log_index i, byte_view b) { s.apply(i, b); };

}  // namespace detail

template <class S>
concept StateMachine = detail::state_machine_has_apply<S>;

template <class S>
concept PrefetchingStateMachine = StateMachine<S> && requires(S& s, byte_view b) { s.prefetch(b); };

template <class S>
concept SnapshottingStateMachine = StateMachine<S> && requires(S& s, byte_buffer& out, log_index i, byte_view b) {
  s.snapshot(out);
  s.restore(i, b);
};

template <class S>
concept ReadingStateMachine = StateMachine<S> && requires(S& s, std::uint64_t id, log_index i, const error& e) {
  s.read_ready(id, i);
  s.read_failed(id, e);
};

template <class S>
consteval bool check_state_machine() {
  static_assert(detail::state_machine_has_apply<S>,
                "quorum::paxos::StateMachine: the type must have 'apply(quorum::log_index, quorum::byte_view)'");
  return StateMachine<S>;
}

}  // namespace quorum::paxos
