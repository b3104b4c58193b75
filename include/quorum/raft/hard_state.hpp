// The Raft hard state: the current term and the vote cast in it, kept in the
// Log's state blob. Both must be durable before a vote or a vote request
// leaves the node (§5.2, DESIGN.md principle 5); node.hpp enforces that.
#pragma once

#include <cstdint>

#include "quorum/codec/reader.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"

namespace quorum::raft {

struct hard_state {
  term_id term{};
  node_id vote{};  // no_node: no vote cast in `term`

  friend constexpr bool operator==(const hard_state&, const hard_state&) noexcept = default;
};

inline constexpr std::uint8_t hard_state_version = 1;

inline void encode_hard_state(const hard_state& s, byte_buffer& out) {
  codec::writer w{out};
  w.u8(hard_state_version);
  w.varint(s.term.value());
  w.varint(s.vote.value());
}

// An empty blob is a new node: term 0, no vote.
[[nodiscard]] inline result<hard_state> decode_hard_state(byte_view b) noexcept {
  if (b.empty()) return hard_state{};
  codec::reader r{b};
  auto version = r.u8();
  if (!version) return unexpected{version.error()};
  if (*version != hard_state_version) return fail(errc::malformed, "raft hard state: unknown version", *version);
  auto term = r.varint();
  if (!term) return unexpected{term.error()};
  auto vote = r.varint();
  if (!vote) return unexpected{vote.error()};
  QUORUM_TRY(r.expect_end());
  if (*term > max_term) return fail(errc::malformed, "raft hard state: term out of range", *term);
  return hard_state{term_id{*term}, node_id{*vote}};
}

}  // namespace quorum::raft
