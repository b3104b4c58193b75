// Who the acceptors are and what a quorum is, for each phase. Majorities by
// default; flexible quorums (Howard, Malkhi, Spiegelman 2016) when the options
// name the sizes: any phase-1 quorum must meet any phase-2 quorum, which for
// quorums by size means |Q1| + |Q2| > N. A choice that breaks it is refused.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "quorum/core/error.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"

namespace quorum::paxos {

// Acknowledgements are tallied in one 64-bit mask per slot or phase.
inline constexpr std::size_t max_members = 64;

class membership {
 public:
  static constexpr std::size_t npos = ~std::size_t{0};

  // q1, q2: quorum sizes of phase 1 and phase 2; 0 means a majority.
  [[nodiscard]] static result<void> validate(node_id self, std::span<const node_id> members, std::size_t q1,
                                             std::size_t q2) {
    if (self == no_node) return fail(errc::invalid_config, "paxos: node id 0 is reserved for 'no node'");
    if (members.empty()) return fail(errc::invalid_config, "paxos: the configuration is empty");
    if (members.size() > max_members)
      return fail(errc::invalid_config, "paxos: more members than paxos::max_members", max_members);
    std::vector<node_id> sorted(members.begin(), members.end());
    std::sort(sorted.begin(), sorted.end());
    if (sorted.front() == no_node) return fail(errc::invalid_config, "paxos: node id 0 in the configuration");
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      return fail(errc::invalid_config, "paxos: a member is listed twice");
    if (!std::binary_search(sorted.begin(), sorted.end(), self))
      return fail(errc::invalid_config, "paxos: this node is not a member", self.value());
    return validate_quorums(members.size(), q1, q2);
  }

  // Quorums of sizes q1, q2 (0: a majority) exist among n acceptors and intersect.
  [[nodiscard]] static result<void> validate_quorums(std::size_t n, std::size_t q1, std::size_t q2) {
    const std::size_t a = q1 == 0 ? majority(n) : q1;
    const std::size_t b = q2 == 0 ? majority(n) : q2;
    if (a > n) return fail(errc::invalid_config, "paxos: the phase-1 quorum is larger than the cluster", a);
    if (b > n) return fail(errc::invalid_config, "paxos: the phase-2 quorum is larger than the cluster", b);
    if (a + b <= n)
      return fail(errc::invalid_config,
                  "paxos: phase-1 and phase-2 quorums would not intersect (|Q1| + |Q2| must exceed the "
                  "number of members)",
                  a + b);
    return {};
  }

  [[nodiscard]] static constexpr std::size_t majority(std::size_t n) noexcept { return n / 2 + 1; }

  membership() = default;
  // Arguments must have passed validate().
  membership(node_id self, std::span<const node_id> members, std::size_t q1, std::size_t q2)
      : members_(members.begin(), members.end()) {
    std::sort(members_.begin(), members_.end());
    self_ = position_of(self);
    q1_ = q1 == 0 ? majority(members_.size()) : q1;
    q2_ = q2 == 0 ? majority(members_.size()) : q2;
  }

  [[nodiscard]] std::span<const node_id> members() const noexcept { return members_; }
  [[nodiscard]] std::size_t size() const noexcept { return members_.size(); }
  [[nodiscard]] std::size_t self() const noexcept { return self_; }
  [[nodiscard]] node_id at(std::size_t i) const noexcept { return members_[i]; }
  [[nodiscard]] std::size_t phase1_quorum() const noexcept { return q1_; }
  [[nodiscard]] std::size_t phase2_quorum() const noexcept { return q2_; }

  [[nodiscard]] std::size_t position_of(node_id n) const noexcept {
    auto it = std::lower_bound(members_.begin(), members_.end(), n);
    return it != members_.end() && *it == n ? static_cast<std::size_t>(it - members_.begin()) : npos;
  }

  [[nodiscard]] static constexpr std::uint64_t bit(std::size_t position) noexcept {
    return std::uint64_t{1} << position;
  }
  [[nodiscard]] bool phase1_reached(std::uint64_t mask) const noexcept { return reached(mask, q1_); }
  [[nodiscard]] bool phase2_reached(std::uint64_t mask) const noexcept { return reached(mask, q2_); }

 private:
  // Whether mask has at least q bits. Clears one bit per step and stops at q:
  // on every ack of every slot, this beats std::popcount, which without a
  // popcnt target is a library call. A quorum of two (three acceptors, the
  // usual group) is one test: whether clearing the lowest bit leaves any.
  [[nodiscard]] static bool reached(std::uint64_t mask, std::size_t q) noexcept {
    if (q == 2) [[likely]]
      return (mask & (mask - 1)) != 0;
    std::size_t n = 0;
    for (; mask != 0 && n < q; ++n) mask &= mask - 1;
    return n >= q;
  }

  std::vector<node_id> members_;
  std::size_t self_{npos};
  std::size_t q1_{1};
  std::size_t q2_{1};
};

}  // namespace quorum::paxos
