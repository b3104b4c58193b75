// Strong identifier types shared by every protocol: node ids, Raft terms,
// log positions and Paxos ballots. Distinct types so that a term can never be
// passed where an index is expected; each is a plain integer in memory.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace quorum {

// A value of Rep that only compares with values of the same Tag.
template <class Tag, class Rep = std::uint64_t>
class strong_id {
 public:
  using rep = Rep;

  constexpr strong_id() noexcept = default;
  constexpr explicit strong_id(Rep value) noexcept : value_{value} {}

  [[nodiscard]] constexpr Rep value() const noexcept { return value_; }

  constexpr auto operator<=>(const strong_id&) const noexcept = default;
  constexpr bool operator==(const strong_id&) const noexcept = default;

 private:
  Rep value_{};
};

// A member of a cluster. 0 is reserved for "no node" (no vote, no leader).
using node_id = strong_id<struct node_id_tag>;
inline constexpr node_id no_node{};

// A Raft term: a logical clock that only moves forward.
using term_id = strong_id<struct term_id_tag>;

// The highest term a Raft node takes from a message, its Log or a snapshot.
// A cluster moves up one term per election and never comes near it, so a
// higher term is damaged or forged input, refused; and a node at this term
// campaigns no more, so its next term never wraps around to a lower one,
// which would take back its votes. (ballot::max_round is the Paxos bound.)
inline constexpr std::uint64_t max_term = std::uint64_t{1} << 62;

// A position in a log. Positions start at 1; 0 means "before the first entry".
class log_index : public strong_id<struct log_index_tag> {
 public:
  using strong_id::strong_id;

  [[nodiscard]] constexpr log_index next() const noexcept { return log_index{value() + 1}; }
  [[nodiscard]] constexpr log_index prev() const noexcept { return log_index{value() - 1}; }
  [[nodiscard]] constexpr log_index operator+(std::uint64_t n) const noexcept {
    return log_index{value() + n};
  }
  [[nodiscard]] constexpr log_index operator-(std::uint64_t n) const noexcept {
    return log_index{value() - n};
  }
  // Number of positions in [rhs, *this).
  [[nodiscard]] constexpr std::uint64_t operator-(log_index rhs) const noexcept {
    return value() - rhs.value();
  }
  constexpr auto operator<=>(const log_index&) const noexcept = default;
  constexpr bool operator==(const log_index&) const noexcept = default;
};

// A Paxos ballot, totally ordered by (round, node): two proposers never share one.
struct ballot {
  // The highest round a node takes from a message or its Log. A cluster
  // moves up one round per election and never comes near it, so a higher
  // round is damaged or forged input, refused; and a node at this round
  // starts no ballot above it (exhausted()), so the next round never wraps
  // around to a lower ballot, which would take back the node's promises.
  static constexpr std::uint64_t max_round = std::uint64_t{1} << 62;

  std::uint64_t round{0};
  node_id node{};

  // Whether a round this high may come from a message or a Log.
  [[nodiscard]] constexpr bool in_range() const noexcept { return round <= max_round; }
  // Whether no proposer may go above this ballot (see max_round).
  [[nodiscard]] constexpr bool exhausted() const noexcept { return round >= max_round; }
  // The next round, for proposer; not for an exhausted() ballot.
  [[nodiscard]] constexpr ballot next_for(node_id proposer) const noexcept {
    return ballot{round + 1, proposer};
  }
  constexpr auto operator<=>(const ballot&) const noexcept = default;
  constexpr bool operator==(const ballot&) const noexcept = default;
};

}  // namespace quorum

template <class Tag, class Rep>
struct std::hash<quorum::strong_id<Tag, Rep>> {
  std::size_t operator()(quorum::strong_id<Tag, Rep> id) const noexcept {
    return std::hash<Rep>{}(id.value());
  }
};

template <>
struct std::hash<quorum::log_index> {
  std::size_t operator()(quorum::log_index i) const noexcept {
    return std::hash<std::uint64_t>{}(i.value());
  }
};
