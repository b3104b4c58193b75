// Little-endian fixed-width loads and stores: the byte order of every encoded
// message and log record, whatever the host's order.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace quorum::codec {

namespace detail {
template <class U>
[[nodiscard]] constexpr U byteswap(U v) noexcept {
  U r = 0;
  for (std::size_t i = 0; i < sizeof(U); ++i) {
    r = static_cast<U>((r << 8) | (v & 0xff));
    v = static_cast<U>(v >> 8);
  }
  return r;
}
}  // namespace detail

template <class U>
[[nodiscard]] inline U load_le(const std::byte* p) noexcept {
  static_assert(std::is_unsigned_v<U>);
  U v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) v = detail::byteswap(v);
  return v;
}

template <class U>
inline void store_le(std::byte* p, U v) noexcept {
  static_assert(std::is_unsigned_v<U>);
  if constexpr (std::endian::native == std::endian::big) v = detail::byteswap(v);
  std::memcpy(p, &v, sizeof v);
}

[[nodiscard]] inline std::uint16_t load_le16(const std::byte* p) noexcept { return load_le<std::uint16_t>(p); }
[[nodiscard]] inline std::uint32_t load_le32(const std::byte* p) noexcept { return load_le<std::uint32_t>(p); }
[[nodiscard]] inline std::uint64_t load_le64(const std::byte* p) noexcept { return load_le<std::uint64_t>(p); }
inline void store_le16(std::byte* p, std::uint16_t v) noexcept { store_le(p, v); }
inline void store_le32(std::byte* p, std::uint32_t v) noexcept { store_le(p, v); }
inline void store_le64(std::byte* p, std::uint64_t v) noexcept { store_le(p, v); }

}  // namespace quorum::codec
