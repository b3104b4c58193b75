// Two-phase commit's messages and their wire codec. A message is a plain
// struct; its participant list is a view (into the sender's state, or into the
// decoder's scratch), valid only during the send() or receive() that carries it.
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

enum class message_type : std::uint8_t {
  prepare = 1,  // coordinator -> participant: vote on txn
  vote,         // participant -> coordinator: `vote`
  decision,     // the outcome, from the coordinator or (termination) from a peer
  ack,          // participant -> coordinator: the decision that needed it is durable
  inquiry,      // an in-doubt participant asks the coordinator or a peer for the outcome
  one_phase,    // coordinator -> the single participant: prepare and decide yourself
  outcome,      // that participant -> coordinator: what it decided
};

inline constexpr std::uint8_t max_message_type = static_cast<std::uint8_t>(message_type::outcome);

// Which fields mean what:
//   every message:  txn; coordinator = the node coordinating txn
//   from the coordinator: horizon = no txn id below it needs anything more from
//                   the receiver (it may forget those and refuse their prepares)
//   prepare:        presumption; participants = every participant of txn (so an
//                   in-doubt one can ask its peers: cooperative termination)
//   vote:           vote
//   decision, outcome: decision
struct message {
  message_type type{message_type::prepare};
  node_id from{};
  node_id to{};
  txn_id txn{};
  node_id coordinator{};
  txn_id horizon{};
  two_phase_commit::presumption presumption{presumption::abort};
  two_phase_commit::vote vote{vote::no};
  two_phase_commit::decision decision{decision::abort};
  std::span<const node_id> participants{};
};

// Bounds applied while decoding, before anything is sized by the input.
struct message_limits {
  std::size_t max_participants = 1024;
};

inline constexpr std::uint8_t wire_version = 1;

// Layout: u8 version, u8 type, varints from to txn coordinator horizon, u8
// presumption, u8 vote, u8 decision, varint count, varint per participant.
inline void encode(const message& m, byte_buffer& out) {
  codec::writer w{out};
  w.u8(wire_version);
  w.u8(static_cast<std::uint8_t>(m.type));
  w.varint(m.from.value());
  w.varint(m.to.value());
  w.varint(m.txn.value());
  w.varint(m.coordinator.value());
  w.varint(m.horizon.value());
  w.u8(static_cast<std::uint8_t>(m.presumption));
  w.u8(static_cast<std::uint8_t>(m.vote));
  w.u8(static_cast<std::uint8_t>(m.decision));
  w.varint(m.participants.size());
  for (const node_id n : m.participants) w.varint(n.value());
}

namespace detail {

// An enum field whose valid values are 1..max.
[[nodiscard]] inline result<std::uint8_t> small_enum(codec::reader& r, std::uint8_t max, const char* what) {
  auto v = r.u8();
  if (!v) return unexpected{v.error()};
  if (*v == 0 || *v > max) return fail(errc::malformed, what, r.position());
  return *v;
}

}  // namespace detail

// Total: any byte string gives a message or an error naming the offset.
// storage is the caller's reusable scratch (cleared here) that the message's
// participants view.
[[nodiscard]] inline result<message> decode(byte_view in, std::vector<node_id>& storage,
                                            const message_limits& limits = {}) {
  storage.clear();
  codec::reader r{in};
  auto version = r.u8();
  if (!version) return unexpected{version.error()};
  if (*version != wire_version) return fail(errc::malformed, "2pc message: unknown version", *version);
  auto type = detail::small_enum(r, max_message_type, "2pc message: unknown type");
  if (!type) return unexpected{type.error()};
  std::uint64_t fields[5];
  for (auto& f : fields) {
    auto v = r.varint();
    if (!v) return unexpected{v.error()};
    f = *v;
  }
  auto pres = detail::small_enum(r, 2, "2pc message: unknown presumption");
  if (!pres) return unexpected{pres.error()};
  auto v = detail::small_enum(r, 3, "2pc message: unknown vote");
  if (!v) return unexpected{v.error()};
  auto d = detail::small_enum(r, 2, "2pc message: unknown decision");
  if (!d) return unexpected{d.error()};
  auto count = r.count(limits.max_participants);
  if (!count) return unexpected{count.error()};
  // Each id takes at least one byte: a count past the input is a lie.
  if (*count > r.remaining()) return fail(errc::truncated, "2pc message: participant count past the input", r.position());
  for (std::size_t i = 0; i < *count; ++i) {
    auto id = r.varint();
    if (!id) return unexpected{id.error()};
    storage.push_back(node_id{*id});
  }
  QUORUM_TRY(r.expect_end());
  message m;
  m.type = static_cast<message_type>(*type);
  m.from = node_id{fields[0]};
  m.to = node_id{fields[1]};
  m.txn = txn_id{fields[2]};
  m.coordinator = node_id{fields[3]};
  m.horizon = txn_id{fields[4]};
  m.presumption = static_cast<two_phase_commit::presumption>(*pres);
  m.vote = static_cast<two_phase_commit::vote>(*v);
  m.decision = static_cast<two_phase_commit::decision>(*d);
  m.participants = storage;
  return m;
}

[[nodiscard]] constexpr const char* to_string(message_type t) noexcept {
  switch (t) {
    case message_type::prepare: return "prepare";
    case message_type::vote: return "vote";
    case message_type::decision: return "decision";
    case message_type::ack: return "ack";
    case message_type::inquiry: return "inquiry";
    case message_type::one_phase: return "one_phase";
    case message_type::outcome: return "outcome";
  }
  return "unknown";
}

}  // namespace quorum::two_phase_commit
