// Placement benchmarks: jump, Maglev find and build, rendezvous, bounded-load assign,
// AnchorHash, and our xxh64 against Debian's libxxhash XXH64 on the same bytes.
// Goals (issue 3): jump <= 20 ns at 1000 buckets; Maglev find <= 3 ns, build (1000 nodes) <= 5 ms.
#include <benchmark/benchmark.h>
#include <xxhash.h>

#include <cstdint>
#include <string>
#include <vector>

#include "quorum/core/random.hpp"
#include "quorum/hashing.hpp"

namespace {

using namespace quorum::hashing;

constexpr std::size_t key_mask = (1 << 16) - 1;

const std::vector<std::uint64_t>& random_hashes() {
  static const std::vector<std::uint64_t> hashes = [] {
    quorum::seeded_random rng{42};
    std::vector<std::uint64_t> out(key_mask + 1);
    for (auto& h : out) h = rng();
    return out;
  }();
  return hashes;
}

const std::vector<std::string>& key_strings() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> out;
    for (std::size_t i = 0; i <= key_mask; ++i) out.push_back("user:" + std::to_string(i * 7919));
    return out;
  }();
  return keys;
}

std::string node_name(int i) {
  return "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":11211";
}

void bm_jump(benchmark::State& state) {
  const auto& hashes = random_hashes();
  const auto buckets = static_cast<std::int32_t>(state.range(0));
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(jump_hash(hashes[i++ & key_mask], buckets));
}
BENCHMARK(bm_jump)->Arg(10)->Arg(1000)->Arg(100000);

maglev<std::string> make_maglev(int nodes, maglev_mode mode = maglev_mode::native) {
  maglev<std::string> m{{.mode = mode}};
  m.batch([&](auto& b) {
    for (int n = 0; n < nodes; ++n) b.insert(node_name(n));
  });
  return m;
}

void bm_maglev_find_hashed(benchmark::State& state) {
  const auto m = make_maglev(static_cast<int>(state.range(0)));
  const auto& hashes = random_hashes();
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(&m.find_hashed(hashes[i++ & key_mask]));
}
BENCHMARK(bm_maglev_find_hashed)->Arg(1000);

void bm_maglev_find_hashed_envoy(benchmark::State& state) {
  const auto m = make_maglev(static_cast<int>(state.range(0)), maglev_mode::envoy);
  const auto& hashes = random_hashes();
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(&m.find_hashed(hashes[i++ & key_mask]));
}
BENCHMARK(bm_maglev_find_hashed_envoy)->Arg(1000);

void bm_maglev_find_string(benchmark::State& state) {
  const auto m = make_maglev(static_cast<int>(state.range(0)));
  const auto& keys = key_strings();
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(&m.find(keys[i++ & key_mask]));
}
BENCHMARK(bm_maglev_find_string)->Arg(1000);

void bm_maglev_build(benchmark::State& state) {
  auto m = make_maglev(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    m.rebuild();
    benchmark::DoNotOptimize(m.table().data());
  }
  state.SetLabel("table 65537");
}
BENCHMARK(bm_maglev_build)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

void bm_rendezvous_find_hashed(benchmark::State& state) {
  rendezvous<std::string> r;
  for (int n = 0; n < state.range(0); ++n) r.insert(node_name(n));
  const auto& hashes = random_hashes();
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(&r.find_hashed(hashes[i++ & key_mask]));
}
BENCHMARK(bm_rendezvous_find_hashed)->Arg(10)->Arg(100)->Arg(1000);

void bm_rendezvous_find_weighted(benchmark::State& state) {
  rendezvous<std::string> r;
  for (int n = 0; n < state.range(0); ++n) r.insert(node_name(n), 1.0 + n % 3);
  const auto& hashes = random_hashes();
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(&r.find_hashed(hashes[i++ & key_mask]));
}
BENCHMARK(bm_rendezvous_find_weighted)->Arg(10)->Arg(100);

// Steady state: 10,000 keys assigned; each iteration assigns one new key and
// releases the oldest, over 100 nodes.
template <class Ring>
void bounded_load_assign(benchmark::State& state, Ring ring) {
  for (int n = 0; n < 100; ++n) ring.insert(node_name(n));
  bounded_load<Ring> b{std::move(ring)};
  const auto& keys = key_strings();
  constexpr std::size_t window = 10'000;
  for (std::size_t k = 0; k < window; ++k) b.assign(keys[k]);
  std::size_t next = window;
  for (auto _ : state) {
    benchmark::DoNotOptimize(&b.assign(keys[next & key_mask]));
    b.release(keys[(next - window) & key_mask]);
    ++next;
  }
  state.SetLabel("assign + release");
}

void bm_bounded_load_rendezvous(benchmark::State& state) {
  bounded_load_assign(state, rendezvous<std::string>{});
}
BENCHMARK(bm_bounded_load_rendezvous);

#if __has_include("quorum/hashing/ketama.hpp")
void bm_bounded_load_ketama_stable(benchmark::State& state) {
  bounded_load_assign(state, ketama_ring<std::string>{ketama_mode::stable});
}
BENCHMARK(bm_bounded_load_ketama_stable);
#endif

// range(0) working buckets out of range(1) capacity: lookups slow down as
// more of the anchor is removed (the paper's a/w ratio).
void bm_anchor_bucket(benchmark::State& state) {
  const auto working = static_cast<std::uint32_t>(state.range(0));
  const auto capacity = static_cast<std::uint32_t>(state.range(1));
  anchor_hash a{capacity, capacity};
  quorum::seeded_random rng{7};
  while (a.size() > working) {
    const auto b = static_cast<std::uint32_t>(rng.below(capacity));
    if (a.is_working(b)) a.remove(b);
  }
  const auto& hashes = random_hashes();
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(a.bucket(hashes[i++ & key_mask]));
}
BENCHMARK(bm_anchor_bucket)->Args({1000, 1000})->Args({1000, 2000})->Args({1000, 10000});

void bm_anchor_remove_add(benchmark::State& state) {
  anchor_hash a{2000, 1000};
  quorum::seeded_random rng{9};
  for (auto _ : state) {
    std::uint32_t b;
    do b = static_cast<std::uint32_t>(rng.below(2000));
    while (!a.is_working(b));
    a.remove(b);
    benchmark::DoNotOptimize(a.add());
  }
}
BENCHMARK(bm_anchor_remove_add);

std::string random_bytes(std::size_t n) {
  quorum::seeded_random rng{n};
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng.below(256));
  return s;
}

void bm_xxh64_quorum(benchmark::State& state) {
  const std::string data = random_bytes(static_cast<std::size_t>(state.range(0)));
  std::uint64_t seed = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(seed = xxh64(data, seed));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(bm_xxh64_quorum)->Arg(8)->Arg(64)->Arg(1024);

void bm_xxh64_libxxhash(benchmark::State& state) {
  const std::string data = random_bytes(static_cast<std::size_t>(state.range(0)));
  std::uint64_t seed = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(seed = XXH64(data.data(), data.size(), seed));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(bm_xxh64_libxxhash)->Arg(8)->Arg(64)->Arg(1024);

}  // namespace

BENCHMARK_MAIN();
