// quorum::paxos::node: one member of a Multi-Paxos group as a sans-I/O state
// machine over user policies (Transport, Log, Clock, StateMachine), built as
// raft::node is, so one type swaps for the other. A distinguished leader runs
// phase 1 once for every open slot, then phase 2 per slot, pipelined and
// batched; promises and accepts leave only after the sync() that makes them true.
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
    if (members_.size() != 0) reset_timer();
  }

  void tick() {
    if (!status_) return;
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
    const proposal p{window_.next(), bal_};
    if (!propose_at(entry_kind::normal, command)) return unexpected{status_.error()};
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
    const log_index limit = role_ == role::follower ? all_slots : window_.base().prev();
    return this->snapshot_to(limit);
  }

  void flush() {
    if (!status_) return;
    if (role_ != role::follower) send_new_accepts();
    if (journal_.dirty() && !sync_now()) return;
    if (role_ != role::follower) count_self();
    if (journal_.advance() && role_ != role::follower) broadcast_heartbeats();
    send_pending_replies();
    apply_chosen();
    if (role_ == role::leader) serve_reads();
  }

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
    if (!leased) broadcast_heartbeats();  // a round of its own, now
    else ++stats_.reads_by_lease;
    reads_.add(read_tracker::pending{id, window_.next().prev(), leased ? 0 : reads_.round()});
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
  using base::members_, base::opts_, base::promised_, base::recv_entries_, base::replies_, base::rng_, base::self_;
  using base::stats_, base::status_, base::transport_;
  using base::apply_chosen, base::outgoing, base::raise_promise, base::reject, base::send_pending_replies;
  using base::set_failed, base::sync_now, base::learn_commit, base::on_catchup, base::on_catchup_request;
  using typename base::reply;

  // ---- timers ------------------------------------------------------------

  // Each preemption in a row doubles the span the timeout is drawn from (up
  // to 8x): duelling proposers drift apart instead of colliding forever.
  void reset_timer() {
    elapsed_ = 0;
    const std::uint64_t span = std::uint64_t{opts_.election_ticks} << std::min<std::uint32_t>(backoff_, 3);
    timeout_ = opts_.election_ticks + static_cast<std::uint32_t>(rng_.below(span));
  }

  void tick_follower() {
    if (++elapsed_ >= timeout_) become_candidate();
  }

  void tick_proposer() {
    if (++retransmit_elapsed_ >= opts_.retransmit_ticks) {
      retransmit_elapsed_ = 0;
      if (role_ == role::candidate) send_prepares();
      retransmit_accepts();
    }
    if (role_ == role::candidate) {
      if (++elapsed_ >= timeout_) become_candidate();
      return;
    }
    if (++heartbeat_elapsed_ >= opts_.heartbeat_ticks) {
      heartbeat_elapsed_ = 0;
      broadcast_heartbeats();
    }
    if (opts_.check_quorum && ++elapsed_ >= opts_.election_ticks) {
      elapsed_ = 0;
      if (!members_.phase2_reached(active_ | membership::bit(members_.self()))) return step_down(ballot{});
      active_ = 0;
    }
  }

  // ---- roles -------------------------------------------------------------

  void become_candidate() {
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
    active_ = 0;
    retransmit_elapsed_ = 0;
    p1_.start(first);
    add_own_promise();
    send_prepares();
    settle_page();
  }

  void add_own_promise() {
    for (log_index s = p1_.first(); s <= journal_.known_end() && status_; s = s.next()) {
      if (journal_.at(s)->position == log_index{}) continue;
      auto e = journal_.read(s);
      if (!e) return static_cast<void>(set_failed(e.error()));
      p1_.offer(*e);
    }
    p1_.add(members_.self(), p1_.first(), all_slots, {});
  }

  // Settles pages while a quorum has answered: re-proposes the value found
  // at the highest ballot in each settled slot, a no-op in each gap.
  void settle_page() {
    while (role_ == role::candidate && status_ && p1_.reached(members_)) {
      const bool last_page = p1_.bound() == all_slots;
      const log_index end = last_page ? p1_.last_found() : p1_.bound();
      for (log_index s = p1_.first(); s <= end && status_; s = s.next()) {
        const phase_one::found* f = p1_.at(s);
        if (f != nullptr) ++stats_.reproposed;
        else ++stats_.noops_proposed;
        QUORUM_ASSERT(s == window_.next());
        propose_at(f ? f->kind : entry_kind::noop, f ? byte_view{f->data} : byte_view{});
      }
      if (last_page) return become_leader();
      p1_.start(end.next());
      add_own_promise();
      send_prepares();
    }
  }

  void become_leader() {
    role_ = role::leader;
    leader_ = self_;
    backoff_ = 0;
    elapsed_ = heartbeat_elapsed_ = 0;
    ++stats_.times_leader;
    reads_.reset(members_.size());
    broadcast_heartbeats();
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
    leader_ = no_node;
    window_.reset(journal_.watermark().next());
    reset_timer();
  }

  // A message at ballot b >= our promise from its proposer: follow it.
  void follow(const message& m) {
    if (role_ != role::follower && m.bal > bal_) step_down(ballot{});
    if (role_ != role::follower) return;
    leader_ = m.from;
    backoff_ = 0;
    elapsed_ = lease_elapsed_ = 0;
  }

  // ---- inbound -----------------------------------------------------------

  void step(const message& m) {
    if (m.to != self_) return static_cast<void>(++stats_.dropped_misrouted);
    const std::size_t from = members_.position_of(m.from);
    if (from == membership::npos || from == members_.self()) return static_cast<void>(++stats_.dropped_unknown_sender);
    seen_ = std::max(seen_, m.bal);
    switch (m.type) {
      case message_type::prepare:
      case message_type::accept:
      case message_type::heartbeat:
        if (m.bal.node != m.from || m.bal.round == 0) return static_cast<void>(++stats_.dropped_malformed);
        if (m.bal < promised_) return reject(m);
        if (m.type == message_type::prepare) return on_prepare(m);
        if (m.type == message_type::accept) return on_accept(m);
        return on_heartbeat(m);
      case message_type::promise: return on_promise(m, from);
      case message_type::accepted: return on_accepted(m, from);
      case message_type::heartbeat_response: return on_heartbeat_response(m, from);
      case message_type::catchup_request: return on_catchup_request(m);
      case message_type::catchup: return on_catchup(m);
      case message_type::snapshot_chunk:
        // An image past our watermark: whatever we lead or run for is behind.
        if (role_ != role::follower && m.slot > journal_.watermark()) step_down(ballot{});
        return this->on_snapshot_chunk(m);
      case message_type::snapshot_ack: return this->on_snapshot_ack(m, from);
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
    // Our own leader's next page of phase 1 is no threat to its lease.
    if (in_lease() && !(m.from == leader_ && m.bal == promised_)) return static_cast<void>(++stats_.dropped_in_lease);
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

  void on_heartbeat(const message& m) {
    follow(m);
    learn_commit(m);
    message r = outgoing(message_type::heartbeat_response, m.from, m.bal);
    r.slot = m.slot;  // the read round it answers
    r.commit = journal_.watermark();
    transport_.send(r.to, r);
  }

  void on_promise(const message& m, std::size_t from) {
    if (m.reject) return preempted_by(m.bal);
    if (role_ != role::candidate || m.bal != bal_) return;
    for (const entry& e : m.entries)
      if (e.bal > m.bal || e.slot < m.slot || e.slot > m.index) return static_cast<void>(++stats_.dropped_malformed);
    if (p1_.add(from, m.slot, m.index, m.entries)) settle_page();
  }

  void on_accepted(const message& m, std::size_t from) {
    if (m.reject) return preempted_by(m.bal);
    if (role_ == role::follower || m.bal != bal_ || m.index < m.slot) return;
    active_ |= membership::bit(from);
    const log_index lo = std::max(m.slot, window_.base());
    const log_index hi = std::min(m.index, window_.next().prev());
    for (log_index s = lo; s <= hi; s = s.next()) acknowledge(s, from);
    close_chosen();
  }

  void on_heartbeat_response(const message& m, std::size_t from) {
    if (m.reject) return preempted_by(m.bal);
    if (role_ != role::leader || m.bal != bal_) return;
    active_ |= membership::bit(from);
    reads_.acknowledge(from, m.slot.value());
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
    return true;
  }

  void acknowledge(log_index s, std::size_t position) {
    const std::uint64_t mask = window_.acknowledge(s, membership::bit(position));
    if (!journal_.at(s)->chosen && members_.phase2_reached(mask)) journal_.mark_chosen(s);
  }

  void close_chosen() {
    window_.close_chosen([&](log_index s) { return journal_.at(s)->chosen; });
  }

  // After a sync: our own accept of every slot opened before it is durable.
  void count_self() {
    for (log_index s = window_.self_counted(); s < window_.next(); s = s.next()) acknowledge(s, members_.self());
    if (window_.next() > window_.base()) window_.self_counted_through(window_.next().prev());
    close_chosen();
  }

  void send_new_accepts() {
    while (window_.unsent() < window_.next() && status_) {
      if (!collect(window_.unsent(), window_.next().prev(), no_node)) return;
      const log_index last = batch_.back().slot;
      for (std::size_t i = 0; i < members_.size(); ++i)
        if (i != members_.self()) send_accept(members_.at(i));
      window_.sent_through(last);
    }
  }

  // Accepts again every open slot a peer has not acknowledged, in runs.
  void retransmit_accepts() {
    for (std::size_t i = 0; i < members_.size() && status_; ++i) {
      if (i == members_.self()) continue;
      const node_id peer = members_.at(i);
      log_index s = window_.base();
      while (s < window_.unsent() && status_) {
        if ((window_.mask(s) & membership::bit(i)) != 0) {
          s = s.next();
          continue;
        }
        if (!collect(s, window_.unsent().prev(), peer)) return;
        send_accept(peer);
        s = batch_.back().slot.next();
      }
    }
  }

  void send_accept(node_id to) {
    message m = outgoing(message_type::accept, to, bal_);
    m.commit = journal_.watermark();
    m.entries = batch_.views();
    transport_.send(m.to, m);
  }

  // Copies the values of slots first..last into batch_ (bounded by the
  // message options, at least one), stopping before a slot `peer` (when set)
  // has acknowledged. An accept carries our ballot: a slot we hold as chosen
  // at an older one is proposed again, with the same value, at ours.
  bool collect(log_index first, log_index last, node_id peer) {
    const std::uint64_t bit = peer == no_node ? 0 : membership::bit(members_.position_of(peer));
    auto r = journal_.collect_range(first, last, batch_, opts_.max_entries_per_message, opts_.max_bytes_per_message,
                                    bal_, [&](log_index s) { return (window_.mask(s) & bit) != 0; });
    if (!r) return set_failed(r.error());
    return !batch_.empty();
  }

  void send_prepares() {
    for (std::size_t i = 0; i < members_.size(); ++i) {
      if (i == members_.self() || (p1_.mask() & membership::bit(i)) != 0) continue;
      message m = outgoing(message_type::prepare, members_.at(i), bal_);
      m.slot = p1_.first();
      m.commit = journal_.watermark();
      transport_.send(m.to, m);
    }
  }

  // Every broadcast is a new read round: an answer vouches for reads asked
  // before it was sent (and, with leases, for those asked soon after).
  void broadcast_heartbeats() {
    const std::uint64_t round = reads_.start_round(ticks_);
    for (std::size_t i = 0; i < members_.size(); ++i) {
      if (i == members_.self()) continue;
      message m = outgoing(message_type::heartbeat, members_.at(i), bal_);
      m.slot = log_index{round};
      m.commit = journal_.watermark();
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
    reads_.confirm(members_);
    return reads_.vouches(ticks_, opts_.election_ticks - opts_.clock_drift_ticks);
  }

  void serve_reads() {
    if constexpr (ReadingStateMachine<state_machine_type>) {
      reads_.confirm(members_);
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
  slot_window window_;       // leader and candidate: the open slots
  std::uint64_t active_{0};  // peers heard from since the last quorum check
  phase_one p1_;
  std::uint32_t elapsed_{0};
  std::uint32_t timeout_{0};
  std::uint32_t heartbeat_elapsed_{0};
  std::uint32_t retransmit_elapsed_{0};
  std::uint32_t backoff_{0};
  int batch_depth_{0};
  typename clock_type::time_point last_tick_{};
  read_tracker reads_;
  std::uint64_t ticks_{0};          // tick() calls: the lease's clock
  std::uint32_t lease_elapsed_{0};  // ticks since we last heard from our leader, or booted
};

}  // namespace quorum::paxos
