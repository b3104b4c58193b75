// Paxos Commit in the deterministic simulator: a world<> Driver running a
// paxos_commit_node on every node. Node 1 begins each transaction (the
// coordinator: its first leader), over a random non-empty subset of nodes
// 2..n; nodes 1..2F+1 are the acceptors, F = min((n - 1) / 2, 2).
// `quorum-sim 2pc` runs it on the seeds variant_of_seed() names (one in four).
//
// API:
//   seed_report r = quorum::sim::pc_sim::run_seed(config);
//   seed_report r = quorum::sim::pc_sim::run_seed(config, {.bug = plant::no_recovery});
//   seed_report r = quorum::sim::run_2pc_seed(config);  // classic or Paxos Commit, by seed
// Resource managers vote no at random (a pure function of seed, node and txn),
// as in the classic driver; work not yet prepared dies with a crash.
// Checks after every event: two_phase_commit_checker's (one outcome per txn,
// every participant agrees, commit only on all yes); a resource never commits
// what it aborted, nor is asked to prepare again what it committed (a
// forgotten txn resurrected); a node whose resource voted yes still holds its
// prepared record after a restart; and non_blocking_checker's rule: while the
// coordinator is down, a participant in doubt whose fellow participants and
// a majority of acceptors are up, connected and on a network that drops
// nothing learns the outcome within rm_in_doubt + (participants + 3) leader
// timeouts. Liveness after the heal: every txn begun before it settles (no
// participant in doubt, and a leader decided it or the coordinator let it go).
// Planted bug no_recovery: phase 1a messages never leave a node, so no
// recovery leader can finish a txn; the non-blocking rule must catch it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/random.hpp"
#include "quorum/sim/disk.hpp"
#include "quorum/sim/paxos_commit_checker.hpp"
#include "quorum/sim/run.hpp"
#include "quorum/sim/two_phase_commit_checker.hpp"
#include "quorum/sim/two_phase_commit_driver.hpp"
#include "quorum/sim/world.hpp"
#include "quorum/two_phase_commit/paxos_commit.hpp"

namespace quorum::sim {

namespace pc_sim {

namespace tpc = quorum::two_phase_commit;

enum class plant : std::uint8_t {
  none,
  no_recovery,  // phase 1a never leaves a node: a crashed coordinator blocks its txns
};

// Short timers, so a recovery fits well inside a crashed coordinator's downtime.
[[nodiscard]] inline tpc::paxos_commit_options sim_node_options() {
  tpc::paxos_commit_options o;
  o.acceptor_flush_ticks = 2;
  o.leader_timeout_ticks = 5;
  o.rm_in_doubt_ticks = 10;
  o.acceptor_query_ticks = 40;
  o.report_decisions = true;
  return o;
}

struct driver_options {
  plant bug{plant::none};
  tpc::paxos_commit_options node{sim_node_options()};  // f and acceptors are set from the cluster size
  double no_vote{0.1};
};

struct wire_transport {
  sim_transport<byte_buffer> net;
  plant bug;
  void send(node_id to, const tpc::pc_message& m) {
    if (bug == plant::no_recovery && m.type == tpc::pc_message_type::phase1a) return;
    byte_buffer b;
    tpc::encode(m, b);
    net.send(to, b);
  }
};

class driver;

struct sim_rm {
  driver* owner;
  node_id self;
  tpc::vote prepare(tpc::txn_id t);
  void commit(tpc::txn_id t);
  void abort(tpc::txn_id t);
};

struct node_policies {
  using transport = wire_transport;
  using log = sim_log;
  using clock = sim_clock;
  using resource_manager = sim_rm;
};
using sim_node = tpc::paxos_commit_node<node_policies>;

inline constexpr node_id coordinator_node{1};

// What the run exercised, over every node and incarnation.
struct coverage {
  std::uint64_t recoveries{0};         // phase 1 rounds started by a leader
  std::uint64_t forgotten{0};          // txns a node dropped
  std::uint64_t refused_forgotten{0};  // late prepares of forgotten txns refused
  std::uint64_t gc_messages{0};
  std::uint64_t decisions{0};
  sim_duration longest_watch{0};  // the longest the non-blocking rule held for one in-doubt participant
};

class driver {
 public:
  using message = byte_buffer;

  explicit driver(std::uint64_t seed, driver_options opts = {})
      : opts_{std::move(opts)}, seed_{seed}, client_rng_{seed ^ 0x70632d636c69656eULL} {}

  // The world, for the non-blocking rule (who is up, which links deliver).
  void attach(world<driver>& w, sim_duration tick_interval) {
    world_ = &w;
    tick_interval_ = tick_interval;
  }

  void boot(const node_env<message>& env) {
    if (nodes_.empty()) setup(env.cluster_size);
    node& n = at(env.self);
    n.env.emplace(env);
    if (env.self == coordinator_node) ++coordinator_boots_;
    n.pc.emplace(env.self, wire_transport{env.transport, opts_.bug}, env.log, env.clock, sim_rm{this, env.self},
                 opts_.node);
    if (!n.pc->status())
      checker_.report("node " + std::to_string(env.self.value()) +
                      " failed to start: " + n.pc->status().error().message());
    audit(env.self);
    settle(env.self);
  }

  void crash(node_id id) {
    changed_ = true;
    node& n = at(id);
    add_coverage(n, past_);
    n.pc.reset();
    for (auto& [t, s] : rms_[id.value()])
      if (s == rm_state::active) s = rm_state::rolled_back;
  }

  void deliver(node_id to, node_id /*from*/, const message& bytes) {
    at(to).pc->receive(byte_view{bytes});
    settle(to);
  }

  void tick(node_id id) {
    at(id).pc->tick();
    settle(id);
  }

  void client_request(std::string_view /*value*/) {
    node& c = at(coordinator_node);
    if (!c.pc || nodes_.size() < 3) return;
    const tpc::txn_id t{next_txn_ + 1};
    std::vector<node_id> ps;
    for (std::size_t i = 2; i < nodes_.size(); ++i)
      if (client_rng_.chance(0.6)) ps.push_back(node_id{i});
    if (ps.empty()) ps.push_back(node_id{client_rng_.between(2, nodes_.size() - 1)});
    // Work first: the prepare may reach a resource in this very call.
    for (const node_id p : ps)
      if (at(p).pc) rms_[p.value()].try_emplace(t.value(), rm_state::active);
    if (!c.pc->begin(t, ps)) return settle(coordinator_node);  // busy: the client retries later
    next_txn_ = t.value();
    checker_.begin(t, ps);
    unsettled_.insert(t.value());
    participants_[t.value()] = ps;
    c.env->trace.propose("txn " + std::to_string(t.value()));
    settle(coordinator_node);
  }

  void on_heal() {
    healing_ = true;
    heal_txn_ = next_txn_;
    mark_ = settled_;
  }

  // The per-event hook: safety, then the non-blocking rule over the world as it is now.
  [[nodiscard]] std::optional<std::string> check() const {
    if (checker_.violation()) return checker_.violation();
    watch_blocking();
    return blocking_.violation();
  }

  [[nodiscard]] std::optional<std::string> final_check() const {
    for (const std::uint64_t t : unsettled_)
      if (t <= heal_txn_) return "liveness: txn " + std::to_string(t) + " did not settle after the heal";
    return std::nullopt;
  }

  [[nodiscard]] std::uint64_t commits() const noexcept {
    if (healing_ && !unsettled_.empty() && *unsettled_.begin() <= heal_txn_) return mark_;
    return settled_;
  }
  [[nodiscard]] std::uint64_t leader_changes() const { return coordinator_boots_ + exercised().recoveries; }
  [[nodiscard]] const two_phase_commit_checker& checker() const noexcept { return checker_; }
  [[nodiscard]] std::uint64_t transactions() const noexcept { return next_txn_; }
  [[nodiscard]] std::uint64_t committed() const noexcept { return committed_; }
  [[nodiscard]] std::size_t f() const noexcept { return f_; }
  [[nodiscard]] coverage exercised() const {
    coverage c = past_;
    for (const node& n : nodes_) add_coverage(n, c);
    c.longest_watch = blocking_.longest();
    return c;
  }
  [[nodiscard]] const sim_node* at_node(node_id n) const {
    return n.value() >= nodes_.size() || !nodes_[n.value()].pc ? nullptr : &*nodes_[n.value()].pc;
  }

  tpc::vote rm_prepare(node_id n, tpc::txn_id t) {
    rm_state& s = rms_[n.value()].try_emplace(t.value(), rm_state::rolled_back).first->second;
    tpc::vote v = tpc::vote::no;
    switch (s) {
      case rm_state::active: v = draw_vote(n, t); break;
      case rm_state::prepared: return tpc::vote::yes;
      case rm_state::committed:
        checker_.report("node " + std::to_string(n.value()) + " was asked to prepare txn " +
                        std::to_string(t.value()) + " after committing it (a forgotten txn came back)");
        return tpc::vote::yes;
      default: break;  // unknown, rolled back or aborted: no
    }
    s = v == tpc::vote::yes ? rm_state::prepared : rm_state::rolled_back;
    if (voted_.insert({t.value(), n.value()}).second) {
      at(n).env->trace.vote(t.value(), v == tpc::vote::yes);
      checker_.observe_vote(t, n, v);
    }
    return v;
  }

  void rm_finish(node_id n, tpc::txn_id t, tpc::decision d) {
    auto it = rms_[n.value()].find(t.value());
    if (it == rms_[n.value()].end()) return;  // never had work for t: nothing to undo
    rm_state& s = it->second;
    const bool commit = d == tpc::decision::commit;
    if ((commit && (s == rm_state::rolled_back || s == rm_state::aborted)) || (!commit && s == rm_state::committed)) {
      checker_.report("node " + std::to_string(n.value()) + "'s resource was told to " + tpc::to_string(d) +
                      " txn " + std::to_string(t.value()) + " after the opposite");
      return;
    }
    if (commit && s == rm_state::active) {
      checker_.report("node " + std::to_string(n.value()) + " committed txn " + std::to_string(t.value()) +
                      " without preparing it");
      return;
    }
    if (s == rm_state::committed || s == rm_state::aborted) return;
    s = commit ? rm_state::committed : rm_state::aborted;
    changed_ = true;
    at(n).env->trace.outcome(t.value(), commit);
    checker_.observe_outcome(t, n, d);
  }

 private:
  enum class rm_state : std::uint8_t { active, prepared, committed, aborted, rolled_back };
  struct node {
    std::optional<node_env<message>> env;
    std::optional<sim_node> pc;
  };

  void setup(std::size_t n) {
    nodes_.resize(n + 1);
    rms_.resize(n + 1);
    f_ = std::min<std::size_t>((n - 1) / 2, 2);
    opts_.node.f = f_;
    opts_.node.acceptors.clear();
    for (std::size_t i = 1; i <= 2 * f_ + 1; ++i) opts_.node.acceptors.push_back(node_id{i});
  }

  static void add_coverage(const node& n, coverage& c) {
    if (!n.pc) return;
    const tpc::paxos_commit_stats& s = n.pc->stats();
    c.recoveries += s.recoveries;
    c.forgotten += s.forgotten;
    c.refused_forgotten += s.refused_forgotten;
    c.gc_messages += s.gc_messages;
    c.decisions += s.commits + s.aborts;
  }

  node& at(node_id n) {
    QUORUM_ASSERT(n.value() >= 1 && n.value() < nodes_.size());
    return nodes_[static_cast<std::size_t>(n.value())];
  }

  tpc::vote draw_vote(node_id n, tpc::txn_id t) const {
    std::uint64_t mix = seed_ ^ (n.value() * 0x9e3779b97f4a7c15ULL) ^ (t.value() * 0xbf58476d1ce4e5b9ULL);
    seeded_random r{splitmix64(mix)};
    return r.chance(opts_.no_vote) ? tpc::vote::no : tpc::vote::yes;
  }

  // After every call into a node: its decisions become trace and checks.
  void settle(node_id id) {
    node& n = at(id);
    if (n.pc) {
      for (const tpc::decided_txn& d : n.pc->decisions()) {
        n.env->trace.decide(d.txn.value(), d.decision == tpc::decision::commit);
        checker_.observe_decide(d.txn, d.decision);
        changed_ = true;
        if (d.decision == tpc::decision::commit && committed_txns_.insert(d.txn.value()).second) ++committed_;
      }
      n.pc->clear_decisions();
    }
    // Settling changes only with an outcome, a decision, or the coordinator letting go.
    if (changed_ || id == coordinator_node) refresh();
    changed_ = false;
  }

  [[nodiscard]] bool in_doubt(std::uint64_t t, node_id p) const {
    auto s = rms_[p.value()].find(t);
    return s != rms_[p.value()].end() && s->second == rm_state::prepared;
  }

  // Settled: no participant in doubt, and a leader decided it or the
  // coordinator (up) holds it no more (nobody voted yes, and it let go).
  void refresh() {
    const node& c = nodes_[coordinator_node.value()];
    for (auto it = unsettled_.begin(); it != unsettled_.end();) {
      const std::uint64_t t = *it;
      const auto& ps = participants_[t];
      const bool doubt = std::any_of(ps.begin(), ps.end(), [&](node_id p) { return in_doubt(t, p); });
      const bool over = checker_.decided(tpc::txn_id{t}) || (c.pc && !c.pc->holds(tpc::txn_id{t}));
      if (doubt || !over) {
        ++it;
        continue;
      }
      participants_.erase(t);
      it = unsettled_.erase(it);
      ++settled_;
    }
  }

  // The non-blocking rule's condition for one txn, with the coordinator down.
  [[nodiscard]] bool reachable(const std::vector<node_id>& ps) const {
    std::vector<node_id> group;
    for (const node_id p : ps) {
      if (!world_->up(p)) return false;
      group.push_back(p);
    }
    std::size_t acceptors_up = 0;
    for (const node_id a : opts_.node.acceptors) {
      if (!world_->up(a)) continue;
      ++acceptors_up;
      if (std::find(group.begin(), group.end(), a) == group.end()) group.push_back(a);
    }
    if (acceptors_up < f_ + 1) return false;
    for (const node_id a : group)
      for (const node_id b : group)
        if (a != b && !world_->net().connected(a, b)) return false;
    return true;
  }

  void watch_blocking() const {
    if (world_ == nullptr) return;
    const sim_time now = world_->time().now();
    const bool lossless = world_->net().options().drop == 0;
    if (!world_->up(coordinator_node) && lossless) {
      for (const std::uint64_t t : unsettled_) {
        const auto& ps = participants_.at(t);
        if (!reachable(ps)) continue;
        const sim_duration bound =
            tick_interval_ * static_cast<sim_duration::rep>(opts_.node.rm_in_doubt_ticks +
                                                           (ps.size() + 3) * opts_.node.leader_timeout_ticks);
        for (const node_id p : ps)
          if (in_doubt(t, p)) blocking_.observe(t, p, now, bound);
      }
    }
    blocking_.end_event(now);
  }

  // The durability rule, seen from the disk: a resource still prepared after a
  // restart needs the node's log to hold its prepared record.
  void audit(node_id id) {
    const disk_image& img = at(id).env->disk->current();
    std::set<std::uint64_t> held;
    for (log_index i = img.first_index(); i <= img.last_index(); i = i.next()) {
      auto r = tpc::decode_pc_record(*img.at(i), 4096);
      if (r && r->kind == tpc::pc_record_kind::prepared) held.insert(r->txn.value());
    }
    for (const auto& [t, s] : rms_[id.value()]) {
      if (s != rm_state::prepared || held.count(t) != 0) continue;
      checker_.report("node " + std::to_string(id.value()) + " voted yes on txn " + std::to_string(t) +
                      " but after a restart its log holds no prepared record: a promise was lost");
      return;
    }
  }

  driver_options opts_;
  std::uint64_t seed_;
  seeded_random client_rng_;
  world<driver>* world_{nullptr};
  sim_duration tick_interval_{};
  std::size_t f_{0};
  std::vector<node> nodes_;
  std::vector<std::map<std::uint64_t, rm_state>> rms_;
  std::set<std::pair<std::uint64_t, std::uint64_t>> voted_;
  std::map<std::uint64_t, std::vector<node_id>> participants_;
  std::set<std::uint64_t> unsettled_;
  std::set<std::uint64_t> committed_txns_;
  two_phase_commit_checker checker_;
  mutable non_blocking_checker blocking_;  // fed from check(), the world's per-event hook
  coverage past_;
  std::uint64_t next_txn_{0};
  std::uint64_t settled_{0};
  std::uint64_t committed_{0};
  std::uint64_t mark_{0};
  std::uint64_t heal_txn_{0};
  std::uint64_t coordinator_boots_{0};
  bool healing_{false};
  bool changed_{false};  // since the last refresh
};

inline tpc::vote sim_rm::prepare(tpc::txn_id t) { return owner->rm_prepare(self, t); }
inline void sim_rm::commit(tpc::txn_id t) { owner->rm_finish(self, t, tpc::decision::commit); }
inline void sim_rm::abort(tpc::txn_id t) { owner->rm_finish(self, t, tpc::decision::abort); }

static_assert(check_driver<driver>());

// One seed of Paxos Commit: four nodes by default (node 1 coordinates; F = 1).
inline seed_report run_seed(const run_config& config, const driver_options& opts = {}) {
  driver d{config.seed, opts};
  world_options w;
  w.default_nodes = 4;
  world<driver> sim{config, d, w};
  d.attach(sim, w.tick_interval);
  return sim.run();
}

}  // namespace pc_sim

// `quorum-sim 2pc`: which two-phase commit a seed runs. One seed in four
// (seed % 4 == 2) runs Paxos Commit; the rest run classic 2PC, whose seeds
// also choose presumed abort or commit and the last-agent optimisation.
enum class tpc_variant : std::uint8_t { classic, paxos_commit };

[[nodiscard]] constexpr tpc_variant variant_of_seed(std::uint64_t seed) noexcept {
  return seed % 4 == 2 ? tpc_variant::paxos_commit : tpc_variant::classic;
}

inline seed_report run_2pc_seed(const run_config& config) {
  return variant_of_seed(config.seed) == tpc_variant::paxos_commit ? pc_sim::run_seed(config)
                                                                   : tpc_sim::run_seed(config);
}

}  // namespace quorum::sim
