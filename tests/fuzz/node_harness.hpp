// What the node fuzzers share: a cluster of a few nodes of one protocol in
// memory, driven step by step by the fuzzer's bytes. Real traffic is
// delivered, dropped, duplicated or bit-flipped; nodes tick, propose, read,
// snapshot, crash and restart; and forged messages (every field the fuzzer's choice, from
// members and strangers) and raw bytes arrive. The property: nothing the
// network carries makes a node crash, trip an assertion or undefined
// behaviour (the fuzzers build with ASan and UBSan), apply out of order, or
// stop: a node's status stays ok, since its own Log never fails here.
// Safety is not checked: forged messages from a member are Byzantine, which
// neither protocol claims to survive; the simulator checks safety.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "quorum/core/bytes.hpp"
#include "quorum/core/ids.hpp"
#include "quorum/core/result.hpp"
#include "quorum/storage/memory_log.hpp"
#include "quorum/storage/memory_snapshot_store.hpp"

namespace quorum::fuzz {

[[noreturn]] inline void node_fuzz_failed(const char* what, std::uint64_t node) {
  std::fprintf(stderr, "node fuzzer: node %llu: %s\n", static_cast<unsigned long long>(node), what);
  std::abort();
}

struct envelope {
  node_id to;
  byte_buffer bytes;
};

// The network: every message encoded, in one queue (bounded: a node that
// floods it loses messages, which both protocols tolerate).
struct wire {
  std::deque<envelope> queue;
  static constexpr std::size_t max_queued = 512;
};

template <class Message>
struct queue_transport {
  wire* net = nullptr;
  void send(node_id to, const Message& m) {
    if (net->queue.size() >= wire::max_queued) return;
    envelope e{to, {}};
    encode(m, e.bytes);  // the protocol's encode, by argument-dependent lookup
    net->queue.push_back(std::move(e));
  }
};

// A node's storage across restarts: `live` is what the node writes, `durable`
// what survives a crash (a sync copies it over); a saved snapshot survives.
struct disk {
  storage::memory_log live;
  storage::memory_log durable;
  storage::memory_snapshot_store snapshots;
  void crash() { live = durable; }
};

// The Log a node owns: its disk's live log, made durable by sync().
struct disk_log {
  disk* d = nullptr;
  log_index first_index() const { return d->live.first_index(); }
  log_index last_index() const { return d->live.last_index(); }
  result<log_index> append(byte_view b) { return d->live.append(b); }
  result<byte_view> read(log_index i) { return d->live.read(i); }
  result<void> truncate(log_index i) { return d->live.truncate(i); }
  result<void> compact(log_index i) { return d->live.compact(i); }
  result<void> save_state(byte_view b) { return d->live.save_state(b); }
  byte_view state() const { return d->live.state(); }
  result<void> sync() {
    d->durable = d->live;
    return {};
  }
};

// disk_log promising that its records stay in place (core/log.hpp), as
// memory_log's do, and saying where it placed one: the Multi-Paxos journal
// then views values in the live log instead of copying them. It holds: the
// live log only changes by appends and compactions while a node runs, and
// is replaced (crash(), damage()) only after the node is gone.
struct in_place_disk_log : disk_log {
  static constexpr bool records_stay_in_place = true;
  result<log_index> append(byte_view b) { return d->live.append(b); }
  result<log_index> append(byte_view head, byte_view body, byte_view& placed) {
    return d->live.append(head, body, placed);
  }
};

// What a failing disk might do to what a node made durable: a bit flipped
// or the end cut off in one record, the records from one on lost, a bit
// flipped in the hard state or in the snapshot image. memory_log keeps no
// checksums, so the node reads the damage as it is (file_log's CRCs would
// catch most of it; this is the case they miss). A node whose disk was
// damaged may stop with an error, never crash.
inline void damage(disk& d, FuzzedDataProvider& in) {
  const auto flip = [&](byte_buffer& b) {
    if (b.empty()) return;
    const auto bit = in.ConsumeIntegralInRange<std::size_t>(0, b.size() * 8 - 1);
    b[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
  };
  const int what = in.ConsumeIntegralInRange<int>(0, 4);
  if (what == 4) {
    auto image = d.snapshots.load();
    byte_buffer b(image->begin(), image->end());
    flip(b);
    if (!b.empty()) (void)d.snapshots.save(b);
    return;
  }
  const log_index first = d.durable.first_index();
  const log_index last = d.durable.last_index();
  const std::uint64_t n = last >= first ? last - first + 1 : 0;
  const std::uint64_t victim = n == 0 ? 0 : in.ConsumeIntegralInRange<std::uint64_t>(0, n - 1);
  storage::memory_log out;
  for (log_index i{1}; i < first; i = i.next()) (void)out.append(byte_view{});
  (void)out.compact(first);
  for (std::uint64_t k = 0; k < n; ++k) {
    const byte_view r = *d.durable.read(first + k);
    byte_buffer b(r.begin(), r.end());
    if (k == victim && what == 0) flip(b);
    if (k == victim && what == 1) b.resize(in.ConsumeIntegralInRange<std::size_t>(0, b.size()));
    if (k == victim && what == 2) break;
    (void)out.append(b);
  }
  byte_buffer state(d.durable.state().begin(), d.durable.state().end());
  if (what == 3) flip(state);
  (void)out.save_state(state);
  d.durable = std::move(out);
}

struct disk_snapshots {
  disk* d = nullptr;
  result<void> save(byte_view b) { return d->snapshots.save(b); }
  result<byte_view> load() { return d->snapshots.load(); }
};

// Time stands still: nodes move on ticks alone (lease reads are off).
struct still_clock {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<still_clock, duration>;
  time_point now() const noexcept { return time_point{}; }
};

// Applies in order (or fails the run), snapshots as the last index applied
// and a running digest, and counts reads answered.
struct checking_state_machine {
  // The most commands any node applied in this input: QUORUM_FUZZ_DEPTH=1
  // prints it per input, to see that a corpus reaches elections and commits.
  static inline std::uint64_t most_applied = 0;
  std::uint64_t node = 0;
  std::uint64_t last = 0;
  std::uint64_t digest = 0;
  std::uint64_t reads = 0;
  void apply(log_index i, byte_view b) {
    if (i.value() <= last) node_fuzz_failed("applied an index at or below one applied before", node);
    last = i.value();
    most_applied = std::max(most_applied, last);
    for (std::byte x : b) digest = digest * 131 + static_cast<std::uint64_t>(x);
  }
  void snapshot(byte_buffer& out) const {
    for (std::uint64_t v : {last, digest})
      for (int k = 0; k < 8; ++k) out.push_back(static_cast<std::byte>(v >> (8 * k)));
  }
  void restore(log_index i, byte_view image) {
    // An image a forged snapshot carried may hold anything: the node checked
    // its framing and checksum, not this state machine's layout.
    last = i.value();
    digest = image.size();
  }
  void read_ready(std::uint64_t, log_index) { ++reads; }
  void read_failed(std::uint64_t, const error&) { ++reads; }
};

// A value small enough to meet the cluster's real ones (ids, terms, indices
// near what the run reached), or any 64-bit value.
inline std::uint64_t small_or_any(FuzzedDataProvider& in) {
  return in.ConsumeBool() ? in.ConsumeIntegralInRange<std::uint64_t>(0, 24) : in.ConsumeIntegral<std::uint64_t>();
}

// Bytes that stay alive, where they are, until the step that made them is
// over (a deque: a short string lives inside its element, and a vector
// would move it).
struct scratch {
  std::deque<std::string> strings;
  byte_view bytes(FuzzedDataProvider& in, std::size_t max) {
    strings.push_back(in.ConsumeRandomLengthString(max));
    return as_bytes(strings.back());
  }
};

// A node must keep running (its own Log never fails here), unless its disk
// was damaged: then it may stop, with an error.
template <class Node>
void expect_running(const Node& n, bool damaged, std::uint64_t id) {
  if (!n.status() && !damaged) node_fuzz_failed(n.status().error().message().c_str(), id);
}

// A forged message reaches a node through the codec when the input says so
// (what a peer can send), else as built (what an in-process transport can
// hand over, checked by no decoder).
template <class Node, class Message>
void receive_forged(Node& n, const Message& m, FuzzedDataProvider& in) {
  if (in.ConsumeBool()) {
    byte_buffer bytes;
    encode(m, bytes);  // the protocol's encode, by argument-dependent lookup
    n.receive(byte_view{bytes});
  } else {
    n.receive(m);
  }
}

// The policies of a replicated-log node under the fuzzer (Raft's or
// Multi-Paxos's: Message is its message type).
template <class Message, class Log = disk_log>
struct replica_policies {
  using transport = queue_transport<Message>;
  using log = Log;
  using clock = still_clock;
  using state_machine = checking_state_machine;
  using snapshot_store = disk_snapshots;
};

// Three nodes of a replicated log, Raft or Multi-Paxos (the same verbs and
// constructor), each on a disk that survives its restarts. A fuzzer derives
// from it and adds forge(i, input, scratch).
template <class Node, class Options>
struct replica_cluster {
  static constexpr std::uint64_t size = 3;
  wire* net;
  Options opts;
  std::array<disk, size> disks;
  std::array<bool, size> damaged{};
  std::array<std::unique_ptr<Node>, size> nodes;
  std::uint64_t reads = 0;

  replica_cluster(wire& w, Options o) : net{&w}, opts{o} {
    for (std::uint64_t i = 1; i <= size; ++i) boot(i);
  }
  void boot(std::uint64_t i) {
    const std::array<node_id, size> members{node_id{1}, node_id{2}, node_id{3}};
    Options o = opts;
    o.seed = i;
    typename Node::log_type log;
    log.d = &disks[i - 1];
    nodes[i - 1] = std::make_unique<Node>(node_id{i}, members, typename Node::transport_type{net}, log, still_clock{},
                                          checking_state_machine{i, 0, 0, 0}, disk_snapshots{&disks[i - 1]}, o);
  }
  void restart(std::uint64_t i) {
    end_batch();           // the guard points at the node, and ends with a flush
    nodes[i - 1].reset();  // first: it may view its disk's live log
    disks[i - 1].crash();
    boot(i);
  }
  Node& at(std::uint64_t i) { return *nodes[i - 1]; }

  void deliver(const envelope& e) { at(e.to.value()).receive(byte_view{e.bytes}); }
  void raw(std::uint64_t i, byte_view bytes) { at(i).receive(bytes); }
  void tick(std::uint64_t i) { at(i).tick(); }
  void propose(std::uint64_t i, byte_view command) { (void)at(i).propose(command); }
  void snapshot(std::uint64_t i) { (void)at(i).take_snapshot(); }
  void read(std::uint64_t i) { (void)at(i).read(++reads); }
  void check(std::uint64_t i) { expect_running(at(i), damaged[i - 1], i); }
  // A batch() held open on node i across the next steps: proposals staged
  // while messages arrive, ticks run and reads are asked.
  void begin_batch(std::uint64_t i) {
    end_batch();
    batch = std::make_unique<typename Node::batch_guard>(at(i));
  }
  void end_batch() { batch.reset(); }

  std::unique_ptr<typename Node::batch_guard> batch;
};

// The steps, one byte each; the protocol's harness does each with its node type.
enum class step : std::uint8_t {
  deliver,          // the oldest message reaches its node
  deliver_newest,   // the newest one does, ahead of the rest (reordering)
  drop,             // the oldest message is lost
  duplicate,        // the oldest message is delivered and stays queued
  corrupt,          // the oldest message has one bit flipped, then is delivered
  tick,             // one node ticks
  tick_all,         // every node ticks a few times
  propose,          // every node proposes a command (the leader's is taken)
  forge,            // a message with every field chosen reaches a node
  raw,              // bytes that may be no message reach a node
  snapshot,         // a node snapshots its state machine
  read,             // a node asks for a linearizable read
  restart,          // a node crashes (its unsynced writes lost) and starts again
  damage,           // a node crashes, its disk is damaged (damage()), and it starts again
  count
};

// Runs the cluster on the input: Cluster has `size` (its nodes are
// 1..size), `disks` and `damaged` (one each), and deliver(envelope), tick(i),
// propose(i, bytes), forge(i, input, scratch), raw(i, bytes), restart(i) and
// check(i), each for node i, and snapshot(i) and read(i) if its protocol has them.
template <class Cluster>
void run_steps(Cluster& c, wire& net, FuzzedDataProvider& in) {
  constexpr std::uint64_t size = Cluster::size;
  const auto member = [](const envelope& e) { return e.to.value() >= 1 && e.to.value() <= size; };
  checking_state_machine::most_applied = 0;
  int batch_steps = 0;  // steps left in a batch() held open (clusters that can hold one)
  for (int n = 0; n < 4096 && in.remaining_bytes() > 0; ++n) {
    scratch s;
    const auto what =
        static_cast<step>(in.ConsumeIntegralInRange<std::uint8_t>(0, static_cast<std::uint8_t>(step::count) - 1));
    const auto node = in.ConsumeIntegralInRange<std::uint64_t>(1, size);
    switch (what) {
      case step::deliver:
      case step::drop:
      case step::duplicate:
      case step::corrupt: {
        if (net.queue.empty()) break;
        envelope e = net.queue.front();
        if (what != step::duplicate) net.queue.pop_front();
        if (what == step::drop) break;
        if (what == step::corrupt && !e.bytes.empty()) {
          const auto bit = in.ConsumeIntegralInRange<std::size_t>(0, e.bytes.size() * 8 - 1);
          e.bytes[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
        }
        if (member(e)) c.deliver(e);
        break;
      }
      case step::deliver_newest: {
        if (net.queue.empty()) break;
        envelope e = std::move(net.queue.back());
        net.queue.pop_back();
        if (member(e)) c.deliver(e);
        break;
      }
      case step::tick: c.tick(node); break;
      case step::tick_all: {
        const int times = in.ConsumeIntegralInRange<int>(1, 12);
        for (int k = 0; k < times; ++k)
          for (std::uint64_t i = 1; i <= size; ++i) c.tick(i);
        break;
      }
      case step::propose: {
        // Now and then the proposals open a batch() on one node, held for
        // the next few steps.
        if constexpr (requires { c.begin_batch(node); }) {
          if (batch_steps == 0 && in.ConsumeIntegralInRange<std::uint8_t>(0, 3) == 0) {
            c.begin_batch(node);
            batch_steps = in.ConsumeIntegralInRange<int>(1, 8);
          }
        }
        const byte_view command = s.bytes(in, 48);
        for (std::uint64_t i = 1; i <= size; ++i) c.propose(i, command);
        break;
      }
      case step::forge: c.forge(node, in, s); break;
      case step::raw: c.raw(node, s.bytes(in, 96)); break;
      case step::snapshot:
        if constexpr (requires { c.snapshot(node); }) c.snapshot(node);
        break;
      case step::read:
        if constexpr (requires { c.read(node); }) c.read(node);
        break;
      case step::restart: c.restart(node); break;
      case step::damage:  // what a sync made durable is damaged, then the node restarts from it
        if constexpr (requires { c.end_batch(); }) c.end_batch();  // its flush comes before the damage
        damage(c.disks[node - 1], in);
        c.damaged[node - 1] = true;
        c.restart(node);
        break;
      case step::count: break;
    }
    if constexpr (requires { c.end_batch(); })
      if (batch_steps > 0 && --batch_steps == 0) c.end_batch();
    for (std::uint64_t i = 1; i <= size; ++i) c.check(i);
  }
  if constexpr (requires { c.end_batch(); }) c.end_batch();
  static const bool report = std::getenv("QUORUM_FUZZ_DEPTH") != nullptr;
  if (report)
    std::fprintf(stderr, "applied: %llu\n", static_cast<unsigned long long>(checking_state_machine::most_applied));
}

}  // namespace quorum::fuzz
