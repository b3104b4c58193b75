// xxh64 and mix64: equal to Debian's libxxhash XXH64 for every length 0..300,
// large inputs and several seeds; constexpr evaluation agrees with runtime.
#include <doctest/doctest.h>
#include <xxhash.h>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "quorum/core/random.hpp"
#include "quorum/hashing/hash_policy.hpp"
#include "quorum/hashing/mix.hpp"
#include "quorum/hashing/xxh64.hpp"

using namespace quorum::hashing;

namespace {

std::string random_string(quorum::seeded_random& rng, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng.below(256));
  return s;
}

constexpr std::array<std::uint64_t, 6> seeds{
    0, 1, 42, 0x9E3779B185EBCA87ULL, ~0ULL, 0x0123456789abcdefULL};

}  // namespace

TEST_CASE("xxh64: equals libxxhash XXH64 for every length 0..300 and several seeds") {
  quorum::seeded_random rng{7};
  std::size_t checked = 0;
  for (std::size_t len = 0; len <= 300; ++len) {
    for (int trial = 0; trial < 4; ++trial) {
      const std::string s = random_string(rng, len);
      for (std::uint64_t seed : seeds) {
        const std::uint64_t want = XXH64(s.data(), s.size(), seed);
        REQUIRE_MESSAGE(xxh64(s, seed) == want, "len " << len << " seed " << seed);
        ++checked;
      }
    }
  }
  CHECK(checked == 301 * 4 * seeds.size());
}

TEST_CASE("xxh64: unaligned starts match libxxhash") {
  quorum::seeded_random rng{11};
  const std::string buf = random_string(rng, 512);
  for (std::size_t offset = 0; offset < 8; ++offset) {
    for (std::size_t len : {7u, 31u, 32u, 33u, 100u, 400u}) {
      const std::string_view view{buf.data() + offset, len};
      CHECK(xxh64(view, 5) == XXH64(view.data(), view.size(), 5));
    }
  }
}

TEST_CASE("xxh64: large inputs match libxxhash") {
  quorum::seeded_random rng{13};
  for (std::size_t len : {1000u, 4096u, 65'537u, 1'000'003u}) {
    const std::string s = random_string(rng, len);
    for (std::uint64_t seed : seeds) CHECK(xxh64(s, seed) == XXH64(s.data(), s.size(), seed));
  }
}

TEST_CASE("xxh64: byte_view overload agrees with the string_view one") {
  quorum::seeded_random rng{17};
  for (std::size_t len : {0u, 3u, 8u, 45u, 257u}) {
    const std::string s = random_string(rng, len);
    const std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(s.data()),
                                       reinterpret_cast<const std::byte*>(s.data()) + s.size());
    CHECK(xxh64(quorum::byte_view{bytes}, 3) == xxh64(s, 3));
  }
}

TEST_CASE("xxh64: constant evaluation gives the library's values") {
  // Every branch: empty, tail bytes, 4-byte tail, 8-byte tail, 32-byte stripes.
  constexpr std::string_view inputs[] = {"",
                                         "a",
                                         "abc",
                                         "abcd",
                                         "abcdefgh",
                                         "abcdefghijklm",
                                         "0123456789abcdef0123456789abcdef",
                                         "The quick brown fox jumps over the lazy dog, twice."};
  constexpr std::array<std::uint64_t, 8> at_compile_time = [&] {
    std::array<std::uint64_t, 8> out{};
    for (std::size_t i = 0; i < 8; ++i) out[i] = xxh64(inputs[i], 0x1234);
    return out;
  }();
  for (std::size_t i = 0; i < 8; ++i)
    CHECK(at_compile_time[i] == XXH64(inputs[i].data(), inputs[i].size(), 0x1234));
  // Published reference values for the empty string and "abc" with seed 0.
  static_assert(xxh64(std::string_view{}) == 0xEF46DB3751D8E999ULL);
  static_assert(xxh64(std::string_view{"abc"}, 0) == 0x44BC2CF5AD770999ULL);
}

TEST_CASE("xxh64_hash: the policy carries its seed") {
  const xxh64_hash h0{};
  const xxh64_hash h1{1};
  CHECK(h0("node-a") == XXH64("node-a", 6, 0));
  CHECK(h1("node-a") == XXH64("node-a", 6, 1));
  static_assert(KeyHash<xxh64_hash>);
  static_assert(!KeyHash<mix64_hash>);
  static_assert(IntegerKeyHash<mix64_hash>);
}

TEST_CASE("mix64: equals splitmix64's output and is a bijection on a sample") {
  for (std::uint64_t x : {0ULL, 1ULL, 42ULL, ~0ULL, 0x8000000000000000ULL}) {
    std::uint64_t state = x;
    CHECK(mix64(x) == quorum::splitmix64(state));
  }
  CHECK(mix64(0) != 0);
  CHECK(mix64_hash{}(7) == mix64(7));
  // Flipping one input bit flips about half the output bits (avalanche).
  quorum::seeded_random rng{19};
  double total = 0;
  constexpr int samples = 2000;
  for (int i = 0; i < samples; ++i) {
    const std::uint64_t x = rng();
    const int bit = static_cast<int>(rng.below(64));
    total += std::popcount(mix64(x) ^ mix64(x ^ (1ULL << bit)));
  }
  const double mean = total / samples;
  CHECK(mean > 31.0);
  CHECK(mean < 33.0);
  CHECK(mix64(1, 2) != mix64(2, 1));
}
