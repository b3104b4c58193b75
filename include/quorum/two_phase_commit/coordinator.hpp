// quorum::two_phase_commit::coordinator: the transaction manager side of
// two-phase commit as a sans-I/O state machine over Transport, Log and Clock.
// Presumed abort (default) or presumed commit, read-only participants,
// one-phase commit, vote timeouts, retries, and recovery from its Log.
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

// Forced and lazy writes follow Mohan, Lindsay & Obermarck (1986). Presumed
// abort: the commit record is forced before any commit message, an end record
// follows the last ack lazily, and an abort writes nothing (no record means
// abort). Presumed commit: a collecting record naming the participants is
// forced before any prepare, the commit record is forced and needs no acks,
// and an abort is written lazily (the collecting record already makes
// recovery abort) and acknowledged. Transaction ids must increase: the
// horizon every message carries (the lowest id that still needs something
// from its receiver) lets participants forget finished transactions and
// refuse their stale prepares.
template <class Policies>
class coordinator {
  static_assert(check_coordinator_policies<Policies>());

 public:
  using transport_type = typename Policies::transport;
  using log_type = typename Policies::log;
  using clock_type = typename Policies::clock;

  // Options that cannot work, or a log that cannot be read, leave the
  // coordinator inert: status() says why, begin() returns that error.
  coordinator(node_id self, transport_type transport, log_type log, clock_type clock,
              coordinator_options opts = {})
      : transport_{std::move(transport)}, log_{std::move(log)}, clock_{std::move(clock)}, opts_{opts}, self_{self} {
    status_ = validate(opts_);
    if (status_ && self_ == no_node) status_ = fail(errc::invalid_config, "2pc coordinator: node id 0 is reserved");
    if (status_) status_ = recover();
  }

  // Starts committing txn across participants (distinct, not this node).
  // Errors: invalid_argument, too_large, stale (txn not above every txn begun
  // before), busy (max_open_transactions or max_unread_decisions reached).
  result<void> begin(txn_id txn, std::span<const node_id> participants) {
    if (!status_) return unexpected{status_.error()};
    QUORUM_TRY(check_begin(txn, participants));
    max_begun_ = txn;
    save_max_begun();
    ++stats_.begun;
    txn_state& t = open_slot(txn);
    t.participants.assign(participants.begin(), participants.end());
    t.state.assign(participants.size(), waiting);
    t.one_phase = opts_.one_phase && participants.size() == 1;
    t.last_held = opts_.last_agent && participants.size() > 1;
    if (!t.one_phase && opts_.presumption == presumption::commit) {
      if (!write(record{record_kind::collecting, txn, self_, pres_value(), t.participants}, true, t)) return status_;
    }
    send_requests(txn, t);
    return {};
  }

  void tick() {
    if (!status_) return;
    last_tick_ = clock_.now();
    scratch_ids_.clear();
    for (auto& [id, t] : open_) {
      ++t.since_send;
      if (t.ph == phase::collecting && !t.one_phase && ++t.since_begin >= opts_.vote_timeout_ticks) {
        scratch_ids_.push_back(id);
        continue;
      }
      if (t.since_send < opts_.retry_ticks) continue;
      if (t.ph == phase::collecting) send_requests(id, t);
      else send_decision(id, t);
    }
    for (const txn_id id : scratch_ids_) {
      auto it = open_.find(id);
      if (it == open_.end()) continue;
      ++stats_.vote_timeouts;
      decide(it, decision::abort);
      if (!status_) return;
    }
  }

  void receive(const message& m) {
    if (!status_) return;
    if (m.to != self_ || m.from == self_) {
      ++stats_.dropped_misrouted;
      return;
    }
    switch (m.type) {
      case message_type::vote: on_vote(m); break;
      case message_type::ack: on_ack(m); break;
      case message_type::inquiry: on_inquiry(m); break;
      case message_type::outcome: on_outcome(m); break;
      default: ++stats_.dropped_misrouted; break;
    }
  }

  // Decodes and receives; bytes that are no message are counted and dropped.
  void receive(byte_view bytes) {
    if (!status_) return;
    auto m = decode(bytes, recv_ids_, limits());
    if (m) receive(*m);
    else ++stats_.dropped_malformed;
  }

  // Decisions reached since the last clear_decisions(), in order; after a
  // restart, those the log shows unfinished are reported again.
  [[nodiscard]] std::span<const decided_txn> decisions() const noexcept { return decisions_; }
  void clear_decisions() noexcept { decisions_.clear(); }

  // The decision of an open transaction, if reached.
  [[nodiscard]] std::optional<decision> decision_of(txn_id txn) const {
    auto it = open_.find(txn);
    if (it == open_.end() || it->second.ph == phase::collecting) return std::nullopt;
    return it->second.d;
  }
  [[nodiscard]] bool is_open(txn_id txn) const { return open_.count(txn) != 0; }
  [[nodiscard]] std::size_t open_transactions() const noexcept { return open_.size(); }
  // Every txn id below it has finished here.
  [[nodiscard]] txn_id horizon() const noexcept {
    return open_.empty() ? txn_id{max_begun_.value() + 1} : open_.begin()->first;
  }
  // What participant n is told: below it, no transaction needs anything more
  // from n (its vote is counted, its ack is in, or the txn is over), so n may
  // forget those and refuse their stale prepares. Per participant, so one
  // transaction stuck on a down participant does not pin everyone's memory.
  [[nodiscard]] txn_id horizon_for(node_id n) const {
    for (const auto& [id, t] : open_) {
      const std::size_t i = position_of(t, n);
      if (i < t.participants.size() && (t.state[i] == waiting || t.state[i] == voted_yes)) return id;
    }
    return txn_id{max_begun_.value() + 1};
  }
  [[nodiscard]] txn_id last_begun() const noexcept { return max_begun_; }
  [[nodiscard]] const result<void>& status() const noexcept { return status_; }
  [[nodiscard]] node_id id() const noexcept { return self_; }
  [[nodiscard]] const coordinator_stats& stats() const noexcept { return stats_; }
  [[nodiscard]] const coordinator_options& options() const noexcept { return opts_; }
  [[nodiscard]] typename clock_type::time_point last_tick_time() const noexcept { return last_tick_; }
  [[nodiscard]] transport_type& transport() noexcept { return transport_; }
  [[nodiscard]] log_type& log() noexcept { return log_; }
  [[nodiscard]] clock_type& clock() noexcept { return clock_; }

 private:
  enum class phase : std::uint8_t { collecting, deciding };
  // Per participant: what the coordinator knows of it.
  static constexpr std::uint8_t waiting = 0, voted_yes = 1, voted_read_only = 2, voted_no = 3, done = 4;

  struct txn_state {
    phase ph{phase::collecting};
    decision d{decision::abort};
    bool one_phase{false};
    bool last_held{false};  // last agent: the last participant is asked only after the others
    bool needs_end{false};  // an end record must follow the last ack
    std::vector<node_id> participants;
    std::vector<std::uint8_t> state;
    std::uint32_t since_begin{0};
    std::uint32_t since_send{0};
    std::uint64_t first_record{0};  // log position of its first record; 0: none

    // As new, but the vectors keep their capacity.
    void reset() noexcept {
      ph = phase::collecting;
      d = decision::abort;
      one_phase = last_held = needs_end = false;
      participants.clear();
      state.clear();
      since_begin = since_send = 0;
      first_record = 0;
    }
  };
  using txn_map = std::map<txn_id, txn_state>;

  // A finished transaction's map node (and its vectors) is kept for the next
  // begin(), so a steady state allocates nothing (DESIGN.md principle 3).
  // Never more spares than max_open_transactions: the peak stays the bound.
  txn_state& open_slot(txn_id txn) {
    if (spare_.empty()) return open_[txn];
    typename txn_map::node_type n = std::move(spare_.back());
    spare_.pop_back();
    n.key() = txn;
    n.mapped().reset();
    return open_.insert(std::move(n)).position->second;
  }
  void retire(typename txn_map::iterator it) {
    if (spare_.size() < opts_.max_open_transactions) spare_.push_back(open_.extract(it));
    else open_.erase(it);
  }

  [[nodiscard]] message_limits limits() const noexcept { return message_limits{opts_.max_participants}; }
  [[nodiscard]] std::uint8_t pres_value() const noexcept { return static_cast<std::uint8_t>(opts_.presumption); }

  result<void> check_begin(txn_id txn, std::span<const node_id> ps) {
    if (txn == no_txn) return fail(errc::invalid_argument, "2pc begin: txn id 0 is reserved");
    if (txn <= max_begun_) return fail(errc::stale, "2pc begin: txn ids must increase", max_begun_.value());
    if (ps.empty()) return fail(errc::invalid_argument, "2pc begin: no participants");
    if (ps.size() > opts_.max_participants)
      return fail(errc::too_large, "2pc begin: over max_participants", opts_.max_participants);
    for (std::size_t i = 0; i < ps.size(); ++i) {
      if (ps[i] == no_node || ps[i] == self_)
        return fail(errc::invalid_argument, "2pc begin: participant 0 or the coordinator itself", ps[i].value());
      for (std::size_t j = 0; j < i; ++j)
        if (ps[j] == ps[i]) return fail(errc::invalid_argument, "2pc begin: duplicate participant", ps[i].value());
    }
    if (open_.size() >= opts_.max_open_transactions || decisions_.size() >= opts_.max_unread_decisions) {
      ++stats_.refused_busy;
      return fail(errc::busy, "2pc begin: max_open_transactions or max_unread_decisions reached",
                  opts_.max_open_transactions);
    }
    return {};
  }

  [[nodiscard]] std::size_t position_of(const txn_state& t, node_id n) const noexcept {
    for (std::size_t i = 0; i < t.participants.size(); ++i)
      if (t.participants[i] == n) return i;
    return t.participants.size();
  }

  message make(message_type type, node_id to, txn_id txn) const {
    message m;
    m.type = type;
    m.from = self_;
    m.to = to;
    m.txn = txn;
    m.coordinator = self_;
    m.horizon = horizon_for(to);
    m.presumption = opts_.presumption;
    return m;
  }
  void send(const message& m) {
    ++stats_.messages_sent;
    transport_.send(m.to, m);
  }

  // Prepare (or the one-phase request) to every participant that has not voted.
  void send_requests(txn_id txn, txn_state& t) {
    t.since_send = 0;
    for (std::size_t i = 0; i < t.participants.size(); ++i) {
      if (t.state[i] != waiting || (t.last_held && i + 1 == t.participants.size())) continue;
      message m = make(t.one_phase ? message_type::one_phase : message_type::prepare, t.participants[i], txn);
      if (!t.one_phase) m.participants = t.participants;
      send(m);
    }
  }

  // The decision to every participant still owed it.
  void send_decision(txn_id txn, txn_state& t) {
    t.since_send = 0;
    for (std::size_t i = 0; i < t.participants.size(); ++i) {
      if (t.state[i] == done) continue;
      message m = make(message_type::decision, t.participants[i], txn);
      m.decision = t.d;
      send(m);
    }
  }

  // Appends r; with force, syncs before returning (DESIGN.md principle 5).
  // A Log failure stops the coordinator: nothing it promised can be trusted.
  bool write(const record& r, bool force, txn_state& t, bool counted = true) {
    buf_.clear();
    detail::packer w{buf_};
    encode(r, w);
    auto at = log_.append(w.bytes());
    if (!at) return stop(at.error());
    if (t.first_record == 0) {
      t.first_record = at->value();
      first_records_.add(t.first_record, r.txn);
    }
    if (!force) {
      stats_.lazy_writes += counted ? 1 : 0;
      return true;
    }
    ++stats_.forced_writes;
    return sync_now();
  }
  bool sync_now() {
    ++stats_.syncs;
    if (auto s = log_.sync(); !s) return stop(s.error());
    return true;
  }
  bool stop(const error& e) {
    ++stats_.log_errors;
    status_ = unexpected{e};
    return false;
  }

  void save_max_begun() {
    buf_.clear();
    const std::pair<node_id, txn_id> hs[] = {{self_, max_begun_}};
    detail::packer w{buf_};
    encode_horizons(hs, w);
    if (auto s = log_.save_state(w.bytes()); !s) (void)stop(s.error());
  }

  void on_vote(const message& m) {
    auto it = open_.find(m.txn);
    if (it == open_.end() || it->second.ph != phase::collecting || it->second.one_phase) {
      ++stats_.dropped_stale;
      return;
    }
    txn_state& t = it->second;
    const std::size_t i = position_of(t, m.from);
    if (i == t.participants.size()) {
      ++stats_.dropped_stale;
      return;
    }
    if (t.state[i] != waiting) return;  // a duplicate: the first vote counts
    t.state[i] = m.vote == vote::yes ? voted_yes : m.vote == vote::read_only ? voted_read_only : voted_no;
    if (m.vote == vote::no) return decide(it, decision::abort);
    const auto asked_end = t.state.end() - (t.last_held ? 1 : 0);
    if (std::any_of(t.state.begin(), asked_end, [](std::uint8_t s) { return s == waiting; })) return;
    if (t.last_held) return ask_last_agent(txn_of(it), t);
    decide(it, decision::commit);
  }

  // Every other participant has voted: if all of them changed nothing, the
  // last is the single updating participant and commits in one phase.
  void ask_last_agent(txn_id txn, txn_state& t) {
    t.last_held = false;
    t.one_phase = std::all_of(t.state.begin(), t.state.end() - 1, [](std::uint8_t s) { return s == voted_read_only; });
    send_requests(txn, t);
  }
  static txn_id txn_of(typename txn_map::iterator it) noexcept { return it->first; }

  // The participants that still need to hear d: yes voters, and (abort) those
  // that never voted. Everyone else is marked done.
  static bool mark_targets(txn_state& t) {
    bool any = false;
    for (auto& s : t.state) {
      const bool target = s == voted_yes || (t.d == decision::abort && s == waiting);
      s = target ? waiting : done;
      any = any || target;
    }
    return any;
  }

  void decide(typename txn_map::iterator it, decision d) {
    const txn_id txn = it->first;
    txn_state& t = it->second;
    t.ph = phase::deciding;
    t.d = d;
    const bool any = mark_targets(t);
    scratch_nodes_.clear();
    for (std::size_t i = 0; i < t.participants.size(); ++i)
      if (t.state[i] == waiting) scratch_nodes_.push_back(t.participants[i]);
    const bool acks = d != presumed(opts_.presumption);
    if (d == decision::commit && (any || opts_.presumption == presumption::commit)) {
      if (!write(record{record_kind::committed, txn, self_, pres_value(), scratch_nodes_}, true, t)) return;
    } else if (d == decision::abort && opts_.presumption == presumption::commit && any) {
      if (!write(record{record_kind::aborted, txn, self_, pres_value(), scratch_nodes_}, false, t)) return;
    }
    report(txn, d);
    if (any) send_decision(txn, t);
    // An end record closes every record but presumed commit's commit record,
    // which is final by itself.
    t.needs_end = t.first_record != 0 && !(d == decision::commit && opts_.presumption == presumption::commit);
    if (!acks || !any) finish(it);
  }

  void report(txn_id txn, decision d) {
    decisions_.push_back(decided_txn{txn, d});
    ++(d == decision::commit ? stats_.commits : stats_.aborts);
  }

  void on_ack(const message& m) {
    auto it = open_.find(m.txn);
    if (it == open_.end() || it->second.ph != phase::deciding) {
      ++stats_.dropped_stale;
      return;
    }
    txn_state& t = it->second;
    const std::size_t i = position_of(t, m.from);
    if (i == t.participants.size()) {
      ++stats_.dropped_stale;
      return;
    }
    t.state[i] = done;
    if (std::all_of(t.state.begin(), t.state.end(), [](std::uint8_t s) { return s == done; })) finish(it);
  }

  void on_inquiry(const message& m) {
    auto it = open_.find(m.txn);
    message r = make(message_type::decision, m.from, m.txn);
    if (it == open_.end()) {
      r.decision = presumed(opts_.presumption);  // no record: the presumption is the answer
    } else if (it->second.ph == phase::deciding) {
      r.decision = it->second.d;
    } else {
      return;  // still collecting votes: nothing to tell yet
    }
    send(r);
  }

  void on_outcome(const message& m) {
    auto it = open_.find(m.txn);
    if (it == open_.end() || !it->second.one_phase || it->second.participants.back() != m.from) {
      ++stats_.dropped_stale;
      return;
    }
    it->second.ph = phase::deciding;
    it->second.d = m.decision;
    report(m.txn, m.decision);
    finish(it);
  }

  // The txn is over here: an end record if one is owed, then it leaves the
  // open set, and the log prefix no open txn needs is compacted away.
  void finish(typename txn_map::iterator it) {
    if (it->second.needs_end &&
        !write(record{record_kind::ended, it->first, self_, pres_value(), {}}, false, it->second))
      return;
    retire(it);
    compact();
  }

  // A transaction open for long (a participant down) would pin the log's
  // prefix: past max_log_span its state is copied forward first, so the log
  // stays bounded. A crash keeps a prefix of the calls, so a compaction that
  // survives comes with the copies made before it.
  void compact() {
    std::uint64_t keep = keep_from();
    if (keep + opts_.max_log_span <= log_.last_index().value()) {
      relocate();
      if (!status_) return;
      keep = keep_from();
    }
    if (keep <= log_.first_index().value()) return;
    if (auto s = log_.compact(log_index{keep}); !s) (void)stop(s.error());
  }
  // The lowest first record of an open txn.
  [[nodiscard]] std::uint64_t keep_from() {
    const auto held = [this](txn_id txn, std::uint64_t at) {
      auto it = open_.find(txn);
      return it != open_.end() && it->second.first_record == at;
    };
    return first_records_.oldest(held, log_.last_index().value() + 1);
  }
  void relocate() {
    for (auto& [id, t] : open_) {
      if (t.first_record == 0) continue;
      t.first_record = 0;
      ++stats_.relocated;
      if (t.ph == phase::collecting) {
        (void)write(record{record_kind::collecting, id, self_, pres_value(), t.participants}, false, t, false);
        continue;
      }
      scratch_nodes_.clear();
      for (std::size_t i = 0; i < t.participants.size(); ++i)
        if (t.state[i] != done) scratch_nodes_.push_back(t.participants[i]);
      const record_kind k = t.d == decision::commit ? record_kind::committed : record_kind::aborted;
      (void)write(record{k, id, self_, pres_value(), scratch_nodes_}, false, t, false);
    }
  }

  result<void> recover();
  result<void> replay(txn_map& found, std::map<txn_id, std::uint8_t>& ended);
  void resume(txn_id txn, txn_state& t, std::span<const node_id> owed, decision d);

  transport_type transport_;
  log_type log_;
  clock_type clock_;
  coordinator_options opts_;
  node_id self_;
  result<void> status_{};
  txn_map open_;
  std::vector<typename txn_map::node_type> spare_;
  first_records first_records_;
  txn_id max_begun_{};
  std::vector<decided_txn> decisions_;
  coordinator_stats stats_;
  byte_buffer buf_;
  std::vector<node_id> recv_ids_;
  std::vector<node_id> scratch_nodes_;
  std::vector<txn_id> scratch_ids_;
  typename clock_type::time_point last_tick_{};
};

// Rebuilds the open set from the journal: presumed abort resumes every commit
// without an end record (re-sending commit until all ack); presumed commit
// resumes every collecting record without a decision, and every abort without
// an end record, as an abort (re-sent until all ack). The rest is finished.
template <class Policies>
result<void> coordinator<Policies>::recover() {
  std::vector<std::pair<node_id, txn_id>> hs;
  QUORUM_TRY(decode_horizons(log_.state(), 1, hs));
  if (!hs.empty()) max_begun_ = hs.front().second;
  txn_map found;
  std::map<txn_id, std::uint8_t> ended;
  QUORUM_TRY(replay(found, ended));
  for (auto& [id, t] : found) {
    max_begun_ = std::max(max_begun_, id);
    const bool pa = t.needs_end;  // replay() keeps the record's presumption here
    if (ended.count(id) != 0) continue;
    if (t.ph == phase::deciding && t.d == decision::commit && !pa) continue;  // presumed commit: final
    txn_state& r = open_[id];
    r.first_record = t.first_record;
    resume(id, r, t.participants, t.ph == phase::deciding ? t.d : decision::abort);
    ++stats_.recovered;
  }
  std::vector<std::pair<std::uint64_t, txn_id>> firsts;
  for (const auto& [id, t] : open_)
    if (t.first_record != 0) firsts.emplace_back(t.first_record, id);
  std::sort(firsts.begin(), firsts.end());
  for (const auto& [at, id] : firsts) first_records_.add(at, id);
  return {};
}

template <class Policies>
result<void> coordinator<Policies>::replay(txn_map& found, std::map<txn_id, std::uint8_t>& ended) {
  std::vector<node_id> scratch;
  for (log_index i = log_.first_index(); i <= log_.last_index(); i = i.next()) {
    auto bytes = log_.read(i);
    if (!bytes) return unexpected{bytes.error()};
    auto r = decode_record(*bytes, scratch, opts_.max_participants);
    if (!r) return fail(errc::corrupt_log, "2pc coordinator: undecodable record", i.value());
    if (r->kind == record_kind::ended) {
      ended[r->txn] = 1;
      continue;
    }
    if (r->kind != record_kind::collecting && r->kind != record_kind::committed && r->kind != record_kind::aborted)
      return fail(errc::corrupt_log, "2pc coordinator: a participant's record in its log", i.value());
    txn_state& t = found[r->txn];
    if (t.first_record == 0) t.first_record = i.value();
    t.needs_end = r->value == static_cast<std::uint8_t>(presumption::abort);
    if (r->kind == record_kind::collecting) {
      t.participants.assign(r->nodes.begin(), r->nodes.end());
    } else {
      t.ph = phase::deciding;
      t.d = r->kind == record_kind::committed ? decision::commit : decision::abort;
      t.participants.assign(r->nodes.begin(), r->nodes.end());
    }
  }
  return {};
}

template <class Policies>
void coordinator<Policies>::resume(txn_id txn, txn_state& t, std::span<const node_id> owed, decision d) {
  t.ph = phase::deciding;
  t.d = d;
  t.participants.assign(owed.begin(), owed.end());
  t.state.assign(owed.size(), waiting);
  t.needs_end = true;
  t.since_send = opts_.retry_ticks;  // the first tick re-sends the decision
  decisions_.push_back(decided_txn{txn, d});
}

}  // namespace quorum::two_phase_commit
