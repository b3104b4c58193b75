// The segment frame format: frames round-trip, and the parser is total: every
// prefix, every single-bit change and all-zero bytes are rejected with a reason.
#include <doctest/doctest.h>

#include "quorum/storage/segment_format.hpp"
#include "storage_test_util.hpp"

using namespace quorum;
using namespace quorum::storage;

TEST_CASE("segment format: frames round-trip and are 8-byte aligned") {
  byte_buffer out;
  format::append_header(out, 7, 3, 9);
  const auto rec = test::make_record(1, 13);
  format::append_frame(out, format::frame_type::entry, {10}, rec);
  format::append_frame(out, format::frame_type::sync, {7, 99, 48});
  CHECK(out.size() % 8 == 0);

  auto f = format::parse_frame(out, 0, 1000);
  REQUIRE(f.status == format::bad_frame::none);
  format::header_fields h{};
  REQUIRE(format::decode_header(f.body, h));
  CHECK(h.magic == format::segment_magic);
  CHECK(h.version == format::version);
  CHECK(h.seq == 7);
  CHECK(h.first == 3);
  CHECK(h.last == 9);

  f = format::parse_frame(out, f.next, 1000);
  REQUIRE(f.status == format::bad_frame::none);
  CHECK(f.type == format::frame_type::entry);
  CHECK(codec::load_le64(f.body.data()) == 10);
  CHECK(test::same(f.body.subspan(8), rec));

  f = format::parse_frame(out, f.next, 1000);
  REQUIRE(f.status == format::bad_frame::none);
  format::sync_fields s{};
  REQUIRE(format::decode_sync(f.body, s));
  CHECK(s.seq == 7);
  CHECK(s.self_offset == 99);
  CHECK(s.durable_offset == 48);
  CHECK(f.next == out.size());
}

TEST_CASE("segment format: the parser rejects every prefix, every bit flip and zeros") {
  byte_buffer frame;
  format::append_frame(frame, format::frame_type::entry, {5}, test::make_record(2, 21));
  for (std::size_t n = 0; n < frame.size(); ++n) {
    const auto f = format::parse_frame(byte_view{frame}.first(n), 0, 1000);
    CHECK(f.status != format::bad_frame::none);
  }
  for (std::size_t bit = 0; bit < frame.size() * 8; ++bit) {
    auto damaged = frame;
    damaged[bit / 8] ^= std::byte{static_cast<unsigned char>(1u << (bit % 8))};
    CHECK(format::parse_frame(damaged, 0, 1000).status != format::bad_frame::none);
  }
  const byte_buffer zeros(64);
  CHECK(format::parse_frame(zeros, 0, 1000).status == format::bad_frame::bad_length);
  CHECK(format::parse_frame(frame, 0, 10).status == format::bad_frame::bad_length);  // over the limit
  CHECK(format::parse_frame(frame, frame.size() + 8, 1000).status == format::bad_frame::short_header);
}
