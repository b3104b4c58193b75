// Raft's messages and their wire codec. A message is a plain struct whose
// entries are views (into the sender's buffers, or into the received bytes):
// valid only during the send() or receive() call that carries them.
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
#include "quorum/raft/entry.hpp"

namespace quorum::raft {

enum class message_type : std::uint8_t {
  pre_vote = 1,             // "would you vote for me at term+1?" (§9.6); changes no state
  pre_vote_response,
  request_vote,             // §5.2
  request_vote_response,
  append_entries,           // §5.3; with no entries, a probe
  append_entries_response,  // accept (index = last matching index) or reject with a hint
  heartbeat,                // carries commit = min(follower's match, leader's commit)
  heartbeat_response,
  timeout_now,              // leadership transfer: "campaign now, past any lease" (§3.10)
  install_snapshot,         // one chunk of the leader's snapshot image (§7)
  install_snapshot_response,
};

inline constexpr std::uint8_t max_message_type = static_cast<std::uint8_t>(message_type::install_snapshot_response);

// Which fields mean what, by type:
//   votes:              index, log_term = the candidate's last log index and term
//   vote responses:     reject = vote refused
//   append_entries:     index, log_term = the entry before `entries`; commit = leader's commit;
//                       no_answer = an empty append that only announces the commit
//                       index, to a follower that answers (or answered) the appends
//                       that brought it to index: a follower that accepts it sends
//                       nothing back (one that rejects it still answers)
//   append response:    accept: index = the last index known to match the leader;
//                       reject: index = the rejected prev index, hint_index and
//                       log_term = the follower's last entry at or before it whose
//                       term is <= the leader's prev term (fast backtracking)
//   heartbeat:          commit; context = the leader's read round (0: none)
//   heartbeat response: context = the round it answers
//   votes (again):      context = 1 when a leadership transfer asked for the
//                       election: receivers then ignore their leader lease
//   install_snapshot:   index, log_term = the snapshot's last index and term;
//                       offset = where `data` sits in the image; total = the
//                       image's size in bytes
//   snapshot response:  index, log_term = the snapshot; offset = bytes held so
//                       far (the next offset wanted); reject = start over
struct message {
  message_type type{message_type::heartbeat};
  bool reject{false};  // the flags sit beside the type: the struct is 120 bytes, not 128
  bool no_answer{false};
  node_id from{};
  node_id to{};
  term_id term{};
  log_index index{};
  term_id log_term{};
  log_index commit{};
  log_index hint_index{};
  std::uint64_t context{};
  std::uint64_t offset{};
  std::uint64_t total{};
  byte_view data{};
  std::span<const entry_view> entries{};
};

// Bounds applied while decoding, before anything is sized by the input.
struct message_limits {
  std::size_t max_entries = 4096;
  std::size_t max_entry_bytes = std::size_t{16} << 20;
  std::size_t max_chunk_bytes = std::size_t{16} << 20;  // install_snapshot data
};

// The newest layout this code writes. A message goes out in the oldest
// version that can carry it, so a peer that knows only version 1 reads every
// message but a no_answer append (which it drops as malformed: it then learns
// the commit index from the next heartbeat). Both versions decode.
inline constexpr std::uint8_t wire_version = 2;

namespace detail {
inline constexpr std::uint8_t flag_reject = 1;
inline constexpr std::uint8_t flag_no_answer = 2;  // version 2 only, and always set there
}  // namespace detail

// Layout: u8 version, u8 type, varints from to term index log_term commit
// hint_index, u8 flags (version 1: reject as 0 or 1; version 2: bit 0
// reject, bit 1 no_answer, which is set), varints context offset total,
// varint length and the data bytes, varint count, then per entry u8 kind,
// varint term, varint length, bytes.
namespace detail {

// The most bytes encode() can write for m. The values' sizes are summed
// alone, as in paxos/message.hpp's (a loop GCC 12 vectorizes through the
// stack otherwise).
[[nodiscard]] inline std::size_t encoded_bound(const message& m) noexcept {
  std::size_t values = 0;
  for (const entry_view& e : m.entries) values += e.data.size();
  return 3 + 12 * codec::max_varint_bytes + m.data.size() + m.entries.size() * (1 + 2 * codec::max_varint_bytes) +
         values;
}

// Writes m at p, which has room for encoded_bound(m) bytes; returns the end.
// A pointer and no capacity check per field: the encoding runs for every
// message a node sends over a wire.
inline std::byte* encode_at(const message& m, std::byte* p) noexcept {
  const auto varint = [&p](std::uint64_t v) {
    if (v < 0x80) *p++ = static_cast<std::byte>(v);
    else p += codec::encode_varint(v, p);
  };
  const auto bytes = [&p, &varint](byte_view b) {
    varint(b.size());
    if (!b.empty()) std::memcpy(p, b.data(), b.size());
    p += b.size();
  };
  *p++ = static_cast<std::byte>(m.no_answer ? 2 : 1);
  *p++ = static_cast<std::byte>(m.type);
  varint(m.from.value());
  varint(m.to.value());
  varint(m.term.value());
  varint(m.index.value());
  varint(m.log_term.value());
  varint(m.commit.value());
  varint(m.hint_index.value());
  *p++ = static_cast<std::byte>((m.reject ? flag_reject : 0) | (m.no_answer ? flag_no_answer : 0));
  varint(m.context);
  varint(m.offset);
  varint(m.total);
  bytes(m.data);
  varint(m.entries.size());
  for (const entry_view& e : m.entries) {
    *p++ = static_cast<std::byte>(e.kind);
    varint(e.term.value());
    bytes(e.data);
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

[[nodiscard]] inline result<void> decode_entries(codec::reader& r, const message_limits& limits,
                                                 std::vector<entry_view>& storage) {
  auto count = r.count(limits.max_entries);
  if (!count) return unexpected{count.error()};
  // Each entry takes at least three bytes: a count past that is a lie, refused
  // before it can make the storage grow.
  if (*count > r.remaining() / 3)
    return fail(errc::truncated, "raft message: entry count past the input", r.position());
  for (std::size_t i = 0; i < *count; ++i) {
    auto kind = r.u8();
    if (!kind) return unexpected{kind.error()};
    if (*kind > max_entry_kind) return fail(errc::malformed, "raft message: unknown entry kind", r.position());
    std::uint64_t term = 0;
    if (!r.varint_into(term)) return unexpected{r.varint().error()};
    if (term == 0) return fail(errc::malformed, "raft message: entry of term 0", r.position());
    byte_view data;
    if (!r.prefixed_bytes_into(limits.max_entry_bytes, data))
      return unexpected{r.prefixed_bytes(limits.max_entry_bytes).error()};
    storage.push_back(entry_view{term_id{term}, static_cast<entry_kind>(*kind), data});
  }
  return {};
}

}  // namespace detail

// Total: any byte string gives a message or an error naming the offset.
// entries_storage is the caller's reusable scratch (cleared here); the
// message's entries view it, and their data view `in`.
[[nodiscard]] inline result<message> decode(byte_view in, std::vector<entry_view>& entries_storage,
                                            const message_limits& limits = {}) {
  entries_storage.clear();
  codec::reader r{in};
  auto version = r.u8();
  if (!version) return unexpected{version.error()};
  if (*version != 1 && *version != 2) return fail(errc::malformed, "raft message: unknown version", *version);
  auto type = r.u8();
  if (!type) return unexpected{type.error()};
  if (*type == 0 || *type > max_message_type) return fail(errc::malformed, "raft message: unknown type", *type);
  std::uint64_t fields[7];
  for (auto& f : fields)
    if (!r.varint_into(f)) return unexpected{r.varint().error()};
  auto flags = r.u8();
  if (!flags) return unexpected{flags.error()};
  // One encoding per message: version 2 exactly when no_answer is set.
  const std::uint8_t allowed = *version == 1 ? detail::flag_reject : detail::flag_reject | detail::flag_no_answer;
  if ((*flags & ~allowed) != 0 || (*version == 2 && (*flags & detail::flag_no_answer) == 0))
    return fail(errc::malformed, "raft message: flags not valid for its version", *flags);
  std::uint64_t tail[3];
  for (auto& f : tail)
    if (!r.varint_into(f)) return unexpected{r.varint().error()};
  auto data = r.prefixed_bytes(limits.max_chunk_bytes);
  if (!data) return unexpected{data.error()};
  QUORUM_TRY(detail::decode_entries(r, limits, entries_storage));
  QUORUM_TRY(r.expect_end());
  message m;
  m.type = static_cast<message_type>(*type);
  m.from = node_id{fields[0]};
  m.to = node_id{fields[1]};
  m.term = term_id{fields[2]};
  m.index = log_index{fields[3]};
  m.log_term = term_id{fields[4]};
  m.commit = log_index{fields[5]};
  m.hint_index = log_index{fields[6]};
  m.reject = (*flags & detail::flag_reject) != 0;
  m.no_answer = (*flags & detail::flag_no_answer) != 0;
  m.context = tail[0];
  m.offset = tail[1];
  m.total = tail[2];
  m.data = *data;
  m.entries = entries_storage;
  return m;
}

// An append whose entries could not come from a correct leader: terms that
// go down, precede the entry before them, exceed the message's own term or
// are 0 (no entry has it: the log would refuse to read it back), or a kind
// the log does not know (a message built in memory, not decoded, may hold one).
[[nodiscard]] constexpr bool entries_well_formed(const message& m) noexcept {
  if (m.index.value() > (~std::uint64_t{0} >> 1)) return false;
  term_id prev = m.log_term;
  for (const entry_view& e : m.entries) {
    if (e.term == term_id{} || static_cast<std::uint8_t>(e.kind) > max_entry_kind) return false;
    if (e.term < prev || e.term > m.term) return false;
    prev = e.term;
  }
  return true;
}

[[nodiscard]] constexpr const char* to_string(message_type t) noexcept {
  switch (t) {
    case message_type::pre_vote: return "pre_vote";
    case message_type::pre_vote_response: return "pre_vote_response";
    case message_type::request_vote: return "request_vote";
    case message_type::request_vote_response: return "request_vote_response";
    case message_type::append_entries: return "append_entries";
    case message_type::append_entries_response: return "append_entries_response";
    case message_type::heartbeat: return "heartbeat";
    case message_type::heartbeat_response: return "heartbeat_response";
    case message_type::timeout_now: return "timeout_now";
    case message_type::install_snapshot: return "install_snapshot";
    case message_type::install_snapshot_response: return "install_snapshot_response";
  }
  return "unknown";
}

}  // namespace quorum::raft
