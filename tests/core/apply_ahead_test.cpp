// The lookahead a node applies a run through when its state machine takes
// prefetch hints: every item applied once, in the order pushed, each exactly
// apply_ahead_distance pushes after its own (or at the drain).
#include <doctest/doctest.h>

#include <cstddef>
#include <vector>

#include "quorum/core/apply_ahead.hpp"

namespace {

using quorum::detail::apply_ahead;
using quorum::detail::apply_ahead_distance;

}  // namespace

TEST_CASE("apply_ahead: runs of every length apply in order, each the distance behind its push") {
  static_assert(apply_ahead_distance >= 1);
  for (std::size_t n = 0; n <= 3 * apply_ahead_distance + 1; ++n) {
    CAPTURE(n);
    apply_ahead<std::size_t> ahead;
    std::vector<std::size_t> applied;
    const auto apply = [&](std::size_t k) { applied.push_back(k); };
    for (std::size_t k = 0; k < n; ++k) {
      ahead.push(k, apply);
      // After pushing k, everything up to k - distance is applied, nothing after it.
      const std::size_t due = k + 1 > apply_ahead_distance ? k + 1 - apply_ahead_distance : 0;
      REQUIRE(applied.size() == due);
      CHECK(ahead.held() == k + 1 - due);
    }
    ahead.drain(apply);
    CHECK(ahead.held() == 0);
    REQUIRE(applied.size() == n);
    for (std::size_t k = 0; k < n; ++k) CHECK(applied[k] == k);
  }
}

TEST_CASE("apply_ahead: drained, it starts again empty, and a drain of nothing applies nothing") {
  apply_ahead<int> ahead;
  std::vector<int> applied;
  const auto apply = [&](int k) { applied.push_back(k); };
  ahead.drain(apply);
  CHECK(applied.empty());
  ahead.push(1, apply);
  ahead.push(2, apply);
  ahead.drain(apply);
  for (int k = 3; k < 3 + static_cast<int>(apply_ahead_distance) + 2; ++k) ahead.push(k, apply);
  ahead.drain(apply);
  REQUIRE(applied.size() == apply_ahead_distance + 4);
  for (std::size_t k = 0; k < applied.size(); ++k) CHECK(applied[k] == static_cast<int>(k) + 1);
}
