// file_log's options (every limit it enforces, named) and the error its open()
// returns: a quorum::error plus a message naming the file and the offset.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "quorum/core/error.hpp"
#include "quorum/core/result.hpp"
#include "quorum/storage/segment_format.hpp"

namespace quorum::storage {

struct file_log_options {
  // A new segment starts when the next frame would take the active one past this.
  std::uint64_t segment_bytes = std::uint64_t{64} << 20;
  // append() over this: errc::too_large. Lowering it below a record already on
  // disk makes that record's frame invalid on the next open.
  std::size_t max_record_bytes = std::size_t{16} << 20;
  // save_state() over this: errc::too_large.
  std::size_t max_state_bytes = std::size_t{1} << 20;
  // Frames are gathered in memory and written in one pwrite when this much is
  // pending, at sync() and at a segment roll (group commit costs one write).
  std::size_t write_buffer_bytes = std::size_t{1} << 20;
  // Recovery reads a whole segment at once; a larger file is refused, which
  // bounds that buffer. Must leave room for segment_bytes plus one frame.
  std::uint64_t max_segment_file_bytes = std::uint64_t{1} << 30;
  // The active segment is kept zero-filled, in blocks the file system has
  // written, up to this far past the end of what was appended (within
  // segment_bytes; a segment that holds less is filled ahead by as much as
  // it holds, at least 16 KiB, so a small log writes few zeros). An append then overwrites blocks that exist, so its
  // fdatasync writes the data alone: the file's size and block map do not
  // change, and there is no metadata to write (ext4, this project's machine:
  // 126-131 us per 2.8 KiB append + fdatasync against 198-240 us appending
  // to the end of the file). The zeros cost one more write of every byte,
  // made durable by the next sync: that pays only while syncs are small, so
  // a sync of more than 64 KiB stops the filling until one is small again
  // (file_log.hpp has the figures). A roll trims the segment back to its
  // frames; recovery reads the zeros as the end of the log. 0: off; also off
  // without fsync, where there is nothing to save. On a copy-on-write file
  // system (btrfs, ZFS) an overwrite allocates anyway: turn it off there.
  std::size_t preallocate_bytes = std::size_t{1} << 20;
  bool create_if_missing = true;
  // false skips every fdatasync/fsync: the log then survives a process crash
  // but not a power loss. For tests and throwaway data only.
  bool fsync = true;
};

struct open_error {
  quorum::error error;      // corrupt_log, io_error, invalid_config, not_found, busy
  std::string message;      // for people: names the file and the offset
  std::string file;         // the file at fault (or the directory)
  std::uint64_t offset = 0; // the byte offset in `file` where the damage starts
};

namespace detail {

// The largest frame payload any valid frame can have under these options.
[[nodiscard]] constexpr std::size_t max_frame_payload(const file_log_options& o) noexcept {
  return std::max({o.max_record_bytes + format::entry_overhead_bytes, o.max_state_bytes + 1,
                   format::header_payload_bytes, format::sync_payload_bytes});
}

[[nodiscard]] inline unexpected<open_error> open_failure(error e, std::string file, std::uint64_t offset,
                                                         const std::string& why) {
  std::string msg = file + ": ";
  const bool in_segment = file.size() > 5 && file.compare(file.size() - 5, 5, ".qseg") == 0;
  if (e.code == errc::corrupt_log && in_segment) msg += "at offset " + std::to_string(offset) + ": ";
  msg += why + " (" + e.message() + ")";
  return unexpected<open_error>{open_error{e, std::move(msg), std::move(file), offset}};
}

[[nodiscard]] inline result<void, open_error> validate(const file_log_options& o, const std::string& dir) {
  constexpr std::uint64_t u32_max = 0xffffffffu;
  auto bad = [&](const char* why) { return open_failure(error{errc::invalid_config, why, 0}, dir, 0, why); };
  if (o.segment_bytes < 256) return bad("segment_bytes must be at least 256");
  if (o.max_record_bytes > u32_max - format::entry_overhead_bytes || o.max_state_bytes > u32_max - 1)
    return bad("max_record_bytes and max_state_bytes must fit a 32-bit frame length");
  const std::uint64_t preamble = format::frame_bytes(format::header_payload_bytes) +
                                 format::frame_bytes(o.max_state_bytes + 1);
  const std::uint64_t need = o.segment_bytes + preamble + format::frame_bytes(max_frame_payload(o)) +
                             format::frame_bytes(format::sync_payload_bytes);
  if (o.max_segment_file_bytes < need)
    return bad("max_segment_file_bytes must cover segment_bytes plus a preamble, a frame and a sync marker");
  return {};
}

}  // namespace detail

}  // namespace quorum::storage
