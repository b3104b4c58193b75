// When the leader proposes the writes it has gathered: at once, or a little
// later so that more join the batch (group commit pacing, as PostgreSQL's
// commit_delay with commit_siblings or MySQL's group commit sync delay).
//
// Every batch costs a round of fsyncs, the leader's and each follower's, and
// on a loaded machine those rounds are what a write waits for. Writes that
// arrive while a batch is in flight would start a second round that queues
// behind the first on the disks; and the clients just answered will, under a
// closed loop (redis-benchmark -P 1, a worker pool), send their next write a
// few microseconds after their reply. So the leader holds its writes while
//   - a batch of its own is in flight (proposed, not yet applied), or
//   - clients answered since the last proposal have not all written again,
// and never longer than `limit` after the first held write's turn: no write
// waits more than that for the pacing, and with limit 0 nothing waits.
// Pure logic over the times it is given (the server owns the clock and the timer).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace kv {

class write_pacer {
 public:
  using clock = std::chrono::steady_clock;

  explicit write_pacer(std::chrono::microseconds limit) : limit_{limit} {}

  // A local client got the reply to its write: it may write again soon.
  void answered() noexcept { ++awaited_; }
  // A write came in (from anyone: the count is a hint, not an account).
  void arrived() noexcept {
    if (awaited_ > 0) --awaited_;
  }

  // The turn ends with writes gathered. Nothing: propose them now. A time:
  // hold them, and look again then (or at any turn before).
  [[nodiscard]] std::optional<clock::time_point> hold_until(clock::time_point now, bool batch_in_flight) noexcept {
    if (limit_.count() <= 0 || (!batch_in_flight && awaited_ == 0)) return std::nullopt;
    if (!holding_) {
      holding_ = true;
      since_ = now;
    }
    const clock::time_point deadline = since_ + limit_;
    if (now >= deadline) return std::nullopt;
    ++held_turns_;
    return deadline;
  }

  // The gathered writes went to the node (or are gone with the leadership).
  void proposed() noexcept {
    holding_ = false;
    awaited_ = 0;
  }

  [[nodiscard]] std::chrono::microseconds limit() const noexcept { return limit_; }
  [[nodiscard]] std::size_t awaited() const noexcept { return awaited_; }
  [[nodiscard]] std::uint64_t held_turns() const noexcept { return held_turns_; }  // turns whose writes waited

 private:
  std::chrono::microseconds limit_;
  std::size_t awaited_ = 0;  // answered since the last proposal, less the writes that arrived since
  bool holding_ = false;
  clock::time_point since_;  // the end of the first turn whose writes were held
  std::uint64_t held_turns_ = 0;
};

}  // namespace kv
