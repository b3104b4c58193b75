// Two-phase commit's messages and their wire codec. A message is a plain
// struct; its participant list is a view (into the sender's state, or into the
// decoder's scratch), valid only during the send() or receive() that carries it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "quorum/codec/reader.hpp"
#include "quorum/codec/varint.hpp"
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

namespace detail {

// Gathers fields in a small buffer on the stack and appends them to a
// byte_buffer in one insert per 128 bytes. Messages and records are a few
// bytes, encoded on every step: an insert per field (as codec::writer does)
// would cost more than the encoding itself.
class packer {
 public:
  explicit packer(byte_buffer& out) noexcept : out_{out} {}
  [[gnu::always_inline]] void u8(std::uint8_t v) {
    if (n_ == sizeof buf_) spill();
    buf_[n_++] = static_cast<std::byte>(v);
  }
  // Ids, counts and enums are mostly below 128: one byte, no loop.
  [[gnu::always_inline]] void varint(std::uint64_t v) {
    if (n_ + codec::max_varint_bytes > sizeof buf_) spill();
    if (v < 0x80) buf_[n_++] = static_cast<std::byte>(v);
    else n_ += codec::encode_varint(v, buf_ + n_);
  }
  // Appends what is gathered to out; call once at the end.
  void finish() { flush(); }
  // Instead of finish(), for a caller that only needs to look at the bytes
  // (a Log append): everything written, on this packer's own buffer when it
  // never filled (nothing copied), else in out, which must have started empty.
  [[nodiscard]] byte_view bytes() {
    if (!spilled_) return byte_view{buf_, n_};
    flush();
    return out_;
  }

 private:
  // Out of line so that the fields' fast path inlines.
  [[gnu::noinline]] void spill() {
    spilled_ = true;
    flush();
  }
  void flush() {
    out_.insert(out_.end(), buf_, buf_ + n_);
    n_ = 0;
  }
  byte_buffer& out_;
  std::size_t n_ = 0;
  bool spilled_ = false;
  std::byte buf_[128];
};

}  // namespace detail

// Layout: u8 version, u8 type, varints from to txn coordinator horizon, u8
// presumption, u8 vote, u8 decision, varint count, varint per participant.
inline void encode(const message& m, byte_buffer& out) {
  detail::packer w{out};
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
  w.finish();
}

namespace detail {

// An enum field whose valid values are 1..max.
[[nodiscard]] inline result<std::uint8_t> small_enum(codec::reader& r, std::uint8_t max, const char* what) {
  auto v = r.u8();
  if (!v) return unexpected{v.error()};
  if (*v == 0 || *v > max) return fail(errc::malformed, what, r.position());
  return *v;
}

// Reads fields off the input and remembers whether any was missing or bad,
// so that a well-formed message is decoded without an error value per field.
class unpacker {
 public:
  explicit unpacker(byte_view in) noexcept : p_{in.data()}, end_{in.data() + in.size()} {}
  std::uint8_t u8() noexcept {
    if (p_ == end_) return fail();
    return std::to_integer<std::uint8_t>(*p_++);
  }
  std::uint64_t varint() noexcept {
    if (p_ != end_ && std::to_integer<std::uint8_t>(*p_) < 0x80) return std::to_integer<std::uint8_t>(*p_++);
    const codec::varint_parse r = codec::parse_varint(byte_view{p_, end_});
    if (!r.ok()) return fail();
    p_ += r.size;
    return r.value;
  }
  [[nodiscard]] std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - p_); }
  [[nodiscard]] bool ok() const noexcept { return ok_; }

 private:
  std::uint8_t fail() noexcept {
    ok_ = false;
    p_ = end_;
    return 0;
  }
  const std::byte* p_;
  const std::byte* end_;
  bool ok_ = true;
};

// The decoder's fast path: true and m filled exactly when decode_checked()
// below would accept the input and give the same message; false otherwise,
// and decode_checked() then says what is wrong.
[[nodiscard]] inline bool decode_fast(byte_view in, std::vector<node_id>& storage, const message_limits& limits,
                                      message& m) {
  unpacker r{in};
  const std::uint8_t version = r.u8();
  const std::uint8_t type = r.u8();
  std::uint64_t fields[5];
  for (auto& f : fields) f = r.varint();
  const std::uint8_t pres = r.u8();
  const std::uint8_t v = r.u8();
  const std::uint8_t d = r.u8();
  const std::uint64_t count = r.varint();
  const auto in_range = [](std::uint8_t x, std::uint8_t max) { return x != 0 && x <= max; };
  if (!r.ok() || version != wire_version || !in_range(type, max_message_type) || !in_range(pres, 2) ||
      !in_range(v, 3) || !in_range(d, 2) || count > limits.max_participants || count > r.remaining())
    return false;
  storage.clear();
  for (std::uint64_t i = 0; i < count; ++i) storage.push_back(node_id{r.varint()});
  if (!r.ok() || r.remaining() != 0) return false;
  m.type = static_cast<message_type>(type);
  m.from = node_id{fields[0]};
  m.to = node_id{fields[1]};
  m.txn = txn_id{fields[2]};
  m.coordinator = node_id{fields[3]};
  m.horizon = txn_id{fields[4]};
  m.presumption = static_cast<two_phase_commit::presumption>(pres);
  m.vote = static_cast<two_phase_commit::vote>(v);
  m.decision = static_cast<two_phase_commit::decision>(d);
  m.participants = storage;
  return true;
}

}  // namespace detail

// Field by field, each error naming what is wrong and where: what decode()
// falls back on when its fast path refuses the input.
[[nodiscard]] inline result<message> decode_checked(byte_view in, std::vector<node_id>& storage,
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
  if (*count > r.remaining())
    return fail(errc::truncated, "2pc message: participant count past the input", r.position());
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

// Total: any byte string gives a message or an error naming the offset.
// storage is the caller's reusable scratch (cleared here) that the message's
// participants view.
[[nodiscard]] inline result<message> decode(byte_view in, std::vector<node_id>& storage,
                                            const message_limits& limits = {}) {
  message m;
  if (detail::decode_fast(in, storage, limits, m)) return m;
  return decode_checked(in, storage, limits);
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
