// A hand-driven Paxos Commit cluster for tests: nodes 1..n are RMs, nodes
// 1..2F+1 also the acceptors; messages wait in one queue until the test
// delivers them; each disk keeps only what was synced. Every send is checked
// against the durability rule (a promise is already on the sender's synced disk).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "harness.hpp"
#include "quorum/two_phase_commit/paxos_commit.hpp"

namespace pxc_test {

using namespace quorum;
using namespace quorum::two_phase_commit;
using tpc_test::disk;
using tpc_test::manual_clock;
using tpc_test::rm_state;
using tpc_test::test_log;
using tpc_test::test_rm;

struct envelope {
  node_id to;
  pc_message_type type;
  byte_buffer bytes;
};

struct network {
  std::deque<envelope> queue;
  bool capture{false};
  std::vector<envelope> captured;  // with capture on: every message sent, for replaying late
  std::map<std::uint64_t, disk*> disks;
  mutable std::vector<std::string> violations;
  void check_promise(const pc_message& m) const;
};

// The latest synced acceptor record of txn on d, if any.
inline std::optional<pc_record> durable_acceptor(const disk& d, txn_id txn) {
  std::optional<pc_record> last;
  for (log_index i = d.durable.first_index(); i <= d.durable.last_index(); i = i.next()) {
    auto r = decode_pc_record(*d.durable.read(i), 1024);
    if (r && r->txn == txn && r->kind == pc_record_kind::acceptor) last = std::move(*r);
  }
  return last;
}
inline bool durable_prepared(const disk& d, txn_id txn) {
  for (log_index i = d.durable.first_index(); i <= d.durable.last_index(); i = i.next()) {
    auto r = decode_pc_record(*d.durable.read(i), 1024);
    if (r && r->txn == txn && r->kind == pc_record_kind::prepared) return true;
  }
  return false;
}

// The durability rule, checked at send time: a Prepared vote needs a synced
// prepared record; a 2b or 1b needs a synced acceptor record that says it.
inline void network::check_promise(const pc_message& m) const {
  const disk& d = *disks.at(m.from.value());
  const std::string who = "node " + std::to_string(m.from.value()) + " " + to_string(m.type) + ": ";
  if (m.type == pc_message_type::phase2a && m.entries.size() == 1 && m.entries[0].bal.round == 1 &&
      m.entries[0].value == pc_value::prepared && !durable_prepared(d, m.txn))
    violations.push_back(who + "voted Prepared before its prepared record was synced");
  // "Resolved" promises the RM will never vote on txn again: its synced hard
  // state must already say so.
  if (m.type == pc_message_type::resolved) {
    pc_tombstones t{64, 1 << 20};
    const bool read = static_cast<bool>(t.decode(d.durable.state()));
    for (const pc_txn_ref& r : m.batch)
      if (!read || !t.covers(r.origin, r.txn))
        violations.push_back(who + "acknowledged txn " + std::to_string(r.txn.value()) +
                             " before its resolution was synced");
  }
  if (m.type != pc_message_type::phase2b && m.type != pc_message_type::phase1b) return;
  const auto rec = durable_acceptor(d, m.txn);
  for (const pc_entry& e : m.entries) {
    bool ok = false;
    if (rec)
      for (std::size_t i = 0; i < rec->participants.size(); ++i)
        ok |= rec->participants[i] == e.instance && rec->states[i].accepted == e.bal;
    if (!ok && !(m.type == pc_message_type::phase1b && e.value == pc_value::none))
      violations.push_back(who + "answered before its accept was synced");
  }
}


struct test_transport {
  network* net;
  void send(node_id to, const pc_message& m) {
    net->check_promise(m);
    envelope e{to, m.type, {}};
    encode(m, e.bytes);
    if (net->capture) net->captured.push_back(e);
    net->queue.push_back(std::move(e));
  }
};

struct policies {
  using transport = test_transport;
  using log = test_log;
  using clock = manual_clock;
  using resource_manager = test_rm;
};
using node = paxos_commit_node<policies>;

// Nodes 1..n are RMs; nodes 1..2F+1 are also the acceptors (node 1 first);
// node 1 leads unless a test says otherwise. gc_messages() is the
// forgetting's share of messages().
class cluster {
 public:
  cluster(std::size_t n, std::size_t f, paxos_commit_options base = {})
      : opts_{std::move(base)}, disks_(n + 1), rms_(n + 1), nodes_(n + 1) {
    opts_.f = f;
    for (std::size_t i = 1; i <= 2 * f + 1; ++i) opts_.acceptors.push_back(node_id{i});
    for (std::size_t i = 1; i <= n; ++i) {
      ids_.push_back(node_id{i});
      disks_[i] = std::make_unique<disk>();
      net.disks[i] = disks_[i].get();
      restart(node_id{i});
    }
  }

  network net;
  std::set<std::uint64_t> down;
  // Deliver decoded structs through receive(const pc_message&) instead of
  // bytes (what does not decode still goes in as bytes, to be refused there).
  bool typed{false};

  node& at(std::uint64_t i) { return *nodes_[i]; }
  rm_state& rm(std::uint64_t i) { return rms_[i]; }
  const std::vector<node_id>& ids() const { return ids_; }

  void deliver(const envelope& e) {
    if (down.count(e.to.value()) != 0) return;
    if (typed)
      if (auto m = decode(e.bytes, scratch_)) return nodes_[e.to.value()]->receive(*m);
    nodes_[e.to.value()]->receive(byte_view{e.bytes});
  }
  void deliver_all() {
    while (!net.queue.empty()) {
      envelope e = std::move(net.queue.front());
      net.queue.pop_front();
      deliver(e);
    }
  }
  void settle(std::size_t rounds = 300) {
    deliver_all();
    for (std::size_t r = 0; r < rounds; ++r) {
      for (const node_id n : ids_)
        if (down.count(n.value()) == 0) nodes_[n.value()]->tick();
      deliver_all();
    }
  }
  void crash(node_id n) {
    down.insert(n.value());
    disks_[n.value()]->live = disks_[n.value()]->durable;
    nodes_[n.value()].reset();
  }
  void restart(node_id n) {
    down.erase(n.value());
    nodes_[n.value()].emplace(n, test_transport{&net}, test_log{disks_[n.value()].get()}, manual_clock{},
                              test_rm{&rms_[n.value()]}, opts_);
    REQUIRE(nodes_[n.value()]->status());
  }
  std::uint64_t messages() const {
    std::uint64_t k = 0;
    for (const node_id n : ids_) k += nodes_[n.value()] ? nodes_[n.value()]->stats().messages_sent : 0;
    return k;
  }
  std::uint64_t gc_messages() const {
    std::uint64_t k = 0;
    for (const node_id n : ids_) k += nodes_[n.value()] ? nodes_[n.value()]->stats().gc_messages : 0;
    return k;
  }
  std::uint64_t forced() const {
    std::uint64_t k = 0;
    for (const node_id n : ids_) k += nodes_[n.value()] ? nodes_[n.value()]->stats().forced_writes : 0;
    return k;
  }
  disk& disk_of(std::uint64_t i) { return *disks_[i]; }
  // The outcome the RM was last told, from its own record of calls.
  std::optional<decision> final_of(std::uint64_t i, std::uint64_t txn = 1) const {
    auto it = rms_[i].final.find(txn);
    return it == rms_[i].final.end() ? std::nullopt : std::optional<decision>{it->second};
  }

 private:
  paxos_commit_options opts_;
  std::vector<std::unique_ptr<disk>> disks_;
  std::vector<rm_state> rms_;
  std::vector<node_id> ids_;
  std::vector<std::optional<node>> nodes_;
  pc_scratch scratch_;
};

constexpr txn_id t1{1};

// What RM i learned of t1, whether it still holds t1 or has forgotten it (then
// its resource's record says, or it voted no and rolled back when it voted).
inline std::optional<decision> learned(cluster& c, std::uint64_t i) {
  if (auto d = c.at(i).outcome(t1)) return d;
  if (!c.at(i).forgotten(node_id{1}, t1)) return std::nullopt;
  if (auto f = c.final_of(i)) return f;
  return decision::abort;
}

}  // namespace pxc_test
