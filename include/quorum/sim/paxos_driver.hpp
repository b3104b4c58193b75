// Multi-Paxos in the deterministic simulator: a world<> Driver running a
// cluster of paxos::node over the simulated network, disk and clocks, with the
// same key-value client as Raft's (sim/raft_driver.hpp). sim/ depends on
// paxos, never back.
//
// API:
//   seed_report r = quorum::sim::paxos_sim::run_seed(config);             // one seed
//   seed_report r = quorum::sim::paxos_sim::run_seed(config, {.bug = plant::forget_accepts});
//   paxos_sim::driver d{seed, opts};  world<paxos_sim::driver> w{config, d};  // scenario tests
//   paxos_sim::run_seed_with<paxos_sim::in_place_sim_log>(config, opts);  // pick the Log
// A seed runs over one of three Logs (log_of_seed): sim_log, which the
// journal's record cache copies from, or one whose records stay in place,
// whose values the journal's slot index views, with or without the members
// that say where a record went (memory_log has them).
// Messages travel encoded, so every delivery also goes through the total
// decoder. The client: each request is SET, GET or INCR on a few keys,
// proposed to the current leader at some slot. Commands are unique, so the
// value applied at that slot tells the proposal's fate: it is acknowledged
// when the proposing node, in the same incarnation, applies it there; any
// other value there means it was lost. An operation is resolved by the first
// apply of its slot on any node, and recorded for the linearizability check.
// With driver_options::reads, GETs skip the log and go through node::read
// (quorum rounds or leases), and the linearizability check judges them.
// Planted bugs prove the checkers fire: corrupt_apply (node 2 applies a
// mangled value), forget_promise (a restarted acceptor forgets its promise),
// forget_accepts (a restarted acceptor forgets what it accepted), local_reads
// (GETs answered from the stalest node's store, without a round).
// Beside the client, the driver plays operator: a node snapshots once it
// applied driver_options::snapshot_every slots past its last snapshot, so that
// journals compact, laggards get images in chunks, and restarts restore; and
// at a seeded rate the leader changes the membership through the log (a voter
// removed or demoted to learner, one brought back, or one swapped for
// another, the leader included), as sim/raft_driver.hpp does for Raft. A
// configuration command is traced and checked as the value "config voters
// ... learners ...".
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/random.hpp"
#include "quorum/paxos.hpp"
#include "quorum/sim/disk.hpp"
#include "quorum/sim/grouped_proposal.hpp"
#include "quorum/sim/history.hpp"
#include "quorum/sim/kv_client.hpp"
#include "quorum/sim/linearizability.hpp"
#include "quorum/sim/prefetch_check.hpp"
#include "quorum/sim/paxos_checker.hpp"
#include "quorum/sim/run.hpp"
#include "quorum/sim/world.hpp"
#include "quorum/storage/memory_snapshot_store.hpp"

namespace quorum::sim::paxos_sim {

enum class plant : std::uint8_t { none, corrupt_apply, forget_promise, forget_accepts, local_reads };

// How a GET is served: as a command through the log, or by node::read
// (a heartbeat round per read, or the leader's lease).
enum class read_path : std::uint8_t { log, quorum_read, lease_read };

// Small chunks and a short tail, so that snapshot transfers happen and take
// several chunks even in short runs; a short window (α), so that a
// configuration takes effect within a run's few dozen commands.
inline paxos::options default_sim_paxos_options() {
  paxos::options o;
  o.max_open_slots = 16;
  o.snapshot_chunk_bytes = 64;
  o.max_inflight_snapshot_chunks = 2;
  o.snapshot_trailing_slots = 8;
  return o;
}

struct driver_options {
  plant bug{plant::none};
  paxos::options paxos{default_sim_paxos_options()};  // seed is replaced per boot; lease_read sets lease_reads
  read_path reads{read_path::log};
  std::uint32_t registers{2};  // keys k0.. set and read
  std::uint32_t counters{1};   // keys after them incremented and read
  check_options linearizability{.max_steps = 2'000'000};
  // A node snapshots once it applied this many slots past its last one (0: never).
  std::uint64_t snapshot_every{30};
  // Per client request, the chance that the leader changes the membership (0: never).
  double membership_change_rate{0.03};
  // Per client request, the chance that it is a batch of 2 to max_batch
  // commands in one batch() guard on the leader (with now and then a tick
  // between two of them), and per batch the chance that its writes go in
  // one propose_all() at the end instead of one propose() each. 0 by
  // default, so that every seed found before batches replays as it did;
  // with_batches() (quorum-sim paxos-batch) turns them on.
  double batch_rate{0};
  std::uint32_t max_batch{6};
  double propose_all_share{0.5};

  [[nodiscard]] static driver_options with_batches() {
    driver_options o;
    o.batch_rate = 0.25;
    return o;
  }

  // The driver as it was before snapshots and reconfiguration existed
  // (planted-bug seeds found then replay exactly).
  [[nodiscard]] static driver_options without_snapshots(plant bug = plant::none) {
    driver_options o;
    o.bug = bug;
    o.paxos = paxos::options{};
    o.snapshot_every = 0;
    o.membership_change_rate = 0;
    return o;
  }
};

// Encodes each message: the network keeps its own copy of the bytes.
struct wire_transport {
  sim_transport<byte_buffer> net;
  void send(node_id to, const paxos::message& m) {
    byte_buffer b;
    paxos::encode(m, b);
    net.send(to, b);
  }
};

// sim_log, promising that its records stay in place (core/log.hpp): the
// disk image keeps each record in its own buffer in a deque that only grows
// and shrinks at its ends, so a record's bytes stay put until truncated or
// compacted away, and a node is re-created after every crash (the only time
// the image is replaced). Over it the journal writes a record to the Log at
// once and its slot index views the values there, as over memory_log; a
// view kept past a truncation or compaction reads freed memory, which the
// sanitizer build reports.
struct in_place_sim_log : sim_log {
  explicit in_place_sim_log(const sim_log& l) noexcept : sim_log{l} {}
  static constexpr bool records_stay_in_place = true;
};

// The same, with the optional members memory_log has: a record appended in
// two pieces, and where it went (core/log.hpp: append(h, b) and
// append(h, b, p)); the journal then views a record without reading it back.
// The view comes from read(), so a wrong position shows as other bytes.
struct placing_sim_log : in_place_sim_log {
  using in_place_sim_log::in_place_sim_log;
  result<log_index> append(byte_view b) { return sim_log::append(b); }
  result<log_index> append(byte_view head, byte_view body) {
    const record_parts one[] = {record_parts{head, body}};
    return append_run(std::span<const record_parts>{one});
  }
  result<log_index> append(byte_view head, byte_view body, byte_view& placed) {
    const result<log_index> at = append(head, body);
    if (!at) return at;
    const result<byte_view> view = read(*at);
    if (!view) return unexpected{view.error()};
    placed = *view;
    return at;
  }
};

template <class Log>
class basic_driver;

template <class Log>
struct policies_of {
  using transport = wire_transport;
  using log = Log;
  using clock = sim_clock;
  using state_machine = kv_machine<basic_driver<Log>>;
  using snapshot_store = sim_snapshot_store;
};

template <class Log>
class basic_driver {
 public:
  using message = byte_buffer;
  using paxos_node = paxos::node<policies_of<Log>>;

  explicit basic_driver(std::uint64_t seed, driver_options opts = {})
      : opts_{opts}, client_{seed, opts.registers, opts.counters} {}

  void boot(const node_env<message>& env) {
    if (members_.empty()) {
      members_.resize(env.cluster_size + 1);
      stores_.resize(env.cluster_size + 1);
      checker_.emplace(env.cluster_size);
      for (std::size_t i = 1; i <= env.cluster_size; ++i) ids_.push_back(node_id{i});
    }
    member& m = at(env.self);
    m = member{};
    m.env.emplace(env);
    if (env.incarnation > 1) plant_amnesia(m.env->log);
    paxos::options o = opts_.paxos;
    if (opts_.reads == read_path::lease_read) o.lease_reads = true;
    seeded_random rng = env.rng;
    o.seed = rng();
    m.node.emplace(env.self, ids_, wire_transport{env.transport}, Log{env.log}, env.clock,
                   kv_machine<basic_driver>{this, env.self},
                   sim_snapshot_store{&stores_[static_cast<std::size_t>(env.self.value())]}, o);
    checker_->boot(env.self);
    settle(env.self);
  }

  void crash(node_id n) {
    member& m = at(n);
    m.node.reset();
    for (auto it = reads_.begin(); it != reads_.end();)  // their fate stays unknown
      it = it->second.reader == n ? reads_.erase(it) : std::next(it);
    for (auto& [slot, p] : pending_)
      if (p.proposer == n) p.orphaned = true;  // its acknowledgement died with it
  }

  void deliver(node_id to, node_id /*from*/, const message& bytes) {
    at(to).node->receive(byte_view{bytes});
    settle(to);
  }

  void tick(node_id n) {
    paxos_node& p = *at(n).node;
    p.tick();
    settle(n);  // traces the applies before a snapshot may compact their slots away
    if (opts_.snapshot_every != 0 && p.applied_index() - p.snapshot_index() >= opts_.snapshot_every) {
      if (auto s = p.take_snapshot(); !s)
        record_mismatch("node " + std::to_string(n.value()) + " could not take a snapshot: " + s.error().message());
      settle(n);
    }
  }

  void client_request(std::string_view v) {
    const std::string command = client_.make_command(v);
    const node_id l = find_leader();
    const std::int64_t now = now_ns();
    const std::size_t op = client_.invoke(command, now);
    if (l == no_node) return client_.fail(op, now);
    operate(l);
    member& m = at(l);
    const bool get = kv_command::parse(command).is_read();
    if (opts_.bug == plant::local_reads && get) return local_read(command, op);
    if (opts_.reads != read_path::log && get) return start_read(l, command, op);
    if (opts_.batch_rate > 0 && client_.rng().chance(opts_.batch_rate)) return client_batch(l, op, v, command, now);
    checker_->observe_proposed(command);
    auto r = m.node->propose(as_bytes(command));
    if (!r) {
      settle(l);
      return client_.fail(op, now);
    }
    m.env->trace.propose(command);
    pending_.emplace(r->index.value(), proposal{l, command, op, false, false});
    settle(l);
  }

  [[nodiscard]] std::optional<std::string> check() const {
    if (checker_->violation()) return checker_->violation();
    return mismatch_;
  }

  // After liveness held: every acknowledged slot is in the chosen prefix and
  // the client's history is linearizable (or too costly to decide, which is
  // counted, not failed). No leader need be up at that instant: a candidate
  // still finishes phase 2 of the slots its phase 1 settled, and acknowledges.
  [[nodiscard]] std::optional<std::string> final_check() const {
    if (max_acked_ > checker_->chosen_prefix())
      return "acknowledged slot " + std::to_string(max_acked_) + " is past the chosen prefix " +
             std::to_string(checker_->chosen_prefix());
    return client_.verdict(opts_.linearizability, lin_unknown_);
  }

  [[nodiscard]] std::uint64_t commits() const noexcept { return acks_; }
  // Client batches run, and those proposed by one propose_all().
  [[nodiscard]] std::uint64_t batches() const noexcept { return batches_; }
  [[nodiscard]] std::uint64_t groups() const noexcept { return groups_; }
  [[nodiscard]] std::uint64_t membership_changes() const noexcept { return membership_changes_; }
  [[nodiscard]] std::uint64_t leader_changes() const noexcept { return leader_changes_; }
  [[nodiscard]] std::uint64_t linearizability_unknown() const noexcept { return lin_unknown_; }
  [[nodiscard]] const history& client_history() const noexcept { return client_.records(); }
  [[nodiscard]] const paxos_checker& checker() const { return *checker_; }
  [[nodiscard]] const paxos_node* node(node_id n) const {
    const member& m = members_[static_cast<std::size_t>(n.value())];
    return m.node ? &*m.node : nullptr;
  }

  // Called by kv_machine from inside the node: the read may now look at
  // this node's store, which holds every slot up to the read's index.
  void on_read_ready(node_id n, std::uint64_t id, log_index) {
    auto it = reads_.find(id);
    if (it == reads_.end() || it->second.reader != n) return;
    client_.finish(it->second.op, at(n).store.run(it->second.command, client_.records()), now_ns());
    reads_.erase(it);
  }
  void on_read_failed(node_id n, std::uint64_t id, const error&) {
    auto it = reads_.find(id);
    if (it == reads_.end() || it->second.reader != n) return;
    client_.fail(it->second.op, now_ns());
    reads_.erase(it);
  }

  // The prefetch hint's contract is checked as the calls come (prefetch_check.hpp).
  void on_prefetch(node_id n, byte_view command) {
    if (auto broke = at(n).hints.hinted(as_chars(command)))
      record_mismatch("node " + std::to_string(n.value()) + " " + *broke);
  }

  // Called by kv_machine from inside the node: runs the command on this
  // node's store now, and leaves the trace and checks to settle().
  void on_apply(node_id n, log_index i, byte_view command) {
    member& m = at(n);
    std::string text{as_chars(command)};
    if (auto broke = m.hints.applied(i.value(), text))
      record_mismatch("node " + std::to_string(n.value()) + " " + *broke);
    if (opts_.bug == plant::corrupt_apply && n == node_id{2} && !m.corrupted) {
      m.corrupted = true;
      text += "!";
    }
    const value out = m.store.run(text, client_.records());
    m.applies.push_back(applied{i.value(), std::move(text), out, false});
  }

  // The node's store as bytes, and back: its snapshot.
  void snapshot_state(node_id n, byte_buffer& out) { at(n).store.save(out); }
  void restore_state(node_id n, log_index i, byte_view image) {
    member& m = at(n);
    if (!m.store.load(image))
      record_mismatch("node " + std::to_string(n.value()) + " restored a snapshot it cannot read");
    m.applies.push_back(applied{i.value(), {}, value{}, true});
  }

 private:
  struct applied {
    std::uint64_t index;
    std::string text;
    value output;
    bool restore;  // not an apply: a snapshot restored up to index
  };
  struct member {
    std::optional<node_env<message>> env;
    std::optional<paxos_node> node;
    kv_store store;
    std::vector<applied> applies;  // made during the current call, not yet traced
    prefetch_check hints;            // the prefetch hints of the current incarnation
    std::uint64_t traced{0};       // last applied slot traced in this incarnation
    std::uint64_t seen_chosen{0};  // chosen watermark reported to the checker
    ballot leading{};              // the ballot it leads with, if it leads
    bool corrupted{false};
  };
  struct proposal {
    node_id proposer;
    std::string command;
    std::size_t op;
    bool resolved;
    bool orphaned;
  };

  struct read {
    node_id reader;
    std::string command;
    std::size_t op;
  };

  // A batch: commands "v12" (made before the batch was drawn), "v12.2",
  // "v12.3" ... inside one batch() guard on leader l, now and then a tick
  // between two of them; on a share of batches the writes go in one
  // propose_all() at the end. GETs that do not go through the log are
  // served after the guard, as single requests are.
  void client_batch(node_id l, std::size_t first_op, std::string_view v, const std::string& first_command,
                    std::int64_t now) {
    const auto n = static_cast<std::size_t>(client_.rng().between(2, std::max<std::uint32_t>(2, opts_.max_batch)));
    const bool as_group = client_.rng().chance(opts_.propose_all_share);
    member& m = at(l);
    command_group group;  // proposed at the end
    std::vector<std::pair<std::size_t, std::string>> reads;  // served after the guard
    {
      auto guard = m.node->batch();
      for (std::size_t k = 0; k < n && m.node->status(); ++k) {
        if (k > 0 && client_.rng().below(8) == 0) m.node->tick();
        const std::string command =
            k == 0 ? first_command : client_.make_command(std::string{v} + '.' + std::to_string(k + 1));
        const std::size_t op = k == 0 ? first_op : client_.invoke(command, now);
        if (opts_.reads != read_path::log && kv_command::parse(command).is_read()) reads.emplace_back(op, command);
        else if (as_group) group.emplace_back(op, command);
        else propose_in_batch(l, op, command, now, v);
      }
      if (!group.empty()) propose_group(l, group, now, v);
    }
    ++batches_;
    settle(l);
    for (const auto& [op, command] : reads) start_read(l, command, op);
  }

  void propose_in_batch(node_id l, std::size_t op, const std::string& command, std::int64_t now,
                        std::string_view batch) {
    member& m = at(l);
    checker_->observe_proposed(command);
    auto r = m.node->propose(as_bytes(command));
    if (!r) return client_.fail(op, now);
    m.env->trace.propose(command, batch);
    pending_.emplace(r->index.value(), proposal{l, command, op, false, false});
  }

  // The writes of a batch in one propose_all(): command k at the returned
  // slot + k, or every one of them refused.
  void propose_group(node_id l, const command_group& group, std::int64_t now, std::string_view batch) {
    member& m = at(l);
    for (const auto& [op, command] : group) checker_->observe_proposed(command);
    ++groups_;
    sim::propose_group(
        *m.node, group,
        [&](std::size_t k, std::size_t op, const std::string& command, const paxos::proposal& p) {
          m.env->trace.propose(command, batch);
          pending_.emplace(p.index.value() + k, proposal{l, command, op, false, false});
        },
        [&](std::size_t op) { client_.fail(op, now); });
  }

  void start_read(node_id l, const std::string& command, std::size_t op) {
    const std::uint64_t id = ++read_ids_;
    reads_.emplace(id, read{l, command, op});
    at(l).env->trace.propose(command);
    if (auto r = at(l).node->read(id); !r) {
      reads_.erase(id);
      client_.fail(op, now_ns());
    }
    settle(l);
  }

  // The planted bug: a GET answered at once from the store of the up node
  // that has applied least, as a careless follower read would be.
  void local_read(const std::string& command, std::size_t op) {
    member* stalest = nullptr;
    for (std::size_t i = 1; i < members_.size(); ++i) {
      member& m = members_[i];
      if (m.node && (stalest == nullptr || m.node->applied_index() < stalest->node->applied_index())) stalest = &m;
    }
    client_.finish(op, stalest->store.run(command, client_.records()), now_ns());
  }

  member& at(node_id n) {
    QUORUM_ASSERT(n.value() >= 1 && n.value() < members_.size());
    return members_[static_cast<std::size_t>(n.value())];
  }
  [[nodiscard]] std::int64_t now_ns() const {
    for (const member& m : members_)
      if (m.env) return m.env->trace.stamp().time.count();
    return 0;
  }

  // The planted bugs that live on the disk: what a restart finds is wrong.
  void plant_amnesia(sim_log& log) const {
    if (opts_.bug == plant::forget_promise) {
      (void)log.save_state({});
      (void)log.sync();
    } else if (opts_.bug == plant::forget_accepts && log.last_index() >= log.first_index()) {
      (void)log.truncate(log.first_index());
      (void)log.sync();
    }
  }

  // The leader a client would find: the up node that leads the highest ballot.
  [[nodiscard]] node_id find_leader() const {
    node_id best = no_node;
    ballot top{};
    for (std::size_t i = 1; i < members_.size(); ++i) {
      const member& m = members_[i];
      if (m.node && m.node->role() == paxos::role::leader && m.node->current_ballot() > top) {
        best = node_id{i};
        top = m.node->current_ballot();
      }
    }
    return best;
  }

  static std::string text_of(const paxos::entry& e) {
    if (e.kind == paxos::entry_kind::noop) return "noop";
    if (e.kind == paxos::entry_kind::config) return config_text(e.data);
    return std::string{as_chars(e.data)};
  }

  // "config voters 1 2 learners 3" (DESIGN.md's contract: a value no client proposed starts with "config").
  static std::string config_text(byte_view data) {
    auto c = paxos::decode_configuration(data);
    if (!c) return "config malformed";
    std::string text = "config voters";
    for (node_id v : c->voters) text += ' ' + std::to_string(v.value());
    if (!c->learners.empty()) text += " learners";
    for (node_id v : c->learners) text += ' ' + std::to_string(v.value());
    return text;
  }

  // The operator's move on leader l, at a seeded rate: bring a node back as
  // a voter, remove or demote a voter (the leader too), or swap one for
  // another in one change (Paxos needs no joint configuration for it).
  void operate(node_id l) {
    // A rate of 0 draws nothing: runs without operator moves stay as they were.
    if (opts_.membership_change_rate <= 0 || !client_.rng().chance(opts_.membership_change_rate)) return;
    paxos_node& p = *at(l).node;
    paxos::configuration target = p.membership();
    std::vector<node_id> out;
    for (node_id id : ids_)
      if (!paxos::contains(target.voters, id)) out.push_back(id);
    const std::size_t floor = std::max<std::size_t>(2, ids_.size() / 2 + 1);
    const double move = client_.rng().unit();
    if (!out.empty() && move < 0.5) {
      target.voters.push_back(out[client_.rng().below(out.size())]);  // back as a voter
    } else if (!out.empty() && move < 0.7) {
      const node_id gone = target.voters[client_.rng().below(target.voters.size())];
      std::erase(target.voters, gone);
      target.voters.push_back(out[client_.rng().below(out.size())]);  // a swap
      if (client_.rng().chance(0.5)) target.learners.push_back(gone);
    } else if (target.voters.size() > floor) {
      const node_id gone = target.voters[client_.rng().below(target.voters.size())];
      std::erase(target.voters, gone);
      if (client_.rng().chance(0.5)) target.learners.push_back(gone);
    }
    std::sort(target.voters.begin(), target.voters.end());
    std::erase_if(target.learners, [&](node_id x) { return paxos::contains(target.voters, x); });
    byte_buffer data;
    paxos::encode(target, data);
    checker_->observe_proposed(config_text(data));
    if (p.change_membership(target)) ++membership_changes_;
    settle(l);
  }

  // After every call into a node: what changed becomes checks and trace.
  void settle(node_id n) {
    member& m = at(n);
    paxos_node& p = *m.node;
    if (auto broke = m.hints.returned()) record_mismatch("node " + std::to_string(n.value()) + " " + *broke);
    const ballot leading = p.role() == paxos::role::leader ? p.current_ballot() : ballot{};
    if (leading.round != 0 && leading != m.leading) {
      ++leader_changes_;
      m.env->trace.leader(leading);
      checker_->observe_leader(n, leading);
    }
    m.leading = leading;
    // A restore comes before any apply of the same call (a node restores in
    // its constructor or while taking a chunk, and applies only in flush()).
    if (!m.applies.empty() && m.applies.front().restore) {
      const std::uint64_t index = m.applies.front().index;
      m.applies.erase(m.applies.begin());
      m.env->trace.restore(index);
      checker_->observe_restore(n, index);
      m.traced = index;
    }
    // Slots the snapshot covers are held by no value any more.
    const std::uint64_t first = std::max(m.seen_chosen, p.compacted_index().value()) + 1;
    for (std::uint64_t s = first; s <= p.commit_index().value(); ++s) {
      auto e = p.value_at(log_index{s});
      if (!e) {
        record_mismatch("node " + std::to_string(n.value()) + " counts slot " + std::to_string(s) +
                        " chosen but holds no value for it");
        break;
      }
      checker_->observe_chosen(n, s, text_of(*e));
    }
    m.seen_chosen = std::max(m.seen_chosen, p.commit_index().value());
    trace_applies(n, m, p);
  }

  void trace_applies(node_id n, member& m, paxos_node& p) {
    std::size_t next = 0;
    for (std::uint64_t i = m.traced + 1; i <= p.applied_index().value(); ++i) {
      if (next < m.applies.size() && m.applies[next].index == i) {
        const applied& a = m.applies[next++];
        m.env->trace.apply(i, a.text);
        checker_->observe_apply(n, i, a.text);
        resolve(n, i, a.text, a.output);
      } else {
        // Not handed to the state machine: a no-op or a configuration.
        auto e = p.value_at(log_index{i});
        const std::string text = e ? text_of(*e) : std::string{"noop"};
        m.env->trace.apply(i, text);
        checker_->observe_apply(n, i, text);
        resolve(n, i, text, value{});
      }
    }
    QUORUM_ASSERT(next == m.applies.size());
    m.applies.clear();
    m.traced = p.applied_index().value();
  }

  // The fate of every proposal at slot i, now that n applied `text` there.
  void resolve(node_id n, std::uint64_t i, const std::string& text, value out) {
    auto [lo, hi] = pending_.equal_range(i);
    const std::int64_t now = now_ns();
    for (auto it = lo; it != hi;) {
      proposal& p = it->second;
      const bool ours = text == p.command;
      if (!p.resolved) {
        p.resolved = true;
        if (ours) client_.finish(p.op, out, now);
        else client_.fail(p.op, now);
      }
      if (ours && p.proposer == n && !p.orphaned) {
        at(n).env->trace.ack(i, p.command);
        checker_->observe_ack(i, text);
        ++acks_;
        max_acked_ = std::max(max_acked_, i);
        p.orphaned = true;
      }
      if (!ours || p.orphaned) it = pending_.erase(it);
      else ++it;
    }
  }

  void record_mismatch(std::string why) {
    if (!mismatch_) mismatch_ = std::move(why);
  }

  driver_options opts_;
  kv_client client_;  // its random stream also draws the operator's moves
  std::vector<member> members_;  // [node id]
  std::vector<storage::memory_snapshot_store> stores_;  // [node id]: outlive incarnations
  std::vector<node_id> ids_;
  std::optional<paxos_checker> checker_;
  std::multimap<std::uint64_t, proposal> pending_;  // slot -> proposals awaiting their fate
  std::map<std::uint64_t, read> reads_;             // read id -> a read awaiting its round
  std::uint64_t read_ids_{0};
  std::optional<std::string> mismatch_;
  std::uint64_t acks_{0};
  std::uint64_t membership_changes_{0};
  std::uint64_t batches_{0};
  std::uint64_t groups_{0};
  std::uint64_t leader_changes_{0};
  std::uint64_t max_acked_{0};
  mutable std::uint64_t lin_unknown_{0};
};

// The copying Log: what scenario tests get by default.
using driver = basic_driver<sim_log>;
using paxos_node = driver::paxos_node;
static_assert(check_driver<driver>());
static_assert(check_driver<basic_driver<in_place_sim_log>>());
static_assert(check_driver<basic_driver<placing_sim_log>>());
static_assert(log_records_stay_in_place<in_place_sim_log> && !log_records_stay_in_place<sim_log>);
static_assert(paxos::detail::appends_placed<placing_sim_log> && !paxos::detail::appends_placed<in_place_sim_log>);

// Which Log a seed's nodes get: half of the seeds the copying one, the rest
// one whose records stay in place, half of those with the members that say
// where a record went. Mixed from the seed, so neighbouring seeds differ.
enum class seed_log : std::uint8_t { copying, in_place, placing };
[[nodiscard]] inline seed_log log_of_seed(std::uint64_t seed) noexcept {
  const std::uint64_t r = seeded_random{seed ^ 0x7061786c6f67ULL}();
  if ((r & 1) == 0) return seed_log::copying;
  return (r & 2) != 0 ? seed_log::placing : seed_log::in_place;
}

template <class Log>
seed_report run_seed_with(const run_config& config, const driver_options& opts) {
  basic_driver<Log> d{config.seed, opts};
  world<basic_driver<Log>> w{config, d};
  return w.run();
}

// One seed of Multi-Paxos on the world's default options.
inline seed_report run_seed(const run_config& config, const driver_options& opts = {}) {
  switch (log_of_seed(config.seed)) {
    case seed_log::copying: return run_seed_with<sim_log>(config, opts);
    case seed_log::in_place: return run_seed_with<in_place_sim_log>(config, opts);
    case seed_log::placing: break;
  }
  return run_seed_with<placing_sim_log>(config, opts);
}

}  // namespace quorum::sim::paxos_sim
