// varint.hpp: LEB128 and zigzag round trips at the edges, every truncation,
// and rejection of overlong and overflowing encodings (canonical decoding).
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "quorum/codec/varint.hpp"
#include "quorum/core/random.hpp"

using namespace quorum;
using namespace quorum::codec;

namespace {

byte_buffer bytes_of(std::initializer_list<unsigned> list) {
  byte_buffer b;
  for (unsigned v : list) b.push_back(static_cast<std::byte>(v));
  return b;
}

byte_buffer encoded(std::uint64_t v) {
  const varint_bytes e = encode_varint(v);
  return byte_buffer(e.view().begin(), e.view().end());
}

constexpr std::uint64_t u64_max = std::numeric_limits<std::uint64_t>::max();
constexpr std::int64_t i64_min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t i64_max = std::numeric_limits<std::int64_t>::max();

constexpr bool constexpr_round_trip(std::uint64_t v) {
  const varint_bytes e = encode_varint(v);
  const varint_parse p = parse_varint(e.view());
  return p.ok() && p.value == v && p.size == e.size && e.size == varint_size(v);
}

static_assert(constexpr_round_trip(0));
static_assert(constexpr_round_trip(127));
static_assert(constexpr_round_trip(128));
static_assert(constexpr_round_trip(std::uint64_t{1} << 63));
static_assert(constexpr_round_trip(u64_max));
static_assert(varint_size(0) == 1 && varint_size(127) == 1 && varint_size(128) == 2);
static_assert(varint_size(u64_max) == max_varint_bytes);
static_assert(zigzag_decode(zigzag_encode(i64_min)) == i64_min);
static_assert(zigzag_size(-1) == 1 && zigzag_size(-64) == 1 && zigzag_size(-65) == 2);

}  // namespace

TEST_CASE("varint: edge values encode to their known bytes and decode back") {
  struct vec {
    std::uint64_t value;
    byte_buffer bytes;
  };
  const std::vector<vec> vectors = {
      {0, bytes_of({0x00})},
      {1, bytes_of({0x01})},
      {127, bytes_of({0x7f})},
      {128, bytes_of({0x80, 0x01})},
      {300, bytes_of({0xac, 0x02})},
      {16383, bytes_of({0xff, 0x7f})},
      {16384, bytes_of({0x80, 0x80, 0x01})},
      {std::uint64_t{1} << 63, bytes_of({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})},
      {u64_max, bytes_of({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})},
  };
  for (const auto& v : vectors) {
    CAPTURE(v.value);
    CHECK(encoded(v.value) == v.bytes);
    CHECK(varint_size(v.value) == v.bytes.size());
    auto d = decode_varint(v.bytes);
    REQUIRE(d);
    CHECK(d->value == v.value);
    CHECK(d->size == v.bytes.size());
    // Trailing bytes are not part of the varint.
    byte_buffer longer = v.bytes;
    longer.push_back(std::byte{0xff});
    auto d2 = decode_varint(longer);
    REQUIRE(d2);
    CHECK(d2->size == v.bytes.size());
  }
}

TEST_CASE("varint: zigzag maps signed values to small unsigned ones and back") {
  CHECK(zigzag_encode(0) == 0);
  CHECK(zigzag_encode(-1) == 1);
  CHECK(zigzag_encode(1) == 2);
  CHECK(zigzag_encode(-2) == 3);
  CHECK(zigzag_encode(i64_max) == u64_max - 1);
  CHECK(zigzag_encode(i64_min) == u64_max);
  for (std::int64_t v : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1}, std::int64_t{-64},
                         std::int64_t{-65}, std::int64_t{63}, std::int64_t{64}, i64_min, i64_max,
                         i64_min + 1, i64_max - 1}) {
    CAPTURE(v);
    CHECK(zigzag_decode(zigzag_encode(v)) == v);
    const varint_bytes e = encode_varint(zigzag_encode(v));
    auto d = decode_zigzag(e.view());
    REQUIRE(d);
    CHECK(d->value == v);
    CHECK(d->size == zigzag_size(v));
  }
}

TEST_CASE("varint: every strict prefix of every encoding is truncated") {
  std::vector<std::uint64_t> values = {0, 127, 128, 300, 16384, std::uint64_t{1} << 63, u64_max};
  for (int bits = 1; bits < 64; ++bits) values.push_back((std::uint64_t{1} << bits) - 1);
  for (std::uint64_t v : values) {
    const byte_buffer e = encoded(v);
    for (std::size_t cut = 0; cut < e.size(); ++cut) {
      CAPTURE(v);
      CAPTURE(cut);
      auto d = decode_varint(byte_view{e}.first(cut));
      REQUIRE_FALSE(d);
      CHECK(d.error().code == errc::truncated);
    }
  }
}

TEST_CASE("varint: overlong and overflowing encodings are malformed") {
  const std::vector<byte_buffer> bad = {
      bytes_of({0x80, 0x00}),                    // 0 in two bytes
      bytes_of({0xff, 0x00}),                    // 127 in two bytes
      bytes_of({0x80, 0x80, 0x00}),              // 0 in three bytes
      bytes_of({0xac, 0x82, 0x00}),              // 300 padded
      bytes_of({0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}),  // 1 in ten bytes
      bytes_of({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02}),  // 2^64: overflow
      bytes_of({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}),  // 70 bits
      bytes_of({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x00}),  // 11 bytes
      bytes_of({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80}),  // continues past 10
  };
  for (const auto& b : bad) {
    CAPTURE(b.size());
    auto d = decode_varint(b);
    REQUIRE_FALSE(d);
    CHECK(d.error().code == errc::malformed);
    auto z = decode_zigzag(b);
    REQUIRE_FALSE(z);
    CHECK(z.error().code == errc::malformed);
  }
}

TEST_CASE("varint: every one- and two-byte input decodes canonically or fails") {
  // Exhaustive over short inputs: a success re-encodes to exactly the bytes it
  // consumed, so no value has two accepted encodings.
  for (unsigned a = 0; a < 256; ++a) {
    for (unsigned b = 0; b < 257; ++b) {
      byte_buffer in = bytes_of({a});
      if (b < 256) in.push_back(static_cast<std::byte>(b));
      auto d = decode_varint(in);
      if (d) {
        const byte_buffer e = encoded(d->value);
        REQUIRE(e.size() == d->size);
        REQUIRE(std::equal(e.begin(), e.end(), in.begin()));
      } else {
        const bool truncated = (a & 0x80) && (b == 256 || (b & 0x80));
        REQUIRE(d.error().code == (truncated ? errc::truncated : errc::malformed));
      }
    }
  }
}

TEST_CASE("varint: random values of every bit length round trip") {
  seeded_random rng{0xc0dec};
  for (int i = 0; i < 20000; ++i) {
    const int bits = static_cast<int>(rng.below(65));
    const std::uint64_t v = bits == 0 ? 0 : rng() >> (64 - bits);
    const byte_buffer e = encoded(v);
    auto d = decode_varint(e);
    REQUIRE(d);
    REQUIRE(d->value == v);
    REQUIRE(d->size == varint_size(v));
    const auto s = static_cast<std::int64_t>(rng());
    REQUIRE(zigzag_decode(zigzag_encode(s)) == s);
  }
}
