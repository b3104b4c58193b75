// The prefetch hint's contract (raft/state_machine.hpp, paxos/state_machine.hpp),
// checked on one node's calls: each hint comes before its command's apply, in
// order, with at most apply_ahead_distance other applies in between, and a
// node call returns with none left. The drivers feed it from their state
// machine policy; each method says what broke, if anything.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "quorum/core/apply_ahead.hpp"

namespace quorum::sim {

class prefetch_check {
 public:
  std::optional<std::string> hinted(std::string_view command) {
    pending_.emplace_back(command);
    // The hint just given and the apply_ahead_distance before it may wait.
    if (pending_.size() > quorum::detail::apply_ahead_distance + 1)
      return "gave " + std::to_string(pending_.size()) + " prefetch hints ahead of their applies";
    return std::nullopt;
  }

  // A command applied at index i: the oldest hint, if any is pending, must name it.
  std::optional<std::string> applied(std::uint64_t i, std::string_view command) {
    if (pending_.empty()) return std::nullopt;
    const bool in_order = pending_.front() == command;
    pending_.pop_front();
    if (in_order) return std::nullopt;
    return "applied index " + std::to_string(i) + " out of the order of its prefetch hints";
  }

  // The node call ended: every hinted command is applied by now.
  std::optional<std::string> returned() {
    if (pending_.empty()) return std::nullopt;
    const std::size_t left = pending_.size();
    pending_.clear();
    return "returned with " + std::to_string(left) + " prefetch hints whose commands it did not apply";
  }

 private:
  std::deque<std::string> pending_;  // hinted, not applied yet
};

}  // namespace quorum::sim
