// The thread that runs a leader's fdatasyncs while its event loop goes on
// (Raft's start_sync, core/log.hpp). The loop hands it a pending_sync and
// the node's ticket; it runs the fdatasyncs and posts each outcome back to
// the io_context, in the order submitted, where the log and then the node
// hear of it. Syncs that queue up while one runs cost one fdatasync: the
// last of them on a segment covers the earlier ones on it (their frames were
// written before it).
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
  // Runs on the io_context's thread, once per job, in submission order.
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
      queue_.push_back(std::move(j));
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
      out->outcomes.resize(batch.size());
      // From the last job back: a job whose segment a later job syncs is covered by that fdatasync.
      quorum::result<void> later{};
      const quorum::storage::pending_sync* later_sync = nullptr;
      for (std::size_t k = batch.size(); k-- > 0;) {
        const auto& s = batch[k].sync;
        if (later_sync == nullptr || !later_sync->covers(s)) {
          later = s.run();
          later_sync = &s;
        }
        out->outcomes[k] = later;
      }
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
