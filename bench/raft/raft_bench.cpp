// Raft: quorum against canonical raft (Debian libraft-dev, its in-memory
// fixture), and quorum's Multi-Paxos on the same workload (BM_paxos_*):
// three voters in one process, 64-byte commands. Committed entries
// per second (all three applied), heap allocations and messages per committed
// entry, one proposal at a time and in batches of 64; ns per follower receive
// of a 64-entry append; commit latency in message delays. bench/README.md
// says what each side does per entry.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "paxos_cluster.hpp"
#include "quorum_cluster.hpp"
#include "recovery_cluster.hpp"

#if QUORUM_BENCH_HAVE_LIBRAFT
#include "canonical_cluster.hpp"
#endif

namespace {

using namespace quorum_bench;

// Committed entries of warm-up: every buffer, queue slot and log arena of the
// quorum cluster reaches its working size before anything is counted.
constexpr std::uint64_t quorum_warmup_entries = 4096;

void report(benchmark::State& state, std::uint64_t entries, std::uint64_t allocations, std::uint64_t messages) {
  const auto per_entry = [&](std::uint64_t v) { return static_cast<double>(v) / static_cast<double>(entries); };
  state.SetItemsProcessed(static_cast<std::int64_t>(entries));
  state.counters["allocs_per_entry"] = per_entry(allocations);
  state.counters["msgs_per_entry"] = per_entry(messages);
}

// range(0): entries per batch (1: one proposal at a time); range(1): 1 = wire
// mode. The same body for quorum's Raft and quorum's Multi-Paxos.
// one_request: a batch is one node::propose_all() of all its commands (the
// call shape of canonical raft's one raft_apply of n buffers), not n
// propose() calls inside one batch().
template <class Cluster>
void run_commit(benchmark::State& state, bool one_request = false) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  Cluster c{state.range(1) == 1 ? wire_mode::wire : wire_mode::copy};
  const auto commit = [&] {
    if (batch == 1) return c.commit_one();
    if constexpr (requires { c.commit_batch_one_request(batch); })
      if (one_request) return c.commit_batch_one_request(batch);
    return c.commit_batch(batch);
  };
  if (auto e = c.elect(); !e.empty()) return state.SkipWithError(e.c_str());
  for (std::uint64_t k = 0; k < quorum_warmup_entries / batch; ++k)
    if (!commit()) return state.SkipWithError("warm-up commit failed");
  const std::uint64_t applied0 = c.applied_everywhere_count();
  const std::uint64_t messages0 = c.messages_sent();
  const std::uint64_t syncs0 = c.syncs();
  const std::uint64_t allocs0 = heap_allocations();
  for (auto _ : state) {
    if (!commit()) return state.SkipWithError("commit failed");
  }
  const std::uint64_t allocs = heap_allocations() - allocs0;
  const std::uint64_t entries = c.applied_everywhere_count() - applied0;
  if (entries != static_cast<std::uint64_t>(state.iterations()) * batch)
    return state.SkipWithError("an entry was not applied everywhere");
  report(state, entries, allocs, c.messages_sent() - messages0);
  state.counters["syncs_per_entry"] = static_cast<double>(c.syncs() - syncs0) / static_cast<double>(entries);
}
void BM_quorum_commit(benchmark::State& state) { run_commit<quorum_cluster>(state); }
void BM_paxos_commit(benchmark::State& state) { run_commit<paxos_cluster>(state); }
void BM_quorum_commit_one_request(benchmark::State& state) { run_commit<quorum_cluster>(state, true); }
void BM_paxos_commit_one_request(benchmark::State& state) { run_commit<paxos_cluster>(state, true); }
BENCHMARK(BM_quorum_commit_one_request)->ArgNames({"batch", "wire"})->Args({64, 0})->Args({64, 1});
BENCHMARK(BM_paxos_commit_one_request)->ArgNames({"batch", "wire"})->Args({64, 0})->Args({64, 1});
BENCHMARK(BM_quorum_commit)
    ->ArgNames({"batch", "wire"})
    ->Args({1, 0})
    ->Args({64, 0})
    ->Args({1, 1})
    ->Args({64, 1});
BENCHMARK(BM_paxos_commit)
    ->ArgNames({"batch", "wire"})
    ->Args({1, 0})
    ->Args({64, 0})
    ->Args({1, 1})
    ->Args({64, 1});

// Message delays from propose to the leader's commit and to the last apply,
// delivering in rounds (a round: every message in flight when it began).
template <class Cluster>
void run_commit_latency(benchmark::State& state) {
  Cluster c;
  if (auto e = c.elect(); !e.empty()) return state.SkipWithError(e.c_str());
  for (std::uint64_t k = 0; k < quorum_warmup_entries; ++k)
    if (!c.commit_one()) return state.SkipWithError("warm-up commit failed");
  int commit_max = 0, applied_max = 0, commit_min = 1 << 30, applied_min = 1 << 30;
  for (auto _ : state) {
    const auto l = c.measure_rounds();
    if (l.all_applied < 0) return state.SkipWithError("the entry did not commit within 64 rounds");
    commit_min = std::min(commit_min, l.leader_commit);
    commit_max = std::max(commit_max, l.leader_commit);
    applied_min = std::min(applied_min, l.all_applied);
    applied_max = std::max(applied_max, l.all_applied);
  }
  state.counters["delays_to_leader_commit_min"] = commit_min;
  state.counters["delays_to_leader_commit_max"] = commit_max;
  state.counters["delays_to_all_applied_min"] = applied_min;
  state.counters["delays_to_all_applied_max"] = applied_max;
}
void BM_quorum_commit_latency(benchmark::State& state) { run_commit_latency<quorum_cluster>(state); }
void BM_paxos_commit_latency(benchmark::State& state) { run_commit_latency<paxos_cluster>(state); }
BENCHMARK(BM_quorum_commit_latency)->Iterations(1000);
BENCHMARK(BM_paxos_commit_latency)->Iterations(1000);

// Ticks from a leader's crash until a new leader has committed a new command
// (recovery_cluster.hpp): one seed per iteration, seeds 1, 2, ...; range(0):
// nodes, range(1): delivery rounds per tick (0: the network is instant).
template <class Protocol>
void run_recovery(benchmark::State& state) {
  std::vector<std::uint64_t> ticks, messages;
  std::uint64_t seed = 0, failed = 0, repeated = 0;
  for (auto _ : state) {
    recovery_setup s;
    s.nodes = static_cast<std::size_t>(state.range(0));
    s.rounds_per_tick = static_cast<std::uint32_t>(state.range(1));
    s.seed = ++seed;
    recovery_cluster<Protocol> c{s};
    const recovery_result r = c.run(20);
    if (!r.recovered) {
      ++failed;
      continue;
    }
    ticks.push_back(r.ticks);
    messages.push_back(r.messages);
    if (r.elections > 1) ++repeated;
  }
  if (ticks.empty()) return state.SkipWithError("no seed recovered");
  const auto at = [](std::vector<std::uint64_t>& v, double q) {
    std::sort(v.begin(), v.end());
    return static_cast<double>(v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))]);
  };
  state.counters["seeds"] = static_cast<double>(seed);
  state.counters["not_recovered"] = static_cast<double>(failed);
  state.counters["ticks_min"] = at(ticks, 0.0);
  state.counters["ticks_median"] = at(ticks, 0.5);
  state.counters["ticks_p99"] = at(ticks, 0.99);
  state.counters["ticks_max"] = at(ticks, 1.0);
  state.counters["msgs_median"] = at(messages, 0.5);
  // Seeds whose recovery took more than one election (a split vote, duelling proposers).
  state.counters["seeds_2plus_elections"] = static_cast<double>(repeated);
}
void BM_raft_recovery(benchmark::State& state) { run_recovery<raft_protocol>(state); }
void BM_paxos_recovery(benchmark::State& state) { run_recovery<paxos_protocol>(state); }
BENCHMARK(BM_raft_recovery)->ArgNames({"nodes", "rounds_per_tick"})->ArgsProduct({{3, 5}, {0, 1}})->Iterations(2000);
BENCHMARK(BM_paxos_recovery)->ArgNames({"nodes", "rounds_per_tick"})->ArgsProduct({{3, 5}, {0, 1}})->Iterations(2000);

// A follower that only receives: its acknowledgements go nowhere.
struct sink_transport {
  std::uint64_t* sent;
  void send(node_id, const quorum::raft::message&) noexcept { ++*sent; }
};
struct follower_policies {
  using transport = sink_transport;
  using log = quorum::storage::memory_log;
  using clock = frozen_clock;
  using state_machine = counting_state_machine;
};
using follower_node = quorum::raft::node<follower_policies>;

// Appends per follower before it is re-created (untimed), which bounds the
// memory its log holds: 2048 x 64 entries of 64 bytes, about 9 MB.
constexpr std::uint64_t appends_per_follower = 2048;
constexpr std::size_t entries_per_append = 64;

// Builds the steady stream a leader of term 1 sends follower 2: append k
// carries indexes 64k+1 .. 64k+64 and commits what append k-1 carried.
class append_stream {
 public:
  append_stream() {
    for (auto& e : views_) e = quorum::raft::entry_view{quorum::term_id{1}, quorum::raft::entry_kind::normal, payload_};
  }
  [[nodiscard]] quorum::raft::message at(std::uint64_t k) const noexcept {
    quorum::raft::message m;
    m.type = quorum::raft::message_type::append_entries;
    m.from = node_id{1};
    m.to = node_id{2};
    m.term = quorum::term_id{1};
    m.index = log_index{k * entries_per_append};
    m.log_term = quorum::term_id{k == 0 ? 0u : 1u};
    m.commit = m.index;
    m.entries = views_;
    return m;
  }

 private:
  std::array<std::byte, command_bytes> payload_{};
  std::array<quorum::raft::entry_view, entries_per_append> views_{};
};

std::unique_ptr<follower_node> make_follower(std::uint64_t* sent) {
  const std::vector<node_id> ids{node_id{1}, node_id{2}, node_id{3}};
  quorum::raft::options o;
  o.max_entries_per_append = entries_per_append;
  return std::make_unique<follower_node>(node_id{2}, ids, sink_transport{sent}, quorum::storage::memory_log{},
                                         frozen_clock{}, counting_state_machine{}, o);
}

// ns per follower receive() of one append_entries with 64 entries of 64
// bytes: term check, append to memory_log, sync, commit and apply the 64 of
// the previous append, acknowledge. range(0) = 1: the append arrives encoded
// and receive(byte_view) decodes it.
void BM_quorum_follower_receive_append64(benchmark::State& state) {
  const bool wire = state.range(0) == 1;
  const append_stream stream;
  std::uint64_t sent = 0;
  std::unique_ptr<follower_node> f;
  std::vector<byte_buffer> encoded(wire ? appends_per_follower : 0);
  std::uint64_t k = appends_per_follower;
  // Allocations while timed: the pauses' own are taken back out.
  std::uint64_t allocs = 0 - heap_allocations();
  std::uint64_t receives = 0;
  for (auto _ : state) {
    if (k == appends_per_follower) {
      state.PauseTiming();
      allocs += heap_allocations();
      f = make_follower(&sent);
      for (std::uint64_t j = 0; j < encoded.size(); ++j) {
        encoded[j].clear();
        quorum::raft::encode(stream.at(j), encoded[j]);
      }
      k = 0;
      allocs -= heap_allocations();
      state.ResumeTiming();
    }
    if (wire) f->receive(byte_view{encoded[k]});
    else f->receive(stream.at(k));
    ++k;
    ++receives;
    if (f->last_index().value() != k * entries_per_append) return state.SkipWithError("the follower refused an append");
  }
  // Re-creating the follower is excluded; its log's growth back to size is not.
  allocs += heap_allocations();
  state.SetItemsProcessed(static_cast<std::int64_t>(receives));
  state.counters["allocs_per_receive"] = static_cast<double>(allocs) / static_cast<double>(receives);
  state.counters["acks_per_receive"] = static_cast<double>(sent) / static_cast<double>(receives);
}
BENCHMARK(BM_quorum_follower_receive_append64)->ArgName("wire")->Arg(0)->Arg(1);

#if QUORUM_BENCH_HAVE_LIBRAFT

// range(0): entries per batch; range(1): 1 = one raft_apply carrying all of
// them, 0 = one raft_apply per entry (as quorum's side proposes).
void BM_canonical_commit(benchmark::State& state) {
  const auto batch = static_cast<unsigned>(state.range(0));
  const bool one_request = state.range(1) == 1;
  canonical_cluster c;
  if (auto e = c.start(); !e.empty()) return state.SkipWithError(e.c_str());
  const std::uint64_t applied0 = c.applied_everywhere_count();
  const std::uint64_t messages0 = c.messages_sent();
  const std::uint64_t steps0 = c.steps();
  const std::uint64_t allocs0 = canonical_heap_counter::allocations;
  for (auto _ : state) {
    if (!(batch == 1 ? c.commit_one() : c.commit_batch(batch, one_request)))
      return state.SkipWithError("commit failed");
  }
  const std::uint64_t allocs = canonical_heap_counter::allocations - allocs0;
  const std::uint64_t entries = c.applied_everywhere_count() - applied0;
  if (entries != static_cast<std::uint64_t>(state.iterations()) * batch)
    return state.SkipWithError("an entry was not applied everywhere");
  report(state, entries, allocs, c.messages_sent() - messages0);
  state.counters["steps_per_entry"] = static_cast<double>(c.steps() - steps0) / static_cast<double>(entries);
}
BENCHMARK(BM_canonical_commit)
    ->ArgNames({"batch", "one_request"})
    ->Args({1, 0})
    ->Args({64, 0})
    ->Args({64, 1});

// Simulated milliseconds from raft_apply to commit, every delay 1 ms.
void BM_canonical_commit_latency(benchmark::State& state) {
  canonical_cluster c;
  if (auto e = c.start(); !e.empty()) return state.SkipWithError(e.c_str());
  long commit_max = 0, applied_max = 0, commit_min = 1L << 30, applied_min = 1L << 30;
  for (auto _ : state) {
    const auto l = c.measure_latency();
    if (l.all_applied_ms < 0) return state.SkipWithError("the entry was not applied everywhere");
    commit_min = std::min(commit_min, l.leader_commit_ms);
    commit_max = std::max(commit_max, l.leader_commit_ms);
    applied_min = std::min(applied_min, l.all_applied_ms);
    applied_max = std::max(applied_max, l.all_applied_ms);
  }
  state.counters["ms_to_leader_commit_min"] = static_cast<double>(commit_min);
  state.counters["ms_to_leader_commit_max"] = static_cast<double>(commit_max);
  state.counters["ms_to_all_applied_min"] = static_cast<double>(applied_min);
  state.counters["ms_to_all_applied_max"] = static_cast<double>(applied_max);
}
BENCHMARK(BM_canonical_commit_latency)->Iterations(1000);

#endif

}  // namespace

BENCHMARK_MAIN();
