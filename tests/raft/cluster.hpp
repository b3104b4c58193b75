// A small deterministic harness for Raft scenario tests, in the manner of
// etcd's raft_paper_test: messages wait in one queue until the test delivers
// them; links can be cut; each node's disk keeps what was synced, so a
// restart loses exactly the unsynced writes. Every send is checked against
// the durability rule: a promise must already be on the sender's synced disk.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "quorum/raft.hpp"
#include "quorum/codec/reader.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/storage/memory_log.hpp"
#include "quorum/storage/memory_snapshot_store.hpp"

namespace raft_test {

using namespace quorum;
using namespace quorum::raft;

// A node's storage: `live` is what the node sees, `durable` what a crash keeps.
struct disk {
  storage::memory_log live;
  storage::memory_log durable;
  storage::memory_snapshot_store snapshots;  // a save is durable when it returns
  std::uint64_t syncs = 0;
  bool fail_sync = false;
  std::uint64_t runs = 0;         // append_run calls the Log took
  std::uint64_t run_records = 0;  // and the records in them
  bool fail_runs = false;
  // async_test_log: syncs started and not yet finished, each with the image it makes durable.
  struct started_sync {
    sync_ticket ticket;
    storage::memory_log image;
    std::uint64_t order;  // a finish never takes `durable` back behind a later sync
  };
  std::vector<started_sync> started;
  std::uint64_t sync_order = 0;    // syncs asked for, started or not
  std::uint64_t durable_order = 0;  // the latest of them `durable` holds
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
  std::vector<std::string> violations;     // durability-rule breaches seen at send time
  std::vector<std::string> events;         // "sync N" / "send N type", in order
  std::set<std::pair<std::uint64_t, std::uint64_t>> cut;  // links that lose everything
  bool record_events = false;

  void check_promise(node_id from, const message& m);
};

struct test_transport {
  network* net;
  void send(node_id to, const message& m) {
    net->check_promise(m.from, m);
    if (net->record_events) net->events.push_back("send " + std::to_string(m.from.value()) + " " + to_string(m.type));
    envelope e{m.from, to, m.type, {}};
    encode(m, e.bytes);
    net->queue.push_back(std::move(e));
  }
};

// The Log handle a node owns: forwards to its disk, and sync() copies live to durable.
// InPlace: it makes core/log.hpp's promise that records stay in place (true of
// the memory_log it forwards to while the node lives: a restart replaces
// `live` only once the node is gone), so that raft_log's cache views them.
template <bool InPlace>
struct basic_test_log {
  static constexpr bool records_stay_in_place = InPlace;
  disk* d;
  network* net;
  node_id self;
  log_index first_index() const { return d->live.first_index(); }
  log_index last_index() const { return d->live.last_index(); }
  result<log_index> append(byte_view b) { return d->live.append(b); }
  // The optional run append (core/log.hpp), counted so that a test sees how
  // entries reached the Log.
  result<log_index> append_run(std::span<const record_parts> rs) {
    if (d->fail_runs) return fail(errc::io_error, "test: run append refused", 6);
    ++d->runs;
    d->run_records += rs.size();
    return d->live.append_run(rs);
  }
  result<byte_view> read(log_index i) { return d->live.read(i); }
  result<void> truncate(log_index i) { return d->live.truncate(i); }
  result<void> compact(log_index i) { return d->live.compact(i); }
  result<void> save_state(byte_view b) { return d->live.save_state(b); }
  byte_view state() const { return d->live.state(); }
  result<void> sync() {
    if (d->fail_sync) return fail(errc::io_error, "test: sync refused", 5);
    d->durable = d->live;
    d->durable_order = ++d->sync_order;
    ++d->syncs;
    if (net->record_events) net->events.push_back("sync " + std::to_string(self.value()));
    return {};
  }
};

using test_log = basic_test_log<false>;
using in_place_test_log = basic_test_log<true>;

// The test Log with core/log.hpp's start_sync: a started sync keeps the image
// it will make durable; finish_sync() below finishes it.
struct async_test_log : basic_test_log<false> {
  result<bool> start_sync(const sync_ticket& t) {
    if (d->fail_sync) return fail(errc::io_error, "test: sync refused", 5);
    d->started.push_back({t, d->live, ++d->sync_order});
    if (net->record_events) net->events.push_back("start sync " + std::to_string(self.value()));
    return true;
  }
};

// Finishes started sync k of the node (the oldest by default): its image
// becomes durable (unless a later sync's already is), then the node hears.
template <class Node>
void finish_sync(Node& n, disk& d, std::size_t k = 0) {
  REQUIRE(k < d.started.size());
  disk::started_sync s = std::move(d.started[k]);
  d.started.erase(d.started.begin() + static_cast<std::ptrdiff_t>(k));
  if (s.order > d.durable_order) {
    d.durable = std::move(s.image);
    d.durable_order = s.order;
  }
  n.log_synced(s.ticket);
}

struct manual_clock {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<manual_clock, duration>;
  time_point now() const noexcept { return time_point{}; }
};

// What became of one read: served at `index`, or failed with `code`/`detail`.
struct read_outcome {
  std::uint64_t id{};
  bool served{false};
  std::uint64_t index{};
  errc code{};
  std::uint64_t detail{};
};

// Records what it applies; its snapshot is that record, so a restored node
// still shows every command applied before the snapshot, in order.
struct recorder {
  std::vector<std::pair<std::uint64_t, std::string>> applied;
  std::uint64_t restored_at = 0;  // the index of the last snapshot restored (0: none)
  std::vector<read_outcome> reads;
  void apply(log_index i, byte_view b) {
    REQUIRE((applied.empty() || applied.back().first < i.value()));
    REQUIRE(i.value() > restored_at);
    applied.emplace_back(i.value(), std::string(as_chars(b)));
  }
  void snapshot(byte_buffer& out) const {
    codec::writer w{out};
    w.varint(applied.size());
    for (const auto& [i, v] : applied) {
      w.varint(i);
      w.prefixed_string(v);
    }
  }
  void restore(log_index at, byte_view b) {
    codec::reader r{b};
    auto n = r.varint();
    REQUIRE(n.has_value());
    applied.clear();
    for (std::uint64_t k = 0; k < *n; ++k) {
      auto i = r.varint();
      auto v = r.prefixed_string(b.size());
      REQUIRE((i && v));
      applied.emplace_back(*i, std::string(*v));
    }
    REQUIRE(r.empty());
    restored_at = at.value();
  }
  void read_ready(std::uint64_t id, log_index i) {
    reads.push_back(read_outcome{id, true, i.value(), {}, 0});
  }
  void read_failed(std::uint64_t id, const error& e) { reads.push_back(read_outcome{id, false, 0, e.code, e.detail}); }
};

// Default-constructed (a node built without one): holds nothing, saves nothing.
struct test_snapshot_store {
  disk* d = nullptr;
  result<void> save(byte_view b) {
    if (d == nullptr) return fail(errc::invalid_argument, "test: no snapshot store");
    return d->snapshots.save(b);
  }
  result<byte_view> load() { return d == nullptr ? byte_view{} : d->snapshots.load(); }
};

template <class Log, class StateMachine = recorder>
struct basic_policies {
  using transport = test_transport;
  using log = Log;
  using clock = manual_clock;
  using state_machine = StateMachine;
  using snapshot_store = test_snapshot_store;
};
using policies = basic_policies<test_log>;

using test_node = quorum::raft::node<policies>;

inline hard_state durable_state(const disk& d) { return *decode_hard_state(d.durable.state()); }

inline void network::check_promise(node_id from, const message& m) {
  const disk& d = *disks.at(from.value());
  const hard_state hs = durable_state(d);
  const std::string who = "node " + std::to_string(from.value()) + " ";
  if (m.type == message_type::request_vote && !(hs.term == m.term && hs.vote == from))
    violations.push_back(who + "asked for votes before its term and self-vote were synced");
  if (m.type == message_type::request_vote_response && !m.reject && !(hs.term == m.term && hs.vote == m.to))
    violations.push_back(who + "granted a vote before it was synced");
  if (m.type == message_type::append_entries_response && !m.reject && d.durable.last_index() < m.index)
    violations.push_back(who + "acknowledged entries before they were synced");
}

inline options test_options(bool pre_vote = true, bool check_quorum = true) {
  options o;
  o.election_ticks = 10;
  o.heartbeat_ticks = 1;
  o.pre_vote = pre_vote;
  o.check_quorum = check_quorum;
  return o;
}

// Appends entries of the given terms (data "t<term>i<index>") to a disk,
// durably, and sets the hard state's term: a node that lived before the test.
inline void preload(disk& d, const std::vector<std::uint64_t>& terms, std::uint64_t current_term) {
  byte_buffer rec;
  for (std::uint64_t t : terms) {
    rec.clear();
    const std::string data = "t" + std::to_string(t) + "i" + std::to_string(d.live.last_index().value() + 1);
    encode_entry_record(entry_view{term_id{t}, entry_kind::normal, as_bytes(data)}, rec);
    REQUIRE(d.live.append(rec));
  }
  rec.clear();
  encode_hard_state(hard_state{term_id{current_term}, no_node}, rec);
  REQUIRE(d.live.save_state(rec));
  d.durable = d.live;
}

// Log: test_log, or in_place_test_log for nodes whose entry caches view the Log;
// StateMachine: a recorder in most tests.
template <class Log, class StateMachine = recorder>
class basic_cluster {
 public:
  using node_type = quorum::raft::node<basic_policies<Log, StateMachine>>;

  explicit basic_cluster(std::size_t n, options o = test_options(), std::uint64_t seed = 1) : opts_{o} {
    opts_.seed = seed;
    for (std::size_t i = 1; i <= n; ++i) ids_.push_back(node_id{i});
    for (std::size_t i = 0; i < n; ++i) {
      disks_.push_back(std::make_unique<disk>());
      net.disks[i + 1] = disks_.back().get();
    }
    nodes_.resize(n);
    bootstrap_.assign(n, ids_);
  }

  // Adds node n+1 as a new machine with an empty disk, which knows no
  // configuration and waits for a leader to add it (not booted: see start()).
  std::uint64_t add_machine() {
    const std::uint64_t id = ids_.size() + 1;
    ids_.push_back(node_id{id});
    disks_.push_back(std::make_unique<disk>());
    net.disks[id] = disks_.back().get();
    nodes_.emplace_back();
    bootstrap_.emplace_back();
    return id;
  }

  // Boots every node not booted yet (call after preloading disks).
  void start() {
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (!nodes_[i]) boot(i);
  }

  node_type& operator[](std::uint64_t id) { return *nodes_.at(id - 1); }
  disk& disk_of(std::uint64_t id) { return *disks_.at(id - 1); }
  std::size_t size() const { return nodes_.size(); }
  const std::vector<node_id>& ids() const { return ids_; }

  // Loses the node's volatile state and unsynced writes, then boots it again.
  void restart(std::uint64_t id) {
    disk& d = disk_of(id);
    nodes_[id - 1].reset();  // first: its cache may view `live`
    d.live = d.durable;
    d.started.clear();  // crashed before they finished: what they covered may be gone
    boot(id - 1);
  }

  void tick(std::uint64_t id, int times = 1) {
    for (int k = 0; k < times; ++k) (*this)[id].tick();
  }

  void isolate(std::uint64_t id) {
    for (auto other : ids_) {
      if (other.value() == id) continue;
      cut.insert({id, other.value()});
      cut.insert({other.value(), id});
    }
  }
  void heal() { cut.clear(); }

  // Delivers queued messages (and those they cause) until none is left or
  // `limit` were handled; `keep` may drop a message by returning false.
  std::size_t deliver(const std::function<bool(const envelope&)>& keep = {}, std::size_t limit = 100000) {
    std::size_t n = 0;
    while (!net.queue.empty() && n < limit) {
      envelope e = std::move(net.queue.front());
      net.queue.pop_front();
      ++n;
      if (cut.count({e.from.value(), e.to.value()}) != 0) continue;
      if (keep && !keep(e)) continue;
      const std::uint64_t to = e.to.value();
      if (to == 0 || to > nodes_.size()) continue;  // to a node this test does not run: lost
      if (nodes_[to - 1]) (*this)[to].receive(byte_view{e.bytes});
    }
    return n;
  }

  void drop_all() { net.queue.clear(); }

  // Ticks `id` until it starts campaigning, then delivers everything.
  void elect(std::uint64_t id) {
    node_type& n = (*this)[id];
    for (int k = 0; k < 1000 && n.role() == raft::role::follower; ++k) n.tick();
    deliver();
  }

  // The current leader with the highest term, 0 if none.
  std::uint64_t leader() {
    std::uint64_t best = 0;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (!nodes_[i] || nodes_[i]->role() != raft::role::leader) continue;
      if (best == 0 || nodes_[i]->term() > (*this)[best].term()) best = i + 1;
    }
    return best;
  }

  std::vector<std::uint64_t> log_terms(std::uint64_t id) {
    std::vector<std::uint64_t> out;
    node_type& n = (*this)[id];
    for (log_index i = n.first_index(); i <= n.last_index(); i = i.next()) out.push_back(n.term_at(i)->value());
    return out;
  }

  network net;
  std::set<std::pair<std::uint64_t, std::uint64_t>>& cut = net.cut;

 private:
  void boot(std::size_t i) {
    nodes_[i] = std::make_unique<node_type>(ids_[i], bootstrap_[i], test_transport{&net},
                                            Log{disks_[i].get(), &net, ids_[i]}, manual_clock{},
                                            StateMachine{}, test_snapshot_store{disks_[i].get()}, opts_);
  }

  options opts_;
  std::vector<node_id> ids_;
  std::vector<std::unique_ptr<disk>> disks_;
  std::vector<std::unique_ptr<node_type>> nodes_;
  std::vector<std::vector<node_id>> bootstrap_;  // per node: the members it boots with
};

using cluster = basic_cluster<test_log>;
using in_place_cluster = basic_cluster<in_place_test_log>;
using async_cluster = basic_cluster<async_test_log>;

// A message built by hand, as a peer would send it.
inline message msg(message_type type, std::uint64_t from, std::uint64_t to, std::uint64_t term) {
  message m;
  m.type = type;
  m.from = node_id{from};
  m.to = node_id{to};
  m.term = term_id{term};
  return m;
}

// Decodes the queued messages of one type (entries view `storage` and the queue).
inline std::vector<message> queued(network& net, message_type type, std::vector<std::vector<entry_view>>& storage) {
  std::vector<message> out;
  storage.clear();
  storage.reserve(net.queue.size());
  for (const envelope& e : net.queue) {
    if (e.type != type) continue;
    storage.emplace_back();
    out.push_back(*decode(byte_view{e.bytes}, storage.back()));
  }
  return out;
}

}  // namespace raft_test
