// quorum::raft::node, continued (node.hpp includes this file at its end).
// Restart from the Log (and snapshot store), and what the node does when its
// Log fails.
#pragma once

#include "quorum/raft/node.hpp"

namespace quorum::raft {

// Restart: the snapshot (restored into the state machine), then the log
// after it, then the configuration the two of them end with.
template <class Policies>
inline result<void> node<Policies>::recover(std::span<const node_id> members) {
  auto image = store_.load();
  if (!image) return unexpected{image.error()};
  snapshot_meta base{};
  if (!image->empty()) {
    auto img = decode_image(*image);
    if (!img) return fail(errc::corrupt_log, "raft: the stored snapshot does not decode", img.error().detail);
    if constexpr (SnapshottingStateMachine<state_machine_type>) {
      fsm_.restore(img->meta.index, img->data);
    } else {
      return fail(errc::invalid_argument, "raft: a snapshot is stored but the state machine cannot restore one");
    }
    base = img->meta;
    snap_image_ = *image;
  } else {
    base.config.voters.assign(members.begin(), members.end());
    std::sort(base.config.voters.begin(), base.config.voters.end());
  }
  configs_.reset(base.config_index, base.config);
  auto hs = log_.recover(base.index, base.term, [&](log_index i, const entry_view& e) { return note_config(i, e); });
  if (!hs) return unexpected{hs.error()};
  term_ = hs->term;
  vote_ = hs->vote;
  // Terms only go up the log, so its last is its highest (max_term: damage).
  if (log_.last_term().value() > max_term)
    return fail(errc::corrupt_log, "raft: a log entry's term is out of range", log_.last_term().value());
  // A Log orders its calls only by sync(): after a crash it may hold an
  // append and not the hard state saved before it. The node had adopted the
  // entry's term before it took the entry, and voted in that term only after
  // a sync (which would have kept the state), so it adopts that term again,
  // with no vote. (Leading below its log's last term would break the log.)
  if (log_.last_term() > term_) {
    term_ = log_.last_term();
    vote_ = no_node;
    persist_state();
  }
  commit_ = applied_ = base.index;
  snap_meta_ = std::move(base);
  set_config(configs_.latest().config);
  return {};
}

template <class Policies>
inline void node<Policies>::persist_state() {
  if (auto r = log_.save_state(hard_state{term_, vote_}); !r) set_failed(r.error());
}

template <class Policies>
inline bool node<Policies>::sync_now() {
  if (!status_) return false;
  ++stats_.syncs;
  if (auto r = log_.sync(); !r) return set_failed(r.error());
  return true;
}

// flush()'s sync: a leader with nothing to acknowledge only starts it when
// the Log can finish it later (AsyncSyncingLog); true unless the Log failed.
template <class Policies>
inline bool node<Policies>::sync_or_start() {
  if constexpr (AsyncSyncingLog<log_type>) {
    if (role_ == role::leader && ack_to_ == no_node && status_) {
      ++stats_.syncs;
      auto started = log_.start_sync();
      if (!started) return set_failed(started.error());
      stats_.syncs_started += *started ? 1 : 0;
      return true;
    }
  }
  return sync_now();
}

// A Log that fails cannot keep any promise: the node stops and says why.
// Queued reads fail with the same error: nothing will ever serve them.
template <class Policies>
inline bool node<Policies>::set_failed(const error& e) {
  status_ = unexpected{e};
  reads_.take_all([&](std::uint64_t id) { notify_read_failed(id, e); });
  return false;
}

// A Log error in a call that first wrote a batch's deferred entries: those
// entries are gone, though their (index, term) went to proposers; going on
// in this term would hand the same (index, term) to another entry. So the
// node fails, as it does when the batch's own sync fails.
template <class Policies>
inline unexpected<error> node<Policies>::failed_with_deferred(bool deferred, const error& e) {
  if (deferred) set_failed(e);
  return unexpected{e};
}

}  // namespace quorum::raft
