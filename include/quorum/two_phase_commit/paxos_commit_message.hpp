// Paxos Commit's messages (Gray & Lamport 2006) and their total wire codec.
// Separate from classic 2PC's message: the two protocols never share a wire.
// Spans view the sender's state or the decoder's scratch, valid during one call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "quorum/codec/reader.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"
#include "quorum/two_phase_commit/types.hpp"

namespace quorum::two_phase_commit {

enum class pc_message_type : std::uint8_t {
  prepare = 1,  // leader -> RM: vote on txn by proposing your own instance
  phase2a,      // RM (fast path, round 1) or recovery leader -> acceptor
  phase2b,      // acceptor -> leader: what it accepted, all instances bundled
  phase1a,      // recovery leader -> acceptor: promise `bal` for every instance of txn
  phase1b,      // acceptor -> recovery leader: its accepted ballot and value per instance
  nack,         // acceptor -> proposer: refused; `bal` is the ballot it had promised
  decision,     // leader -> RM: the outcome
  // Forgetting finished transactions (paxos_commit.hpp, "forgetting"):
  resolved,  // RM -> leader or acceptor: its outcome (or its refusal to vote) is durable here
  forget,    // leader -> acceptor: every RM has resolved txn; drop it
  query,     // acceptor -> RM: have you resolved txn? (answered with resolved, or not at all)
};
inline constexpr std::uint8_t max_pc_message_type = static_cast<std::uint8_t>(pc_message_type::query);

// What an instance (one RM's synod) can choose. none: nothing accepted yet.
enum class pc_value : std::uint8_t { none = 0, prepared = 1, aborted = 2 };

// One instance's line in a bundled message. instance = the RM whose vote it is.
struct pc_entry {
  node_id instance{};
  ballot bal{};
  pc_value value{pc_value::none};
  friend constexpr bool operator==(const pc_entry&, const pc_entry&) noexcept = default;
};

// Fields by type: every message has txn, origin (the node that began txn: RMs
// remember forgotten txns per origin) and leader (the node collecting the
// phase 2b answers). prepare, phase2a and phase1a carry participants (the
// sorted RMs: instance i is participants[i]). phase1a and nack use bal;
// phase2a, phase2b and phase1b use entries; decision uses decision.
struct pc_message {
  pc_message_type type{pc_message_type::prepare};
  node_id from{};
  node_id to{};
  txn_id txn{};
  node_id origin{};
  node_id leader{};
  ballot bal{};
  two_phase_commit::decision decision{decision::abort};
  std::span<const node_id> participants{};
  std::span<const pc_entry> entries{};
};

struct pc_message_limits {
  std::size_t max_participants = 1024;
};

inline constexpr std::uint8_t pc_wire_version = 2;  // 2: origin, and the forgetting messages

inline void encode(const pc_message& m, byte_buffer& out) {
  codec::writer w{out};
  w.u8(pc_wire_version);
  w.u8(static_cast<std::uint8_t>(m.type));
  for (std::uint64_t v : {m.from.value(), m.to.value(), m.txn.value(), m.origin.value(), m.leader.value(),
                          m.bal.round, m.bal.node.value()})
    w.varint(v);
  w.u8(static_cast<std::uint8_t>(m.decision));
  w.varint(m.participants.size());
  for (const node_id n : m.participants) w.varint(n.value());
  w.varint(m.entries.size());
  for (const pc_entry& e : m.entries) {
    w.varint(e.instance.value());
    w.varint(e.bal.round);
    w.varint(e.bal.node.value());
    w.u8(static_cast<std::uint8_t>(e.value));
  }
}

// Decoder scratch, reused between calls so a steady stream allocates nothing.
struct pc_scratch {
  std::vector<node_id> participants;
  std::vector<pc_entry> entries;
};

namespace detail {

[[nodiscard]] inline result<std::uint8_t> pc_byte(codec::reader& r, std::uint8_t lo, std::uint8_t hi,
                                                  const char* what) {
  auto v = r.u8();
  if (!v) return unexpected{v.error()};
  if (*v < lo || *v > hi) return fail(errc::malformed, what, r.position());
  return *v;
}

[[nodiscard]] inline result<std::size_t> pc_count(codec::reader& r, std::size_t max, std::size_t min_bytes) {
  auto count = r.count(max);
  if (!count) return unexpected{count.error()};
  // Each item takes at least min_bytes: a count past the input is a lie.
  if (*count > r.remaining() / min_bytes)
    return fail(errc::truncated, "paxos commit message: count past the input", r.position());
  return *count;
}

}  // namespace detail

// Total: any byte string yields a message or an error naming the offset.
[[nodiscard]] inline result<pc_message> decode(byte_view in, pc_scratch& s, const pc_message_limits& limits = {}) {
  s.participants.clear();
  s.entries.clear();
  codec::reader r{in};
  auto version = r.u8();
  if (!version) return unexpected{version.error()};
  if (*version != pc_wire_version) return fail(errc::malformed, "paxos commit message: unknown version", *version);
  auto type = detail::pc_byte(r, 1, max_pc_message_type, "paxos commit message: unknown type");
  if (!type) return unexpected{type.error()};
  std::uint64_t f[7];
  for (auto& x : f) {
    auto v = r.varint();
    if (!v) return unexpected{v.error()};
    x = *v;
  }
  auto d = detail::pc_byte(r, 1, 2, "paxos commit message: unknown decision");
  if (!d) return unexpected{d.error()};
  auto np = detail::pc_count(r, limits.max_participants, 1);
  if (!np) return unexpected{np.error()};
  for (std::size_t i = 0; i < *np; ++i) {
    auto id = r.varint();
    if (!id) return unexpected{id.error()};
    s.participants.push_back(node_id{*id});
  }
  auto ne = detail::pc_count(r, limits.max_participants, 4);
  if (!ne) return unexpected{ne.error()};
  for (std::size_t i = 0; i < *ne; ++i) {
    std::uint64_t g[3];
    for (auto& x : g) {
      auto v = r.varint();
      if (!v) return unexpected{v.error()};
      x = *v;
    }
    auto val = detail::pc_byte(r, 0, 2, "paxos commit message: unknown value");
    if (!val) return unexpected{val.error()};
    s.entries.push_back(pc_entry{node_id{g[0]}, ballot{g[1], node_id{g[2]}}, static_cast<pc_value>(*val)});
  }
  QUORUM_TRY(r.expect_end());
  pc_message m;
  m.type = static_cast<pc_message_type>(*type);
  m.from = node_id{f[0]};
  m.to = node_id{f[1]};
  m.txn = txn_id{f[2]};
  m.origin = node_id{f[3]};
  m.leader = node_id{f[4]};
  m.bal = ballot{f[5], node_id{f[6]}};
  m.decision = static_cast<two_phase_commit::decision>(*d);
  m.participants = s.participants;
  m.entries = s.entries;
  return m;
}

[[nodiscard]] constexpr const char* to_string(pc_message_type t) noexcept {
  switch (t) {
    case pc_message_type::prepare: return "prepare";
    case pc_message_type::phase2a: return "phase2a";
    case pc_message_type::phase2b: return "phase2b";
    case pc_message_type::phase1a: return "phase1a";
    case pc_message_type::phase1b: return "phase1b";
    case pc_message_type::nack: return "nack";
    case pc_message_type::decision: return "decision";
    case pc_message_type::resolved: return "resolved";
    case pc_message_type::forget: return "forget";
    case pc_message_type::query: return "query";
  }
  return "unknown";
}

}  // namespace quorum::two_phase_commit
