// Byte vocabulary: every payload that crosses a policy boundary (a command,
// a log record, an encoded message) is a span of std::byte.
#pragma once

#include <cstddef>
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

}  // namespace quorum
