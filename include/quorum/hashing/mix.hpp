// mix64: a fast bijective 64-bit mixer for integer keys and for combining
// hashes (rendezvous scores, Maglev permutations). It is splitmix64's output
// function, so mix64(x) equals quorum::splitmix64 applied to a state of x.
#pragma once

#include <cstdint>

namespace quorum::hashing {

[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  // The additive constant keeps 0 from being a fixed point: key 0 is common.
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Two hashes into one, order-sensitive: mix64(a ^ b) would make (a, b) and
// (b, a) collide, and a node hash equal to a key hash would score 0.
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t a, std::uint64_t b) noexcept {
  return mix64(a ^ mix64(b));
}

// A hash policy for integer keys: user ids, shard numbers, pre-hashed keys.
struct mix64_hash {
  [[nodiscard]] constexpr std::uint64_t operator()(std::uint64_t key) const noexcept {
    return mix64(key);
  }
};

}  // namespace quorum::hashing
