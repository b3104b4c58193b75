// A small deterministic harness for Paxos tests, like tests/raft/cluster.hpp:
// messages wait in one queue until the test delivers them; links can be cut;
// each node's disk keeps what was synced, so a restart loses exactly the
// unsynced writes. Every send is checked against the durability rule: a
// promise or an accept must already be on the sender's synced disk.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "quorum/paxos.hpp"
#include "quorum/storage/memory_log.hpp"

namespace paxos_test {

using namespace quorum;
using namespace quorum::paxos;

struct disk {
  storage::memory_log live;
  storage::memory_log durable;
  std::uint64_t syncs = 0;
  bool refuse_appends = false;  // the Log fails every append (a full or broken disk)
};

struct envelope {
  node_id from;
  node_id to;
  message_type type;
  byte_buffer bytes;
};

// How a sender's durable state is read: the node's journal, or the register's acceptor state.
enum class durability { journal, acceptor_state };

struct network {
  std::deque<envelope> queue;
  std::map<std::uint64_t, disk*> disks;
  std::vector<std::string> violations;  // durability-rule breaches seen at send time
  std::set<std::pair<std::uint64_t, std::uint64_t>> cut;
  durability kind = durability::journal;
  std::uint64_t sent = 0;

  void check_promise(const message& m);
};

struct test_transport {
  network* net;
  void send(node_id to, const message& m) {
    net->check_promise(m);
    ++net->sent;
    envelope e{m.from, to, m.type, {}};
    encode(m, e.bytes);
    net->queue.push_back(std::move(e));
  }
};

struct test_log {
  disk* d;
  log_index first_index() const { return d->live.first_index(); }
  log_index last_index() const { return d->live.last_index(); }
  result<log_index> append(byte_view b) {
    if (d->refuse_appends) return fail(errc::io_error, "test log: appends refused", 28);
    return d->live.append(b);
  }
  result<byte_view> read(log_index i) { return d->live.read(i); }
  result<void> truncate(log_index i) { return d->live.truncate(i); }
  result<void> compact(log_index i) { return d->live.compact(i); }
  result<void> save_state(byte_view b) { return d->live.save_state(b); }
  byte_view state() const { return d->live.state(); }
  result<void> sync() {
    d->durable = d->live;
    ++d->syncs;
    return {};
  }
};

struct manual_clock {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<manual_clock, duration>;
  time_point now() const noexcept { return time_point{}; }
};

struct recorder {
  std::vector<std::pair<std::uint64_t, std::string>> applied;
  void apply(log_index i, byte_view b) {
    REQUIRE((applied.empty() || applied.back().first < i.value()));
    applied.emplace_back(i.value(), std::string(as_chars(b)));
  }
};

template <class StateMachine>
struct basic_policies {
  using transport = test_transport;
  using log = test_log;
  using clock = manual_clock;
  using state_machine = StateMachine;
};
using policies = basic_policies<recorder>;

using test_node = quorum::paxos::node<policies>;

// One slot of a journal record: a run's slots come one by one.
struct record {
  record_kind kind;
  entry value;  // views the disk
};

// Every slot of every record of a disk's durable journal, decoded.
inline std::vector<record> durable_records(disk& d) {
  std::vector<record> out;
  for (log_index i = d.durable.first_index(); i <= d.durable.last_index(); i = i.next()) {
    auto r = decode_run(*d.durable.read(i));
    REQUIRE(r.has_value());
    r->for_each([&](const entry& e) { out.push_back(record{r->kind, e}); });
  }
  return out;
}

// What a node would have journalled, written straight to a disk's live
// log: one record of e, or the hard state promising b.
inline void put_record(disk& d, record_kind k, const entry& e) {
  byte_buffer b;
  encode_record(k, e, b);
  REQUIRE(d.live.append(b));
}
inline void put_promise(disk& d, ballot p) {
  byte_buffer b;
  encode_promise(p, b);
  REQUIRE(d.live.save_state(b));
}

inline void network::check_promise(const message& m) {
  if (m.reject) return;
  disk& d = *disks.at(m.from.value());
  const std::string who = "node " + std::to_string(m.from.value()) + " ";
  if (kind == durability::acceptor_state) {
    auto s = decode_acceptor_state(d.durable.state(), 1 << 20);
    REQUIRE(s.has_value());
    if (m.type == message_type::promise && s->promised < m.bal)
      violations.push_back(who + "promised before it was synced");
    if (m.type == message_type::accepted && s->accepted != m.bal)
      violations.push_back(who + "acknowledged an unsynced accept");
    return;
  }
  if (m.type == message_type::promise && *decode_promise(d.durable.state()) < m.bal)
    violations.push_back(who + "promised before the promise was synced");
  if (m.type == message_type::accepted) {
    const auto recs = durable_records(d);
    for (log_index s = m.slot; s <= m.index; s = s.next()) {
      const bool held = std::any_of(recs.begin(), recs.end(), [&](const record& r) {
        return r.value.slot == s && r.value.bal == m.bal;
      });
      if (!held) violations.push_back(who + "acknowledged slot " + std::to_string(s.value()) + " before it was synced");
    }
  }
}

inline options test_options(std::uint64_t seed = 1) {
  options o;
  o.election_ticks = 10;
  o.heartbeat_ticks = 1;
  o.retransmit_ticks = 2;
  o.seed = seed;
  return o;
}

// A network and disks shared by any kind of node.
class fabric {
 public:
  explicit fabric(std::size_t n) {
    for (std::size_t i = 1; i <= n; ++i) ids_.push_back(node_id{i});
    for (std::size_t i = 0; i < n; ++i) {
      disks_.push_back(std::make_unique<disk>());
      net.disks[i + 1] = disks_.back().get();
    }
  }
  disk& disk_of(std::uint64_t id) { return *disks_.at(id - 1); }
  const std::vector<node_id>& ids() const { return ids_; }

  void isolate(std::uint64_t id) {
    for (auto other : ids_) {
      if (other.value() == id) continue;
      net.cut.insert({id, other.value()});
      net.cut.insert({other.value(), id});
    }
  }
  void heal() { net.cut.clear(); }

  network net;

 protected:
  std::vector<node_id> ids_;
  std::vector<std::unique_ptr<disk>> disks_;
};

// Nodes applying to a StateMachine (a recorder in most tests).
template <class StateMachine>
class basic_cluster : public fabric {
  using test_node = quorum::paxos::node<basic_policies<StateMachine>>;

 public:
  explicit basic_cluster(std::size_t n, options o = test_options()) : fabric{n}, opts_{o} { nodes_.resize(n); }

  void start() {
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (!nodes_[i]) boot(i);
  }

  test_node& operator[](std::uint64_t id) { return *nodes_.at(id - 1); }
  bool up(std::uint64_t id) const { return nodes_.at(id - 1) != nullptr; }
  std::size_t size() const { return nodes_.size(); }

  // Loses the node's volatile state and unsynced writes; `back` boots it again.
  void crash(std::uint64_t id) {
    disk& d = disk_of(id);
    d.live = d.durable;
    nodes_[id - 1].reset();
  }
  void restart(std::uint64_t id) {
    crash(id);
    boot(id - 1);
  }

  void tick_all(int times = 1) {
    for (int k = 0; k < times; ++k)
      for (auto& n : nodes_)
        if (n) n->tick();
  }

  // Delivers queued messages (and those they cause) until none is left or
  // `limit` were handled; `keep` may drop a message by returning false.
  std::size_t deliver(const std::function<bool(const envelope&)>& keep = {}, std::size_t limit = 100000) {
    std::size_t n = 0;
    while (!net.queue.empty() && n < limit) {
      envelope e = std::move(net.queue.front());
      net.queue.pop_front();
      ++n;
      if (net.cut.count({e.from.value(), e.to.value()}) != 0) continue;
      if (keep && !keep(e)) continue;
      if (nodes_.at(e.to.value() - 1)) (*this)[e.to.value()].receive(byte_view{e.bytes});
    }
    return n;
  }

  // Ticks `id` until it runs phase 1, then delivers everything.
  void elect(std::uint64_t id) {
    test_node& n = (*this)[id];
    for (int k = 0; k < 1000 && n.role() == role::follower; ++k) n.tick();
    deliver();
  }

  // Ticks everyone and delivers until some node leads; its id (0: none in `rounds`).
  std::uint64_t settle(int rounds = 400) {
    for (int r = 0; r < rounds; ++r) {
      if (std::uint64_t l = leader(); l != 0) return l;
      tick_all();
      deliver();
    }
    return leader();
  }

  std::uint64_t leader() {
    std::uint64_t best = 0;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (!nodes_[i] || nodes_[i]->role() != role::leader) continue;
      if (best == 0 || nodes_[i]->current_ballot() > (*this)[best].current_ballot()) best = i + 1;
    }
    return best;
  }

  std::vector<std::string> applied_values(std::uint64_t id) {
    std::vector<std::string> out;
    for (const auto& [slot, v] : (*this)[id].state_machine().applied) out.push_back(v);
    return out;
  }

 private:
  void boot(std::size_t i) {
    nodes_[i] = std::make_unique<test_node>(ids_[i], ids_, test_transport{&net}, test_log{disks_[i].get()},
                                            manual_clock{}, StateMachine{}, opts_);
    REQUIRE(nodes_[i]->status().has_value());
  }

  options opts_;
  std::vector<std::unique_ptr<test_node>> nodes_;
};
using cluster = basic_cluster<recorder>;

// A message built by hand, as a peer would send it.
inline message msg(message_type type, std::uint64_t from, std::uint64_t to, ballot b) {
  message m;
  m.type = type;
  m.from = node_id{from};
  m.to = node_id{to};
  m.bal = b;
  return m;
}

inline ballot bal(std::uint64_t round, std::uint64_t node) { return ballot{round, node_id{node}}; }

}  // namespace paxos_test
