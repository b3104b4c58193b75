// Byte vocabulary: every payload that crosses a policy boundary (a command,
// a log record, an encoded message) is a span of std::byte.
#pragma once

#include <cstddef>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace quorum {

using byte_view = std::span<const std::byte>;
using byte_buffer = std::vector<std::byte>;

[[nodiscard]] inline byte_view as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

[[nodiscard]] inline std::string_view as_chars(byte_view b) noexcept {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

[[nodiscard]] inline byte_buffer to_buffer(byte_view b) { return byte_buffer(b.begin(), b.end()); }

// Copies v to out, where there is room and no overlap. A value of 16 to 64
// bytes (a typical command) goes in two overlapping moves of fixed size,
// which compile to a few vector loads and stores instead of a call; anything
// else through memcpy. In line wherever it is used: the logs and the Paxos
// journal copy each command with it.
[[gnu::always_inline]] inline void copy_bytes(std::byte* out, byte_view v) noexcept {
  const std::size_t n = v.size();
  const std::byte* in = v.data();
  if (n >= 16 && n <= 32) {
    std::memcpy(out, in, 16);
    std::memcpy(out + n - 16, in + n - 16, 16);
  } else if (n > 32 && n <= 64) {
    std::memcpy(out, in, 32);
    std::memcpy(out + n - 32, in + n - 32, 32);
  } else if (n > 0) {
    std::memcpy(out, in, n);
  }
}

}  // namespace quorum
