// What one simulated run is asked to do and what it reports: the contract
// between a protocol's simulation (raft, paxos, 2pc, the self-test register)
// and its drivers (quorum-sim, the test suites, a user's own soak).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

namespace quorum::sim {

class trace_writer;

// How far a run has got, published as it goes for a watchdog on another
// thread (quorum-sim's --watchdog): the seed, the events begun, and what
// the latest one is. A call into a node that never returns leaves them
// still; the watchdog can then say which seed and event hung. The run only
// stores into it (relaxed: a watchdog wants a recent value, not an order).
struct run_progress {
  std::atomic<std::uint64_t> seed{0};
  std::atomic<std::uint64_t> events{0};
  std::atomic<const char*> what{"start"};  // a string literal naming the event
  std::atomic<std::uint64_t> node{0};      // the node it concerns; 0: none
};

// One seed's run. A fault rate left empty is drawn per seed from the seed
// itself ("swarm testing"), so a sweep over seeds covers calm and stormy runs.
struct run_config {
  std::uint64_t seed{1};
  std::uint32_t nodes{0};       // 0: the protocol's default cluster size
  std::uint64_t steps{0};       // events in the fault phase; 0: the protocol's default
  std::optional<double> drop;       // probability a message is lost
  std::optional<double> duplicate;  // probability a message is delivered twice
  std::optional<double> reorder;    // probability a message is delayed past later ones
  std::optional<double> partition;  // probability per step that a partition starts
  std::optional<double> crash;      // probability per step that a node crashes
  trace_writer* trace{nullptr};     // JSON Lines trace of observable events, if any
  run_progress* progress{nullptr};  // where the run says how far it got, if anyone watches
};

// What a run did, for progress lines, summary tables and failure reports.
struct seed_report {
  std::uint64_t seed{0};
  std::uint64_t events{0};          // simulated events processed (deliveries, ticks, faults)
  std::uint64_t commits{0};         // values acknowledged to clients
  std::uint64_t leader_changes{0};
  std::uint64_t faults{0};          // drops, duplicates, reorders, partitions, crashes injected
  bool violation{false};            // a safety or liveness checker fired
  std::string what;                 // the checker's explanation when violation is set
};

}  // namespace quorum::sim
