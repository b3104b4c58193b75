// CRC32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of every
// log record and network frame. Table-driven, slicing-by-8 at run time and
// usable in constant expressions. crc32c("123456789") == 0xE3069283.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "quorum/core/bytes.hpp"

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

}  // namespace detail

// Extends a running CRC: crc32c(b, crc32c(a)) == crc32c(a followed by b).
[[nodiscard]] inline std::uint32_t crc32c(byte_view data, std::uint32_t crc = 0) noexcept {
  return ~detail::crc32c_sliced(~crc, reinterpret_cast<const unsigned char*>(data.data()),
                                data.size());
}

[[nodiscard]] constexpr std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0) noexcept {
  std::uint32_t c = ~crc;
  for (char ch : data) c = (c >> 8) ^ detail::crc32c_tables[0][(c ^ static_cast<unsigned char>(ch)) & 0xffu];
  return ~c;
}

static_assert(crc32c(std::string_view{"123456789"}) == 0xE3069283u, "CRC32C check value");

}  // namespace quorum::codec
