// The simulated clients' grouped writes, shared by the Raft and Multi-Paxos
// drivers: a batch's commands go to the leader in one propose_all() (the
// same verb on both nodes), and each operation learns where it went.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "quorum/core/bytes.hpp"

namespace quorum::sim {

// (operation, command) of each write, in the order they are proposed.
using command_group = std::vector<std::pair<std::size_t, std::string>>;

// Proposes every command of `group` at once on `node`. When the node took
// them, placed(k, op, command, p) for each: command k is at p.index + k, p's
// term or ballot. When it refused them (it still runs), refused(op) for each.
// When its Log failed, neither: what of the group reached its disk may yet
// commit, so those operations stay unknown.
template <class Node, class Placed, class Refused>
void propose_group(Node& node, const command_group& group, Placed&& placed, Refused&& refused) {
  std::vector<byte_view> commands;
  commands.reserve(group.size());
  for (const auto& entry : group) commands.push_back(as_bytes(entry.second));
  const auto r = node.propose_all(commands);
  if (!r) {
    if (node.status())
      for (const auto& entry : group) refused(entry.first);
    return;
  }
  for (std::size_t k = 0; k < group.size(); ++k) placed(k, group[k].first, group[k].second, *r);
}

}  // namespace quorum::sim
