// The traits structs a coordinator and a participant are instantiated with,
// the ResourceManager concept, and their checks: a missing name or a type that
// misses its concept is said in plain words where the template is used.
#pragma once

#include <concepts>

#include "quorum/core/concepts.hpp"
#include "quorum/two_phase_commit/message.hpp"
#include "quorum/two_phase_commit/types.hpp"

namespace quorum::two_phase_commit {

// The ResourceManager concept: the participant's application policy, the
// resource whose changes the transaction makes atomic.
//
//   expression        type  semantics
//   ----------------  ----  ------------------------------------------------------
//   rm.prepare(t)     vote  make t's changes durable and able to commit (yes), refuse
//                           (no: the RM has rolled t back) or report that t changed
//                           nothing here (read_only). A t the RM does not know, or has
//                           rolled back, must get no.
//   rm.commit(t)      any   make t's changes visible; may be repeated after a crash
//   rm.abort(t)       any   roll t back; may be repeated, or name a t the RM never saw
namespace detail {

template <class R>
concept rm_has_prepare = requires(R& rm, txn_id t) {
  { rm.prepare(t) } -> std::same_as<vote>;
};

template <class R>
concept rm_has_finish = requires(R& rm, txn_id t) {
  rm.commit(t);
  rm.abort(t);
};

template <class P>
concept coordinator_policies_name_all = requires {
  typename P::transport;
  typename P::log;
  typename P::clock;
};

template <class P>
concept participant_policies_name_all = coordinator_policies_name_all<P> && requires {
  typename P::resource_manager;
};

}  // namespace detail

template <class R>
concept ResourceManager = detail::rm_has_prepare<R> && detail::rm_has_finish<R>;

template <class R>
consteval bool check_resource_manager() {
  static_assert(detail::rm_has_prepare<R>,
                "quorum::two_phase_commit::ResourceManager: the type must have "
                "'prepare(quorum::two_phase_commit::txn_id)' returning quorum::two_phase_commit::vote");
  static_assert(detail::rm_has_finish<R>,
                "quorum::two_phase_commit::ResourceManager: the type must have "
                "'commit(quorum::two_phase_commit::txn_id)' and 'abort(quorum::two_phase_commit::txn_id)'");
  return ResourceManager<R>;
}

// For a static_assert where a coordinator is instantiated.
template <class P>
consteval bool check_coordinator_policies() {
  static_assert(detail::coordinator_policies_name_all<P>,
                "quorum::two_phase_commit::coordinator: the policies struct must declare "
                "'using transport = ...', 'using log = ...' and 'using clock = ...'");
  if constexpr (detail::coordinator_policies_name_all<P>) {
    return check_transport<typename P::transport, message>() && check_log<typename P::log>() &&
           check_clock<typename P::clock>();
  } else {
    return false;
  }
}

// For a static_assert where a participant is instantiated.
template <class P>
consteval bool check_participant_policies() {
  static_assert(detail::participant_policies_name_all<P>,
                "quorum::two_phase_commit::participant: the policies struct must declare "
                "'using transport = ...', 'using log = ...', 'using clock = ...' and "
                "'using resource_manager = ...'");
  if constexpr (detail::participant_policies_name_all<P>) {
    return check_transport<typename P::transport, message>() && check_log<typename P::log>() &&
           check_clock<typename P::clock>() && check_resource_manager<typename P::resource_manager>();
  } else {
    return false;
  }
}

}  // namespace quorum::two_phase_commit
