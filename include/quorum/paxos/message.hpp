// Paxos's messages and their wire codec, shared by the synod register and the
// Multi-Paxos node. A message is a plain struct whose entries are views (into
// the sender's buffers or the received bytes): valid only during the call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "quorum/codec/reader.hpp"
#include "quorum/codec/varint.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"

namespace quorum::paxos {

enum class message_type : std::uint8_t {
  prepare = 1,         // phase 1a: "promise me `bal` for every slot from `slot` on"
  promise,             // phase 1b: accepted values from `slot` to `index`; reject: promised higher
  accept,              // phase 2a: entries to accept at `bal`; commit = the leader's chosen watermark
  accepted,            // phase 2b: slots `slot`..`index` accepted at `bal`; reject: promised higher
  heartbeat,           // the leader is alive; commit = its chosen watermark, slot = its read round;
                       // no_answer: it only announces a new watermark (no read round, slot 0)
  heartbeat_response,  // slot = the read round answered; reject: promised higher
  catchup_request,     // "send me the chosen values from `slot` on"
  catchup,             // chosen values (entries), contiguous from `slot`
  snapshot_chunk,      // bytes [index, index + size) of the image of `slot` (commit = image size), in entries[0]
  snapshot_ack,        // the image of `slot` is held up to `index` bytes; reject: resume there
};

inline constexpr std::uint8_t max_message_type = static_cast<std::uint8_t>(message_type::snapshot_ack);

// normal: a client's command. noop: what a new leader puts in a slot that no
// acceptor of its phase-1 quorum had accepted anything in; never applied.
// config: a configuration (configuration.hpp) for the slots α after its own;
// the node applies it, the state machine never sees it.
enum class entry_kind : std::uint8_t { normal = 0, noop = 1, config = 2 };
inline constexpr std::uint8_t max_entry_kind = 2;

// One slot's value, with the ballot it was accepted (or chosen) at.
struct entry {
  log_index slot{};
  ballot bal{};
  entry_kind kind{entry_kind::normal};
  byte_view data{};
};

// A promise that covers every slot from `slot` on says so with this `index`.
inline constexpr log_index all_slots{~std::uint64_t{0} >> 1};

struct message {
  message_type type{message_type::heartbeat};
  node_id from{};
  node_id to{};
  ballot bal{};        // the sender's ballot; in a reject, the higher ballot promised
  log_index slot{};
  log_index index{};
  log_index commit{};  // the sender's chosen watermark: every slot up to it is chosen
  bool reject{false};
  // On a heartbeat only: an acceptor that accepts it sends nothing back (one
  // that promised a higher ballot still rejects it). The leader's own
  // watermark announcement: nothing waits for its answers.
  bool no_answer{false};
  std::span<const entry> entries{};
};

// Bounds applied while decoding, before anything is sized by the input.
struct message_limits {
  std::size_t max_entries = 4096;
  std::size_t max_entry_bytes = std::size_t{16} << 20;
};

inline constexpr std::uint8_t wire_version = 1;
// Version 2: the entries are a run, consecutive slots at the message's own
// ballot (every accept a leader sends): the first slot is written once and
// each entry is only its kind and value. Written for such messages only;
// anything else is version 1, and both decode.
inline constexpr std::uint8_t wire_version_run = 2;

// Version 1 layout: u8 version, u8 type, varints from to round ballot-node
// slot index commit, u8 flags, varint count, then per entry varints slot
// round node, u8 kind, varint length and bytes. Version 2: the same up to the
// count, then (if any entries) varint first slot, then per entry u8 kind,
// varint length and bytes. Appends to out. The flags byte is bit 0 reject,
// bit 1 no_answer (a heartbeat's only): without no_answer it is the 0 or 1
// of the reject byte it was, so such messages are byte for byte as before,
// and a peer that knows only that byte drops a no_answer heartbeat as
// malformed (it learns the watermark from the next accept or heartbeat).
namespace detail {

inline constexpr std::uint8_t flag_reject = 1;
inline constexpr std::uint8_t flag_no_answer = 2;

// Whether m's entries can go as version 2.
[[nodiscard]] inline bool entries_are_run(const message& m) noexcept {
  if (m.entries.empty()) return false;
  const log_index first = m.entries.front().slot;
  for (std::size_t i = 0; i < m.entries.size(); ++i)
    if (m.entries[i].slot != first + i || m.entries[i].bal != m.bal) return false;
  return true;
}

// The most bytes encode() can write for m. The values' sizes are summed
// alone: with the per-entry constant inside the loop GCC 12 vectorized it
// through the stack (two 8-byte stores read back as one 16-byte load, a
// store-forwarding stall per pair of entries).
[[nodiscard]] inline std::size_t encoded_bound(const message& m) noexcept {
  std::size_t values = 0;
  for (const entry& e : m.entries) values += e.data.size();
  return 3 + 9 * codec::max_varint_bytes + m.entries.size() * (1 + 4 * codec::max_varint_bytes) + values;
}

// Writes m at p, which has room for encoded_bound(m) bytes; returns the end.
inline std::byte* encode_at(const message& m, std::byte* p) noexcept {
  const bool run = entries_are_run(m);
  const auto varint = [&p](std::uint64_t v) { p += codec::encode_varint(v, p); };
  *p++ = static_cast<std::byte>(run ? wire_version_run : wire_version);
  *p++ = static_cast<std::byte>(m.type);
  varint(m.from.value());
  varint(m.to.value());
  varint(m.bal.round);
  varint(m.bal.node.value());
  varint(m.slot.value());
  varint(m.index.value());
  varint(m.commit.value());
  const bool no_answer = m.no_answer && m.type == message_type::heartbeat;  // meaningless elsewhere: not written
  *p++ = static_cast<std::byte>((m.reject ? flag_reject : 0) | (no_answer ? flag_no_answer : 0));
  varint(m.entries.size());
  if (run) varint(m.entries.front().slot.value());
  for (const entry& e : m.entries) {
    if (!run) {
      varint(e.slot.value());
      varint(e.bal.round);
      varint(e.bal.node.value());
    }
    *p++ = static_cast<std::byte>(e.kind);
    varint(e.data.size());
    if (!e.data.empty()) std::memcpy(p, e.data.data(), e.data.size());
    p += e.data.size();
  }
  return p;
}

}  // namespace detail

// Appends m's encoding to out (codec::append_bounded: sized once, written
// straight in; in steady state out is cleared and reused).
inline void encode(const message& m, byte_buffer& out) {
  codec::append_bounded(out, detail::encoded_bound(m), [&m](std::byte* p) { return detail::encode_at(m, p); });
}

namespace detail {

// A ballot round past ballot::max_round: damaged or forged. Out of line and
// cold: inlined into decode(), these few instructions changed which calls
// GCC inlined elsewhere in the program (callgrind: +80 instructions per
// command in the Paxos benchmark, which never decodes).
[[nodiscard, gnu::cold, gnu::noinline]] inline unexpected<error> round_out_of_range(const char* what,
                                                                                     std::uint64_t round) {
  return unexpected{error{errc::malformed, what, round}};
}

[[nodiscard]] inline result<std::uint64_t> read_slot(codec::reader& r) {
  std::uint64_t v = 0;
  if (!r.varint_into(v)) return unexpected{r.varint().error()};
  if (v > all_slots.value()) return fail(errc::malformed, "paxos message: slot out of range", r.position());
  return v;
}

// Version 1's entries, each with its slot and ballot, to storage[0, count)
// as decode_run_entries() puts a run's; `used` is their count.
[[nodiscard]] inline result<void> decode_entries(codec::reader& r, const message_limits& limits,
                                                 std::vector<entry>& storage, std::size_t& used) {
  auto count = r.count(limits.max_entries);
  if (!count) return unexpected{count.error()};
  // An entry takes at least five bytes: a larger count is a lie, refused
  // before the storage can grow by it.
  if (*count > r.remaining() / 5)
    return fail(errc::truncated, "paxos message: entry count past the input", r.position());
  if (storage.size() < *count) storage.resize(*count);
  entry* out = storage.data();
  for (std::size_t i = 0; i < *count; ++i) {
    auto slot = read_slot(r);
    if (!slot) return unexpected{slot.error()};
    if (*slot == 0) return fail(errc::malformed, "paxos message: entry at slot 0", r.position());
    std::uint64_t round = 0, node = 0;
    if (!r.varint_into(round) || !r.varint_into(node)) return unexpected{r.varint().error()};
    if (round > ballot::max_round) return round_out_of_range("paxos message: entry ballot round out of range", round);
    auto kind = r.u8();
    if (!kind) return unexpected{kind.error()};
    if (*kind > max_entry_kind) return fail(errc::malformed, "paxos message: unknown entry kind", r.position());
    byte_view data;
    if (!r.prefixed_bytes_into(limits.max_entry_bytes, data))
      return unexpected{r.prefixed_bytes(limits.max_entry_bytes).error()};
    out[i].slot = log_index{*slot};
    out[i].bal = ballot{round, node_id{node}};
    out[i].kind = static_cast<entry_kind>(*kind);
    out[i].data = data;
  }
  used = *count;
  return {};
}

// Version 2's entries: a run from a first slot, each at ballot b.
// The run's entries go to storage[0, count), the storage grown to hold them
// and never shrunk: each is written once, not value-initialized by a
// resize() first and written again. `used` is their count.
[[nodiscard]] inline result<void> decode_run_entries(codec::reader& r, const message_limits& limits, ballot b,
                                                     std::vector<entry>& storage, std::size_t& used) {
  auto count = r.count(limits.max_entries);
  if (!count) return unexpected{count.error()};
  // The encoder writes a run only for entries: none is version 1's.
  if (*count == 0) return fail(errc::malformed, "paxos message: a run of no entries", r.position());
  // An entry takes at least two bytes: a larger count is a lie, refused
  // before the storage can grow by it.
  if (*count > r.remaining() / 2)
    return fail(errc::truncated, "paxos message: entry count past the input", r.position());
  auto first = read_slot(r);
  if (!first) return unexpected{first.error()};
  if (*first == 0) return fail(errc::malformed, "paxos message: entry at slot 0", r.position());
  if (all_slots.value() - *first < *count - 1)
    return fail(errc::malformed, "paxos message: slot out of range", r.position());
  // Sized once and filled field by field: an entry built aside and copied
  // in was read back in 16-byte pieces just after its 8-byte fields were
  // stored, a store-forwarding stall per entry.
  if (storage.size() < *count) storage.resize(*count);
  entry* out = storage.data();
  for (std::size_t i = 0; i < *count; ++i) {
    auto kind = r.u8();
    if (!kind) return unexpected{kind.error()};
    if (*kind > max_entry_kind) return fail(errc::malformed, "paxos message: unknown entry kind", r.position());
    byte_view data;
    if (!r.prefixed_bytes_into(limits.max_entry_bytes, data))
      return unexpected{r.prefixed_bytes(limits.max_entry_bytes).error()};
    out[i].slot = log_index{*first + i};
    out[i].bal = b;
    out[i].kind = static_cast<entry_kind>(*kind);
    out[i].data = data;
  }
  used = *count;
  return {};
}

}  // namespace detail

// Total: any byte string gives a message or an error naming the offset.
// entries_storage is the caller's reusable scratch: the message's entries
// view its first entries (past them it holds stale ones: it only grows),
// and their data view `in`.
[[nodiscard]] inline result<message> decode(byte_view in, std::vector<entry>& entries_storage,
                                            const message_limits& limits = {}) {
  codec::reader r{in};
  auto version = r.u8();
  if (!version) return unexpected{version.error()};
  if (*version != wire_version && *version != wire_version_run)
    return fail(errc::malformed, "paxos message: unknown version", *version);
  auto type = r.u8();
  if (!type) return unexpected{type.error()};
  if (*type == 0 || *type > max_message_type) return fail(errc::malformed, "paxos message: unknown type", *type);
  std::uint64_t head[4];
  for (auto& f : head)
    if (!r.varint_into(f)) return unexpected{r.varint().error()};
  std::uint64_t slots[3];
  for (auto& f : slots) {
    auto v = detail::read_slot(r);
    if (!v) return unexpected{v.error()};
    f = *v;
  }
  auto flags = r.u8();
  if (!flags) return unexpected{flags.error()};
  // One encoding per message: no_answer exists on heartbeats only.
  const std::uint8_t allowed =
      *type == static_cast<std::uint8_t>(message_type::heartbeat) ? detail::flag_reject | detail::flag_no_answer
                                                                  : detail::flag_reject;
  if ((*flags & ~allowed) != 0) return fail(errc::malformed, "paxos message: flags not valid for its type", *flags);
  const ballot bal{head[2], node_id{head[3]}};
  if (!bal.in_range()) return detail::round_out_of_range("paxos message: ballot round out of range", bal.round);
  std::size_t used = 0;
  if (*version == wire_version_run) QUORUM_TRY(detail::decode_run_entries(r, limits, bal, entries_storage, used));
  else QUORUM_TRY(detail::decode_entries(r, limits, entries_storage, used));
  QUORUM_TRY(r.expect_end());
  message m;
  m.type = static_cast<message_type>(*type);
  m.from = node_id{head[0]};
  m.to = node_id{head[1]};
  m.bal = bal;
  m.slot = log_index{slots[0]};
  m.index = log_index{slots[1]};
  m.commit = log_index{slots[2]};
  m.reject = (*flags & detail::flag_reject) != 0;
  m.no_answer = (*flags & detail::flag_no_answer) != 0;
  m.entries = std::span<const entry>{entries_storage.data(), used};
  return m;
}

[[nodiscard]] constexpr const char* to_string(message_type t) noexcept {
  switch (t) {
    case message_type::prepare: return "prepare";
    case message_type::promise: return "promise";
    case message_type::accept: return "accept";
    case message_type::accepted: return "accepted";
    case message_type::heartbeat: return "heartbeat";
    case message_type::heartbeat_response: return "heartbeat_response";
    case message_type::catchup_request: return "catchup_request";
    case message_type::catchup: return "catchup";
    case message_type::snapshot_chunk: return "snapshot_chunk";
    case message_type::snapshot_ack: return "snapshot_ack";
  }
  return "unknown";
}

}  // namespace quorum::paxos
