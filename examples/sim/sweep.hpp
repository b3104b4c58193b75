// Runs one protocol over a range of seeds and adds up what the runs report.
// The whole range always runs (every failing seed is worth knowing); the
// first few failures are kept whole for the report.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "flags.hpp"
#include "progress.hpp"
#include "protocols.hpp"

namespace quorum_sim {

inline constexpr std::size_t max_listed_failures = 10;

struct sweep_totals {
  std::uint64_t seeds{0};
  std::uint64_t events{0};
  std::uint64_t commits{0};
  std::uint64_t leader_changes{0};
  std::uint64_t faults{0};
  std::uint64_t violations{0};
  double wall_seconds{0};
  std::vector<quorum::sim::seed_report> failures;  // the first max_listed_failures
};

[[nodiscard]] inline quorum::sim::run_config make_config(const options& o, std::uint64_t seed,
                                                         quorum::sim::trace_writer* trace,
                                                         quorum::sim::run_progress* progress) {
  quorum::sim::run_config c;
  c.seed = seed;
  c.nodes = o.nodes.value_or(0);
  c.steps = o.steps.value_or(0);
  c.drop = o.drop;
  c.duplicate = o.duplicate;
  c.reorder = o.reorder;
  c.partition = o.partition;
  c.crash = o.crash;
  c.trace = trace;
  c.progress = progress;
  return c;
}

// A protocol that throws has failed on that seed: report it like a violation,
// with a replay command, rather than losing the rest of the sweep.
[[nodiscard]] inline quorum::sim::seed_report run_one(const protocol& p, const quorum::sim::run_config& c) {
  try {
    return p.run(c);
  } catch (const std::exception& e) {
    quorum::sim::seed_report r;
    r.seed = c.seed;
    r.violation = true;
    r.what = std::string{"the run threw: "} + e.what();
    return r;
  }
}

inline sweep_totals run_sweep(const protocol& p, const options& o, quorum::sim::trace_writer* trace,
                              progress_meter& progress, quorum::sim::run_progress* watched = nullptr) {
  sweep_totals t;
  const auto start = std::chrono::steady_clock::now();
  const std::uint64_t total = o.last_seed - o.first_seed + 1;  // 0 only for all 2^64 seeds
  for (std::uint64_t seed = o.first_seed;; ++seed) {
    const quorum::sim::seed_report r = run_one(p, make_config(o, seed, trace, watched));
    ++t.seeds;
    t.events += r.events;
    t.commits += r.commits;
    t.leader_changes += r.leader_changes;
    t.faults += r.faults;
    if (r.violation) {
      ++t.violations;
      if (t.failures.size() < max_listed_failures) {
        t.failures.push_back(r);
        t.failures.back().seed = seed;  // the seed we ran is the one to replay
      }
    }
    progress.update(t.seeds, total, t.events, t.violations);
    if (seed == o.last_seed) break;
  }
  progress.finish();
  t.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return t;
}

}  // namespace quorum_sim
