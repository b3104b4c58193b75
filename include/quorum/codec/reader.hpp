// reader: decodes what writer wrote, from a byte_view it never copies. Every
// operation returns a result; a failed one consumes nothing and its error's
// detail is the offset where the value began, so a decoder can say where.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "quorum/codec/endian.hpp"
#include "quorum/codec/varint.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/error.hpp"
#include "quorum/core/result.hpp"

namespace quorum::codec {

class reader {
 public:
  // base: the offset of in within a larger input (a frame inside a segment),
  // so that positions and error offsets name a place in the whole.
  explicit reader(byte_view in, std::size_t base = 0) noexcept : in_{in}, base_{base} {}

  [[nodiscard]] result<std::uint8_t> u8() noexcept {
    if (in_.size() - pos_ < 1) return error_here(errc::truncated, "u8: input ends");
    return static_cast<std::uint8_t>(in_[pos_++]);
  }
  [[nodiscard]] result<std::uint16_t> u16() noexcept { return fixed<std::uint16_t>("u16: input ends"); }
  [[nodiscard]] result<std::uint32_t> u32() noexcept { return fixed<std::uint32_t>("u32: input ends"); }
  [[nodiscard]] result<std::uint64_t> u64() noexcept { return fixed<std::uint64_t>("u64: input ends"); }

  // One byte that must be 0 or 1: any other value would be a second encoding.
  [[nodiscard]] result<bool> boolean() noexcept {
    if (in_.size() - pos_ < 1) return error_here(errc::truncated, "bool: input ends");
    const auto b = static_cast<std::uint8_t>(in_[pos_]);
    if (b > 1) return error_here(errc::malformed, "bool: not 0 or 1");
    ++pos_;
    return b == 1;
  }

  [[nodiscard]] result<std::uint64_t> varint() noexcept {
    const varint_parse p = parse_here();
    if (!p.ok()) {
      return error_here(p.code, p.code == errc::truncated ? "varint: input ends inside the value"
                                                          : "varint: overlong or over 64 bits");
    }
    pos_ += p.size;
    return p.value;
  }

  // The next varint into v, true; or false with nothing consumed, and
  // varint() at the same place then says why. For decoders that read many
  // fields in a row: a one-byte value (most ids, counts and lengths) costs a
  // load and a test, with no result<> per field.
  [[nodiscard, gnu::always_inline]] bool varint_into(std::uint64_t& v) noexcept {
    const varint_parse p = parse_here();
    if (!p.ok()) [[unlikely]] return false;
    pos_ += p.size;
    v = p.value;
    return true;
  }

  [[nodiscard]] result<std::int64_t> zigzag() noexcept {
    auto r = varint();
    if (!r) return unexpected{r.error()};
    return zigzag_decode(*r);
  }

  // A varint count of things to follow, refused over max before the caller
  // sizes anything by it (errc::too_large).
  [[nodiscard]] result<std::size_t> count(std::size_t max) noexcept {
    const varint_parse p = parse_here();
    if (!p.ok()) return error_here(p.code, "count: bad varint");
    if (p.value > max) return error_here(errc::too_large, "count: over the limit");
    pos_ += p.size;
    return static_cast<std::size_t>(p.value);
  }

  // n bytes as they are, as a view into the input.
  [[nodiscard]] result<byte_view> raw(std::size_t n) noexcept {
    if (in_.size() - pos_ < n) return error_here(errc::truncated, "bytes: input ends");
    const byte_view v = in_.subspan(pos_, n);
    pos_ += n;
    return v;
  }

  // A varint length then that many bytes, as a view into the input. The
  // length is checked against max_len before anything else, so a hostile
  // length is errc::too_large even when the input is short.
  [[nodiscard]] result<byte_view> prefixed_bytes(std::size_t max_len) noexcept {
    const varint_parse p = parse_here();
    if (!p.ok()) return error_here(p.code, "length prefix: bad varint");
    if (p.value > max_len) return error_here(errc::too_large, "length prefix: over the limit");
    const std::size_t avail = in_.size() - pos_ - p.size;
    if (p.value > avail) return error_here(errc::truncated, "length-prefixed bytes: input ends");
    const byte_view v = in_.subspan(pos_ + p.size, static_cast<std::size_t>(p.value));
    pos_ += p.size + v.size();
    return v;
  }

  // The next length-prefixed bytes into v, true; or false with nothing
  // consumed, and prefixed_bytes() at the same place then says why. For a
  // decoder's per-entry loop: in line, the view stays in registers (a
  // result<byte_view> returned from a call was stored in 8-byte halves and
  // read back whole, a store-forwarding stall per entry).
  [[nodiscard, gnu::always_inline]] bool prefixed_bytes_into(std::size_t max_len, byte_view& v) noexcept {
    const varint_parse p = parse_here();
    if (!p.ok() || p.value > max_len) [[unlikely]] return false;
    if (p.value > in_.size() - pos_ - p.size) [[unlikely]] return false;
    v = byte_view{in_.data() + pos_ + p.size, static_cast<std::size_t>(p.value)};
    pos_ += p.size + v.size();
    return true;
  }

  [[nodiscard]] result<std::string_view> prefixed_string(std::size_t max_len) noexcept {
    auto r = prefixed_bytes(max_len);
    if (!r) return unexpected{r.error()};
    return as_chars(*r);
  }

  [[nodiscard]] result<void> skip(std::size_t n) noexcept {
    if (in_.size() - pos_ < n) return error_here(errc::truncated, "skip: input ends");
    pos_ += n;
    return {};
  }

  // For a decoder that must consume its input exactly: trailing bytes would
  // mean two byte strings decode to one message.
  [[nodiscard]] result<void> expect_end() const noexcept {
    if (pos_ != in_.size()) return error_here(errc::malformed, "trailing bytes");
    return {};
  }

  [[nodiscard]] std::size_t remaining() const noexcept { return in_.size() - pos_; }
  [[nodiscard]] bool empty() const noexcept { return pos_ == in_.size(); }
  [[nodiscard]] std::size_t position() const noexcept { return base_ + pos_; }
  [[nodiscard]] byte_view rest() const noexcept { return in_.subspan(pos_); }

 private:
  // The varint at pos_: a one-byte value (most ids, counts and lengths) is
  // a load and a test here; longer ones and errors go to parse_varint.
  [[nodiscard, gnu::always_inline]] varint_parse parse_here() const noexcept {
    if (pos_ < in_.size()) [[likely]] {
      const auto b = static_cast<std::uint8_t>(in_[pos_]);
      if ((b & 0x80) == 0) [[likely]] return {b, 1, errc::truncated};
    }
    return parse_varint(in_.subspan(pos_));
  }

  template <class U>
  [[nodiscard]] result<U> fixed(const char* what) noexcept {
    if (in_.size() - pos_ < sizeof(U)) return error_here(errc::truncated, what);
    const U v = load_le<U>(in_.data() + pos_);
    pos_ += sizeof(U);
    return v;
  }

  [[nodiscard]] unexpected<error> error_here(errc code, const char* what) const noexcept {
    return fail(code, what, position());
  }

  byte_view in_;
  std::size_t pos_{0};
  std::size_t base_{0};
};

}  // namespace quorum::codec
