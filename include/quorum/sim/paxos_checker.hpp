// The Multi-Paxos safety checker of the simulator: fed what the driver
// observes of each node after every event (slots it learned chosen, its
// applies, the leader it became) and the client's proposals, it checks the
// properties a replicated log of Paxos instances must keep.
//
// API (nodes 1..n; the driver in sim/paxos_driver.hpp calls these):
//   paxos_checker c{n};
//   c.boot(n)                          a new incarnation: its apply order restarts
//   c.observe_proposed(value)          a client handed `value` to a leader
//   c.observe_chosen(n, slot, value)   node n learned `value` chosen at `slot`
//                                      (a no-op is a value starting with "noop")
//   c.observe_apply(n, slot, value)    node n applied `slot` (no-ops included)
//   c.observe_leader(n, ballot)        node n became leader of `ballot`
//   c.observe_ack(slot, value)         a client was told `value` is chosen at `slot`
//   c.observe_restore(n, slot)         node n replaced its state with a snapshot up
//                                      to `slot`: its applies continue after it
//   c.violation()                      the first property broken, or nullopt
// Properties: Agreement (at most one value chosen per slot, over every node
// and incarnation), Validity (only proposed values or no-ops are chosen),
// applies contiguous per incarnation and only of the value chosen there,
// every acknowledged value applied where acknowledged, a leader's ballot is
// its own and leads once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/core/ids.hpp"

namespace quorum::sim {

class paxos_checker {
 public:
  explicit paxos_checker(std::size_t nodes) : applied_(nodes + 1, 0) {}

  void boot(node_id n) { applied_.at(static_cast<std::size_t>(n.value())) = 0; }

  void observe_proposed(std::string_view value) { proposed_.emplace(value); }

  void observe_chosen(node_id n, std::uint64_t slot, std::string_view value) {
    const bool noop = value.substr(0, 4) == "noop";
    if (!noop && proposed_.find(std::string{value}) == proposed_.end())
      record("Validity: node " + std::to_string(n.value()) + " learned '" + std::string{value} +
             "' chosen at slot " + std::to_string(slot) + ", which no client proposed");
    auto [it, fresh] = chosen_.try_emplace(slot, chosen_value{std::string{value}, n});
    if (!fresh && !same(it->second.value, value))
      record("Agreement: slot " + std::to_string(slot) + " chosen as '" + it->second.value + "' (node " +
             std::to_string(it->second.first.value()) + ") and as '" + std::string{value} + "' (node " +
             std::to_string(n.value()) + ")");
  }

  void observe_apply(node_id n, std::uint64_t slot, std::string_view value) {
    std::uint64_t& applied = applied_.at(static_cast<std::size_t>(n.value()));
    if (slot != applied + 1)
      record("node " + std::to_string(n.value()) + " applied slot " + std::to_string(slot) + " after " +
             std::to_string(applied) + ": applies are not contiguous");
    applied = slot;
    auto it = chosen_.find(slot);
    if (it == chosen_.end())
      record("node " + std::to_string(n.value()) + " applied slot " + std::to_string(slot) +
             " before anyone learned it chosen");
    else if (!same(it->second.value, value))
      record("Agreement: node " + std::to_string(n.value()) + " applied '" + std::string{value} + "' at slot " +
             std::to_string(slot) + " where '" + it->second.value + "' was chosen");
  }

  // A snapshot holds only chosen slots, and never takes a node back.
  void observe_restore(node_id n, std::uint64_t slot) {
    std::uint64_t& applied = applied_.at(static_cast<std::size_t>(n.value()));
    if (slot < applied)
      record("node " + std::to_string(n.value()) + " restored a snapshot up to slot " + std::to_string(slot) +
             " after applying up to " + std::to_string(applied) + " in the same incarnation");
    if (chosen_prefix() < slot)
      record("node " + std::to_string(n.value()) + " restored a snapshot up to slot " + std::to_string(slot) +
             " but only slots up to " + std::to_string(chosen_prefix()) + " are known chosen");
    applied = slot;
  }

  void observe_leader(node_id n, ballot b) {
    if (b.node != n)
      record("node " + std::to_string(n.value()) + " leads with ballot (" + std::to_string(b.round) + ", " +
             std::to_string(b.node.value()) + "), which is not its own");
    if (!leaders_.insert(b).second)
      record("ballot (" + std::to_string(b.round) + ", " + std::to_string(b.node.value()) + ") became leader twice");
  }

  void observe_ack(std::uint64_t slot, std::string_view value) {
    auto it = chosen_.find(slot);
    if (it == chosen_.end() || it->second.value != value)
      record("acknowledged '" + std::string{value} + "' at slot " + std::to_string(slot) +
             " is not what was chosen there");
  }

  [[nodiscard]] const std::optional<std::string>& violation() const noexcept { return violation_; }
  [[nodiscard]] std::uint64_t chosen_slots() const noexcept { return chosen_.size(); }
  // The highest slot such that every slot up to it is known chosen somewhere.
  [[nodiscard]] std::uint64_t chosen_prefix() const noexcept {
    std::uint64_t s = 0;
    for (auto it = chosen_.begin(); it != chosen_.end() && it->first == s + 1; ++it) ++s;
    return s;
  }
  [[nodiscard]] std::uint64_t leaders() const noexcept { return leaders_.size(); }

 private:
  struct chosen_value {
    std::string value;
    node_id first;
  };

  // No-ops are named by the ballot that proposed them; any two are the same
  // "nothing", since a gap filled twice is still a gap.
  static bool same(std::string_view a, std::string_view b) {
    if (a.substr(0, 4) == "noop" && b.substr(0, 4) == "noop") return true;
    return a == b;
  }

  void record(std::string why) {
    if (!violation_) violation_ = std::move(why);
  }

  std::vector<std::uint64_t> applied_;  // [node id] -> last slot applied this incarnation
  std::set<std::string, std::less<>> proposed_;
  std::map<std::uint64_t, chosen_value> chosen_;
  std::set<ballot> leaders_;
  std::optional<std::string> violation_;
};

}  // namespace quorum::sim
