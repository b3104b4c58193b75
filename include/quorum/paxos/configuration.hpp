// A Multi-Paxos configuration as a value: the voters (the acceptors every
// phase-1 and phase-2 quorum is drawn from) and the learners (they receive
// chosen values, never accept, never lead), with its checks and its wire form,
// the data of a configuration command in the log. Field names follow
// raft::membership, so code written against one reads the other.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "quorum/codec/reader.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/error.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"
#include "quorum/paxos/quorums.hpp"

namespace quorum::paxos {

struct configuration {
  std::vector<node_id> voters;    // kept sorted
  std::vector<node_id> learners;  // kept sorted

  // No voters: a joining node that has not learned its configuration yet.
  [[nodiscard]] bool unknown() const noexcept { return voters.empty(); }
  friend bool operator==(const configuration&, const configuration&) = default;
};

[[nodiscard]] inline bool contains(std::span<const node_id> sorted, node_id n) noexcept {
  return std::binary_search(sorted.begin(), sorted.end(), n);
}

// Sorts both lists; then at least one voter, no node 0, no one twice, at
// most max_members nodes in all, and quorums of sizes q1, q2 (0: a majority)
// that exist among the voters and intersect (flexible quorums).
[[nodiscard]] inline result<void> normalize(configuration& c, std::size_t q1, std::size_t q2) {
  std::sort(c.voters.begin(), c.voters.end());
  std::sort(c.learners.begin(), c.learners.end());
  if (c.voters.empty()) return fail(errc::invalid_config, "paxos: the configuration has no voter");
  for (const auto* list : {&c.voters, &c.learners}) {
    if (!list->empty() && list->front() == no_node)
      return fail(errc::invalid_config, "paxos: node id 0 in the configuration");
    if (std::adjacent_find(list->begin(), list->end()) != list->end())
      return fail(errc::invalid_config, "paxos: a member is listed twice");
  }
  for (node_id l : c.learners)
    if (contains(c.voters, l)) return fail(errc::invalid_config, "paxos: a node is both voter and learner", l.value());
  if (c.voters.size() + c.learners.size() > max_members)
    return fail(errc::invalid_config, "paxos: more members than paxos::max_members", max_members);
  return membership::validate_quorums(c.voters.size(), q1, q2);
}

inline constexpr std::uint8_t configuration_version = 1;

// Layout: u8 version, then voters and learners, each a varint count and varint ids.
inline void encode(const configuration& c, byte_buffer& out) {
  codec::writer w{out};
  w.u8(configuration_version);
  for (const auto* list : {&c.voters, &c.learners}) {
    w.varint(list->size());
    for (node_id n : *list) w.varint(n.value());
  }
}

namespace detail {

[[nodiscard]] inline result<configuration> read_configuration(codec::reader& r) {
  auto version = r.u8();
  if (!version) return unexpected{version.error()};
  if (*version != configuration_version)
    return fail(errc::malformed, "paxos configuration: unknown version", *version);
  configuration c;
  for (auto* list : {&c.voters, &c.learners}) {
    auto n = r.count(max_members);
    if (!n) return unexpected{n.error()};
    if (*n > r.remaining()) return fail(errc::truncated, "paxos configuration: count past the input", r.position());
    for (std::size_t i = 0; i < *n; ++i) {
      auto id = r.varint();
      if (!id) return unexpected{id.error()};
      list->push_back(node_id{*id});
    }
  }
  return c;
}

}  // namespace detail

// Total: the configuration a leader could have written (quorum sizes are
// the reader's own, checked where the configuration is used), or an error.
[[nodiscard]] inline result<configuration> decode_configuration(byte_view b) {
  codec::reader r{b};
  auto c = detail::read_configuration(r);
  if (!c) return c;
  QUORUM_TRY(r.expect_end());
  if (auto ok = normalize(*c, 0, 0); !ok) return fail(errc::malformed, ok.error().what, ok.error().detail);
  return c;
}

}  // namespace quorum::paxos
