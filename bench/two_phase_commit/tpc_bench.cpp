// Two-phase commit in one process: transactions per second, messages, forced
// writes and heap allocations per transaction for every classic variant
// (classic_cluster.hpp) and for Paxos Commit (paxos_commit_cluster.hpp), with
// 3 and 10 participants, one transaction at a time and pipelined.
// bench/README.md records the table and how to re-run it.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <optional>
#include <string>

#include "../raft/alloc_counter.hpp"
#include "classic_cluster.hpp"
#include "paxos_commit_cluster.hpp"

namespace {

using namespace tpc_bench;

// Transactions run untimed first, so that every queue slot, log arena and
// scratch buffer has reached its working size before anything is counted.
constexpr std::uint64_t warmup_txns = 8192;

struct totals {
  std::uint64_t txns = 0, messages = 0, gc_messages = 0, forced = 0, syncs = 0, allocs = 0;
};

void report(benchmark::State& state, const totals& t) {
  const auto per_txn = [&](std::uint64_t v) { return static_cast<double>(v) / static_cast<double>(t.txns); };
  state.SetItemsProcessed(static_cast<std::int64_t>(t.txns));
  state.counters["msgs_per_txn"] = per_txn(t.messages);
  if (t.gc_messages != 0) state.counters["gc_msgs_per_txn"] = per_txn(t.gc_messages);
  state.counters["forced_per_txn"] = per_txn(t.forced);
  if (t.syncs != 0) state.counters["syncs_per_txn"] = per_txn(t.syncs);
  state.counters["allocs_per_txn"] = per_txn(t.allocs);
}

// range(0): variant; range(1): participants; range(2): window (transactions
// in flight; 1 = one at a time); range(3): 1 = wire mode.
void BM_classic(benchmark::State& state) {
  const auto v = static_cast<variant>(state.range(0));
  const auto window = static_cast<std::size_t>(state.range(2));
  classic_cluster c{v, static_cast<std::size_t>(state.range(1)),
                    state.range(3) == 1 ? wire_mode::wire : wire_mode::copy};
  state.SetLabel(to_string(v));
  if (auto e = c.check(); !e.empty()) return state.SkipWithError(e.c_str());
  for (std::uint64_t k = 0; k < warmup_txns; ++k)
    if (!c.begin_next(window) || !c.take_decisions()) return state.SkipWithError("warm-up transaction failed");
  if (!c.drain() || !c.take_decisions() || c.open() != 0) return state.SkipWithError("warm-up did not finish");
  const std::uint64_t finished0 = c.finished(), messages0 = c.messages(), forced0 = c.forced_writes(),
                      syncs0 = c.syncs();
  const std::uint64_t allocs0 = quorum_bench::heap_allocations();
  for (auto _ : state) {
    if (!c.begin_next(window)) return state.SkipWithError("begin failed");
    if (!c.take_decisions()) return state.SkipWithError("a transaction reached the wrong outcome");
  }
  if (!c.drain() || !c.take_decisions() || c.open() != 0) return state.SkipWithError("transactions did not finish");
  totals t;
  t.allocs = quorum_bench::heap_allocations() - allocs0;
  t.txns = c.finished() - finished0;
  if (t.txns != static_cast<std::uint64_t>(state.iterations()))
    return state.SkipWithError("a transaction was not decided");
  t.messages = c.messages() - messages0;
  t.forced = c.forced_writes() - forced0;
  t.syncs = c.syncs() - syncs0;
  report(state, t);
}

void classic_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"variant", "n", "window", "wire"});
  for (int v = 0; v <= static_cast<int>(variant::one_phase); ++v)
    for (const int n : {3, 10})
      for (const int window : {1, 16})
        for (const int wire : {0, 1}) {
          if (static_cast<variant>(v) == variant::one_phase && n != 3) continue;  // always one participant
          b->Args({v, v == static_cast<int>(variant::one_phase) ? 1 : n, window, wire});
        }
}
BENCHMARK(BM_classic)->Apply(classic_args);

// range(0): participants (RMs); range(1): F; range(2): window; range(3): 1 =
// wire mode, as on the classic side. Steady
// state, as on the classic side: the nodes tick (paxos_commit_cluster.hpp)
// and forget what finished. syncs_per_txn: the ticks' syncs that make
// resolutions durable, on top of the forced writes.
void BM_paxos_commit(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto f = static_cast<std::size_t>(state.range(1));
  const auto window = static_cast<std::size_t>(state.range(2));
  paxos_commit_cluster c{n, f, state.range(3) == 1 ? wire_mode::wire : wire_mode::copy};
  if (auto e = c.check(); !e.empty()) return state.SkipWithError(e.c_str());
  for (std::uint64_t k = 0; k < warmup_txns; ++k)
    if (!c.begin_next(window)) return state.SkipWithError("warm-up transaction failed");
  if (!c.drain() || c.open() != 0) return state.SkipWithError("warm-up did not finish");
  const std::uint64_t decided0 = c.decided(), commits0 = c.commits(), rm_commits0 = c.rm_commits(),
                      messages0 = c.messages(), gc0 = c.gc_messages(), forced0 = c.forced_writes(),
                      syncs0 = c.gc_syncs();
  const std::uint64_t allocs0 = quorum_bench::heap_allocations();
  for (auto _ : state)
    if (!c.begin_next(window)) return state.SkipWithError("begin failed");
  if (!c.drain() || c.open() != 0) return state.SkipWithError("transactions did not finish");
  totals t;
  t.allocs = quorum_bench::heap_allocations() - allocs0;
  t.txns = c.decided() - decided0;
  if (t.txns != static_cast<std::uint64_t>(state.iterations())) return state.SkipWithError("a transaction was lost");
  if (c.commits() - commits0 != t.txns || c.rm_commits() - rm_commits0 != t.txns * n)
    return state.SkipWithError("a transaction did not commit everywhere");
  t.messages = c.messages() - messages0;
  t.gc_messages = c.gc_messages() - gc0;
  t.forced = c.forced_writes() - forced0;
  t.syncs = c.gc_syncs() - syncs0;
  report(state, t);
}
void paxos_commit_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"n", "f", "window", "wire"});
  for (const int n : {3, 10})
    for (const int f : {0, 1})
      for (const int window : {1, 16})
        for (const int wire : {0, 1}) b->Args({n, f, window, wire});
}
BENCHMARK(BM_paxos_commit)->Apply(paxos_commit_args);

}  // namespace

BENCHMARK_MAIN();
