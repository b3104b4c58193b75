// quorum::two_phase_commit::participant: the resource side of two-phase
// commit as a sans-I/O state machine over Transport, Log, Clock and the user's
// ResourceManager. Votes, learns decisions, terminates when in doubt (asking
// the coordinator and, cooperatively, its peers), recovers from its Log, and
// records operator-forced (heuristic) decisions.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "quorum/core/assert.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"
#include "quorum/two_phase_commit/message.hpp"
#include "quorum/two_phase_commit/options.hpp"
#include "quorum/two_phase_commit/policies.hpp"
#include "quorum/two_phase_commit/record.hpp"
#include "quorum/two_phase_commit/status.hpp"
#include "quorum/two_phase_commit/types.hpp"

namespace quorum::two_phase_commit {

// Where a participant stands on one transaction.
enum class txn_phase : std::uint8_t {
  enlisted,   // working on it, not asked to vote yet
  prepared,   // voted yes: in doubt until it learns the decision
  read_only,  // voted read-only: out of the transaction
  aborted,    // voted no, aborted unilaterally, or learned abort
  committed,  // learned (or, one-phase, made) commit
  heuristic,  // in doubt, and an operator forced a decision; still asking for the real one
};

// A prepared participant never decides alone: only the coordinator's decision
// (from it, or relayed by a peer that learned it) or an operator's heuristic
// ends its doubt. The decision that differs from the transaction's presumption
// is forced and acknowledged; the other is written lazily and not acknowledged.
// Knowledge of a finished transaction is kept until the coordinator's horizon
// passes it, so a stale prepare is never voted on twice.
template <class Policies>
class participant {
  static_assert(check_participant_policies<Policies>());

 public:
  using transport_type = typename Policies::transport;
  using log_type = typename Policies::log;
  using clock_type = typename Policies::clock;
  using resource_manager_type = typename Policies::resource_manager;

  participant(node_id self, transport_type transport, log_type log, clock_type clock, resource_manager_type rm,
              participant_options opts = {})
      : transport_{std::move(transport)}, log_{std::move(log)}, clock_{std::move(clock)}, rm_{std::move(rm)},
        opts_{opts}, self_{self} {
    status_ = validate(opts_);
    if (status_ && self_ == no_node) status_ = fail(errc::invalid_config, "2pc participant: node id 0 is reserved");
    if (status_) status_ = recover();
  }

  // The application started work on txn for `coordinator`: without a prepare
  // within unilateral_abort_ticks it is aborted here, and a peer's inquiry
  // aborts it at once (it has not voted). Enlist a txn once, before its
  // prepare can arrive; never again after a restart (this node may already
  // have voted on it, and the crash rolled its work back: let it abort).
  // Optional: a prepare for a txn never enlisted is voted on all the same.
  result<void> enlist(txn_id txn, node_id coordinator) {
    if (!status_) return unexpected{status_.error()};
    if (txn == no_txn || coordinator == no_node || coordinator == self_)
      return fail(errc::invalid_argument, "2pc enlist: txn 0, coordinator 0 or this node");
    if (auto it = txns_.find(txn); it != txns_.end()) {
      if (it->second.phase == txn_phase::enlisted && it->second.coordinator == coordinator) return {};
      return fail(errc::invalid_argument, "2pc enlist: txn already past its vote here", txn.value());
    }
    if (txn < horizon_of(coordinator)) return fail(errc::stale, "2pc enlist: the coordinator has finished txn");
    if (!has_room(coordinator)) return fail(errc::busy, "2pc enlist: max_transactions reached", opts_.max_transactions);
    hold(txn, coordinator);
    return {};
  }

  void tick() {
    if (!status_) return;
    last_tick_ = clock_.now();
    for (auto& [id, e] : txns_) {
      if (e.phase == txn_phase::enlisted) {
        if (++e.ticks >= opts_.unilateral_abort_ticks) {
          ++stats_.unilateral_aborts;
          rm_.abort(id);
          e.phase = txn_phase::aborted;
        }
      } else if (e.phase == txn_phase::prepared || e.phase == txn_phase::heuristic) {
        if (++e.ticks >= opts_.inquiry_ticks) inquire(id, e);
      }
    }
  }

  void receive(const message& m) {
    if (!status_) return;
    if (m.to != self_ || m.from == self_ || m.coordinator == no_node || m.txn == no_txn) {
      ++stats_.dropped_misrouted;
      return;
    }
    if (m.from == m.coordinator) note_horizon(m.coordinator, m.horizon);
    if (!status_) return;
    switch (m.type) {
      case message_type::prepare: on_prepare(m); break;
      case message_type::one_phase: on_one_phase(m); break;
      case message_type::decision: on_decision(m); break;
      case message_type::inquiry: on_inquiry(m); break;
      default: ++stats_.dropped_misrouted; break;
    }
  }

  void receive(byte_view bytes) {
    if (!status_) return;
    auto m = decode(bytes, recv_ids_, message_limits{opts_.max_participants});
    if (m) receive(*m);
    else ++stats_.dropped_malformed;
  }

  // The operator ends an in-doubt transaction by hand: the resource manager
  // applies d now, the choice is forced to the log, and it is reported by
  // heuristics() (as a hazard once the real outcome disagrees). Errors:
  // not_found (no such txn here), invalid_argument (not in doubt), busy.
  result<void> heuristic_decide(txn_id txn, decision d) {
    if (!status_) return unexpected{status_.error()};
    auto it = txns_.find(txn);
    if (it == txns_.end()) return fail(errc::not_found, "2pc heuristic: no such transaction here", txn.value());
    entry& e = it->second;
    if (e.phase != txn_phase::prepared) return fail(errc::invalid_argument, "2pc heuristic: txn is not in doubt");
    if (heuristics_.size() >= opts_.max_heuristics)
      return fail(errc::busy, "2pc heuristic: max_heuristics unforgotten reports", opts_.max_heuristics);
    if (d == decision::commit) rm_.commit(txn);
    else rm_.abort(txn);
    if (!write(record{record_kind::heuristic, txn, e.coordinator, static_cast<std::uint8_t>(d), {}}, true, e))
      return unexpected{status_.error()};
    e.phase = txn_phase::heuristic;
    e.reported = true;
    heuristics_.push_back(heuristic_report{txn, d, std::nullopt});
    return {};
  }

  // Clears a heuristic report whose real outcome is known (the operator has
  // dealt with it). Errors: not_found, invalid_argument (outcome not known).
  result<void> forget_heuristic(txn_id txn) {
    if (!status_) return unexpected{status_.error()};
    auto h = std::find_if(heuristics_.begin(), heuristics_.end(), [&](const auto& r) { return r.txn == txn; });
    if (h == heuristics_.end()) return fail(errc::not_found, "2pc forget: no heuristic report for txn", txn.value());
    if (!h->outcome) return fail(errc::invalid_argument, "2pc forget: the real outcome is not known yet");
    heuristics_.erase(h);
    auto it = txns_.find(txn);
    if (it != txns_.end()) {
      it->second.reported = false;
      // Forced: a report the operator cleared must not come back after a crash.
      if (!write(record{record_kind::forgotten, txn, it->second.coordinator, 0, {}}, true, it->second))
        return unexpected{status_.error()};
    }
    collect();
    return {};
  }

  [[nodiscard]] std::span<const heuristic_report> heuristics() const noexcept { return heuristics_; }
  [[nodiscard]] std::optional<txn_phase> phase_of(txn_id txn) const {
    auto it = txns_.find(txn);
    if (it == txns_.end()) return std::nullopt;
    return it->second.phase;
  }
  [[nodiscard]] std::size_t in_doubt() const {
    return static_cast<std::size_t>(std::count_if(txns_.begin(), txns_.end(), [](const auto& kv) {
      return kv.second.phase == txn_phase::prepared;
    }));
  }
  [[nodiscard]] std::size_t transactions() const noexcept { return txns_.size(); }
  [[nodiscard]] txn_id horizon_of(node_id coordinator) const noexcept {
    for (const auto& [c, h] : horizons_)
      if (c == coordinator) return h;
    return no_txn;
  }
  [[nodiscard]] const result<void>& status() const noexcept { return status_; }
  [[nodiscard]] node_id id() const noexcept { return self_; }
  [[nodiscard]] const participant_stats& stats() const noexcept { return stats_; }
  [[nodiscard]] typename clock_type::time_point last_tick_time() const noexcept { return last_tick_; }
  [[nodiscard]] transport_type& transport() noexcept { return transport_; }
  [[nodiscard]] log_type& log() noexcept { return log_; }
  [[nodiscard]] clock_type& clock() noexcept { return clock_; }
  [[nodiscard]] resource_manager_type& resource_manager() noexcept { return rm_; }

 private:
  struct entry {
    node_id coordinator{};
    two_phase_commit::presumption presumption{presumption::abort};
    txn_phase phase{txn_phase::enlisted};
    bool reported{false};  // a heuristic report is open: keep the txn
    std::vector<node_id> peers;
    std::uint32_t ticks{0};
    std::uint64_t first_record{0};

    // As new, but peers keeps its capacity.
    void reset() noexcept {
      coordinator = no_node;
      presumption = presumption::abort;
      phase = txn_phase::enlisted;
      reported = false;
      peers.clear();
      ticks = 0;
      first_record = 0;
    }
  };
  using txn_map = std::map<txn_id, entry>;

  // Starts holding txn (not held yet). A forgotten transaction's map node
  // (and its peers vector) is reused, so a steady state allocates nothing;
  // spares never outnumber max_transactions, the bound on what is held.
  typename txn_map::iterator hold(txn_id txn, node_id coordinator) {
    typename txn_map::iterator it;
    if (spare_.empty()) {
      it = txns_.emplace(txn, entry{}).first;
    } else {
      typename txn_map::node_type n = std::move(spare_.back());
      spare_.pop_back();
      n.key() = txn;
      n.mapped().reset();
      it = txns_.insert(std::move(n)).position;
    }
    it->second.coordinator = coordinator;
    return it;
  }
  typename txn_map::iterator forget(typename txn_map::iterator it) {
    auto next = std::next(it);
    if (spare_.size() < opts_.max_transactions) spare_.push_back(txns_.extract(it));
    else txns_.erase(it);
    return next;
  }

  [[nodiscard]] bool has_room(node_id coordinator) const {
    if (txns_.size() >= opts_.max_transactions) return false;
    return horizon_of(coordinator) != no_txn || horizons_.size() < opts_.max_coordinators;
  }

  message make(message_type type, node_id to, txn_id txn, node_id coordinator) const {
    message m;
    m.type = type;
    m.from = self_;
    m.to = to;
    m.txn = txn;
    m.coordinator = coordinator;
    return m;
  }
  void send(const message& m) {
    ++stats_.messages_sent;
    transport_.send(m.to, m);
  }
  void send_vote(const message& req, vote v) {
    message m = make(message_type::vote, req.from, req.txn, req.coordinator);
    m.vote = v;
    send(m);
  }
  void send_decision(message_type type, node_id to, txn_id txn, node_id coordinator, decision d) {
    message m = make(type, to, txn, coordinator);
    m.decision = d;
    send(m);
  }

  bool write(const record& r, bool force, entry& e) {
    buf_.clear();
    detail::packer w{buf_};
    encode(r, w);
    auto at = log_.append(w.bytes());
    if (!at) return stop(at.error());
    if (e.first_record == 0) {
      e.first_record = at->value();
      first_records_.add(e.first_record, r.txn);
    }
    if (!force) {
      ++stats_.lazy_writes;
      return true;
    }
    ++stats_.forced_writes;
    ++stats_.syncs;
    if (auto s = log_.sync(); !s) return stop(s.error());
    return true;
  }
  bool stop(const error& e) {
    ++stats_.log_errors;
    status_ = unexpected{e};
    return false;
  }

  void on_prepare(const message& m) {
    if (m.from != m.coordinator) {
      ++stats_.dropped_misrouted;
      return;
    }
    auto it = txns_.find(m.txn);
    if (it == txns_.end()) {
      if (m.txn < horizon_of(m.coordinator)) {
        ++stats_.dropped_stale;  // finished there; maybe here too, and forgotten: never vote twice
        return;
      }
      if (!has_room(m.coordinator)) {
        ++stats_.refused_busy;
        rm_.abort(m.txn);
        return send_vote(m, vote::no);
      }
      it = hold(m.txn, m.coordinator);
    }
    entry& e = it->second;
    switch (e.phase) {
      case txn_phase::enlisted: return cast_vote(m, it->first, e);
      case txn_phase::prepared:
      case txn_phase::heuristic: return send_vote(m, vote::yes);  // a retry: the vote stands
      case txn_phase::read_only: return send_vote(m, vote::read_only);
      case txn_phase::aborted: return send_vote(m, vote::no);
      case txn_phase::committed: ++stats_.dropped_stale; return;
    }
  }

  void cast_vote(const message& m, txn_id txn, entry& e) {
    const vote v = rm_.prepare(txn);
    e.presumption = m.presumption;
    e.ticks = 0;
    if (v == vote::yes) {
      e.phase = txn_phase::prepared;
      e.peers.assign(m.participants.begin(), m.participants.end());
      const record r{record_kind::prepared, txn, e.coordinator, static_cast<std::uint8_t>(e.presumption), e.peers};
      if (!write(r, true, e)) return;  // the vote is a promise: durable first
      ++stats_.votes_yes;
    } else if (v == vote::read_only) {
      e.phase = txn_phase::read_only;  // nothing to undo, nothing written
      ++stats_.votes_read_only;
    } else {
      e.phase = txn_phase::aborted;
      ++stats_.votes_no;
    }
    send_vote(m, v);
  }

  // One-phase: this participant decides, forces the decision (the reply
  // promises it) and keeps it until the coordinator's horizon passes txn.
  void on_one_phase(const message& m) {
    if (m.from != m.coordinator) {
      ++stats_.dropped_misrouted;
      return;
    }
    auto it = txns_.find(m.txn);
    if (it == txns_.end()) {
      if (m.txn < horizon_of(m.coordinator)) {
        ++stats_.dropped_stale;
        return;
      }
      if (!has_room(m.coordinator)) {
        ++stats_.refused_busy;
        rm_.abort(m.txn);
        return send_decision(message_type::outcome, m.from, m.txn, m.coordinator, decision::abort);
      }
      it = hold(m.txn, m.coordinator);
    }
    entry& e = it->second;
    if (e.phase == txn_phase::enlisted) {
      const vote v = rm_.prepare(it->first);
      const decision d = v == vote::no ? decision::abort : decision::commit;
      if (v == vote::yes) rm_.commit(it->first);
      e.phase = d == decision::commit ? txn_phase::committed : txn_phase::aborted;
      e.presumption = m.presumption;
      ++(v == vote::yes ? stats_.votes_yes : v == vote::no ? stats_.votes_no : stats_.votes_read_only);
      if (!write(record{record_kind::decided, it->first, e.coordinator, static_cast<std::uint8_t>(d), {}}, true, e))
        return;
    }
    if (e.phase == txn_phase::committed || e.phase == txn_phase::aborted)
      send_decision(message_type::outcome, m.from, m.txn, m.coordinator,
                    e.phase == txn_phase::committed ? decision::commit : decision::abort);
  }

  void on_decision(const message& m) {
    auto it = txns_.find(m.txn);
    if (it == txns_.end()) {
      // Nothing held: never prepared durably, or finished and forgotten (below
      // the horizon). An abort of the former is passed on (the resource may
      // hold work); an owed ack is given either way, since a coordinator that
      // lost its end record in a crash asks again for acks it had.
      if (m.decision == decision::abort && m.txn >= horizon_of(m.coordinator)) rm_.abort(m.txn);
      if (m.from == m.coordinator && m.decision != presumed(m.presumption))
        send(make(message_type::ack, m.from, m.txn, m.coordinator));
      return;
    }
    entry& e = it->second;
    switch (e.phase) {
      case txn_phase::prepared: return learn(m, it->first, e, true);
      case txn_phase::heuristic: return learn(m, it->first, e, false);
      case txn_phase::enlisted:
        if (m.decision != decision::abort) {
          ++stats_.dropped_stale;  // a commit without our vote: impossible from a correct coordinator
          return;
        }
        rm_.abort(it->first);
        e.phase = txn_phase::aborted;
        [[fallthrough]];
      case txn_phase::committed:
      case txn_phase::aborted: {
        const decision known = e.phase == txn_phase::committed ? decision::commit : decision::abort;
        if (known != m.decision) {
          ++stats_.dropped_stale;  // impossible from a correct peer; never acted on
          return;
        }
        // The coordinator's own presumption says whether it waits for an ack
        // (ours may have been lost, or we aborted before its prepare came).
        if (m.from == e.coordinator && known != presumed(m.presumption))
          send(make(message_type::ack, m.from, m.txn, e.coordinator));
        return;
      }
      case txn_phase::read_only:
        // Out of the transaction, but a coordinator that lost our vote still
        // waits for an ack of its abort.
        if (m.from == e.coordinator && m.decision != presumed(m.presumption))
          send(make(message_type::ack, m.from, m.txn, e.coordinator));
        return;
    }
  }

  // The decision reaches an in-doubt (or heuristically ended) transaction.
  void learn(const message& m, txn_id txn, entry& e, bool apply) {
    const decision d = m.decision;
    if (apply) {
      if (d == decision::commit) rm_.commit(txn);
      else rm_.abort(txn);
    } else {
      for (auto& h : heuristics_) {
        if (h.txn != txn) continue;
        h.outcome = d;
        if (h.mixed()) ++stats_.heuristic_hazards;
      }
    }
    e.phase = d == decision::commit ? txn_phase::committed : txn_phase::aborted;
    const bool owed = d != presumed(e.presumption);
    if (!write(record{record_kind::decided, txn, e.coordinator, static_cast<std::uint8_t>(d), {}}, owed, e)) return;
    if (owed) send(make(message_type::ack, e.coordinator, txn, e.coordinator));
  }

  void on_inquiry(const message& m) {
    auto it = txns_.find(m.txn);
    if (it == txns_.end()) return;  // nothing known here, or no right to decide
    entry& e = it->second;
    if (e.phase == txn_phase::enlisted) {
      // Not voted: abort now, durably (the answer promises never to vote yes).
      rm_.abort(it->first);
      e.phase = txn_phase::aborted;
      ++stats_.unilateral_aborts;
      if (!write(record{record_kind::decided, it->first, e.coordinator,
                        static_cast<std::uint8_t>(decision::abort), {}}, true, e))
        return;
    }
    if (e.phase == txn_phase::committed || e.phase == txn_phase::aborted)
      send_decision(message_type::decision, m.from, m.txn, e.coordinator,
                    e.phase == txn_phase::committed ? decision::commit : decision::abort);
  }

  void inquire(txn_id txn, entry& e) {
    e.ticks = 0;
    ++stats_.inquiries_sent;
    send(make(message_type::inquiry, e.coordinator, txn, e.coordinator));
    if (!opts_.cooperative_termination) return;
    for (const node_id p : e.peers)
      if (p != self_ && p != e.coordinator) send(make(message_type::inquiry, p, txn, e.coordinator));
  }

  void note_horizon(node_id coordinator, txn_id h) {
    for (auto& [c, known] : horizons_) {
      if (c != coordinator) continue;
      if (h <= known) return;
      known = h;
      return collect();
    }
    if (horizons_.size() >= opts_.max_coordinators) return;
    horizons_.emplace_back(coordinator, h);
    collect();
  }

  // Forgets what the horizons make unnecessary, persists the horizons, then
  // compacts the log prefix nothing kept refers to.
  // Only ids below the highest horizon can go, and the map is in id order:
  // the scan stops there instead of visiting every transaction held.
  void collect() {
    txn_id top = no_txn;
    for (const auto& [c, h] : horizons_) top = std::max(top, h);
    for (auto it = txns_.begin(); it != txns_.end() && it->first < top;) {
      const entry& e = it->second;
      const bool over = e.phase == txn_phase::committed || e.phase == txn_phase::aborted ||
                        e.phase == txn_phase::read_only;
      if (over && !e.reported && it->first < horizon_of(e.coordinator)) it = forget(it);
      else ++it;
    }
    buf_.clear();
    detail::packer w{buf_};
    encode_horizons(horizons_, w);
    if (auto s = log_.save_state(w.bytes()); !s) return (void)stop(s.error());
    std::uint64_t keep = keep_from();
    if (keep + opts_.max_log_span <= log_.last_index().value()) {
      relocate();
      if (!status_) return;
      keep = keep_from();
    }
    if (keep <= log_.first_index().value()) return;
    if (auto s = log_.compact(log_index{keep}); !s) (void)stop(s.error());
  }
  // The lowest first record of a held txn.
  [[nodiscard]] std::uint64_t keep_from() {
    const auto held = [this](txn_id txn, std::uint64_t at) {
      auto it = txns_.find(txn);
      return it != txns_.end() && it->second.first_record == at;
    };
    return first_records_.oldest(held, log_.last_index().value() + 1);
  }

  // A transaction in doubt for long would pin the log's prefix: its records
  // are copied forward (replay gives the same state) before the compaction.
  void relocate() {
    for (auto& kv : txns_) {
      const txn_id id = kv.first;  // a plain name: lambdas cannot capture structured bindings in C++20
      entry& e = kv.second;
      if (e.first_record == 0 || !status_) continue;
      e.first_record = 0;
      ++stats_.relocated;
      const auto h = std::find_if(heuristics_.begin(), heuristics_.end(), [&](const auto& r) { return r.txn == id; });
      if (e.phase == txn_phase::prepared || (h == heuristics_.end() && e.phase == txn_phase::heuristic)) {
        copy(record{record_kind::prepared, id, e.coordinator, static_cast<std::uint8_t>(e.presumption), e.peers}, e);
        continue;
      }
      if (h != heuristics_.end()) {
        copy(record{record_kind::prepared, id, e.coordinator, static_cast<std::uint8_t>(e.presumption), e.peers}, e);
        copy(record{record_kind::heuristic, id, e.coordinator, static_cast<std::uint8_t>(h->forced), {}}, e);
      }
      if (e.phase == txn_phase::committed || e.phase == txn_phase::aborted) {
        const decision d = e.phase == txn_phase::committed ? decision::commit : decision::abort;
        copy(record{record_kind::decided, id, e.coordinator, static_cast<std::uint8_t>(d), {}}, e);
      }
    }
  }
  void copy(const record& r, entry& e) {
    buf_.clear();
    detail::packer w{buf_};
    encode(r, w);
    auto at = log_.append(w.bytes());
    if (!at) return (void)stop(at.error());
    if (e.first_record == 0) {
      e.first_record = at->value();
      first_records_.add(e.first_record, r.txn);
    }
  }

  result<void> recover();
  void replay_one(const record& r, std::uint64_t at);

  transport_type transport_;
  log_type log_;
  clock_type clock_;
  resource_manager_type rm_;
  participant_options opts_;
  node_id self_;
  result<void> status_{};
  txn_map txns_;
  std::vector<typename txn_map::node_type> spare_;
  first_records first_records_;
  std::vector<std::pair<node_id, txn_id>> horizons_;
  std::vector<heuristic_report> heuristics_;
  participant_stats stats_;
  byte_buffer buf_;
  std::vector<node_id> recv_ids_;
  typename clock_type::time_point last_tick_{};
};

// Rebuilds from the journal: a prepared record without a decision is in
// doubt (the first tick asks for the outcome); a decision is kept as known;
// a heuristic record reopens its report.
template <class Policies>
result<void> participant<Policies>::recover() {
  QUORUM_TRY(decode_horizons(log_.state(), opts_.max_coordinators, horizons_));
  std::vector<node_id> scratch;
  for (log_index i = log_.first_index(); i <= log_.last_index(); i = i.next()) {
    auto bytes = log_.read(i);
    if (!bytes) return unexpected{bytes.error()};
    auto r = decode_record(*bytes, scratch, opts_.max_participants);
    if (!r) return fail(errc::corrupt_log, "2pc participant: undecodable record", i.value());
    if (r->kind < record_kind::prepared)
      return fail(errc::corrupt_log, "2pc participant: a coordinator's record in its log", i.value());
    replay_one(*r, i.value());
  }
  for (auto& [id, e] : txns_) {
    if (e.phase != txn_phase::prepared && e.phase != txn_phase::heuristic) continue;
    if (e.phase == txn_phase::prepared) ++stats_.in_doubt_recovered;
    e.ticks = opts_.inquiry_ticks;  // ask at the first tick
  }
  return {};
}

template <class Policies>
void participant<Policies>::replay_one(const record& r, std::uint64_t at) {
  entry& e = txns_[r.txn];
  if (e.first_record == 0) {
    e.first_record = at;
    first_records_.add(at, r.txn);
  }
  e.coordinator = r.node;
  const auto d = static_cast<decision>(r.value);
  switch (r.kind) {
    case record_kind::prepared:
      e.phase = txn_phase::prepared;
      e.presumption = static_cast<presumption>(r.value);
      e.peers.assign(r.nodes.begin(), r.nodes.end());
      break;
    case record_kind::decided:
      e.phase = d == decision::commit ? txn_phase::committed : txn_phase::aborted;
      for (auto& h : heuristics_)
        if (h.txn == r.txn) h.outcome = d;
      break;
    case record_kind::heuristic:
      e.phase = txn_phase::heuristic;
      e.reported = true;
      heuristics_.push_back(heuristic_report{r.txn, d, std::nullopt});
      break;
    case record_kind::forgotten:
      e.reported = false;
      std::erase_if(heuristics_, [&](const heuristic_report& h) { return h.txn == r.txn; });
      break;
    default: break;
  }
}

}  // namespace quorum::two_phase_commit
