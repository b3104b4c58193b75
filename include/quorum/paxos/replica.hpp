// The acceptor and learner half of a Multi-Paxos node: the durable promise
// and journal, the answers that leave only after the sync that makes them
// true, and the chosen values learned (from the leader's watermark or by
// catching up) and applied in slot order. node.hpp adds the proposer's roles.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/random.hpp"
#include "quorum/core/result.hpp"
#include "quorum/paxos/entry_batch.hpp"
#include "quorum/paxos/journal.hpp"
#include "quorum/paxos/message.hpp"
#include "quorum/paxos/options.hpp"
#include "quorum/paxos/policies.hpp"
#include "quorum/paxos/quorums.hpp"
#include "quorum/paxos/status.hpp"

namespace quorum::paxos {

template <class Policies>
class replica {
  static_assert(check_policies<Policies>());

 public:
  using transport_type = typename Policies::transport;
  using log_type = typename Policies::log;
  using clock_type = typename Policies::clock;
  using state_machine_type = typename Policies::state_machine;

  [[nodiscard]] static result<void> validate_config(node_id self, std::span<const node_id> members, const options& o) {
    if (auto r = validate(o); !r) return r;
    return membership::validate(self, members, o.phase1_quorum, o.phase2_quorum);
  }

  [[nodiscard]] const result<void>& status() const noexcept { return status_; }
  [[nodiscard]] node_id id() const noexcept { return self_; }
  [[nodiscard]] ballot promised() const noexcept { return promised_; }
  // Every slot up to here is known chosen: the commit index of Raft.
  [[nodiscard]] log_index commit_index() const noexcept { return journal_.watermark(); }
  [[nodiscard]] log_index applied_index() const noexcept { return applied_; }
  [[nodiscard]] log_index last_index() const noexcept { return journal_.known_end(); }
  [[nodiscard]] const typename journal<log_type>::slot_state* slot(log_index s) const noexcept { return journal_.at(s); }
  // The value held for slot s (accepted or chosen); views the Log until the next call.
  [[nodiscard]] result<entry> value_at(log_index s) { return journal_.read(s); }
  [[nodiscard]] std::span<const node_id> members() const noexcept { return members_.members(); }
  [[nodiscard]] const node_stats& stats() const noexcept { return stats_; }
  [[nodiscard]] transport_type& transport() noexcept { return transport_; }
  [[nodiscard]] log_type& log() noexcept { return journal_.policy(); }
  [[nodiscard]] clock_type& clock() noexcept { return clock_; }
  [[nodiscard]] state_machine_type& state_machine() noexcept { return fsm_; }

 protected:
  struct reply {
    node_id to;
    message_type type;
    ballot bal;
    log_index first;
    log_index last;
  };

  // A configuration or a stored state that cannot work leaves the node inert:
  // status() says why.
  replica(node_id self, std::span<const node_id> members, transport_type transport, log_type log, clock_type clock,
          state_machine_type state_machine, const options& opts)
      : transport_{std::move(transport)}, journal_{std::move(log)}, clock_{std::move(clock)},
        fsm_{std::move(state_machine)}, opts_{opts}, self_{self} {
    status_ = validate_config(self, members, opts);
    if (!status_) return;
    members_ = membership{self, members, opts.phase1_quorum, opts.phase2_quorum};
    limits_.max_entries = std::max<std::size_t>(limits_.max_entries, opts_.max_entries_per_message);
    limits_.max_entry_bytes = opts_.max_command_bytes;
    std::uint64_t mix = opts_.seed ^ (self_.value() * 0x9e3779b97f4a7c15ULL);
    rng_.reseed(splitmix64(mix));
    // An acceptor never takes a slot more than max_slot_gap past what it
    // holds, so a journal's slots stay under this: a damaged slot number
    // cannot make recovery size its index by it.
    const std::uint64_t records = journal_.policy().last_index().value() + 2;
    const std::uint64_t max_slot = records > all_slots.value() / opts_.max_slot_gap ? all_slots.value() : records * opts_.max_slot_gap;
    if (auto p = journal_.recover(max_slot); !p) {
      status_ = unexpected{p.error()};
    } else {
      promised_ = *p;
    }
  }

  // Whether an accept is one a correct leader could send: a run of
  // consecutive slots at its own ballot (the answer names the run by its
  // ends, so anything else could not be answered truly), within the gap.
  bool well_formed_accept(const message& m) {
    if (m.entries.empty()) return static_cast<void>(++stats_.dropped_malformed), false;
    const log_index limit = journal_.known_end() + opts_.max_slot_gap;
    for (std::size_t k = 0; k < m.entries.size(); ++k) {
      const entry& e = m.entries[k];
      if (e.bal != m.bal || e.slot != m.entries.front().slot + k) return static_cast<void>(++stats_.dropped_malformed), false;
      if (e.slot > limit) return static_cast<void>(++stats_.dropped_out_of_window), false;
    }
    return true;
  }

  // Phase 2b: journals the run (at or above our promise) and queues the answer.
  void accept_run(const message& m) {
    if (!raise_promise(m.bal)) return;
    for (const entry& e : m.entries) {
      const auto* st = journal_.at(e.slot);
      if (st == nullptr || st->position == log_index{} || st->accepted != m.bal) {
        if (auto r = journal_.write(record_kind::accepted, e); !r) return static_cast<void>(set_failed(r.error()));
      }
    }
    replies_.push_back(reply{m.from, message_type::accepted, m.bal, m.entries.front().slot, m.entries.back().slot});
  }

  // Tells a proposer below our promise about it, so that it stops (and a
  // deposed leader learns it was deposed).
  void reject(const message& m) {
    ++stats_.dropped_stale;
    const message_type type = m.type == message_type::prepare  ? message_type::promise
                              : m.type == message_type::accept ? message_type::accepted
                                                               : message_type::heartbeat_response;
    message r = outgoing(type, m.from, promised_);
    r.reject = true;
    r.commit = journal_.watermark();
    transport_.send(r.to, r);
  }

  bool raise_promise(ballot b) {
    if (b <= promised_) return true;
    promised_ = b;
    if (auto r = journal_.save_promise(b); !r) return set_failed(r.error());
    return true;
  }

  // Slots up to the leader's watermark are chosen, and where we accepted
  // its ballot we hold the value it proposed there, which is the chosen one
  // (a leader proposes below its watermark only values known chosen). Only
  // the proposer of m.bal may be trusted so: catch-up answers are not.
  void learn_commit(const message& m) {
    const log_index top = std::min(m.commit, journal_.known_end());
    for (log_index s = journal_.watermark().next(); s <= top; s = s.next()) {
      const auto* st = journal_.at(s);
      if (!st->chosen && st->position != log_index{} && st->accepted == m.bal) journal_.mark_chosen(s);
    }
    journal_.advance();
    if (catchup_wait_ == 0) request_catchup(m.from, m.commit);
  }

  void request_catchup(node_id from, log_index commit) {
    if (journal_.watermark() >= commit) return;
    catchup_wait_ = opts_.retransmit_ticks;
    message r = outgoing(message_type::catchup_request, from, promised_);
    r.slot = journal_.watermark().next();
    r.index = commit;
    transport_.send(r.to, r);
  }

  void on_catchup_request(const message& m) {
    if (m.slot == log_index{} || m.slot > journal_.watermark()) return;
    auto c = journal_.collect_range(m.slot, journal_.watermark(), batch_, opts_.max_entries_per_message,
                                    opts_.max_bytes_per_message, ballot{}, [](log_index) { return false; });
    if (!c) return static_cast<void>(set_failed(c.error()));
    if (batch_.empty()) return;
    message r = outgoing(message_type::catchup, m.from, promised_);
    r.slot = m.slot;
    r.commit = journal_.watermark();
    r.entries = batch_.views();
    r.index = r.entries.back().slot;
    transport_.send(r.to, r);
  }

  void on_catchup(const message& m) {
    const log_index limit = journal_.known_end() + opts_.max_slot_gap;
    for (const entry& e : m.entries) {
      if (e.slot > limit) return static_cast<void>(++stats_.dropped_out_of_window);
      if (e.bal.round == 0) return static_cast<void>(++stats_.dropped_malformed);
    }
    for (const entry& e : m.entries) {
      const auto* st = journal_.at(e.slot);
      if (st != nullptr && st->chosen) continue;
      if (auto r = journal_.write(record_kind::chosen, e); !r) return static_cast<void>(set_failed(r.error()));
    }
    journal_.advance();
    catchup_wait_ = 0;
    request_catchup(m.from, m.commit);  // more to fetch: ask again now
  }

  // ---- answers after the sync ---------------------------------------------

  void send_pending_replies() {
    for (const reply& r : replies_) {
      if (r.type == message_type::promise) send_promise(r);
      else send_accepted(r);
    }
    replies_.clear();
  }

  // A promise superseded by a higher one is not sent: its proposer will
  // hear a reject when it asks again.
  void send_promise(const reply& r) {
    if (promised_ != r.bal || !status_) return;
    auto bound = journal_.collect_held(r.first, batch_, opts_.max_entries_per_message, opts_.max_bytes_per_message);
    if (!bound) return static_cast<void>(set_failed(bound.error()));
    message m = outgoing(message_type::promise, r.to, r.bal);
    m.slot = r.first;
    m.index = *bound;
    m.commit = journal_.watermark();
    m.entries = batch_.views();
    transport_.send(m.to, m);
  }

  void send_accepted(const reply& r) {
    message m = outgoing(message_type::accepted, r.to, r.bal);
    m.slot = r.first;
    m.index = r.last;
    m.commit = journal_.watermark();
    transport_.send(m.to, m);
  }

  void apply_chosen() {
    while (applied_ < journal_.watermark() && status_) {
      const log_index s = applied_.next();
      auto e = journal_.read(s);
      if (!e) return static_cast<void>(set_failed(e.error()));
      applied_ = s;
      if (e->kind == entry_kind::normal) fsm_.apply(s, e->data);
    }
  }

  // ---- plumbing ------------------------------------------------------------

  [[nodiscard]] message outgoing(message_type type, node_id to, ballot b) const noexcept {
    message m;
    m.type = type;
    m.from = self_;
    m.to = to;
    m.bal = b;
    return m;
  }

  bool sync_now() {
    if (!status_) return false;
    ++stats_.syncs;
    if (auto r = journal_.sync(); !r) return set_failed(r.error());
    return true;
  }

  // A Log that fails cannot keep any promise: the node stops and says why.
  bool set_failed(const error& e) {
    status_ = unexpected{e};
    return false;
  }

  [[no_unique_address]] transport_type transport_;
  journal<log_type> journal_;
  [[no_unique_address]] clock_type clock_;
  [[no_unique_address]] state_machine_type fsm_;
  options opts_;
  message_limits limits_{};
  node_id self_;
  membership members_;
  ballot promised_{};  // durable: no accept or prepare below it is honoured
  log_index applied_{};
  std::vector<reply> replies_;  // answers waiting for the next sync
  std::uint32_t catchup_wait_{0};
  seeded_random rng_;
  entry_batch batch_;
  result<void> status_{};
  node_stats stats_{};
  std::vector<entry> recv_entries_;
};

}  // namespace quorum::paxos
