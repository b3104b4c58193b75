// jump_hash: Lamping & Veach's jump consistent hash ("A Fast, Minimal Memory,
// Consistent Hash Algorithm", 2014). No state at all; buckets are numbered
// 0..n-1 and only the last one can leave, so it suits numbered shards.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "quorum/hashing/errors.hpp"
#include "quorum/hashing/hash_policy.hpp"

namespace quorum::hashing {

// Throws invalid_buckets when buckets <= 0. Equal to Guava's
// Hashing.consistentHash and to the paper's reference for every input.
[[nodiscard]] constexpr std::int32_t jump_hash(std::uint64_t key, std::int32_t buckets) {
  if (buckets <= 0)
    throw invalid_buckets("jump_hash: buckets must be positive, got " + std::to_string(buckets));
  std::int64_t b = -1;
  std::int64_t j = 0;
  while (j < buckets) {
    b = j;
    key = key * 2862933555777941757ULL + 1;
    j = static_cast<std::int64_t>(
        static_cast<double>(b + 1) *
        (static_cast<double>(1LL << 31) / static_cast<double>((key >> 33) + 1)));
  }
  return static_cast<std::int32_t>(b);
}

// A string key, hashed by a KeyHash policy first.
template <KeyHash Hash = default_hash>
[[nodiscard]] constexpr std::int32_t jump_hash(std::string_view key, std::int32_t buckets,
                                               const Hash& hash = {}) {
  return jump_hash(hash(key), buckets);
}

}  // namespace quorum::hashing
