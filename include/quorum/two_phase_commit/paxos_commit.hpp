// Paxos Commit (Gray & Lamport, "Consensus on Transaction Commit", 2006): each
// RM's vote is chosen by its own synod instance among 2F + 1 acceptors, so a
// leader's crash does not block prepared RMs. One node class plays every role
// (RM, acceptor, leader) its configuration gives it; messages to itself stay local.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/core/concepts.hpp"
#include "quorum/paxos/quorums.hpp"
#include "quorum/paxos/synod.hpp"
#include "quorum/two_phase_commit/paxos_commit_message.hpp"
#include "quorum/two_phase_commit/paxos_commit_options.hpp"
#include "quorum/two_phase_commit/paxos_commit_record.hpp"
#include "quorum/two_phase_commit/policies.hpp"

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
        opts_{std::move(opts)}, self_{self} {
    status_ = validate(opts_);
    if (status_ && self_ == no_node) status_ = fail(errc::invalid_config, "paxos commit: node id 0 is reserved");
    if (!status_) return;
    acceptors_ = paxos::membership(opts_.acceptors.front(), opts_.acceptors, 0, 0);
    status_ = recover();
  }

  [[nodiscard]] const result<void>& status() const noexcept { return status_; }
  [[nodiscard]] const paxos_commit_stats& stats() const noexcept { return stats_; }
  [[nodiscard]] node_id id() const noexcept { return self_; }
  [[nodiscard]] resource_manager_type& resource_manager() noexcept { return rm_; }

  // The initiating RM's BeginCommit, handled where it lands: this node leads
  // txn and asks every participant to vote. Participants need not include it.
  result<void> begin(txn_id txn, std::span<const node_id> participants) {
    if (!status_) return unexpected{status_.error()};
    if (txn == no_txn) return fail(errc::invalid_argument, "paxos commit begin: txn 0 is reserved");
    QUORUM_TRY(check_participants(participants));
    std::vector<node_id> parts(participants.begin(), participants.end());
    std::sort(parts.begin(), parts.end());
    if (txns_.count(txn) != 0) return fail(errc::invalid_argument, "paxos commit begin: txn already known", txn.value());
    if (txns_.size() >= opts_.max_transactions)
      return fail(errc::busy, "paxos commit begin: max_transactions reached", opts_.max_transactions);
    txn_state& st = txns_[txn];
    st.parts = std::move(parts);
    st.leader = self_;
    lead(st);
    pc_message m = make(pc_message_type::prepare, txn, st);
    for (const node_id p : st.parts) send(p, m);
    drain();
    return {};
  }

  void receive(byte_view bytes) {
    if (!status_) return;
    auto m = decode(bytes, scratch_, pc_message_limits{opts_.max_participants});
    if (!m) {
      ++stats_.dropped_malformed;
      return;
    }
    if (m->to != self_ || m->from == no_node || m->txn == no_txn) {
      ++stats_.dropped_stale;
      return;
    }
    handle(*m);
    drain();
  }

  void tick() {
    if (!status_) return;
    for (auto& [txn, st] : txns_) tick_txn(txn, st);
    drain();
  }

  // As an RM: the outcome this node applied, if any.
  [[nodiscard]] std::optional<decision> outcome(txn_id txn) const {
    auto it = txns_.find(txn);
    return it == txns_.end() ? std::nullopt : it->second.applied;
  }
  // As a leader (first or recovery): the outcome it decided, if any.
  [[nodiscard]] std::optional<decision> decided(txn_id txn) const {
    auto it = txns_.find(txn);
    return it == txns_.end() ? std::nullopt : it->second.decided;
  }
  // As an acceptor: what it accepted for `rm`'s instance of txn.
  [[nodiscard]] pc_value accepted(txn_id txn, node_id rm) const {
    auto it = txns_.find(txn);
    if (it == txns_.end() || it->second.acc.empty()) return pc_value::none;
    const std::size_t i = index_of(it->second, rm);
    return i == it->second.parts.size() ? pc_value::none : value_of(it->second.acc[i].state());
  }

 private:
  enum class rm_phase : std::uint8_t { none, voted_yes, voted_no };

  // Everything this node knows of one transaction, in each of its roles.
  struct txn_state {
    std::vector<node_id> parts;  // sorted: instance i is parts[i]'s vote
    node_id leader{};            // where acceptors send phase 2b
    // RM
    rm_phase rm{rm_phase::none};
    std::uint32_t rm_ticks{0};
    std::optional<decision> applied;
    // acceptor: one synod acceptor per instance; empty until a 2a or 1a arrives
    std::vector<paxos::acceptor> acc;
    std::vector<bool> unanswered;  // accepted, 2b not sent yet
    std::uint32_t flush_ticks{0};
    // leader
    bool leading{false};
    ballot bal{};  // of this node's phase 1; round 0 while on the fast path
    std::uint64_t highest_round{1};
    std::uint32_t leader_ticks{0};
    std::vector<paxos::learner> learn;
    std::vector<paxos::proposer> prop;
    std::vector<pc_value> chosen;
    std::optional<decision> decided;
  };

  // The fast path's ballot: the paper's ballot 0, owned by the RM itself, so
  // it may propose its vote without phase 1. Round 0 means "none" in the synod.
  static constexpr ballot fast_ballot(node_id rm) noexcept { return ballot{1, rm}; }

  result<void> check_participants(std::span<const node_id> parts) const {
    if (parts.empty() || parts.size() > opts_.max_participants)
      return fail(errc::invalid_argument, "paxos commit: participants must number 1..max_participants", parts.size());
    std::vector<node_id> s(parts.begin(), parts.end());
    std::sort(s.begin(), s.end());
    if (s.front() == no_node) return fail(errc::invalid_argument, "paxos commit: participant id 0");
    if (std::adjacent_find(s.begin(), s.end()) != s.end())
      return fail(errc::invalid_argument, "paxos commit: a participant is listed twice");
    return {};
  }

  static std::size_t index_of(const txn_state& st, node_id n) {
    auto it = std::lower_bound(st.parts.begin(), st.parts.end(), n);
    return it != st.parts.end() && *it == n ? static_cast<std::size_t>(it - st.parts.begin()) : st.parts.size();
  }

  // The state for txn, created from a message's participant list. Null when
  // the list is bad, disagrees with what is known, or the table is full.
  txn_state* state_for(txn_id txn, std::span<const node_id> parts) {
    if (auto it = txns_.find(txn); it != txns_.end()) {
      if (!parts.empty() && !std::equal(parts.begin(), parts.end(), it->second.parts.begin(), it->second.parts.end()))
        return nullptr;
      return &it->second;
    }
    if (!check_participants(parts) || !std::is_sorted(parts.begin(), parts.end())) return nullptr;
    if (txns_.size() >= opts_.max_transactions) return nullptr;
    txn_state& st = txns_[txn];
    st.parts.assign(parts.begin(), parts.end());
    return &st;
  }
  txn_state* known(txn_id txn) {
    auto it = txns_.find(txn);
    return it == txns_.end() ? nullptr : &it->second;
  }

  void lead(txn_state& st) {
    st.leading = true;
    st.learn.assign(st.parts.size(), paxos::learner{});
    st.prop.assign(st.parts.size(), paxos::proposer{});
    st.chosen.assign(st.parts.size(), pc_value::none);
    st.leader_ticks = 0;
  }

  pc_message make(pc_message_type type, txn_id txn, const txn_state& st) const {
    pc_message m;
    m.type = type;
    m.from = self_;
    m.txn = txn;
    m.leader = st.leader;
    m.participants = st.parts;
    return m;
  }

  // A message to this node is handled after the current one, never inline,
  // and is not counted: it never leaves the node.
  void send(node_id to, pc_message& m) {
    m.to = to;
    if (to == self_) {
      encode(m, local_.emplace_back());
      return;
    }
    ++stats_.messages_sent;
    transport_.send(to, m);
  }
  void drain() {
    if (draining_) return;
    draining_ = true;
    while (!local_.empty() && status_) {
      byte_buffer b = std::move(local_.front());
      local_.pop_front();
      if (auto m = decode(b, local_scratch_, pc_message_limits{opts_.max_participants})) handle(*m);
    }
    local_.clear();
    draining_ = false;
  }

  void handle(const pc_message& m) {
    switch (m.type) {
      case pc_message_type::prepare: return on_prepare(m);
      case pc_message_type::phase2a: return on_phase2a(m);
      case pc_message_type::phase1a: return on_phase1a(m);
      case pc_message_type::phase2b: return on_phase2b(m);
      case pc_message_type::phase1b: return on_phase1b(m);
      case pc_message_type::nack: return on_nack(m);
      case pc_message_type::decision: return on_decision(m);
    }
  }

  // ---- RM ----

  void on_prepare(const pc_message& m) {
    txn_state* st = state_for(m.txn, m.participants);
    if (st == nullptr || index_of(*st, self_) == st->parts.size()) {
      ++stats_.dropped_stale;
      return;
    }
    if (st->leader == no_node) st->leader = m.leader;
    if (st->applied && st->rm == rm_phase::none) return;  // decided without our vote: nothing to say
    if (st->rm == rm_phase::none) {
      const vote v = rm_.prepare(m.txn);
      if (v == vote::no) {
        ++stats_.votes_no;
        st->rm = rm_phase::voted_no;
        st->applied = decision::abort;  // a no voter knows the outcome; its RM has rolled back already
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
      if (m.decision == decision::abort) rm_.abort(m.txn);  // work that was never asked to prepare
      return;
    }
    // Paxos Commit never sends either of these: a commit needs this RM's own
    // Prepared, and an outcome is chosen once. Protocol-invalid: dropped, counted.
    const bool contradicts = (m.decision == decision::commit && st->rm != rm_phase::voted_yes) ||
                             (st->applied && *st->applied != m.decision);
    if (index_of(*st, self_) == st->parts.size() || contradicts) {
      ++stats_.dropped_stale;
      return;
    }
    apply(m.txn, *st, m.decision);
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
    if (st.rm == rm_phase::voted_yes) (void)write(pc_record_kind::decided, txn, st, false);
  }

  // ---- acceptor ----

  [[nodiscard]] bool is_acceptor() const { return acceptors_.position_of(self_) != paxos::membership::npos; }

  txn_state* acceptor_state_for(const pc_message& m) {
    txn_state* st = is_acceptor() ? state_for(m.txn, m.participants) : nullptr;
    if (st == nullptr) {
      ++stats_.dropped_stale;
      return nullptr;
    }
    if (st->acc.empty()) {
      st->acc.assign(st->parts.size(), paxos::acceptor{});
      st->unanswered.assign(st->parts.size(), false);
    }
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
      if (i == st->parts.size() || !owner || e.bal.round == 0 || e.value == pc_value::none) {
        ++stats_.dropped_stale;
        continue;
      }
      recovery |= e.bal.round > 1;
      const std::byte v{static_cast<std::uint8_t>(e.value)};
      if (st->acc[i].accept(e.bal, std::span<const std::byte>{&v, 1})) st->unanswered[i] = true;
      else refused = std::max(refused, st->acc[i].state().promised);
    }
    if (refused.round != 0) send_nack(m, refused);
    const bool all = std::all_of(st->acc.begin(), st->acc.end(), [](const paxos::acceptor& a) {
      return a.state().has_value();
    });
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
    for (const paxos::acceptor& a : st->acc) promised = std::max(promised, a.state().promised);
    if (promised > m.bal) return send_nack(m, promised);
    for (paxos::acceptor& a : st->acc) (void)a.prepare(m.bal);
    if (!persist(m.txn, *st)) return;
    std::vector<pc_entry>& es = entries_buf_;
    es.clear();
    for (std::size_t i = 0; i < st->parts.size(); ++i)
      es.push_back(pc_entry{st->parts[i], st->acc[i].state().accepted, value_of(st->acc[i].state())});
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
    for (std::size_t i = 0; i < st.parts.size(); ++i) {
      if (!st.unanswered[i]) continue;
      st.unanswered[i] = false;
      es.push_back(pc_entry{st.parts[i], st.acc[i].state().accepted, value_of(st.acc[i].state())});
    }
    if (es.empty()) return;
    pc_message r = make(pc_message_type::phase2b, txn, st);
    r.participants = {};
    r.entries = es;
    send(st.leader, r);
  }

  bool persist(txn_id txn, txn_state& st) {
    if (std::none_of(st.acc.begin(), st.acc.end(), [](const paxos::acceptor& a) { return a.dirty(); })) return true;
    if (!write(pc_record_kind::acceptor, txn, st, true)) return false;
    for (paxos::acceptor& a : st.acc) a.saved();
    return true;
  }

  // ---- leader ----

  void on_phase2b(const pc_message& m) {
    txn_state* st = known(m.txn);
    const std::size_t pos = acceptors_.position_of(m.from);
    if (st == nullptr || !st->leading || st->decided || pos == paxos::membership::npos) {
      ++stats_.dropped_stale;
      return;
    }
    for (const pc_entry& e : m.entries) {
      const std::size_t i = index_of(*st, e.instance);
      if (i == st->parts.size() || e.value == pc_value::none || st->chosen[i] != pc_value::none) continue;
      if (st->learn[i].on_accepted(acceptors_, pos, e.bal)) st->chosen[i] = e.value;
    }
    maybe_decide(m.txn, *st);
  }

  // Commit iff every instance chose Prepared; one Aborted settles it early.
  void maybe_decide(txn_id txn, txn_state& st) {
    const bool any_abort = std::find(st.chosen.begin(), st.chosen.end(), pc_value::aborted) != st.chosen.end();
    const bool all_prepared =
        std::all_of(st.chosen.begin(), st.chosen.end(), [](pc_value v) { return v == pc_value::prepared; });
    if (!any_abort && !all_prepared) return;
    const decision d = any_abort ? decision::abort : decision::commit;
    st.decided = d;
    ++(d == decision::commit ? stats_.commits : stats_.aborts);
    pc_message m = make(pc_message_type::decision, txn, st);
    m.participants = {};
    m.decision = d;
    for (const node_id p : st.parts) send(p, m);
  }

  void start_recovery(txn_id txn, txn_state& st) {
    st.bal = ballot{std::max(st.highest_round, st.bal.round) + 1, self_};
    st.highest_round = st.bal.round;
    st.leader_ticks = 0;
    st.leader = self_;
    for (paxos::proposer& p : st.prop) p.start(st.bal);
    ++stats_.recoveries;
    pc_message m = make(pc_message_type::phase1a, txn, st);
    m.bal = st.bal;
    for (const node_id a : acceptors_.members()) send(a, m);
  }

  void on_phase1b(const pc_message& m) {
    txn_state* st = known(m.txn);
    const std::size_t pos = acceptors_.position_of(m.from);
    if (st == nullptr || !st->leading || st->decided || pos == paxos::membership::npos || m.bal != st->bal ||
        m.entries.size() != st->parts.size()) {
      ++stats_.dropped_stale;
      return;
    }
    bool reached = true;
    for (const pc_entry& e : m.entries) {
      const std::size_t i = index_of(*st, e.instance);
      if (i == st->parts.size()) return;
      const std::byte v{static_cast<std::uint8_t>(e.value)};
      const std::span<const std::byte> val = e.value == pc_value::none ? std::span<const std::byte>{}
                                                                        : std::span<const std::byte>{&v, 1};
      reached &= st->prop[i].on_promise(acceptors_, pos, e.value == pc_value::none ? ballot{} : e.bal, val);
    }
    if (reached) propose_recovered(m.txn, *st);
  }

  // Phase 2 of recovery: each instance keeps the value accepted at its highest
  // ballot; one with none gets Aborted (its RM may not have voted).
  void propose_recovered(txn_id txn, txn_state& st) {
    std::vector<pc_entry>& es = entries_buf_;
    es.clear();
    for (std::size_t i = 0; i < st.parts.size(); ++i) {
      paxos::proposer& p = st.prop[i];
      const std::byte abort_byte{static_cast<std::uint8_t>(pc_value::aborted)};
      const byte_buffer v = p.highest_accepted().round != 0 ? to_buffer(p.value()) : byte_buffer{abort_byte};
      p.start_accept(v);
      es.push_back(pc_entry{st.parts[i], st.bal, static_cast<pc_value>(std::to_integer<std::uint8_t>(v[0]))});
    }
    pc_message m = make(pc_message_type::phase2a, txn, st);
    m.entries = es;
    for (const node_id a : acceptors_.members()) send(a, m);
  }

  void on_nack(const pc_message& m) {
    if (txn_state* st = known(m.txn)) st->highest_round = std::max(st->highest_round, m.bal.round);
  }

  void tick_txn(txn_id txn, txn_state& st) {
    if (!st.acc.empty() && std::find(st.unanswered.begin(), st.unanswered.end(), true) != st.unanswered.end() &&
        ++st.flush_ticks >= opts_.acceptor_flush_ticks)
      flush(txn, st);
    if (st.leading && !st.decided && ++st.leader_ticks >= opts_.leader_timeout_ticks) start_recovery(txn, st);
    if (st.rm != rm_phase::voted_yes || st.applied || st.leading) return;
    // In doubt: become a recovery leader rather than wait for the first one.
    if (++st.rm_ticks < opts_.rm_in_doubt_ticks + index_of(st, self_) * opts_.leader_timeout_ticks) return;
    lead(st);
    start_recovery(txn, st);
  }

  // ---- the log ----

  bool write(pc_record_kind kind, txn_id txn, const txn_state& st, bool force) {
    const std::span<const paxos::acceptor> acc =
        kind == pc_record_kind::acceptor ? std::span<const paxos::acceptor>{st.acc} : std::span<const paxos::acceptor>{};
    encode_pc_record(kind, txn, st.leader, st.applied.value_or(decision::abort), st.parts, acc, buf_);
    auto at = log_.append(buf_);
    if (!at) return stop(at.error());
    if (!force) {
      ++stats_.lazy_writes;
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

  // Replays the log: the last acceptor record of a txn holds its state.
  result<void> recover() {
    for (log_index i = log_.first_index(); i <= log_.last_index() && i.value() != 0; i = i.next()) {
      auto bytes = log_.read(i);
      if (!bytes) return unexpected{bytes.error()};
      auto r = decode_pc_record(*bytes, opts_.max_participants);
      if (!r) return fail(errc::corrupt_log, "paxos commit: undecodable record at log index", i.value());
      txn_state& st = txns_[r->txn];
      if (st.parts.empty()) st.parts = r->participants;
      if (st.leader == no_node) st.leader = r->leader;
      if (r->kind == pc_record_kind::prepared) st.rm = rm_phase::voted_yes;
      if (r->kind == pc_record_kind::decided) st.applied = r->decision;
      if (r->kind == pc_record_kind::acceptor) {
        st.acc.clear();
        for (paxos::acceptor_state& s : r->states) st.acc.emplace_back(std::move(s));
        st.unanswered.assign(st.parts.size(), false);
      }
    }
    return {};
  }

  [[no_unique_address]] transport_type transport_;
  [[no_unique_address]] log_type log_;
  [[no_unique_address]] clock_type clock_;
  [[no_unique_address]] resource_manager_type rm_;
  paxos_commit_options opts_;
  node_id self_;
  result<void> status_{};
  paxos::membership acceptors_;
  paxos_commit_stats stats_;
  std::map<txn_id, txn_state> txns_;
  std::deque<byte_buffer> local_;
  bool draining_{false};
  pc_scratch scratch_;
  pc_scratch local_scratch_;
  std::vector<pc_entry> entries_buf_;
  byte_buffer buf_;
};

}  // namespace quorum::two_phase_commit
