// The voting configuration of a Raft group: who the members are, and how a
// quorum is reached, for an election (a vote tally) and for commitment (the
// highest index a majority holds). Membership change will extend this file
// with joint configurations, where both majorities are required.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "quorum/core/error.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"

namespace quorum::raft {

enum class vote_result : std::uint8_t { pending, won, lost };

class configuration {
 public:
  static constexpr std::size_t npos = ~std::size_t{0};

  // Every member once, no node 0, and self among them.
  [[nodiscard]] static result<void> validate(node_id self, std::span<const node_id> members) {
    if (self == no_node) return fail(errc::invalid_config, "raft: node id 0 is reserved for 'no node'");
    if (members.empty()) return fail(errc::invalid_config, "raft: the configuration is empty");
    std::vector<node_id> sorted(members.begin(), members.end());
    std::sort(sorted.begin(), sorted.end());
    if (sorted.front() == no_node) return fail(errc::invalid_config, "raft: node id 0 in the configuration");
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      return fail(errc::invalid_config, "raft: a member is listed twice");
    if (!std::binary_search(sorted.begin(), sorted.end(), self))
      return fail(errc::invalid_config, "raft: this node is not a member", self.value());
    return {};
  }

  configuration() = default;
  // members must have passed validate().
  configuration(node_id self, std::span<const node_id> members) : members_(members.begin(), members.end()) {
    std::sort(members_.begin(), members_.end());
    self_ = position_of(self);
    votes_.assign(members_.size(), 0);
    scratch_.reserve(members_.size());
  }

  [[nodiscard]] std::span<const node_id> members() const noexcept { return members_; }
  [[nodiscard]] std::size_t size() const noexcept { return members_.size(); }
  [[nodiscard]] std::size_t self() const noexcept { return self_; }
  [[nodiscard]] node_id at(std::size_t i) const noexcept { return members_[i]; }
  [[nodiscard]] std::size_t quorum() const noexcept { return members_.size() / 2 + 1; }

  [[nodiscard]] std::size_t position_of(node_id n) const noexcept {
    auto it = std::lower_bound(members_.begin(), members_.end(), n);
    return it != members_.end() && *it == n ? static_cast<std::size_t>(it - members_.begin()) : npos;
  }

  // A new poll, in which we vote for ourselves.
  void start_poll() {
    std::fill(votes_.begin(), votes_.end(), std::int8_t{0});
    votes_[self_] = 1;
  }

  // Only a member's first answer in a poll counts.
  void record_vote(std::size_t member, bool granted) noexcept {
    if (votes_[member] == 0) votes_[member] = granted ? 1 : -1;
  }

  [[nodiscard]] vote_result tally() const noexcept {
    std::size_t granted = 0, refused = 0;
    for (const auto v : votes_) {
      if (v > 0) ++granted;
      else if (v < 0) ++refused;
    }
    if (granted >= quorum()) return vote_result::won;
    if (refused >= quorum()) return vote_result::lost;
    return vote_result::pending;
  }

  // True when the members for which counts(position) holds form a quorum.
  template <class Counts>
  [[nodiscard]] bool has_quorum(Counts&& counts) const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < members_.size(); ++i) n += counts(i) ? 1 : 0;
    return n >= quorum();
  }

  // The highest index held by a quorum, given each member's match index.
  template <class MatchOf>
  [[nodiscard]] log_index quorum_index(MatchOf&& match_of) {
    scratch_.clear();
    for (std::size_t i = 0; i < members_.size(); ++i) scratch_.push_back(match_of(i));
    const auto nth = scratch_.begin() + static_cast<std::ptrdiff_t>(quorum() - 1);
    std::nth_element(scratch_.begin(), nth, scratch_.end(), std::greater<>{});
    return *nth;
  }

 private:
  std::vector<node_id> members_;
  std::size_t self_{npos};
  std::vector<std::int8_t> votes_;  // by position: 1 granted, -1 refused, 0 no answer yet
  std::vector<log_index> scratch_;
};

}  // namespace quorum::raft
