// The one source of randomness in quorum: a seeded, portable generator
// (xoshiro256**, seeded through splitmix64). The same seed gives the same
// sequence on every platform and compiler, which std::uniform_*_distribution
// does not promise; determinism (DESIGN.md principle 2) depends on it.
#pragma once

#include <cstdint>

#include "quorum/core/assert.hpp"

namespace quorum {

// splitmix64: a fast 64-bit mixer, also used to derive independent seeds.
[[nodiscard]] constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

namespace detail {
__extension__ using uint128 = unsigned __int128;  // __extension__: quiet under -Wpedantic
}  // namespace detail

class seeded_random {
 public:
  using result_type = std::uint64_t;

  constexpr explicit seeded_random(std::uint64_t seed = 0) noexcept { reseed(seed); }

  constexpr void reseed(std::uint64_t seed) noexcept {
    std::uint64_t sm = seed;
    for (auto& word : s_) word = splitmix64(sm);
  }

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return ~result_type{0}; }

  constexpr result_type operator()() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, bound), bound > 0, without modulo bias (Lemire's method).
  constexpr std::uint64_t below(std::uint64_t bound) noexcept {
    QUORUM_ASSERT(bound > 0);
    detail::uint128 m = static_cast<detail::uint128>((*this)()) * bound;
    auto low = static_cast<std::uint64_t>(m);
    if (low < bound) {
      const std::uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        m = static_cast<detail::uint128>((*this)()) * bound;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  // Uniform in [lo, hi], lo <= hi.
  constexpr std::uint64_t between(std::uint64_t lo, std::uint64_t hi) noexcept {
    QUORUM_ASSERT(lo <= hi);
    if (hi - lo == max()) return (*this)();
    return lo + below(hi - lo + 1);
  }

  // Uniform in [0, 1) with 53 bits of precision.
  constexpr double unit() noexcept {
    return static_cast<double>((*this)() >> 11) * 0x1.0p-53;
  }

  // True with probability p (p <= 0 never, p >= 1 always).
  constexpr bool chance(double p) noexcept { return p > 0 && (p >= 1 || unit() < p); }

  // A generator for a sub-component whose stream must not shift when other
  // components draw more or fewer numbers.
  constexpr seeded_random fork() noexcept { return seeded_random{(*this)()}; }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
    return (x << k) | (x >> (64 - k));
  }
  std::uint64_t s_[4]{};
};

}  // namespace quorum
