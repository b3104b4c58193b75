// The Transport concept: how a message leaves this node. A protocol hands each
// outbound message to its Transport and forgets it; delivery may fail, repeat,
// reorder or be delayed without bound (DESIGN.md principle 4), so send() has
// nothing to report. Inbound messages reach the protocol through receive().
//
// Requirements, for a type T, a value t of type T&, a node id `to` and a
// message m of type const Message& (each protocol names its Message type):
//
//   expression        type      semantics
//   ----------------  --------  -----------------------------------------------
//   t.send(to, m)     any       queue m for node `to`; must not call back into
//                               the protocol; may copy or encode m, which is
//                               only valid during the call
//
// Exemplar:
//   struct my_transport {
//     void send(quorum::node_id to, const quorum::raft::message& m);
//   };
//
// Models: quorum::sim::sim_transport<Message> (the simulator's network),
// quorum::transport::asio_transport (TCP, where Asio is found), and any small
// handle a user writes over their own network.
#pragma once

#include "quorum/core/ids.hpp"

namespace quorum {

namespace detail {

template <class T, class Message>
concept transport_has_send = requires(T& t, node_id to, const Message& m) { t.send(to, m); };

}  // namespace detail

template <class T, class Message>
concept Transport = detail::transport_has_send<T, Message>;

// Checks T against Transport<Message> and names the requirement it misses.
template <class T, class Message>
consteval bool check_transport() {
  static_assert(detail::transport_has_send<T, Message>,
                "quorum::Transport: the type must have 'send(quorum::node_id to, "
                "const Message& m)' for the protocol's Message type");
  return Transport<T, Message>;
}

}  // namespace quorum
