// reader.hpp and writer.hpp: the writer's output read back field by field,
// fixed-width byte order, slots patched later, limits checked before reading,
// every truncation reported at the right offset, and no allocation once warm.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/codec/reader.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/core/random.hpp"

using namespace quorum;
using namespace quorum::codec;

namespace {

// One message of every kind of field, so a truncation test can cut it anywhere.
void write_sample(writer& w) {
  w.u8(0xab);
  w.u16(0x1234);
  w.u32(0xdeadbeef);
  w.u64(0x0102030405060708ULL);
  w.varint(300);
  w.zigzag(-12345);
  w.prefixed_string("hello");
  w.prefixed_bytes({});
  w.raw(as_bytes("xyz"));
}

result<void> read_sample(reader& r) {
  auto a = r.u8();
  if (!a) return unexpected{a.error()};
  auto b = r.u16();
  if (!b) return unexpected{b.error()};
  auto c = r.u32();
  if (!c) return unexpected{c.error()};
  auto d = r.u64();
  if (!d) return unexpected{d.error()};
  auto e = r.varint();
  if (!e) return unexpected{e.error()};
  auto f = r.zigzag();
  if (!f) return unexpected{f.error()};
  auto g = r.prefixed_string(16);
  if (!g) return unexpected{g.error()};
  auto h = r.prefixed_bytes(16);
  if (!h) return unexpected{h.error()};
  auto i = r.raw(3);
  if (!i) return unexpected{i.error()};
  QUORUM_ASSERT(*a == 0xab && *b == 0x1234 && *c == 0xdeadbeef && *d == 0x0102030405060708ULL);
  QUORUM_ASSERT(*e == 300 && *f == -12345 && *g == "hello" && h->empty() && as_chars(*i) == "xyz");
  return r.expect_end();
}

}  // namespace

TEST_CASE("reader/writer: fixed-width fields are little-endian") {
  byte_buffer buf;
  writer w{buf};
  w.u16(0x0102);
  w.u32(0x03040506);
  w.u64(0x0708090a0b0c0d0eULL);
  const unsigned expect[] = {0x02, 0x01, 0x06, 0x05, 0x04, 0x03, 0x0e, 0x0d,
                             0x0c, 0x0b, 0x0a, 0x09, 0x08, 0x07};
  REQUIRE(buf.size() == std::size(expect));
  for (std::size_t i = 0; i < buf.size(); ++i) CHECK(static_cast<unsigned>(buf[i]) == expect[i]);
}

TEST_CASE("reader/writer: a message of every field type round trips") {
  byte_buffer buf;
  writer w{buf};
  write_sample(w);
  reader r{buf};
  auto ok = read_sample(r);
  CHECK(ok.has_value());
  CHECK(r.empty());
  CHECK(r.remaining() == 0);
  CHECK(r.position() == buf.size());
}

TEST_CASE("reader/writer: edge values of every width round trip") {
  byte_buffer buf;
  writer w{buf};
  const std::uint64_t u64s[] = {0, 1, 127, 128, std::uint64_t{1} << 63,
                                std::numeric_limits<std::uint64_t>::max()};
  const std::int64_t i64s[] = {0, -1, 1, std::numeric_limits<std::int64_t>::min(),
                               std::numeric_limits<std::int64_t>::max()};
  for (auto v : u64s) {
    w.u8(static_cast<std::uint8_t>(v));
    w.u16(static_cast<std::uint16_t>(v));
    w.u32(static_cast<std::uint32_t>(v));
    w.u64(v);
    w.varint(v);
  }
  for (auto v : i64s) w.zigzag(v);
  w.u8(1);
  w.u8(0);
  reader r{buf};
  for (auto v : u64s) {
    CHECK(*r.u8() == static_cast<std::uint8_t>(v));
    CHECK(*r.u16() == static_cast<std::uint16_t>(v));
    CHECK(*r.u32() == static_cast<std::uint32_t>(v));
    CHECK(*r.u64() == v);
    CHECK(*r.varint() == v);
  }
  for (auto v : i64s) CHECK(*r.zigzag() == v);
  CHECK(*r.boolean() == true);
  CHECK(*r.boolean() == false);
  CHECK(r.empty());
}

TEST_CASE("reader/writer: a reserved slot is patched with what follows it") {
  byte_buffer buf;
  writer w{buf};
  w.u8(7);
  const auto len = w.reserve_u32();
  const auto tag = w.reserve<std::uint16_t>();
  w.prefixed_string("payload");
  w.patch(len, static_cast<std::uint32_t>(w.after(len).size()));
  w.patch(tag, std::uint16_t{0xbeef});
  reader r{buf};
  CHECK(*r.u8() == 7);
  CHECK(*r.u32() == 2 + 1 + 7);
  CHECK(*r.u16() == 0xbeef);
  CHECK(*r.prefixed_string(64) == "payload");
  CHECK(r.empty());
}

TEST_CASE("reader/writer: the writer appends to what the buffer holds and can rewind") {
  byte_buffer buf = {std::byte{1}, std::byte{2}};
  writer w{buf};
  CHECK(w.position() == 2);
  w.u32(5);
  const std::size_t mark = w.position();
  w.prefixed_string("discard me");
  CHECK(w.written_since(mark).size() == 11);
  w.rewind(mark);
  CHECK(buf.size() == 6);
  CHECK(buf[0] == std::byte{1});
  CHECK(buf[1] == std::byte{2});
}

TEST_CASE("reader/writer: raw may copy bytes out of the buffer it appends to") {
  byte_buffer buf;
  buf.shrink_to_fit();
  writer w{buf};
  w.raw(as_bytes("abcdefgh"));
  for (int i = 0; i < 6; ++i) w.raw(w.written_since(0));  // doubles: reallocates on the way
  REQUIRE(buf.size() == 8u << 6);
  for (std::size_t i = 0; i < buf.size(); ++i) REQUIRE(buf[i] == static_cast<std::byte>('a' + i % 8));
}

TEST_CASE("reader/writer: every truncation fails with truncated at the failing field") {
  byte_buffer buf;
  writer w{buf};
  write_sample(w);
  for (std::size_t cut = 0; cut < buf.size(); ++cut) {
    CAPTURE(cut);
    reader r{byte_view{buf}.first(cut)};
    auto res = read_sample(r);
    REQUIRE_FALSE(res);
    CHECK(res.error().code == errc::truncated);
    // The failed read consumed nothing: the offset is where that field began.
    CHECK(res.error().detail == r.position());
    CHECK(r.position() <= cut);
  }
}

TEST_CASE("reader/writer: a length over the caller's limit is too_large even when the bytes are missing") {
  byte_buffer buf;
  writer w{buf};
  w.u8(0);
  w.varint(std::uint64_t{1} << 40);  // a hostile length with no bytes behind it
  reader r{buf};
  REQUIRE(r.u8());
  auto b = r.prefixed_bytes(1024);
  REQUIRE_FALSE(b);
  CHECK(b.error().code == errc::too_large);
  CHECK(b.error().detail == 1);
  CHECK(r.position() == 1);  // nothing consumed
  auto c = r.count(1000);
  REQUIRE_FALSE(c);
  CHECK(c.error().code == errc::too_large);
  // At or under the limit, missing bytes are truncation.
  byte_buffer short_buf;
  writer w2{short_buf};
  w2.varint(10);
  w2.raw(as_bytes("abc"));
  reader r2{short_buf};
  auto d = r2.prefixed_bytes(10);
  REQUIRE_FALSE(d);
  CHECK(d.error().code == errc::truncated);
  auto e = r2.prefixed_bytes(9);
  REQUIRE_FALSE(e);
  CHECK(e.error().code == errc::too_large);
}

TEST_CASE("reader/writer: exactly the limit is accepted and views point into the input") {
  byte_buffer buf;
  writer w{buf};
  const std::string s(100, 'q');
  w.prefixed_string(s);
  w.varint(7);
  reader r{buf};
  auto v = r.prefixed_bytes(100);
  REQUIRE(v);
  CHECK(v->size() == 100);
  CHECK(v->data() == buf.data() + 1);  // a view, not a copy
  CHECK(*r.count(7) == 7);
  CHECK(r.empty());
}

TEST_CASE("reader/writer: prefixed_bytes_into agrees with prefixed_bytes and consumes nothing when it fails") {
  // Inputs of every shape: well formed, empty, a length just under, at and
  // over the limit, missing bytes, a length cut off, overlong and over 64 bits.
  std::vector<byte_buffer> inputs;
  for (const std::size_t n : {0, 1, 5, 127, 128, 200}) {
    byte_buffer b;
    writer w{b};
    w.prefixed_string(std::string(n, 'x'));
    w.u8(7);  // something after it, left unread
    inputs.push_back(b);
    b.resize(b.size() - 2);  // the last byte of the value (or the length itself) is missing
    inputs.push_back(b);
  }
  inputs.push_back({});
  inputs.push_back({std::byte{0x80}});                                  // a length cut off
  inputs.push_back({std::byte{0x80}, std::byte{0x00}, std::byte{0x61}});  // overlong
  byte_buffer too_wide(11, std::byte{0xff});
  inputs.push_back(too_wide);  // over 64 bits
  byte_buffer hostile;
  writer{hostile}.varint(std::uint64_t{1} << 40);
  inputs.push_back(hostile);

  for (const byte_buffer& in : inputs) {
    for (const std::size_t limit : {std::size_t{0}, std::size_t{4}, std::size_t{5}, std::size_t{127}, std::size_t{200},
                                    std::size_t{1} << 50}) {
      CAPTURE(in.size());
      CAPTURE(limit);
      reader a{in, 10};
      reader b{in, 10};
      const auto whole = a.prefixed_bytes(limit);
      byte_view into{};
      const bool ok = b.prefixed_bytes_into(limit, into);
      REQUIRE(ok == whole.has_value());
      CHECK(a.position() == b.position());
      if (ok) {
        CHECK(into.data() == whole->data());
        CHECK(into.size() == whole->size());
      } else {
        CHECK(b.position() == 10);  // nothing consumed: prefixed_bytes() there says why
        const auto why = b.prefixed_bytes(limit);
        REQUIRE_FALSE(why);
        CHECK(why.error().code == whole.error().code);
        CHECK(why.error().detail == whole.error().detail);
      }
    }
  }
}

TEST_CASE("reader/writer: malformed values and trailing bytes are reported with their offset") {
  byte_buffer buf = {std::byte{9}, std::byte{0x80}, std::byte{0x00}};
  reader r{buf, 1000};  // base: this input starts at offset 1000 of a larger one
  CHECK(r.position() == 1000);
  REQUIRE(r.u8());
  auto v = r.varint();
  REQUIRE_FALSE(v);
  CHECK(v.error().code == errc::malformed);
  CHECK(v.error().detail == 1001);
  CHECK(v.error().message().find("1001") != std::string::npos);
  auto end = r.expect_end();
  REQUIRE_FALSE(end);
  CHECK(end.error().code == errc::malformed);
  CHECK(r.remaining() == 2);
  CHECK(r.rest().size() == 2);
  REQUIRE(r.skip(2));
  CHECK(r.expect_end());
  CHECK_FALSE(r.skip(1));

  byte_buffer b2 = {std::byte{2}};
  reader r2{b2};
  auto bad_bool = r2.boolean();
  REQUIRE_FALSE(bad_bool);
  CHECK(bad_bool.error().code == errc::malformed);
}

TEST_CASE("reader/writer: random field sequences round trip") {
  seeded_random rng{42};
  byte_buffer buf;
  for (int round = 0; round < 300; ++round) {
    buf.clear();
    writer w{buf};
    std::vector<std::pair<int, std::uint64_t>> fields;
    for (int i = 0; i < 30; ++i) {
      const int kind = static_cast<int>(rng.below(6));
      const std::uint64_t v = rng() >> rng.below(64);
      fields.emplace_back(kind, v);
      switch (kind) {
        case 0: w.u8(static_cast<std::uint8_t>(v)); break;
        case 1: w.u16(static_cast<std::uint16_t>(v)); break;
        case 2: w.u32(static_cast<std::uint32_t>(v)); break;
        case 3: w.u64(v); break;
        case 4: w.varint(v); break;
        default: w.zigzag(static_cast<std::int64_t>(v)); break;
      }
    }
    reader r{buf};
    for (auto [kind, v] : fields) {
      switch (kind) {
        case 0: REQUIRE(*r.u8() == static_cast<std::uint8_t>(v)); break;
        case 1: REQUIRE(*r.u16() == static_cast<std::uint16_t>(v)); break;
        case 2: REQUIRE(*r.u32() == static_cast<std::uint32_t>(v)); break;
        case 3: REQUIRE(*r.u64() == v); break;
        case 4: REQUIRE(*r.varint() == v); break;
        default: REQUIRE(*r.zigzag() == static_cast<std::int64_t>(v)); break;
      }
    }
    REQUIRE(r.empty());
  }
}

TEST_CASE("reader/writer: a reused buffer stops growing after the first message") {
  byte_buffer buf;
  buf.reserve(64);
  const auto* data = buf.data();
  const std::size_t cap = buf.capacity();
  for (int i = 0; i < 1000; ++i) {
    buf.clear();
    writer w{buf};
    write_sample(w);
    const auto f = w.reserve_u32();
    w.patch(f, 1u);
  }
  // Same storage and capacity throughout: no reallocation in steady state.
  CHECK(buf.data() == data);
  CHECK(buf.capacity() == cap);
}

// writer::varint appends through its own path (a push_back for one byte, a
// range insert for more): each length 1-10 at both of its bounds and between,
// appended after other bytes into a buffer that is full (so the append
// reallocates) and into one with room, must equal encode_varint's bytes,
// leave what was there untouched, and decode back with decode_varint.
TEST_CASE("reader/writer: writer::varint writes every length 1-10 exactly as encode_varint") {
  std::vector<std::uint64_t> values;
  for (unsigned len = 1; len <= max_varint_bytes; ++len) {
    const std::uint64_t lo = len == 1 ? 0 : std::uint64_t{1} << (7 * (len - 1));
    const std::uint64_t hi = len == max_varint_bytes ? std::numeric_limits<std::uint64_t>::max()
                                                     : (std::uint64_t{1} << (7 * len)) - 1;
    values.insert(values.end(), {lo, lo + 1, lo + (hi - lo) / 2, hi - 1, hi});
  }
  for (const std::uint64_t v : values) {
    CAPTURE(v);
    const varint_bytes want = encode_varint(v);
    REQUIRE(want.size == varint_size(v));
    for (const bool full : {true, false}) {
      byte_buffer out{std::byte{0x11}, std::byte{0x22}, std::byte{0x33}};
      if (full) out.shrink_to_fit();
      else out.reserve(64);
      writer w{out};
      w.varint(v);
      REQUIRE(out.size() == 3 + want.size);
      CHECK(out[0] == std::byte{0x11});
      CHECK(out[1] == std::byte{0x22});
      CHECK(out[2] == std::byte{0x33});
      CHECK(std::equal(out.begin() + 3, out.end(), want.view().begin()));
      const auto back = decode_varint(byte_view{out}.subspan(3));
      REQUIRE(back);
      CHECK(back->value == v);
      CHECK(back->size == want.size);
    }
  }
  // All of them in one buffer, read back in order by the reader.
  byte_buffer all;
  writer w{all};
  for (const std::uint64_t v : values) w.varint(v);
  reader r{all};
  for (const std::uint64_t v : values) {
    auto got = r.varint();
    REQUIRE(got);
    CHECK(*got == v);
  }
  CHECK(r.expect_end());
}
