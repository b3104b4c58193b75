// Test support: sweep a range of simulator seeds and require every one clean.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>

#include "quorum/sim/run.hpp"

namespace quorum::test {

// An unoptimized (Debug, sanitizer) build runs a seed tens of times slower:
// it sweeps a sample of the seeds an optimized build sweeps, `scale` times fewer.
constexpr std::uint64_t optimized_scale(std::uint64_t scale) {
#if defined(__OPTIMIZE__)
  return scale;
#else
  (void)scale;
  return 1;
#endif
}

// The explicit fault rates of the Raft and Multi-Paxos "heavy faults" sweeps.
inline sim::run_config heavy_faults() {
  sim::run_config c;
  c.drop = 0.2;
  c.duplicate = 0.1;
  c.reorder = 0.2;
  c.partition = 0.005;
  c.crash = 0.003;
  return c;
}

// Seeds first..last of `run` on config c: none may break a checker, each
// commits (the heal phase demands a new commit) and, with `elects`, changes
// leader at least once; together they average more than 10 commits a seed.
template <class Run>
void sweep_seeds(Run run, sim::run_config c, std::uint64_t first, std::uint64_t last, bool elects) {
  std::uint64_t commits = 0;
  for (std::uint64_t s = first; s <= last; ++s) {
    c.seed = s;
    const sim::seed_report r = run(c);
    INFO(r.what);
    REQUIRE_FALSE(r.violation);
    CHECK(r.commits > 0);
    if (elects) CHECK(r.leader_changes > 0);
    commits += r.commits;
  }
  CHECK(commits > (last - first + 1) * 10);
}

}  // namespace quorum::test
