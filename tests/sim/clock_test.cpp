// sim_clock: the node's handle on the world's time models quorum::Clock, runs
// at its configured skew and never goes backwards.
#include <doctest/doctest.h>

#include <chrono>

#include "quorum/core/clock.hpp"
#include "quorum/sim/clock.hpp"

using namespace std::chrono_literals;
using quorum::sim::sim_clock;
using quorum::sim::sim_time_source;

TEST_CASE("sim_clock models quorum::Clock and follows the world's time") {
  static_assert(quorum::Clock<sim_clock>);
  static_assert(sizeof(sim_clock) <= 2 * sizeof(void*));
  sim_time_source world;
  const sim_clock c{world};
  CHECK(c.now().time_since_epoch() == 0ns);
  world.advance_to(1500ms);
  CHECK(c.now().time_since_epoch() == 1500ms);
  const auto before = c.now();
  world.advance_to(2s);
  CHECK(c.now() - before == 500ms);
  CHECK(before < c.now());
}

TEST_CASE("sim_clock skew makes two nodes disagree on elapsed time") {
  sim_time_source world;
  const sim_clock fast{world, +1000};   // 0.1 % fast
  const sim_clock slow{world, -20000};  // 2 % slow
  world.advance_to(10s);
  CHECK(fast.now().time_since_epoch() == 10s + 10ms);
  CHECK(slow.now().time_since_epoch() == 10s - 200ms);
  world.advance_to(10s + 1ms);
  CHECK(fast.now().time_since_epoch() == 10s + 10ms + 1ms + 1us);
}

TEST_CASE("sim_clock never goes backwards, whatever the skew") {
  for (const std::int64_t skew : {-500'000L, -333'333L, -7L, 0L, 13L, 499'999L}) {
    sim_time_source world;
    const sim_clock c{world, skew};
    auto last = c.now();
    for (std::int64_t t = 0; t < 3'000'000'000; t += 999'999'937) {
      for (std::int64_t d = 0; d < 50; ++d) {
        world.advance_to(std::chrono::nanoseconds{t + d});
        const auto now = c.now();
        REQUIRE_FALSE(now < last);
        last = now;
      }
    }
  }
}
