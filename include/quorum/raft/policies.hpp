// The traits struct a raft::node is instantiated with, and its check: one
// struct names the four policies (DESIGN.md, "one shape for every protocol"),
// and a missing name or a type that misses its concept is said in plain words.
// A fifth, `using snapshot_store = ...`, is optional: without it (or without
// snapshot/restore on the state machine) the node never compacts its log.
#pragma once

#include "quorum/core/concepts.hpp"
#include "quorum/core/snapshot_store.hpp"
#include "quorum/raft/message.hpp"
#include "quorum/raft/state_machine.hpp"

namespace quorum::raft {

namespace detail {

template <class P>
concept policies_name_all = requires {
  typename P::transport;
  typename P::log;
  typename P::clock;
  typename P::state_machine;
};

}  // namespace detail

template <class P>
consteval bool check_policies() {
  static_assert(detail::policies_name_all<P>,
                "quorum::raft::node: the policies struct must declare 'using transport = ...', "
                "'using log = ...', 'using clock = ...' and 'using state_machine = ...'");
  if constexpr (detail::policies_name_all<P>) {
    return check_transport<typename P::transport, message>() && check_log<typename P::log>() &&
           check_clock<typename P::clock>() && check_state_machine<typename P::state_machine>() &&
           check_snapshot_store<typename snapshot_store_of<P>::type>();
  } else {
    return false;
  }
}

}  // namespace quorum::raft
