// Paxos Commit's own rule in the simulator, on top of two_phase_commit_checker's
// (one outcome per txn, commit only on all yes): a coordinator crash does not
// block. While the coordinator is down, a participant in doubt whose fellow
// participants and a majority of acceptors are up and connected over a
// network that delivers must learn the outcome within a bound.
//
// API (the driver in sim/paxos_commit_driver.hpp calls it after every event):
//   non_blocking_checker c;
//   c.observe(txn, node, now, bound)   the rule's condition holds for txn and node
//                                      (a participant) is in doubt
//   c.end_event(now)                   a pair not observed in this event no longer holds
//   c.violation()                      the first breach, or nullopt
// "Connected" excludes message loss: on a lossy network no bound holds, so the
// driver only reports the condition while nothing is being dropped.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "quorum/core/ids.hpp"
#include "quorum/sim/clock.hpp"

namespace quorum::sim {

class non_blocking_checker {
 public:
  // Once per event for each (txn, in-doubt participant) the condition holds for.
  void observe(std::uint64_t txn, node_id n, sim_time now, sim_duration bound) {
    const key k{txn, n.value()};
    auto [it, fresh] = since_.try_emplace(k, now);
    seen_[k] = true;
    if (fresh || violation_ || now - it->second <= bound) return;
    violation_ = "txn " + std::to_string(txn) + ": the coordinator is down, its participants and a majority of " +
                 "acceptors are up and connected, yet node " + std::to_string(n.value()) + " stayed in doubt for " +
                 std::to_string((now - it->second).count() / 1'000'000) + "ms (bound " +
                 std::to_string(bound.count() / 1'000'000) + "ms): the coordinator's crash blocked it";
  }

  // Ends an event: a pair not observed in it no longer holds (its clock restarts).
  void end_event(sim_time now) {
    for (auto it = since_.begin(); it != since_.end();) {
      if (seen_.count(it->first) == 0) {
        it = since_.erase(it);
        continue;
      }
      if (now - it->second > longest_) longest_ = now - it->second;
      ++it;
    }
    seen_.clear();
  }

  [[nodiscard]] const std::optional<std::string>& violation() const noexcept { return violation_; }
  [[nodiscard]] std::size_t watched() const noexcept { return since_.size(); }
  // The longest a pair has held so far: proof the rule was exercised.
  [[nodiscard]] sim_duration longest() const noexcept { return longest_; }

 private:
  using key = std::pair<std::uint64_t, std::uint64_t>;
  std::map<key, sim_time> since_;
  std::map<key, bool> seen_;
  std::optional<std::string> violation_;
  sim_duration longest_{0};
};

}  // namespace quorum::sim
