// Two-phase commit in the deterministic simulator: a world<> Driver running a
// coordinator (node 1) and participants (nodes 2..n) over the simulated
// network, disks and clocks. sim/ depends on two_phase_commit, never back.
// Paxos Commit has its own driver (sim/paxos_commit_driver.hpp), and
// run_2pc_seed() there picks one of the two per seed for `quorum-sim 2pc`.
//
// API:
//   seed_report r = quorum::sim::tpc_sim::run_seed(config);           // one seed
//   seed_report r = quorum::sim::tpc_sim::run_seed(config, {.bug = plant::forget_prepared});
//   tpc_sim::driver d{seed, opts};  world<tpc_sim::driver> w{config, d};  // scenario tests
// Each client request begins a transaction over a random non-empty subset of
// the participants; each resource manager votes no or read-only at random (a
// pure function of seed, node and txn) and otherwise yes. The presumption
// (abort or commit) is drawn per seed unless fixed in the options, and one
// seed in four runs presumed abort with the last-agent optimisation. Messages
// travel encoded, so every delivery also runs the total decoder.
// Checks: the two_phase_commit_checker's (one decision per txn, all outcomes
// agree, commit only on all yes) after every event; a resource manager never
// commits what it aborted, or the reverse; a participant whose resource voted
// yes still holds its prepared record after every crash (the durability
// rule). Liveness: after the heal every transaction begun before it settles
// (the coordinator closes it and no participant stays in doubt).
// Planted bugs, each of which must be caught: forget_prepared (a restarted
// participant loses its prepared records) and decide_alone (a participant in
// doubt aborts on its own at its next tick, as if an operator's heuristic
// were the protocol).
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
#include "quorum/sim/run.hpp"
#include "quorum/sim/two_phase_commit_checker.hpp"
#include "quorum/sim/world.hpp"
#include "quorum/two_phase_commit.hpp"

namespace quorum::sim::tpc_sim {

namespace tpc = quorum::two_phase_commit;

enum class plant : std::uint8_t {
  none,
  forget_prepared,  // a restarted participant loses its prepared records
  decide_alone,     // an in-doubt participant aborts on its own at its next tick
};

struct driver_options {
  plant bug{plant::none};
  std::optional<tpc::presumption> presumption{};  // empty: drawn per seed
  tpc::coordinator_options coordinator{.vote_timeout_ticks = 30, .retry_ticks = 5};
  tpc::participant_options participant{.unilateral_abort_ticks = 60, .inquiry_ticks = 10};
  double no_vote{0.1};
  double read_only_vote{0.1};
};

struct wire_transport {
  sim_transport<byte_buffer> net;
  void send(node_id to, const tpc::message& m) {
    byte_buffer b;
    tpc::encode(m, b);
    net.send(to, b);
  }
};

class driver;

// The resource manager policy: a handle on the driver, where each node's
// resource lives (it survives the node's crashes, as a real resource does).
struct sim_rm {
  driver* owner;
  node_id self;
  tpc::vote prepare(tpc::txn_id t);
  void commit(tpc::txn_id t);
  void abort(tpc::txn_id t);
};

struct coordinator_policies {
  using transport = wire_transport;
  using log = sim_log;
  using clock = sim_clock;
};
struct participant_policies : coordinator_policies {
  using resource_manager = sim_rm;
};

using sim_coordinator = tpc::coordinator<coordinator_policies>;
using sim_participant = tpc::participant<participant_policies>;

inline constexpr node_id coordinator_node{1};

// What the run exercised, summed over every node and incarnation: proof that
// the recovery and termination paths were taken, not just present.
struct coverage {
  std::uint64_t coordinator_recovered{0};  // unfinished txns a restarted coordinator resumed
  std::uint64_t in_doubt_recovered{0};     // prepared records a restarted participant found
  std::uint64_t inquiries{0};              // in-doubt participants asking for the outcome
  std::uint64_t unilateral_aborts{0};
  std::uint64_t vote_timeouts{0};
};

class driver {
 public:
  using message = byte_buffer;

  explicit driver(std::uint64_t seed, driver_options opts = {})
      : opts_{opts}, seed_{seed}, client_rng_{seed ^ 0x3270632d636c6965ULL} {
    opts_.coordinator.presumption =
        opts_.presumption ? *opts_.presumption : (seed % 2 == 0 ? tpc::presumption::commit : tpc::presumption::abort);
    // A quarter of the seeds (presumed abort ones) hold the last participant back: last agent.
    if (!opts_.presumption && seed % 4 == 3) opts_.coordinator.last_agent = true;
  }

  void boot(const node_env<message>& env) {
    if (nodes_.empty()) {
      nodes_.resize(env.cluster_size + 1);
      rms_.resize(env.cluster_size + 1);
    }
    node& n = at(env.self);
    n.env.emplace(env);
    if (env.self == coordinator_node) {
      ++coordinator_boots_;
      n.coord.emplace(env.self, wire_transport{env.transport}, env.log, env.clock, opts_.coordinator);
      if (!n.coord->status()) checker_.report("coordinator failed to start: " + n.coord->status().error().message());
      settle(env.self);
      return;
    }
    if (opts_.bug == plant::forget_prepared && env.incarnation > 1) forget_prepared(n.env->log);
    n.part.emplace(env.self, wire_transport{env.transport}, env.log, env.clock, sim_rm{this, env.self},
                   opts_.participant);
    if (!n.part->status())
      checker_.report("participant " + std::to_string(env.self.value()) +
                      " failed to start: " + n.part->status().error().message());
    audit(env.self);
  }

  void crash(node_id id) {
    node& n = at(id);
    add_coverage(n, past_);
    n.coord.reset();
    n.part.reset();
    // Work not yet prepared dies with the process: the resource rolls it back.
    for (auto& [t, s] : rms_[id.value()])
      if (s == rm_state::active) s = rm_state::rolled_back;
  }

  void deliver(node_id to, node_id /*from*/, const message& bytes) {
    node& n = at(to);
    if (n.coord) n.coord->receive(byte_view{bytes});
    else n.part->receive(byte_view{bytes});
    settle(to);
  }

  void tick(node_id id) {
    node& n = at(id);
    if (n.coord) n.coord->tick();
    else n.part->tick();
    if (opts_.bug == plant::decide_alone && n.part) give_up(id, *n.part);
    settle(id);
  }

  void client_request(std::string_view /*value*/) {
    node& c = at(coordinator_node);
    if (!c.coord || nodes_.size() < 3) return;
    const tpc::txn_id t{next_txn_ + 1};
    std::vector<node_id> ps;
    for (std::size_t i = 2; i < nodes_.size(); ++i)
      if (client_rng_.chance(0.6)) ps.push_back(node_id{i});
    if (ps.empty()) ps.push_back(node_id{client_rng_.between(2, nodes_.size() - 1)});
    if (!c.coord->begin(t, ps)) return settle(coordinator_node);  // busy: the client retries later
    next_txn_ = t.value();
    checker_.begin(t, ps);
    unsettled_.insert(t.value());
    participants_[t.value()] = ps;
    c.env->trace.propose("txn " + std::to_string(t.value()));
    for (const node_id p : ps) {
      node& n = at(p);
      if (!n.part) continue;  // down: its resource has no work for t, and will vote no
      if (n.part->enlist(t, coordinator_node)) rms_[p.value()][t.value()] = rm_state::active;
    }
    settle(coordinator_node);
  }

  void on_heal() {
    healing_ = true;
    heal_txn_ = next_txn_;
    mark_ = settled_;
  }

  [[nodiscard]] std::optional<std::string> check() const { return checker_.violation(); }

  // After the heal: every transaction begun before it settled.
  [[nodiscard]] std::optional<std::string> final_check() const {
    for (const std::uint64_t t : unsettled_)
      if (t <= heal_txn_) return "liveness: txn " + std::to_string(t) + " did not settle after the heal";
    return std::nullopt;
  }

  // Transactions settled; in the heal phase it stands still until every
  // transaction begun before the heal has settled, so the world's liveness
  // bound demands exactly that.
  [[nodiscard]] std::uint64_t commits() const noexcept {
    if (healing_ && !unsettled_.empty() && *unsettled_.begin() <= heal_txn_) return mark_;
    return settled_;
  }
  [[nodiscard]] std::uint64_t leader_changes() const noexcept { return coordinator_boots_; }
  [[nodiscard]] const two_phase_commit_checker& checker() const noexcept { return checker_; }
  [[nodiscard]] tpc::presumption presumption() const noexcept { return opts_.coordinator.presumption; }
  [[nodiscard]] std::uint64_t transactions() const noexcept { return next_txn_; }
  [[nodiscard]] coverage exercised() const {
    coverage c = past_;
    for (const node& n : nodes_) add_coverage(n, c);
    return c;
  }
  [[nodiscard]] std::uint64_t committed() const noexcept { return committed_; }
  [[nodiscard]] const sim_coordinator* coordinator() const {
    return nodes_.empty() || !nodes_[1].coord ? nullptr : &*nodes_[1].coord;
  }
  [[nodiscard]] const sim_participant* participant(node_id n) const {
    return n.value() >= nodes_.size() || !nodes_[n.value()].part ? nullptr : &*nodes_[n.value()].part;
  }

  tpc::vote rm_prepare(node_id n, tpc::txn_id t) {
    // A txn the resource never worked on is as good as rolled back: it votes no.
    rm_state& s = rms_[n.value()].try_emplace(t.value(), rm_state::rolled_back).first->second;
    tpc::vote v = tpc::vote::no;
    switch (s) {
      case rm_state::active: v = draw_vote(n, t); break;
      case rm_state::prepared: return tpc::vote::yes;
      case rm_state::read_only: return tpc::vote::read_only;
      case rm_state::committed:
        checker_.report("node " + std::to_string(n.value()) + " was asked to prepare txn " +
                        std::to_string(t.value()) + " after committing it");
        return tpc::vote::yes;
      default: break;  // unknown or rolled back: no
    }
    s = v == tpc::vote::yes         ? rm_state::prepared
        : v == tpc::vote::read_only ? rm_state::read_only
                                    : rm_state::rolled_back;
    if (voted_.insert({t.value(), n.value()}).second) {
      at(n).env->trace.vote(t.value(), v != tpc::vote::no);
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
    if (commit && s != rm_state::prepared && s != rm_state::committed) {
      checker_.report("node " + std::to_string(n.value()) + " committed txn " + std::to_string(t.value()) +
                      " without preparing it");
      return;
    }
    if (s == rm_state::committed || s == rm_state::aborted || s == rm_state::read_only) return;
    s = commit ? rm_state::committed : rm_state::aborted;
    at(n).env->trace.outcome(t.value(), commit);
    checker_.observe_outcome(t, n, d);
  }

 private:
  enum class rm_state : std::uint8_t { active, prepared, read_only, committed, aborted, rolled_back };
  struct node {
    std::optional<node_env<message>> env;
    std::optional<sim_coordinator> coord;
    std::optional<sim_participant> part;
  };

  static void add_coverage(const node& n, coverage& c) {
    if (n.coord) {
      c.coordinator_recovered += n.coord->stats().recovered;
      c.vote_timeouts += n.coord->stats().vote_timeouts;
    }
    if (n.part) {
      c.in_doubt_recovered += n.part->stats().in_doubt_recovered;
      c.inquiries += n.part->stats().inquiries_sent;
      c.unilateral_aborts += n.part->stats().unilateral_aborts;
    }
  }

  node& at(node_id n) {
    QUORUM_ASSERT(n.value() >= 1 && n.value() < nodes_.size());
    return nodes_[static_cast<std::size_t>(n.value())];
  }

  tpc::vote draw_vote(node_id n, tpc::txn_id t) const {
    std::uint64_t mix = seed_ ^ (n.value() * 0x9e3779b97f4a7c15ULL) ^ (t.value() * 0xbf58476d1ce4e5b9ULL);
    seeded_random r{splitmix64(mix)};
    if (r.chance(opts_.no_vote)) return tpc::vote::no;
    if (r.chance(opts_.read_only_vote)) return tpc::vote::read_only;
    return tpc::vote::yes;
  }

  // After every call into a node: the coordinator's decisions become trace
  // and checks; settled transactions leave the watch list.
  void settle(node_id id) {
    node& n = at(id);
    if (n.coord) {
      for (const tpc::decided_txn& d : n.coord->decisions()) {
        n.env->trace.decide(d.txn.value(), d.decision == tpc::decision::commit);
        checker_.observe_decide(d.txn, d.decision);
        if (d.decision == tpc::decision::commit && committed_txns_.insert(d.txn.value()).second) ++committed_;
      }
      n.coord->clear_decisions();
    }
    refresh();
  }

  // A transaction has settled when the coordinator is up and has closed it,
  // and no participant's resource is still prepared (in doubt) for it.
  void refresh() {
    const node& c = nodes_[coordinator_node.value()];
    if (!c.coord) return;
    for (auto it = unsettled_.begin(); it != unsettled_.end();) {
      const tpc::txn_id t{*it};
      bool done = !c.coord->is_open(t);
      for (const node_id p : participants_[*it]) {
        if (!done) break;
        auto s = rms_[p.value()].find(*it);
        done = s == rms_[p.value()].end() || s->second != rm_state::prepared;
      }
      if (!done) {
        ++it;
        continue;
      }
      participants_.erase(*it);
      it = unsettled_.erase(it);
      ++settled_;
    }
  }

  // The durability rule, seen from the disk: a resource that voted yes is
  // still prepared only if the node's log still holds its prepared record.
  void audit(node_id id) {
    const sim_disk& disk = *at(id).env->disk;
    std::set<std::uint64_t> held;
    std::vector<node_id> scratch;
    const disk_image& img = disk.current();
    for (log_index i = img.first_index(); i <= img.last_index(); i = i.next()) {
      auto r = tpc::decode_record(*img.at(i), scratch, 4096);
      if (r && r->kind == tpc::record_kind::prepared) held.insert(r->txn.value());
    }
    for (const auto& [t, s] : rms_[id.value()]) {
      if (s != rm_state::prepared || held.count(t) != 0) continue;
      checker_.report("node " + std::to_string(id.value()) + " voted yes on txn " + std::to_string(t) +
                      " but after a restart its log holds no prepared record: a promise was lost");
      return;
    }
  }

  // The planted bug decide_alone: every in-doubt txn is aborted at once.
  void give_up(node_id id, sim_participant& p) {
    std::vector<std::uint64_t> doubt;
    for (const auto& [t, s] : rms_[id.value()])
      if (s == rm_state::prepared) doubt.push_back(t);
    for (const std::uint64_t t : doubt) (void)p.heuristic_decide(tpc::txn_id{t}, tpc::decision::abort);
  }

  // The planted bug forget_prepared: the first prepared record and everything after it vanish.
  static void forget_prepared(sim_log& log) {
    std::vector<node_id> scratch;
    for (log_index i = log.first_index(); i <= log.last_index(); i = i.next()) {
      auto bytes = log.read(i);
      if (!bytes) return;
      auto r = tpc::decode_record(*bytes, scratch, 4096);
      if (r && r->kind == tpc::record_kind::prepared) {
        (void)log.truncate(i);
        (void)log.sync();
        return;
      }
    }
  }

  driver_options opts_;
  std::uint64_t seed_;
  seeded_random client_rng_;
  std::vector<node> nodes_;  // [node id]
  std::vector<std::map<std::uint64_t, rm_state>> rms_;  // [node id][txn]
  std::set<std::pair<std::uint64_t, std::uint64_t>> voted_;  // (txn, node)
  std::map<std::uint64_t, std::vector<node_id>> participants_;  // of unsettled txns
  std::set<std::uint64_t> unsettled_;
  std::set<std::uint64_t> committed_txns_;
  two_phase_commit_checker checker_;
  coverage past_;
  std::uint64_t next_txn_{0};
  std::uint64_t settled_{0};
  std::uint64_t committed_{0};
  std::uint64_t mark_{0};
  std::uint64_t heal_txn_{0};
  std::uint64_t coordinator_boots_{0};
  bool healing_{false};
};

inline tpc::vote sim_rm::prepare(tpc::txn_id t) { return owner->rm_prepare(self, t); }
inline void sim_rm::commit(tpc::txn_id t) { owner->rm_finish(self, t, tpc::decision::commit); }
inline void sim_rm::abort(tpc::txn_id t) { owner->rm_finish(self, t, tpc::decision::abort); }

static_assert(check_driver<driver>());

// One seed of two-phase commit: four nodes by default (a coordinator and three participants).
inline seed_report run_seed(const run_config& config, const driver_options& opts = {}) {
  driver d{config.seed, opts};
  world_options w;
  w.default_nodes = 4;
  world<driver> sim{config, d, w};
  return sim.run();
}

}  // namespace quorum::sim::tpc_sim
