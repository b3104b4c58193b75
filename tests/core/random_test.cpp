// seeded_random: the stream is pinned to xoshiro256** seeded by splitmix64, so
// a simulation seed replays identically on every platform and compiler.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "quorum/core/random.hpp"

using quorum::seeded_random;

namespace {

// An independent implementation written from the algorithms' published
// definitions (Vigna: splitmix64.c, xoshiro256starstar.c), not from random.hpp.
namespace reference {

std::uint64_t rotate_left(std::uint64_t x, unsigned k) { return (x << k) | (x >> (64U - k)); }

std::uint64_t splitmix_next(std::uint64_t& x) {
  x += 0x9E3779B97F4A7C15ULL;
  std::uint64_t z = x;
  z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31U);
}

struct xoshiro256ss {
  std::array<std::uint64_t, 4> s;

  std::uint64_t next() {
    const std::uint64_t out = rotate_left(s[1] * 5U, 7U) * 9U;
    const std::uint64_t shifted = s[1] << 17U;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= shifted;
    s[3] = rotate_left(s[3], 45U);
    return out;
  }
};

xoshiro256ss seeded(std::uint64_t seed) {
  xoshiro256ss g{};
  for (auto& w : g.s) w = splitmix_next(seed);
  return g;
}

}  // namespace reference

// Golden outputs for seeds 0 and 1, computed once with the reference above
// (and cross-checked by a separate Python transcription); a change here breaks
// every recorded failing seed, so it must never happen silently.
constexpr std::array<std::uint64_t, 8> golden_seed_0{
    0x99ec5f36cb75f2b4ULL, 0xbf6e1f784956452aULL, 0x1a5f849d4933e6e0ULL, 0x6aa594f1262d2d2cULL,
    0xbba5ad4a1f842e59ULL, 0xffef8375d9ebcacaULL, 0x6c160deed2f54c98ULL, 0x8920ad648fc30a3fULL};
constexpr std::array<std::uint64_t, 8> golden_seed_1{
    0xb3f2af6d0fc710c5ULL, 0x853b559647364ceaULL, 0x92f89756082a4514ULL, 0x642e1c7bc266a3a7ULL,
    0xb27a48e29a233673ULL, 0x24c123126ffda722ULL, 0x123004ef8df510e6ULL, 0x61954dcc47b1e89dULL};

// The generator works at compile time, so constexpr tables can be seeded too.
static_assert([] {
  seeded_random r{0};
  return r();
}() == 0x99ec5f36cb75f2b4ULL);

// Pearson's chi-square statistic of counts against a uniform expectation.
double chi_square(const std::vector<std::uint64_t>& counts, double expected) {
  double sum = 0;
  for (auto c : counts) {
    const double d = static_cast<double>(c) - expected;
    sum += d * d / expected;
  }
  return sum;
}

}  // namespace

TEST_CASE("the reference implementation matches the published vectors") {
  // splitmix64 from state 0 (Vigna's splitmix64.c).
  std::uint64_t x = 0;
  CHECK(reference::splitmix_next(x) == 0xe220a8397b1dcdafULL);
  CHECK(reference::splitmix_next(x) == 0x6e789e6aa1b965f4ULL);
  CHECK(reference::splitmix_next(x) == 0x06c45d188009454fULL);
  // xoshiro256** from state {1, 2, 3, 4} (the vector other ports test against).
  reference::xoshiro256ss g{{1, 2, 3, 4}};
  const std::array<std::uint64_t, 10> expected{11520ULL,
                                               0ULL,
                                               1509978240ULL,
                                               1215971899390074240ULL,
                                               1216172134540287360ULL,
                                               607988272756665600ULL,
                                               16172922978634559625ULL,
                                               8476171486693032832ULL,
                                               10595114339597558777ULL,
                                               2904607092377533576ULL};
  for (auto e : expected) CHECK(g.next() == e);
}

TEST_CASE("splitmix64 matches the reference") {
  std::uint64_t a = 12345;
  std::uint64_t b = 12345;
  for (int i = 0; i < 100; ++i) CHECK(quorum::splitmix64(a) == reference::splitmix_next(b));
  CHECK(a == b);
}

TEST_CASE("golden sequences for seeds 0 and 1") {
  seeded_random r0{0};
  for (auto g : golden_seed_0) CHECK(r0() == g);
  seeded_random r1{1};
  for (auto g : golden_seed_1) CHECK(r1() == g);
  seeded_random d;  // the default seed is 0
  CHECK(d() == golden_seed_0[0]);
}

TEST_CASE("seeded_random equals the reference for many seeds and draws") {
  for (std::uint64_t seed : {0ULL, 1ULL, 2ULL, 42ULL, 0xdeadbeefULL, ~0ULL}) {
    seeded_random r{seed};
    auto ref = reference::seeded(seed);
    bool same = true;
    for (int i = 0; i < 10000; ++i) same = same && (r() == ref.next());
    CHECK_MESSAGE(same, "seed " << seed);
  }
}

TEST_CASE("same seed gives the same sequence and reseed restarts it") {
  seeded_random a{77};
  seeded_random b{77};
  std::vector<std::uint64_t> first;
  for (int i = 0; i < 1000; ++i) {
    const auto x = a();
    CHECK(x == b());
    first.push_back(x);
  }
  a.reseed(77);
  for (auto x : first) CHECK(a() == x);
  seeded_random c{78};
  seeded_random d{77};
  int equal = 0;
  for (int i = 0; i < 1000; ++i) equal += (c() == d()) ? 1 : 0;
  CHECK(equal == 0);
}

TEST_CASE("below() stays in range and is roughly uniform") {
  seeded_random r{2024};
  CHECK(r.below(1) == 0);
  for (std::uint64_t bound : {2ULL, 3ULL, 7ULL, 1000ULL, (1ULL << 63) + 1, ~0ULL}) {
    for (int i = 0; i < 2000; ++i) CHECK(r.below(bound) < bound);
  }

  // 10 buckets, 100,000 draws: chi-square with 9 degrees of freedom exceeds
  // 27.88 with probability 0.001; the seed is fixed, so this never flakes.
  constexpr std::uint64_t buckets = 10;
  constexpr int draws = 100000;
  std::vector<std::uint64_t> counts(buckets);
  for (int i = 0; i < draws; ++i) ++counts[r.below(buckets)];
  CHECK(chi_square(counts, draws / static_cast<double>(buckets)) < 27.88);

  // A bound just over 2^63 is where a modulo would be most biased (about 2:1);
  // Lemire's rejection keeps the lower half at one half.
  constexpr std::uint64_t big = (1ULL << 63) + (1ULL << 62);
  int lower = 0;
  for (int i = 0; i < draws; ++i) lower += r.below(big) < big / 2 ? 1 : 0;
  CHECK(lower > draws / 2 - 1500);
  CHECK(lower < draws / 2 + 1500);
}

TEST_CASE("between() covers both ends and the full range") {
  seeded_random r{5};
  bool saw_lo = false;
  bool saw_hi = false;
  for (int i = 0; i < 1000; ++i) {
    const auto x = r.between(10, 13);
    CHECK(x >= 10);
    CHECK(x <= 13);
    saw_lo = saw_lo || x == 10;
    saw_hi = saw_hi || x == 13;
  }
  CHECK(saw_lo);
  CHECK(saw_hi);
  CHECK(r.between(9, 9) == 9);
  // The full range cannot be expressed as a bound; it is the raw stream.
  seeded_random a{6};
  seeded_random b{6};
  CHECK(a.between(0, ~0ULL) == b());
}

TEST_CASE("unit() stays in the unit interval and chance() honours 0 and 1") {
  seeded_random r{9};
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    const double u = r.unit();
    CHECK(u >= 0.0);
    CHECK(u < 1.0);
    sum += u;
  }
  CHECK(sum / 10000 > 0.48);
  CHECK(sum / 10000 < 0.52);

  int hits_zero = 0;
  int hits_one = 0;
  int hits_quarter = 0;
  for (int i = 0; i < 10000; ++i) {
    hits_zero += r.chance(0.0) ? 1 : 0;
    hits_zero += r.chance(-1.0) ? 1 : 0;
    hits_one += r.chance(1.0) ? 1 : 0;
    hits_one += r.chance(2.0) ? 1 : 0;
    hits_quarter += r.chance(0.25) ? 1 : 0;
  }
  CHECK(hits_zero == 0);
  CHECK(hits_one == 20000);
  CHECK(hits_quarter > 2300);
  CHECK(hits_quarter < 2700);
}

TEST_CASE("fork() gives a reproducible child stream independent of later parent draws") {
  seeded_random a{11};
  seeded_random child_a = a.fork();
  seeded_random b{11};
  seeded_random child_b = b.fork();
  for (int i = 0; i < 50; ++i) (void)b();  // the parent moves on; the child must not notice
  for (int i = 0; i < 100; ++i) CHECK(child_a() == child_b());

  // The child is seeded from the parent's next draw.
  seeded_random p{11};
  seeded_random expected{p()};
  seeded_random q{11};
  seeded_random child = q.fork();
  CHECK(child() == expected());

  int equal = 0;
  for (int i = 0; i < 100; ++i) equal += (q() == child()) ? 1 : 0;
  CHECK(equal == 0);
}
