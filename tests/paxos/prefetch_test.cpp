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

namespace {

using namespace paxos_test;

// Writes down hints ("h:" and the command) and applies ("a:" and the command) as they come.
struct hinted_fsm {
  std::vector<std::string> events;
  void prefetch(byte_view b) { events.push_back("h:" + std::string{as_chars(b)}); }
  void apply(log_index, byte_view b) { events.push_back("a:" + std::string{as_chars(b)}); }
};
static_assert(PrefetchingStateMachine<hinted_fsm>);
static_assert(StateMachine<recorder> && !PrefetchingStateMachine<recorder>);

// What a run of the commands c0..c{n-1} should show: hint k, and from the
// distance on, the apply of the command that many behind; the rest at the end.
std::vector<std::string> expected_run(std::size_t n) {
  std::vector<std::string> out;
  const std::size_t d = quorum::detail::apply_ahead_distance;
  for (std::size_t k = 0; k < n; ++k) {
    out.push_back("h:c" + std::to_string(k));
    if (k >= d) out.push_back("a:c" + std::to_string(k - d));
  }
  for (std::size_t k = n > d ? n - d : 0; k < n; ++k) out.push_back("a:c" + std::to_string(k));
  return out;
}

}  // namespace

TEST_CASE("paxos prefetch: a batch chosen together is hinted ahead, in order, on the leader and on each follower") {
  for (std::size_t n : {std::size_t{2}, std::size_t{3}, quorum::detail::apply_ahead_distance, std::size_t{10}}) {
    CAPTURE(n);
    basic_cluster<hinted_fsm> c{3};
    c.start();
    const std::uint64_t l = c.settle();
    REQUIRE(l != 0);
    c.deliver();
    for (std::uint64_t id = 1; id <= 3; ++id) c[id].state_machine().events.clear();
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
  c.start();
  const std::uint64_t l = c.settle();
  REQUIRE(l != 0);
  c.deliver();
  for (std::uint64_t id = 1; id <= 3; ++id) c[id].state_machine().events.clear();
  for (int k = 0; k < 3; ++k) {
    REQUIRE(c[l].propose(as_bytes("c" + std::to_string(k))));
    c.deliver();
  }
  for (std::uint64_t id = 1; id <= 3; ++id) {
    CAPTURE(id);
    CHECK(c[id].state_machine().events == std::vector<std::string>{"a:c0", "a:c1", "a:c2"});
  }
}
