// The codec's properties as checks on arbitrary input: the libFuzzer target
// (codec_fuzz.cpp) and a seeded replay in tests/codec run the same code.
// A broken property prints what broke and aborts, which both harnesses report.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "fuzz_check.hpp"
#include "quorum/codec.hpp"

namespace quorum::fuzz {

inline bool same(byte_view a, byte_view b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

inline bool inside(byte_view part, byte_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

// decode(encode(x)) == x, and a successful decode re-encodes to the very bytes
// it consumed; a failure is truncated exactly when every byte read so far
// continued and fewer than 10 were there.
inline void check_varint(byte_view in) {
  auto d = codec::decode_varint(in);
  if (d) {
    const auto e = codec::encode_varint(d->value);
    QUORUM_FUZZ_CHECK(d->size >= 1 && d->size <= codec::max_varint_bytes);
    QUORUM_FUZZ_CHECK(same(e.view(), in.first(d->size)));
  } else {
    const std::size_t n = std::min(in.size(), codec::max_varint_bytes);
    const bool all_continue =
        std::all_of(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(n),
                    [](std::byte b) { return (b & std::byte{0x80}) != std::byte{0}; });
    const bool truncated = all_continue && in.size() < codec::max_varint_bytes;
    QUORUM_FUZZ_CHECK(d.error().code == (truncated ? errc::truncated : errc::malformed));
  }
  std::uint64_t x = 0;
  for (std::size_t i = 0; i < std::min<std::size_t>(in.size(), 8); ++i)
    x |= std::uint64_t{static_cast<std::uint8_t>(in[i])} << (8 * i);
  const auto e = codec::encode_varint(x);
  auto back = codec::decode_varint(e.view());
  QUORUM_FUZZ_CHECK(back && back->value == x && back->size == codec::varint_size(x));
  const auto s = static_cast<std::int64_t>(x);
  auto z = codec::decode_zigzag(codec::encode_varint(codec::zigzag_encode(s)).view());
  QUORUM_FUZZ_CHECK(z && z->value == s);
}

// A decoded frame re-encodes to exactly the bytes it consumed; each error is
// the one the header and the CRC call for; a cut inside a good frame is truncated.
inline void check_frame(byte_view in, std::size_t max_payload) {
  auto f = codec::decode_frame(in, max_payload);
  if (f) {
    QUORUM_FUZZ_CHECK(f->consumed == codec::frame_header_bytes + f->payload.size());
    QUORUM_FUZZ_CHECK(f->payload.size() <= max_payload);
    QUORUM_FUZZ_CHECK(f->payload.data() == in.data() + codec::frame_header_bytes);
    byte_buffer again;
    QUORUM_FUZZ_CHECK(codec::encode_frame(again, f->payload, max_payload).has_value());
    QUORUM_FUZZ_CHECK(same(again, in.first(f->consumed)));
    for (std::size_t cut : {std::size_t{0}, std::size_t{3}, std::size_t{4}, f->consumed - 1}) {
      if (cut >= f->consumed) continue;
      auto t = codec::decode_frame(in.first(cut), max_payload);
      QUORUM_FUZZ_CHECK(!t && t.error().code == errc::truncated);
    }
    return;
  }
  const errc code = f.error().code;
  if (in.size() < 4) {
    QUORUM_FUZZ_CHECK(code == errc::truncated);
    return;
  }
  const std::uint32_t length = codec::load_le32(in.data());
  if (length > max_payload) {
    QUORUM_FUZZ_CHECK(code == errc::too_large);
  } else if (in.size() < codec::frame_header_bytes + std::size_t{length}) {
    QUORUM_FUZZ_CHECK(code == errc::truncated);
  } else {
    QUORUM_FUZZ_CHECK(code == errc::checksum_mismatch);
    QUORUM_FUZZ_CHECK(codec::crc32c(in.subspan(8, length)) != codec::load_le32(in.data() + 4));
  }
}

namespace detail {

// After a read: success consumed exactly what writing the value back writes;
// failure consumed nothing and names the offset where it stood.
template <class R, class Write>
void check_read(codec::reader& r, byte_view in, std::size_t before, const R& res, Write write) {
  QUORUM_FUZZ_CHECK(r.position() + r.remaining() == in.size());
  if (res) {
    byte_buffer scratch;
    codec::writer w{scratch};
    write(w, *res);
    QUORUM_FUZZ_CHECK(r.position() == before + scratch.size());
    QUORUM_FUZZ_CHECK(same(scratch, in.subspan(before, scratch.size())));
  } else {
    QUORUM_FUZZ_CHECK(r.position() == before);
    QUORUM_FUZZ_CHECK(res.error().detail == before);
  }
}

inline void reader_step(codec::reader& r, byte_view in, std::uint8_t op) {
  const std::size_t before = r.position();
  const std::size_t limit = static_cast<std::size_t>(op >> 4) * 5u;  // 0..75
  switch (op % 11) {
    case 0: check_read(r, in, before, r.u8(), [](codec::writer& w, auto v) { w.u8(v); }); break;
    case 1: check_read(r, in, before, r.u16(), [](codec::writer& w, auto v) { w.u16(v); }); break;
    case 2: check_read(r, in, before, r.u32(), [](codec::writer& w, auto v) { w.u32(v); }); break;
    case 3: check_read(r, in, before, r.u64(), [](codec::writer& w, auto v) { w.u64(v); }); break;
    case 4: check_read(r, in, before, r.varint(), [](codec::writer& w, auto v) { w.varint(v); }); break;
    case 5: check_read(r, in, before, r.zigzag(), [](codec::writer& w, auto v) { w.zigzag(v); }); break;
    case 6: check_read(r, in, before, r.boolean(), [](codec::writer& w, bool v) { w.u8(v ? 1 : 0); }); break;
    case 7: {
      auto c = r.count(limit);
      if (c) QUORUM_FUZZ_CHECK(*c <= limit);
      check_read(r, in, before, c, [](codec::writer& w, std::size_t v) { w.varint(v); });
      break;
    }
    case 8: {
      codec::reader twin = r;  // prefixed_bytes_into must agree, consuming the same or nothing
      byte_view into{};
      const bool ok = twin.prefixed_bytes_into(limit, into);
      auto b = r.prefixed_bytes(limit);
      QUORUM_FUZZ_CHECK(ok == b.has_value());
      QUORUM_FUZZ_CHECK(twin.position() == r.position());
      if (ok) QUORUM_FUZZ_CHECK(into.data() == b->data() && into.size() == b->size());
      if (b) QUORUM_FUZZ_CHECK(b->size() <= limit && inside(*b, in));
      if (!b && b.error().code == errc::too_large) {
        auto len = codec::decode_varint(in.subspan(before));
        QUORUM_FUZZ_CHECK(len && len->value > limit);
      }
      check_read(r, in, before, b, [](codec::writer& w, byte_view v) { w.prefixed_bytes(v); });
      break;
    }
    case 9: {
      auto b = r.raw(limit);
      if (b) QUORUM_FUZZ_CHECK(b->size() == limit && inside(*b, in));
      else QUORUM_FUZZ_CHECK(limit > in.size() - before);
      check_read(r, in, before, b, [](codec::writer& w, byte_view v) { w.raw(v); });
      break;
    }
    default: {
      auto e = r.expect_end();
      QUORUM_FUZZ_CHECK(e.has_value() == r.empty());
      QUORUM_FUZZ_CHECK(r.position() == before);
      break;
    }
  }
}

}  // namespace detail

// Input layout: byte 0 = k, the next k bytes choose reader operations, the
// rest is what the reader reads; varint and frame checks see every suffix start.
inline void check_codec(const std::uint8_t* data, std::size_t size) {
  const byte_view all{reinterpret_cast<const std::byte*>(data), size};
  check_varint(all);
  check_frame(all, codec::default_max_frame_bytes);
  if (size == 0) return;
  const std::size_t k = std::min<std::size_t>(data[0], size - 1);
  const byte_view ops = all.subspan(1, k);
  const byte_view in = all.subspan(1 + k);
  check_varint(in);
  check_frame(in, k * 4);
  codec::reader r{in};
  for (std::byte op : ops) detail::reader_step(r, in, static_cast<std::uint8_t>(op));
}

}  // namespace quorum::fuzz
