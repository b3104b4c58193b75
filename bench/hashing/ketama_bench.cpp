// ketama_ring against libmemcached on the same keys and server lists: find vs
// memcached_generate_hash in each libmemcached-compatible mode (10 and 100
// servers), a batch find with interleaved MD5 streams, and our stable mode
// (xxh64) against libmemcached's weighted mode. Ratios are quorum's speedup.
#include <benchmark/benchmark.h>
#include <libmemcached/memcached.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/core/random.hpp"
#include "quorum/hashing/ketama.hpp"

using namespace quorum::hashing;

namespace {

constexpr std::size_t key_count = 4096;  // a power of two: the index wraps with a mask

const std::vector<std::string>& bench_keys() {
  static const std::vector<std::string> keys = [] {
    quorum::seeded_random rng{2024};
    std::vector<std::string> out(key_count);
    for (auto& k : out) {
      k = "user:" + std::to_string(rng.below(100'000'000)) + ":session";
    }
    return out;
  }();
  return keys;
}

std::string host_of(std::size_t i) { return "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1); }

std::uint32_t weight_of(std::size_t i, bool weighted) {
  return weighted ? static_cast<std::uint32_t>(100 + (i * 37) % 900) : 1u;
}

// Stable mode gives each unit of weight 160 points, so its weights are
// small integers (1..9) rather than libmemcached's relative 100..999.
ketama_ring<std::string> make_ring(ketama_mode mode, std::size_t servers, bool weighted) {
  ketama_ring<std::string> ring{mode};
  for (std::size_t i = 0; i < servers; ++i) {
    const std::uint32_t w = mode == ketama_mode::stable ? (weighted ? 1 + static_cast<std::uint32_t>(i * 37 % 9) : 1)
                                                         : weight_of(i, weighted);
    ring.insert(host_of(i) + ":11211", w);
  }
  return ring;
}

memcached_st* make_memcached(bool ketama_weighted, std::size_t servers, bool weighted) {
  memcached_st* memc = memcached_create(nullptr);
  if (ketama_weighted) {
    memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1);
  } else {
    memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_DISTRIBUTION, MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA);
  }
  for (std::size_t i = 0; i < servers; ++i) {
    memcached_server_add_with_weight(memc, host_of(i).c_str(), 11211, weight_of(i, weighted));
  }
  return memc;
}

// Args: {servers, weighted}.
void quorum_find(benchmark::State& state, ketama_mode mode) {
  const auto ring = make_ring(mode, static_cast<std::size_t>(state.range(0)), state.range(1) != 0);
  const auto& keys = bench_keys();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(&ring.find(keys[i++ & (key_count - 1)]));
  }
  state.SetItemsProcessed(state.iterations());
}

void libmemcached_generate_hash(benchmark::State& state, bool ketama_weighted) {
  memcached_st* memc = make_memcached(ketama_weighted, static_cast<std::size_t>(state.range(0)), state.range(1) != 0);
  const auto& keys = bench_keys();
  std::size_t i = 0;
  for (auto _ : state) {
    const std::string& k = keys[i++ & (key_count - 1)];
    benchmark::DoNotOptimize(memcached_generate_hash(memc, k.data(), k.size()));
  }
  state.SetItemsProcessed(state.iterations());
  memcached_free(memc);
}

// One iteration looks up every key; items are keys, so ns/item compares with
// the single-key benchmarks.
void quorum_find_batch(benchmark::State& state, ketama_mode mode) {
  const auto ring = make_ring(mode, static_cast<std::size_t>(state.range(0)), state.range(1) != 0);
  const auto& keys = bench_keys();
  const std::vector<std::string_view> views(keys.begin(), keys.end());
  std::vector<const std::string*> out(views.size());
  for (auto _ : state) {
    ring.find_batch(views, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(views.size()));
}

void server_args(benchmark::internal::Benchmark* b) {
  for (std::int64_t servers : {10, 100})
    for (std::int64_t weighted : {0, 1}) b->Args({servers, weighted});
  b->ArgNames({"servers", "weighted"});
}

}  // namespace

BENCHMARK_CAPTURE(quorum_find, libmemcached, ketama_mode::libmemcached)->Apply(server_args);
BENCHMARK_CAPTURE(libmemcached_generate_hash, ketama_weighted, true)->Apply(server_args);
BENCHMARK_CAPTURE(quorum_find_batch, libmemcached, ketama_mode::libmemcached)->Apply(server_args);
BENCHMARK_CAPTURE(quorum_find, libmemcached_default, ketama_mode::libmemcached_default)->Apply(server_args);
BENCHMARK_CAPTURE(libmemcached_generate_hash, ketama_default, false)->Apply(server_args);
BENCHMARK_CAPTURE(quorum_find, libketama, ketama_mode::libketama)->Apply(server_args);
BENCHMARK_CAPTURE(quorum_find, stable, ketama_mode::stable)->Apply(server_args);
BENCHMARK_CAPTURE(quorum_find_batch, stable, ketama_mode::stable)->Apply(server_args);

BENCHMARK_MAIN();
