// The fuzz target's properties (tests/fuzz/codec_properties.hpp) on seeded
// random and structured inputs, so every build, g++ included, checks them.
// A broken property aborts the test binary, which fails the case.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "codec_properties.hpp"
#include "quorum/core/random.hpp"

using namespace quorum;

namespace {

std::vector<std::uint8_t> random_bytes(seeded_random& rng, std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (auto& b : v) b = static_cast<std::uint8_t>(rng());
  return v;
}

// A valid encoding of random fields, framed, so the checks see successes too.
std::vector<std::uint8_t> structured(seeded_random& rng) {
  byte_buffer payload;
  codec::writer w{payload};
  const auto fields = rng.below(12);
  for (std::uint64_t i = 0; i < fields; ++i) {
    switch (rng.below(4)) {
      case 0: w.varint(rng() >> rng.below(64)); break;
      case 1: w.u32(static_cast<std::uint32_t>(rng())); break;
      case 2: w.zigzag(static_cast<std::int64_t>(rng()) >> rng.below(64)); break;
      default: w.prefixed_string("abcdefghij"); break;
    }
  }
  byte_buffer framed;
  (void)codec::encode_frame(framed, payload);
  std::vector<std::uint8_t> out;
  out.push_back(static_cast<std::uint8_t>(rng.below(24)));  // k: number of op bytes
  for (std::size_t i = 0; i < out[0]; ++i) out.push_back(static_cast<std::uint8_t>(rng()));
  for (std::byte b : rng.chance(0.5) ? framed : payload) out.push_back(static_cast<std::uint8_t>(b));
  if (rng.chance(0.3) && out.size() > 1)
    out[1 + rng.below(out.size() - 1)] ^= static_cast<std::uint8_t>(1u << rng.below(8));
  return out;
}

}  // namespace

TEST_CASE("properties: random byte strings hold every codec property") {
  seeded_random rng{0xf022};
  std::size_t checked = 0;
  for (int i = 0; i < 20000; ++i) {
    const auto in = random_bytes(rng, rng.below(48));
    fuzz::check_codec(in.data(), in.size());
    ++checked;
  }
  CHECK(checked == 20000);
}

TEST_CASE("properties: valid encodings, framed or bare, some with a flipped bit") {
  seeded_random rng{0x5eed};
  std::size_t frames_ok = 0;
  for (int i = 0; i < 20000; ++i) {
    const auto in = structured(rng);
    fuzz::check_codec(in.data(), in.size());
    const std::size_t k = std::min<std::size_t>(in[0], in.size() - 1);
    const byte_view body{reinterpret_cast<const std::byte*>(in.data()) + 1 + k, in.size() - 1 - k};
    if (codec::decode_frame(body)) ++frames_ok;
  }
  // The structured inputs do reach the success paths, not only the errors.
  CHECK(frames_ok > 5000);
}
