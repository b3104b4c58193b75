// A small deterministic harness for two-phase commit tests: a coordinator
// (node 1) and participants (nodes 2..n+1) whose messages wait in one queue
// until the test delivers them; each node's disk keeps only what was synced,
// so a crash loses exactly the unsynced writes. Every send is checked against
// the durability rule: a promise must already be on the sender's synced disk.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "quorum/storage/memory_log.hpp"
#include "quorum/two_phase_commit.hpp"

namespace tpc_test {

using namespace quorum;
using namespace quorum::two_phase_commit;

struct disk {
  storage::memory_log live;
  storage::memory_log durable;
  bool fail_sync{false};
};

struct envelope {
  node_id from;
  node_id to;
  message_type type;
  byte_buffer bytes;
};

struct network {
  std::deque<envelope> queue;
  std::map<std::uint64_t, disk*> disks;
  std::set<std::uint64_t> down;           // crashed nodes: deliveries to them are lost
  std::vector<std::string> violations;    // durability-rule breaches seen at send time
  std::map<message_type, std::uint64_t> sent;

  void check_promise(const message& m);
};

struct test_transport {
  network* net;
  void send(node_id to, const message& m) {
    net->check_promise(m);
    ++net->sent[m.type];
    envelope e{m.from, to, m.type, {}};
    encode(m, e.bytes);
    net->queue.push_back(std::move(e));
  }
};

struct test_log {
  disk* d;
  log_index first_index() const { return d->live.first_index(); }
  log_index last_index() const { return d->live.last_index(); }
  result<log_index> append(byte_view b) { return d->live.append(b); }
  result<byte_view> read(log_index i) { return d->live.read(i); }
  result<void> truncate(log_index i) { return d->live.truncate(i); }
  result<void> compact(log_index i) { return d->live.compact(i); }
  result<void> save_state(byte_view b) { return d->live.save_state(b); }
  byte_view state() const { return d->live.state(); }
  result<void> sync() {
    if (d->fail_sync) return fail(errc::io_error, "test: sync refused", 5);
    d->durable = d->live;
    return {};
  }
};

struct manual_clock {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<manual_clock, duration>;
  time_point now() const noexcept { return time_point{}; }
};

// What a resource manager was asked, and how it votes (yes unless told).
struct rm_state {
  std::map<std::uint64_t, vote> votes;
  std::vector<std::string> calls;            // "prepare 7", "commit 7", "abort 7"
  std::map<std::uint64_t, decision> final;   // last commit/abort per txn
  std::uint64_t conflicts{0};                // commit after abort or abort after commit
};

struct test_rm {
  rm_state* s;
  vote prepare(txn_id t) {
    s->calls.push_back("prepare " + std::to_string(t.value()));
    auto it = s->votes.find(t.value());
    return it == s->votes.end() ? vote::yes : it->second;
  }
  void commit(txn_id t) { finish(t, decision::commit); }
  void abort(txn_id t) { finish(t, decision::abort); }
  void finish(txn_id t, decision d) {
    s->calls.push_back(std::string{d == decision::commit ? "commit " : "abort "} + std::to_string(t.value()));
    auto [it, fresh] = s->final.emplace(t.value(), d);
    if (!fresh && it->second != d) ++s->conflicts;
    it->second = d;
  }
};

struct coordinator_policies {
  using transport = test_transport;
  using log = test_log;
  using clock = manual_clock;
};
struct participant_policies : coordinator_policies {
  using resource_manager = test_rm;
};

using test_coordinator = coordinator<coordinator_policies>;
using test_participant = participant<participant_policies>;

inline bool durable_has(const disk& d, record_kind kind, txn_id txn) {
  std::vector<node_id> scratch;
  for (log_index i = d.durable.first_index(); i <= d.durable.last_index(); i = i.next()) {
    auto r = decode_record(*d.durable.read(i), scratch, 4096);
    if (r && r->kind == kind && r->txn == txn) return true;
  }
  return false;
}

// A participant may re-acknowledge a txn it finished and forgot: one below
// the horizon its synced hard state holds for that coordinator.
inline bool durably_forgotten(const disk& d, node_id coordinator, txn_id txn) {
  std::vector<std::pair<node_id, txn_id>> hs;
  if (!decode_horizons(d.durable.state(), 64, hs)) return false;
  for (const auto& [c, h] : hs)
    if (c == coordinator && txn < h) return true;
  return false;
}

// Promises: a yes vote needs a prepared record; a one-phase outcome, an ack
// and an answer given for an unvoted txn need a decided record; presumed
// abort's commit needs the commit record; presumed commit's prepare needs
// the collecting record.
inline void network::check_promise(const message& m) {
  const disk& d = *disks.at(m.from.value());
  const std::string who = "node " + std::to_string(m.from.value()) + " " + to_string(m.type) + " txn " +
                          std::to_string(m.txn.value()) + ": ";
  if (m.type == message_type::vote && m.vote == vote::yes && !durable_has(d, record_kind::prepared, m.txn))
    violations.push_back(who + "voted yes before its prepared record was synced");
  if ((m.type == message_type::outcome || m.type == message_type::ack) &&
      !durable_has(d, record_kind::decided, m.txn) && !durable_has(d, record_kind::prepared, m.txn) &&
      !durably_forgotten(d, m.coordinator, m.txn))
    violations.push_back(who + "promised a decision before it was synced");
  if (m.type == message_type::decision && m.from == m.coordinator && m.decision == decision::commit &&
      m.presumption == presumption::abort && !durable_has(d, record_kind::committed, m.txn))
    violations.push_back(who + "sent commit before its commit record was synced");
  if (m.type == message_type::prepare && m.presumption == presumption::commit &&
      !durable_has(d, record_kind::collecting, m.txn))
    violations.push_back(who + "sent prepare before its collecting record was synced");
}

inline constexpr node_id coordinator_id{1};

class cluster {
 public:
  explicit cluster(std::size_t participants, coordinator_options co = {}, participant_options po = {})
      : co_{co}, po_{po}, disks_(participants + 2), rms_(participants + 2), parts_(participants + 2) {
    for (std::size_t i = 1; i <= participants + 1; ++i) {
      disks_[i] = std::make_unique<disk>();
      net.disks[i] = disks_[i].get();
    }
    for (std::size_t i = 2; i <= participants + 1; ++i) ids_.push_back(node_id{i});
    restart_coordinator();
    for (const node_id p : ids_) restart(p);
  }

  network net;

  test_coordinator& coord() { return *coord_; }
  test_participant& part(node_id n) { return *parts_[n.value()]; }
  rm_state& rm(node_id n) { return rms_[n.value()]; }
  disk& disk_of(node_id n) { return *disks_[n.value()]; }
  const std::vector<node_id>& participants() const { return ids_; }
  node_id p(std::size_t i) const { return ids_.at(i); }

  // Delivers queued messages in order until none is left (or `limit` is hit).
  std::size_t deliver_all(std::size_t limit = 100000) {
    std::size_t n = 0;
    while (!net.queue.empty() && n < limit) {
      deliver_one();
      ++n;
    }
    return n;
  }
  void deliver_one() {
    envelope e = std::move(net.queue.front());
    net.queue.pop_front();
    deliver(e);
  }
  void deliver(const envelope& e) {
    if (net.down.count(e.to.value()) != 0) return;
    if (e.to == coordinator_id) coord_->receive(byte_view{e.bytes});
    else parts_[e.to.value()]->receive(byte_view{e.bytes});
  }
  // Drops every queued message of this type (or all, by default).
  std::size_t drop(std::optional<message_type> type = std::nullopt) {
    std::size_t n = 0;
    for (auto it = net.queue.begin(); it != net.queue.end();) {
      if (!type || it->type == *type) {
        it = net.queue.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  }
  void tick_all(std::size_t times = 1) {
    for (std::size_t k = 0; k < times; ++k) {
      if (coord_) coord_->tick();
      for (const node_id p : ids_)
        if (parts_[p.value()]) parts_[p.value()]->tick();
    }
  }
  // Ticks and delivers until the network is quiet after a tick, or `rounds` pass.
  void settle(std::size_t rounds = 200) {
    deliver_all();
    for (std::size_t r = 0; r < rounds; ++r) {
      tick_all();
      deliver_all();
    }
  }

  void crash(node_id n) {
    net.down.insert(n.value());
    disk& d = *disks_[n.value()];
    d.live = d.durable;
    if (n == coordinator_id) coord_.reset();
    else parts_[n.value()].reset();
  }
  void restart(node_id n) {
    if (n == coordinator_id) return restart_coordinator();
    net.down.erase(n.value());
    parts_[n.value()].emplace(n, test_transport{&net}, test_log{disks_[n.value()].get()}, manual_clock{},
                              test_rm{&rms_[n.value()]}, po_);
    REQUIRE(parts_[n.value()]->status());
  }
  void restart_coordinator() {
    net.down.erase(coordinator_id.value());
    coord_.emplace(coordinator_id, test_transport{&net}, test_log{disks_[1].get()}, manual_clock{}, co_);
    REQUIRE(coord_->status());
  }

  // Totals over every node, for the count tests.
  std::uint64_t messages() const {
    std::uint64_t n = coord_ ? coord_->stats().messages_sent : 0;
    for (const node_id p : ids_)
      if (parts_[p.value()]) n += parts_[p.value()]->stats().messages_sent;
    return n;
  }
  std::uint64_t forced() const {
    std::uint64_t n = coord_ ? coord_->stats().forced_writes : 0;
    for (const node_id p : ids_)
      if (parts_[p.value()]) n += parts_[p.value()]->stats().forced_writes;
    return n;
  }
  std::uint64_t participant_forced() const { return forced() - coord_->stats().forced_writes; }

  std::optional<decision> decided(txn_id t) const {
    for (const decided_txn& d : coord_->decisions())
      if (d.txn == t) return d.decision;
    return std::nullopt;
  }

 private:
  coordinator_options co_;
  participant_options po_;
  std::vector<std::unique_ptr<disk>> disks_;
  std::vector<rm_state> rms_;
  std::vector<node_id> ids_;
  std::optional<test_coordinator> coord_;
  std::vector<std::optional<test_participant>> parts_;
};

}  // namespace tpc_test
