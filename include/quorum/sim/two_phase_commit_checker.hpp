// The two-phase commit checker of the simulator: fed the votes, decisions and
// outcomes the driver observes, it checks atomic commitment after every event.
//
// API (the driver in sim/two_phase_commit_driver.hpp calls these):
//   two_phase_commit_checker c;
//   c.begin(txn, participants)        the coordinator started txn over them
//   c.observe_vote(txn, node, v)      a participant's resource manager voted
//   c.observe_decide(txn, d)          the coordinator decided (or re-reported)
//   c.observe_outcome(txn, node, d)   a participant applied d to its resource
//   c.report(why)                     a violation the driver saw itself
//   c.violation()                     the first property broken, or nullopt
// Properties: one decision per transaction, over the coordinator's
// incarnations; every participant that decides reaches that decision, and
// they agree among themselves (Lamport's TCConsistent); commit only if every
// participant voted yes (read-only counts as yes) and none voted no first.
// Durable promises and liveness are the driver's part (it sees the disks).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "quorum/core/ids.hpp"
#include "quorum/two_phase_commit/types.hpp"

namespace quorum::sim {

class two_phase_commit_checker {
 public:
  using txn_id = two_phase_commit::txn_id;
  using vote = two_phase_commit::vote;
  using decision = two_phase_commit::decision;

  void begin(txn_id txn, std::span<const node_id> participants) {
    txn_record& t = txns_[txn.value()];
    t.participants.assign(participants.begin(), participants.end());
  }

  void observe_vote(txn_id txn, node_id n, vote v) {
    txn_record& t = txns_[txn.value()];
    t.votes.emplace(n.value(), v);  // the first vote is the one that counts
  }

  void observe_decide(txn_id txn, decision d) {
    txn_record& t = txns_[txn.value()];
    if (t.decided && *t.decided != d)
      return report("txn " + std::to_string(txn.value()) + ": the coordinator decided both commit and abort");
    t.decided = d;
    if (d == decision::commit) {
      for (const node_id p : t.participants) {
        auto it = t.votes.find(p.value());
        if (it == t.votes.end())
          return report("txn " + std::to_string(txn.value()) + ": committed before node " +
                        std::to_string(p.value()) + " voted");
        if (it->second == vote::no)
          return report("txn " + std::to_string(txn.value()) + ": committed though node " +
                        std::to_string(p.value()) + " voted no");
      }
    }
    agree(txn, t, d, "the coordinator");
  }

  void observe_outcome(txn_id txn, node_id n, decision d) {
    txn_record& t = txns_[txn.value()];
    t.outcomes[n.value()] = d;
    agree(txn, t, d, "node " + std::to_string(n.value()));
  }

  void report(std::string why) {
    if (!violation_) violation_ = std::move(why);
  }

  [[nodiscard]] const std::optional<std::string>& violation() const noexcept { return violation_; }
  [[nodiscard]] std::size_t transactions() const noexcept { return txns_.size(); }
  [[nodiscard]] std::optional<decision> decided(txn_id txn) const {
    auto it = txns_.find(txn.value());
    return it == txns_.end() ? std::nullopt : it->second.decided;
  }

 private:
  struct txn_record {
    std::vector<node_id> participants;
    std::map<std::uint64_t, vote> votes;
    std::map<std::uint64_t, decision> outcomes;
    std::optional<decision> decided;
    std::optional<decision> first;  // the first decision anyone reached
  };

  void agree(txn_id txn, txn_record& t, decision d, const std::string& who) {
    if (!t.first) {
      t.first = d;
      return;
    }
    if (*t.first != d)
      report("txn " + std::to_string(txn.value()) + ": " + who + " reached " + two_phase_commit::to_string(d) +
             " but " + two_phase_commit::to_string(*t.first) + " was reached before (atomicity broken)");
  }

  std::map<std::uint64_t, txn_record> txns_;
  std::optional<std::string> violation_;
};

}  // namespace quorum::sim
