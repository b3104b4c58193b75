// quorum-kv's write pacer: when the leader's gathered writes wait, and that
// no write waits past the limit, whatever the hints say.
#include <doctest/doctest.h>

#include <chrono>

#include "../../examples/kv/write_pacer.hpp"

namespace {

using namespace std::chrono_literals;
using clock_type = kv::write_pacer::clock;

const clock_type::time_point t0 = clock_type::time_point{} + 1h;

}  // namespace

TEST_CASE("with nothing in flight and no client awaited, writes go at once") {
  kv::write_pacer p{100us};
  CHECK_FALSE(p.hold_until(t0, false));
  CHECK(p.held_turns() == 0);
}

TEST_CASE("a batch in flight holds the writes until it applies or the limit passes") {
  kv::write_pacer p{100us};
  const auto until = p.hold_until(t0, true);
  REQUIRE(until);
  CHECK(*until == t0 + 100us);
  // Later turns keep the first held turn's deadline: the wait does not restart.
  CHECK(p.hold_until(t0 + 40us, true) == t0 + 100us);
  CHECK(p.held_turns() == 2);
  // The batch applied: nothing else to wait for.
  CHECK_FALSE(p.hold_until(t0 + 60us, false));
  p.proposed();
  // At the limit the writes go even with a batch in flight.
  REQUIRE(p.hold_until(t0 + 200us, true) == t0 + 300us);
  CHECK_FALSE(p.hold_until(t0 + 300us, true));
  CHECK_FALSE(p.hold_until(t0 + 5s, true));
}

TEST_CASE("clients just answered are awaited until each has written again") {
  kv::write_pacer p{100us};
  p.answered();
  p.answered();
  p.answered();
  CHECK(p.awaited() == 3);
  p.arrived();
  REQUIRE(p.hold_until(t0, false) == t0 + 100us);
  p.arrived();
  CHECK(p.hold_until(t0 + 10us, false) == t0 + 100us);
  p.arrived();
  CHECK(p.awaited() == 0);
  CHECK_FALSE(p.hold_until(t0 + 20us, false));
  // More arrivals than answers: the count stays at zero.
  p.arrived();
  CHECK(p.awaited() == 0);
}

TEST_CASE("a client that never writes again delays the writes by the limit, no more") {
  kv::write_pacer p{100us};
  p.answered();
  REQUIRE(p.hold_until(t0, false) == t0 + 100us);
  CHECK(p.hold_until(t0 + 99us, false) == t0 + 100us);
  CHECK_FALSE(p.hold_until(t0 + 100us, false));
  // A proposal forgets who was awaited: the next hold needs new answers.
  p.proposed();
  CHECK(p.awaited() == 0);
  CHECK_FALSE(p.hold_until(t0 + 150us, false));
}

TEST_CASE("a limit of zero turns the pacing off") {
  kv::write_pacer p{0us};
  p.answered();
  CHECK_FALSE(p.hold_until(t0, true));
  CHECK_FALSE(p.hold_until(t0, false));
  CHECK(p.held_turns() == 0);
}
