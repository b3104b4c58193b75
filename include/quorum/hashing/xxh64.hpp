// xxh64: Yann Collet's XXH64, bit-for-bit equal to the reference XXH64 for
// any input and seed. Placement needs a fast, well-spread 64-bit hash of node
// names and keys; this one is constexpr, so tables can be checked at compile time.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "quorum/core/bytes.hpp"

namespace quorum::hashing {

namespace detail::xxh {

inline constexpr std::uint64_t prime1 = 0x9E3779B185EBCA87ULL;
inline constexpr std::uint64_t prime2 = 0xC2B2AE3D27D4EB4FULL;
inline constexpr std::uint64_t prime3 = 0x165667B19E3779F9ULL;
inline constexpr std::uint64_t prime4 = 0x85EBCA77C2B2AE63ULL;
inline constexpr std::uint64_t prime5 = 0x27D4EB2F165667C5ULL;

constexpr std::uint64_t round(std::uint64_t acc, std::uint64_t input) noexcept {
  acc += input * prime2;
  acc = std::rotl(acc, 31);
  return acc * prime1;
}

constexpr std::uint64_t merge_round(std::uint64_t acc, std::uint64_t value) noexcept {
  acc ^= round(0, value);
  return acc * prime1 + prime4;
}

constexpr std::uint64_t avalanche(std::uint64_t h) noexcept {
  h ^= h >> 33;
  h *= prime2;
  h ^= h >> 29;
  h *= prime3;
  h ^= h >> 32;
  return h;
}

// Byte-wise little-endian loads work in constant evaluation and on any
// endianness; memcpy loads are what make the runtime path fast.
template <class Char>
constexpr std::uint64_t load_bytes(const Char* p, int n) noexcept {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(p[i]);
  return v;
}

template <class Char>
constexpr std::uint64_t load64(const Char* p) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    if (!std::is_constant_evaluated()) {
      std::uint64_t v;
      std::memcpy(&v, p, sizeof v);
      return v;
    }
  }
  return load_bytes(p, 8);
}

template <class Char>
constexpr std::uint64_t load32(const Char* p) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    if (!std::is_constant_evaluated()) {
      std::uint32_t v;
      std::memcpy(&v, p, sizeof v);
      return v;
    }
  }
  return load_bytes(p, 4);
}

template <class Char>
constexpr std::uint64_t hash(const Char* p, std::size_t len, std::uint64_t seed) noexcept {
  const Char* const end = p + len;
  std::uint64_t h;
  if (len >= 32) {
    std::uint64_t v1 = seed + prime1 + prime2;
    std::uint64_t v2 = seed + prime2;
    std::uint64_t v3 = seed;
    std::uint64_t v4 = seed - prime1;
    const Char* const limit = end - 32;
    do {
      v1 = round(v1, load64(p));
      v2 = round(v2, load64(p + 8));
      v3 = round(v3, load64(p + 16));
      v4 = round(v4, load64(p + 24));
      p += 32;
    } while (p <= limit);
    h = std::rotl(v1, 1) + std::rotl(v2, 7) + std::rotl(v3, 12) + std::rotl(v4, 18);
    h = merge_round(h, v1);
    h = merge_round(h, v2);
    h = merge_round(h, v3);
    h = merge_round(h, v4);
  } else {
    h = seed + prime5;
  }
  h += static_cast<std::uint64_t>(len);
  for (; end - p >= 8; p += 8) {
    h ^= round(0, load64(p));
    h = std::rotl(h, 27) * prime1 + prime4;
  }
  if (end - p >= 4) {
    h ^= load32(p) * prime1;
    h = std::rotl(h, 23) * prime2 + prime3;
    p += 4;
  }
  for (; p < end; ++p) {
    h ^= static_cast<std::uint64_t>(static_cast<std::uint8_t>(*p)) * prime5;
    h = std::rotl(h, 11) * prime1;
  }
  return avalanche(h);
}

}  // namespace detail::xxh

[[nodiscard]] constexpr std::uint64_t xxh64(std::string_view data,
                                            std::uint64_t seed = 0) noexcept {
  return detail::xxh::hash(data.data(), data.size(), seed);
}

[[nodiscard]] constexpr std::uint64_t xxh64(byte_view data, std::uint64_t seed = 0) noexcept {
  return detail::xxh::hash(data.data(), data.size(), seed);
}

}  // namespace quorum::hashing
