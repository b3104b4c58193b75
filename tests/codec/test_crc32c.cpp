// crc32c.hpp: the RFC 3720 (iSCSI) B.4 vectors and the standard check value,
// incremental computation equal to one-shot on random splits, the sliced
// run-time path equal to the bytewise constexpr one, the SSE4.2 path equal to
// both, and use in constant expressions.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "quorum/codec/crc32c.hpp"
#include "quorum/core/random.hpp"

using namespace quorum;
using namespace quorum::codec;

namespace {
static_assert(crc32c(std::string_view{"123456789"}) == 0xE3069283u);
static_assert(crc32c(std::string_view{""}) == 0);
static_assert(crc32c(std::string_view{"6789"}, crc32c(std::string_view{"12345"})) == 0xE3069283u);

template <class F>
std::array<std::byte, 32> filled(F f) {
  std::array<std::byte, 32> a{};
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<std::byte>(f(i));
  return a;
}
}  // namespace

TEST_CASE("crc32c: standard check value and RFC 3720 B.4 vectors") {
  CHECK(crc32c(as_bytes("123456789")) == 0xE3069283u);
  CHECK(crc32c(filled([](std::size_t) { return 0x00; })) == 0x8A9136AAu);
  CHECK(crc32c(filled([](std::size_t) { return 0xff; })) == 0x62A8AB43u);
  CHECK(crc32c(filled([](std::size_t i) { return i; })) == 0x46DD794Eu);
  CHECK(crc32c(filled([](std::size_t i) { return 31 - i; })) == 0x113FDB5Cu);
  CHECK(crc32c(byte_view{}) == 0);
}

TEST_CASE("crc32c: incremental equals one-shot on random splits, run time equals constexpr path") {
  seeded_random rng{2024};
  std::string data(5000, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  const std::uint32_t whole = crc32c(as_bytes(data));
  CHECK(whole == crc32c(std::string_view{data}));  // sliced vs bytewise
  for (int round = 0; round < 200; ++round) {
    std::uint32_t crc = 0;
    std::size_t at = 0;
    while (at < data.size()) {
      const std::size_t n = std::min<std::size_t>(rng.below(80), data.size() - at);
      crc = crc32c(as_bytes(std::string_view{data}.substr(at, n)), crc);
      at += n;
    }
    REQUIRE(crc == whole);
  }
  // Every length and alignment 0..64 agrees between the two paths.
  for (std::size_t off = 0; off < 8; ++off)
    for (std::size_t len = 0; len <= 64; ++len) {
      const std::string_view s = std::string_view{data}.substr(off, len);
      REQUIRE(crc32c(as_bytes(s)) == crc32c(s));
    }
}

TEST_CASE("crc32c: the SSE4.2 path equals the software paths on random lengths and alignments") {
#if QUORUM_CRC32C_SSE42
  if (!quorum::codec::detail::cpu_has_sse42()) {
    MESSAGE("this processor has no SSE4.2: only the software path runs here");
    return;
  }
  const auto hw = [](std::string_view s, std::uint32_t crc = 0) {
    return ~quorum::codec::detail::crc32c_sse42(~crc, reinterpret_cast<const unsigned char*>(s.data()), s.size());
  };
  const auto sliced = [](std::string_view s, std::uint32_t crc = 0) {
    return ~quorum::codec::detail::crc32c_sliced(~crc, reinterpret_cast<const unsigned char*>(s.data()), s.size());
  };
  CHECK(hw("123456789") == 0xE3069283u);
  CHECK(hw("") == 0);
  CHECK(hw("6789", hw("12345")) == 0xE3069283u);
  const auto v = filled([](std::size_t i) { return i; });
  CHECK(hw(std::string_view{reinterpret_cast<const char*>(v.data()), v.size()}) == 0x46DD794Eu);
  seeded_random rng{7};
  std::string data(70000, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  for (int round = 0; round < 2000; ++round) {
    const std::size_t off = rng.below(64);
    const std::size_t len = round < 200 ? static_cast<std::size_t>(round) : rng.below(round < 1900 ? 600 : 65000);
    const std::uint32_t seed = round % 3 == 0 ? 0 : static_cast<std::uint32_t>(rng());
    const std::string_view s = std::string_view{data}.substr(off, len);
    REQUIRE(hw(s, seed) == sliced(s, seed));
    REQUIRE(hw(s, seed) ==
            ~quorum::codec::detail::crc32c_bytewise(~seed, reinterpret_cast<const unsigned char*>(s.data()), len));
  }
  // The public entry point takes this path here.
  CHECK(crc32c(as_bytes(std::string_view{data})) == sliced(data));
#else
  MESSAGE("not x86-64: only the software path is built");
  CHECK(crc32c(as_bytes("123456789")) == 0xE3069283u);
#endif
}
