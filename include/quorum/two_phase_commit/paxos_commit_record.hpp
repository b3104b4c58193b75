// Paxos Commit's log records: an RM's prepared and decided records, and an
// acceptor's state for every instance of one transaction (the synod's durable
// acceptor_state, per RM). The node replays them in order on restart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "quorum/codec/reader.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"
#include "quorum/paxos/synod.hpp"
#include "quorum/two_phase_commit/paxos_commit_instance.hpp"
#include "quorum/two_phase_commit/paxos_commit_message.hpp"

namespace quorum::two_phase_commit {

enum class pc_record_kind : std::uint8_t {
  prepared = 1,  // RM: voted yes (participants, leader); forced before its 2a
  decided,       // RM: applied the outcome; lazy
  acceptor,      // acceptor: every instance's promise and accept; forced before 2b / 1b
};

// One decoded record. For `acceptor`, states[i] belongs to participants[i].
struct pc_record {
  pc_record_kind kind{pc_record_kind::prepared};
  txn_id txn{};
  node_id origin{};
  node_id leader{};
  two_phase_commit::decision decision{decision::abort};
  std::vector<node_id> participants;
  std::vector<paxos::acceptor_state> states;
};

[[nodiscard]] inline pc_value value_of(const paxos::acceptor_state& s) noexcept {
  if (!s.has_value() || s.value.size() != 1) return pc_value::none;
  return static_cast<pc_value>(std::to_integer<std::uint8_t>(s.value[0]));
}

namespace detail {

// The most bytes a record with np participants and na acceptor states can take.
[[nodiscard]] constexpr std::size_t pc_record_max_size(std::size_t np, std::size_t na) noexcept {
  return 2 + (4 + np) * codec::max_varint_bytes + na * (4 * codec::max_varint_bytes + 1);
}

// Writes the record at p, which has room for pc_record_max_size; returns the end.
inline std::byte* pc_record_write(pc_record_kind kind, txn_id txn, node_id origin, node_id leader, decision d,
                                  std::span<const node_id> participants, std::span<const pc_instance> acc,
                                  std::byte* p) noexcept {
  const auto put = [&p](std::uint64_t v) { p += codec::encode_varint(v, p); };
  *p++ = static_cast<std::byte>(kind);
  put(txn.value());
  put(origin.value());
  put(leader.value());
  *p++ = static_cast<std::byte>(d);
  put(participants.size());
  for (const node_id n : participants) put(n.value());
  put(acc.size());
  for (const pc_instance& a : acc) {
    put(a.promised.round);
    put(a.promised.node.value());
    put(a.accepted.round);
    put(a.accepted.node.value());
    *p++ = static_cast<std::byte>(a.has_value() ? a.value : pc_value::none);
  }
  return p;
}

}  // namespace detail

// Written straight into memory, as the messages are (paxos_commit_message.hpp).
// The node writes small records into a buffer of its own (no copy); this
// form is for everything else.
inline void encode_pc_record(pc_record_kind kind, txn_id txn, node_id origin, node_id leader, decision d,
                             std::span<const node_id> participants, std::span<const detail::pc_instance> acc,
                             byte_buffer& out) {
  out.resize(detail::pc_record_max_size(participants.size(), acc.size()));
  const std::byte* const end = detail::pc_record_write(kind, txn, origin, leader, d, participants, acc, out.data());
  out.resize(static_cast<std::size_t>(end - out.data()));
}

// Total over any bytes; max_participants bounds both lists.
[[nodiscard]] inline result<pc_record> decode_pc_record(byte_view b, std::size_t max_participants) {
  codec::reader r{b};
  pc_record rec;
  auto kind = detail::pc_byte(r, 1, 3, "paxos commit record: unknown kind");
  if (!kind) return unexpected{kind.error()};
  rec.kind = static_cast<pc_record_kind>(*kind);
  auto txn = r.varint();
  if (!txn) return unexpected{txn.error()};
  auto origin = r.varint();
  if (!origin) return unexpected{origin.error()};
  auto leader = r.varint();
  if (!leader) return unexpected{leader.error()};
  auto d = detail::pc_byte(r, 1, 2, "paxos commit record: unknown decision");
  if (!d) return unexpected{d.error()};
  rec.txn = txn_id{*txn};
  rec.origin = node_id{*origin};
  rec.leader = node_id{*leader};
  rec.decision = static_cast<decision>(*d);
  auto np = detail::pc_count(r, max_participants, 1);
  if (!np) return unexpected{np.error()};
  for (std::size_t i = 0; i < *np; ++i) {
    auto id = r.varint();
    if (!id) return unexpected{id.error()};
    rec.participants.push_back(node_id{*id});
  }
  auto na = detail::pc_count(r, max_participants, 5);
  if (!na) return unexpected{na.error()};
  if (*na != 0 && *na != *np) return fail(errc::malformed, "paxos commit record: states do not match participants");
  for (std::size_t i = 0; i < *na; ++i) {
    std::uint64_t f[4];
    for (auto& x : f) {
      auto v = r.varint();
      if (!v) return unexpected{v.error()};
      x = *v;
    }
    auto val = detail::pc_byte(r, 0, 2, "paxos commit record: unknown value");
    if (!val) return unexpected{val.error()};
    paxos::acceptor_state s;
    s.promised = ballot{f[0], node_id{f[1]}};
    s.accepted = ballot{f[2], node_id{f[3]}};
    if (s.accepted > s.promised) return fail(errc::malformed, "paxos commit record: accepted above promised");
    if (!s.promised.in_range()) return fail(errc::malformed, "paxos commit record: ballot round out of range", f[0]);
    if (s.has_value() != (*val != 0)) return fail(errc::malformed, "paxos commit record: value without ballot");
    if (*val != 0) s.value.push_back(std::byte{*val});
    rec.states.push_back(std::move(s));
  }
  QUORUM_TRY(r.expect_end());
  return rec;
}

}  // namespace quorum::two_phase_commit
