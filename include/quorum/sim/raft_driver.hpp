// Raft in the deterministic simulator: a world<> Driver running a cluster of
// raft::node over the simulated network, disk and clocks, with a key-value
// client whose operations go through the log. sim/ depends on raft, never back.
//
// API:
//   seed_report r = quorum::sim::raft_sim::run_seed(config);            // one seed
//   seed_report r = quorum::sim::raft_sim::run_seed(config, {.bug = plant::corrupt_apply});
//   raft_sim::driver d{seed, opts};  world<raft_sim::driver> w{config, d};  // scenario tests
// Messages travel encoded (the network copies them; raft::message only views
// its entries), so every delivery also goes through the total decoder.
// The client: each request is SET (a register key: "v12 set k0"), GET or INCR
// (the counter key) on a few keys, proposed to the current leader. It is
// acknowledged when the proposing node, in the same incarnation, applies the
// proposal's (index, term); applying another term there means it was lost.
// Every operation is recorded for the linearizability check at the end of a
// seed; an operation is resolved by the first apply of its index on any node.
// Planted bugs prove the checkers fire: corrupt_apply (node 2 applies a
// mangled value), forget_vote (a restarted node forgets whom it voted for).
// Beside the client, the driver plays operator: nodes snapshot and compact
// their logs, the leader changes the membership (learners, removals, joint
// changes) and hands leadership over, and some reads go through ReadIndex
// instead of the log; each at a seeded rate, so every seed exercises them.
// Some requests are batches: several commands (and reads, a tick, a
// duplicate of the last message the leader got, an operator move) inside
// one raft::node::batch() guard, so the leader's run append and the batch's
// one sync run under faults; at a seeded rate the Log then refuses the run
// and the failed node restarts. run_seed() picks per seed a Log with or
// without append_run (core/log.hpp), so both of raft_log's paths run.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/random.hpp"
#include "quorum/raft.hpp"
#include "quorum/sim/disk.hpp"
#include "quorum/sim/grouped_proposal.hpp"
#include "quorum/sim/history.hpp"
#include "quorum/sim/kv_client.hpp"
#include "quorum/sim/linearizability.hpp"
#include "quorum/sim/prefetch_check.hpp"
#include "quorum/sim/raft_checker.hpp"
#include "quorum/sim/run.hpp"
#include "quorum/sim/world.hpp"
#include "quorum/storage/memory_snapshot_store.hpp"

namespace quorum::sim::raft_sim {

// Planted bugs, each a wrong behaviour the checkers must catch:
// finish_sync_early (with async_sync_share) tells a node a started sync is
// done without making what it covered durable, as a Log that lied would.
enum class plant : std::uint8_t { none, corrupt_apply, forget_vote, finish_sync_early };

// Small chunks and a short tail, so that snapshot transfers happen and take
// several chunks even in short runs.
inline raft::options default_sim_raft_options() {
  raft::options o;
  o.snapshot_chunk_bytes = 64;
  o.max_inflight_snapshot_chunks = 2;
  o.snapshot_trailing_entries = 8;
  return o;
}

struct driver_options {
  plant bug{plant::none};
  raft::options raft{default_sim_raft_options()};  // seed is replaced per boot
  std::uint32_t registers{2};  // keys k0.. set and read
  std::uint32_t counters{1};   // keys after them incremented and read
  check_options linearizability{.max_steps = 2'000'000};
  // Operator actions (0 turns one off): a node snapshots once it applied
  // this many entries past its last snapshot; per client request, the
  // chance that the leader changes membership or transfers leadership; the
  // share of reads served by ReadIndex rather than through the log.
  std::uint64_t snapshot_every{30};
  double membership_change_rate{0.02};
  double transfer_rate{0.01};
  double read_index_share{0.5};
  // Batches: per client request, the chance that it is a batch of 2 to
  // max_batch commands in one batch() guard; per batch, the chance that the
  // leader's Log refuses its next write of entries in it (the node fails and
  // is restarted, as a supervisor would).
  double batch_rate{0.1};
  std::uint32_t max_batch{4};
  double refuse_rate{0.05};
  // Per batch, the chance that its commands go to the leader in one
  // propose_all() call at the batch's end instead of one propose() each (the
  // ticks, duplicates and operator moves between them stay where they were).
  // Drawn from a stream of its own, so the client's draws are the same
  // either way.
  double propose_all_share{0.5};
  // A leader's sync only starts in flush() (core/log.hpp's start_sync) and
  // finishes at a later event of that node: before each of its ticks and
  // deliveries, each started sync finishes with this chance, in any order.
  // A crash first loses the unfinished ones. 0: every sync is synchronous.
  // Of the syncs that finish, this share fail: the node hears an io_error,
  // stops, and restarts from a disk that lost some of what was not durable.
  double async_sync_share{0};
  double async_sync_failure_rate{0};

  // The driver as it was before operator moves existed (planted-bug seeds
  // found then replay exactly).
  [[nodiscard]] static driver_options client_only(plant bug = plant::none) {
    driver_options o;
    o.bug = bug;
    o.snapshot_every = 0;
    o.membership_change_rate = o.transfer_rate = o.read_index_share = o.batch_rate = 0;
    return o;
  }
};


// Encodes each message: the network keeps its own copy of the bytes.
struct wire_transport {
  sim_transport<byte_buffer> net;
  void send(node_id to, const raft::message& m) {
    byte_buffer b;
    raft::encode(m, b);
    net.send(to, b);
  }
};

// The lowest position truncated since the driver last looked: the checker
// rescans only from there (or from the old end), so a step costs O(new entries).
// refuse_write: the driver's fault, the Log's next append or append_run fails.
// async: start_sync only starts a sync; `started` holds each until the
// driver finishes it (sim_log::sync_through, then raft::node::log_synced).
struct log_watch {
  struct started_sync {
    sync_ticket ticket;
    std::uint64_t calls;  // the disk calls it covers: the first `calls` ever made
  };
  std::uint64_t low{~std::uint64_t{0}};
  bool refuse_write{false};
  std::uint64_t refused{0};
  bool async{false};
  std::vector<started_sync> started;

  [[nodiscard]] result<void> admit(std::size_t records) {
    if (!refuse_write) return {};
    refuse_write = false;
    ++refused;
    return fail(errc::io_error, "sim: the disk refused a write of entries", records);
  }
};

// sim_log, telling the driver where the node's log may have changed.
struct watched_log {
  sim_log disk;
  log_watch* watch;

  [[nodiscard]] log_index first_index() const noexcept { return disk.first_index(); }
  [[nodiscard]] log_index last_index() const noexcept { return disk.last_index(); }
  result<log_index> append(byte_view b) {
    QUORUM_TRY(watch->admit(1));
    return disk.append(b);
  }
  result<log_index> append_run(std::span<const record_parts> rs) {
    QUORUM_TRY(watch->admit(rs.size()));
    return disk.append_run(rs);
  }
  result<byte_view> read(log_index i) { return disk.read(i); }
  result<void> truncate(log_index i) {
    watch->low = std::min(watch->low, i.value());
    return disk.truncate(i);
  }
  result<void> compact(log_index i) { return disk.compact(i); }  // changes no entry it keeps
  result<void> save_state(byte_view b) { return disk.save_state(b); }
  [[nodiscard]] byte_view state() const noexcept { return disk.state(); }
  result<void> sync() { return disk.sync(); }
  result<bool> start_sync(const sync_ticket& t) {
    if (!watch->async) {
      QUORUM_TRY(disk.sync());
      return false;
    }
    watch->started.push_back({t, disk.calls()});
    return true;
  }
};

// The same Log without append_run: raft_log then writes one record per call
// and a batch() defers nothing. Which one a seed runs is a per-run choice
// (run_seed): a node's Log type is part of its node type, and a per-run
// choice needs one node type per driver, not a variant in every call.
struct single_record_log {
  watched_log log;

  [[nodiscard]] log_index first_index() const noexcept { return log.first_index(); }
  [[nodiscard]] log_index last_index() const noexcept { return log.last_index(); }
  result<log_index> append(byte_view b) { return log.append(b); }
  result<byte_view> read(log_index i) { return log.read(i); }
  result<void> truncate(log_index i) { return log.truncate(i); }
  result<void> compact(log_index i) { return log.compact(i); }
  result<void> save_state(byte_view b) { return log.save_state(b); }
  [[nodiscard]] byte_view state() const noexcept { return log.state(); }
  result<void> sync() { return log.sync(); }
  result<bool> start_sync(const sync_ticket& t) { return log.start_sync(t); }
};

// The same Log, promising that its records stay in place (core/log.hpp):
// sim_disk keeps them in a deque that only grows and shrinks at its ends, so
// a record's bytes stay put until truncated or compacted away, and a node is
// re-created after every crash (the only time the image is replaced). Over
// it raft_log's entry cache views the Log's records instead of copying them
// and a leader appends its proposals at once (memory_log, with append_run_with,
// stages a batch's proposals instead: placing_log below takes that path).
struct in_place_log : watched_log {
  static constexpr bool records_stay_in_place = true;
};

// The in-place Log with the optional members that say where a record went
// (core/log.hpp: append(h, b, p) and append_run(rs, ps)), as memory_log has
// them: raft_log then caches a leader's proposal and a follower's run as
// those views without reading them back. The views come from read(), so a
// wrong index shows as different bytes in the checker, not as a silent pass.
struct placing_log : in_place_log {
  result<log_index> append(byte_view b) { return watched_log::append(b); }
  result<log_index> append(byte_view head, byte_view body, byte_view& placed) {
    const record_parts one[] = {record_parts{head, body}};
    const result<log_index> at = append_run(std::span<const record_parts>{one});
    if (!at) return at;
    const result<byte_view> view = read(*at);
    if (!view) return unexpected{view.error()};
    placed = *view;
    return at;
  }
  result<log_index> append_run(std::span<const record_parts> rs) { return watched_log::append_run(rs); }
  result<log_index> append_run(std::span<const record_parts> rs, std::span<byte_view> placed) {
    QUORUM_ASSERT(placed.size() >= rs.size());
    const result<log_index> last = append_run(rs);
    if (!last) return last;
    for (std::size_t k = 0; k < rs.size(); ++k) {
      const result<byte_view> view = read(log_index{last->value() - (rs.size() - 1 - k)});
      if (!view) return unexpected{view.error()};
      placed[k] = *view;
    }
    return last;
  }
  // The one-pass run (core/log.hpp): with it raft_log also stages a leader's
  // proposals inside batch() and writes them as one run when the batch ends
  // or something reads them, so a refused write surfaces there.
  template <class Parts, class Place>
  result<log_index> append_run_with(std::size_t n, Parts&& parts, Place&& place) {
    std::vector<record_parts> rs;
    rs.reserve(n);
    for (std::size_t k = 0; k < n; ++k) rs.push_back(parts(k));
    const result<log_index> last = append_run(rs);
    if (!last) return last;
    for (std::size_t k = 0; k < n; ++k) {
      const result<byte_view> view = read(log_index{last->value() - (n - 1 - k)});
      if (!view) return unexpected{view.error()};
      place(k, *view);
    }
    return last;
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
  using raft_node = raft::node<policies_of<Log>>;

  explicit basic_driver(std::uint64_t seed, driver_options opts = {})
      : opts_{opts},
        client_{seed, opts.registers, opts.counters},
        group_rng_{seed ^ 0x616c6c6f6e6365ULL},
        sync_rng_{seed ^ 0x73796e63ULL} {}

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
    if (opts_.bug == plant::forget_vote && env.incarnation > 1) forget_vote(m.env->log);
    raft::options o = opts_.raft;
    seeded_random rng = env.rng;
    o.seed = rng();
    m.watch.low = 1;  // what the crash kept: read it all once
    m.watch.async = opts_.async_sync_share > 0;
    m.raft.emplace(env.self, ids_, wire_transport{env.transport}, Log{watched_log{env.log, &m.watch}},
                   env.clock, kv_machine<basic_driver>{this, env.self},
                   sim_snapshot_store{&stores_[static_cast<std::size_t>(env.self.value())]}, o);
    checker_->boot(env.self);
    settle(env.self);
  }

  void crash(node_id n) {
    member& m = at(n);
    m.raft.reset();
    for (auto& [index, p] : pending_)
      if (p.proposer == n) p.orphaned = true;  // its acknowledgement died with it
    const std::int64_t now = now_ns();
    for (auto it = reads_.begin(); it != reads_.end();) {
      if (it->second.node != n) {
        ++it;
        continue;
      }
      client_.fail(it->second.op, now);  // never answered: it had no effect
      it = reads_.erase(it);
    }
  }

  void deliver(node_id to, node_id /*from*/, const message& bytes) {
    member& m = at(to);
    finish_syncs(to);
    // Kept for a batch to deliver again (a duplicate): a reused buffer.
    if (opts_.batch_rate > 0) m.last_message.assign(bytes.begin(), bytes.end());
    m.raft->receive(byte_view{bytes});
    settle(to);
  }

  void tick(node_id n) {
    finish_syncs(n);
    raft_node& r = *at(n).raft;
    r.tick();
    settle(n);  // traces the applies before a snapshot may compact their entries away
    if (opts_.snapshot_every != 0 && r.applied_index() - r.snapshot_index() >= opts_.snapshot_every) {
      if (auto s = r.take_snapshot(); !s)
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
    if (opts_.batch_rate > 0 && client_.rng().chance(opts_.batch_rate)) return client_batch(l, op, v, command, now);
    submit(l, op, command, now, {});
    settle(l);
  }

  [[nodiscard]] std::optional<std::string> check() const {
    if (checker_->violation()) return checker_->violation();
    return mismatch_;
  }

  // After liveness held: every acknowledged entry is committed and in the
  // current leader's log, and the client's history is linearizable (or too
  // costly to decide, which is counted, not failed).
  [[nodiscard]] std::optional<std::string> final_check() const {
    if (max_acked_ > checker_->committed_index())
      return "acknowledged index " + std::to_string(max_acked_) + " was never seen committed";
    // The leader, or (when the last commit was the leader's own removal, or
    // a transfer is under way) the node that committed the most.
    node_id l = find_leader();
    if (l == no_node) l = most_committed();
    if (l == no_node) return "no node is up after the heal, though a value was just acknowledged";
    if (max_acked_ != 0 && !checker_->holds_committed(l, max_acked_))
      return "after the heal node " + std::to_string(l.value()) +
             " does not hold every acknowledged entry (up to index " + std::to_string(max_acked_) + ")";
    return client_.verdict(opts_.linearizability, lin_unknown_);
  }

  [[nodiscard]] std::uint64_t commits() const noexcept { return acks_; }
  [[nodiscard]] std::uint64_t leader_changes() const noexcept { return leader_changes_; }
  [[nodiscard]] std::uint64_t linearizability_unknown() const noexcept { return lin_unknown_; }
  [[nodiscard]] const history& client_history() const noexcept { return client_.records(); }
  [[nodiscard]] const raft_checker& checker() const { return *checker_; }
  [[nodiscard]] const raft_node* node(node_id n) const {
    const member& m = members_[static_cast<std::size_t>(n.value())];
    return m.raft ? &*m.raft : nullptr;
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

  // A ReadIndex read is served from the node's store as it is now: every
  // entry up to the read index is applied.
  void on_read_ready(node_id n, std::uint64_t id, log_index) {
    auto it = reads_.find(id);
    if (it == reads_.end()) return;
    const value out = at(n).store.run(it->second.command, client_.records());
    client_.finish(it->second.op, out, now_ns());
    ++reads_served_;
    reads_.erase(it);
  }
  void on_read_failed(node_id, std::uint64_t id, const error&) {
    auto it = reads_.find(id);
    if (it == reads_.end()) return;
    client_.fail(it->second.op, now_ns());
    reads_.erase(it);
  }

  [[nodiscard]] std::uint64_t reads_served() const noexcept { return reads_served_; }
  [[nodiscard]] std::uint64_t membership_changes() const noexcept { return membership_changes_; }
  [[nodiscard]] std::uint64_t transfers() const noexcept { return transfers_; }
  [[nodiscard]] std::uint64_t batches() const noexcept { return batches_; }
  [[nodiscard]] std::uint64_t batched_proposals() const noexcept { return batched_proposals_; }
  [[nodiscard]] std::uint64_t grouped_batches() const noexcept { return grouped_batches_; }
  [[nodiscard]] std::uint64_t failure_restarts() const noexcept { return failure_restarts_; }
  [[nodiscard]] std::uint64_t syncs_finished() const noexcept { return syncs_finished_; }
  [[nodiscard]] std::uint64_t failed_syncs() const noexcept { return failed_syncs_; }
  [[nodiscard]] std::uint64_t refused_writes() const noexcept { return refused_writes_; }

 private:
  struct applied {
    std::uint64_t index;
    std::string text;
    value output;
    bool restore;  // not an apply: a snapshot restored up to index
  };
  struct pending_read {
    node_id node;
    std::size_t op;
    std::string command;
  };
  struct member {
    std::optional<node_env<message>> env;
    std::optional<raft_node> raft;
    kv_store store;
    std::vector<applied> applies;  // made during the current call, not yet traced
    prefetch_check hints;            // the prefetch hints of the current incarnation
    std::uint64_t traced{0};       // last applied index traced in this incarnation
    log_watch watch;              // the node's log points here: members_ never reallocates
    std::uint64_t seen_last{0};
    std::uint64_t leader_term{0};
    bool corrupted{false};
    bool in_batch{false};       // settle() waits for the guard: the log is not all written yet
    byte_buffer last_message;   // the last one delivered, for a batch's duplicate
  };
  struct proposal {
    std::uint64_t term;
    node_id proposer;
    std::string command;
    std::size_t op;
    bool resolved;
    bool orphaned;
  };

  member& at(node_id n) {
    QUORUM_ASSERT(n.value() >= 1 && n.value() < members_.size());
    return members_[static_cast<std::size_t>(n.value())];
  }
  [[nodiscard]] std::int64_t now_ns() const {
    for (const member& m : members_)
      if (m.env) return m.env->trace.stamp().time.count();
    return 0;
  }

  static void forget_vote(sim_log& log) {
    auto hs = raft::decode_hard_state(log.state());
    if (!hs) return;
    byte_buffer b;
    raft::encode_hard_state(raft::hard_state{hs->term, no_node}, b);
    (void)log.save_state(b);
    (void)log.sync();
  }

  [[nodiscard]] node_id most_committed() const {
    node_id best = no_node;
    for (std::size_t i = 1; i < members_.size(); ++i) {
      const member& m = members_[i];
      if (m.raft && (best == no_node || m.raft->commit_index() > node(best)->commit_index())) best = node_id{i};
    }
    return best;
  }

  // The leader a client would find: the up node that leads the highest term.
  [[nodiscard]] node_id find_leader() const {
    node_id best = no_node;
    std::uint64_t term = 0;
    for (std::size_t i = 1; i < members_.size(); ++i) {
      const member& m = members_[i];
      if (m.raft && m.raft->role() == raft::role::leader && m.raft->term().value() > term) {
        best = node_id{i};
        term = m.raft->term().value();
      }
    }
    return best;
  }

  // The operator's moves on leader l, at seeded rates: a membership change
  // (demote or remove a voter, bring one back, or swap two at once, which
  // goes through a joint configuration), or a leadership transfer.
  void operate(node_id l) {
    raft_node& r = *at(l).raft;
    // A rate of 0 draws nothing: runs without operator moves stay as they were.
    if (opts_.membership_change_rate > 0 && client_.rng().chance(opts_.membership_change_rate)) {
      raft::membership target = r.membership();
      std::vector<node_id> out;
      for (node_id id : ids_)
        if (!raft::contains(target.voters, id)) out.push_back(id);
      if (!out.empty() && client_.rng().chance(0.6)) {
        target.voters.push_back(out[client_.rng().below(out.size())]);  // back as a voter
      } else if (target.voters.size() > std::max<std::size_t>(2, ids_.size() / 2 + 1)) {
        const std::size_t moves = target.voters.size() > 4 && client_.rng().chance(0.3) ? 2 : 1;
        for (std::size_t k = 0; k < moves; ++k) {
          const node_id gone = target.voters[client_.rng().below(target.voters.size())];
          target.voters.erase(std::find(target.voters.begin(), target.voters.end(), gone));
          if (client_.rng().chance(0.5)) target.learners.push_back(gone);
        }
      }
      std::erase_if(target.learners, [&](node_id x) { return raft::contains(target.voters, x); });
      target.outgoing.clear();
      std::sort(target.voters.begin(), target.voters.end());
      std::sort(target.learners.begin(), target.learners.end());
      if (r.change_membership(target)) ++membership_changes_;
    }
    if (opts_.transfer_rate > 0 && client_.rng().chance(opts_.transfer_rate)) {
      const auto& voters = r.membership().voters;
      const node_id to = voters[client_.rng().below(voters.size())];
      if (to != l && r.transfer_leadership(to)) ++transfers_;
    }
    settle(l);
  }

  // One client operation on leader l: a ReadIndex read (at the seeded
  // share of reads) or a proposal. `batch` names the batch it is in, for the trace.
  void submit(node_id l, std::size_t op, const std::string& command, std::int64_t now, std::string_view batch) {
    if (takes_read_index(op)) return read_index(l, op, now, command);
    propose(l, op, command, now, batch);
  }

  // Whether a read goes through ReadIndex instead of the log (a draw).
  bool takes_read_index(std::size_t op) {
    return client_.records()[op].kind == op_kind::read && opts_.read_index_share > 0 &&
           client_.rng().chance(opts_.read_index_share);
  }

  // The commands of a batch in one propose_all(): command k at the returned
  // index + k, or every one of them failed.
  void submit_group(node_id l, const command_group& group, std::int64_t now, std::string_view batch) {
    member& m = at(l);
    ++grouped_batches_;
    propose_group(
        *m.raft, group,
        [&](std::size_t k, std::size_t op, const std::string& command, const raft::proposal& p) {
          m.env->trace.propose(command, batch);
          pending_.emplace(p.index.value() + k, proposal{p.term.value(), l, command, op, false, false});
        },
        [&](std::size_t op) { client_.fail(op, now); });
  }

  void propose(node_id l, std::size_t op, const std::string& command, std::int64_t now, std::string_view batch) {
    member& m = at(l);
    auto r = m.raft->propose(as_bytes(command));
    if (!r) return client_.fail(op, now);
    if (batch.empty()) m.env->trace.propose(command);
    else m.env->trace.propose(command, batch);
    pending_.emplace(r->index.value(), proposal{r->term.value(), l, command, op, false, false});
  }

  // A batch: commands "v12 ..." (made before the batch was drawn), "v12.2 ...",
  // "v12.3 ..." inside one batch() guard, with now and then a tick, a
  // duplicate of the last message the leader got or an operator move between
  // them. The guard's end writes the leader's run, syncs once and sends.
  void client_batch(node_id l, std::size_t first_op, std::string_view v, const std::string& first_command,
                    std::int64_t now) {
    const auto n = static_cast<std::size_t>(client_.rng().between(2, std::max<std::uint32_t>(2, opts_.max_batch)));
    const bool refuse = opts_.refuse_rate > 0 && client_.rng().chance(opts_.refuse_rate);
    member& m = at(l);
    raft_node& r = *m.raft;
    const bool as_group = opts_.propose_all_share > 0 && group_rng_.chance(opts_.propose_all_share);
    ++batches_;
    m.in_batch = true;
    {
      auto guard = r.batch();
      m.watch.refuse_write = refuse;
      command_group group;  // proposed at the end
      for (std::size_t k = 0; k < n && r.status(); ++k) {
        if (k > 0) interleave(l);
        const std::string command =
            k == 0 ? first_command : client_.make_command(std::string{v} + '.' + std::to_string(k + 1));
        const std::size_t op = k == 0 ? first_op : client_.invoke(command, now);
        if (as_group && !takes_read_index(op)) group.emplace_back(op, command);
        else submit(l, op, command, now, v);
        ++batched_proposals_;
      }
      if (!group.empty()) submit_group(l, group, now, v);
    }
    if (refuse && !m.watch.refuse_write) ++refused_writes_;  // the armed fault hit a write
    m.watch.refuse_write = false;
    m.in_batch = false;
    settle(l);
    if (!r.status()) restart_failed(l);
  }

  // Between two commands of a batch, now and then: a tick, the last message
  // delivered again (the network may duplicate any message), an operator move.
  void interleave(node_id l) {
    member& m = at(l);
    const std::uint64_t pick = client_.rng().below(8);
    if (pick == 0) m.raft->tick();
    else if (pick == 1 && !m.last_message.empty()) m.raft->receive(byte_view{m.last_message});
    else if (pick == 2) operate(l);
  }

  // A node whose Log failed is inert: its operator restarts the process,
  // which comes back from what the disk holds (a process restart loses no
  // written call; a world crash, which loses unsynced ones, is drawn apart).
  void restart_failed(node_id n) {
    ++failure_restarts_;
    node_env<message> env = *at(n).env;
    crash(n);
    env.trace.crash();
    env.trace.restart();
    ++env.incarnation;
    env.rng = env.rng.fork();
    boot(env);
  }

  void read_index(node_id l, std::size_t op, std::int64_t now, const std::string& command) {
    const std::uint64_t id = ++next_read_;
    reads_.emplace(id, pending_read{l, op, command});
    if (auto r = at(l).raft->read(id); !r) {
      reads_.erase(id);
      client_.fail(op, now);
    }
    settle(l);
  }

  // Started syncs of n that finish now: the disk makes what each covered
  // durable, then the node hears of it (async_sync_share).
  void finish_syncs(node_id n) {
    member& m = at(n);
    auto& started = m.watch.started;
    for (std::size_t k = 0; k < started.size();) {
      if (!sync_rng_.chance(opts_.async_sync_share)) {
        ++k;
        continue;
      }
      const log_watch::started_sync s = started[k];
      started.erase(started.begin() + static_cast<std::ptrdiff_t>(k));
      if (opts_.async_sync_failure_rate > 0 && sync_rng_.chance(opts_.async_sync_failure_rate)) {
        m.raft->log_synced(s.ticket, result<void>{fail(errc::io_error, "sim: fdatasync failed")});
        if (m.raft->status()) record_mismatch("node " + std::to_string(n.value()) + " went on after a failed sync");
        ++failed_syncs_;
        m.env->log.lose_unsynced(sync_rng_);
        restart_failed(n);
        return;
      }
      if (opts_.bug != plant::finish_sync_early) m.env->log.sync_through(s.calls);
      ++syncs_finished_;
      m.raft->log_synced(s.ticket);
      settle(n);
    }
  }

  // After every call into a node: what changed becomes checks and trace.
  void settle(node_id n) {
    member& m = at(n);
    if (m.in_batch) return;
    raft_node& r = *m.raft;
    if (auto broke = m.hints.returned()) record_mismatch("node " + std::to_string(n.value()) + " " + *broke);
    const std::uint64_t leader_term = r.role() == raft::role::leader ? r.term().value() : 0;
    const sim_disk& disk = *m.env->disk;
    // A restore comes before any apply of the same call (a node restores in
    // its constructor or while taking a chunk, and applies only in flush()).
    if (!m.applies.empty() && m.applies.front().restore) {
      const std::uint64_t index = m.applies.front().index;
      m.applies.erase(m.applies.begin());
      m.env->trace.restore(index);
      checker_->observe_restore(n, index);
      m.traced = index;
    }
    if (m.watch.low != ~std::uint64_t{0} || r.last_index().value() != m.seen_last) {
      const std::uint64_t from = std::max(std::min(m.watch.low, m.seen_last + 1), r.first_index().value());
      m.watch.low = ~std::uint64_t{0};
      m.seen_last = r.last_index().value();
      checker_->observe_log(n, leader_term, from, m.seen_last, [&](log_index i) {
        const byte_buffer* rec = disk.current().at(i);
        QUORUM_ASSERT(rec != nullptr);
        auto e = raft::decode_entry_record(*rec);
        return raft_record{e ? e->term : term_id{}, byte_view{*rec}};
      });
    }
    if (leader_term != 0 && m.leader_term != leader_term) {
      ++leader_changes_;
      m.env->trace.leader(r.term());
    }
    m.leader_term = leader_term;
    checker_->observe_role(n, leader_term);
    checker_->observe_commit(n, r.commit_index().value());
    trace_applies(n, m, r);
  }

  void trace_applies(node_id n, member& m, raft_node& r) {
    std::size_t next = 0;
    for (std::uint64_t i = m.traced + 1; i <= r.applied_index().value(); ++i) {
      const std::uint64_t term = r.term_at(log_index{i}).value_or(term_id{}).value();
      if (next < m.applies.size() && m.applies[next].index == i) {
        const applied& a = m.applies[next++];
        m.env->trace.apply(i, a.text, term);
        checker_->observe_apply(n, i, term, a.text);
        resolve(n, i, term, a.text, a.output);
      } else {
        const std::string noop = entry_text(m, i, term);
        m.env->trace.apply(i, noop, term);
        checker_->observe_apply(n, i, term, noop);
        resolve(n, i, term, noop, value{});
      }
    }
    QUORUM_ASSERT(next == m.applies.size());
    m.applies.clear();
    m.traced = r.applied_index().value();
  }

  // What an entry the state machine never sees is called in the trace:
  // "noop term T" or "config v1,v2 learners l" (DESIGN.md's contract).
  static std::string entry_text(const member& m, std::uint64_t i, std::uint64_t term) {
    const byte_buffer* rec = m.env->disk->current().at(log_index{i});
    auto e = rec != nullptr ? raft::decode_entry_record(*rec) : result<raft::entry_view>{unexpected{error{}}};
    if (e && e->kind == raft::entry_kind::config) {
      auto c = raft::decode_membership(e->data);
      std::string text = "config term " + std::to_string(term) + " voters";
      if (c) {
        for (node_id v : c->voters) text += ' ' + std::to_string(v.value());
        if (c->joint()) {
          text += " outgoing";
          for (node_id v : c->outgoing) text += ' ' + std::to_string(v.value());
        }
        if (!c->learners.empty()) text += " learners";
        for (node_id v : c->learners) text += ' ' + std::to_string(v.value());
      }
      return text;
    }
    return "noop term " + std::to_string(term);
  }

  // The fate of every proposal at index i, now that n applied (term, text) there.
  void resolve(node_id n, std::uint64_t i, std::uint64_t term, const std::string& text, value out) {
    auto [lo, hi] = pending_.equal_range(i);
    const std::int64_t now = now_ns();
    for (auto it = lo; it != hi;) {
      proposal& p = it->second;
      const bool ours = p.term == term;
      if (ours && text != p.command) {
        record_mismatch("acknowledged value: index " + std::to_string(i) + " term " + std::to_string(term) +
                          " was proposed as '" + p.command + "' but applied as '" + text + "'");
      }
      if (!p.resolved) {
        p.resolved = true;
        if (ours) client_.finish(p.op, out, now);
        else client_.fail(p.op, now);
      }
      if (ours && p.proposer == n && !p.orphaned) {
        at(n).env->trace.ack(i, p.command);
        checker_->observe_ack(i, term, text);
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
  std::map<std::uint64_t, pending_read> reads_;          // ReadIndex reads awaiting an answer
  std::uint64_t next_read_{0};
  std::uint64_t reads_served_{0};
  std::uint64_t membership_changes_{0};
  std::uint64_t transfers_{0};
  std::uint64_t batches_{0};
  std::uint64_t batched_proposals_{0};
  std::uint64_t grouped_batches_{0};  // batches proposed by one propose_all()
  seeded_random group_rng_;           // whether a batch is proposed as a group
  seeded_random sync_rng_;            // when a started sync finishes (async_sync_share)
  std::uint64_t failure_restarts_{0};
  std::uint64_t syncs_finished_{0};
  std::uint64_t failed_syncs_{0};
  std::uint64_t refused_writes_{0};
  std::vector<node_id> ids_;
  std::optional<raft_checker> checker_;
  std::multimap<std::uint64_t, proposal> pending_;  // index -> proposals awaiting their fate
  std::optional<std::string> mismatch_;  // a proposal's (index, term) applied with another value
  std::uint64_t acks_{0};
  std::uint64_t leader_changes_{0};
  std::uint64_t max_acked_{0};
  mutable std::uint64_t lin_unknown_{0};
};

// The Log with append_run: what scenario tests get by default.
using driver = basic_driver<watched_log>;
using raft_node = driver::raft_node;
static_assert(check_driver<driver>());
static_assert(raft::detail::appends_runs<watched_log> && !raft::detail::appends_runs<single_record_log>);
static_assert(log_records_stay_in_place<in_place_log> && !log_records_stay_in_place<watched_log>);
static_assert(raft::detail::places_runs<placing_log> && raft::detail::places_records<placing_log> &&
              raft::detail::places_runs_in_one_pass<placing_log> &&
              !raft::detail::places_runs_in_one_pass<in_place_log> && !raft::detail::places_runs<in_place_log> &&
              !raft::detail::places_records<in_place_log>);

// Which Log a seed's nodes get: one seed in four runs the one-record path,
// the rest append runs, half of those over a Log whose records stay in
// place, which half of the time also says where each record went. Mixed
// from the seed, so neighbouring seeds differ.
enum class seed_log : std::uint8_t { one_record, runs, runs_in_place, runs_placed };
[[nodiscard]] inline seed_log log_of_seed(std::uint64_t seed) noexcept {
  const std::uint64_t r = seeded_random{seed ^ 0x72756e6c6f67ULL}();
  if ((r & 3) == 0) return seed_log::one_record;
  if ((r & 4) == 0) return seed_log::runs;
  return (r & 8) != 0 ? seed_log::runs_placed : seed_log::runs_in_place;
}
[[nodiscard]] inline bool runs_appends_in_runs(std::uint64_t seed) noexcept {
  return log_of_seed(seed) != seed_log::one_record;
}

template <class Log>
seed_report run_seed_with(const run_config& config, const driver_options& opts) {
  basic_driver<Log> d{config.seed, opts};
  world<basic_driver<Log>> w{config, d};
  return w.run();
}

// One seed of Raft on the world's default options.
inline seed_report run_seed(const run_config& config, const driver_options& opts = {}) {
  switch (log_of_seed(config.seed)) {
    case seed_log::one_record: return run_seed_with<single_record_log>(config, opts);
    case seed_log::runs: return run_seed_with<watched_log>(config, opts);
    case seed_log::runs_in_place: return run_seed_with<in_place_log>(config, opts);
    case seed_log::runs_placed: break;
  }
  return run_seed_with<placing_log>(config, opts);
}

}  // namespace quorum::sim::raft_sim
