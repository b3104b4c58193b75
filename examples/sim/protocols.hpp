// The protocols quorum-sim can run: one row each (name, one line of description,
// the function that simulates one seed). A protocol registers here when its
// simulation lands; the names DESIGN.md promises but this build lacks are
// recognised, so asking for them says "not in this build yet" instead of "unknown".
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "quorum/sim/paxos_commit_driver.hpp"
#include "quorum/sim/paxos_driver.hpp"
#include "quorum/sim/raft_driver.hpp"
#include "quorum/sim/run.hpp"
#include "quorum/sim/selftest.hpp"
#include "quorum/sim/two_phase_commit_driver.hpp"

namespace quorum_sim {

using run_fn = quorum::sim::seed_report (*)(const quorum::sim::run_config&);

struct protocol {
  std::string_view name;
  std::string_view description;
  run_fn run;
  // The cluster sizes the protocol accepts; --nodes outside them is a usage error.
  std::uint32_t min_nodes{1};
  std::uint32_t max_nodes{15};
};

namespace detail {
inline quorum::sim::seed_report run_selftest(const quorum::sim::run_config& c) {
  return quorum::sim::selftest::run_seed(c, false);
}
inline quorum::sim::seed_report run_selftest_bug(const quorum::sim::run_config& c) {
  return quorum::sim::selftest::run_seed(c, true);
}
inline quorum::sim::seed_report run_selftest_hang(const quorum::sim::run_config& c) {
  return quorum::sim::selftest::run_seed(c, quorum::sim::selftest::variant::hang_after_heal);
}
inline quorum::sim::seed_report run_raft(const quorum::sim::run_config& c) {
  return quorum::sim::raft_sim::run_seed(c);
}
inline quorum::sim::seed_report run_raft_async(const quorum::sim::run_config& c) {
  quorum::sim::raft_sim::driver_options o;
  o.async_sync_share = 0.25;
  o.async_sync_failure_rate = 0.002;
  return quorum::sim::raft_sim::run_seed(c, o);
}
inline quorum::sim::seed_report run_paxos(const quorum::sim::run_config& c) {
  return quorum::sim::paxos_sim::run_seed(c);
}
inline quorum::sim::seed_report run_paxos_batch(const quorum::sim::run_config& c) {
  return quorum::sim::paxos_sim::run_seed(c, quorum::sim::paxos_sim::driver_options::with_batches());
}
inline quorum::sim::seed_report run_2pc(const quorum::sim::run_config& c) {
  return quorum::sim::run_2pc_seed(c);
}
}  // namespace detail

// Add a row when a protocol's simulation lands (and drop its name from `planned`).
inline constexpr std::array protocols{
    protocol{"selftest", "the simulator's self-test: a small primary-backup replicated log under faults",
             &detail::run_selftest},
    protocol{"selftest-bug", "the self-test register with a deliberately planted bug: watch the simulator catch it",
             &detail::run_selftest_bug},
    protocol{"selftest-hang",
             "the self-test register whose primary never returns from its first delivery after the heal: "
             "watch --watchdog report it",
             &detail::run_selftest_hang},
    protocol{"raft",
             "Raft with a key-value client and an operator (snapshots, membership changes, transfers, ReadIndex); "
             "safety checked after every event",
             &detail::run_raft},
    protocol{"raft-async",
             "Raft as 'raft', the leader's syncs started in flush() and finished at a later event of that node "
             "(start_sync / log_synced); now and then one fails, and the node restarts from a disk that lost "
             "what was not durable",
             &detail::run_raft_async},
    protocol{"paxos",
             "Multi-Paxos (stable leader, pipelined) with a key-value client and membership changes; safety "
             "checked after every event",
             &detail::run_paxos},
    protocol{"paxos-batch",
             "Multi-Paxos as 'paxos', with client batches: proposals in batch() guards and groups in one "
             "propose_all()",
             &detail::run_paxos_batch},
    protocol{"2pc",
             "two-phase commit (node 1 coordinates, the rest participate) with random no votes and crashes: "
             "classic (presumed abort or commit) on most seeds, Paxos Commit on seeds = 2 mod 4, where a "
             "coordinator crash must not block; atomicity checked after every event",
             &detail::run_2pc, 2},
};

// Promised by DESIGN.md, not yet built.
inline constexpr std::array<std::string_view, 0> planned{};

[[nodiscard]] inline const protocol* find_protocol(std::string_view name) noexcept {
  for (const auto& p : protocols)
    if (p.name == name) return &p;
  return nullptr;
}

[[nodiscard]] inline std::string available_protocols() {
  std::string list;
  for (const auto& p : protocols) {
    if (!list.empty()) list += ", ";
    list += p.name;
  }
  return list;
}

// Why `name` cannot run, as one line.
[[nodiscard]] inline std::string protocol_error(std::string_view name) {
  for (auto p : planned)
    if (p == name) return std::string{name} + " is not in this build yet; available: " + available_protocols();
  return "unknown protocol '" + std::string{name} + "'; available: " + available_protocols();
}

}  // namespace quorum_sim
