// quorum::paxos::node: one member of a Multi-Paxos group as a sans-I/O state
// machine over user policies (Transport, Log, Clock, StateMachine), built as
// raft::node is, so one type swaps for the other. A distinguished leader runs
// phase 1 once for every open slot, then phase 2 per slot, pipelined and
// batched; promises and accepts leave only after the sync() that makes them true.
// Membership changes go through the log: a configuration chosen at slot s
// governs slots s + α on (α = options::max_open_slots), and a leader runs
// phase 1 again, at its ballot, before it opens the first slot of a new one.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/random.hpp"
#include "quorum/core/result.hpp"
#include "quorum/paxos/config_history.hpp"
#include "quorum/paxos/configuration.hpp"
#include "quorum/paxos/entry_batch.hpp"
#include "quorum/paxos/journal.hpp"
#include "quorum/paxos/message.hpp"
#include "quorum/paxos/options.hpp"
#include "quorum/paxos/phase_one.hpp"
#include "quorum/paxos/policies.hpp"
#include "quorum/paxos/replica.hpp"
#include "quorum/paxos/quorums.hpp"
#include "quorum/paxos/reads.hpp"
#include "quorum/paxos/state_machine.hpp"
#include "quorum/paxos/status.hpp"
#include "quorum/paxos/window.hpp"

namespace quorum::paxos {

// Policies is one traits struct: transport, log, clock, state_machine. Each
// verb (tick, receive, propose) ends with flush() unless a batch() is open:
// flush() sends new accepts, syncs the log once for every write since the
// last flush (group commit), then sends the answers that sync made true and
// applies what is chosen.
template <class Policies>
class node : public replica<Policies> {
 public:
  using transport_type = typename Policies::transport;
  using log_type = typename Policies::log;
  using clock_type = typename Policies::clock;
  using state_machine_type = typename Policies::state_machine;
  using snapshot_store_type = typename replica<Policies>::snapshot_store_type;

  // A configuration or a stored state that cannot work leaves the node inert:
  // status() says why, propose() returns that error, tick()/receive() do nothing.
  node(node_id self, std::span<const node_id> members, transport_type transport, log_type log, clock_type clock,
       state_machine_type state_machine, options opts = {})
      : node{self, members, std::move(transport), std::move(log), std::move(clock), std::move(state_machine),
             snapshot_store_type{}, opts} {}

  // With a snapshot store: a restart restores its image, then replays the journal after it.
  node(node_id self, std::span<const node_id> members, transport_type transport, log_type log, clock_type clock,
       state_machine_type state_machine, snapshot_store_type snapshots, options opts = {})
      : base{self,       members, std::move(transport), std::move(log), std::move(clock), std::move(state_machine),
             std::move(snapshots), opts} {
    seen_ = promised_;
    // A node that never promised anything cannot have granted a lease.
    lease_elapsed_ = promised_.round == 0 ? opts_.election_ticks : 0;
    reset_timer();
  }

  void tick() {
    if (!status_ || !this->write_staged()) return;
    last_tick_ = clock_.now();
    ++ticks_;
    ++lease_elapsed_;
    if (catchup_wait_ > 0) --catchup_wait_;
    this->tick_snapshots();
    if (role_ == role::follower) tick_follower();
    else tick_proposer();
    maybe_flush();
  }

  void receive(const message& m) {
    if (!status_ || !this->write_staged()) return;
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

  // Puts command in the next slot. Not chosen yet: it is chosen at the
  // returned (slot, ballot) or, after a leader change, reported lost by
  // another ballot's value (or a no-op) being chosen at that slot.
  result<proposal> propose(byte_view command) {
    if (!status_) return unexpected{status_.error()};
    if (role_ != role::leader) return fail(errc::not_leader, "paxos: not the leader", leader_.value());
    if (command.size() > opts_.max_command_bytes)
      return fail(errc::too_large, "paxos: command over max_command_bytes", opts_.max_command_bytes);
    if (window_.size() >= opts_.max_open_slots) {
      ++stats_.proposals_refused_busy;
      return fail(errc::busy, "paxos: max_open_slots reached", opts_.max_open_slots);
    }
    QUORUM_TRY(ready_to_open());
    // The proposal is built at each return from its slot and bal_, not kept
    // across the calls: a copy of a 24-byte local made g++ read back 16 bytes
    // it had just stored as two halves, a store-forwarding stall that took
    // about an eighth of a batch()'s time (perf annotate).
    const log_index slot = window_.next();
    if (batch_depth_ > 0) {  // journalled with the batch's others, as one run (proposal_stage.hpp)
      staged_.add(slot, bal_, command);
      window_.open();
      return proposal{slot, bal_};
    }
    if (!propose_at(entry_kind::normal, command)) return unexpected{status_.error()};
    maybe_flush();
    return proposal{slot, bal_};
  }

  // Puts every command in consecutive slots, as propose() of each inside a
  // batch() would, in one call and one journal run: raft::node::propose_all's
  // counterpart, so code written for one compiles against the other. The
  // checks are made once for the group, and when one fails no slot is
  // opened: a command over max_command_bytes is too_large, and so is a group
  // of more than max_open_slots (it could never be open at once); a group
  // that does not fit the window now is busy, and so is one that would reach
  // past the configurations known (over α past the applied slot) or into a
  // configuration not in force yet, which takes a phase 1 first (propose up
  // to it, then the rest). Command k is at the returned slot + k, at the
  // returned ballot; an empty group is errc::invalid_argument.
  result<proposal> propose_all(std::span<const byte_view> commands) {
    if (!status_) return unexpected{status_.error()};
    if (role_ != role::leader) return fail(errc::not_leader, "paxos: not the leader", leader_.value());
    if (commands.empty()) return fail(errc::invalid_argument, "paxos: no command to propose");
    if (!this->write_staged()) return unexpected{status_.error()};  // its slots come before the group's
    for (const byte_view& c : commands)
      if (c.size() > opts_.max_command_bytes)
        return fail(errc::too_large, "paxos: command over max_command_bytes", opts_.max_command_bytes);
    if (commands.size() > opts_.max_open_slots)
      return fail(errc::too_large, "paxos: group over max_open_slots: split it", opts_.max_open_slots);
    if (window_.size() + commands.size() > opts_.max_open_slots) {
      ++stats_.proposals_refused_busy;
      return fail(errc::busy, "paxos: max_open_slots reached", opts_.max_open_slots);
    }
    QUORUM_TRY(ready_to_open());
    const log_index first = window_.next();
    const log_index last = first + (commands.size() - 1);
    if (last > horizon()) {
      ++stats_.proposals_refused_busy;
      return fail(errc::busy, "paxos: the group's last slot is over α past the applied slot", last.value());
    }
    if (last >= configs_.next_change(first)) {
      ++stats_.proposals_refused_busy;
      return fail(errc::busy, "paxos: the group reaches a configuration not in force yet: propose up to it first",
                  configs_.next_change(first).value());
    }
    group_.resize(commands.size());
    for (std::size_t k = 0; k < commands.size(); ++k)
      group_[k] = entry{first + k, bal_, entry_kind::normal, commands[k]};
    // A Log error fails the node: what of the group reached its disk may yet be chosen.
    if (auto r = journal_.write_run(record_kind::accepted, group_); !r) {
      set_failed(r.error());
      return unexpected{status_.error()};
    }
    window_.open_run(commands.size());
    if (batch_depth_ == 0) flush_sending(group_);
    return proposal{first, bal_};
  }

  // Moves the group to `target` through the log: chosen at slot s, it
  // governs slots s + α on (α = options::max_open_slots); the leader fills
  // the slots up to there with no-ops if clients leave them empty. Voters
  // are the acceptors; learners only receive chosen values. One change at a
  // time: refused while one is proposed or chosen and not yet in force. A
  // leader the target leaves out finishes the slots before it, then steps
  // down. Returns where the command will be chosen.
  result<proposal> change_membership(paxos::configuration target) {
    if (!status_ || !this->write_staged()) return unexpected{status_.error()};
    if (role_ != role::leader) return fail(errc::not_leader, "paxos: not the leader", leader_.value());
    QUORUM_TRY(normalize(target, opts_.phase1_quorum, opts_.phase2_quorum));
    if (change_pending()) return fail(errc::busy, "paxos: a configuration change is in progress", config_slot_.value());
    if (target == configs_.at(window_.next()).stamp.config)
      return fail(errc::invalid_argument, "paxos: that is the configuration already");
    if (window_.size() >= opts_.max_open_slots)
      return fail(errc::busy, "paxos: max_open_slots reached", opts_.max_open_slots);
    QUORUM_TRY(ready_to_open());
    byte_buffer data;
    encode(target, data);
    const proposal p{window_.next(), bal_};
    if (!propose_at(entry_kind::config, data)) return unexpected{status_.error()};
    ++stats_.configuration_changes;
    maybe_flush();
    return p;
  }

  // Snapshots the state machine at the applied slot into the snapshot store,
  // then compacts the journal and the slot index behind it (keeping
  // options::snapshot_trailing_slots, and every slot still open). Returns the
  // snapshot's slot.
  result<log_index> take_snapshot() {
    static_assert(base::can_snapshot,
                  "quorum::paxos::node::take_snapshot: needs 'using snapshot_store = ...' in the policies and "
                  "'snapshot(out)' and 'restore(slot, bytes)' on the state machine");
    if (!status_ || !this->write_staged()) return unexpected{status_.error()};
    const log_index limit = role_ == role::follower ? all_slots : window_.base().prev();
    return this->snapshot_to(limit);
  }

  void flush() { flush_sending({}); }

  // A linearizable read, served without a slot: state_machine.read_ready(id,
  // slot) once it may read its state (from inside this or a later call), or
  // read_failed(id, error) if this node stops leading first.
  result<void> read(std::uint64_t id)
    requires ReadingStateMachine<state_machine_type>
  {
    if (!status_) return unexpected{status_.error()};
    if (role_ != role::leader) return fail(errc::not_leader, "paxos: not the leader", leader_.value());
    if (reads_.size() >= opts_.max_pending_reads)
      return fail(errc::busy, "paxos: max_pending_reads reached", opts_.max_pending_reads);
    const bool leased = lease_valid();
    // Without a lease the read waits for the next heartbeat round, sent at
    // the flush: every read asked before it (a batch's, a turn's) shares it.
    if (!leased) read_round_wanted_ = true;
    else ++stats_.reads_by_lease;
    reads_.add(read_tracker::pending{id, window_.next().prev(), leased ? 0 : reads_.round() + 1});
    maybe_flush();
    return {};
  }

  // Defers every flush() until the guard dies, so that one sync() and one
  // accept message per peer cover a whole batch of proposals or messages.
  class batch_guard {
   public:
    explicit batch_guard(node& n) noexcept : n_{&n} { ++n_->batch_depth_; }
    batch_guard(const batch_guard&) = delete;
    batch_guard& operator=(const batch_guard&) = delete;
    ~batch_guard() {
      if (--n_->batch_depth_ == 0) n_->flush();
    }

   private:
    node* n_;
  };
  [[nodiscard]] batch_guard batch() noexcept { return batch_guard{*this}; }

  [[nodiscard]] paxos::role role() const noexcept { return role_; }
  // The ballot this node proposes with (as candidate or leader).
  [[nodiscard]] ballot current_ballot() const noexcept { return bal_; }
  [[nodiscard]] node_id leader() const noexcept { return leader_; }
  [[nodiscard]] std::uint32_t election_timeout() const noexcept { return timeout_; }
  [[nodiscard]] typename clock_type::time_point last_tick_time() const noexcept { return last_tick_; }

 private:
  using base = replica<Policies>;
  using base::applied_, base::batch_, base::catchup_wait_, base::clock_, base::fsm_, base::journal_, base::limits_;
  using base::apply_chosen, base::outgoing, base::raise_promise, base::reject, base::send_pending_replies;
  using base::configs_, base::configs_changed_, base::opts_, base::promised_, base::recv_entries_;
  using base::replies_, base::rng_, base::self_;
  using base::set_failed, base::sync_now, base::learn_commit, base::on_catchup, base::on_catchup_request;
  using base::staged_, base::stats_, base::status_, base::transport_;
  using typename base::reply;

  // ---- timers ------------------------------------------------------------

  // Each preemption in a row doubles the span the timeout is drawn from (up
  // to 8x): duelling proposers drift apart instead of colliding forever.
  void reset_timer() {
    elapsed_ = 0;
    const std::uint64_t span = std::uint64_t{opts_.election_ticks} << std::min<std::uint32_t>(backoff_, 3);
    timeout_ = opts_.election_ticks + static_cast<std::uint32_t>(rng_.below(span));
  }

  // Only a voter of the configuration of its next slot campaigns: not a
  // learner, a removed node, a joining node that has not learned it. Such a
  // node asks a peer for chosen values it lacks instead: it may be a voter
  // of a later configuration it has not learned, with no leader left to
  // tell it (the one that added it was removed).
  void tick_follower() {
    if (++elapsed_ < timeout_) return;
    if (configs_.at(applied_.next()).quorums.self() == paxos::membership::npos) {
      ask_for_news();
      return reset_timer();
    }
    become_candidate();
  }

  void ask_for_news() {
    const auto roster = configs_.roster();
    if (roster.empty()) return;
    const node_id peer = roster[static_cast<std::size_t>(rng_.below(roster.size()))];
    if (peer == self_) return;
    message r = outgoing(message_type::catchup_request, peer, promised_);
    r.slot = r.index = journal_.watermark().next();
    transport_.send(r.to, r);
  }

  void tick_proposer() {
    if (++retransmit_elapsed_ >= opts_.retransmit_ticks) {
      retransmit_elapsed_ = 0;
      if (p1_running_ && !p1_waiting_) send_prepares();
      retransmit_accepts();
    }
    if (role_ == role::candidate) {
      if (++elapsed_ >= timeout_) become_candidate();
      return;
    }
    if (++heartbeat_elapsed_ >= opts_.heartbeat_ticks) {
      heartbeat_elapsed_ = 0;
      broadcast_heartbeats();
      fill_to_configuration();
    }
    if (opts_.check_quorum && ++elapsed_ >= opts_.election_ticks) {
      elapsed_ = 0;
      if (!heard_from_quorum()) return step_down(ballot{});
      active_.clear();
    }
  }

  // The peers heard from this period, with us, are a phase-2 quorum of the
  // configuration of the next slot.
  [[nodiscard]] bool heard_from_quorum() const {
    const paxos::membership& q = configs_.at(window_.next()).quorums;
    std::uint64_t mask = q.self() == paxos::membership::npos ? 0 : paxos::membership::bit(q.self());
    for (node_id n : active_)
      if (const std::size_t pos = q.position_of(n); pos != paxos::membership::npos) mask |= paxos::membership::bit(pos);
    return q.phase2_reached(mask);
  }

  // On every answer: a plain scan of the few peers heard from (std::find's unrolled loop costs more here).
  void note_active(node_id n) {
    for (node_id a : active_)
      if (a == n) return;
    active_.push_back(n);
  }

  // ---- roles -------------------------------------------------------------

  void become_candidate() {
    // No ballot above max_round: the next would wrap around below our
    // promise. Only damaged input gets a node here, and it stays a follower.
    if (std::max(seen_, promised_).exhausted()) [[unlikely]] {
      ++stats_.elections_refused_exhausted;
      reset_timer();
      return;
    }
    role_ = role::candidate;
    leader_ = no_node;
    bal_ = std::max(seen_, promised_).next_for(self_);
    seen_ = promised_ = bal_;
    ++stats_.elections_started;
    reset_timer();
    if (auto r = journal_.save_promise(bal_); !r) return static_cast<void>(set_failed(r.error()));
    if (!sync_now()) return;  // our own promise is durable before it counts
    const log_index first = journal_.watermark().next();
    window_.reset(first);
    active_.clear();
    retransmit_elapsed_ = 0;
    covered_from_ = config_slot_ = log_index{};
    p1_running_ = true;
    start_page(first);
    settle_page();
  }

  // The last slot whose configuration this node knows: α past the applied one.
  [[nodiscard]] log_index horizon() const noexcept { return applied_ + opts_.max_open_slots; }

  // Phase 1 from `first` in the configuration in force there; a page past
  // the horizon waits until enough is applied to know that configuration.
  void start_page(log_index first) {
    if (first > horizon()) {
      p1_waiting_ = true;
      return;
    }
    p1_waiting_ = false;
    p1_.start(first);
    if (configs_.at(first).quorums.self() == paxos::membership::npos) {
      // That configuration leaves us out: its voters lead from `first` on.
      // The slots before it that our phase 1 settled are still ours to get
      // chosen (as a leader that opens nothing more, stepping down once they
      // are, maybe_cross()): dropping them would leave them to our next
      // candidacy, which settles them and stops here again, forever, while
      // its prepares keep preempting the voters that could go on.
      if (window_.size() == 0) {
        ++stats_.stepped_down_removed;
        return step_down(ballot{});
      }
      p1_running_ = false;
      if (role_ == role::candidate) become_leader();
      return;
    }
    add_own_promise();
    send_prepares();
  }

  void add_own_promise() {
    for (log_index s = p1_.first(); s <= journal_.known_end() && status_; s = s.next()) {
      if (journal_.at(s)->position == log_index{}) continue;
      auto e = journal_.read(s);
      if (!e) return static_cast<void>(set_failed(e.error()));
      p1_.offer(*e);
    }
    p1_.add(configs_.at(p1_.first()).quorums.self(), p1_.first(), all_slots, {});
  }

  // Settles pages while a phase-1 quorum of the page's configuration has
  // answered: re-proposes the value found at the highest ballot in each
  // settled slot, a no-op in each gap. A page never crosses into another
  // configuration, nor past the horizon: that next page waits for the
  // slots before it to be chosen and applied.
  void settle_page() {
    while (p1_running_ && !p1_waiting_ && role_ != role::follower && status_ &&
           p1_.reached(configs_.at(p1_.first()).quorums)) {
      const log_index first = p1_.first();
      const log_index boundary = configs_.next_change(first);
      const log_index cap = std::min(horizon(), boundary.prev());
      const bool told_all = p1_.bound() == all_slots;
      const log_index end = std::min(told_all ? p1_.last_found() : p1_.bound(), cap);
      for (log_index s = first; s <= end && status_; s = s.next()) {
        const phase_one::found* f = p1_.at(s);
        if (f != nullptr) ++stats_.reproposed;
        else ++stats_.noops_proposed;
        QUORUM_ASSERT(s == window_.next());
        propose_at(f ? f->kind : entry_kind::noop, f ? byte_view{f->data} : byte_view{});
      }
      if (told_all && p1_.last_found() <= cap && end < boundary.prev()) {
        covered_from_ = configs_.at(first).stamp.from;  // nothing accepted further in this configuration
        p1_running_ = false;
        if (role_ == role::candidate) become_leader();
        return;
      }
      start_page(end.next());
    }
  }

  void become_leader() {
    role_ = role::leader;
    leader_ = self_;
    backoff_ = 0;
    elapsed_ = heartbeat_elapsed_ = 0;
    ++stats_.times_leader;
    reads_.reset();
    broadcast_heartbeats();
  }

  // After the applies of a flush: a candidate's page waiting for its
  // configuration, or a leader's first slot of a new configuration.
  void after_apply() {
    if (configs_changed_) {
      configs_changed_ = false;
      active_.clear();  // counted against the configuration that held before
      elapsed_ = 0;
    }
    if (p1_running_ && p1_waiting_ && window_.next() <= horizon()) {
      start_page(window_.next());
      settle_page();
    }
    maybe_cross();
  }

  // The leader's next slot is in a configuration its phase 1 did not cover:
  // phase 1 again at our ballot, from that slot, with that configuration's
  // quorums (an older ballot may have had values accepted there). A leader
  // the configuration leaves out steps down once its open slots are chosen.
  void maybe_cross() {
    if (role_ != role::leader || p1_running_) return;
    const auto known = configs_.entries();
    if (known.size() == 1 && known.front().stamp.from == covered_from_) return;  // the usual case: nothing to cross
    cross();
  }

  // maybe_cross() past its checks for the usual case (kept apart so that they inline).
  void cross() {
    if (!this->write_staged()) return;  // phase 1 reads the open slots from the journal
    const log_index t = window_.next();
    if (t > horizon()) return;
    const auto& c = configs_.at(t);
    if (c.stamp.from == covered_from_) return;
    if (c.quorums.self() == paxos::membership::npos) {
      if (window_.size() != 0) return;
      ++stats_.stepped_down_removed;
      return step_down(ballot{});
    }
    ++stats_.phase1_for_configuration;
    p1_running_ = true;
    start_page(t);
    settle_page();
  }

  // Whether a new slot may be opened now, and if not, why.
  result<void> ready_to_open() {
    if (window_.next() > horizon()) {
      ++stats_.proposals_refused_busy;
      return fail(errc::busy, "paxos: the next slot's configuration is not known yet (over α past the applied slot)",
                  window_.next().value());
    }
    maybe_cross();
    if (role_ != role::leader) return fail(errc::not_leader, "paxos: this node left the configuration", 0);
    if (p1_running_) {
      ++stats_.proposals_refused_busy;
      return fail(errc::busy, "paxos: running phase 1 in the new configuration", window_.next().value());
    }
    if (configs_.at(window_.next()).quorums.self() == paxos::membership::npos)
      return fail(errc::not_leader, "paxos: this node is not a voter of the next slot's configuration", 0);
    return {};
  }

  // A configuration command is open, or chosen and not in force yet.
  [[nodiscard]] bool change_pending() const noexcept {
    return config_slot_ > applied_ || configs_.latest().stamp.from > window_.next();
  }

  // A chosen configuration not in force yet: the slots before it are filled
  // with no-ops when clients leave them empty, so that it takes effect.
  void fill_to_configuration() {
    if (role_ != role::leader || p1_running_ || window_.size() != 0) return;
    const log_index from = configs_.latest().stamp.from;
    while (window_.next() < from && window_.next() <= horizon() && window_.size() < opts_.max_open_slots && status_) {
      ++stats_.noops_proposed;
      propose_at(entry_kind::noop, {});
    }
  }

  // A higher ballot is about: stop proposing and back off (`by` is the
  // ballot that preempted us, or none when a quorum fell silent).
  void step_down(ballot by) {
    if (by.round != 0) {
      ++stats_.preempted;
      ++backoff_;
      seen_ = std::max(seen_, by);
    }
    if (role_ == role::leader) fail_reads();
    role_ = role::follower;
    p1_running_ = p1_waiting_ = false;
    leader_ = no_node;
    window_.reset(journal_.watermark().next());
    reset_timer();
  }

  // A message at ballot b >= our promise from its proposer: follow it.
  void follow(const message& m) {
    if (role_ != role::follower && m.bal != bal_ && m.bal > bal_) step_down(ballot{});
    if (role_ != role::follower) return;
    leader_ = m.from;
    backoff_ = 0;
    elapsed_ = lease_elapsed_ = 0;
  }

  // ---- inbound -----------------------------------------------------------

  // A proposer may sit in a configuration this node has not learned yet
  // (it is joining, or lags): requests count from anyone, answers only from
  // the nodes of the configurations we know.
  void step(const message& m) {
    if (m.to != self_) return static_cast<void>(++stats_.dropped_misrouted);
    if (m.from == self_ || m.from == no_node || (!is_request(m.type) && !configs_.in_roster(m.from)))
      return static_cast<void>(++stats_.dropped_unknown_sender);
    // Equal ballots are the steady state: tested first, as the ordering is an
    // out-of-line call. seen_ is in range, so only another ballot needs the
    // bound: a round past any a cluster reaches is damaged or forged, and
    // adopted it would end every election (ballot::max_round). A decoded
    // message never has one.
    if (m.bal != seen_) {
      if (!m.bal.in_range()) [[unlikely]]
        return static_cast<void>(++stats_.dropped_malformed);
      seen_ = std::max(seen_, m.bal);
    }
    switch (m.type) {
      case message_type::prepare:
      case message_type::accept:
      case message_type::heartbeat:
        if (m.bal.node != m.from || m.bal.round == 0) return static_cast<void>(++stats_.dropped_malformed);
        if (m.bal != promised_ && m.bal < promised_) return reject(m);
        if (m.type == message_type::prepare) return on_prepare(m);
        if (m.type == message_type::accept) return on_accept(m);
        return on_heartbeat(m);
      case message_type::promise: return on_promise(m);
      case message_type::accepted: return on_accepted(m);
      case message_type::heartbeat_response: return on_heartbeat_response(m);
      case message_type::catchup_request: return on_catchup_request(m);
      case message_type::catchup: return on_catchup(m);
      case message_type::snapshot_chunk:
        // An image past our watermark: whatever we lead or run for is behind.
        if (role_ != role::follower && m.slot > journal_.watermark()) step_down(ballot{});
        return this->on_snapshot_chunk(m);
      case message_type::snapshot_ack: return this->on_snapshot_ack(m);
    }
  }

  [[nodiscard]] static bool is_request(message_type t) noexcept {
    switch (t) {
      case message_type::prepare:
      case message_type::accept:
      case message_type::heartbeat:
      case message_type::catchup_request:
      case message_type::catchup:
      case message_type::snapshot_chunk: return true;
      default: return false;
    }
  }

  void on_prepare(const message& m) {
    if (m.slot == log_index{}) return static_cast<void>(++stats_.dropped_malformed);
    // We hold slots below m.slot only in the snapshot and cannot report what
    // we accepted there: no promise, the image instead.
    if (m.slot <= journal_.base()) {
      ++stats_.prepares_behind_snapshot;
      return this->start_snapshot(m.from);
    }
    // Our own leader's phase 1 is no threat to its lease: its next page, or
    // its first page in a new configuration, sent to voters (a joining one)
    // that never promised its ballot.
    if (in_lease() && m.from != leader_) return static_cast<void>(++stats_.dropped_in_lease);
    if (m.bal > promised_) {
      if (role_ != role::follower) step_down(m.bal);
      leader_ = no_node;
      reset_timer();  // give the candidate its chance
    }
    if (!raise_promise(m.bal)) return;
    replies_.push_back(reply{m.from, message_type::promise, m.bal, m.slot, m.slot});
  }

  void on_accept(const message& m) {
    if (!this->well_formed_accept(m)) return;
    follow(m);
    this->accept_run(m);
    this->learn_commit(m);
  }

  // A no_answer heartbeat is accepted silently: it only announces the
  // watermark (learn_commit asks for what we lack). Rejects went out in step().
  void on_heartbeat(const message& m) {
    follow(m);
    learn_commit(m);
    if (m.no_answer) return;
    message r = outgoing(message_type::heartbeat_response, m.from, m.bal);
    r.slot = m.slot;  // the read round it answers
    r.commit = journal_.watermark();
    transport_.send(r.to, r);
  }

  void on_promise(const message& m) {
    // An acceptor that knows more chosen than we do: fetch it. A lagging
    // candidate so learns what it missed, a removed one that it was removed.
    if (m.commit > journal_.watermark() && catchup_wait_ == 0) this->request_catchup(m.from, m.commit);
    if (m.reject) return preempted_by(m.bal);
    if (!p1_running_ || p1_waiting_ || role_ == role::follower || m.bal != bal_) return;
    for (const entry& e : m.entries)
      if (e.bal > m.bal || e.slot < m.slot || e.slot > m.index) return static_cast<void>(++stats_.dropped_malformed);
    const std::size_t from = configs_.at(p1_.first()).quorums.position_of(m.from);
    if (from == paxos::membership::npos) return;  // not an acceptor of this page's configuration
    if (p1_.add(from, m.slot, m.index, m.entries)) settle_page();
  }

  void on_accepted(const message& m) {
    if (m.reject) return preempted_by(m.bal);
    if (role_ == role::follower || m.bal != bal_ || m.index < m.slot) return;
    note_active(m.from);
    // A run whose slots are all closed already (chosen: the usual case for
    // the last acceptor to answer) changes nothing: no call.
    const log_index lo = std::max(m.slot, window_.base());
    const log_index hi = std::min(m.index, window_.next().prev());
    if (lo > hi) return;
    acknowledge_run(lo, hi, m.from);
    close_chosen();
  }

  void on_heartbeat_response(const message& m) {
    if (m.reject) return preempted_by(m.bal);
    if (role_ != role::leader || m.bal != bal_) return;
    note_active(m.from);
    reads_.acknowledge(m.from, m.slot.value());
  }

  void preempted_by(ballot b) {
    if (role_ != role::follower && b > bal_) step_down(b);
  }

  // ---- learning ------------------------------------------------------------

  // ---- leader's phase 2 --------------------------------------------------

  // Journals our own accept of (next slot, bal_) and opens the slot.
  bool propose_at(entry_kind kind, byte_view data) {
    const log_index s = window_.next();
    if (auto r = journal_.write(record_kind::accepted, entry{s, bal_, kind, data}); !r) return set_failed(r.error());
    window_.open();
    if (kind == entry_kind::config) config_slot_ = s;
    return true;
  }

  // Slots lo..hi acknowledged by `from`: it counts toward a slot's quorum
  // only as a voter of that slot's configuration (looked up once per run of
  // slots that share one).
  void acknowledge_run(log_index lo, log_index hi, node_id from) {
    const bool one_config = configs_.entries().size() == 1;  // the usual case: no lookups by slot
    while (lo <= hi) {
      const paxos::membership& q = one_config ? configs_.entries().front().quorums : configs_.at(lo).quorums;
      const log_index end = one_config ? hi : std::min(hi, configs_.next_change(lo).prev());
      const std::size_t position = from == self_ ? q.self() : q.position_of(from);
      if (position != paxos::membership::npos) {
        window_.acknowledge_range(
            lo, end, paxos::membership::bit(position), [&](std::uint64_t mask) { return q.phase2_reached(mask); },
            [&](log_index first, log_index last) {
              journal_.mark_chosen(first, last);
              // The usual case: the run at the window's front, closed as one
              // (close_chosen() then checks only the slots after it).
              if (first <= window_.base()) window_.close_through(last);
            });
      }
      lo = end.next();
    }
  }

  void close_chosen() {
    window_.close_chosen([&](log_index s) { return journal_.chosen(s); });
  }

  // After a sync: our own accept of every slot opened before it is durable.
  void count_self() {
    if (window_.self_counted() < window_.next()) acknowledge_run(window_.self_counted(), window_.next().prev(), self_);
    if (window_.next() > window_.base()) window_.self_counted_through(window_.next().prev());
    close_chosen();
  }

  // flush(); fresh: a group propose_all() journalled just now, its values
  // still at hand (else a batch()'s proposals, journalled here).
  void flush_sending(std::span<const entry> fresh) {
    if (!status_) return;
    if (!staged_.empty()) {
      fresh = staged_.entries();  // still readable once cleared, until the stage's next add(): none comes in a flush
      if (!this->journal_staged()) return;
    }
    if (role_ != role::follower) send_new_accepts(fresh);
    if (journal_.dirty() && !sync_now()) return;
    if (role_ != role::follower) count_self();
    const bool advanced = journal_.advance() && role_ != role::follower;
    // A read waiting for a round gets it now, and the round carries the new
    // watermark too; otherwise the watermark goes out unanswered.
    if (read_round_wanted_ && role_ == role::leader) broadcast_heartbeats();
    else if (advanced) announce_watermark();
    send_pending_replies();
    apply_chosen();
    if (role_ != role::follower) after_apply();
    if (role_ == role::leader) serve_reads();
  }

  // One run per configuration, to its voters. The usual case, every new
  // slot just journalled from values still at hand (`fresh`), goes out as
  // it is, without reading the values back from the journal.
  void send_new_accepts(std::span<const entry> fresh) {
    if (sendable_as_is(fresh)) {
      for (node_id v : configs_.at(fresh.front().slot).stamp.config.voters)
        if (v != self_) send_accept(v, fresh);
      window_.sent_through(fresh.back().slot);
      return;
    }
    while (window_.unsent() < window_.next() && status_) {
      const log_index first = window_.unsent();
      const auto& c = configs_.at(first);
      const log_index last = std::min(window_.next().prev(), configs_.next_change(first).prev());
      if (!collect(first, last, 0)) return;
      const log_index sent = batch_.back().slot;
      for (node_id v : c.stamp.config.voters)
        if (v != self_) send_accept(v, batch_.views());
      window_.sent_through(sent);
    }
  }

  // Whether es is what collect() would gather for the new accepts: every
  // unsent slot, at our ballot, in one configuration, as one message holds.
  [[nodiscard]] bool sendable_as_is(std::span<const entry> es) const noexcept {
    if (es.empty() || es.size() > opts_.max_entries_per_message) return false;
    const log_index first = es.front().slot;
    const log_index last = es.back().slot;
    if (first != window_.unsent() || last != window_.next().prev() || es.front().bal != bal_) return false;
    if (last >= configs_.next_change(first)) return false;
    std::size_t bytes = 0;
    for (const entry& e : es) bytes += e.data.size();
    return es.size() == 1 || bytes <= opts_.max_bytes_per_message;
  }

  // Accepts again every open slot a voter of its configuration has not
  // acknowledged, in runs that stay within one configuration.
  void retransmit_accepts() {
    for (node_id peer : configs_.roster()) {
      if (peer == self_) continue;
      log_index s = window_.base();
      while (s < window_.unsent() && status_) {
        const std::size_t pos = configs_.at(s).quorums.position_of(peer);
        const log_index end = std::min(window_.unsent().prev(), configs_.next_change(s).prev());
        if (pos == paxos::membership::npos) {
          s = end.next();
          continue;
        }
        const std::uint64_t bit = paxos::membership::bit(pos);
        if ((window_.mask(s) & bit) != 0) {
          s = s.next();
          continue;
        }
        if (!collect(s, end, bit)) return;
        send_accept(peer, batch_.views());
        s = batch_.back().slot.next();
      }
      if (!status_) return;
    }
  }

  void send_accept(node_id to, std::span<const entry> es) {
    message m = outgoing(message_type::accept, to, bal_);
    m.commit = journal_.watermark();
    m.entries = es;
    transport_.send(m.to, m);
  }

  // Copies the values of slots first..last into batch_ (bounded by the
  // message options, at least one), stopping before a slot whose mask has
  // `bit` (a peer's acknowledgement; 0: none). An accept carries our ballot:
  // a slot we hold as chosen at an older one is proposed again, with the
  // same value, at ours.
  bool collect(log_index first, log_index last, std::uint64_t bit) {
    auto r = journal_.collect_range(first, last, batch_, opts_.max_entries_per_message, opts_.max_bytes_per_message,
                                    bal_, [&](log_index s) { return bit != 0 && (window_.mask(s) & bit) != 0; });
    if (!r) return set_failed(r.error());
    return !batch_.empty();
  }

  void send_prepares() {
    const paxos::membership& q = configs_.at(p1_.first()).quorums;
    for (std::size_t i = 0; i < q.size(); ++i) {
      if (i == q.self() || (p1_.mask() & paxos::membership::bit(i)) != 0) continue;
      message m = outgoing(message_type::prepare, q.at(i), bal_);
      m.slot = p1_.first();
      m.commit = journal_.watermark();
      transport_.send(m.to, m);
    }
  }

  // Every broadcast is a new read round: an answer vouches for reads asked
  // before it was sent (and, with leases, for those asked soon after).
  void broadcast_heartbeats() {
    read_round_wanted_ = false;
    const std::uint64_t round = reads_.start_round(ticks_);
    for (node_id peer : configs_.roster()) {
      if (peer == self_) continue;
      message m = outgoing(message_type::heartbeat, peer, bal_);
      m.slot = log_index{round};
      m.commit = journal_.watermark();
      transport_.send(m.to, m);
    }
  }

  // The new chosen watermark, at once (acceptors learn and apply what is
  // chosen one message delay sooner than from the next round). Nothing
  // waits for answers to it: no read round (a read that wants one has it
  // sent instead, flush()), and the periodic rounds keep CheckQuorum and
  // the lease. An acceptor that lags asks for catch-up itself; a lost
  // accepted answer is recovered by retransmit_accepts(); an acceptor that
  // promised a higher ballot still answers, with a reject.
  void announce_watermark() {
    for (node_id peer : configs_.roster()) {
      if (peer == self_) continue;
      message m = outgoing(message_type::heartbeat, peer, bal_);
      m.commit = journal_.watermark();
      m.no_answer = true;
      transport_.send(m.to, m);
    }
  }

  // Followers ignore prepares for election_ticks after they heard from a
  // leader or restarted (a lease granted before a crash is honoured too).
  [[nodiscard]] bool in_lease() const noexcept {
    return opts_.lease_reads && role_ == role::follower && lease_elapsed_ < opts_.election_ticks;
  }
  bool lease_valid() {
    if (!opts_.lease_reads) return false;
    reads_.confirm(configs_.entries(), self_);
    return reads_.vouches(ticks_, opts_.election_ticks - opts_.clock_drift_ticks);
  }

  void serve_reads() {
    if constexpr (ReadingStateMachine<state_machine_type>) {
      reads_.confirm(configs_.entries(), self_);
      reads_.serve(applied_, [&](const read_tracker::pending& p) {
        ++stats_.reads_served;
        fsm_.read_ready(p.id, p.index);
      });
    }
  }

  void fail_reads() {
    if constexpr (ReadingStateMachine<state_machine_type>) {
      const error e{errc::not_leader, "paxos: leadership lost before the read was served", 0};
      reads_.fail_all([&](const read_tracker::pending& p) { fsm_.read_failed(p.id, e); });
    }
  }

  void maybe_flush() {
    if (batch_depth_ == 0) flush();
  }

  paxos::role role_{role::follower};
  ballot seen_{};  // the highest ballot heard of: a candidacy goes above it
  ballot bal_{};   // ours, as candidate or leader
  node_id leader_{};
  slot_window window_;           // leader and candidate: the open slots
  std::vector<node_id> active_;  // peers heard from since the last quorum check
  phase_one p1_;
  bool p1_running_{false};   // phase 1 pages under way (a candidate, or a leader entering a configuration)
  bool p1_waiting_{false};   // the next page waits for its configuration to be known
  log_index covered_from_{};  // the configuration (by its first slot) our phase 1 covers to the end
  log_index config_slot_{};   // our latest configuration command's slot
  std::uint32_t elapsed_{0};
  std::uint32_t timeout_{0};
  std::uint32_t heartbeat_elapsed_{0};
  std::uint32_t retransmit_elapsed_{0};
  std::uint32_t backoff_{0};
  int batch_depth_{0};
  std::vector<entry> group_;  // propose_all(): the group's slots, reused
  typename clock_type::time_point last_tick_{};
  read_tracker reads_;
  bool read_round_wanted_{false};  // a read waits for a heartbeat round not yet sent
  std::uint64_t ticks_{0};          // tick() calls: the lease's clock
  std::uint32_t lease_elapsed_{0};  // ticks since we last heard from our leader, or booted
};

}  // namespace quorum::paxos
