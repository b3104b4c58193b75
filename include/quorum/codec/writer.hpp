// writer: appends encoded values to a caller-owned byte_buffer. The caller
// reuses one buffer across messages (clear() keeps its capacity), so encoding
// in steady state allocates nothing. reader.hpp is its exact inverse.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string_view>
#include <type_traits>

#include "quorum/codec/endian.hpp"
#include "quorum/codec/varint.hpp"
#include "quorum/core/assert.hpp"
#include "quorum/core/bytes.hpp"

namespace quorum::codec {

// A fixed-width hole left in the output, filled in later with writer::patch
// (a length or a checksum known only once what follows has been written).
template <class U>
struct slot {
  std::size_t offset;
};

class writer {
 public:
  // Appends after whatever out already holds; never clears it.
  explicit writer(byte_buffer& out) noexcept : out_{&out} {}

  void u8(std::uint8_t v) { out_->push_back(static_cast<std::byte>(v)); }
  void u16(std::uint16_t v) { store_le16(grow(2), v); }
  void u32(std::uint32_t v) { store_le32(grow(4), v); }
  void u64(std::uint64_t v) { store_le64(grow(8), v); }

  // Most varints (ids, small terms, lengths) are one byte: a push_back. A
  // longer one is encoded on the stack and appended by one range insert (one
  // capacity check, one copy), not resize() (which zero-fills the bytes
  // first, out of line) and memcpy: 44 instead of 71 instructions per varint
  // of 1-4 bytes (callgrind, g++ 12 -O3, a mix of 1-, 2-, 3- and 4-byte values).
  void varint(std::uint64_t v) {
    if (v < 0x80) return out_->push_back(static_cast<std::byte>(v));
    std::byte tmp[max_varint_bytes];
    const std::size_t n = encode_varint(v, tmp);
    out_->insert(out_->end(), tmp, tmp + n);
  }
  void zigzag(std::int64_t v) { varint(zigzag_encode(v)); }

  // Bytes as they are: the reader must know the length from elsewhere.
  // b may be a view into this very buffer (copying an earlier field), which
  // growing the buffer would invalidate: such a source is re-found by offset.
  void raw(byte_view b) {
    if (b.empty()) return;
    const std::byte* base = out_->data();
    const std::less<const std::byte*> before;
    const bool aliased = !before(b.data(), base) && before(b.data(), base + out_->size());
    const std::size_t from = aliased ? static_cast<std::size_t>(b.data() - base) : 0;
    std::byte* dst = grow(b.size());
    std::memcpy(dst, aliased ? out_->data() + from : b.data(), b.size());
  }

  // A varint length, then the bytes: read back with reader::prefixed_bytes.
  void prefixed_bytes(byte_view b) {
    varint(b.size());
    raw(b);
  }
  void prefixed_string(std::string_view s) { prefixed_bytes(as_bytes(s)); }

  template <class U>
  [[nodiscard]] slot<U> reserve() {
    static_assert(std::is_unsigned_v<U> && sizeof(U) >= 1 && sizeof(U) <= 8);
    const std::size_t at = out_->size();
    out_->resize(at + sizeof(U));
    return slot<U>{at};
  }
  [[nodiscard]] slot<std::uint32_t> reserve_u32() { return reserve<std::uint32_t>(); }
  [[nodiscard]] slot<std::uint64_t> reserve_u64() { return reserve<std::uint64_t>(); }

  template <class U>
  void patch(slot<U> s, U v) noexcept {
    QUORUM_ASSERT(s.offset + sizeof(U) <= out_->size());
    store_le(out_->data() + s.offset, v);
  }

  // Everything appended after the slot: what a length or CRC slot covers.
  template <class U>
  [[nodiscard]] byte_view after(slot<U> s) const noexcept {
    QUORUM_ASSERT(s.offset + sizeof(U) <= out_->size());
    return byte_view{*out_}.subspan(s.offset + sizeof(U));
  }

  // The buffer's size: a position to rewind to or to take a view from.
  [[nodiscard]] std::size_t position() const noexcept { return out_->size(); }

  [[nodiscard]] byte_view written_since(std::size_t pos) const noexcept {
    QUORUM_ASSERT(pos <= out_->size());
    return byte_view{*out_}.subspan(pos);
  }

  // Drops everything appended after pos, as if it had never been written
  // (an encoding that turned out too large leaves the buffer as it was).
  void rewind(std::size_t pos) noexcept {
    QUORUM_ASSERT(pos <= out_->size());
    out_->resize(pos);
  }

  [[nodiscard]] byte_buffer& buffer() noexcept { return *out_; }

 private:
  std::byte* grow(std::size_t n) {
    const std::size_t at = out_->size();
    out_->resize(at + n);
    return out_->data() + at;
  }

  byte_buffer* out_;
};

namespace detail {
// append_bounded's path for a buffer that must grow first.
template <class Write>
[[gnu::noinline]] void append_bounded_growing(byte_buffer& out, std::size_t most, const Write& write) {
  byte_buffer own(most);  // what write() copies may be out's own bytes, which move when it grows
  own.resize(static_cast<std::size_t>(write(own.data()) - own.data()));
  out.reserve(out.size() + most);  // room for the next one as large
  out.insert(out.end(), own.begin(), own.end());
}
}  // namespace detail

// Appends to out what write(p) writes at p, given that it writes at most
// `most` bytes and returns where it stopped: out is sized once, written
// straight into and trimmed, instead of checked and grown per field (the
// encoders of messages sent on every step use it). What write() copies may
// view out itself: when out must grow, the bytes are written apart first.
template <class Write>
void append_bounded(byte_buffer& out, std::size_t most, const Write& write) {
  const std::size_t start = out.size();
  if (out.capacity() - start < most) [[unlikely]] return detail::append_bounded_growing(out, most, write);
  out.resize(start + most);  // within capacity: no byte already in out moves
  out.resize(static_cast<std::size_t>(write(out.data() + start) - out.data()));
}

}  // namespace quorum::codec
