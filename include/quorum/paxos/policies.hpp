// The traits struct a paxos::node is instantiated with, and its check: the
// same four names as raft's (DESIGN.md, "one shape for every protocol"), so
// swapping protocols changes one type, and a miss is said in plain words. A
// fifth, `using snapshot_store = ...`, is optional: without it (or without
// snapshot/restore on the state machine) the node never compacts its journal.
#pragma once

#include "quorum/core/concepts.hpp"
#include "quorum/core/snapshot_store.hpp"
#include "quorum/paxos/message.hpp"
#include "quorum/paxos/state_machine.hpp"

namespace quorum::paxos {

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
                "quorum::paxos::node: the policies struct must declare 'using transport = ...', "
                "'using log = ...', 'using clock = ...' and 'using state_machine = ...'");
  if constexpr (detail::policies_name_all<P>) {
    return check_transport<typename P::transport, message>() && check_log<typename P::log>() &&
           check_clock<typename P::clock>() && check_state_machine<typename P::state_machine>() &&
           check_snapshot_store<typename snapshot_store_of<P>::type>();
  } else {
    return false;
  }
}

}  // namespace quorum::paxos
