// quorum-sim's watchdog. A call into a node (or a checker) that never
// returns would hang a sweep for ever with nothing said: no checker runs
// again. A thread watches the run's progress (quorum::sim::run_progress);
// when no event has begun for the limit, it reports the seed and the event
// that hung as a violation, with the command that replays it, and ends the
// process with exit code 1 (a hung call cannot be unwound).
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>

#include "quorum/sim/run.hpp"

namespace quorum_sim {

// What the watchdog saw when it gave up: the seed, the number of the event
// that has not finished, what it was, and the node it concerns (0: none).
struct stall {
  std::uint64_t seed{0};
  std::uint64_t event{0};
  const char* what{""};
  std::uint64_t node{0};
  std::chrono::seconds waited{0};
};

class watchdog {
 public:
  // on_stall prints the report; the process then ends with exit code 1.
  watchdog(const quorum::sim::run_progress& progress, std::chrono::seconds limit,
           std::function<void(const stall&)> on_stall)
      : progress_{progress}, limit_{limit}, on_stall_{std::move(on_stall)}, thread_{[this] { watch(); }} {}
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;
  ~watchdog() {
    {
      const std::lock_guard lock{mutex_};
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

 private:
  void watch() {
    using clock = std::chrono::steady_clock;
    // Looks often enough to report within a quarter of the limit past it.
    const auto poll = std::clamp<clock::duration>(limit_ / 4, std::chrono::milliseconds{10}, std::chrono::seconds{1});
    std::uint64_t seed = progress_.seed.load(std::memory_order_relaxed);
    std::uint64_t events = progress_.events.load(std::memory_order_relaxed);
    auto since = clock::now();
    std::unique_lock lock{mutex_};
    while (!wake_.wait_for(lock, poll, [this] { return stop_; })) {
      const std::uint64_t s = progress_.seed.load(std::memory_order_relaxed);
      const std::uint64_t e = progress_.events.load(std::memory_order_relaxed);
      const auto now = clock::now();
      if (s != seed || e != events) {
        seed = s;
        events = e;
        since = now;
        continue;
      }
      if (now - since < limit_) continue;
      on_stall_(stall{seed, events, progress_.what.load(std::memory_order_relaxed),
                      progress_.node.load(std::memory_order_relaxed), limit_});
      std::_Exit(1);
    }
  }

  const quorum::sim::run_progress& progress_;
  std::chrono::seconds limit_;
  std::function<void(const stall&)> on_stall_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_{false};
  std::thread thread_;  // last: it starts once everything it reads is built
};

}  // namespace quorum_sim
