// The thread that runs a leader's fdatasyncs while its event loop goes on
// (Raft's start_sync, core/log.hpp). The loop hands it a pending_sync and
// the node's ticket; it runs the fdatasyncs and posts each outcome back to
// the io_context, in the order submitted, where the log and then the node
// hear of it. A job that covers the one queued before it (same segment,
// written further) replaces it: one fdatasync makes both durable, and the
// newer ticket says all the older one would (a later position, or an epoch
// that makes the older stale). So however long an fdatasync stalls, the
// queue holds at most a job per segment written meanwhile, each with one
// descriptor.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <asio.hpp>
#include <quorum/core/log.hpp>
#include <quorum/storage/file_log.hpp>

namespace kv {

class log_syncer {
 public:
  struct job {
    quorum::storage::pending_sync sync;
    quorum::sync_ticket ticket;
  };
  // Runs on the io_context's thread, once per job run, in submission order.
  using done_fn = std::function<void(job&, const quorum::result<void>&)>;

  log_syncer(asio::io_context& io, done_fn done) : io_{io}, done_{std::move(done)}, thread_{[this] { loop(); }} {}
  log_syncer(const log_syncer&) = delete;
  log_syncer& operator=(const log_syncer&) = delete;
  ~log_syncer() {
    {
      const std::lock_guard lock{mutex_};
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  void submit(job j) {
    {
      const std::lock_guard lock{mutex_};
      if (!queue_.empty() && j.sync.covers(queue_.back().sync)) queue_.back() = std::move(j);
      else queue_.push_back(std::move(j));
    }
    wake_.notify_one();
  }

 private:
  struct finished {
    std::vector<job> jobs;
    std::vector<quorum::result<void>> outcomes;
  };

  void loop() {
    std::vector<job> batch;
    for (;;) {
      {
        std::unique_lock lock{mutex_};
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, nothing left
        batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
        queue_.clear();
      }
      auto out = std::make_shared<finished>();
      out->outcomes.reserve(batch.size());
      for (const job& j : batch) out->outcomes.push_back(j.sync.run());
      out->jobs = std::move(batch);
      batch.clear();
      asio::post(io_, [this, out] {
        for (std::size_t k = 0; k < out->jobs.size(); ++k) done_(out->jobs[k], out->outcomes[k]);
      });
    }
  }

  asio::io_context& io_;
  done_fn done_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<job> queue_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace kv
