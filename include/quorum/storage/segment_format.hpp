// The on-disk format of file_log's segments: a sequence of 8-byte aligned
// frames [u32 length][u32 crc32c][payload][zero padding], little endian. The
// encoder and the total parser both live here so the format has one owner.
//
// payload = [u8 type][fields]:
//   header  magic u64, version u32, segment seq u64, first u64, last u64
//           (the log's bounds when the segment began: every suffix of segments
//           is self-contained, and a missing or foreign segment is detected)
//   entry   position u64, record bytes (writing position i drops positions >= i)
//   truncate position u64                 (drops positions >= position)
//   base    position u64                  (compact: drops positions < position)
//   state   hard-state bytes              (the latest wins)
//   sync    segment seq u64, own offset u64, durable offset u64: written by
//           sync(), it certifies that the bytes before `durable offset` were
//           made durable by the previous sync, so damage below it is not a
//           torn write but corruption.
// The CRC covers the length field and the payload; the padding must be zero,
// so every byte of a segment is checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>

#include "quorum/codec/crc32c.hpp"
#include "quorum/codec/endian.hpp"
#include "quorum/core/bytes.hpp"

namespace quorum::storage::format {

// "QRMSEGv1" read as a little-endian u64.
inline constexpr std::uint64_t segment_magic = 0x31764745534d5251ull;
inline constexpr std::uint32_t version = 1;
inline constexpr std::size_t frame_header_bytes = 8;
inline constexpr std::size_t alignment = 8;

enum class frame_type : std::uint8_t { header = 1, entry = 2, truncate = 3, base = 4, state = 5, sync = 6 };

inline constexpr std::size_t header_payload_bytes = 1 + 8 + 4 + 8 + 8 + 8;
inline constexpr std::size_t entry_overhead_bytes = 1 + 8;  // type and position before the record
inline constexpr std::size_t position_payload_bytes = 1 + 8;
inline constexpr std::size_t sync_payload_bytes = 1 + 8 + 8 + 8;

[[nodiscard]] constexpr std::size_t padded(std::size_t n) noexcept {
  return (n + alignment - 1) / alignment * alignment;
}
// Bytes a frame with this payload length occupies in a segment.
[[nodiscard]] constexpr std::size_t frame_bytes(std::size_t payload) noexcept {
  return padded(frame_header_bytes + payload);
}

[[nodiscard]] inline std::uint32_t frame_crc(const std::byte* length_field, byte_view payload) noexcept {
  return codec::crc32c(payload, codec::crc32c(byte_view{length_field, 4}));
}

// Appends one frame: fixed u64 fields after the type byte, then `tail` bytes.
inline void append_frame(byte_buffer& out, frame_type type, std::initializer_list<std::uint64_t> fields,
                         byte_view tail = {}) {
  const std::size_t payload = 1 + 8 * fields.size() + tail.size();
  const std::size_t at = out.size();
  out.resize(at + frame_bytes(payload), std::byte{0});
  std::byte* p = out.data() + at;
  codec::store_le32(p, static_cast<std::uint32_t>(payload));
  std::byte* q = p + frame_header_bytes;
  q[0] = static_cast<std::byte>(type);
  ++q;
  for (std::uint64_t f : fields) {
    codec::store_le64(q, f);
    q += 8;
  }
  if (!tail.empty()) std::memcpy(q, tail.data(), tail.size());
  codec::store_le32(p + 4, frame_crc(p, byte_view{p + frame_header_bytes, payload}));
}

// Appends one entry frame whose record is head then body, joined: the same
// bytes as append_frame(out, entry, {position}, head + body), with no joined
// copy first: the pieces are copied into place, then checksummed there.
inline void append_entry_frame(byte_buffer& out, std::uint64_t position, byte_view head, byte_view body) {
  const std::size_t payload = entry_overhead_bytes + head.size() + body.size();
  const std::size_t at = out.size();
  out.resize(at + frame_bytes(payload), std::byte{0});
  std::byte* p = out.data() + at;
  codec::store_le32(p, static_cast<std::uint32_t>(payload));
  std::byte* q = p + frame_header_bytes;
  q[0] = static_cast<std::byte>(frame_type::entry);
  codec::store_le64(q + 1, position);
  std::byte* r = q + entry_overhead_bytes;
  if (!head.empty()) std::memcpy(r, head.data(), head.size());
  if (!body.empty()) std::memcpy(r + head.size(), body.data(), body.size());
  codec::store_le32(p + 4, frame_crc(p, byte_view{q, payload}));
}

inline void append_header(byte_buffer& out, std::uint64_t seq, std::uint64_t first, std::uint64_t last) {
  std::byte rest[4 + 24];
  codec::store_le32(rest, version);
  codec::store_le64(rest + 4, seq);
  codec::store_le64(rest + 12, first);
  codec::store_le64(rest + 20, last);
  append_frame(out, frame_type::header, {segment_magic}, byte_view{rest, sizeof rest});
}

enum class bad_frame : std::uint8_t {
  none,
  short_header,   // fewer than 8 bytes left
  bad_length,     // zero, or over the configured limit
  short_payload,  // the file ends inside the frame
  checksum,       // CRC mismatch
  padding,        // a non-zero padding byte
};

[[nodiscard]] constexpr const char* to_string(bad_frame b) noexcept {
  switch (b) {
    case bad_frame::none: return "valid";
    case bad_frame::short_header: return "end of file inside a frame header";
    case bad_frame::bad_length: return "frame length zero or over the limit";
    case bad_frame::short_payload: return "end of file inside a frame";
    case bad_frame::checksum: return "checksum mismatch";
    case bad_frame::padding: return "non-zero frame padding";
  }
  return "invalid frame";
}

struct frame {
  bad_frame status = bad_frame::none;
  frame_type type{};
  byte_view body;        // the payload after the type byte
  std::size_t next = 0;  // offset of the following frame
};

// Parses the frame at `at` of `file`; total: any bytes give a frame or a reason.
[[nodiscard]] inline frame parse_frame(byte_view file, std::size_t at, std::size_t max_payload) noexcept {
  frame f;
  if (at > file.size() || file.size() - at < frame_header_bytes) {
    f.status = bad_frame::short_header;
    return f;
  }
  const std::byte* p = file.data() + at;
  const std::size_t length = codec::load_le32(p);
  if (length == 0 || length > max_payload) {
    f.status = bad_frame::bad_length;
    return f;
  }
  const std::size_t total = frame_bytes(length);
  if (file.size() - at < total) {
    f.status = bad_frame::short_payload;
    return f;
  }
  const byte_view payload{p + frame_header_bytes, length};
  if (codec::load_le32(p + 4) != frame_crc(p, payload)) {
    f.status = bad_frame::checksum;
    return f;
  }
  for (std::size_t i = frame_header_bytes + length; i < total; ++i) {
    if (p[i] != std::byte{0}) {
      f.status = bad_frame::padding;
      return f;
    }
  }
  f.type = static_cast<frame_type>(payload[0]);
  f.body = payload.subspan(1);
  f.next = at + total;
  return f;
}

struct header_fields {
  std::uint64_t magic, seq, first, last;
  std::uint32_t version;
};
struct sync_fields {
  std::uint64_t seq, self_offset, durable_offset;
};

// Field decoders for a CRC-valid body; false when the size is wrong.
[[nodiscard]] inline bool decode_header(byte_view body, header_fields& h) noexcept {
  if (body.size() != header_payload_bytes - 1) return false;
  h.magic = codec::load_le64(body.data());
  h.version = codec::load_le32(body.data() + 8);
  h.seq = codec::load_le64(body.data() + 12);
  h.first = codec::load_le64(body.data() + 20);
  h.last = codec::load_le64(body.data() + 28);
  return true;
}

[[nodiscard]] inline bool decode_sync(byte_view body, sync_fields& s) noexcept {
  if (body.size() != sync_payload_bytes - 1) return false;
  s.seq = codec::load_le64(body.data());
  s.self_offset = codec::load_le64(body.data() + 8);
  s.durable_offset = codec::load_le64(body.data() + 16);
  return true;
}

[[nodiscard]] inline bool decode_position(byte_view body, std::uint64_t& position) noexcept {
  if (body.size() != position_payload_bytes - 1) return false;
  position = codec::load_le64(body.data());
  return true;
}

}  // namespace quorum::storage::format
