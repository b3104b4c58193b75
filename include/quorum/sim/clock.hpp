// Simulated time. The world owns one sim_time_source, the single time line
// every event is ordered on; each node holds a sim_clock, a two-word handle
// modelling quorum::Clock that reads the world's time through its own rate.
//
// API:
//   sim_time_source src;            src.now() -> sim_time; src.advance_to(t) (never backwards)
//   sim_clock c{src, skew_ppm};     c.now() -> sim_clock::time_point (the node's local view)
// A skew of +100 ppm makes a node's clock run 0.01 % fast. Skew lets lease and
// timeout bugs show: two nodes disagree about how much time has passed, but
// each clock still never goes backwards. Times are nanoseconds since the start.
#pragma once

#include <chrono>
#include <cstdint>

#include "quorum/core/assert.hpp"
#include "quorum/core/clock.hpp"

namespace quorum::sim {

// A length of simulated time; also the world's time point (time since start).
using sim_duration = std::chrono::nanoseconds;
using sim_time = std::chrono::nanoseconds;

// The largest skew accepted: a clock may run at most half as fast or 1.5 times as fast.
inline constexpr std::int64_t max_skew_ppm = 500'000;

class sim_time_source {
 public:
  [[nodiscard]] sim_time now() const noexcept { return now_; }

  void advance_to(sim_time t) noexcept {
    QUORUM_ASSERT(t >= now_);
    now_ = t;
  }

 private:
  sim_time now_{0};
};

class sim_clock {
 public:
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<sim_clock, duration>;

  explicit sim_clock(const sim_time_source& source, std::int64_t skew_ppm = 0) noexcept
      : source_{&source}, skew_ppm_{skew_ppm} {
    QUORUM_ASSERT(skew_ppm >= -max_skew_ppm && skew_ppm <= max_skew_ppm);
  }

  [[nodiscard]] time_point now() const noexcept {
    const std::int64_t world = source_->now().count();
    // Split so that world * skew cannot overflow for any reachable time.
    const std::int64_t seconds = world / 1'000'000'000;
    const std::int64_t rest = world % 1'000'000'000;
    const std::int64_t drift = seconds * skew_ppm_ * 1'000 + rest * skew_ppm_ / 1'000'000;
    return time_point{duration{world + drift}};
  }

  [[nodiscard]] std::int64_t skew_ppm() const noexcept { return skew_ppm_; }

 private:
  const sim_time_source* source_;
  std::int64_t skew_ppm_;
};

static_assert(quorum::check_clock<sim_clock>());

}  // namespace quorum::sim
