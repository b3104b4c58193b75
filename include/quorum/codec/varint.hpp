// Variable-length integers: unsigned LEB128 for uint64 (1..10 bytes) and
// zigzag for int64, the compact integers of every encoded message. Decoding is
// total and canonical: each value has exactly one accepted encoding.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "quorum/core/bytes.hpp"
#include "quorum/core/error.hpp"
#include "quorum/core/result.hpp"

namespace quorum::codec {

// 64 bits at 7 per byte; the 10th byte may only carry bit 63.
inline constexpr std::size_t max_varint_bytes = 10;

[[nodiscard]] constexpr std::size_t varint_size(std::uint64_t v) noexcept {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Zigzag maps small magnitudes of either sign to small unsigned values
// (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...), so -1 takes one byte, not ten.
[[nodiscard]] constexpr std::uint64_t zigzag_encode(std::int64_t v) noexcept {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

[[nodiscard]] constexpr std::int64_t zigzag_decode(std::uint64_t u) noexcept {
  return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

[[nodiscard]] constexpr std::size_t zigzag_size(std::int64_t v) noexcept {
  return varint_size(zigzag_encode(v));
}

// Writes the encoding of v at out, which must have room for varint_size(v)
// bytes; returns the number written.
constexpr std::size_t encode_varint(std::uint64_t v, std::byte* out) noexcept {
  std::size_t n = 0;
  while (v >= 0x80) {
    out[n++] = static_cast<std::byte>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out[n++] = static_cast<std::byte>(v);
  return n;
}

// An encoding held by value, for constant expressions and small scratch use.
struct varint_bytes {
  std::array<std::byte, max_varint_bytes> data{};
  std::size_t size{0};

  [[nodiscard]] constexpr byte_view view() const noexcept { return {data.data(), size}; }
};

[[nodiscard]] constexpr varint_bytes encode_varint(std::uint64_t v) noexcept {
  varint_bytes b;
  b.size = encode_varint(v, b.data.data());
  return b;
}

// The outcome of parsing: size == 0 means failure, and code says why. Kept a
// plain literal type so parsing also works in constant expressions, where
// result<> (with its non-trivial destructor) cannot be used.
struct varint_parse {
  std::uint64_t value{0};
  std::size_t size{0};
  errc code{errc::truncated};

  [[nodiscard]] constexpr bool ok() const noexcept { return size != 0; }
};

[[nodiscard]] constexpr varint_parse parse_varint(byte_view in) noexcept {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < max_varint_bytes; ++i) {
    if (i >= in.size()) return {0, 0, errc::truncated};
    const auto b = static_cast<std::uint8_t>(in[i]);
    // The 10th byte holds bit 63 alone: anything more overflows 64 bits, and
    // a continuation bit there would make the encoding longer than 10 bytes.
    if (i == max_varint_bytes - 1 && b > 1) return {0, 0, errc::malformed};
    value |= std::uint64_t{b & 0x7fu} << (7 * i);
    if ((b & 0x80) == 0) {
      // A zero final byte after the first adds nothing: an overlong encoding.
      // Rejected so that re-encoding a decoded message gives the same bytes.
      if (b == 0 && i > 0) return {0, 0, errc::malformed};
      return {value, i + 1, errc::truncated};
    }
  }
  return {0, 0, errc::malformed};  // not reached: the 10th byte returns above
}

struct varint_decoded {
  std::uint64_t value;
  std::size_t size;  // bytes consumed
};

struct zigzag_decoded {
  std::int64_t value;
  std::size_t size;
};

// errc::truncated: the input ends inside the varint (a stream may wait for more);
// errc::malformed: overlong, over 64 bits, or longer than 10 bytes.
[[nodiscard]] inline result<varint_decoded> decode_varint(byte_view in) noexcept {
  const varint_parse p = parse_varint(in);
  if (!p.ok()) {
    return fail(p.code, p.code == errc::truncated ? "varint: input ends inside the value"
                                                  : "varint: overlong or over 64 bits");
  }
  return varint_decoded{p.value, p.size};
}

[[nodiscard]] inline result<zigzag_decoded> decode_zigzag(byte_view in) noexcept {
  auto r = decode_varint(in);
  if (!r) return unexpected{r.error()};
  return zigzag_decoded{zigzag_decode(r->value), r->size};
}

}  // namespace quorum::codec
