// The acceptor and learner half of a Multi-Paxos node: the durable promise
// and journal, the answers that leave only after the sync that makes them
// true, and the chosen values learned (from the leader's watermark or by
// catching up) and applied in slot order, configuration commands included:
// the node applies those itself (config_history.hpp). node.hpp adds the
// proposer's roles.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "quorum/core/apply_ahead.hpp"
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
#include "quorum/paxos/policies.hpp"
#include "quorum/paxos/proposal_stage.hpp"
#include "quorum/paxos/quorums.hpp"
#include "quorum/paxos/snapshot.hpp"
#include "quorum/paxos/state_machine.hpp"
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
  using snapshot_store_type = typename snapshot_store_of<Policies>::type;
  // Snapshots need both a store and a state machine that can write and restore one.
  static constexpr bool can_snapshot =
      SnapshottingStateMachine<state_machine_type> && !std::is_same_v<snapshot_store_type, no_snapshot_store>;

  // members: the bootstrap configuration (every one a voter, this node
  // among them), or empty for a node joining a running group: it learns its
  // configuration from the log or a snapshot, and never leads before.
  [[nodiscard]] static result<void> validate_config(node_id self, std::span<const node_id> members, const options& o) {
    if (auto r = validate(o); !r) return r;
    if (members.empty()) {
      if (self == no_node) return fail(errc::invalid_config, "paxos: node id 0 is reserved for 'no node'");
      return {};
    }
    return paxos::membership::validate(self, members, o.phase1_quorum, o.phase2_quorum);
  }

  [[nodiscard]] const result<void>& status() const noexcept { return status_; }
  [[nodiscard]] node_id id() const noexcept { return self_; }
  [[nodiscard]] ballot promised() const noexcept { return promised_; }
  // Every slot up to here is known chosen: the commit index of Raft.
  [[nodiscard]] log_index commit_index() const noexcept { return journal_.watermark(); }
  [[nodiscard]] log_index applied_index() const noexcept { return applied_; }
  // The highest slot this node holds anything for. A proposal made inside a
  // batch() is journalled as the batch ends (or at the node's next call but
  // propose()): until then last_index(), slot() and the Log do not show it.
  [[nodiscard]] log_index last_index() const noexcept { return journal_.known_end(); }
  [[nodiscard]] std::optional<typename journal<log_type>::slot_state> slot(log_index s) const noexcept {
    return journal_.at(s);
  }
  // Entries in the slot index (a stretch of settled slots counts one).
  [[nodiscard]] std::size_t index_entries() const noexcept { return journal_.index_entries(); }
  // The value held for slot s (accepted or chosen); views the Log until the next call.
  [[nodiscard]] result<entry> value_at(log_index s) {
    if (!write_staged()) return unexpected{status_.error()};
    return journal_.read(s);
  }
  // The latest configuration this node knows chosen (maybe not in force
  // yet), and the slot of its command (0: the bootstrap configuration).
  [[nodiscard]] const paxos::configuration& membership() const noexcept { return configs_.latest().stamp.config; }
  [[nodiscard]] log_index membership_index() const noexcept { return configs_.latest().stamp.chosen_at; }
  // The configuration in force at slot s, for s past the applied slot (earlier ones are forgotten).
  [[nodiscard]] const paxos::configuration& membership_at(log_index s) const noexcept {
    return configs_.at(s).stamp.config;
  }
  // Voters and learners of the configuration in force at the next slot to apply.
  [[nodiscard]] std::vector<node_id> members() const {
    const paxos::configuration& c = configs_.at(applied_.next()).stamp.config;
    std::vector<node_id> out{c.voters};
    out.insert(out.end(), c.learners.begin(), c.learners.end());
    std::sort(out.begin(), out.end());
    return out;
  }
  [[nodiscard]] const node_stats& stats() const noexcept { return stats_; }
  [[nodiscard]] transport_type& transport() noexcept { return transport_; }
  [[nodiscard]] log_type& log() noexcept { return journal_.policy(); }
  [[nodiscard]] clock_type& clock() noexcept { return clock_; }
  [[nodiscard]] state_machine_type& state_machine() noexcept { return fsm_; }
  [[nodiscard]] snapshot_store_type& snapshot_store() noexcept { return store_; }
  // The slot of the last snapshot taken, installed or restored (0: none).
  [[nodiscard]] log_index snapshot_index() const noexcept { return snapshot_slot_; }
  // Slots up to here are in the snapshot only: neither journalled nor indexed.
  [[nodiscard]] log_index compacted_index() const noexcept { return journal_.base(); }
  // Slots the in-memory index holds (what compaction bounds).
  [[nodiscard]] std::size_t indexed_slots() const noexcept { return journal_.indexed_slots(); }

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
          state_machine_type state_machine, snapshot_store_type snapshots, const options& opts)
      : transport_{std::move(transport)},
        journal_{std::move(log), opts.journal_cache_bytes, opts.journal_run_bytes},
        clock_{std::move(clock)},
        fsm_{std::move(state_machine)},
        store_{std::move(snapshots)},
        opts_{opts},
        self_{self},
        configs_{self, opts.phase1_quorum, opts.phase2_quorum} {
    status_ = validate_config(self, members, opts);
    if (!status_) return;
    std::vector<node_id> voters(members.begin(), members.end());
    std::sort(voters.begin(), voters.end());
    configs_.reset({stamped_configuration{log_index{1}, log_index{}, paxos::configuration{std::move(voters), {}}}});
    limits_.max_entries = std::max<std::size_t>(limits_.max_entries, opts_.max_entries_per_message);
    limits_.max_entry_bytes = opts_.max_command_bytes;
    std::uint64_t mix = opts_.seed ^ (self_.value() * 0x9e3779b97f4a7c15ULL);
    rng_.reseed(splitmix64(mix));
    status_ = recover();
  }

  // The snapshot first (checked against the journal, nothing restored yet),
  // then the journal after it, then the state machine from the image.
  result<void> recover() {
    snapshot_image img{};
    if constexpr (can_snapshot) {
      auto stored = store_.load();
      if (!stored) return unexpected{stored.error()};
      if (!stored->empty()) {
        auto d = decode_image(*stored);
        if (!d) return fail(errc::corrupt_log, "paxos: the stored snapshot does not decode", d.error().detail);
        img = *d;
      }
    }
    const log_index first = journal_.policy().first_index();
    if (img.meta.slot == log_index{} && first > log_index{1})
      return fail(errc::corrupt_log, "paxos: the journal was compacted but no snapshot covers it", first.value());
    if (img.meta.slot != log_index{} && first > img.meta.journal_from)
      return fail(errc::corrupt_log, "paxos: the journal misses records between the snapshot and its start",
                  img.meta.journal_from.value());
    if (img.meta.slot > all_slots) return fail(errc::corrupt_log, "paxos: the snapshot's slot is out of range");
    auto p = journal_.recover(opts_.max_slot_gap, img.meta.slot);
    if (!p) return unexpected{p.error()};
    promised_ = *p;
    // An accept above the promise: the Log kept it and lost the promise
    // saved before it (a damaged hard state; a Log that keeps a prefix of
    // the calls never does). The node promised that ballot before it
    // accepted there, so it promises it again: answering a lower ballot
    // could let two values be chosen in one slot.
    if (journal_.highest_accepted() > promised_) {
      promised_ = journal_.highest_accepted();
      QUORUM_TRY(journal_.save_promise(promised_));
    }
    if constexpr (can_snapshot) {
      if (img.meta.slot != log_index{}) {
        fsm_.restore(img.meta.slot, img.data);
        applied_ = snapshot_slot_ = img.meta.slot;
        adopt_configs(img.meta.configs);
      }
    }
    return {};
  }

  // Snapshots the state at the applied slot, saves it durably, then forgets
  // the slots at least snapshot_trailing_slots behind it, and not past
  // `limit` (slots a leader still has open), in the index and the journal.
  result<log_index> snapshot_to(log_index limit)
    requires can_snapshot
  {
    if (!status_) return unexpected{status_.error()};
    const log_index s = applied_;
    if (s <= snapshot_slot_)
      return fail(errc::invalid_argument, "paxos: nothing applied since the last snapshot", s.value());
    const std::uint64_t trailing = opts_.snapshot_trailing_slots;
    log_index through = std::min(s.value() > trailing ? s - trailing : log_index{}, limit);
    through = std::max(through, journal_.base());
    const log_index keep = journal_.needed_from(through);
    begin_image(snapshot_meta{s, keep, configs_.stamps()}, image_buf_);
    fsm_.snapshot(image_buf_);
    seal_image(image_buf_);
    auto saved = store_.save(image_buf_);
    byte_buffer{}.swap(image_buf_);
    if (!saved) return unexpected{saved.error()};  // nothing changed: the journal is whole
    snapshot_slot_ = s;
    ++stats_.snapshots_taken;
    if (!compact_journal(keep)) return unexpected{status_.error()};
    journal_.drop_through(through);
    return s;
  }

  // Whether an accept is one a correct leader could send: a run of
  // consecutive slots at its own ballot (the answer names the run by its
  // ends, so anything else could not be answered truly), within the gap.
  bool well_formed_accept(const message& m) {
    if (m.entries.empty()) return static_cast<void>(++stats_.dropped_malformed), false;
    // One pass with no early exit, which the compiler keeps free of branches:
    // any difference from the expected ballot and slot sets a bit of `off`.
    const entry* const es = m.entries.data();
    const std::size_t n = m.entries.size();
    const std::uint64_t first = es[0].slot.value();
    std::uint64_t off = 0;
    for (std::size_t k = 0; k < n; ++k)
      off |= (es[k].bal.round ^ m.bal.round) | (es[k].bal.node.value() ^ m.bal.node.value()) |
             (es[k].slot.value() ^ (first + k));
    // Consecutive slots that wrapped around past the top are no run either.
    if (off != 0 || es[n - 1].slot < es[0].slot) return static_cast<void>(++stats_.dropped_malformed), false;
    // Consecutive: every slot is within the gap if the last one is.
    if (es[n - 1].slot > journal_.known_end() + opts_.max_slot_gap)
      return static_cast<void>(++stats_.dropped_out_of_window), false;
    return true;
  }

  // Phase 2b: journals the run (at or above our promise) and queues the answer.
  void accept_run(const message& m) {
    if (!raise_promise(m.bal)) return;
    // Slots in our snapshot are not answered: we hold no accept of them at
    // this ballot, and must not pretend to.
    const log_index first = std::max(m.entries.front().slot, journal_.base().next());
    if (m.entries.front().slot <= journal_.base()) start_snapshot(m.from);  // its proposer is behind us
    if (first > m.entries.back().slot) return;
    if (auto r = journal_run(m); !r) return static_cast<void>(set_failed(r.error()));
    replies_.push_back(reply{m.from, message_type::accepted, m.bal, first, m.entries.back().slot});
  }

  // Journals an accept's run but for slots held at its ballot already (a
  // retransmission): usually all of them, in one piece.
  result<void> journal_run(const message& m) {
    const std::span<const entry> es = m.entries;
    if (es.front().slot > journal_.known_end()) return journal_.write_run(record_kind::accepted, es);  // all new
    const auto held = [&](const entry& e) {
      const auto st = journal_.at(e.slot);
      return st && st->position != log_index{} && st->accepted == m.bal;
    };
    for (std::size_t k = 0; k < es.size();) {
      if (held(es[k])) {
        ++k;
        continue;
      }
      std::size_t end = k + 1;
      while (end < es.size() && !held(es[end])) ++end;
      QUORUM_TRY(journal_.write_run(record_kind::accepted, es.subspan(k, end - k)));
      k = end;
    }
    return {};
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
    if (b == promised_ || b < promised_) return true;
    promised_ = b;
    if (auto r = journal_.save_promise(b); !r) return set_failed(r.error());
    return true;
  }

  // Slots up to the leader's watermark are chosen, and where we accepted
  // its ballot we hold the value it proposed there, which is the chosen one
  // (a leader proposes below its watermark only values known chosen). Only
  // the proposer of m.bal may be trusted so: catch-up answers are not.
  void learn_commit(const message& m) {
    journal_.learn_chosen(m.commit, m.bal);
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
    if (m.slot <= journal_.base()) return start_snapshot(m.from);
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
      if (e.bal.round == 0 || !e.bal.in_range()) return static_cast<void>(++stats_.dropped_malformed);
    }
    for (const entry& e : m.entries) {
      const auto st = journal_.at(e.slot);
      if (st && st->chosen) continue;
      if (auto r = journal_.write(record_kind::chosen, e); !r) return static_cast<void>(set_failed(r.error()));
    }
    journal_.advance();
    catchup_wait_ = 0;
    request_catchup(m.from, m.commit);  // more to fetch: ask again now
  }

  // ---- snapshots on the wire -----------------------------------------------

  // Drops journal records before `keep`, once the image that covers what
  // they held is durable.
  bool compact_journal(log_index keep) {
    if (keep <= journal_.policy().first_index()) return true;
    if (auto r = journal_.policy().compact(keep); !r) return set_failed(r.error());
    return true;
  }

  // A peer asked for slots we hold only in the snapshot: it gets the image.
  void start_snapshot(node_id to) {
    if constexpr (can_snapshot) {
      if (snapshot_slot_ == log_index{}) return;
      const std::size_t pos = sender_for(to);
      if (pos == senders_.size()) return;
      snapshot_sender& tx = senders_[pos].second;
      if (tx.active() && tx.slot == snapshot_slot_) return;  // under way
      tx.start(snapshot_slot_, 0);
      pump_snapshot(pos);
    } else {
      (void)to;
    }
  }

  // The transfer slot for a peer (a new one if there is room); senders_.size() if none.
  // Peers outside every configuration may ask too (a joining node), so the room is bounded.
  std::size_t sender_for(node_id to) {
    for (std::size_t i = 0; i < senders_.size(); ++i)
      if (senders_[i].first == to) return i;
    if (senders_.size() >= 2 * max_members) {
      auto idle = std::find_if(senders_.begin(), senders_.end(), [](const auto& s) { return !s.second.active(); });
      if (idle == senders_.end()) return senders_.size();
      *idle = {to, snapshot_sender{}};
      return static_cast<std::size_t>(idle - senders_.begin());
    }
    senders_.emplace_back(to, snapshot_sender{});
    return senders_.size() - 1;
  }

  // Sends chunks from `next` while the unconfirmed ones fit the window. The
  // image is read from the store each time: a newer one restarts the transfer.
  void pump_snapshot(std::size_t pos) {
    snapshot_sender& tx = senders_[pos].second;
    auto image = store_.load();
    if (!image || image->empty()) return tx.stop();
    if (tx.slot != snapshot_slot_ || tx.total != image->size()) tx.start(snapshot_slot_, image->size());
    const std::uint64_t chunk = std::min(opts_.snapshot_chunk_bytes, opts_.max_command_bytes);
    const std::uint64_t window = chunk * opts_.max_inflight_snapshot_chunks;
    while (tx.next < tx.total && tx.next < tx.acked + window) {
      const std::uint64_t size = std::min<std::uint64_t>(chunk, tx.total - tx.next);
      const entry chunk{tx.slot, promised_, entry_kind::normal,
                        image->subspan(static_cast<std::size_t>(tx.next), static_cast<std::size_t>(size))};
      message m = outgoing(message_type::snapshot_chunk, senders_[pos].first, promised_);
      m.slot = tx.slot;
      m.index = log_index{tx.next};
      m.commit = log_index{tx.total};
      m.entries = std::span<const entry>{&chunk, 1};
      ++stats_.snapshot_chunks_sent;
      transport_.send(m.to, m);
      tx.next += size;
    }
  }

  // Every retransmit period, a transfer that heard nothing new starts again
  // from what its peer confirmed (chunks or acks were lost).
  void tick_snapshots() {
    if (++snapshot_elapsed_ < opts_.retransmit_ticks) return;
    snapshot_elapsed_ = 0;
    for (std::size_t pos = 0; pos < senders_.size(); ++pos) {
      snapshot_sender& tx = senders_[pos].second;
      if (!tx.active()) continue;
      if (!tx.progressed) tx.next = tx.acked;
      tx.progressed = false;
      pump_snapshot(pos);
    }
  }

  void on_snapshot_ack(const message& m) {
    std::size_t pos = 0;
    while (pos < senders_.size() && senders_[pos].first != m.from) ++pos;
    if (pos == senders_.size()) return;
    snapshot_sender& tx = senders_[pos].second;
    if (!tx.active() || m.slot != tx.slot) return;
    if (m.index.value() >= tx.total) return tx.stop();
    if (m.reject) {
      tx.acked = tx.next = m.index.value();  // the peer holds exactly this much
    } else if (m.index.value() > tx.acked) {
      tx.acked = m.index.value();
      tx.progressed = true;
    }
    pump_snapshot(pos);
  }

  void on_snapshot_chunk(const message& m) {
    if (m.entries.size() != 1 || m.slot == log_index{}) return static_cast<void>(++stats_.dropped_malformed);
    if constexpr (can_snapshot) {
      if (m.slot <= journal_.watermark()) return send_snapshot_ack(m, m.commit.value(), false);  // have it all
      using out = snapshot_receiver::outcome;
      const byte_view data = m.entries[0].data;
      switch (receiver_.accept(m.slot, m.index.value(), m.commit.value(), data, opts_.max_snapshot_bytes)) {
        case out::more: return send_snapshot_ack(m, receiver_.held(), false);
        case out::resume: return send_snapshot_ack(m, receiver_.held(), true);
        case out::too_large: return static_cast<void>(++stats_.snapshots_refused);
        case out::complete:
          if (!install_snapshot()) return;
          return send_snapshot_ack(m, m.commit.value(), false);
      }
    }
  }

  void send_snapshot_ack(const message& m, std::uint64_t held, bool resume) {
    message r = outgoing(message_type::snapshot_ack, m.from, promised_);
    r.slot = m.slot;
    r.index = log_index{held};
    r.reject = resume;
    transport_.send(r.to, r);
  }

  // The whole image is here: saved durably (with our own journal position),
  // then the state restored, then the journal and index below it dropped.
  bool install_snapshot()
    requires can_snapshot
  {
    auto img = decode_image(receiver_.image());
    if (!img) {
      receiver_.clear();
      ++stats_.snapshots_refused;
      return false;
    }
    const log_index s = img->meta.slot;
    const log_index keep = journal_.needed_from(s);
    std::vector<stamped_configuration> configs = std::move(img->meta.configs);
    begin_image(snapshot_meta{s, keep, configs}, image_buf_);
    image_buf_.insert(image_buf_.end(), img->data.begin(), img->data.end());
    seal_image(image_buf_);
    const std::size_t n = img->data.size();
    receiver_.clear();
    auto saved = store_.save(image_buf_);
    if (!saved) return set_failed(saved.error());
    fsm_.restore(s, byte_view{image_buf_}.subspan(image_buf_.size() - 4 - n, n));
    byte_buffer{}.swap(image_buf_);
    applied_ = snapshot_slot_ = s;
    adopt_configs(configs);
    ++stats_.snapshots_installed;
    if (!compact_journal(keep)) return false;
    journal_.drop_through(s);
    catchup_wait_ = 0;  // the slots after it come from the next leader message
    return true;
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
    // A snapshot installed since: we no longer hold what we accepted there.
    if (r.first <= journal_.base()) return start_snapshot(r.to);
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
    // Slots a snapshot covered since the accept are not vouched for: their
    // records may be compacted away.
    const log_index first = std::max(r.first, journal_.base().next());
    if (first > r.last) return;
    message m = outgoing(message_type::accepted, r.to, r.bal);
    m.slot = first;
    m.index = r.last;
    m.commit = journal_.watermark();
    transport_.send(m.to, m);
  }

  // Called after every message; usually nothing new is chosen. (An
  // installed snapshot moves applied_ itself, with its own forget_before().)
  void apply_chosen() {
    if (applied_ < journal_.watermark()) apply_newly_chosen();
  }

  void apply_newly_chosen() {
    while (applied_ < journal_.watermark() && status_) {
      const log_index s = applied_.next();
      // The usual case: cached values (no Log read, no decode), one at a
      // time or a run in one pass.
      if (s == journal_.watermark()) {
        if (auto c = journal_.cached(s)) {
          apply_one(s, c->kind, c->data);
          continue;
        }
      } else if (apply_cached_run(s) != 0) {
        continue;
      }
      auto e = journal_.read(s);
      if (!e) return static_cast<void>(set_failed(e.error()));
      apply_one(s, e->kind, e->data);
    }
    journal_.applied_through(applied_);
    configs_.forget_before(applied_.next());
  }

  // Applies the cached run of values from s on; how many. A state machine
  // that takes hints gets each a few applies early: the views stay valid
  // until the run is drained, as nothing here changes the journal.
  std::uint64_t apply_cached_run(log_index s) {
    if constexpr (PrefetchingStateMachine<state_machine_type>) {
      quorum::detail::apply_ahead<entry> ahead;
      const auto apply = [&](const entry& e) { apply_one(e.slot, e.kind, e.data); };
      const std::uint64_t n = journal_.visit_cached(s, journal_.watermark(), [&](const entry& e) {
        if (e.kind == entry_kind::normal) fsm_.prefetch(e.data);
        ahead.push(e, apply);
        return true;
      });
      ahead.drain(apply);
      return n;
    } else {
      return journal_.visit_cached(s, journal_.watermark(), [&](const entry& e) {
        apply_one(e.slot, e.kind, e.data);
        return true;
      });
    }
  }

  void apply_one(log_index s, entry_kind kind, byte_view data) {
    applied_ = s;
    if (kind == entry_kind::normal) fsm_.apply(s, data);
    else if (kind == entry_kind::config) learn_config(s, data);
  }

  // A configuration chosen at s governs slots s + α on. One that does not
  // decode was never written by a correct leader; every node skips it alike.
  void learn_config(log_index s, byte_view data) {
    auto c = decode_configuration(data);
    if (!c) return static_cast<void>(++stats_.configs_malformed);
    if (configs_.push(s, s + opts_.max_open_slots, std::move(*c))) configs_changed_ = true;
  }

  // The configurations of a snapshot (none in a version-1 image: the
  // bootstrap one still holds), or, an older image of ours, nothing new.
  void adopt_configs(const std::vector<stamped_configuration>& configs) {
    if (!configs.empty()) configs_.reset(configs);
    configs_.forget_before(applied_.next());
    configs_changed_ = true;
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

  // The proposals a batch() staged go to the journal as one run, before
  // anything reads it or writes anything else to it. A Log error fails the
  // node: what reached the Log of them may yet be chosen.
  bool write_staged() { return staged_.empty() || journal_staged(); }

  // write_staged() with proposals staged: out of line, once per batch, so
  // that the verbs' usual case stays one test.
  [[gnu::noinline]] bool journal_staged() {
    auto r = journal_.write_run(record_kind::accepted, staged_.entries());
    staged_.clear();
    if (!r) return set_failed(r.error());
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
  [[no_unique_address]] snapshot_store_type store_;
  options opts_;
  message_limits limits_{};
  node_id self_;
  config_history configs_;
  bool configs_changed_{false};  // since the proposer last looked
  ballot promised_{};  // durable: no accept or prepare below it is honoured
  log_index applied_{};
  std::vector<reply> replies_;  // answers waiting for the next sync
  std::uint32_t catchup_wait_{0};
  seeded_random rng_;
  entry_batch batch_;
  proposal_stage staged_;  // a batch()'s proposals, not journalled yet
  result<void> status_{};
  node_stats stats_{};
  std::vector<entry> recv_entries_;
  log_index snapshot_slot_{};
  snapshot_receiver receiver_;
  std::vector<std::pair<node_id, snapshot_sender>> senders_;  // one per peer sent an image
  std::uint32_t snapshot_elapsed_{0};
  byte_buffer image_buf_;
};

}  // namespace quorum::paxos
