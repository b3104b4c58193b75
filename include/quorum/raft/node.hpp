// quorum::raft::node: one member of a Raft group as a sans-I/O state machine
// over user policies (Transport, Log, Clock, StateMachine). Election with
// PreVote and CheckQuorum, pipelined replication and group commit, snapshots
// sent in chunks, membership change (joint or one server at a time); every
// vote and acknowledgement leaves only after the sync() that makes it true.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "quorum/core/apply_ahead.hpp"
#include "quorum/core/assert.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/random.hpp"
#include "quorum/core/result.hpp"
#include "quorum/raft/config_history.hpp"
#include "quorum/raft/configuration.hpp"
#include "quorum/raft/entry.hpp"
#include "quorum/raft/message.hpp"
#include "quorum/raft/options.hpp"
#include "quorum/raft/policies.hpp"
#include "quorum/raft/progress.hpp"
#include "quorum/raft/raft_log.hpp"
#include "quorum/raft/snapshot.hpp"
#include "quorum/raft/snapshot_receiver.hpp"
#include "quorum/raft/read_index.hpp"
#include "quorum/raft/state_machine.hpp"
#include "quorum/raft/status.hpp"
#include "quorum/raft/transfer.hpp"

namespace quorum::raft {

// Policies is one traits struct: transport, log, clock, state_machine.
// Each verb (tick, receive, propose) ends with flush() unless a batch() is
// open: flush() sends what replication needs, syncs the log once for every
// write since the last flush (group commit), then acknowledges and applies.
template <class Policies>
class node {
  static_assert(check_policies<Policies>());

 public:
  using transport_type = typename Policies::transport;
  using log_type = typename Policies::log;
  using clock_type = typename Policies::clock;
  using state_machine_type = typename Policies::state_machine;
  using snapshot_store_type = typename snapshot_store_of<Policies>::type;
  static constexpr bool can_snapshot =
      SnapshottingStateMachine<state_machine_type> && !std::is_same_v<snapshot_store_type, no_snapshot_store>;

  // members: the bootstrap configuration, the same on every founding node
  // (every one a voter); empty for a node joining an existing group, which
  // learns its configuration from the leader. A configuration in the log or
  // the snapshot overrides it. A configuration or stored state that cannot
  // work leaves the node inert: status() says why, propose() returns that
  // error, tick()/receive() do nothing.
  node(node_id self, std::span<const node_id> members, transport_type transport, log_type log,
       clock_type clock, state_machine_type state_machine, options opts = {})
      : node(self, members, std::move(transport), std::move(log), std::move(clock), std::move(state_machine),
             snapshot_store_type{}, opts) {}

  node(node_id self, std::span<const node_id> members, transport_type transport, log_type log,
       clock_type clock, state_machine_type state_machine, snapshot_store_type snapshots, options opts = {})
      : transport_{std::move(transport)},
        log_{std::move(log), entry_cache_options{opts.entry_cache_bytes}},
        clock_{std::move(clock)},
        fsm_{std::move(state_machine)},
        store_{std::move(snapshots)},
        opts_{opts},
        self_{self} {
    status_ = validate_config(self, members, opts);
    if (!status_) return;
    limits_.max_entries = std::max<std::size_t>(limits_.max_entries, opts_.max_entries_per_append);
    limits_.max_entry_bytes = opts_.max_entry_bytes;
    limits_.max_chunk_bytes = opts_.snapshot_chunk_bytes;
    std::uint64_t mix = opts_.seed ^ (self_.value() * 0x9e3779b97f4a7c15ULL);
    rng_.reseed(splitmix64(mix));
    if (auto r = recover(members); !r) status_ = unexpected{r.error()};
    reset_election_timer();
    // A node that never had a term answered no leader: no lease rests on it.
    if (opts_.lease_reads && term_ > term_id{}) boot_quiet_ticks_ = opts_.election_ticks;
  }

  [[nodiscard]] static result<void> validate_config(node_id self, std::span<const node_id> members,
                                                    const options& opts) {
    if (auto r = validate(opts); !r) return r;
    if (members.empty()) {
      if (self == no_node) return fail(errc::invalid_config, "raft: node id 0 is reserved for 'no node'");
      return {};  // joining: the configuration comes from the leader
    }
    return configuration::validate(self, members);
  }

  // One tick of logical time: the user calls it at a fixed interval.
  void tick() {
    if (!status_) return;
    last_tick_ = clock_.now();
    if (boot_quiet_ticks_ > 0) --boot_quiet_ticks_;
    if (role_ == role::leader) tick_leader();
    else tick_election();
    maybe_flush();
  }

  void receive(const message& m) {
    if (!status_) return;
    step(m);
    maybe_flush();
  }

  // Decodes and receives; bytes that are no message are counted and dropped.
  void receive(byte_view bytes) {
    if (!status_) return;
    auto m = decode(bytes, recv_entries_, limits_);
    if (m) receive(*m);
    else ++stats_.dropped_malformed;
  }

  // Appends command to the leader's log. Not committed yet: it commits at
  // the returned (index, term) or, after a leader change, is reported lost by
  // a different term at that index.
  result<proposal> propose(byte_view command) {
    if (!status_) return unexpected{status_.error()};
    if (role_ != role::leader) return fail(errc::not_leader, "raft: not the leader", leader_.value());
    if (transfer_.active()) return fail(errc::busy, "raft: leadership transfer in progress", transfer_.target.value());
    if (command.size() > opts_.max_entry_bytes)
      return fail(errc::too_large, "raft: command over max_entry_bytes", opts_.max_entry_bytes);
    if (uncommitted_bytes_ > 0 && uncommitted_bytes_ + command.size() > opts_.max_uncommitted_bytes) {
      ++stats_.proposals_refused_busy;
      return fail(errc::busy, "raft: max_uncommitted_bytes reached", opts_.max_uncommitted_bytes);
    }
    // Inside a batch the entry reaches the Log with the batch's others, in
    // one run before the flush's sync (a Log error then fails the node).
    const entry_view e{term_, entry_kind::normal, command};
    const bool deferred = log_.deferred() > 0;
    auto at = batch_depth_ > 0 ? log_.append_deferred(e) : log_.append(e);
    if (!at) return failed_with_deferred(deferred, at.error());
    uncommitted_bytes_ += command.size();
    const proposal p{*at, term_};
    maybe_flush();
    return p;
  }

  // Appends every command, in order, as propose() of each inside a batch()
  // would, in one call and as one run to the Log (canonical raft's
  // raft_apply of n buffers). The checks are made once for the group, and
  // when one fails no command is appended: each command against
  // max_entry_bytes; a group of several whose bytes exceed
  // max_uncommitted_bytes is too_large; the group is refused as busy when
  // entries are uncommitted already and their bytes with the group's exceed
  // max_uncommitted_bytes. Command k is at the returned index + k, in the
  // returned term; an empty group is errc::invalid_argument.
  result<proposal> propose_all(std::span<const byte_view> commands) {
    if (!status_) return unexpected{status_.error()};
    if (role_ != role::leader) return fail(errc::not_leader, "raft: not the leader", leader_.value());
    if (transfer_.active()) return fail(errc::busy, "raft: leadership transfer in progress", transfer_.target.value());
    if (commands.empty()) return fail(errc::invalid_argument, "raft: no command to propose");
    std::size_t bytes = 0;
    for (const byte_view& c : commands) {
      if (c.size() > opts_.max_entry_bytes)
        return fail(errc::too_large, "raft: command over max_entry_bytes", opts_.max_entry_bytes);
      bytes += c.size();
    }
    // A group that could never fit is an error of its own, not a wait: a
    // single propose() over the limit is taken only when nothing is
    // uncommitted, so its size stays bounded by max_entry_bytes; a group's is not.
    if (commands.size() > 1 && bytes > opts_.max_uncommitted_bytes)
      return fail(errc::too_large, "raft: group over max_uncommitted_bytes: split it", opts_.max_uncommitted_bytes);
    if (uncommitted_bytes_ > 0 && uncommitted_bytes_ + bytes > opts_.max_uncommitted_bytes) {
      ++stats_.proposals_refused_busy;
      return fail(errc::busy, "raft: max_uncommitted_bytes reached", opts_.max_uncommitted_bytes);
    }
    // A Log error after the batch's deferred entries or some of the group
    // were written fails the node (failed_with_deferred says why).
    const log_index before = log_.last_index();
    const bool deferred = log_.deferred() > 0;
    const proposal p{before.next(), term_};
    if (auto a = log_.append_datas(term_, entry_kind::normal, commands); !a)
      return failed_with_deferred(deferred || log_.last_index() != before, a.error());
    uncommitted_bytes_ += bytes;
    maybe_flush();
    return p;
  }

  // A linearizable read (Ongaro's thesis §6.4). The leader takes its commit
  // index as the read index once an entry of its term is committed, confirms
  // with a heartbeat round sent after the read arrived that a quorum still
  // follows it, and calls state_machine().read_ready(id, index) once that
  // index is applied; read_failed(id, error) if it loses leadership first
  // (not_leader, with the hint), no quorum confirms within election_ticks
  // (timeout), or the node fails (its Log's error, as status() says). With
  // lease_reads and a valid lease no round is needed, and read_ready may be
  // called before read() returns. An error returned here
  // (not_leader, busy at max_pending_reads) calls nothing. The callbacks must
  // not call back into the node.
  result<void> read(std::uint64_t id) {
    static_assert(ReadingStateMachine<state_machine_type>,
                  "quorum::raft::node::read needs a state machine with 'read_ready(std::uint64_t, "
                  "quorum::log_index)' and 'read_failed(std::uint64_t, const quorum::error&)'");
    if (!status_) return unexpected{status_.error()};
    if (role_ != role::leader) return fail(errc::not_leader, "raft: not the leader", leader_.value());
    const bool term_committed = log_.term_at(commit_) == term_;
    const bool alone = config_.has_quorum([&](std::size_t i) { return i == config_.self(); });
    const bool confirmed = alone || (term_committed && lease_valid());
    if (confirmed && term_committed && applied_ >= commit_) {
      notify_read_ready(id, commit_);
      return {};
    }
    if (reads_.full()) return fail(errc::busy, "raft: max_pending_reads reached", opts_.max_pending_reads);
    reads_.push(pending_read{id, rounds_.next_round(), commit_, leader_ticks_, confirmed, term_committed});
    if (!confirmed) rounds_.want();
    maybe_flush();
    return {};
  }
  [[nodiscard]] std::size_t pending_reads() const noexcept { return reads_.size(); }

  // Hands leadership to `target` (thesis §3.10): proposals are refused with
  // busy while its log is caught up, then it is told to campaign at once
  // (timeout_now). Abandoned after transfer_timeout_ticks, or when this node
  // stops leading. Asking again for the same target changes nothing.
  result<void> transfer_leadership(node_id target) {
    if (!status_) return unexpected{status_.error()};
    if (role_ != role::leader) return fail(errc::not_leader, "raft: not the leader", leader_.value());
    const std::size_t i = config_.position_of(target);
    if (target == self_ || !config_.is_voter(i))
      return fail(errc::invalid_argument, "raft: the transfer target must be another voter", target.value());
    if (transfer_.active()) {
      if (transfer_.target == target) return {};
      return fail(errc::busy, "raft: a transfer to another node is in progress", transfer_.target.value());
    }
    transfer_.start(target);
    ++stats_.transfers_started;
    maybe_send_timeout_now(i);
    maybe_flush();
    return {};
  }
  [[nodiscard]] node_id transfer_target() const noexcept { return transfer_.target; }

  // Sends pending appends, syncs once if anything was written, then sends the
  // acknowledgements that sync made true and applies what is committed.
  //
  // A leader broadcasts here only when its log grew since the last flush (a
  // follower that could not take entries then is sent them by the answer
  // that frees it), and counts a quorum here only after a sync: otherwise
  // only an acknowledgement, counted where it arrives, moves the commit index.
  //
  // Over a Log with start_sync (core/log.hpp) a leader only starts its sync
  // and counts itself once log_synced() brings the ticket back; meanwhile
  // the followers' acknowledgements may commit without it. Everything else
  // (votes, a follower's acknowledgements) still waits for a sync here.
  void flush() {
    if (!status_) return;
    if (role_ == role::leader && (log_.last_index() != flushed_last_ || term_ != flushed_term_)) {
      flushed_last_ = log_.last_index();
      flushed_term_ = term_;
      broadcast_appends(false);
    }
    // An acknowledgement of entries a started sync has not yet covered (this
    // node led when it wrote them) needs a sync of its own.
    const bool wrote = log_.dirty() || (ack_to_ != no_node && ack_index_ > log_.synced_index());
    if (wrote && !sync_or_start()) return;
    if (wrote && role_ == role::leader && maybe_commit()) broadcast_appends(true);
    send_pending_ack();
    apply_committed();
  }

  // A sync started by flush() (start_sync returned true) is done: `t` is the
  // ticket the Log was given, `outcome` what the sync gave. The leader now
  // counts its own copy of what it covered, which may commit. A ticket from
  // before a truncation, a restart or a failed sync changes nothing.
  void log_synced(const sync_ticket& t, const result<void>& outcome = {}) {
    if (!status_) return;
    if (!outcome) {
      set_failed(outcome.error());
      return;
    }
    if (log_.synced(t) && role_ == role::leader && maybe_commit()) broadcast_appends(true);
    maybe_flush();
  }

  // Snapshots the state machine at the applied index, saves the image in the
  // snapshot store (durably), then compacts the log behind it, keeping
  // options.snapshot_trailing_entries. Returns the snapshot's index.
  result<log_index> take_snapshot() {
    static_assert(SnapshottingStateMachine<state_machine_type>,
                  "quorum::raft::node::take_snapshot: the state machine needs 'snapshot(quorum::byte_buffer&)' "
                  "and 'restore(quorum::log_index, quorum::byte_view)'");
    static_assert(!std::is_same_v<snapshot_store_type, no_snapshot_store>,
                  "quorum::raft::node::take_snapshot: the policies need 'using snapshot_store = ...' "
                  "(a quorum::SnapshotStore, e.g. quorum::storage::memory_snapshot_store)");
    if (!status_) return unexpected{status_.error()};
    if (applied_ <= snap_meta_.index) return snap_meta_.index;  // nothing new to cover
    const auto& cfg = configs_.at(applied_);
    if (cfg.config.voters.empty())  // a joining node that has not applied the entry adding it
      return fail(errc::busy, "raft: no configuration applied yet; snapshot after the entry that adds this node");
    snapshot_meta meta{applied_, *log_.term_at(applied_), cfg.index, cfg.config};
    byte_buffer image, scratch;
    begin_image(meta, image, scratch);
    fsm_.snapshot(image);
    seal_image(image);
    if (auto r = store_.save(image); !r) return unexpected{r.error()};
    if (auto r = adopt_stored_snapshot(std::move(meta)); !r) return unexpected{r.error()};
    const std::uint64_t keep = opts_.snapshot_trailing_entries;
    const log_index upto{applied_.value() > keep ? applied_.value() - keep : 0};
    const bool deferred = log_.deferred() > 0;
    if (auto r = log_.compact(std::max(upto, log_.snapshot_index())); !r)
      return failed_with_deferred(deferred, r.error());
    ++stats_.snapshots_taken;
    return applied_;
  }

  // Moves the group to `target` (voters and learners; `outgoing` must be
  // empty). A change of at most one voter is one configuration entry; a
  // larger one goes through a joint configuration, which the leader leaves
  // on its own once it commits (§6). One change at a time, and none before
  // an entry of this leader's term is committed (the 2015 single-server fix).
  // Returns where the (first) configuration entry will commit.
  result<proposal> change_membership(raft::membership target) {
    if (!status_) return unexpected{status_.error()};
    if (role_ != role::leader) return fail(errc::not_leader, "raft: not the leader", leader_.value());
    if (!target.outgoing.empty())
      return fail(errc::invalid_argument, "raft: a target configuration names no outgoing voters");
    if (transfer_.active()) return fail(errc::busy, "raft: leadership transfer in progress", transfer_.target.value());
    QUORUM_TRY(normalize(target));
    if (log_.term_at(commit_) != term_)
      return fail(errc::busy, "raft: no entry of this term is committed yet; retry after the first commit");
    if (configs_.latest().index > commit_ || config_.joint())
      return fail(errc::busy, "raft: a configuration change is in progress");
    const raft::membership& now = config_.membership();
    if (target.voters == now.voters && target.learners == now.learners)
      return fail(errc::invalid_argument, "raft: that is the configuration already");
    std::vector<node_id> changed;
    std::set_symmetric_difference(now.voters.begin(), now.voters.end(), target.voters.begin(), target.voters.end(),
                                  std::back_inserter(changed));
    if (changed.size() > 1) target.outgoing = now.voters;  // joint: both majorities until it is left
    auto at = append_config(target);
    if (!at) return unexpected{at.error()};
    ++stats_.configuration_changes;
    const proposal p{*at, term_};
    maybe_flush();
    return p;
  }

  // Defers every flush() until the guard dies, so that one sync() and one
  // append per follower cover a whole batch of proposals or messages. A
  // leader's proposals in the batch reach its Log as one run (when the Log
  // has append_run and the entry cache holds them) just before that sync;
  // until then log() does not show them, and a Log error then fails the node.
  class batch_guard {
   public:
    explicit batch_guard(node& n) noexcept : n_{&n} { ++n_->batch_depth_; }
    batch_guard(const batch_guard&) = delete;
    batch_guard& operator=(const batch_guard&) = delete;
    ~batch_guard() { n_->end_batch(); }

   private:
    node* n_;
  };
  [[nodiscard]] batch_guard batch() noexcept { return batch_guard{*this}; }

  [[nodiscard]] const result<void>& status() const noexcept { return status_; }
  [[nodiscard]] node_id id() const noexcept { return self_; }
  [[nodiscard]] raft::role role() const noexcept { return role_; }
  [[nodiscard]] term_id term() const noexcept { return term_; }
  [[nodiscard]] node_id vote() const noexcept { return vote_; }
  [[nodiscard]] node_id leader() const noexcept { return leader_; }
  [[nodiscard]] log_index commit_index() const noexcept { return commit_; }
  [[nodiscard]] log_index applied_index() const noexcept { return applied_; }
  [[nodiscard]] log_index last_index() const noexcept { return log_.last_index(); }
  // The last index the node knows durable in its Log (a sync returned, or a
  // started one came back through log_synced()): what it counts as its own copy.
  [[nodiscard]] log_index synced_index() const noexcept { return log_.synced_index(); }
  [[nodiscard]] term_id last_term() const noexcept { return log_.last_term(); }
  [[nodiscard]] std::optional<term_id> term_at(log_index i) const noexcept { return log_.term_at(i); }
  // Everyone the log goes to (voters of both sides, learners), and who is what.
  [[nodiscard]] std::span<const node_id> members() const noexcept { return config_.members(); }
  [[nodiscard]] const raft::membership& membership() const noexcept { return config_.membership(); }
  // The index of the configuration entry in force (0: the bootstrap configuration).
  [[nodiscard]] log_index membership_index() const noexcept { return configs_.latest().index; }
  [[nodiscard]] log_index snapshot_index() const noexcept { return snap_meta_.index; }
  [[nodiscard]] log_index first_index() const noexcept { return log_.first_index(); }
  [[nodiscard]] const node_stats& stats() const noexcept { return stats_; }
  [[nodiscard]] std::size_t uncommitted_bytes() const noexcept { return uncommitted_bytes_; }
  [[nodiscard]] std::uint32_t election_timeout() const noexcept { return randomized_timeout_; }
  [[nodiscard]] const progress* progress_of(node_id peer) const noexcept {
    const std::size_t i = config_.position_of(peer);
    return role_ == role::leader && i != configuration::npos && i != config_.self() ? &progress_[i] : nullptr;
  }
  [[nodiscard]] typename clock_type::time_point last_tick_time() const noexcept { return last_tick_; }
  [[nodiscard]] transport_type& transport() noexcept { return transport_; }
  [[nodiscard]] log_type& log() noexcept { return log_.policy(); }
  [[nodiscard]] clock_type& clock() noexcept { return clock_; }
  [[nodiscard]] state_machine_type& state_machine() noexcept { return fsm_; }
  [[nodiscard]] snapshot_store_type& snapshot_store() noexcept { return store_; }

 private:
  // node_durability.hpp: restart, durability, failure
  result<void> recover(std::span<const node_id> members);
  void persist_state();
  bool sync_now();
  bool sync_or_start();
  bool set_failed(const error& e);
  unexpected<error> failed_with_deferred(bool deferred, const error& e);

  // node_step.hpp: inbound checks and dispatch
  void step(const message& m);
  [[nodiscard]] static bool well_shaped(const message& m) noexcept;
  bool on_higher_term(const message& m);
  void on_stale_term(const message& m);
  void reply(const message& to, message_type type, bool reject, term_id term = {});
  void dispatch(const message& m, std::size_t from);

  // node_election.hpp: election, roles, leadership transfer
  void reset_election_timer();
  void tick_election();
  [[nodiscard]] bool may_campaign() const;
  void tick_leader();
  void become_follower(term_id t, node_id leader);
  bool terms_exhausted();
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  bool tally_reached();
  void request_votes(message_type type, std::uint64_t term);
  void handle_vote_request(const message& m);
  void handle_vote_response(const message& m, std::size_t from);
  void handle_timeout_now(const message& m);
  void maybe_send_timeout_now(std::size_t i);
  void leave_leadership(node_id hint);

  // node_replication.hpp: replication, commitment, applying
  bool follow(const message& m);
  void handle_append(const message& m);
  [[nodiscard]] static bool configs_well_formed(const message& m);
  void reject_append(const message& m);
  void handle_heartbeat(const message& m);
  void handle_append_response(const message& m, std::size_t from);
  void handle_heartbeat_response(std::size_t from);
  void broadcast_appends(bool even_empty);
  void send_appends(std::size_t i, bool even_empty, bool announcing_commit = false);
  void send_append(std::size_t i, bool announcing_commit);
  void broadcast_heartbeats();
  bool maybe_commit();
  void commit_to(log_index i);
  void queue_ack(node_id to, log_index index);
  void send_pending_ack();
  void apply_committed();
  void apply_new_commits();
  void apply_one(const entry_view& e);
  void release_cache();

  // node_snapshots.hpp: sending and installing snapshots
  result<void> adopt_stored_snapshot(snapshot_meta meta);
  void handle_snapshot_chunk(const message& m);
  void install_received(const message& m);
  void reply_snapshot(const message& m, std::uint64_t held, bool resume);
  void handle_snapshot_response(const message& m, std::size_t from);
  void send_snapshot_chunks(std::size_t i);
  void resume_stalled_snapshot(std::size_t i);

  // node_membership.hpp: configuration changes
  result<void> note_config(log_index i, const entry_view& e);
  void set_config(const raft::membership& m);
  result<log_index> append_config(const raft::membership& m);
  void on_membership_committed();

  // node_reads.hpp: ReadIndex and lease reads
  void on_read_ack(std::size_t from, std::uint64_t round);
  void advance_reads();
  void expire_reads();
  void notify_read_ready(std::uint64_t id, log_index i);
  void notify_read_failed(std::uint64_t id, const error& e);

  // Small enough to read where they are declared.
  [[nodiscard]] bool quorum_active() const noexcept {
    return config_.has_quorum([&](std::size_t i) { return i == config_.self() || progress_[i].recent_active; });
  }

  // A follower that heard from a live leader within an election timeout
  // ignores (pre)vote requests, so a partitioned node cannot depose it. With
  // lease reads a node that just booted does the same for its first election
  // timeout: before it crashed it may have answered the round a leader's
  // lease rests on, and a vote now could elect a rival inside that lease.
  [[nodiscard]] bool in_lease() const noexcept {
    return opts_.check_quorum &&
           ((leader_ != no_node && election_elapsed_ < opts_.election_ticks) || boot_quiet_ticks_ > 0);
  }

  // A leader or a candidate may sit in a configuration this node has not
  // learned yet (thesis §4.1): their requests count, not their answers.
  [[nodiscard]] static bool from_anyone(message_type t) noexcept {
    switch (t) {
      case message_type::append_entries:
      case message_type::heartbeat:
      case message_type::install_snapshot:
      case message_type::pre_vote:
      case message_type::request_vote: return true;
      default: return false;
    }
  }

  [[nodiscard]] message outgoing(message_type type, node_id to, term_id term) const noexcept {
    message m;
    m.type = type;
    m.from = self_;
    m.to = to;
    m.term = term;
    return m;
  }

  [[nodiscard]] bool lease_valid() const noexcept {
    return opts_.lease_reads && rounds_.lease_valid(leader_ticks_);
  }

  void maybe_flush() {
    if (batch_depth_ == 0) flush();
  }
  void end_batch() {
    if (--batch_depth_ == 0) flush();
  }

  [[no_unique_address]] transport_type transport_;
  raft_log<log_type> log_;
  [[no_unique_address]] clock_type clock_;
  [[no_unique_address]] state_machine_type fsm_;
  [[no_unique_address]] snapshot_store_type store_;
  options opts_;
  message_limits limits_{};
  node_id self_;
  configuration config_;
  config_history configs_;
  snapshot_meta snap_meta_{};
  byte_view snap_image_{};  // the image in the store: what followers behind the log get
  snapshot_receiver receiver_;
  std::vector<progress> progress_;  // by member position; our own slot is unused
  raft::role role_{role::follower};
  term_id term_{};
  node_id vote_{};
  node_id leader_{};
  log_index commit_{};
  log_index applied_{};
  std::uint32_t election_elapsed_{0};
  std::uint32_t heartbeat_elapsed_{0};
  std::uint32_t randomized_timeout_{0};
  std::uint32_t boot_quiet_ticks_{0};  // with lease_reads: ticks after boot in which no vote is granted
  seeded_random rng_;
  int batch_depth_{0};
  node_id ack_to_{};
  term_id ack_term_{};
  log_index ack_index_{};
  log_index flushed_last_{};  // the leader's last index and term when flush() last broadcast
  term_id flushed_term_{};
  std::size_t uncommitted_bytes_{0};
  result<void> status_{};
  node_stats stats_{};
  typename clock_type::time_point last_tick_{};
  std::vector<entry_view> recv_entries_;
  read_queue reads_{opts_.max_pending_reads};
  read_rounds rounds_{};
  std::uint64_t leader_ticks_{0};  // ticks spent leading, over the node's life: the lease's clock
  leadership_transfer transfer_{};
  bool forced_campaign_{false};
};

}  // namespace quorum::raft

// Member definitions, one file per concern.
#include "quorum/raft/node_durability.hpp"
#include "quorum/raft/node_step.hpp"
#include "quorum/raft/node_election.hpp"
#include "quorum/raft/node_replication.hpp"
#include "quorum/raft/node_snapshots.hpp"
#include "quorum/raft/node_membership.hpp"
#include "quorum/raft/node_reads.hpp"
