// The records two-phase commit journals in its Log (core/log.hpp), and the
// hard-state blobs beside them. Coordinator and participant share one record
// shape; recovery replays the journal and the last word on a txn wins.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "quorum/codec/reader.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"
#include "quorum/two_phase_commit/types.hpp"

namespace quorum::two_phase_commit {

enum class record_kind : std::uint8_t {
  // coordinator
  collecting = 1,  // presumed commit: the participants, forced before any prepare
  committed,       // the decision; nodes = the participants that must hear it
  aborted,         // presumed commit's abort; nodes = the participants that must ack
  ended,           // every acknowledgement is in: the txn may be forgotten
  // participant
  prepared,        // voted yes; node = coordinator, nodes = every participant
  decided,         // learned (or, one-phase, made) the decision `value`
  heuristic,       // an operator forced the decision `value` while in doubt
  forgotten,       // the operator cleared the heuristic report
};

inline constexpr std::uint8_t max_record_kind = static_cast<std::uint8_t>(record_kind::forgotten);

// value: a presumption for collecting and prepared, a decision for decided and
// heuristic, 0 otherwise.
struct record {
  record_kind kind{record_kind::ended};
  txn_id txn{};
  node_id node{};
  std::uint8_t value{0};
  std::span<const node_id> nodes{};
};

inline void encode(const record& r, byte_buffer& out) {
  codec::writer w{out};
  w.u8(static_cast<std::uint8_t>(r.kind));
  w.varint(r.txn.value());
  w.varint(r.node.value());
  w.u8(r.value);
  w.varint(r.nodes.size());
  for (const node_id n : r.nodes) w.varint(n.value());
}

// Total, like the message decoder: a record this code did not write is an
// error, never undefined behaviour. storage is scratch the record's nodes view.
[[nodiscard]] inline result<record> decode_record(byte_view in, std::vector<node_id>& storage,
                                                  std::size_t max_nodes) {
  storage.clear();
  codec::reader r{in};
  auto kind = r.u8();
  if (!kind) return unexpected{kind.error()};
  if (*kind == 0 || *kind > max_record_kind) return fail(errc::malformed, "2pc record: unknown kind", *kind);
  auto txn = r.varint();
  if (!txn) return unexpected{txn.error()};
  auto node = r.varint();
  if (!node) return unexpected{node.error()};
  auto value = r.u8();
  if (!value) return unexpected{value.error()};
  if (*value > 3) return fail(errc::malformed, "2pc record: value out of range", *value);
  auto count = r.count(max_nodes);
  if (!count) return unexpected{count.error()};
  if (*count > r.remaining()) return fail(errc::truncated, "2pc record: node count past the input", r.position());
  for (std::size_t i = 0; i < *count; ++i) {
    auto id = r.varint();
    if (!id) return unexpected{id.error()};
    storage.push_back(node_id{*id});
  }
  QUORUM_TRY(r.expect_end());
  return record{static_cast<record_kind>(*kind), txn_id{*txn}, node_id{*node}, *value, storage};
}

// Hard state: the coordinator's highest txn begun; a participant's horizon per
// coordinator (nothing below it needs this participant any more). Both are
// written before a compaction that relies on them, so a crash that keeps the
// compaction keeps them (a Log keeps a prefix of its calls in order).
inline void encode_horizons(std::span<const std::pair<node_id, txn_id>> hs, byte_buffer& out) {
  codec::writer w{out};
  w.varint(hs.size());
  for (const auto& [n, t] : hs) {
    w.varint(n.value());
    w.varint(t.value());
  }
}

[[nodiscard]] inline result<void> decode_horizons(byte_view in, std::size_t max,
                                                  std::vector<std::pair<node_id, txn_id>>& out) {
  out.clear();
  if (in.empty()) return {};
  codec::reader r{in};
  auto count = r.count(max);
  if (!count) return unexpected{count.error()};
  if (*count > r.remaining() / 2) return fail(errc::truncated, "2pc hard state: count past the input", r.position());
  for (std::size_t i = 0; i < *count; ++i) {
    auto n = r.varint();
    if (!n) return unexpected{n.error()};
    auto t = r.varint();
    if (!t) return unexpected{t.error()};
    out.emplace_back(node_id{*n}, txn_id{*t});
  }
  return r.expect_end();
}

}  // namespace quorum::two_phase_commit
