// What a Paxos Commit RM remembers of transactions it has resolved and
// forgotten: per origin (the node that began them), the ids it will never vote
// on again. A late prepare for one of them is refused, so a forgotten
// transaction is never resurrected. Kept exactly above a floor; the Log's
// hard state keeps, per origin, one id past the highest (see paxos_commit.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "quorum/codec/reader.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"
#include "quorum/two_phase_commit/types.hpp"

namespace quorum::two_phase_commit {

class pc_tombstones {
 public:
  // max_origins bounds the origins tracked; max_per_origin the exact ids kept
  // above one origin's floor (past it the lower half is folded into the floor).
  pc_tombstones(std::size_t max_origins, std::size_t max_per_origin)
      : max_origins_{max_origins}, max_per_origin_{max_per_origin} {}

  // True if this RM will never vote on txn (from origin).
  [[nodiscard]] bool covers(node_id origin, txn_id txn) const {
    const entry* e = find(origin);
    if (e == nullptr) return false;
    if (txn.value() < e->floor) return true;
    // A new txn is above every id kept (ids mostly increase): no search.
    if (e->above.empty() || txn.value() > e->above.back()) return false;
    return std::binary_search(e->above.begin(), e->above.end(), txn.value());
  }

  // Whether add() can record a txn of origin (its table has room or knows it).
  [[nodiscard]] bool can_track(node_id origin) const {
    return find(origin) != nullptr || origins_.size() < max_origins_;
  }

  // Records txn; false only when origin is new and the table is full.
  bool add(node_id origin, txn_id txn) {
    entry* e = find(origin);
    if (e == nullptr) {
      if (origins_.size() >= max_origins_) return false;
      e = &origins_.emplace_back(entry{origin, 0, {}});
    }
    if (txn.value() < e->floor) return true;
    // Ids mostly arrive in increasing order: the insert is usually a push_back.
    if (e->above.empty() || txn.value() > e->above.back()) {
      e->above.push_back(txn.value());
    } else {
      auto at = std::lower_bound(e->above.begin(), e->above.end(), txn.value());
      if (at != e->above.end() && *at == txn.value()) return true;
      e->above.insert(at, txn.value());
    }
    // Full: the lower half folds into the floor, so older ids of this origin
    // never seen here are refused from now on. Refusing is always safe (that
    // RM's vote becomes Aborted); it only costs such a transaction its commit.
    if (e->above.size() > max_per_origin_) {
      const auto half = e->above.begin() + static_cast<std::ptrdiff_t>(e->above.size() / 2);
      e->floor = *(half - 1) + 1;
      e->above.erase(e->above.begin(), half);
    }
    dirty_ = true;
    return true;
  }

  [[nodiscard]] bool dirty() const noexcept { return dirty_; }
  void saved() noexcept { dirty_ = false; }
  [[nodiscard]] std::size_t origins() const noexcept { return origins_.size(); }
  [[nodiscard]] std::size_t ids_kept() const noexcept {
    std::size_t k = 0;
    for (const entry& e : origins_) k += e.above.size();
    return k;
  }

  // The durable form: per origin, one past the highest id covered. A restart
  // refuses everything below it, which covers at least what was covered.
  void encode(byte_buffer& out) const {
    out.clear();
    codec::writer w{out};
    w.u8(version);
    w.varint(origins_.size());
    for (const entry& e : origins_) {
      w.varint(e.origin.value());
      w.varint(e.above.empty() ? e.floor : std::max(e.floor, e.above.back() + 1));
    }
  }

  // An empty blob is a node that never forgot anything.
  [[nodiscard]] result<void> decode(byte_view b) {
    origins_.clear();
    dirty_ = false;
    if (b.empty()) return {};
    codec::reader r{b};
    auto v = r.u8();
    if (!v) return unexpected{v.error()};
    if (*v != version) return fail(errc::corrupt_log, "paxos commit: unknown tombstone version", *v);
    auto n = r.count(max_origins_);
    if (!n) return unexpected{n.error()};
    for (std::size_t i = 0; i < *n; ++i) {
      auto origin = r.varint();
      if (!origin) return unexpected{origin.error()};
      auto floor = r.varint();
      if (!floor) return unexpected{floor.error()};
      origins_.push_back(entry{node_id{*origin}, *floor, {}});
    }
    return r.expect_end();
  }

 private:
  static constexpr std::uint8_t version = 1;
  struct entry {
    node_id origin;
    std::uint64_t floor;          // every id below it is covered
    std::vector<std::uint64_t> above;  // covered ids at or above the floor, sorted
  };
  [[nodiscard]] const entry* find(node_id origin) const {
    auto it = std::find_if(origins_.begin(), origins_.end(), [&](const entry& e) { return e.origin == origin; });
    return it == origins_.end() ? nullptr : &*it;
  }
  entry* find(node_id origin) {
    return const_cast<entry*>(std::as_const(*this).find(origin));
  }

  std::size_t max_origins_;
  std::size_t max_per_origin_;
  std::vector<entry> origins_;
  bool dirty_{false};
};

}  // namespace quorum::two_phase_commit
