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
#include "quorum/codec/varint.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"
#include "quorum/two_phase_commit/message.hpp"
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

// Into a packer, whose bytes() a node hands to Log::append without a copy.
inline void encode(const record& r, detail::packer& w) {
  w.u8(static_cast<std::uint8_t>(r.kind));
  w.varint(r.txn.value());
  w.varint(r.node.value());
  w.u8(r.value);
  w.varint(r.nodes.size());
  for (const node_id n : r.nodes) w.varint(n.value());
}

inline void encode(const record& r, byte_buffer& out) {
  detail::packer w{out};
  encode(r, w);
  w.finish();
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

// Where each transaction a node holds has its first record, in log order:
// the oldest still held is where the log may be compacted to, found without
// visiting every transaction. A transaction that finished, or whose records
// were copied forward, leaves a stale entry that is dropped once it reaches
// the front; entries behind a held one wait there, so their number is bounded
// by the log's span (max_log_span), as the log is.
class first_records {
 public:
  // at: the log position of txn's first record; positions only increase.
  void add(std::uint64_t at, txn_id txn) {
    if (count_ == ring_.size()) grow();
    ring_[(head_ + count_++) & (ring_.size() - 1)] = entry{at, txn};
  }
  // The oldest position whose transaction `held(txn, at)` says still has its
  // first record there; `none` when there is none.
  template <class Held>
  [[nodiscard]] std::uint64_t oldest(Held held, std::uint64_t none) {
    for (; count_ != 0; head_ = (head_ + 1) & (ring_.size() - 1), --count_) {
      const entry& e = ring_[head_];
      if (held(e.txn, e.at)) return e.at;
    }
    return none;
  }
  void clear() noexcept { head_ = count_ = 0; }

 private:
  struct entry {
    std::uint64_t at{0};
    txn_id txn{};
  };
  void grow() {
    std::vector<entry> bigger(ring_.empty() ? 16 : ring_.size() * 2);
    for (std::size_t k = 0; k < count_; ++k) bigger[k] = ring_[(head_ + k) & (ring_.size() - 1)];
    ring_ = std::move(bigger);
    head_ = 0;
  }
  std::vector<entry> ring_;  // a power of two in size
  std::size_t head_ = 0;
  std::size_t count_ = 0;
};

// Hard state: the coordinator's highest txn begun; a participant's horizon per
// coordinator (nothing below it needs this participant any more). Both are
// written before a compaction that relies on them, so a crash that keeps the
// compaction keeps them (a Log keeps a prefix of its calls in order).
inline void encode_horizons(std::span<const std::pair<node_id, txn_id>> hs, detail::packer& w) {
  w.varint(hs.size());
  for (const auto& [n, t] : hs) {
    w.varint(n.value());
    w.varint(t.value());
  }
}

inline void encode_horizons(std::span<const std::pair<node_id, txn_id>> hs, byte_buffer& out) {
  detail::packer w{out};
  encode_horizons(hs, w);
  w.finish();
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
