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
    auto at = log_.append(entry_view{term_, entry_kind::normal, command});
    if (!at) return unexpected{at.error()};
    uncommitted_bytes_ += command.size();
    const proposal p{*at, term_};
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
  void flush() {
    if (!status_) return;
    if (role_ == role::leader && (log_.last_index() != flushed_last_ || term_ != flushed_term_)) {
      flushed_last_ = log_.last_index();
      flushed_term_ = term_;
      broadcast_appends(false);
    }
    const bool wrote = log_.dirty();
    if (wrote && !sync_now()) return;
    if (wrote && role_ == role::leader && maybe_commit()) broadcast_appends(true);
    send_pending_ack();
    apply_committed();
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
    if (auto r = log_.compact(std::max(upto, log_.snapshot_index())); !r) return unexpected{r.error()};
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
  // append per follower cover a whole batch of proposals or messages.
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
  // Restart: the snapshot (restored into the state machine), then the log
  // after it, then the configuration the two of them end with.
  result<void> recover(std::span<const node_id> members) {
    auto image = store_.load();
    if (!image) return unexpected{image.error()};
    snapshot_meta base{};
    if (!image->empty()) {
      auto img = decode_image(*image);
      if (!img) return fail(errc::corrupt_log, "raft: the stored snapshot does not decode", img.error().detail);
      if constexpr (SnapshottingStateMachine<state_machine_type>) {
        fsm_.restore(img->meta.index, img->data);
      } else {
        return fail(errc::invalid_argument, "raft: a snapshot is stored but the state machine cannot restore one");
      }
      base = img->meta;
      snap_image_ = *image;
    } else {
      base.config.voters.assign(members.begin(), members.end());
      std::sort(base.config.voters.begin(), base.config.voters.end());
    }
    configs_.reset(base.config_index, base.config);
    auto hs = log_.recover(base.index, base.term, [&](log_index i, const entry_view& e) { return note_config(i, e); });
    if (!hs) return unexpected{hs.error()};
    term_ = hs->term;
    vote_ = hs->vote;
    commit_ = applied_ = base.index;
    snap_meta_ = std::move(base);
    set_config(configs_.latest().config);
    return {};
  }

  // Records a configuration entry found in the log; false if it does not decode.
  result<void> note_config(log_index i, const entry_view& e) {
    if (e.kind != entry_kind::config) return {};
    auto m = decode_membership(e.data);
    if (!m) return fail(errc::corrupt_log, "raft: a configuration entry does not decode", i.value());
    configs_.push(i, std::move(*m));
    return {};
  }

  // The configuration in force becomes m; progress is kept for those who stay.
  void set_config(const raft::membership& m) {
    configuration next{self_, m};
    std::vector<progress> kept;
    kept.reserve(next.size());
    for (std::size_t j = 0; j < next.size(); ++j) {
      const std::size_t old = config_.position_of(next.at(j));
      if (old != configuration::npos && old < progress_.size()) {
        kept.push_back(std::move(progress_[old]));
      } else {
        kept.emplace_back(opts_.max_inflight_appends);
        kept.back().reset(log_.last_index(), true);  // a newcomer gets an election timeout to answer
      }
    }
    config_ = std::move(next);
    progress_ = std::move(kept);
  }

  result<log_index> append_config(const raft::membership& m) {
    byte_buffer data;
    encode(m, data);
    auto at = log_.append(entry_view{term_, entry_kind::config, data});
    if (!at) return at;
    configs_.push(*at, m);
    set_config(m);
    return at;
  }

  // After a restore or an install: the view of the image the store now holds.
  result<void> adopt_stored_snapshot(snapshot_meta meta) {
    auto image = store_.load();
    if (!image) return unexpected{image.error()};
    snap_image_ = *image;
    snap_meta_ = std::move(meta);
    return {};
  }

  void reset_election_timer() {
    election_elapsed_ = 0;
    randomized_timeout_ = opts_.election_ticks + static_cast<std::uint32_t>(rng_.below(opts_.election_ticks));
  }

  void tick_election() {
    if (++election_elapsed_ < randomized_timeout_) return;
    if (!may_campaign()) return reset_election_timer();  // learners and removed nodes never campaign
    if (opts_.pre_vote) become_pre_candidate();
    else become_candidate();
  }

  // Thesis §4.2.2: a node left out of its latest configuration still
  // campaigns (its own vote uncounted) until it knows that configuration is
  // committed, or a change that removes it could leave the group leaderless.
  [[nodiscard]] bool may_campaign() const {
    if (config_.self_is_voter()) return true;
    if (configs_.latest().index <= commit_ || configs_.size() < 2) return false;
    const auto& before = configs_.at(configs_.latest().index.prev()).config;
    return contains(before.voters, self_) || contains(before.outgoing, self_);
  }

  void tick_leader() {
    rounds_.on_tick(++leader_ticks_);
    expire_reads();
    if (transfer_.tick(opts_.transfer_timeout_ticks != 0 ? opts_.transfer_timeout_ticks : opts_.election_ticks))
      ++stats_.transfers_aborted;
    ++heartbeat_elapsed_;
    if (++election_elapsed_ >= opts_.election_ticks) {
      election_elapsed_ = 0;
      if (opts_.check_quorum) {
        if (!quorum_active()) {
          become_follower(term_, no_node);
          return;
        }
        for (auto& p : progress_) p.recent_active = false;
      }
    }
    if (heartbeat_elapsed_ >= opts_.heartbeat_ticks) {
      heartbeat_elapsed_ = 0;
      broadcast_heartbeats();
    }
  }

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

  void become_follower(term_id t, node_id leader) {
    QUORUM_ASSERT(t >= term_);
    if (t > term_) {
      term_ = t;
      vote_ = no_node;
      persist_state();
    }
    if (role_ == role::leader) leave_leadership(leader);
    role_ = role::follower;
    leader_ = leader;
    reset_election_timer();
  }

  void become_pre_candidate() {
    role_ = role::pre_candidate;
    leader_ = no_node;
    reset_election_timer();
    ++stats_.pre_votes_started;
    config_.start_poll();
    if (!tally_reached()) request_votes(message_type::pre_vote, term_.value() + 1);
  }

  void become_candidate() {
    role_ = role::candidate;
    leader_ = no_node;
    term_ = term_id{term_.value() + 1};
    vote_ = self_;
    reset_election_timer();
    ++stats_.elections_started;
    persist_state();
    if (!sync_now()) return;  // the vote for ourselves is durable before anyone hears of it
    config_.start_poll();
    if (!tally_reached()) request_votes(message_type::request_vote, term_.value());
  }

  void become_leader() {
    QUORUM_ASSERT(role_ == role::candidate);
    role_ = role::leader;
    leader_ = self_;
    election_elapsed_ = heartbeat_elapsed_ = 0;
    uncommitted_bytes_ = 0;
    ++stats_.times_leader;
    rounds_.start_term(leader_ticks_);
    transfer_.end();
    for (auto& p : progress_) p.reset(log_.last_index(), false);
    // A leader commits entries of earlier terms only through one of its own (§5.4.2).
    auto noop = log_.append(entry_view{term_, entry_kind::noop, {}});
    if (!noop) status_ = unexpected{noop.error()};
  }

  // Moves on when the poll is decided: pre_candidate -> candidate -> leader,
  // or back to follower on a quorum of refusals. True if it was decided.
  bool tally_reached() {
    switch (config_.tally()) {
      case vote_result::won:
        if (role_ == role::pre_candidate) become_candidate();
        else become_leader();
        return true;
      case vote_result::lost: become_follower(term_, no_node); return true;
      case vote_result::pending: return false;
    }
    return false;
  }

  void request_votes(message_type type, std::uint64_t term) {
    for (std::size_t i = 0; i < config_.size(); ++i) {
      if (i == config_.self() || !config_.is_voter(i)) continue;
      message m = outgoing(type, config_.at(i), term_id{term});
      m.index = log_.last_index();
      m.log_term = log_.last_term();
      m.context = forced_campaign_ ? 1 : 0;
      transport_.send(m.to, m);
    }
  }


  void step(const message& m) {
    if (m.to != self_) {
      ++stats_.dropped_misrouted;
      return;
    }
    const std::size_t from = config_.position_of(m.from);
    if (m.from == self_ || m.from == no_node || (from == configuration::npos && !from_anyone(m.type))) {
      ++stats_.dropped_unknown_sender;
      return;
    }
    if (!m.entries.empty() && m.type != message_type::append_entries)
      return static_cast<void>(++stats_.dropped_malformed);  // only appends carry entries
    if (!m.data.empty() && m.type != message_type::install_snapshot)
      return static_cast<void>(++stats_.dropped_malformed);  // only snapshot chunks carry data
    if (m.term < term_) return on_stale_term(m);
    if (m.term > term_ && !on_higher_term(m)) return;
    if (role_ == role::leader && m.term == term_ && from != configuration::npos) progress_[from].recent_active = true;
    dispatch(m, from);
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

  // False when the message must go no further.
  bool on_higher_term(const message& m) {
    const bool vote_request = m.type == message_type::pre_vote || m.type == message_type::request_vote;
    const bool transfer_vote = m.type == message_type::request_vote && m.context == 1;
    if (vote_request && in_lease() && !transfer_vote) {
      ++stats_.dropped_in_lease;
      return false;
    }
    // A pre-vote moves no term: neither asking nor being granted one.
    if (m.type == message_type::pre_vote) return true;
    if (m.type == message_type::pre_vote_response && !m.reject) return true;
    const bool from_leader = m.type == message_type::append_entries || m.type == message_type::heartbeat ||
                             m.type == message_type::install_snapshot;
    become_follower(m.term, from_leader ? m.from : no_node);
    return true;
  }

  // Tells a deposed leader or a stale pre-candidate about the newer term, so
  // that one cut off by PreVote/CheckQuorum does not wait forever (§5.1).
  void on_stale_term(const message& m) {
    ++stats_.dropped_stale_term;
    const bool from_leader = m.type == message_type::append_entries || m.type == message_type::heartbeat ||
                             m.type == message_type::install_snapshot;
    if (from_leader && (opts_.check_quorum || opts_.pre_vote)) {
      reply(m, message_type::append_entries_response, true);
    } else if (m.type == message_type::pre_vote) {
      reply(m, message_type::pre_vote_response, true);
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

  void reply(const message& to, message_type type, bool reject, term_id term = {}) {
    message r = outgoing(type, to.from, term == term_id{} ? term_ : term);
    r.index = to.index;
    r.reject = reject;
    transport_.send(r.to, r);
  }

  void dispatch(const message& m, std::size_t from) {
    switch (m.type) {
      case message_type::pre_vote:
      case message_type::request_vote: return handle_vote_request(m);
      case message_type::pre_vote_response:
      case message_type::request_vote_response: return handle_vote_response(m, from);
      case message_type::append_entries: return handle_append(m);
      case message_type::append_entries_response: return handle_append_response(m, from);
      case message_type::heartbeat: return handle_heartbeat(m);
      case message_type::heartbeat_response:
        on_read_ack(from, m.context);
        return handle_heartbeat_response(from);
      case message_type::install_snapshot: return handle_snapshot_chunk(m);
      case message_type::install_snapshot_response: return handle_snapshot_response(m, from);
      case message_type::timeout_now: return handle_timeout_now(m);
    }
  }

  void handle_vote_request(const message& m) {
    const bool pre = m.type == message_type::pre_vote;
    const bool can_vote = vote_ == m.from || (vote_ == no_node && leader_ == no_node) || (pre && m.term > term_);
    const bool up_to_date = m.log_term > log_.last_term() ||
                            (m.log_term == log_.last_term() && m.index >= log_.last_index());
    const auto type = pre ? message_type::pre_vote_response : message_type::request_vote_response;
    if (!can_vote || !up_to_date) return reply(m, type, true);
    if (!pre) {
      QUORUM_ASSERT(m.term == term_ && (vote_ == no_node || vote_ == m.from));  // one vote per term
      vote_ = m.from;
      reset_election_timer();
      persist_state();
      if (!sync_now()) return;  // durability rule: the vote is on disk before it is sent
    }
    reply(m, type, false, m.term);
  }

  void handle_vote_response(const message& m, std::size_t from) {
    if (m.type == message_type::pre_vote_response) {
      if (role_ != role::pre_candidate) return;
      if (!m.reject && m.term != term_id{term_.value() + 1}) return;
    } else if (role_ != role::candidate) {
      return;
    }
    config_.record_vote(from, !m.reject);
    tally_reached();
  }

  // Any message from the leader of our term makes us its follower.
  bool follow(const message& m) {
    if (role_ == role::leader) {
      ++stats_.dropped_invalid;  // two leaders in one term cannot come from correct peers
      return false;
    }
    if (role_ != role::follower) become_follower(term_, m.from);
    leader_ = m.from;
    election_elapsed_ = 0;
    return true;
  }

  void handle_append(const message& m) {
    if (!entries_well_formed(m) || !configs_well_formed(m)) return static_cast<void>(++stats_.dropped_malformed);
    if (!follow(m)) return;
    if (m.index < commit_) return queue_ack(m.from, commit_);  // the prefix is committed already
    const auto prev_term = log_.term_at(m.index);
    if (!prev_term || *prev_term != m.log_term) return reject_append(m);
    const log_index last_new = m.index + m.entries.size();
    const log_index last_before = log_.last_index();
    auto truncated = log_.append_from(m.index.next(), m.entries, commit_);
    if (!truncated) return static_cast<void>(set_failed(truncated.error()));
    if (*truncated != log_index{} && configs_.truncate(*truncated)) set_config(configs_.latest().config);
    const log_index first_new = *truncated != log_index{} ? *truncated : last_before.next();
    for (log_index i = std::max(first_new, m.index.next()); i <= last_new; i = i.next()) {
      const entry_view& e = m.entries[i - m.index.next()];
      if (e.kind != entry_kind::config) continue;
      if (auto r = note_config(i, e); !r) return static_cast<void>(set_failed(r.error()));
      set_config(configs_.latest().config);
    }
    commit_to(std::min(m.commit, last_new));
    queue_ack(m.from, last_new);
  }

  [[nodiscard]] static bool configs_well_formed(const message& m) {
    return std::all_of(m.entries.begin(), m.entries.end(), [](const entry_view& e) {
      return e.kind != entry_kind::config || decode_membership(e.data).has_value();
    });
  }

  // Fast backtracking: name our last entry at or before the leader's prev
  // index whose term is no newer than its prev term, skipping whole terms.
  void reject_append(const message& m) {
    const log_index hint = log_.last_at_or_below(m.index, m.log_term);
    message r = outgoing(message_type::append_entries_response, m.from, term_);
    r.reject = true;
    r.index = m.index;
    r.hint_index = hint;
    r.log_term = log_.term_at(hint).value_or(term_id{});
    transport_.send(r.to, r);
  }

  void handle_heartbeat(const message& m) {
    if (!follow(m)) return;
    // The leader sends min(our match, its commit): a prefix we are known to share.
    commit_to(std::min(m.commit, log_.last_index()));
    message r = outgoing(message_type::heartbeat_response, m.from, term_);
    r.index = m.index;
    r.context = m.context;  // names the read round this answer confirms
    transport_.send(r.to, r);
  }

  void handle_append_response(const message& m, std::size_t from) {
    if (role_ != role::leader) return;
    progress& p = progress_[from];
    if (m.reject) {
      const log_index k = log_.last_at_or_below(m.hint_index, m.log_term);
      if (p.reject(m.index, k.next())) send_appends(from, false);
      return;
    }
    if (m.index > log_.last_index()) return static_cast<void>(++stats_.dropped_invalid);  // never had those
    // Only an acknowledgement past the commit index can move it.
    if (p.acknowledge(m.index) && m.index > commit_ && maybe_commit()) broadcast_appends(true);
    send_appends(from, false);
    maybe_send_timeout_now(from);
  }

  void handle_heartbeat_response(std::size_t from) {
    if (role_ != role::leader) return;
    progress& p = progress_[from];
    p.probe_sent = false;
    if (p.state == progress_state::snapshot) return resume_stalled_snapshot(from);
    // Acknowledgements may all have been lost: let one more append out.
    if (p.state == progress_state::replicate && p.window.full()) p.window.free_first();
    // Appends lost in replicate are only noticed when the next one is refused:
    // an empty one at next - 1 makes a follower with a gap say so.
    if (p.match < log_.last_index()) send_appends(from, true);
  }


  // A chunk of the leader's snapshot image (§7). The acknowledgement that
  // completes a transfer leaves only once the image is saved, i.e. durable.
  void handle_snapshot_chunk(const message& m) {
    if (!follow(m)) return;
    // Holding all it covers already, durably: say so, the leader goes back to appends.
    if (m.index <= commit_ && m.index <= log_.synced_index()) return reply_snapshot(m, m.total, false);
    if (m.index <= commit_) return;  // the leader retries once our sync has caught up
    if constexpr (!can_snapshot) {
      ++stats_.dropped_invalid;  // this node was built without snapshots: nothing it can do
    } else {
      switch (receiver_.accept(m.index, m.log_term, m.offset, m.total, m.data, opts_.max_snapshot_bytes)) {
        case snapshot_receiver::outcome::more: return reply_snapshot(m, receiver_.held(), false);
        case snapshot_receiver::outcome::resume: return reply_snapshot(m, receiver_.held(), true);
        case snapshot_receiver::outcome::too_large: ++stats_.snapshots_refused; return;
        case snapshot_receiver::outcome::complete: return install_received(m);
      }
    }
  }

  void install_received(const message& m) {
    auto img = decode_image(receiver_.image());
    if (!img || img->meta.index != m.index || img->meta.term != m.log_term) {
      ++stats_.dropped_malformed;  // damaged on the way, or not what it claimed: start over
      receiver_.clear();
      return reply_snapshot(m, 0, true);
    }
    if (auto r = store_.save(receiver_.image()); !r) return static_cast<void>(set_failed(r.error()));
    if constexpr (SnapshottingStateMachine<state_machine_type>) fsm_.restore(img->meta.index, img->data);
    if (auto r = log_.install(img->meta.index, img->meta.term); !r) return static_cast<void>(set_failed(r.error()));
    configs_.reset(img->meta.config_index, img->meta.config);
    for (log_index i = log_.first_index(); i <= log_.last_index(); i = i.next()) {
      auto e = log_.entry(i);  // a suffix kept after the snapshot may hold configuration entries
      if (!e) return static_cast<void>(set_failed(e.error()));
      if (auto r = note_config(i, *e); !r) return static_cast<void>(set_failed(r.error()));
    }
    set_config(configs_.latest().config);
    commit_ = std::max(commit_, img->meta.index);
    applied_ = img->meta.index;
    const log_index index = img->meta.index;
    receiver_.clear();
    if (auto r = adopt_stored_snapshot(snapshot_meta{index, m.log_term, configs_.at(index).index,
                                                     configs_.at(index).config});
        !r)
      return static_cast<void>(set_failed(r.error()));
    ++stats_.snapshots_installed;
    reply_snapshot(m, m.total, false);
  }

  void reply_snapshot(const message& m, std::uint64_t held, bool resume) {
    message r = outgoing(message_type::install_snapshot_response, m.from, term_);
    r.index = m.index;
    r.log_term = m.log_term;
    r.offset = held;
    r.total = m.total;
    r.reject = resume;
    transport_.send(r.to, r);
  }

  void handle_snapshot_response(const message& m, std::size_t from) {
    if (role_ != role::leader) return;
    progress& p = progress_[from];
    if (!m.reject && m.offset == m.total) {  // installed (or not needed): back to appends after it
      if (m.index > log_.last_index()) return static_cast<void>(++stats_.dropped_invalid);
      p.snapshot_done(m.index);
      if (maybe_commit()) broadcast_appends(true);
      return send_appends(from, false);
    }
    if (p.state != progress_state::snapshot || m.index != p.snapshot_index) return;
    p.snapshot_stalls = 0;
    if (m.reject) {
      p.snapshot_acked = p.snapshot_sent = std::min<std::uint64_t>(m.offset, snap_image_.size());
    } else if (m.offset > p.snapshot_acked && m.offset <= p.snapshot_sent) {
      p.snapshot_acked = m.offset;
    }
    send_snapshot_chunks(from);
  }

  // Chunks from where the follower is known to be, at most a window ahead.
  void send_snapshot_chunks(std::size_t i) {
    progress& p = progress_[i];
    if (p.snapshot_index != snap_meta_.index) p.become_snapshot(snap_meta_.index);  // a newer image supersedes
    const std::uint64_t total = snap_image_.size();
    const std::uint64_t window = opts_.snapshot_chunk_bytes * opts_.max_inflight_snapshot_chunks;
    while (p.snapshot_sent < total && p.snapshot_sent - p.snapshot_acked < window) {
      const std::uint64_t n = std::min<std::uint64_t>(opts_.snapshot_chunk_bytes, total - p.snapshot_sent);
      message m = outgoing(message_type::install_snapshot, config_.at(i), term_);
      m.index = snap_meta_.index;
      m.log_term = snap_meta_.term;
      m.offset = p.snapshot_sent;
      m.total = total;
      m.data = snap_image_.subspan(p.snapshot_sent, n);
      m.commit = commit_;
      transport_.send(m.to, m);
      p.snapshot_sent += n;
      ++stats_.snapshot_chunks_sent;
    }
  }

  // Two heartbeats answered with no chunk acknowledged: chunks were lost.
  void resume_stalled_snapshot(std::size_t i) {
    progress& p = progress_[i];
    if (++p.snapshot_stalls < 2) return;
    p.snapshot_stalls = 0;
    p.snapshot_sent = p.snapshot_acked;
    send_snapshot_chunks(i);
  }

  void broadcast_appends(bool even_empty) {
    for (std::size_t i = 0; i < config_.size() && status_; ++i)
      if (i != config_.self()) send_appends(i, even_empty);
  }

  // Pipelines appends to a follower until it is caught up or its window is
  // full; a probe goes out alone. even_empty: carry a new commit index.
  void send_appends(std::size_t i, bool even_empty) {
    progress& p = progress_[i];
    if (p.state != progress_state::snapshot && p.next.prev() < log_.snapshot_index()) {
      if constexpr (!can_snapshot) return;  // unreachable: without snapshots nothing is compacted
      p.become_snapshot(snap_meta_.index);
    }
    if (p.state == progress_state::snapshot) return send_snapshot_chunks(i);
    while (!p.paused() && status_) {
      const bool has_entries = p.next <= log_.last_index();
      if (!has_entries && !even_empty && p.state == progress_state::replicate) return;
      send_append(i);
      if (!has_entries || p.state == progress_state::probe) return;
    }
  }

  // The entries view the log's cache (or its copy buffers): valid during
  // transport_.send, and no log call happens before it returns.
  void send_append(std::size_t i) {
    progress& p = progress_[i];
    const log_index prev = p.next.prev();
    const auto prev_term = log_.term_at(prev);
    QUORUM_ASSERT(prev_term.has_value());  // send_appends sends a snapshot when prev is compacted
    auto entries = log_.batch(p.next, opts_.max_entries_per_append, opts_.max_bytes_per_append);
    if (!entries) return static_cast<void>(set_failed(entries.error()));
    message m = outgoing(message_type::append_entries, config_.at(i), term_);
    m.index = prev;
    m.log_term = *prev_term;
    m.commit = commit_;
    m.entries = *entries;
    transport_.send(m.to, m);
    p.sent(prev + entries->size(), !entries->empty());
  }

  void broadcast_heartbeats() {
    const std::uint64_t round = rounds_.begin_round();
    for (std::size_t i = 0; i < config_.size(); ++i) {
      if (i == config_.self()) continue;
      message m = outgoing(message_type::heartbeat, config_.at(i), term_);
      m.commit = std::min(progress_[i].match, commit_);
      m.context = round;
      transport_.send(m.to, m);
    }
  }

  // Commits the highest index a quorum holds durably, if it is of our term
  // (§5.4.2: counting replicas never commits an entry of an earlier term).
  bool maybe_commit() {
    const std::size_t self = config_.self();
    const log_index q =
        config_.quorum_index([&](std::size_t i) { return i == self ? log_.synced_index() : progress_[i].match; });
    if (q <= commit_ || log_.term_at(q) != term_) return false;
    commit_to(q);
    return true;
  }

  void commit_to(log_index i) {
    if (i <= commit_) return;
    QUORUM_ASSERT(i <= log_.last_index());
    commit_ = i;
  }

  void queue_ack(node_id to, log_index index) {
    if (ack_to_ == to && ack_term_ == term_) {
      ack_index_ = std::max(ack_index_, index);
      return;
    }
    ack_to_ = to;
    ack_term_ = term_;
    ack_index_ = index;
  }

  // Called only after the sync that covers every entry up to ack_index_.
  void send_pending_ack() {
    if (ack_to_ == no_node) return;
    QUORUM_ASSERT(!log_.dirty() && ack_index_ <= log_.synced_index());
    message r = outgoing(message_type::append_entries_response, ack_to_, ack_term_);
    r.index = ack_index_;
    ack_to_ = no_node;
    transport_.send(r.to, r);
  }

  // What changes here changes only when something is applied, so a call
  // with nothing new goes straight to the reads.
  void apply_committed() {
    if (applied_ < commit_) {
      while (applied_ < commit_ && status_) {
        // Recent entries come straight from the log's cache, older ones from the Log.
        const auto run = log_.cached(applied_.next(), commit_ - applied_);
        for (const entry_view& e : run) apply_one(e);
        if (!run.empty()) continue;
        auto e = log_.entry(applied_.next());
        if (!e) return static_cast<void>(set_failed(e.error()));
        apply_one(*e);
      }
      configs_.forget_before(applied_);
      release_cache();
      if (role_ == role::leader && configs_.latest().index <= commit_) on_membership_committed();
    }
    advance_reads();
  }

  void apply_one(const entry_view& e) {
    const log_index i = applied_.next();
    if (role_ == role::leader && e.term == term_ && e.kind == entry_kind::normal)
      uncommitted_bytes_ -= std::min(uncommitted_bytes_, e.data.size());
    applied_ = i;
    if (e.kind == entry_kind::normal) fsm_.apply(i, e.data);
  }

  // The log's cache keeps what may still be sent or applied: on a leader,
  // what some follower may lack; elsewhere what is not applied yet.
  void release_cache() {
    log_index upto = applied_;
    if (role_ == role::leader)
      for (std::size_t i = 0; i < progress_.size(); ++i)
        if (i != config_.self()) upto = std::min(upto, progress_[i].match);
    log_.release(upto);
  }

  // The configuration in force is committed: a leader leaves a joint one at
  // once, and steps down from one that no longer counts it (thesis §4.2.2).
  void on_membership_committed() {
    if (config_.joint()) {
      if (log_.term_at(commit_) != term_) return;  // first commit an entry of this term
      const raft::membership& now = config_.membership();
      if (auto r = append_config(raft::membership{now.voters, {}, now.learners}); !r)
        return static_cast<void>(set_failed(r.error()));
      broadcast_appends(false);
    } else if (!config_.self_is_voter() && opts_.step_down_when_removed) {
      ++stats_.stepped_down_removed;
      become_follower(term_, no_node);
    }
  }


  // On timeout_now from our leader: campaign at once, skipping PreVote, with
  // vote requests that ask the voters to look past their leader lease.
  void handle_timeout_now(const message& m) {
    if (role_ != role::follower || m.from != leader_ || !config_.self_is_voter())
      return static_cast<void>(++stats_.dropped_invalid);
    forced_campaign_ = true;
    become_candidate();
    forced_campaign_ = false;
  }

  // The target holds every entry we have: it can win at once.
  void maybe_send_timeout_now(std::size_t i) {
    if (!transfer_.active() || transfer_.timeout_now_sent || config_.at(i) != transfer_.target) return;
    if (progress_[i].match != log_.last_index()) return;
    transfer_.timeout_now_sent = true;
    rounds_.revoke_lease();  // the target's election ignores the followers' leases
    transport_.send(transfer_.target, outgoing(message_type::timeout_now, transfer_.target, term_));
  }

  [[nodiscard]] bool lease_valid() const noexcept {
    return opts_.lease_reads && rounds_.lease_valid(leader_ticks_);
  }

  void on_read_ack(std::size_t from, std::uint64_t round) {
    if (role_ != role::leader) return;
    if (rounds_.acknowledge(config_, from, round, opts_.election_ticks, opts_.clock_drift_ticks))
      reads_.confirm(rounds_.confirmed());
  }

  // Sends the round that reads are waiting for, fixes the read index once
  // the term has committed, and serves every read confirmed and applied.
  void advance_reads() {
    if (reads_.empty() || role_ != role::leader) return;
    if (rounds_.wanted()) broadcast_heartbeats();
    if (log_.term_at(commit_) == term_) reads_.set_index(commit_);
    reads_.take_ready(applied_, [&](std::uint64_t id, log_index i) { notify_read_ready(id, i); });
  }

  void expire_reads() {
    reads_.take_expired(leader_ticks_, opts_.election_ticks, [&](std::uint64_t id) {
      notify_read_failed(id, error{errc::timeout, "raft: no quorum confirmed the read in time", opts_.election_ticks});
    });
  }

  void leave_leadership(node_id hint) {
    transfer_.end();
    reads_.take_all([&](std::uint64_t id) {
      notify_read_failed(id, error{errc::not_leader, "raft: leadership lost before the read was served", hint.value()});
    });
  }

  // Reads are queued only through read(), which requires ReadingStateMachine.
  void notify_read_ready(std::uint64_t id, log_index i) {
    if constexpr (ReadingStateMachine<state_machine_type>) {
      ++stats_.reads_served;
      fsm_.read_ready(id, i);
    }
  }
  void notify_read_failed(std::uint64_t id, const error& e) {
    if constexpr (ReadingStateMachine<state_machine_type>) {
      ++stats_.reads_failed;
      fsm_.read_failed(id, e);
    }
  }

  void persist_state() {
    if (auto r = log_.save_state(hard_state{term_, vote_}); !r) set_failed(r.error());
  }

  bool sync_now() {
    if (!status_) return false;
    ++stats_.syncs;
    if (auto r = log_.sync(); !r) return set_failed(r.error());
    return true;
  }

  // A Log that fails cannot keep any promise: the node stops and says why.
  // Queued reads fail with the same error: nothing will ever serve them.
  bool set_failed(const error& e) {
    status_ = unexpected{e};
    reads_.take_all([&](std::uint64_t id) { notify_read_failed(id, e); });
    return false;
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
