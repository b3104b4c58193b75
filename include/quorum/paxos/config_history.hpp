// The configurations a Multi-Paxos node knows, by the slot each takes effect
// at. A configuration command chosen at slot s governs slots s + α on (α =
// options::max_open_slots, as in "Paxos Made Moderately Complex"): every
// node learns it by applying s, and no leader opens a slot more than α past
// what it applied, so no one ever opens a slot whose configuration it cannot
// know. Kept: the one in force at the node's next slot and every later one.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "quorum/codec/reader.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/core/assert.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"
#include "quorum/paxos/configuration.hpp"
#include "quorum/paxos/quorums.hpp"

namespace quorum::paxos {

// One configuration and where it holds: slots from `from` on (until the next).
struct stamped_configuration {
  log_index from{1};
  log_index chosen_at{};  // the slot of its command (0: the bootstrap configuration)
  configuration config;
  friend bool operator==(const stamped_configuration&, const stamped_configuration&) = default;
};

class config_history {
 public:
  struct entry {
    stamped_configuration stamp;
    membership quorums;  // the voters, with this node's position among them
  };

  config_history() = default;
  config_history(node_id self, std::size_t q1, std::size_t q2) : self_{self}, q1_{q1}, q2_{q2} {}

  // The stamps must be sorted by `from`, the first one covering every slot the node still needs.
  void reset(std::vector<stamped_configuration> stamps) {
    QUORUM_ASSERT(!stamps.empty());
    entries_.clear();
    for (auto& s : stamps) add(std::move(s));
    rebuild_roster();
  }

  // A command chosen at `chosen_at`; false if it was known already (a
  // restart replays the journal over what the snapshot told).
  bool push(log_index chosen_at, log_index from, configuration c) {
    if (from <= entries_.back().stamp.from) return false;
    add(stamped_configuration{from, chosen_at, std::move(c)});
    rebuild_roster();
    return true;
  }

  // Keeps only what slots from `next` on need.
  void forget_before(log_index next) {
    std::size_t drop = 0;
    while (drop + 1 < entries_.size() && entries_[drop + 1].stamp.from <= next) ++drop;
    if (drop == 0) return;
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(drop));
    rebuild_roster();
  }

  // The configuration in force at slot s (s at or after the oldest kept).
  [[nodiscard]] const entry& at(log_index s) const noexcept {
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
      if (it->stamp.from <= s) return *it;
    return entries_.front();
  }
  // The first slot after s where another configuration takes over (all_slots + 1 when none is known).
  [[nodiscard]] log_index next_change(log_index s) const noexcept {
    for (const entry& e : entries_)
      if (e.stamp.from > s) return e.stamp.from;
    return log_index{~std::uint64_t{0}};
  }
  [[nodiscard]] const entry& latest() const noexcept { return entries_.back(); }
  [[nodiscard]] std::vector<stamped_configuration> stamps() const {
    std::vector<stamped_configuration> out;
    for (const entry& e : entries_) out.push_back(e.stamp);
    return out;
  }
  [[nodiscard]] std::span<const entry> entries() const noexcept { return entries_; }
  // Every voter and learner of every configuration kept, sorted: whom a leader talks to.
  [[nodiscard]] std::span<const node_id> roster() const noexcept { return roster_; }
  // Asked of every answer received: a scan of a small roster beats a binary search's call.
  [[nodiscard]] bool in_roster(node_id n) const noexcept {
    if (roster_.size() > 8) return contains(roster_, n);
    for (node_id r : roster_)
      if (r == n) return true;
    return false;
  }

 private:
  void add(stamped_configuration s) {
    membership m{self_, s.config.voters, q1_, q2_};
    entries_.push_back(entry{std::move(s), std::move(m)});
  }

  void rebuild_roster() {
    roster_.clear();
    for (const entry& e : entries_) {
      roster_.insert(roster_.end(), e.stamp.config.voters.begin(), e.stamp.config.voters.end());
      roster_.insert(roster_.end(), e.stamp.config.learners.begin(), e.stamp.config.learners.end());
    }
    std::sort(roster_.begin(), roster_.end());
    roster_.erase(std::unique(roster_.begin(), roster_.end()), roster_.end());
  }

  node_id self_{};
  std::size_t q1_{0};
  std::size_t q2_{0};
  std::vector<entry> entries_{entry{}};
  std::vector<node_id> roster_;
};

// A snapshot's configurations: varint count, then per one varints from and
// chosen_at and the configuration's encoding (an unknown one has no voters).
inline void encode_stamps(std::span<const stamped_configuration> stamps, byte_buffer& out) {
  codec::writer{out}.varint(stamps.size());
  for (const auto& s : stamps) {
    codec::writer w{out};
    w.varint(s.from.value());
    w.varint(s.chosen_at.value());
    encode(s.config, out);
  }
}

// Total; at most `max` configurations, sorted by `from`, only the first unknown
// (none: the image says nothing, the bootstrap configuration holds).
[[nodiscard]] inline result<std::vector<stamped_configuration>> decode_stamps(codec::reader& r, std::size_t max) {
  auto n = r.count(max);
  if (!n) return unexpected{n.error()};
  std::vector<stamped_configuration> out;
  for (std::size_t i = 0; i < *n; ++i) {
    auto from = r.varint();
    if (!from) return unexpected{from.error()};
    auto chosen = r.varint();
    if (!chosen) return unexpected{chosen.error()};
    auto c = detail::read_configuration(r);
    if (!c) return unexpected{c.error()};
    const bool unknown = i == 0 && c->voters.empty() && c->learners.empty();
    if (!unknown) {
      if (auto ok = normalize(*c, 0, 0); !ok) return fail(errc::malformed, ok.error().what, ok.error().detail);
    }
    if (*from == 0 || (!out.empty() && *from <= out.back().from.value()))
      return fail(errc::malformed, "paxos snapshot: configurations out of order", *from);
    out.push_back(stamped_configuration{log_index{*from}, log_index{*chosen}, std::move(*c)});
  }
  return out;
}

}  // namespace quorum::paxos
