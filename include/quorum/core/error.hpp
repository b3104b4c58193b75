// The error vocabulary: a code, a short static explanation and one number of
// context (a byte offset, a limit, a node id). Cheap to copy and to return on
// hot paths; file_log adds a path through its own open_error.
#pragma once

#include <cstdint>
#include <string>

namespace quorum {

enum class errc : std::uint8_t {
  // input
  truncated = 1,       // the bytes end before the value does
  malformed,           // the bytes cannot be a valid value (bad tag, overlong varint, ...)
  too_large,           // a length or count is over its configured limit
  checksum_mismatch,   // a CRC32C did not match
  // storage
  corrupt_log,         // damage before the tail of a log: never skipped silently
  io_error,            // the operating system refused (detail: errno)
  out_of_range,        // a log position outside [first_index, last_index]
  // protocol / configuration
  invalid_argument,    // a caller broke a documented precondition
  invalid_config,      // a configuration that cannot work (empty, duplicate members, ...)
  unknown_sender,      // a message from outside the configuration
  stale,               // a message from an older term, ballot or epoch
  not_leader,          // detail: the known leader's node id, 0 when unknown
  busy,                // a bounded queue or window is full; retry later
  timeout,
  not_found,
};

[[nodiscard]] constexpr const char* to_string(errc e) noexcept {
  switch (e) {
    case errc::truncated: return "truncated";
    case errc::malformed: return "malformed";
    case errc::too_large: return "too large";
    case errc::checksum_mismatch: return "checksum mismatch";
    case errc::corrupt_log: return "corrupt log";
    case errc::io_error: return "i/o error";
    case errc::out_of_range: return "out of range";
    case errc::invalid_argument: return "invalid argument";
    case errc::invalid_config: return "invalid configuration";
    case errc::unknown_sender: return "unknown sender";
    case errc::stale: return "stale";
    case errc::not_leader: return "not leader";
    case errc::busy: return "busy";
    case errc::timeout: return "timeout";
    case errc::not_found: return "not found";
  }
  return "unknown error";
}

struct error {
  errc code{errc::invalid_argument};
  const char* what{""};       // static string: why, in words
  std::uint64_t detail{0};    // context: offset, limit, errno, leader id ...

  [[nodiscard]] std::string message() const {
    std::string m = to_string(code);
    if (what != nullptr && *what != '\0') {
      m += ": ";
      m += what;
    }
    if (detail != 0) {
      m += " (";
      m += std::to_string(detail);
      m += ')';
    }
    return m;
  }
  friend constexpr bool operator==(const error& a, const error& b) noexcept {
    return a.code == b.code && a.detail == b.detail;
  }
};

}  // namespace quorum
