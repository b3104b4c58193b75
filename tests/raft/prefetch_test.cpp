// The optional prefetch hint (state_machine.hpp): a node that applies a run
// of committed commands hints each one apply_ahead_distance applies before
// its own, in order (a run of one: just before). A state machine without
// prefetch() is applied exactly as before (every other Raft test uses one).
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cluster.hpp"
#include "support/prefetch_events.hpp"

namespace {

using namespace raft_test;
using quorum::test::expected_run;
using quorum::test::hinted_fsm;

static_assert(PrefetchingStateMachine<hinted_fsm>);
static_assert(StateMachine<recorder> && !PrefetchingStateMachine<recorder>);

using hinted_cluster = basic_cluster<test_log, hinted_fsm>;

// Starts three nodes, elects node 1, lets its no-op apply everywhere and
// forgets what was hinted and applied so far.
void elect_and_forget(hinted_cluster& c) {
  c.start();
  c.elect(1);
  REQUIRE(c[1].role() == role::leader);
  c.deliver();
  for (std::uint64_t id = 1; id <= 3; ++id) c[id].state_machine().events.clear();
}

}  // namespace

TEST_CASE("prefetch: a batch committed together is hinted ahead, in order, on the leader and on each follower") {
  for (std::size_t n : {std::size_t{1}, std::size_t{3}, quorum::detail::apply_ahead_distance, std::size_t{10}}) {
    CAPTURE(n);
    hinted_cluster c{3};
    elect_and_forget(c);
    {
      auto guard = c[1].batch();
      for (std::size_t k = 0; k < n; ++k) REQUIRE(c[1].propose(as_bytes("c" + std::to_string(k))));
    }
    c.deliver();
    for (std::uint64_t id = 1; id <= 3; ++id) {
      CAPTURE(id);
      CHECK(c[id].applied_index() == c[1].last_index());
      CHECK(c[id].state_machine().events == expected_run(n));
    }
  }
}

TEST_CASE("prefetch: commands committed one at a time are applied as ever, each after its own hint") {
  hinted_cluster c{3};
  elect_and_forget(c);
  for (int k = 0; k < 3; ++k) {
    REQUIRE(c[1].propose(as_bytes("c" + std::to_string(k))));
    c.deliver();
  }
  for (std::uint64_t id = 1; id <= 3; ++id) {
    CAPTURE(id);
    CHECK(c[id].state_machine().events == std::vector<std::string>{"h:c0", "a:c0", "h:c1", "a:c1", "h:c2", "a:c2"});
  }
}
