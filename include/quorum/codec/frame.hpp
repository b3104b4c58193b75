// Framing, the same on the wire and on disk:
//   [u32 LE payload length][u32 LE CRC32C of the payload][payload]
// A stream reader tells "wait for more bytes" (truncated) from "give up" (too large, damaged).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>

#include "quorum/codec/crc32c.hpp"
#include "quorum/codec/endian.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/core/assert.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/error.hpp"
#include "quorum/core/result.hpp"

namespace quorum::codec {

inline constexpr std::size_t frame_header_bytes = 8;

// Large enough for a snapshot chunk or a big batch, small enough that a
// corrupt or hostile length cannot make a reader buffer gigabytes.
inline constexpr std::size_t default_max_frame_bytes = std::size_t{16} << 20;

// The length field is 32 bits whatever the configured limit.
inline constexpr std::size_t max_frame_length_field = std::numeric_limits<std::uint32_t>::max();

struct frame_view {
  byte_view payload;     // a view into the input
  std::size_t consumed;  // frame_header_bytes + payload.size()
};

// Appends one frame to out. errc::too_large (out untouched) when the payload
// is over max_payload: never write a frame the peer's decoder would refuse.
[[nodiscard]] inline result<void> encode_frame(byte_buffer& out, byte_view payload,
                                               std::size_t max_payload = default_max_frame_bytes) {
  if (payload.size() > max_payload || payload.size() > max_frame_length_field)
    return fail(errc::too_large, "frame: payload over the limit", payload.size());
  // Growing out would leave a payload that points into it dangling; frame
  // bytes already in out with begin_frame/end_frame instead.
  const std::less<const std::byte*> before;
  QUORUM_ASSERT(payload.empty() || before(payload.data(), out.data()) ||
                !before(payload.data(), out.data() + out.size()));
  writer w{out};
  w.u32(static_cast<std::uint32_t>(payload.size()));
  w.u32(crc32c(payload));
  w.raw(payload);
  return {};
}

// Encoding a message straight into the output, without a copy:
//   auto f = begin_frame(w);  encode the payload with w;  QUORUM_TRY(end_frame(w, f));
struct frame_start {
  slot<std::uint32_t> length;
  slot<std::uint32_t> checksum;
};

[[nodiscard]] inline frame_start begin_frame(writer& w) {
  const auto length = w.reserve_u32();
  return frame_start{length, w.reserve_u32()};
}

// errc::too_large rewinds the writer to before begin_frame: nothing half-written stays.
[[nodiscard]] inline result<void> end_frame(writer& w, frame_start f,
                                            std::size_t max_payload = default_max_frame_bytes) {
  const byte_view payload = w.after(f.checksum);
  if (payload.size() > max_payload || payload.size() > max_frame_length_field) {
    const std::size_t size = payload.size();
    w.rewind(f.length.offset);
    return fail(errc::too_large, "frame: payload over the limit", size);
  }
  w.patch(f.length, static_cast<std::uint32_t>(payload.size()));
  w.patch(f.checksum, crc32c(payload));
  return {};
}

// Decodes the frame at the start of input (later bytes are left alone).
// Errors, and what error.detail holds:
//   truncated          the input ends inside the frame: wait for more bytes.
//                      detail = the total bytes this frame needs (8 until the length is known).
//   too_large          the declared length is over max_payload, known from the
//                      first 4 bytes, before waiting for any payload. detail = that length.
//   checksum_mismatch  the payload is damaged. detail = the declared length.
[[nodiscard]] inline result<frame_view> decode_frame(byte_view input,
                                                     std::size_t max_payload = default_max_frame_bytes) noexcept {
  if (input.size() < 4) return fail(errc::truncated, "frame: header incomplete", frame_header_bytes);
  const std::uint32_t length = load_le32(input.data());
  if (length > max_payload) return fail(errc::too_large, "frame: length over the limit", length);
  const std::size_t total = frame_header_bytes + std::size_t{length};
  if (input.size() < total) return fail(errc::truncated, "frame: payload incomplete", total);
  const byte_view payload = input.subspan(frame_header_bytes, length);
  if (crc32c(payload) != load_le32(input.data() + 4))
    return fail(errc::checksum_mismatch, "frame: payload CRC32C does not match", length);
  return frame_view{payload, total};
}

}  // namespace quorum::codec
