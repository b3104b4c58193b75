// The optional prefetch hint (state_machine.hpp), as for Raft: a node that
// applies a run of chosen commands hints each one apply_ahead_distance
// applies before its own, in order; a command applied alone gets no hint.
// A state machine without prefetch() is applied as before (every other
// Paxos test uses one).
#include <doctest/doctest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "cluster.hpp"
#include "support/prefetch_events.hpp"

namespace {

using namespace paxos_test;

using quorum::test::hinted_fsm;
static_assert(PrefetchingStateMachine<hinted_fsm>);
static_assert(StateMachine<recorder> && !PrefetchingStateMachine<recorder>);

using quorum::test::expected_run;

// Starts the three nodes, elects a leader, lets everything settle and
// forgets what was hinted and applied so far; the leader's id.
std::uint64_t elect_and_forget(basic_cluster<hinted_fsm>& c) {
  c.start();
  const std::uint64_t l = c.settle();
  REQUIRE(l != 0);
  c.deliver();
  for (std::uint64_t id = 1; id <= 3; ++id) c[id].state_machine().events.clear();
  return l;
}

}  // namespace

TEST_CASE("paxos prefetch: a batch chosen together is hinted ahead, in order, on the leader and on each follower") {
  for (std::size_t n : {std::size_t{2}, std::size_t{3}, quorum::detail::apply_ahead_distance, std::size_t{10}}) {
    CAPTURE(n);
    basic_cluster<hinted_fsm> c{3};
    const std::uint64_t l = elect_and_forget(c);
    {
      auto guard = c[l].batch();
      for (std::size_t k = 0; k < n; ++k) REQUIRE(c[l].propose(as_bytes("c" + std::to_string(k))));
    }
    c.deliver();
    for (std::uint64_t id = 1; id <= 3; ++id) {
      CAPTURE(id);
      CHECK(c[id].applied_index() == c[l].applied_index());
      CHECK(c[id].state_machine().events == expected_run(n));
    }
  }
}

TEST_CASE("paxos prefetch: commands chosen one at a time are applied without hints") {
  basic_cluster<hinted_fsm> c{3};
  const std::uint64_t l = elect_and_forget(c);
  for (int k = 0; k < 3; ++k) {
    REQUIRE(c[l].propose(as_bytes("c" + std::to_string(k))));
    c.deliver();
  }
  for (std::uint64_t id = 1; id <= 3; ++id) {
    CAPTURE(id);
    CHECK(c[id].state_machine().events == std::vector<std::string>{"a:c0", "a:c1", "a:c2"});
  }
}
