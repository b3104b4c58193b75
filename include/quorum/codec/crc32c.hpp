// CRC32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of every
// log record and network frame. At run time the SSE4.2 crc32 instruction on
// x86-64 processors that have it (checked once, at run time: no build flag),
// else table-driven slicing-by-8; bytewise in constant expressions.
// crc32c("123456789") == 0xE3069283.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "quorum/core/bytes.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define QUORUM_CRC32C_SSE42 1
#include <nmmintrin.h>  // the intrinsics carry their own target attribute: no -msse4.2 needed
#else
#define QUORUM_CRC32C_SSE42 0
#endif

namespace quorum::codec {

namespace detail {

inline constexpr std::uint32_t crc32c_polynomial = 0x82F63B78u;

constexpr std::array<std::array<std::uint32_t, 256>, 8> make_crc32c_tables() noexcept {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ crc32c_polynomial : c >> 1;
    t[0][i] = c;
  }
  for (std::size_t i = 0; i < 256; ++i)
    for (std::size_t s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xffu];
  return t;
}

inline constexpr auto crc32c_tables = make_crc32c_tables();

constexpr std::uint32_t crc32c_bytewise(std::uint32_t c, const unsigned char* p, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) c = (c >> 8) ^ crc32c_tables[0][(c ^ p[i]) & 0xffu];
  return c;
}

inline std::uint32_t crc32c_sliced(std::uint32_t c, const unsigned char* p, std::size_t n) noexcept {
  const auto& t = crc32c_tables;
  while (n >= 8) {
    const std::uint32_t lo = c ^ (std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 |
                                  std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24);
    c = t[7][lo & 0xffu] ^ t[6][(lo >> 8) & 0xffu] ^ t[5][(lo >> 16) & 0xffu] ^ t[4][lo >> 24] ^
        t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
    p += 8;
    n -= 8;
  }
  return crc32c_bytewise(c, p, n);
}

#if QUORUM_CRC32C_SSE42
// The crc32 instruction computes this very CRC (same polynomial, reflected):
// 8 bytes per instruction, then 4, then one at a time. x86 loads are little
// endian, the byte order the reflected CRC consumes.
__attribute__((target("sse4.2"))) inline std::uint32_t crc32c_sse42(std::uint32_t c, const unsigned char* p,
                                                                    std::size_t n) noexcept {
  std::uint64_t c64 = c;
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    c64 = _mm_crc32_u64(c64, w);
  }
  c = static_cast<std::uint32_t>(c64);
  if (n >= 4) {
    std::uint32_t w;
    std::memcpy(&w, p, 4);
    c = _mm_crc32_u32(c, w);
    p += 4;
    n -= 4;
  }
  for (; n > 0; ++p, --n) c = _mm_crc32_u8(c, *p);
  return c;
}

inline bool cpu_has_sse42() noexcept {
  static const bool has = [] {
    __builtin_cpu_init();  // may run before the constructor that would have done it
    return __builtin_cpu_supports("sse4.2") != 0;
  }();
  return has;
}
#endif

inline std::uint32_t crc32c_run_time(std::uint32_t c, const unsigned char* p, std::size_t n) noexcept {
#if QUORUM_CRC32C_SSE42
  if (cpu_has_sse42()) return crc32c_sse42(c, p, n);
#endif
  return crc32c_sliced(c, p, n);
}

}  // namespace detail

// Extends a running CRC: crc32c(b, crc32c(a)) == crc32c(a followed by b).
[[nodiscard]] inline std::uint32_t crc32c(byte_view data, std::uint32_t crc = 0) noexcept {
  return ~detail::crc32c_run_time(~crc, reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

[[nodiscard]] constexpr std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0) noexcept {
  std::uint32_t c = ~crc;
  for (char ch : data) c = (c >> 8) ^ detail::crc32c_tables[0][(c ^ static_cast<unsigned char>(ch)) & 0xffu];
  return ~c;
}

static_assert(crc32c(std::string_view{"123456789"}) == 0xE3069283u, "CRC32C check value");

}  // namespace quorum::codec
