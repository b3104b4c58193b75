// The simulator's self-test: a deliberately small replicated log (a fixed
// primary, node 1, replicating to backups; a value is acknowledged once a
// majority holds it durably) with its own checker. It proves the harness can
// fail: a planted bug that only faults expose must be caught.
//
// API:
//   seed_report r = quorum::sim::selftest::run_seed(config, planted_bug);
//   seed_report r = quorum::sim::selftest::run_seed(config, variant::mute_after_heal);
// Variants: correct; ack_before_sync (the planted bug: a backup batches its
// syncs to the next tick, group-commit style, but acknowledges at once, so a
// crash can lose a value the client was told is committed); mute_after_heal
// (the primary stops serving once faults heal: a liveness bug);
// hang_after_heal (the primary's first delivery after the heal never
// returns: what a watchdog must report, since no checker ever runs again).
// Checker: one value per index (over every apply and acknowledgement); every
// acknowledged value held by a majority of the disks at all times (so no
// crash can lose it), and, after the heal, applied by the primary. Applies are
// contiguous per node incarnation by construction; the trace shows it, and
// tests/sim/trace_check_test.cpp checks that from the trace alone.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/sim/run.hpp"
#include "quorum/sim/world.hpp"

namespace quorum::sim::selftest {

enum class variant : std::uint8_t { correct, ack_before_sync, mute_after_heal, hang_after_heal };

struct message {
  enum class type : std::uint8_t { append, ack };
  type kind{type::append};
  std::uint64_t start{0};            // append: the position of entries[0]
  std::vector<std::string> entries;  // append: at most max_batch values
  std::uint64_t commit{0};           // append: the primary's commit index
  std::uint64_t last{0};             // ack: the last position the backup holds
};

inline constexpr node_id primary{1};
inline constexpr std::size_t max_batch = 16;         // entries per append message
inline constexpr std::uint64_t max_uncommitted = 256;  // the primary refuses values beyond this

class driver {
 public:
  using message = selftest::message;

  explicit driver(variant v = variant::correct) : variant_{v} {}

  void boot(const node_env<message>& env) {
    const auto i = static_cast<std::size_t>(env.self.value());
    if (nodes_.empty()) {
      cluster_ = env.cluster_size;
      nodes_.resize(cluster_ + 1);
      disks_.resize(cluster_ + 1, nullptr);
      applied_.resize(cluster_ + 1, 0);
    }
    nodes_[i].emplace(env);
    disks_[i] = env.disk;
    applied_[i] = 0;  // a new incarnation applies from the start again
    if (env.self == primary) {
      ++leader_changes_;
      env.trace.leader(term_id{env.incarnation});
    }
  }

  void crash(node_id n) {
    nodes_[static_cast<std::size_t>(n.value())].reset();
    audit_ = true;  // the disk is about to lose its unsynced calls: re-check every ack
  }

  void deliver(node_id to, node_id from, const message& m) {
    if (muted_ && to == primary) return;
    if (hang_ && to == primary)
      for (volatile bool spin = true; spin;) {  // volatile: a loop with an observable effect, never optimised away
      }
    node& self = *nodes_[static_cast<std::size_t>(to.value())];
    if (m.kind == message::type::append) on_append(self, m);
    else on_ack(self, from, m);
  }

  void tick(node_id n) {
    node& self = *nodes_[static_cast<std::size_t>(n.value())];
    if (self.env.self == primary) {
      if (muted_) return;
      for (std::size_t b = 1; b <= cluster_; ++b)
        if (node_id{b} != primary) send_append(self, node_id{b});
      // A restarted primary re-learns its commit index here: with no backups
      // (one node) no acknowledgement would ever prompt it, and back-pressure
      // would then refuse every client value.
      advance_commit(self);
    } else if (self.unsynced) {
      (void)self.env.log.sync();
      self.unsynced = false;
    }
  }

  void client_request(std::string_view value) {
    auto& p = nodes_[static_cast<std::size_t>(primary.value())];
    if (!p || muted_) return;
    const std::uint64_t last = p->env.log.last_index().value();
    if (last - p->commit >= max_uncommitted) return;  // back-pressure: the client retries later
    if (!p->env.log.append(as_bytes(value))) return;
    (void)p->env.log.sync();  // the primary's copy counts towards the majority: durable first
    p->env.trace.propose(value);
    advance_commit(*p);
  }

  void on_heal() {
    if (variant_ == variant::mute_after_heal) muted_ = true;
    if (variant_ == variant::hang_after_heal) hang_ = true;
  }

  [[nodiscard]] std::optional<std::string> check() const {
    if (violation_) return violation_;
    if (audit_) {
      audit_ = false;
      for (const auto& [index, value] : acked_)
        if (auto v = check_held(index, value)) return v;
    }
    return std::nullopt;
  }

  [[nodiscard]] std::optional<std::string> final_check() const {
    const auto& p = nodes_[static_cast<std::size_t>(primary.value())];
    if (!p) return "the primary is down after the heal";
    for (const auto& [index, value] : acked_)
      if (applied_[static_cast<std::size_t>(primary.value())] < index)
        return "acknowledged index " + std::to_string(index) + " ('" + value +
               "') was not applied by the primary after the heal";
    return std::nullopt;
  }

  [[nodiscard]] std::uint64_t commits() const noexcept { return acked_.size(); }
  [[nodiscard]] std::uint64_t leader_changes() const noexcept { return leader_changes_; }

 private:
  struct node {
    explicit node(const node_env<message>& e) : env{e}, match(e.cluster_size + 1, 0) {}
    node_env<message> env;
    std::uint64_t commit{0};
    std::vector<std::uint64_t> match;  // primary: the last position each backup acknowledged
    bool unsynced{false};              // backup (planted bug): appends awaiting the tick's sync
  };

  static std::string value_at(const node& self, std::uint64_t i) {
    auto r = self.env.log.read(log_index{i});
    QUORUM_ASSERT(r.has_value());
    return std::string{as_chars(*r)};
  }

  void send_append(node& self, node_id to) {
    message m;
    m.kind = message::type::append;
    m.start = self.match[static_cast<std::size_t>(to.value())] + 1;
    m.commit = self.commit;
    const std::uint64_t last = self.env.log.last_index().value();
    for (std::uint64_t i = m.start; i <= last && m.entries.size() < max_batch; ++i)
      m.entries.push_back(value_at(self, i));
    self.env.transport.send(to, m);
  }

  void on_append(node& self, const message& m) {
    sim_log& log = self.env.log;
    const std::uint64_t last = log.last_index().value();
    if (m.start <= last + 1) {
      bool wrote = false;
      for (std::size_t k = 0; k < m.entries.size(); ++k) {
        const std::uint64_t pos = m.start + k;
        if (pos <= log.last_index().value()) {
          if (value_at(self, pos) == m.entries[k]) continue;
          (void)log.truncate(log_index{pos});
        }
        if (!log.append(as_bytes(m.entries[k]))) break;
        wrote = true;
      }
      if (wrote) {
        if (variant_ == variant::ack_before_sync) self.unsynced = true;
        else (void)log.sync();  // the durability rule: the ack below promises this write
      }
      apply_up_to(self, std::min(m.commit, log.last_index().value()));
    }
    message ack;
    ack.kind = message::type::ack;
    ack.last = log.last_index().value();
    self.env.transport.send(primary, ack);
  }

  void on_ack(node& self, node_id from, const message& m) {
    if (from == primary || from.value() >= self.match.size()) return;
    self.match[static_cast<std::size_t>(from.value())] =
        std::min(m.last, self.env.log.last_index().value());
    advance_commit(self);
  }

  void advance_commit(node& self) {
    std::vector<std::uint64_t> held{self.env.log.last_index().value()};
    for (std::size_t b = 1; b <= cluster_; ++b)
      if (node_id{b} != primary) held.push_back(self.match[b]);
    std::sort(held.begin(), held.end(), std::greater<>{});
    const std::uint64_t majority_holds = held[cluster_ / 2];
    for (std::uint64_t i = self.commit + 1; i <= majority_holds; ++i) acknowledge(self, i);
    self.commit = std::max(self.commit, majority_holds);
    apply_up_to(self, self.commit);
  }

  void acknowledge(const node& self, std::uint64_t index) {
    if (acked_.count(index) != 0) return;  // told once; a restarted primary re-learns old commits
    std::string value = value_at(self, index);
    self.env.trace.ack(index, value);
    if (auto v = agree(index, value)) record(std::move(*v));
    if (auto v = check_held(index, value)) record(std::move(*v));
    acked_.emplace(index, std::move(value));
  }

  void apply_up_to(node& self, std::uint64_t upto) {
    auto& applied = applied_[static_cast<std::size_t>(self.env.self.value())];
    while (applied < upto) {
      const std::uint64_t i = applied + 1;
      const std::string value = value_at(self, i);
      self.env.trace.apply(i, value);
      if (auto v = agree(i, value)) record(std::move(*v));
      applied = i;
    }
  }

  // One value per index, whoever applied or acknowledged it.
  std::optional<std::string> agree(std::uint64_t index, const std::string& value) {
    auto [it, fresh] = chosen_.emplace(index, value);
    if (fresh || it->second == value) return std::nullopt;
    return "index " + std::to_string(index) + " holds two values: '" + it->second + "' and '" +
           value + "'";
  }

  std::optional<std::string> check_held(std::uint64_t index, const std::string& value) const {
    std::size_t holders = 0;
    for (std::size_t n = 1; n < disks_.size(); ++n) {
      const byte_buffer* r = disks_[n]->current().at(log_index{index});
      if (r != nullptr && as_chars(*r) == value) ++holders;
    }
    if (holders > cluster_ / 2) return std::nullopt;
    return "acknowledged value '" + value + "' at index " + std::to_string(index) +
           " is held by only " + std::to_string(holders) + " of " + std::to_string(cluster_) +
           " disks: a crash lost a committed value";
  }

  void record(std::string why) {
    if (!violation_) violation_ = std::move(why);
  }

  variant variant_;
  std::size_t cluster_{0};
  std::vector<std::optional<node>> nodes_;  // [node id]; empty while crashed
  std::vector<const sim_disk*> disks_;      // [node id]
  std::vector<std::uint64_t> applied_;      // [node id]: last applied in this incarnation
  std::map<std::uint64_t, std::string> acked_;
  std::map<std::uint64_t, std::string> chosen_;
  std::uint64_t leader_changes_{0};
  std::optional<std::string> violation_;
  mutable bool audit_{false};
  bool muted_{false};
  bool hang_{false};
};

static_assert(Driver<driver>);

// One seed of the self-test protocol on the world's default options.
inline seed_report run_seed(const run_config& config, variant v) {
  driver d{v};
  world<driver> w{config, d};
  return w.run();
}

inline seed_report run_seed(const run_config& config, bool planted_bug) {
  return run_seed(config, planted_bug ? variant::ack_before_sync : variant::correct);
}

}  // namespace quorum::sim::selftest
