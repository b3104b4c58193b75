// The configuration of a Raft group: a membership (voters, the outgoing
// voters of a joint configuration, learners) as a value with its wire form,
// and the configuration a node works with: members by position, and how a
// quorum is reached for an election and for commitment. In a joint
// configuration (§6, thesis §4.3) both majorities are required.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "quorum/codec/reader.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/error.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"

namespace quorum::raft {

enum class vote_result : std::uint8_t { pending, won, lost };

// Who is in the group. outgoing is empty except in a joint configuration,
// where it holds the old voters; a node may then be an outgoing voter and a
// learner at once (a voter being demoted). Lists are kept sorted.
struct membership {
  std::vector<node_id> voters;
  std::vector<node_id> outgoing;
  std::vector<node_id> learners;

  [[nodiscard]] bool joint() const noexcept { return !outgoing.empty(); }
  friend bool operator==(const membership&, const membership&) = default;
};

[[nodiscard]] inline bool contains(std::span<const node_id> sorted, node_id n) noexcept {
  return std::binary_search(sorted.begin(), sorted.end(), n);
}

// Sorts each list; then every voter list non-empty where it must be, no node
// 0, no duplicate, no learner among the incoming voters.
[[nodiscard]] inline result<void> normalize(membership& m) {
  auto check = [](std::vector<node_id>& v) -> result<void> {
    std::sort(v.begin(), v.end());
    if (!v.empty() && v.front() == no_node) return fail(errc::invalid_config, "raft: node id 0 in the configuration");
    if (std::adjacent_find(v.begin(), v.end()) != v.end())
      return fail(errc::invalid_config, "raft: a member is listed twice");
    return {};
  };
  QUORUM_TRY(check(m.voters));
  QUORUM_TRY(check(m.outgoing));
  QUORUM_TRY(check(m.learners));
  if (m.voters.empty()) return fail(errc::invalid_config, "raft: the configuration has no voter");
  for (node_id l : m.learners)
    if (contains(m.voters, l)) return fail(errc::invalid_config, "raft: a node is both voter and learner", l.value());
  return {};
}

inline constexpr std::uint8_t membership_version = 1;

// The data of a configuration entry and of a snapshot's configuration.
inline void encode(const membership& m, byte_buffer& out) {
  codec::writer w{out};
  w.u8(membership_version);
  for (const auto* list : {&m.voters, &m.outgoing, &m.learners}) {
    w.varint(list->size());
    for (node_id n : *list) w.varint(n.value());
  }
}

// Total; the result is normalized (a configuration no leader could write is malformed).
[[nodiscard]] inline result<membership> decode_membership(byte_view b) {
  codec::reader r{b};
  auto version = r.u8();
  if (!version) return unexpected{version.error()};
  if (*version != membership_version) return fail(errc::malformed, "raft configuration: unknown version", *version);
  membership m;
  for (auto* list : {&m.voters, &m.outgoing, &m.learners}) {
    auto n = r.count(std::size_t{1} << 16);
    if (!n) return unexpected{n.error()};
    if (*n > r.remaining()) return fail(errc::truncated, "raft configuration: count past the input", r.position());
    for (std::size_t i = 0; i < *n; ++i) {
      auto id = r.varint();
      if (!id) return unexpected{id.error()};
      list->push_back(node_id{*id});
    }
  }
  QUORUM_TRY(r.expect_end());
  if (auto ok = normalize(m); !ok) return fail(errc::malformed, ok.error().what, ok.error().detail);
  return m;
}

class configuration {
 public:
  static constexpr std::size_t npos = ~std::size_t{0};

  // A bootstrap configuration: every member a voter, self among them.
  [[nodiscard]] static result<void> validate(node_id self, std::span<const node_id> members) {
    if (self == no_node) return fail(errc::invalid_config, "raft: node id 0 is reserved for 'no node'");
    if (members.empty()) return fail(errc::invalid_config, "raft: the configuration is empty");
    raft::membership m{{members.begin(), members.end()}, {}, {}};
    QUORUM_TRY(normalize(m));
    if (!contains(m.voters, self)) return fail(errc::invalid_config, "raft: this node is not a member", self.value());
    return {};
  }

  configuration() = default;
  // members must have passed validate().
  configuration(node_id self, std::span<const node_id> members)
      : configuration(self, raft::membership{{members.begin(), members.end()}, {}, {}}) {}
  // m must be normalized; self need not be in it (a joining or removed node).
  configuration(node_id self, raft::membership m) : membership_{std::move(m)} {
    std::sort(membership_.voters.begin(), membership_.voters.end());
    for (const auto* list : {&membership_.voters, &membership_.outgoing, &membership_.learners})
      members_.insert(members_.end(), list->begin(), list->end());
    std::sort(members_.begin(), members_.end());
    members_.erase(std::unique(members_.begin(), members_.end()), members_.end());
    flags_.assign(members_.size(), 0);
    for (std::size_t i = 0; i < members_.size(); ++i) {
      if (contains(membership_.voters, members_[i])) flags_[i] |= incoming_voter;
      if (contains(membership_.outgoing, members_[i])) flags_[i] |= outgoing_voter;
    }
    for (std::size_t i = 0; i < members_.size() && members_[i].value() < small_ids; ++i)
      by_small_id_[members_[i].value()] = static_cast<std::uint8_t>(i);  // sorted: i <= the id < small_ids
    for (std::size_t i = 0; i < members_.size(); ++i)
      if ((flags_[i] & incoming_voter) != 0) incoming_.push_back(i);
    self_ = position_of(self);
    votes_.assign(members_.size(), 0);
    scratch_.reserve(members_.size());
  }

  [[nodiscard]] const raft::membership& membership() const noexcept { return membership_; }
  [[nodiscard]] bool joint() const noexcept { return membership_.joint(); }
  // Every node that receives the log: voters of both sides and learners.
  [[nodiscard]] std::span<const node_id> members() const noexcept { return members_; }
  [[nodiscard]] std::size_t size() const noexcept { return members_.size(); }
  // Our position, or npos when we are not in this configuration.
  [[nodiscard]] std::size_t self() const noexcept { return self_; }
  [[nodiscard]] node_id at(std::size_t i) const noexcept { return members_[i]; }
  [[nodiscard]] bool is_voter(std::size_t i) const noexcept { return i < flags_.size() && flags_[i] != 0; }
  [[nodiscard]] bool self_is_voter() const noexcept { return is_voter(self_); }
  [[nodiscard]] bool self_is_incoming_voter() const noexcept {
    return self_ != npos && (flags_[self_] & incoming_voter) != 0;
  }
  // The majority of the incoming voters (the only one outside a joint configuration).
  [[nodiscard]] std::size_t quorum() const noexcept { return membership_.voters.size() / 2 + 1; }

  // Every message asks this: small ids (the usual 1..N) are one table load.
  [[nodiscard]] std::size_t position_of(node_id n) const noexcept {
    if (n.value() < small_ids) {
      const std::uint8_t p = by_small_id_[n.value()];
      return p == absent ? npos : p;
    }
    return search_position(n);
  }

  // A new poll, in which we vote for ourselves if we are a voter.
  void start_poll() {
    std::fill(votes_.begin(), votes_.end(), std::int8_t{0});
    if (self_is_voter()) votes_[self_] = 1;
  }

  // Only a member's first answer in a poll counts.
  void record_vote(std::size_t member, bool granted) noexcept {
    if (member < votes_.size() && votes_[member] == 0) votes_[member] = granted ? 1 : -1;
  }

  // Won when every side's majority granted; lost when any side's majority refused.
  [[nodiscard]] vote_result tally() const noexcept {
    const vote_result in = tally_side(incoming_voter);
    if (!joint()) return in;
    const vote_result out = tally_side(outgoing_voter);
    if (in == vote_result::lost || out == vote_result::lost) return vote_result::lost;
    if (in == vote_result::won && out == vote_result::won) return vote_result::won;
    return vote_result::pending;
  }

  // True when the voters for which counts(position) holds form a quorum of every side.
  template <class Counts>
  [[nodiscard]] bool has_quorum(Counts&& counts) const {
    auto side = [&](std::uint8_t flag) {
      std::size_t yes = 0, all = 0;
      for (std::size_t i = 0; i < members_.size(); ++i) {
        if ((flags_[i] & flag) == 0) continue;
        ++all;
        yes += counts(i) ? 1 : 0;
      }
      return yes >= all / 2 + 1;
    };
    return side(incoming_voter) && (!joint() || side(outgoing_voter));
  }

  // The highest index held by a quorum of every side, given each member's match.
  template <class MatchOf>
  [[nodiscard]] log_index quorum_index(MatchOf&& match_of) {
    if (incoming_.size() == 3 && !joint()) {  // the usual group: the median of three
      const log_index a = match_of(incoming_[0]), b = match_of(incoming_[1]), c = match_of(incoming_[2]);
      return std::max(std::min(a, b), std::min(std::max(a, b), c));
    }
    const log_index in = side_index(incoming_voter, match_of);
    return joint() ? std::min(in, side_index(outgoing_voter, match_of)) : in;
  }

 private:
  static constexpr std::size_t small_side = 7;
  static constexpr std::size_t small_ids = 16;
  static constexpr std::uint8_t absent = 0xff;
  static constexpr std::uint8_t incoming_voter = 1;
  static constexpr std::uint8_t outgoing_voter = 2;

  [[nodiscard]] std::size_t search_position(node_id n) const noexcept {
    // A scan beats a binary search on a small group.
    if (members_.size() <= 8) {
      for (std::size_t i = 0; i < members_.size(); ++i)
        if (members_[i] == n) return i;
      return npos;
    }
    auto it = std::lower_bound(members_.begin(), members_.end(), n);
    return it != members_.end() && *it == n ? static_cast<std::size_t>(it - members_.begin()) : npos;
  }

  [[nodiscard]] static constexpr std::array<std::uint8_t, small_ids> filled_absent() noexcept {
    std::array<std::uint8_t, small_ids> a{};
    a.fill(absent);
    return a;
  }

  [[nodiscard]] vote_result tally_side(std::uint8_t flag) const noexcept {
    std::size_t granted = 0, refused = 0, all = 0;
    for (std::size_t i = 0; i < members_.size(); ++i) {
      if ((flags_[i] & flag) == 0) continue;
      ++all;
      if (votes_[i] > 0) ++granted;
      else if (votes_[i] < 0) ++refused;
    }
    if (granted >= all / 2 + 1) return vote_result::won;
    if (refused >= all / 2 + 1) return vote_result::lost;
    return vote_result::pending;
  }

  // The q-th largest match of a side's voters, q its majority. Up to
  // small_side voters (every usual group) an insertion sort on the stack
  // does it in a few compares; larger sides use nth_element.
  template <class MatchOf>
  [[nodiscard]] log_index side_index(std::uint8_t flag, MatchOf& match_of) {
    std::array<log_index, small_side> v;
    std::size_t n = 0;
    for (std::size_t i = 0; i < members_.size(); ++i) {
      if ((flags_[i] & flag) == 0) continue;
      if (n == small_side) return large_side_index(flag, match_of);
      log_index x = match_of(i);
      std::size_t k = n++;
      for (; k > 0 && v[k - 1] < x; --k) v[k] = v[k - 1];  // descending
      v[k] = x;
    }
    if (n == 0) return log_index{};
    return v[n / 2];  // the (n/2 + 1)-th largest
  }

  template <class MatchOf>
  [[nodiscard]] log_index large_side_index(std::uint8_t flag, MatchOf& match_of) {
    scratch_.clear();
    for (std::size_t i = 0; i < members_.size(); ++i)
      if ((flags_[i] & flag) != 0) scratch_.push_back(match_of(i));
    if (scratch_.empty()) return log_index{};
    const std::size_t q = scratch_.size() / 2 + 1;
    const auto nth = scratch_.begin() + static_cast<std::ptrdiff_t>(q - 1);
    std::nth_element(scratch_.begin(), nth, scratch_.end(), std::greater<>{});
    return *nth;
  }

  raft::membership membership_;
  std::vector<node_id> members_;
  std::vector<std::uint8_t> flags_;  // by position: incoming_voter | outgoing_voter; 0 = learner
  std::size_t self_{npos};
  std::array<std::uint8_t, small_ids> by_small_id_ = filled_absent();  // position by id, for ids < small_ids
  std::vector<std::size_t> incoming_;  // positions of the incoming voters
  std::vector<std::int8_t> votes_;  // by position: 1 granted, -1 refused, 0 no answer yet
  std::vector<log_index> scratch_;
};

}  // namespace quorum::raft
