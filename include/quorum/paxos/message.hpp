// Paxos's messages and their wire codec, shared by the synod register and the
// Multi-Paxos node. A message is a plain struct whose entries are views (into
// the sender's buffers or the received bytes): valid only during the call.
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

namespace quorum::paxos {

enum class message_type : std::uint8_t {
  prepare = 1,         // phase 1a: "promise me `bal` for every slot from `slot` on"
  promise,             // phase 1b: accepted values from `slot` to `index`; reject: promised higher
  accept,              // phase 2a: entries to accept at `bal`; commit = the leader's chosen watermark
  accepted,            // phase 2b: slots `slot`..`index` accepted at `bal`; reject: promised higher
  heartbeat,           // the leader is alive; commit = its chosen watermark, slot = its read round
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
  std::span<const entry> entries{};
};

// Bounds applied while decoding, before anything is sized by the input.
struct message_limits {
  std::size_t max_entries = 4096;
  std::size_t max_entry_bytes = std::size_t{16} << 20;
};

inline constexpr std::uint8_t wire_version = 1;

// Layout: u8 version, u8 type, varints from to round ballot-node slot index
// commit, u8 reject, varint count, then per entry varints slot round node,
// u8 kind, varint length and bytes. Appends to out.
inline void encode(const message& m, byte_buffer& out) {
  codec::writer w{out};
  w.u8(wire_version);
  w.u8(static_cast<std::uint8_t>(m.type));
  w.varint(m.from.value());
  w.varint(m.to.value());
  w.varint(m.bal.round);
  w.varint(m.bal.node.value());
  w.varint(m.slot.value());
  w.varint(m.index.value());
  w.varint(m.commit.value());
  w.u8(m.reject ? 1 : 0);
  w.varint(m.entries.size());
  for (const entry& e : m.entries) {
    w.varint(e.slot.value());
    w.varint(e.bal.round);
    w.varint(e.bal.node.value());
    w.u8(static_cast<std::uint8_t>(e.kind));
    w.prefixed_bytes(e.data);
  }
}

namespace detail {

[[nodiscard]] inline result<std::uint64_t> read_slot(codec::reader& r) {
  auto v = r.varint();
  if (!v) return unexpected{v.error()};
  if (*v > all_slots.value()) return fail(errc::malformed, "paxos message: slot out of range", r.position());
  return *v;
}

[[nodiscard]] inline result<void> decode_entries(codec::reader& r, const message_limits& limits,
                                                 std::vector<entry>& storage) {
  auto count = r.count(limits.max_entries);
  if (!count) return unexpected{count.error()};
  // An entry takes at least five bytes: a larger count is a lie, refused
  // before the storage can grow by it.
  if (*count > r.remaining() / 5) return fail(errc::truncated, "paxos message: entry count past the input", r.position());
  for (std::size_t i = 0; i < *count; ++i) {
    auto slot = read_slot(r);
    if (!slot) return unexpected{slot.error()};
    if (*slot == 0) return fail(errc::malformed, "paxos message: entry at slot 0", r.position());
    auto round = r.varint();
    if (!round) return unexpected{round.error()};
    auto node = r.varint();
    if (!node) return unexpected{node.error()};
    auto kind = r.u8();
    if (!kind) return unexpected{kind.error()};
    if (*kind > max_entry_kind) return fail(errc::malformed, "paxos message: unknown entry kind", r.position());
    auto data = r.prefixed_bytes(limits.max_entry_bytes);
    if (!data) return unexpected{data.error()};
    storage.push_back(entry{log_index{*slot}, ballot{*round, node_id{*node}}, static_cast<entry_kind>(*kind), *data});
  }
  return {};
}

}  // namespace detail

// Total: any byte string gives a message or an error naming the offset.
// entries_storage is the caller's reusable scratch (cleared here); the
// message's entries view it, and their data view `in`.
[[nodiscard]] inline result<message> decode(byte_view in, std::vector<entry>& entries_storage,
                                            const message_limits& limits = {}) {
  entries_storage.clear();
  codec::reader r{in};
  auto version = r.u8();
  if (!version) return unexpected{version.error()};
  if (*version != wire_version) return fail(errc::malformed, "paxos message: unknown version", *version);
  auto type = r.u8();
  if (!type) return unexpected{type.error()};
  if (*type == 0 || *type > max_message_type) return fail(errc::malformed, "paxos message: unknown type", *type);
  std::uint64_t head[4];
  for (auto& f : head) {
    auto v = r.varint();
    if (!v) return unexpected{v.error()};
    f = *v;
  }
  std::uint64_t slots[3];
  for (auto& f : slots) {
    auto v = detail::read_slot(r);
    if (!v) return unexpected{v.error()};
    f = *v;
  }
  auto reject = r.boolean();
  if (!reject) return unexpected{reject.error()};
  QUORUM_TRY(detail::decode_entries(r, limits, entries_storage));
  QUORUM_TRY(r.expect_end());
  message m;
  m.type = static_cast<message_type>(*type);
  m.from = node_id{head[0]};
  m.to = node_id{head[1]};
  m.bal = ballot{head[2], node_id{head[3]}};
  m.slot = log_index{slots[0]};
  m.index = log_index{slots[1]};
  m.commit = log_index{slots[2]};
  m.reject = *reject;
  m.entries = entries_storage;
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
