// Paxos Commit (Gray & Lamport, "Consensus on Transaction Commit", 2006): each
// RM's vote is chosen by its own synod instance among 2F + 1 acceptors, so a
// leader's crash does not block prepared RMs. One node class plays every role
// (RM, acceptor, leader) its configuration gives it; messages to itself stay local.
//
// Forgetting. A transaction's records are dropped, in memory and from the Log,
// once no one can need them: an RM once its outcome is durable (or once it
// has durably refused to vote); the acceptors and leaders once every RM, and
// the origin (the node that began it) if it is not one, has said so
// (`resolved`, collected by the leader, which then sends `forget`; both go
// out at a tick, one message per destination naming every txn finished since;
// an acceptor left without a leader asks them itself with `query`). A
// forgotten txn is answered with nothing that can change an outcome: an RM
// remembers per origin the ids it forgot (pc_tombstones) and refuses their
// late prepares, so it never votes twice; a late decision is acknowledged but
// not applied again; an acceptor may take a late 2a or 1a as a new txn, which
// is harmless because no RM is left in doubt and no undecided leader is left
// to run a recovery with it, and its query finds everyone resolved, so it is
// forgotten again. (A leader that learns the outcome stops leading: see adopt.)
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <tuple>
#include <utility>
#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/core/concepts.hpp"
#include "quorum/paxos/quorums.hpp"
#include "quorum/paxos/synod.hpp"
#include "quorum/two_phase_commit/paxos_commit_message.hpp"
#include "quorum/two_phase_commit/paxos_commit_options.hpp"
#include "quorum/two_phase_commit/paxos_commit_instance.hpp"
#include "quorum/two_phase_commit/paxos_commit_record.hpp"
#include "quorum/two_phase_commit/paxos_commit_small_storage.hpp"
#include "quorum/two_phase_commit/paxos_commit_table.hpp"
#include "quorum/two_phase_commit/paxos_commit_tombstones.hpp"
#include "quorum/two_phase_commit/policies.hpp"
#include "quorum/two_phase_commit/status.hpp"

namespace quorum::two_phase_commit {

template <class P>
consteval bool check_paxos_commit_policies() {
  static_assert(detail::participant_policies_name_all<P>,
                "quorum::two_phase_commit::paxos_commit_node: the policies struct must declare "
                "'using transport = ...', 'using log = ...', 'using clock = ...' and "
                "'using resource_manager = ...'");
  if constexpr (detail::participant_policies_name_all<P>) {
    return check_transport<typename P::transport, pc_message>() && check_log<typename P::log>() &&
           check_clock<typename P::clock>() && check_resource_manager<typename P::resource_manager>();
  } else {
    return false;
  }
}

template <class Policies>
class paxos_commit_node {
  static_assert(check_paxos_commit_policies<Policies>());

 public:
  using transport_type = typename Policies::transport;
  using log_type = typename Policies::log;
  using clock_type = typename Policies::clock;
  using resource_manager_type = typename Policies::resource_manager;

  paxos_commit_node(node_id self, transport_type transport, log_type log, clock_type clock,
                    resource_manager_type rm, paxos_commit_options opts)
      : transport_{std::move(transport)}, log_{std::move(log)}, clock_{std::move(clock)}, rm_{std::move(rm)},
        opts_{std::move(opts)}, self_{self}, tombstones_{opts_.max_origins, opts_.max_transactions} {
    status_ = validate(opts_);
    if (status_ && self_ == no_node) status_ = fail(errc::invalid_config, "paxos commit: node id 0 is reserved");
    if (!status_) return;
    acceptors_ = paxos::membership(opts_.acceptors.front(), opts_.acceptors, 0, 0);
    self_acceptor_ = acceptors_.position_of(self_) != paxos::membership::npos;
    status_ = recover();
  }

  [[nodiscard]] const result<void>& status() const noexcept { return status_; }
  [[nodiscard]] const paxos_commit_stats& stats() const noexcept { return stats_; }
  [[nodiscard]] node_id id() const noexcept { return self_; }
  [[nodiscard]] resource_manager_type& resource_manager() noexcept { return rm_; }

  // The initiating RM's BeginCommit, handled where it lands: this node leads
  // txn and asks every participant to vote. Participants need not include it.
  // Ids this node begins should increase: an RM that has forgotten a txn of
  // this origin may refuse older ids it never saw (they then abort).
  result<void> begin(txn_id txn, std::span<const node_id> participants) {
    if (!status_) return unexpected{status_.error()};
    if (txn == no_txn) return fail(errc::invalid_argument, "paxos commit begin: txn 0 is reserved");
    if (participants.empty() || participants.size() > opts_.max_participants)
      return fail(errc::invalid_argument, "paxos commit: participants must number 1..max_participants",
                  participants.size());
    std::vector<node_id>& parts = sorted_buf_;
    parts.assign(participants.begin(), participants.end());
    std::sort(parts.begin(), parts.end());
    QUORUM_TRY(check_participants(parts));
    if (txns_.find(txn) != nullptr)
      return fail(errc::invalid_argument, "paxos commit begin: txn already known", txn.value());
    if (txns_.size() >= opts_.max_transactions)
      return fail(errc::busy, "paxos commit begin: max_transactions reached", opts_.max_transactions);
    txn_state& st = create(txn);
    set_parts(st, parts);
    st.origin = self_;
    st.leader = self_;
    init_resolved(st);
    lead(st);
    pc_message m = make(pc_message_type::prepare, txn, st);
    for (const node_id p : st.parts()) send(p, m);
    drain();
    return {};
  }

  // A message off the wire: decoded (a total decoder), then as below.
  void receive(byte_view bytes) {
    if (!status_) return;
    auto m = decode(bytes, scratch_, limits());
    if (!m) {
      ++stats_.dropped_malformed;
      return;
    }
    accept(*m);
  }
  // A message handed over as a struct (an in-process transport, or the
  // user's own codec): held to what the decoder would have guaranteed, then
  // handled exactly as a decoded one. Its spans need only last this call.
  void receive(const pc_message& m) {
    if (!status_) return;
    if (!well_formed(m, limits())) {
      ++stats_.dropped_malformed;
      return;
    }
    accept(m);
  }

  void tick() {
    if (!status_) return;
    txns_.for_each([this](txn_state& st) { tick_txn(st.txn, st); });
    flush_resolutions();
    drain();
  }

  // As an RM: the outcome this node applied, if any.
  [[nodiscard]] std::optional<decision> outcome(txn_id txn) const {
    const txn_state* st = txns_.find(txn);
    return st == nullptr ? std::nullopt : st->applied;
  }
  // As a leader (first or recovery): the outcome it decided, if any.
  [[nodiscard]] std::optional<decision> decided(txn_id txn) const {
    const txn_state* st = txns_.find(txn);
    return st == nullptr ? std::nullopt : st->decided;
  }
  // As an acceptor: what it accepted for `rm`'s instance of txn.
  [[nodiscard]] pc_value accepted(txn_id txn, node_id rm) const {
    const txn_state* st = txns_.find(txn);
    if (st == nullptr || !st->has_acc) return pc_value::none;
    const std::size_t i = index_of(*st, rm);
    return i == st->parts().size() ? pc_value::none : value_of(st->inst()[i]);
  }

  // Transactions this node holds anything of, in any role; finished ones leave it.
  [[nodiscard]] std::size_t tracked_transactions() const noexcept { return txns_.size(); }
  [[nodiscard]] bool holds(txn_id txn) const { return txns_.find(txn) != nullptr; }
  // As an RM: true if it will never vote on txn (begun by origin): it resolved
  // and forgot it, or refused it. A prepare for it is dropped.
  [[nodiscard]] bool forgotten(node_id origin, txn_id txn) const {
    return txns_.find(txn) == nullptr && tombstones_.covers(origin, txn);
  }
  // With options.report_decisions: the decisions this node reached as leader
  // (first or recovery), in order, until clear_decisions().
  [[nodiscard]] std::span<const decided_txn> decisions() const noexcept { return decisions_; }
  void clear_decisions() noexcept { decisions_.clear(); }

 private:
  // refused: asked whether it resolved a txn it never voted on, it promised never to.
  enum class rm_phase : std::uint8_t { none, voted_yes, voted_no, refused };

  // Everything but the lists of txn_state: a forgotten entry is reused by
  // assigning a fresh one of these and clearing the rest (reset). What a
  // tick and forgetting read of every held txn: the first cache line, and
  // the flags of txn_state the second.
  struct txn_scalars {
    txn_id txn{};                // its key in txns_
    bool used{false};            // held (txns_ sets it)
    bool is_rm{false};           // this node is one of the participants (set_parts)
    bool has_acc{false};         // acceptor: a 2a or 1a arrived, inst()[i]'s acceptor state is this node's
    rm_phase rm{rm_phase::none};
    bool rm_resolved{false};  // RM: outcome applied, or refused: nothing more to do as an RM
    bool rm_durable{false};   // ... and a sync has made that survive a crash
    bool leading{false};      // leader
    std::optional<decision> applied;  // RM
    std::optional<decision> decided;  // leader
    std::uint32_t n{0};           // participants
    std::uint32_t self_at{0};     // this node's position among them; n if not an RM
    std::uint32_t rm_ticks{0};
    std::uint32_t idle_ticks{0};  // acceptor: ticks since anything was heard of it
    std::uint32_t flush_ticks{0};
    std::uint32_t leader_ticks{0};
    std::uint32_t ack_ticks{0};  // decided: ticks since the decision was last sent
    std::uint64_t first_record{0};  // log position of its first record still needed; 0: none
    node_id origin{};            // the node that began it
  };
  static_assert(sizeof(txn_scalars) == 64, "one cache line: the flags of txn_state begin the next");
  // Everything this node knows of one transaction, in each of its roles, in
  // one flat entry of whole cache lines for the usual few participants
  // (arrays on the heap beyond them).
  static constexpr std::size_t inline_participants = 4;
  struct alignas(64) txn_state : txn_scalars {
    // Leader and acceptor: flag i set once participant i is known to have
    // resolved it; flag n once the origin is known to lead it no more (it
    // might otherwise run phase 1 on acceptors that forgot, and decide by
    // itself what was long decided). Set by init_resolved.
    detail::small_bits resolved;
    detail::small_bits unanswered;  // acceptor: instance i accepted, 2b not sent yet
    // Then what its messages carry.
    detail::small_array<node_id, inline_participants> parts_;  // sorted: instance i is participant i's vote
    node_id leader{};               // where acceptors send phase 2b
    ballot bal{};                   // of this node's phase 1; round 0 while on the fast path
    std::uint64_t highest_round{1};
    std::vector<paxos::proposer> prop;  // leader: made by start_recovery only
    // Instance i's acceptor, and the leader's tally and what it chose.
    detail::small_array<detail::pc_instance, inline_participants> inst_;

    [[nodiscard]] std::span<const node_id> parts() const noexcept { return {parts_.data(this->n), this->n}; }
    [[nodiscard]] std::span<detail::pc_instance> inst() noexcept { return {inst_.data(this->n), this->n}; }
    [[nodiscard]] std::span<const detail::pc_instance> inst() const noexcept { return {inst_.data(this->n), this->n}; }
    // A new txn's state, keeping every array's storage (a list added above is cleared here too).
    void reset() {
      static_cast<txn_scalars&>(*this) = txn_scalars{};
      leader = node_id{};
      bal = ballot{};
      highest_round = 1;
      prop.clear();
    }
  };
  [[nodiscard]] static pc_value value_of(const detail::pc_instance& a) noexcept {
    return a.has_value() ? a.value : pc_value::none;
  }

  [[nodiscard]] pc_message_limits limits() const noexcept {
    return pc_message_limits{opts_.max_participants, opts_.max_gc_batch};
  }

  void accept(const pc_message& m) {
    const bool named = is_batched(m.type) ? !m.batch.empty() && m.txn == no_txn : m.txn != no_txn && m.batch.empty();
    if (m.to != self_ || m.from == no_node || !named) {
      ++stats_.dropped_stale;
      return;
    }
    handle(m);
    drain();
  }

  // The fast path's ballot: the paper's ballot 0, owned by the RM itself, so
  // it may propose its vote without phase 1. Round 0 means "none" in the synod.
  static constexpr ballot fast_ballot(node_id rm) noexcept { return ballot{1, rm}; }

  // parts must be sorted (begin sorts a copy; a message's list must arrive sorted).
  result<void> check_participants(std::span<const node_id> parts) const {
    if (parts.empty() || parts.size() > opts_.max_participants)
      return fail(errc::invalid_argument, "paxos commit: participants must number 1..max_participants", parts.size());
    const std::span<const node_id> s = parts;
    if (s.front() == no_node) return fail(errc::invalid_argument, "paxos commit: participant id 0");
    if (std::adjacent_find(s.begin(), s.end()) != s.end())
      return fail(errc::invalid_argument, "paxos commit: a participant is listed twice");
    return {};
  }

  void set_parts(txn_state& st, std::span<const node_id> parts) const {
    st.n = static_cast<std::uint32_t>(parts.size());  // at most max_participants, at most 2^20
    st.parts_.assign(parts);
    st.inst_.assign(parts.size(), detail::pc_instance{});
    st.unanswered.reset(parts.size());
    st.self_at = static_cast<std::uint32_t>(index_of(st, self_));
    st.is_rm = st.self_at != parts.size();
  }
  [[nodiscard]] static bool is_rm(const txn_state& st) noexcept { return st.is_rm; }

  static std::size_t index_of(const txn_state& st, node_id id) { return position_in(st.parts(), id); }
  // Where id is in the sorted list p, or p.size(). The usual few are counted
  // without a branch on the data (where a scan would mispredict its exit).
  static std::size_t position_in(std::span<const node_id> p, node_id id) noexcept {
    std::size_t i = 0;
    if (p.size() <= 8) {
      for (const node_id x : p) i += x < id;
    } else {
      i = static_cast<std::size_t>(std::lower_bound(p.begin(), p.end(), id) - p.begin());
    }
    return i < p.size() && p[i] == id ? i : p.size();
  }
  // This node's acceptors' position of `from`, or npos; as acceptors_.position_of.
  [[nodiscard]] std::size_t acceptor_position(node_id from) const noexcept {
    const std::size_t i = position_in(acceptors_.members(), from);
    return i == acceptors_.size() ? paxos::membership::npos : i;
  }

  // The state for txn, created from a message's participant list. Null when
  // the list is bad, disagrees with what is known, or the table is full.
  txn_state* state_for(txn_id txn, node_id origin, std::span<const node_id> parts) {
    if (txn_state* st = known(txn)) {
      if (!parts.empty() && !std::equal(parts.begin(), parts.end(), st->parts().begin(), st->parts().end()))
        return nullptr;
      return st;
    }
    if (!std::is_sorted(parts.begin(), parts.end()) || !check_participants(parts)) return nullptr;
    if (txns_.size() >= opts_.max_transactions || origin == no_node) return nullptr;
    txn_state& st = create(txn);
    set_parts(st, parts);
    st.origin = origin;
    init_resolved(st);
    if (is_rm(st) && tombstones_.covers(origin, txn)) (void)refuse(txn, st);
    return &st;
  }
  // A new entry for txn (not held), in the slot and buffers of a forgotten
  // one when there is one: steady state allocates nothing.
  txn_state& create(txn_id txn) {
    txn_state& st = txns_.insert(txn);
    hot_.st = &st;
    return st;
  }

  // The hot entry first: the txn last created or looked up, which most
  // messages are about (every one of a txn's, one txn at a time).
  txn_state* known(txn_id txn) {
    if (hot_.st != nullptr && hot_.st->txn == txn) return hot_.st;
    txn_state* st = txns_.find(txn);
    if (st != nullptr) hot_.st = st;
    return st;
  }

  void lead(txn_state& st) {
    st.leading = true;
    for (detail::pc_instance& i : st.inst()) {
      i.tally = ballot{};
      i.mask = 0;
      i.tally_chosen = false;
      i.chosen = pc_value::none;
    }
    st.prop.clear();  // only a recovery needs proposers: start_recovery makes them
    st.leader_ticks = 0;
  }

  pc_message make(pc_message_type type, txn_id txn, const txn_state& st) const {
    pc_message m;
    m.type = type;
    m.from = self_;
    m.txn = txn;
    m.origin = st.origin;
    m.leader = st.leader;
    m.participants = st.parts();
    return m;
  }

  // A message to this node is handled after the current one, never inline,
  // and is not counted: it never leaves the node, so it is kept as it is,
  // with copies of its lists in a reused slot, and never encoded.
  void send(node_id to, pc_message& m) {
    m.to = to;
    if (to == self_) {
      if (local_used_ == local_.size()) local_.emplace_back();
      local_message& l = local_[local_used_++];
      l.m = m;
      keep_local(m.participants, l.participants, l.m.participants);
      keep_local(m.entries, l.entries, l.m.entries);
      keep_local(m.batch, l.batch, l.m.batch);
      return;
    }
    ++stats_.messages_sent;
    if (m.type >= pc_message_type::resolved) ++stats_.gc_messages;
    transport_.send(to, m);
  }
  // An empty list needs no copy: the span copied with the message is empty too.
  template <class T>
  static void keep_local(std::span<const T> from, std::vector<T>& copy, std::span<const T>& view) {
    if (from.empty()) return;
    copy.assign(from.begin(), from.end());
    view = copy;
  }
  void drain() {
    if (draining_) return;
    draining_ = true;
    while (local_next_ < local_used_ && status_) {
      // A copy: local_ may grow while it is handled. Its spans stay valid, as
      // moving a slot's vectors keeps their storage.
      const pc_message m = local_[local_next_++].m;
      handle(m);
    }
    local_next_ = local_used_ = 0;
    draining_ = false;
  }

  // A txn held before is still held after dispatch (only forgetting drops
  // one), so the hot entry serves the check that follows.
  void handle(const pc_message& m) {
    if (is_batched(m.type)) return handle_batch(m);
    if (txn_state* st = known(m.txn)) st->idle_ticks = 0;
    dispatch(m);
    if (txn_state* st = known(m.txn)) forget_if_done(*st);
  }
  void dispatch(const pc_message& m) {
    switch (m.type) {
      case pc_message_type::prepare: return on_prepare(m);
      case pc_message_type::phase2a: return on_phase2a(m);
      case pc_message_type::phase1a: return on_phase1a(m);
      case pc_message_type::phase2b: return on_phase2b(m);
      case pc_message_type::phase1b: return on_phase1b(m);
      case pc_message_type::nack: return on_nack(m);
      case pc_message_type::decision: return on_decision(m);
      case pc_message_type::query: return on_query(m);
      case pc_message_type::resolved:
      case pc_message_type::forget: return;  // batched: handle_batch
    }
  }

  // ---- RM ----

  void on_prepare(const pc_message& m) {
    const bool fresh = known(m.txn) == nullptr;
    // Only the origin asks for votes; a txn this RM forgot is never voted on again.
    if (m.origin != m.from || (fresh && !tombstones_.can_track(m.origin))) {
      ++stats_.dropped_stale;
      return;
    }
    if (fresh && tombstones_.covers(m.origin, m.txn)) {
      ++stats_.refused_forgotten;
      return;
    }
    txn_state* st = state_for(m.txn, m.origin, m.participants);
    if (st == nullptr || !is_rm(*st)) {
      ++stats_.dropped_stale;
      return;
    }
    if (st->leader == no_node) st->leader = m.leader;
    if (st->rm == rm_phase::refused) {
      ++stats_.refused_forgotten;
      return;
    }
    if (st->applied && st->rm == rm_phase::none) return;  // decided without our vote: nothing to say
    if (st->rm == rm_phase::none) {
      const vote v = rm_.prepare(m.txn);
      if (v == vote::no) {
        ++stats_.votes_no;
        st->rm = rm_phase::voted_no;
        st->applied = decision::abort;  // a no voter knows the outcome; its RM has rolled back already
        resolve(m.txn, *st);
      } else {
        ++stats_.votes_yes;
        // Durable before the 2a that promises it (DESIGN.md principle 5).
        if (!write(pc_record_kind::prepared, m.txn, *st, true)) return;
        st->rm = rm_phase::voted_yes;
      }
    }
    send_vote(m.txn, *st);  // again on a duplicate prepare: 2a is idempotent
  }

  void send_vote(txn_id txn, txn_state& st) {
    pc_entry e{self_, fast_ballot(self_), st.rm == rm_phase::voted_yes ? pc_value::prepared : pc_value::aborted};
    pc_message m = make(pc_message_type::phase2a, txn, st);
    m.entries = std::span<const pc_entry>{&e, 1};
    for (std::size_t i = 0; i <= opts_.f; ++i) send(opts_.acceptors[i], m);
  }

  void on_decision(const pc_message& m) {
    txn_state* st = known(m.txn);
    if (st == nullptr) {
      // Forgotten: acknowledged, never applied twice. Unknown: it can only be
      // an abort (a commit needs this RM's prepared record, kept until resolved).
      if (tombstones_.covers(m.origin, m.txn)) return acknowledge(m.txn, m.origin, m.from);
      // The origin, not a participant, leads it no more (a restart lost that state).
      if (m.decision == decision::commit && m.origin == self_) return acknowledge(m.txn, m.origin, m.from);
      if (m.decision == decision::commit || !tombstones_.add(m.origin, m.txn)) {
        ++stats_.dropped_stale;
        return;
      }
      rm_.abort(m.txn);  // work that was never asked to prepare
      return acknowledge(m.txn, m.origin, m.from);
    }
    if (!is_rm(*st)) {
      if (st->origin != self_) {
        ++stats_.dropped_stale;
        return;
      }
      adopt(m.txn, *st, m.decision);  // the origin, told by a recovery leader
      return acknowledge(m.txn, st->origin, m.from);
    }
    // Resolved already (applied, or refused after forgetting it): said once is enough.
    if (st->rm_resolved) return acknowledge(m.txn, st->origin, m.from);
    // Paxos Commit never sends either of these: a commit needs this RM's own
    // Prepared, and an outcome is chosen once. Protocol-invalid: dropped, counted.
    const bool contradicts = (m.decision == decision::commit && st->rm != rm_phase::voted_yes) ||
                             (st->applied && *st->applied != m.decision);
    if (contradicts) {
      ++stats_.dropped_stale;
      return;
    }
    apply(m.txn, *st, m.decision);
    if (st->rm_resolved) acknowledge(m.txn, st->origin, m.from);
  }

  void apply(txn_id txn, txn_state& st, decision d) {
    if (st.applied) {
      QUORUM_ASSERT(*st.applied == d);
      return;
    }
    st.applied = d;
    if (d == decision::commit) rm_.commit(txn);
    else rm_.abort(txn);
    // Lazy: a lost decided record only makes the RM ask again after a restart.
    // The sync that makes its resolution durable (flush_resolutions) covers it.
    if (st.rm == rm_phase::voted_yes) (void)write(pc_record_kind::decided, txn, st, false);
    resolve(txn, st);
    adopt(txn, st, d);
  }

  // ---- acceptor ----

  [[nodiscard]] bool is_acceptor() const noexcept { return self_acceptor_; }

  txn_state* acceptor_state_for(const pc_message& m) {
    txn_state* st = is_acceptor() ? state_for(m.txn, m.origin, m.participants) : nullptr;
    if (st == nullptr) {
      ++stats_.dropped_stale;
      return nullptr;
    }
    st->has_acc = true;  // its instances' acceptor states start blank (set_parts)
    st->leader = m.leader;
    return st;
  }

  void on_phase2a(const pc_message& m) {
    txn_state* st = acceptor_state_for(m);
    if (st == nullptr) return;
    bool recovery = false;
    ballot refused{};
    for (const pc_entry& e : m.entries) {
      const std::size_t i = index_of(*st, e.instance);
      // Round 1 belongs to the RM whose instance it is; any other ballot to its proposer.
      const bool owner = e.bal.round == 1 ? e.instance == m.from && e.bal.node == m.from : e.bal.node == m.from;
      if (i == st->parts().size() || !owner || e.bal.round == 0 || e.value == pc_value::none) {
        ++stats_.dropped_stale;
        continue;
      }
      recovery |= e.bal.round > 1;
      detail::pc_instance& in = st->inst()[i];
      if (in.accept(e.bal, e.value)) st->unanswered.set(i);
      else refused = std::max(refused, in.promised);
    }
    if (refused.round != 0) send_nack(m, refused);
    bool all = true;
    for (const detail::pc_instance& in : st->inst()) all &= in.has_value();
    // The fast path waits for every RM's 2a so one stable write covers them all.
    if (recovery || all) flush(m.txn, *st);
  }

  void on_phase1a(const pc_message& m) {
    txn_state* st = acceptor_state_for(m);
    if (st == nullptr) return;
    if (m.bal.node != m.from || m.bal.round < 2) {
      ++stats_.dropped_stale;
      return;
    }
    ballot promised{};
    for (const detail::pc_instance& a : st->inst()) promised = std::max(promised, a.promised);
    if (promised > m.bal) return send_nack(m, promised);
    for (detail::pc_instance& a : st->inst()) (void)a.prepare(m.bal);
    if (!persist(m.txn, *st)) return;
    std::vector<pc_entry>& es = entries_buf_;
    es.clear();
    for (std::size_t i = 0; i < st->parts().size(); ++i)
      es.push_back(pc_entry{st->parts()[i], st->inst()[i].accepted, value_of(st->inst()[i])});
    pc_message r = make(pc_message_type::phase1b, m.txn, *st);
    r.bal = m.bal;
    r.participants = {};
    r.entries = es;
    send(m.from, r);
  }

  void send_nack(const pc_message& m, ballot promised) {
    pc_message r;
    r.type = pc_message_type::nack;
    r.from = self_;
    r.txn = m.txn;
    r.origin = m.origin;
    r.leader = m.leader;
    r.bal = promised;
    send(m.from, r);
  }

  // Writes every instance's state if any changed, syncs, then answers the
  // leader with each instance accepted since the last answer.
  void flush(txn_id txn, txn_state& st) {
    st.flush_ticks = 0;
    if (!persist(txn, st)) return;
    std::vector<pc_entry>& es = entries_buf_;
    es.clear();
    for (std::size_t i = 0; i < st.parts().size(); ++i) {
      if (!st.unanswered.test(i)) continue;
      st.unanswered.set(i, false);
      es.push_back(pc_entry{st.parts()[i], st.inst()[i].accepted, value_of(st.inst()[i])});
    }
    if (es.empty()) return;
    pc_message r = make(pc_message_type::phase2b, txn, st);
    r.participants = {};
    r.entries = es;
    send(st.leader, r);
  }

  bool persist(txn_id txn, txn_state& st) {
    bool dirty = false;
    for (const detail::pc_instance& a : st.inst()) dirty |= a.dirty;
    if (!dirty) return true;
    if (!write(pc_record_kind::acceptor, txn, st, true)) return false;
    for (detail::pc_instance& a : st.inst()) a.dirty = false;
    return true;
  }

  // ---- leader (paxos_commit_leader.hpp) ----

  void on_phase2b(const pc_message& m);
  void maybe_decide(txn_id txn, txn_state& st);
  void report(txn_id txn, decision d);
  void adopt(txn_id txn, txn_state& st, decision d);
  void start_recovery(txn_id txn, txn_state& st);
  void on_phase1b(const pc_message& m);
  void propose_recovered(txn_id txn, txn_state& st);
  void on_nack(const pc_message& m);

  void tick_txn(txn_id txn, txn_state& st) {
    if (st.has_acc && any_unanswered(st) && ++st.flush_ticks >= opts_.acceptor_flush_ticks) flush(txn, st);
    if (st.leading && !st.decided && ++st.leader_ticks >= opts_.leader_timeout_ticks) start_recovery(txn, st);
    if (st.leading && st.decided && ++st.ack_ticks >= opts_.leader_timeout_ticks) resend_decision(txn, st);
    // An acceptor with no leader left to say "forget" asks the RMs itself.
    if (!st.leading && st.has_acc && ++st.idle_ticks >= opts_.acceptor_query_ticks)
      send_to_unresolved(pc_message_type::query, txn, st);
    if (st.rm != rm_phase::voted_yes || st.applied || st.leading) return;
    // In doubt: become a recovery leader rather than wait for the first one.
    if (++st.rm_ticks < opts_.rm_in_doubt_ticks + st.self_at * opts_.leader_timeout_ticks) return;
    lead(st);
    start_recovery(txn, st);
  }

  // ---- forgetting (paxos_commit_forget.hpp) ----

  void init_resolved(txn_state& st);
  void resolve(txn_id txn, txn_state& st);
  bool refuse(txn_id txn, txn_state& st);
  void acknowledge(txn_id txn, node_id origin, node_id to);
  void handle_batch(const pc_message& m);
  void on_resolved(node_id from, txn_id txn, txn_state& st);
  void send_batches(pc_message_type type, std::vector<pc_txn_ref>& refs, node_id to);
  void flush_acks();
  void flush_forgets();
  void on_query(const pc_message& m);
  void resend_decision(txn_id txn, txn_state& st);
  void send_to_unresolved(pc_message_type type, txn_id txn, txn_state& st);
  [[nodiscard]] static bool all_resolved(const txn_state& st) { return st.resolved.all(st.n + 1); }
  [[nodiscard]] static bool any_unanswered(const txn_state& st) { return st.unanswered.any(st.n); }
  [[nodiscard]] bool done(const txn_state& st) const;
  void forget_if_done(txn_state& st);
  void flush_resolutions();
  void compact(std::uint64_t keep);
  void relocate();

  // ---- the log ----

  bool write(pc_record_kind kind, txn_id txn, txn_state& st, bool force, bool counted = true) {
    const std::span<const detail::pc_instance> acc = kind == pc_record_kind::acceptor
                                                         ? std::span<const detail::pc_instance>{st.inst()}
                                                         : std::span<const detail::pc_instance>{};
    const decision d = st.applied.value_or(decision::abort);
    byte_view rec;
    if (detail::pc_record_max_size(st.parts().size(), acc.size()) <= record_buf_.size()) {
      const std::byte* end =
          detail::pc_record_write(kind, txn, st.origin, st.leader, d, st.parts(), acc, record_buf_.data());
      rec = byte_view{record_buf_.data(), static_cast<std::size_t>(end - record_buf_.data())};
    } else {
      encode_pc_record(kind, txn, st.origin, st.leader, d, st.parts(), acc, buf_);
      rec = buf_;
    }
    auto at = log_.append(rec);
    if (!at) return stop(at.error());
    st.first_record = st.first_record == 0 ? at->value() : st.first_record;  // a select: both are common
    if (!force) {
      if (counted) ++stats_.lazy_writes;
      return true;
    }
    ++stats_.forced_writes;
    if (auto s = log_.sync(); !s) return stop(s.error());
    return true;
  }
  bool stop(const error& e) {
    ++stats_.log_errors;
    status_ = unexpected{e};
    return false;
  }

  result<void> recover();

  [[no_unique_address]] transport_type transport_;
  [[no_unique_address]] log_type log_;
  [[no_unique_address]] clock_type clock_;
  [[no_unique_address]] resource_manager_type rm_;
  paxos_commit_options opts_;
  node_id self_;
  result<void> status_{};
  paxos::membership acceptors_;
  bool self_acceptor_{false};
  paxos_commit_stats stats_;
  detail::txn_table<txn_state> txns_;
  // Set by known() and create(), unset by forgetting that entry. A copied
  // or moved node starts without one: it would point into the other's table.
  struct hot_entry {
    txn_state* st{nullptr};
    hot_entry() = default;
    hot_entry(const hot_entry&) noexcept {}
    hot_entry& operator=(const hot_entry&) noexcept {
      st = nullptr;
      return *this;
    }
    ~hot_entry() = default;
  };
  hot_entry hot_;
  pc_tombstones tombstones_;
  bool need_sync_{false};  // a resolution is not durable yet
  struct pending_ack {
    txn_id txn;
    node_id origin;
    node_id to;
  };
  std::vector<pending_ack> acks_;  // sent once the next sync has made them true
  std::vector<pc_txn_ref> forgets_;  // leader: txns every RM resolved, for the acceptors at the next tick
  std::vector<pc_txn_ref> batch_buf_;
  std::vector<decided_txn> decisions_;
  struct local_message {
    pc_message m;  // its spans view the two lists below
    std::vector<node_id> participants;
    std::vector<pc_entry> entries;
    std::vector<pc_txn_ref> batch;
  };
  std::vector<local_message> local_;  // [local_next_, local_used_) wait to be handled; slots are reused
  std::size_t local_next_{0};
  std::size_t local_used_{0};
  bool draining_{false};
  pc_scratch scratch_;
  std::vector<node_id> sorted_buf_;
  std::vector<pc_entry> entries_buf_;
  byte_buffer buf_;
  std::array<std::byte, 256> record_buf_;  // a record of the usual few participants, encoded in place
};

}  // namespace quorum::two_phase_commit

#include "quorum/two_phase_commit/paxos_commit_forget.hpp"  // IWYU pragma: export
#include "quorum/two_phase_commit/paxos_commit_leader.hpp"  // IWYU pragma: export
