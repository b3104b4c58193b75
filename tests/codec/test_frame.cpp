// frame.hpp: round trips, the three errors a stream reader must tell apart
// (truncated / too_large / checksum_mismatch), and every single-bit flip of a
// frame refused or decoded to the original payload, never to another one.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "quorum/codec/frame.hpp"
#include "quorum/core/random.hpp"

using namespace quorum;
using namespace quorum::codec;

namespace {
bool same(byte_view a, byte_view b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }
}  // namespace

TEST_CASE("frame: layout is length, CRC32C, payload") {
  byte_buffer out;
  REQUIRE(encode_frame(out, as_bytes("123456789")));
  REQUIRE(out.size() == 8 + 9);
  CHECK(load_le32(out.data()) == 9);
  CHECK(load_le32(out.data() + 4) == 0xE3069283u);
  CHECK(as_chars(byte_view{out}.subspan(8)) == "123456789");
}

TEST_CASE("frame: payloads of many sizes round trip, back to back in one buffer") {
  seeded_random rng{7};
  byte_buffer out;
  std::vector<byte_buffer> payloads;
  for (std::size_t n : {0, 1, 2, 7, 8, 9, 63, 64, 65, 1000, 4096}) {
    byte_buffer p(n);
    for (auto& b : p) b = static_cast<std::byte>(rng());
    REQUIRE(encode_frame(out, p));
    payloads.push_back(std::move(p));
  }
  byte_view rest{out};
  for (const auto& p : payloads) {
    auto f = decode_frame(rest);
    REQUIRE(f);
    CHECK(same(f->payload, p));
    CHECK(f->consumed == frame_header_bytes + p.size());
    rest = rest.subspan(f->consumed);
  }
  CHECK(rest.empty());
}

TEST_CASE("frame: begin_frame/end_frame encode in place like encode_frame") {
  byte_buffer a;
  byte_buffer b = {std::byte{0x55}};
  REQUIRE(encode_frame(a, as_bytes("in place")));
  writer w{b};
  const auto f = begin_frame(w);
  w.raw(as_bytes("in place"));
  REQUIRE(end_frame(w, f));
  REQUIRE(b.size() == a.size() + 1);
  CHECK(same(byte_view{b}.subspan(1), a));

  // Too large: rewound to before the frame, the earlier byte untouched.
  const auto g = begin_frame(w);
  w.raw(as_bytes("0123456789"));
  auto r = end_frame(w, g, 9);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::too_large);
  CHECK(b.size() == a.size() + 1);
}

TEST_CASE("frame: every prefix of a frame is truncated and says how much it needs") {
  byte_buffer out;
  REQUIRE(encode_frame(out, as_bytes("a frame payload")));
  for (std::size_t cut = 0; cut < out.size(); ++cut) {
    CAPTURE(cut);
    auto f = decode_frame(byte_view{out}.first(cut));
    REQUIRE_FALSE(f);
    CHECK(f.error().code == errc::truncated);
    const std::size_t need = cut < 4 ? frame_header_bytes : out.size();
    CHECK(f.error().detail == need);
  }
  CHECK(decode_frame(out));
}

TEST_CASE("frame: a length over the limit is too_large from the first four bytes") {
  byte_buffer out;
  REQUIRE(encode_frame(out, byte_buffer(100)));
  auto f = decode_frame(byte_view{out}.first(4), 99);  // no payload yet: still refused now
  REQUIRE_FALSE(f);
  CHECK(f.error().code == errc::too_large);
  CHECK(f.error().detail == 100);
  CHECK(decode_frame(out, 100));  // exactly the limit is fine

  // A hostile 4 GiB length against the default limit.
  const byte_buffer hostile = {std::byte{0xff}, std::byte{0xff}, std::byte{0xff}, std::byte{0xff}};
  auto h = decode_frame(hostile);
  REQUIRE_FALSE(h);
  CHECK(h.error().code == errc::too_large);

  byte_buffer untouched = {std::byte{1}};
  auto e = encode_frame(untouched, byte_buffer(100), 99);
  REQUIRE_FALSE(e);
  CHECK(e.error().code == errc::too_large);
  CHECK(untouched.size() == 1);
}

TEST_CASE("frame: a damaged payload or checksum is checksum_mismatch") {
  byte_buffer out;
  REQUIRE(encode_frame(out, as_bytes("payload")));
  byte_buffer bad = out;
  bad[10] ^= std::byte{0x20};
  auto f = decode_frame(bad);
  REQUIRE_FALSE(f);
  CHECK(f.error().code == errc::checksum_mismatch);
  bad = out;
  bad[5] ^= std::byte{0x01};
  auto g = decode_frame(bad);
  REQUIRE_FALSE(g);
  CHECK(g.error().code == errc::checksum_mismatch);
}

TEST_CASE("frame: no single or double bit flip is accepted as a different payload") {
  seeded_random rng{99};
  for (std::size_t n : {0, 1, 5, 16, 40}) {
    byte_buffer payload(n);
    for (auto& b : payload) b = static_cast<std::byte>(rng());
    byte_buffer clean;
    REQUIRE(encode_frame(clean, payload));
    // Trailing bytes so that a shrunken length still finds bytes to read.
    for (int i = 0; i < 16; ++i) clean.push_back(static_cast<std::byte>(rng()));
    const std::size_t frame_bits = (frame_header_bytes + n) * 8;
    std::size_t refused = 0;
    for (std::size_t bit = 0; bit < frame_bits; ++bit) {
      byte_buffer bad = clean;
      bad[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
      auto f = decode_frame(bad, 1024);
      if (f) {
        CAPTURE(bit);
        CHECK(same(f->payload, payload));  // not expected: CRC32C catches every 1-bit payload error
      } else {
        ++refused;
      }
      for (int k = 0; k < 4; ++k) {  // and a few random second flips
        byte_buffer worse = bad;
        const std::size_t bit2 = rng.below(frame_bits);
        if (bit2 == bit) continue;
        worse[bit2 / 8] ^= static_cast<std::byte>(1u << (bit2 % 8));
        auto g = decode_frame(worse, 1024);
        if (g) CHECK(same(g->payload, payload));
      }
    }
    CHECK(refused == frame_bits);
  }
}
