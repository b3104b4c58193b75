// The Log policy of quorum-kv: file_log, whose sync() first hands the peer
// network's queued frames to the kernel. A node's flush() sends, then syncs:
// without this the transport would write the leader's appends only after the
// fsync returned, and the followers' fsyncs would start after the leader's
// (two disk waits in series per round). With it they overlap (Raft thesis
// §10.2.1; the same for Multi-Paxos accepts). Durability is unchanged: what
// is sent before the sync promises nothing (DESIGN.md principle 5 concerns
// acknowledgements, which the node sends only after sync() returns).
//
// It also has core/log.hpp's start_sync once a log_syncer is attached: a Raft
// leader then writes and sends, and its fdatasync runs on the syncer's thread
// while the event loop reads the followers' acknowledgements and the next
// requests; the node counts its own copy when the syncer reports back.
#pragma once

#include <utility>

#include <quorum/storage/file_log.hpp>
#include <quorum/transport/asio.hpp>

#include "log_syncer.hpp"

namespace kv {

class sending_log : public quorum::storage::file_log {
 public:
  sending_log(quorum::storage::file_log&& log, quorum::transport::tcp_network& net) noexcept
      : file_log{std::move(log)}, net_{&net} {}

  quorum::result<void> sync() {
    if (!net_->corked()) net_->flush();  // corked: the server sends with its next batch (server.hpp)
    return file_log::sync();
  }

  // Without a syncer (or with nothing to sync) the same as sync(): false.
  quorum::result<bool> start_sync(const quorum::sync_ticket& t) {
    if (syncer_ == nullptr) {
      QUORUM_TRY(sync());
      return false;
    }
    net_->flush();
    auto s = begin_sync();
    if (!s) return quorum::unexpected{s.error()};
    if (!s->needed()) return false;
    syncer_->submit(log_syncer::job{std::move(*s), t});
    return true;
  }

  void attach(log_syncer* syncer) noexcept { syncer_ = syncer; }

 private:
  quorum::transport::tcp_network* net_;
  log_syncer* syncer_ = nullptr;
};

}  // namespace kv
