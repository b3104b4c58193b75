// The Log policy of quorum-kv: file_log, whose sync() first hands the peer
// network's queued frames to the kernel. A node's flush() sends, then syncs:
// without this the transport would write the leader's appends only after the
// fsync returned, and the followers' fsyncs would start after the leader's
// (two disk waits in series per round). With it they overlap (Raft thesis
// §10.2.1; the same for Multi-Paxos accepts). Durability is unchanged: what
// is sent before the sync promises nothing (DESIGN.md principle 5 concerns
// acknowledgements, which the node sends only after sync() returns).
#pragma once

#include <utility>

#include <quorum/storage/file_log.hpp>
#include <quorum/transport/asio.hpp>

namespace kv {

class sending_log : public quorum::storage::file_log {
 public:
  sending_log(quorum::storage::file_log&& log, quorum::transport::tcp_network& net) noexcept
      : file_log{std::move(log)}, net_{&net} {}

  quorum::result<void> sync() {
    net_->flush();
    return file_log::sync();
  }

 private:
  quorum::transport::tcp_network* net_;
};

}  // namespace kv
