// Paxos Commit's messages (Gray & Lamport 2006) and their total wire codec.
// Separate from classic 2PC's message: the two protocols never share a wire.
// Spans view the sender's state or the decoder's scratch, valid during one call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "quorum/codec/reader.hpp"
#include "quorum/codec/varint.hpp"
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
  resolved,  // RM -> leader or acceptor: its outcome (or refusal to vote) is durable here, for each txn in batch
  forget,    // leader -> acceptor: every RM has resolved each txn in batch; drop them
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

// One transaction named in a batched forgetting message: RMs remember
// forgotten txns per origin (the node that began it).
struct pc_txn_ref {
  txn_id txn{};
  node_id origin{};
  friend constexpr bool operator==(const pc_txn_ref&, const pc_txn_ref&) noexcept = default;
};

// Fields by type: every message but resolved and forget has txn, origin (the
// node that began txn: RMs remember forgotten txns per origin) and leader (the
// node collecting the phase 2b answers). prepare, phase2a and phase1a carry
// participants (the sorted RMs: instance i is participants[i]). phase1a and
// nack use bal; phase2a, phase2b and phase1b use entries; decision uses
// decision. resolved and forget name their txns in batch (txn is 0): one
// message per tick and destination, however many txns finished.
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
  std::span<const pc_txn_ref> batch{};
};

[[nodiscard]] constexpr bool is_batched(pc_message_type t) noexcept {
  return t == pc_message_type::resolved || t == pc_message_type::forget;
}

struct pc_message_limits {
  std::size_t max_participants = 1024;
  std::size_t max_batch = 1024;  // txns in one resolved or forget
};

// 2: origin, and the forgetting messages; 3: resolved and forget batched.
inline constexpr std::uint8_t pc_wire_version = 3;

namespace detail {

// The most bytes a message with np participants, ne entries and nb batched txns can take.
[[nodiscard]] constexpr std::size_t pc_max_size(std::size_t np, std::size_t ne, std::size_t nb) noexcept {
  return 3 + (10 + np + 2 * nb) * codec::max_varint_bytes + ne * (3 * codec::max_varint_bytes + 1);
}

}  // namespace detail

namespace detail {

// Writes m at p, which has room for pc_max_size; returns the end.
inline std::byte* pc_write(const pc_message& m, std::byte* p) noexcept {
  const auto put = [&p](std::uint64_t v) { p += codec::encode_varint(v, p); };
  *p++ = std::byte{pc_wire_version};
  *p++ = static_cast<std::byte>(m.type);
  put(m.from.value());
  put(m.to.value());
  put(m.txn.value());
  put(m.origin.value());
  put(m.leader.value());
  put(m.bal.round);
  put(m.bal.node.value());
  *p++ = static_cast<std::byte>(m.decision);
  put(m.participants.size());
  for (const node_id n : m.participants) put(n.value());
  put(m.entries.size());
  for (const pc_entry& e : m.entries) {
    put(e.instance.value());
    put(e.bal.round);
    put(e.bal.node.value());
    *p++ = static_cast<std::byte>(e.value);
  }
  put(m.batch.size());
  for (const pc_txn_ref& t : m.batch) {
    put(t.txn.value());
    put(t.origin.value());
  }
  return p;
}

}  // namespace detail

// Appends m's bytes (the same as codec::writer would write), written
// straight into memory rather than pushed a byte at a time: a small message
// on the stack, then one copy; a large one into room made in out.
inline void encode(const pc_message& m, byte_buffer& out) {
  constexpr std::size_t small = 256;
  const std::size_t max = detail::pc_max_size(m.participants.size(), m.entries.size(), m.batch.size());
  if (max <= small) {
    std::byte tmp[small];
    std::byte* const end = detail::pc_write(m, tmp);
    out.insert(out.end(), &tmp[0], end);
    return;
  }
  const std::size_t start = out.size();
  out.resize(start + max);
  const std::byte* const end = detail::pc_write(m, out.data() + start);
  out.resize(static_cast<std::size_t>(end - out.data()));
}

// Decoder scratch, reused between calls so a steady stream allocates nothing.
struct pc_scratch {
  std::vector<node_id> participants;
  std::vector<pc_entry> entries;
  std::vector<pc_txn_ref> batch;
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

namespace detail {

// Field by field through codec::reader: names the offset of what is wrong.
[[nodiscard]] inline result<pc_message> decode_checked(byte_view in, pc_scratch& s, const pc_message_limits& limits) {
  s.participants.clear();
  s.entries.clear();
  s.batch.clear();
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
    if (g[1] > ballot::max_round)
      return fail(errc::malformed, "paxos commit message: entry ballot round out of range", g[1]);
    s.entries.push_back(pc_entry{node_id{g[0]}, ballot{g[1], node_id{g[2]}}, static_cast<pc_value>(*val)});
  }
  auto nb = detail::pc_count(r, limits.max_batch, 2);
  if (!nb) return unexpected{nb.error()};
  for (std::size_t i = 0; i < *nb; ++i) {
    auto t = r.varint();
    if (!t) return unexpected{t.error()};
    auto o = r.varint();
    if (!o) return unexpected{o.error()};
    s.batch.push_back(pc_txn_ref{txn_id{*t}, node_id{*o}});
  }
  QUORUM_TRY(r.expect_end());
  if (f[5] > ballot::max_round) return fail(errc::malformed, "paxos commit message: ballot round out of range", f[5]);
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
  m.batch = s.batch;
  return m;
}

// Reads varints and bounded bytes straight off the input; a failure only
// clears ok (and reads nothing), so the caller checks once per section.
struct pc_cursor {
  const std::byte* p;
  const std::byte* end;
  bool ok{true};

  [[nodiscard]] std::size_t left() const noexcept { return static_cast<std::size_t>(end - p); }
  // Most varints (ids, small ballots, counts) are one byte.
  [[gnu::always_inline]] std::uint64_t varint() noexcept {
    if (p != end && static_cast<std::uint8_t>(*p) < 0x80) return static_cast<std::uint8_t>(*p++);
    return long_varint();
  }
  [[gnu::noinline]] std::uint64_t long_varint() noexcept {
    const codec::varint_parse v = codec::parse_varint(byte_view{p, left()});
    ok &= v.ok();
    p += v.size;
    return v.value;
  }
  [[gnu::always_inline]] std::uint8_t byte_in(std::uint8_t lo, std::uint8_t hi) noexcept {
    if (p == end) {
      ok = false;
      return lo;
    }
    const auto b = static_cast<std::uint8_t>(*p++);
    ok &= b >= lo && b <= hi;
    return b;
  }
};

// The same rules as decode_checked, read straight off the bytes. False on
// anything it does not accept; decode() then asks decode_checked() what is wrong.
[[nodiscard]] inline bool decode_fast(byte_view in, pc_scratch& s, const pc_message_limits& limits, pc_message& m) {
  pc_cursor c{in.data(), in.data() + in.size()};
  if (c.byte_in(pc_wire_version, pc_wire_version) != pc_wire_version || !c.ok) return false;
  m.type = static_cast<pc_message_type>(c.byte_in(1, max_pc_message_type));
  m.from = node_id{c.varint()};
  m.to = node_id{c.varint()};
  m.txn = txn_id{c.varint()};
  m.origin = node_id{c.varint()};
  m.leader = node_id{c.varint()};
  m.bal.round = c.varint();
  m.bal.node = node_id{c.varint()};
  m.decision = static_cast<two_phase_commit::decision>(c.byte_in(1, 2));
  const std::uint64_t np = c.varint();
  if (!c.ok || np > limits.max_participants || np > c.left()) return false;
  s.participants.resize(static_cast<std::size_t>(np));
  for (node_id& n : s.participants) n = node_id{c.varint()};
  const std::uint64_t ne = c.varint();
  if (!c.ok || ne > limits.max_participants || ne > c.left() / 4) return false;
  s.entries.resize(static_cast<std::size_t>(ne));
  for (pc_entry& e : s.entries) {
    e.instance = node_id{c.varint()};
    e.bal.round = c.varint();
    e.bal.node = node_id{c.varint()};
    e.value = static_cast<pc_value>(c.byte_in(0, 2));
  }
  const std::uint64_t nb = c.varint();
  if (!c.ok || nb > limits.max_batch || nb > c.left() / 2) return false;
  s.batch.resize(static_cast<std::size_t>(nb));
  for (pc_txn_ref& t : s.batch) {
    t.txn = txn_id{c.varint()};
    t.origin = node_id{c.varint()};
  }
  if (!c.ok || c.p != c.end) return false;
  if (!m.bal.in_range()) return false;  // decode_checked() names it
  for (const pc_entry& e : s.entries)
    if (!e.bal.in_range()) return false;
  m.participants = s.participants;
  m.entries = s.entries;
  m.batch = s.batch;
  return true;
}

}  // namespace detail

// Total: any byte string yields a message or an error naming the offset.
[[nodiscard]] inline result<pc_message> decode(byte_view in, pc_scratch& s, const pc_message_limits& limits = {}) {
  pc_message m;
  if (detail::decode_fast(in, s, limits, m)) return m;
  return detail::decode_checked(in, s, limits);
}

// What decode() guarantees of a message, for one handed over as a struct
// (receive(const pc_message&)): every enum in range and every list within
// the limits. Whatever it does not guarantee the node checks on both paths.
[[nodiscard]] inline bool well_formed(const pc_message& m, const pc_message_limits& limits) noexcept {
  const auto type = static_cast<std::uint8_t>(m.type);
  const auto d = static_cast<std::uint8_t>(m.decision);
  if (type < 1 || type > max_pc_message_type || d < 1 || d > 2) return false;
  if (m.participants.size() > limits.max_participants || m.entries.size() > limits.max_participants ||
      m.batch.size() > limits.max_batch)
    return false;
  if (!m.bal.in_range()) return false;  // ballot::max_round: damaged or forged
  for (const pc_entry& e : m.entries)
    if (static_cast<std::uint8_t>(e.value) > 2 || !e.bal.in_range()) return false;
  return true;
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
