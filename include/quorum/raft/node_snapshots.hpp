// quorum::raft::node, continued (node.hpp includes this file at its end).
// Snapshots (§7): sending an image in chunks with a window, receiving and
// installing one.
#pragma once

#include "quorum/raft/node.hpp"

namespace quorum::raft {

// After a restore or an install: the view of the image the store now holds.
template <class Policies>
inline result<void> node<Policies>::adopt_stored_snapshot(snapshot_meta meta) {
  auto image = store_.load();
  if (!image) return unexpected{image.error()};
  snap_image_ = *image;
  snap_meta_ = std::move(meta);
  return {};
}

// A chunk of the leader's snapshot image (§7). The acknowledgement that
// completes a transfer leaves only once the image is saved, i.e. durable.
template <class Policies>
inline void node<Policies>::handle_snapshot_chunk(const message& m) {
  if (!follow(m)) return;
  // Holding all it covers already, durably: say so, the leader goes back to appends.
  if (m.index <= commit_ && m.index <= log_.synced_index()) return reply_snapshot(m, m.total, false);
  if (m.index <= commit_) return;  // the leader retries once our sync has caught up
  if constexpr (!can_snapshot) {
    ++stats_.dropped_invalid;  // this node was built without snapshots: nothing it can do
  } else {
    switch (receiver_.accept(m.index, m.log_term, m.offset, m.total, m.data, opts_.max_snapshot_bytes)) {
      case snapshot_receiver::outcome::more: return reply_snapshot(m, receiver_.held(), false);
      case snapshot_receiver::outcome::resume: return reply_snapshot(m, receiver_.held(), true);
      case snapshot_receiver::outcome::too_large: ++stats_.snapshots_refused; return;
      case snapshot_receiver::outcome::complete: return install_received(m);
    }
  }
}

template <class Policies>
inline void node<Policies>::install_received(const message& m) {
  auto img = decode_image(receiver_.image());
  if (!img || img->meta.index != m.index || img->meta.term != m.log_term) {
    ++stats_.dropped_malformed;  // damaged on the way, or not what it claimed: start over
    receiver_.clear();
    return reply_snapshot(m, 0, true);
  }
  if (auto r = store_.save(receiver_.image()); !r) return static_cast<void>(set_failed(r.error()));
  if constexpr (SnapshottingStateMachine<state_machine_type>) fsm_.restore(img->meta.index, img->data);
  if (auto r = log_.install(img->meta.index, img->meta.term); !r) return static_cast<void>(set_failed(r.error()));
  configs_.reset(img->meta.config_index, img->meta.config);
  for (log_index i = log_.first_index(); i <= log_.last_index(); i = i.next()) {
    auto e = log_.entry(i);  // a suffix kept after the snapshot may hold configuration entries
    if (!e) return static_cast<void>(set_failed(e.error()));
    if (auto r = note_config(i, *e); !r) return static_cast<void>(set_failed(r.error()));
  }
  set_config(configs_.latest().config);
  commit_ = std::max(commit_, img->meta.index);
  applied_ = img->meta.index;
  const log_index index = img->meta.index;
  receiver_.clear();
  if (auto r = adopt_stored_snapshot(snapshot_meta{index, m.log_term, configs_.at(index).index,
                                                   configs_.at(index).config});
      !r)
    return static_cast<void>(set_failed(r.error()));
  ++stats_.snapshots_installed;
  reply_snapshot(m, m.total, false);
}

template <class Policies>
inline void node<Policies>::reply_snapshot(const message& m, std::uint64_t held, bool resume) {
  message r = outgoing(message_type::install_snapshot_response, m.from, term_);
  r.index = m.index;
  r.log_term = m.log_term;
  r.offset = held;
  r.total = m.total;
  r.reject = resume;
  transport_.send(r.to, r);
}

template <class Policies>
inline void node<Policies>::handle_snapshot_response(const message& m, std::size_t from) {
  if (role_ != role::leader) return;
  progress& p = progress_[from];
  if (!m.reject && m.offset == m.total) {  // installed (or not needed): back to appends after it
    if (m.index > log_.last_index()) return static_cast<void>(++stats_.dropped_invalid);
    p.snapshot_done(m.index);
    if (maybe_commit()) broadcast_appends(true);
    return send_appends(from, false);
  }
  if (p.state != progress_state::snapshot || m.index != p.snapshot_index) return;
  p.snapshot_stalls = 0;
  if (m.reject) {
    p.snapshot_acked = p.snapshot_sent = std::min<std::uint64_t>(m.offset, snap_image_.size());
  } else if (m.offset > p.snapshot_acked && m.offset <= p.snapshot_sent) {
    p.snapshot_acked = m.offset;
  }
  send_snapshot_chunks(from);
}

// Chunks from where the follower is known to be, at most a window ahead.
template <class Policies>
inline void node<Policies>::send_snapshot_chunks(std::size_t i) {
  progress& p = progress_[i];
  if (p.snapshot_index != snap_meta_.index) p.become_snapshot(snap_meta_.index);  // a newer image supersedes
  const std::uint64_t total = snap_image_.size();
  const std::uint64_t window = opts_.snapshot_chunk_bytes * opts_.max_inflight_snapshot_chunks;
  while (p.snapshot_sent < total && p.snapshot_sent - p.snapshot_acked < window) {
    const std::uint64_t n = std::min<std::uint64_t>(opts_.snapshot_chunk_bytes, total - p.snapshot_sent);
    message m = outgoing(message_type::install_snapshot, config_.at(i), term_);
    m.index = snap_meta_.index;
    m.log_term = snap_meta_.term;
    m.offset = p.snapshot_sent;
    m.total = total;
    m.data = snap_image_.subspan(p.snapshot_sent, n);
    m.commit = commit_;
    transport_.send(m.to, m);
    p.snapshot_sent += n;
    ++stats_.snapshot_chunks_sent;
  }
}

// Two heartbeats answered with no chunk acknowledged: chunks were lost.
template <class Policies>
inline void node<Policies>::resume_stalled_snapshot(std::size_t i) {
  progress& p = progress_[i];
  if (++p.snapshot_stalls < 2) return;
  p.snapshot_stalls = 0;
  p.snapshot_sent = p.snapshot_acked;
  send_snapshot_chunks(i);
}

}  // namespace quorum::raft
