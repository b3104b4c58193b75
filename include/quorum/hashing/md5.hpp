// md5: RFC 1321 MD5, constexpr, one-shot and incremental. The hashing part
// needs it only to place keys exactly as libmemcached and libketama do (their
// rings are built from MD5 digests); it is not offered for security.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>

#include "quorum/core/assert.hpp"
#include "quorum/core/bytes.hpp"

namespace quorum::hashing {

using md5_digest = std::array<std::uint8_t, 16>;

namespace md5_detail {

inline constexpr std::uint32_t k_table[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};

inline constexpr int shift_table[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

inline constexpr std::uint32_t initial_state[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};

// Word is std::uint32_t, or a vector of them for the multi-lane form.
template <class Word>
[[nodiscard, gnu::always_inline]] constexpr Word rotl(Word x, int s) noexcept {
  return (x << s) | (x >> (32 - s));
}

// The message word used at step i (RFC 1321 section 3.4).
[[nodiscard]] constexpr int word_index(int i) noexcept {
  switch (i >> 4) {
    case 0: return i;
    case 1: return (5 * i + 1) & 15;
    case 2: return (3 * i + 5) & 15;
    default: return (7 * i) & 15;
  }
}

// Always inlined, even 16 steps deep in vectors: a call per step would
// spill the state to memory. Step I as a template parameter: constant table entries and message index,
// straight-line code whatever the optimiser's unrolling budget. MD5 is bound
// by the latency of the chain through b, so each round's function is written
// to put as few operations as possible after b: what does not depend on b is
// summed first, and the second round's OR of disjoint bit sets becomes a sum.
template <int I, class Word>
[[gnu::always_inline]] constexpr void step(Word& a, Word b, Word c, Word d, const Word (&m)[16]) noexcept {
  constexpr int round = I / 16;
  const Word base = a + k_table[I] + m[word_index(I)];
  Word t;
  if constexpr (round == 0) t = base + (d ^ (b & (c ^ d)));
  else if constexpr (round == 1) t = (base + (c & ~d)) + (b & d);
  else if constexpr (round == 2) t = base + (b ^ (c ^ d));
  else t = base + (c ^ (b | ~d));
  a = b + rotl(t, shift_table[round][I % 4]);
}

// The registers rotate roles every step (RFC 1321: [ABCD] [DABC] [CDAB] [BCDA]).
template <int I, class Word>
[[gnu::always_inline]] constexpr void quad(Word& a, Word& b, Word& c, Word& d, const Word (&m)[16]) noexcept {
  step<I>(a, b, c, d, m);
  step<I + 1>(d, a, b, c, m);
  step<I + 2>(c, d, a, b, m);
  step<I + 3>(b, c, d, a, m);
}

template <class Word, int... Quads>
[[gnu::always_inline]] constexpr void all_steps(Word& a, Word& b, Word& c, Word& d, const Word (&m)[16],
                         std::integer_sequence<int, Quads...>) noexcept {
  (quad<Quads * 4>(a, b, c, d, m), ...);
}

template <class Word>
constexpr void compress_words(Word (&state)[4], const Word (&m)[16]) noexcept {
  Word a = state[0], b = state[1], c = state[2], d = state[3];
  all_steps(a, b, c, d, m, std::make_integer_sequence<int, 16>{});
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
}

constexpr void compress(std::uint32_t (&state)[4], const std::uint32_t (&m)[16]) noexcept { compress_words(state, m); }

template <class Byte>
[[nodiscard]] constexpr std::uint8_t octet(Byte b) noexcept {
  return static_cast<std::uint8_t>(b);
}

template <class Byte>
[[nodiscard]] constexpr std::uint32_t load_word(const Byte* p) noexcept {
  return std::uint32_t{octet(p[0])} | (std::uint32_t{octet(p[1])} << 8) | (std::uint32_t{octet(p[2])} << 16) |
         (std::uint32_t{octet(p[3])} << 24);
}

// Appends one byte to a partly filled block, compressing it when full.
constexpr void put(std::uint32_t (&state)[4], std::uint32_t (&block)[16], std::size_t& filled,
                   std::uint8_t byte) noexcept {
  const std::size_t word = filled / 4;
  const int shift = static_cast<int>(filled % 4) * 8;
  block[word] = (shift == 0 ? 0u : block[word]) | (std::uint32_t{byte} << shift);
  if (++filled == 64) {
    compress(state, block);
    filled = 0;
  }
}

// Byte by byte up to a block boundary, then whole blocks read in place.
template <class Byte>
constexpr void absorb(std::uint32_t (&state)[4], std::uint32_t (&block)[16], std::size_t& filled, const Byte* data,
                      std::size_t size) noexcept {
  std::size_t i = 0;
  for (; i < size && filled != 0; ++i) put(state, block, filled, octet(data[i]));
  for (; size - i >= 64; i += 64) {
    for (std::size_t w = 0; w < 16; ++w) block[w] = load_word(data + i + 4 * w);
    compress(state, block);
  }
  for (; i < size; ++i) put(state, block, filled, octet(data[i]));
}

}  // namespace md5_detail

// Incremental MD5: update() any number of times, then digest(). Reading the
// four state words directly (words()) gives libmemcached's 32-bit points
// without serialising the digest.
class md5_context {
 public:
  constexpr md5_context() noexcept = default;

  constexpr md5_context& update(std::string_view data) noexcept {
    md5_detail::absorb(state_, block_, filled_, data.data(), data.size());
    length_ += data.size();
    return *this;
  }
  md5_context& update(byte_view data) noexcept {
    md5_detail::absorb(state_, block_, filled_, data.data(), data.size());
    length_ += data.size();
    return *this;
  }

  // Pads and finishes; the context must not be updated afterwards.
  constexpr std::array<std::uint32_t, 4> words() noexcept {
    const std::uint64_t bit_length = length_ * 8;
    const std::uint8_t pad_start = 0x80;
    append(pad_start);
    while (filled_ != 56) append(std::uint8_t{0});
    for (int i = 0; i < 8; ++i) append(static_cast<std::uint8_t>(bit_length >> (8 * i)));
    return {state_[0], state_[1], state_[2], state_[3]};
  }

  constexpr md5_digest digest() noexcept;

 private:
  constexpr void append(std::uint8_t byte) noexcept { md5_detail::put(state_, block_, filled_, byte); }

  std::uint32_t state_[4] = {md5_detail::initial_state[0], md5_detail::initial_state[1],
                             md5_detail::initial_state[2], md5_detail::initial_state[3]};
  std::uint32_t block_[16] = {};
  std::size_t filled_ = 0;
  std::uint64_t length_ = 0;
};

namespace md5_detail {


// One-shot MD5 over whole blocks read in place; only the padded tail is copied.
template <class Byte>
[[nodiscard]] constexpr std::array<std::uint32_t, 4> hash_words(const Byte* data, std::size_t size) noexcept {
  std::uint32_t state[4] = {initial_state[0], initial_state[1], initial_state[2], initial_state[3]};
  std::uint32_t m[16] = {};
  std::size_t offset = 0;
  for (; size - offset >= 64; offset += 64) {
    for (int i = 0; i < 16; ++i) m[i] = load_word(data + offset + 4 * i);
    compress(state, m);
  }
  std::uint8_t tail[128] = {};
  const std::size_t rest = size - offset;
  for (std::size_t i = 0; i < rest; ++i) tail[i] = octet(data[offset + i]);
  tail[rest] = 0x80;
  const std::size_t tail_size = rest < 56 ? 64 : 128;
  const std::uint64_t bit_length = static_cast<std::uint64_t>(size) * 8;
  for (std::size_t i = 0; i < 8; ++i) tail[tail_size - 8 + i] = static_cast<std::uint8_t>(bit_length >> (8 * i));
  for (std::size_t block = 0; block < tail_size; block += 64) {
    for (std::size_t i = 0; i < 16; ++i) m[i] = load_word(tail + block + 4 * i);
    compress(state, m);
  }
  return {state[0], state[1], state[2], state[3]};
}

}  // namespace md5_detail

// The digest as four little-endian 32-bit words: word j is digest bytes
// 4j..4j+3, the value libmemcached and libketama put on their rings.
[[nodiscard]] constexpr std::array<std::uint32_t, 4> md5_words(std::string_view data) noexcept {
  return md5_detail::hash_words(data.data(), data.size());
}

[[nodiscard]] constexpr md5_digest to_digest(const std::array<std::uint32_t, 4>& w) noexcept {
  md5_digest out{};
  for (std::size_t i = 0; i < 16; ++i) out[i] = static_cast<std::uint8_t>(w[i / 4] >> (8 * (i % 4)));
  return out;
}

[[nodiscard]] constexpr md5_digest md5(std::string_view data) noexcept { return to_digest(md5_words(data)); }

[[nodiscard]] inline md5_digest md5(byte_view data) noexcept {
  return to_digest(md5_detail::hash_words(data.data(), data.size()));
}

constexpr md5_digest md5_context::digest() noexcept { return to_digest(words()); }

// A message this long or shorter fits one 64-byte block with its padding.
inline constexpr std::size_t md5_one_block_max = 55;

namespace md5_detail {

// Lanes 32-bit words as 128-bit GCC/Clang vectors (SSE2 or NEON, or scalars
// where there is no SIMD). Several vectors per word give the pipeline
// independent chains; wider vector types would change the calling ABI.
// Array indexing in the lane helpers is in bounds by construction; UBSan's
// pointer-overflow check on every one of them, inlined 64 steps deep, made
// this form take minutes to compile (register allocation) under sanitizers.
#if defined(__clang__)
#define QUORUM_MD5_NO_POINTER_CHECKS __attribute__((no_sanitize("pointer-overflow")))
#else
#define QUORUM_MD5_NO_POINTER_CHECKS
#endif

template <std::size_t Lanes>
struct lane_words {
  using vec4 __attribute__((vector_size(16))) = std::uint32_t;
  static constexpr std::size_t count = Lanes / 4;
  static_assert(Lanes % 4 == 0 && Lanes > 0, "md5 lanes come in fours");
  vec4 v[count];

  void set(std::size_t l, std::uint32_t x) noexcept { v[l / 4][l % 4] = x; }
  [[nodiscard]] std::uint32_t get(std::size_t l) const noexcept { return v[l / 4][l % 4]; }

  template <class F>
  [[gnu::always_inline]] QUORUM_MD5_NO_POINTER_CHECKS friend lane_words zip(const lane_words& x, const lane_words& y,
                                                                            F f) noexcept {
    lane_words out;
    for (std::size_t i = 0; i < count; ++i) out.v[i] = f(x.v[i], y.v[i]);
    return out;
  }
  [[gnu::always_inline]] friend lane_words operator+(const lane_words& x, const lane_words& y) noexcept {
    return zip(x, y, [](vec4 p, vec4 q) { return p + q; });
  }
  [[gnu::always_inline]] friend lane_words operator^(const lane_words& x, const lane_words& y) noexcept {
    return zip(x, y, [](vec4 p, vec4 q) { return p ^ q; });
  }
  [[gnu::always_inline]] friend lane_words operator&(const lane_words& x, const lane_words& y) noexcept {
    return zip(x, y, [](vec4 p, vec4 q) { return p & q; });
  }
  [[gnu::always_inline]] friend lane_words operator|(const lane_words& x, const lane_words& y) noexcept {
    return zip(x, y, [](vec4 p, vec4 q) { return p | q; });
  }
  [[gnu::always_inline]] friend lane_words operator+(const lane_words& x, std::uint32_t k) noexcept {
    return zip(x, x, [k](vec4 p, vec4) { return p + k; });
  }
  [[gnu::always_inline]] friend lane_words operator~(const lane_words& x) noexcept {
    return zip(x, x, [](vec4 p, vec4) { return ~p; });
  }
  [[gnu::always_inline]] friend lane_words operator<<(const lane_words& x, int s) noexcept {
    return zip(x, x, [s](vec4 p, vec4) { return p << s; });
  }
  [[gnu::always_inline]] friend lane_words operator>>(const lane_words& x, int s) noexcept {
    return zip(x, x, [s](vec4 p, vec4) { return p >> s; });
  }
  [[gnu::always_inline]] lane_words& operator+=(const lane_words& y) noexcept { return *this = *this + y; }
};

}  // namespace md5_detail

// Word 0 of the MD5 of Lanes messages (each at most md5_one_block_max bytes)
// computed side by side. One MD5 is a single long dependency chain; laid out
// as structure-of-arrays, independent chains overlap in the pipeline and
// vectorise, which is what makes batch lookups cheaper than one at a time.
template <std::size_t Lanes>
QUORUM_MD5_NO_POINTER_CHECKS inline void md5_word0_many(const std::string_view* messages, std::uint32_t* out) noexcept {
  // Pack each message's padded block into one lane of sixteen word rows.
  std::uint32_t rows[16][Lanes];
  for (std::size_t l = 0; l < Lanes; ++l) {
    const std::string_view msg = messages[l];
    QUORUM_ASSERT(msg.size() <= md5_one_block_max);
    unsigned char block[64] = {};
    if (!msg.empty()) std::memcpy(block, msg.data(), msg.size());
    block[msg.size()] = 0x80;
    const std::uint64_t bit_length = static_cast<std::uint64_t>(msg.size()) * 8;
    for (std::size_t i = 0; i < 8; ++i) block[56 + i] = static_cast<unsigned char>(bit_length >> (8 * i));
    for (std::size_t w = 0; w < 16; ++w) rows[w][l] = md5_detail::load_word(block + 4 * w);
  }
  using words_t = md5_detail::lane_words<Lanes>;
  static_assert(sizeof(words_t) == sizeof(rows[0]));
  words_t words[16];
  std::memcpy(static_cast<void*>(words), rows, sizeof rows);
  words_t state[4];
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t l = 0; l < Lanes; ++l) state[i].set(l, md5_detail::initial_state[i]);
  md5_detail::compress_words(state, words);
  for (std::size_t l = 0; l < Lanes; ++l) out[l] = state[0].get(l);
}

// Lowercase hex, as md5sum prints it.
[[nodiscard]] constexpr std::array<char, 32> to_hex(const md5_digest& d) noexcept {
  constexpr char digits[] = "0123456789abcdef";
  std::array<char, 32> out{};
  for (std::size_t i = 0; i < 16; ++i) {
    out[2 * i] = digits[d[i] >> 4];
    out[2 * i + 1] = digits[d[i] & 15];
  }
  return out;
}

// A hash policy (KeyHash) from MD5: the first eight digest bytes,
// little-endian, so its low 32 bits are libmemcached's MD5 key hash.
struct md5_hash {
  [[nodiscard]] constexpr std::uint64_t operator()(std::string_view key) const noexcept {
    const auto w = md5_words(key);
    return (std::uint64_t{w[1]} << 32) | w[0];
  }
};

}  // namespace quorum::hashing
