// one_at_a_time: Bob Jenkins' one-at-a-time hash, as libmemcached computes it
// (MEMCACHED_HASH_DEFAULT): each char is sign-extended before it is added, so
// bytes >= 0x80 hash as they do in libmemcached on platforms where char is signed.
#pragma once

#include <cstdint>
#include <string_view>

namespace quorum::hashing {

[[nodiscard]] constexpr std::uint32_t one_at_a_time(std::string_view data) noexcept {
  std::uint32_t h = 0;
  for (const char ch : data) {
    // Through signed char, whatever the platform's char is: libmemcached's
    // published behaviour is the signed-char one.
    h += static_cast<std::uint32_t>(static_cast<std::int32_t>(static_cast<signed char>(ch)));
    h += h << 10;
    h ^= h >> 6;
  }
  h += h << 3;
  h ^= h >> 11;
  h += h << 15;
  return h;
}

// A hash policy (KeyHash) over one_at_a_time; the value fits in 32 bits.
struct one_at_a_time_hash {
  [[nodiscard]] constexpr std::uint64_t operator()(std::string_view key) const noexcept { return one_at_a_time(key); }
};

}  // namespace quorum::hashing
