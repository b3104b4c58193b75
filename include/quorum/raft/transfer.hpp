// A leader's leadership transfer in progress (Ongaro's thesis §3.10): whom
// it hands over to, how long it has tried, and whether timeout_now has gone
// out. node.hpp catches the target up and sends timeout_now.
#pragma once

#include <cstdint>

#include "quorum/core/ids.hpp"

namespace quorum::raft {

struct leadership_transfer {
  node_id target{};            // no_node: no transfer
  std::uint32_t elapsed{0};    // leader ticks since it began
  bool timeout_now_sent{false};

  [[nodiscard]] bool active() const noexcept { return target != no_node; }

  void start(node_id to) noexcept { *this = leadership_transfer{to, 0, false}; }
  void end() noexcept { *this = leadership_transfer{}; }

  // One leader tick; true when the transfer has run out of time (and is ended).
  bool tick(std::uint32_t timeout_ticks) noexcept {
    if (!active()) return false;
    if (++elapsed < timeout_ticks) return false;
    end();
    return true;
  }
};

}  // namespace quorum::raft
