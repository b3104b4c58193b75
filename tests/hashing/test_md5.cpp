// md5: the RFC 1321 test suite (at compile time and at run time), incremental
// updates in every split, the multi-lane batch form, and libhashkit's MD5 key
// hash on random keys.
#include <doctest/doctest.h>
#include <libmemcached/memcached.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "quorum/core/random.hpp"
#include "quorum/hashing/md5.hpp"

using namespace quorum::hashing;

namespace {

struct vector_case {
  std::string_view input;
  std::string_view hex;
};

// RFC 1321, appendix A.5.
constexpr std::array<vector_case, 7> rfc1321{{
    {"", "d41d8cd98f00b204e9800998ecf8427e"},
    {"a", "0cc175b9c0f1b6a831c399e269772661"},
    {"abc", "900150983cd24fb0d6963f7d28e17f72"},
    {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
    {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
    {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"},
    {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
     "57edf4a22be3c955ac49da2e2107b67a"},
}};

constexpr bool hex_equals(const md5_digest& d, std::string_view hex) {
  const auto h = to_hex(d);
  return std::string_view{h.data(), h.size()} == hex;
}

constexpr bool all_rfc_vectors_at_compile_time() {
  for (const auto& v : rfc1321) {
    if (!hex_equals(md5(v.input), v.hex)) return false;
    md5_context ctx;
    ctx.update(v.input.substr(0, v.input.size() / 2)).update(v.input.substr(v.input.size() / 2));
    if (!hex_equals(ctx.digest(), v.hex)) return false;
  }
  return true;
}
static_assert(all_rfc_vectors_at_compile_time());

std::string random_string(quorum::seeded_random& rng, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng.below(256));
  return s;
}

}  // namespace

TEST_CASE("md5: RFC 1321 test suite at run time, one-shot and byte_view") {
  for (const auto& v : rfc1321) {
    CAPTURE(v.input);
    CHECK(hex_equals(md5(v.input), v.hex));
    CHECK(hex_equals(md5(quorum::as_bytes(v.input)), v.hex));
  }
}

TEST_CASE("md5: incremental updates agree with one-shot at every split and across block edges") {
  quorum::seeded_random rng{7};
  for (std::size_t n : {0u, 1u, 55u, 56u, 63u, 64u, 65u, 119u, 120u, 128u, 200u, 1000u}) {
    const std::string msg = random_string(rng, n);
    const md5_digest whole = md5(msg);
    for (std::size_t split = 0; split <= n; split += (n < 130 ? 1 : 37)) {
      md5_context ctx;
      ctx.update(std::string_view{msg}.substr(0, split));
      ctx.update(quorum::as_bytes(std::string_view{msg}.substr(split)));
      CHECK(ctx.digest() == whole);
    }
  }
}

TEST_CASE("md5: words are the digest read as four little-endian 32-bit values") {
  const md5_digest d = md5("abc");
  const auto w = md5_words("abc");
  for (std::size_t j = 0; j < 4; ++j) {
    const std::uint32_t le = std::uint32_t{d[4 * j]} | (std::uint32_t{d[4 * j + 1]} << 8) |
                             (std::uint32_t{d[4 * j + 2]} << 16) | (std::uint32_t{d[4 * j + 3]} << 24);
    CHECK(w[j] == le);
  }
  CHECK(md5_hash{}("abc") == ((std::uint64_t{w[1]} << 32) | w[0]));
}

TEST_CASE("md5: eight lanes at once equal eight single MD5s for every one-block length") {
  quorum::seeded_random rng{11};
  for (std::size_t round = 0; round < 64; ++round) {
    std::array<std::string, 8> keys;
    std::array<std::string_view, 8> views;
    for (std::size_t l = 0; l < 8; ++l) {
      keys[l] = random_string(rng, (round + 7 * l) % (md5_one_block_max + 1));
      views[l] = keys[l];
    }
    std::array<std::uint32_t, 8> out{};
    md5_word0_many<8>(views.data(), out.data());
    for (std::size_t l = 0; l < 8; ++l) CHECK(out[l] == md5_words(views[l])[0]);
  }
}

TEST_CASE("md5: word 0 equals libhashkit's MD5 key hash on random keys") {
  quorum::seeded_random rng{3};
  for (int i = 0; i < 2000; ++i) {
    const std::string key = random_string(rng, rng.below(300));
    CHECK(md5_words(key)[0] == memcached_generate_hash_value(key.data(), key.size(), MEMCACHED_HASH_MD5));
  }
}
