// The SnapshotStore concept: where a protocol keeps its one current snapshot
// image (the state machine's state at some index, with the protocol's own
// metadata in front). Opaque bytes, like the Log's records, so that Raft and
// Paxos share it. Optional: a node without one cannot compact its log.
//
// Requirements, for a type S, a value s of type S& and bytes b of type
// quorum::byte_view:
//
//   expression   type                 semantics
//   -----------  -------------------  ---------------------------------------------
//   s.save(b)    result<void>         replaces the stored image with b; when it
//                                     returns, b is durable, and after a crash at
//                                     any moment the old or the new image is found
//                                     whole, never a mix or a torn one
//   s.load()     result<byte_view>    the stored image (empty if none); the view is
//                                     valid until the next non-const call
//
// The protocol orders its writes so that this is enough: the image is saved
// (durable) before the log is compacted behind it.
//
// Exemplar and models: quorum::storage::memory_snapshot_store,
// quorum::storage::file_snapshot_store.
#pragma once

#include <concepts>

#include "quorum/core/bytes.hpp"
#include "quorum/core/error.hpp"
#include "quorum/core/result.hpp"

namespace quorum {

namespace detail {

template <class S>
concept snapshot_store_has_save = requires(S& s, byte_view b) {
  { s.save(b) } -> std::same_as<result<void>>;
};

template <class S>
concept snapshot_store_has_load = requires(S& s) {
  { s.load() } -> std::same_as<result<byte_view>>;
};

}  // namespace detail

template <class S>
concept SnapshotStore = detail::snapshot_store_has_save<S> && detail::snapshot_store_has_load<S>;

// What a protocol uses when its policies name no `snapshot_store`: nothing
// is saved, so the node never compacts. Shared by Raft and Paxos.
struct no_snapshot_store {
  result<void> save(byte_view) { return fail(errc::invalid_argument, "the policies name no snapshot_store"); }
  result<byte_view> load() { return byte_view{}; }
};

namespace detail {

template <class P>
concept policies_name_snapshot_store = requires { typename P::snapshot_store; };

}  // namespace detail

// P::snapshot_store if the policies name one, else no_snapshot_store.
template <class P>
struct snapshot_store_of {
  using type = no_snapshot_store;
};
template <detail::policies_name_snapshot_store P>
struct snapshot_store_of<P> {
  using type = typename P::snapshot_store;
};

template <class S>
consteval bool check_snapshot_store() {
  static_assert(detail::snapshot_store_has_save<S>,
                "quorum::SnapshotStore: the type must have 'save(quorum::byte_view)' returning "
                "quorum::result<void>");
  static_assert(detail::snapshot_store_has_load<S>,
                "quorum::SnapshotStore: the type must have 'load()' returning "
                "quorum::result<quorum::byte_view>");
  return SnapshotStore<S>;
}

}  // namespace quorum
