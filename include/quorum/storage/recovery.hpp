// file_log's recovery: lists the segments of a directory, replays their frames
// in order into a position index and a hard state, truncates a torn tail and
// refuses corruption with an error naming the file and the offset.
// The torn-or-corrupt rule is in replay_segment; the format in segment_format.hpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "quorum/storage/file_log_options.hpp"
#include "quorum/storage/position_index.hpp"
#include "quorum/storage/posix_file.hpp"
#include "quorum/storage/segment_format.hpp"

namespace quorum::storage::detail {

inline constexpr std::string_view segment_suffix = ".qseg";

[[nodiscard]] inline std::string segment_name(std::uint64_t seq) {
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.qseg", static_cast<unsigned long long>(seq));
  return name;
}

// Accepts exactly the names segment_name() makes; other files are left alone.
[[nodiscard]] inline bool parse_segment_name(const std::string& name, std::uint64_t& seq) noexcept {
  if (name.size() != 16 + segment_suffix.size() || name.substr(16) != segment_suffix) return false;
  seq = 0;
  for (std::size_t i = 0; i < 16; ++i) {
    const char c = name[i];
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return false;
    seq = seq << 4 | static_cast<std::uint64_t>(d);
  }
  return seq != 0;
}

struct segment_file {
  std::uint64_t seq = 0;
  posix::unique_fd fd;
  std::uint64_t size = 0;  // bytes in the file
};

struct recovered {
  std::vector<segment_file> segments;
  position_index index;
  byte_buffer state;
  std::uint64_t preamble_end = 0;  // of the last segment: its header and state frames
  std::uint64_t next_seq = 1;      // for a directory left with no segment
};

// Replays frames. Positions [hole_first_, index_.first()) are claimed by the
// first surviving segment's header but lie in deleted segments; a compaction
// (base frame) must cover them before the end, or a segment is missing.
class replayer {
 public:
  explicit replayer(const file_log_options& o) : options_{o}, max_payload_{max_frame_payload(o)} {}

  // Returns the offset where valid frames end (the file's size unless the tail is torn).
  result<std::uint64_t, open_error> replay_segment(byte_view file, std::uint64_t seq, bool last,
                                                   const std::string& path) {
    std::size_t at = 0;
    while (at < file.size()) {
      const format::frame f = format::parse_frame(file, at, max_payload_);
      if (f.status != format::bad_frame::none) {
        if (!last)
          return corrupt(path, at, std::string{format::to_string(f.status)} + " in a segment that is not the last");
        const std::uint64_t certified = certified_beyond(file, at, seq);
        if (certified > at)
          return corrupt(path, at, std::string{format::to_string(f.status)} +
                                       "; a later sync marker certifies bytes up to " +
                                       std::to_string(certified) + " as durable");
        return at;  // a torn tail
      }
      if (auto r = apply(f, at, seq, path); !r) return unexpected{r.error()};
      if (at == 0 || (f.type == format::frame_type::state && at == preamble_end_)) preamble_end_ = f.next;
      at = f.next;
    }
    return at;
  }

  // After the last segment: every claimed position must have been found.
  result<void, open_error> finish(const std::string& dir) const {
    if (started_ && hole_first_ < index_.first())
      return open_failure(error{errc::corrupt_log, "segment missing", hole_first_.value()}, dir, 0,
                          "positions from " + std::to_string(hole_first_.value()) +
                              " lie in a segment that is missing");
    return {};
  }

  position_index& index() noexcept { return index_; }
  byte_buffer& state() noexcept { return state_; }
  [[nodiscard]] std::uint64_t preamble_end() const noexcept { return preamble_end_; }

 private:
  static unexpected<open_error> corrupt(const std::string& path, std::uint64_t at, const std::string& why) {
    return open_failure(error{errc::corrupt_log, "invalid frame before the tail", at}, path, at, why);
  }

  // The highest durable offset certified by a valid sync marker after `bad`.
  // Frames are 8-byte aligned, so every aligned offset is a candidate start.
  [[nodiscard]] static std::uint64_t certified_beyond(byte_view file, std::size_t bad, std::uint64_t seq) noexcept {
    std::uint64_t best = 0;
    for (std::size_t at = bad + format::alignment; at < file.size(); at += format::alignment) {
      const format::frame f = format::parse_frame(file, at, format::sync_payload_bytes);
      format::sync_fields s{};
      if (f.status != format::bad_frame::none || f.type != format::frame_type::sync) continue;
      if (!format::decode_sync(f.body, s) || s.seq != seq || s.self_offset != at) continue;
      best = std::max(best, s.durable_offset);
    }
    return best;
  }

  result<void, open_error> apply(const format::frame& f, std::size_t at, std::uint64_t seq, const std::string& path) {
    using format::frame_type;
    if ((at == 0) != (f.type == frame_type::header))
      return corrupt(path, at, at == 0 ? "segment does not start with a header" : "header inside a segment");
    switch (f.type) {
      case frame_type::header: return apply_header(f.body, seq, path);
      case frame_type::entry: {
        if (f.body.size() < 8 || f.body.size() - 8 > options_.max_record_bytes)
          return corrupt(path, at, "entry frame of a bad size");
        const log_index p{codec::load_le64(f.body.data())};
        if (!cut_at(p)) return corrupt(path, at, "entry at a position that leaves a gap");
        index_.push_back(locator{seq, at + format::frame_header_bytes + format::entry_overhead_bytes,
                                 static_cast<std::uint32_t>(f.body.size() - 8)});
        return {};
      }
      case frame_type::truncate: {
        std::uint64_t p = 0;
        if (!format::decode_position(f.body, p) || !cut_at(log_index{p}))
          return corrupt(path, at, "truncate frame outside the log");
        return {};
      }
      case frame_type::base: {
        std::uint64_t p = 0;
        if (!format::decode_position(f.body, p) || p == 0) return corrupt(path, at, "bad base frame");
        compact_to(log_index{p});
        return {};
      }
      case frame_type::state:
        if (f.body.size() > options_.max_state_bytes) return corrupt(path, at, "state frame over max_state_bytes");
        state_.assign(f.body.begin(), f.body.end());
        return {};
      case frame_type::sync: {
        format::sync_fields s{};
        if (!format::decode_sync(f.body, s) || s.seq != seq || s.self_offset != at || s.durable_offset > at)
          return corrupt(path, at, "sync marker that does not describe its own place");
        return {};
      }
    }
    return corrupt(path, at, "unknown frame type");
  }

  result<void, open_error> apply_header(byte_view body, std::uint64_t seq, const std::string& path) {
    format::header_fields h{};
    if (!format::decode_header(body, h) || h.magic != format::segment_magic)
      return corrupt(path, 0, "not a quorum segment (bad magic)");
    if (h.version != format::version) return corrupt(path, 0, "unsupported segment format version");
    if (h.seq != seq) return corrupt(path, 0, "header names another segment");
    if (h.first == 0 || h.first > h.last + 1 || h.last == ~std::uint64_t{0})
      return corrupt(path, 0, "header with impossible bounds");
    if (!started_) {
      started_ = true;
      hole_first_ = log_index{h.first};
      index_.reset(log_index{h.last + 1});
    } else if (h.first != first().value() || h.last != index_.last().value()) {
      return corrupt(path, 0, "segment does not continue its predecessor");
    }
    preamble_end_ = 0;
    return {};
  }

  [[nodiscard]] log_index first() const noexcept { return std::min(hole_first_, index_.first()); }

  // Drops positions >= p, which must lie in [first, last + 1].
  bool cut_at(log_index p) {
    if (p < first() || p > index_.last().next()) return false;
    if (p >= index_.first()) index_.truncate(p);
    else index_.reset(p);
    return true;
  }

  void compact_to(log_index p) {
    if (p <= first()) return;
    hole_first_ = p;
    if (p >= index_.first()) index_.compact(p);
  }

  file_log_options options_;
  std::size_t max_payload_;
  position_index index_;
  log_index hole_first_{1};
  byte_buffer state_;
  std::uint64_t preamble_end_ = 0;
  bool started_ = false;
};

// Lists the segment files of `dir` in sequence order; a gap is corruption.
[[nodiscard]] inline result<std::vector<std::uint64_t>, open_error> list_segments(const std::string& dir) {
  std::vector<std::uint64_t> seqs;
  std::error_code ec;
  for (std::filesystem::directory_iterator it{dir, ec}, end; !ec && it != end; it.increment(ec)) {
    std::uint64_t seq = 0;
    if (parse_segment_name(it->path().filename().string(), seq)) seqs.push_back(seq);
  }
  if (ec)
    return open_failure(error{errc::io_error, "cannot list the directory", static_cast<std::uint64_t>(ec.value())}, dir,
                        0, "cannot list the log directory");
  std::sort(seqs.begin(), seqs.end());
  for (std::size_t k = 1; k < seqs.size(); ++k)
    if (seqs[k] != seqs[k - 1] + 1)
      return open_failure(error{errc::corrupt_log, "segment missing", seqs[k - 1] + 1},
                          dir + "/" + segment_name(seqs[k - 1] + 1), 0, "segment missing between two others");
  return seqs;
}

[[nodiscard]] inline unexpected<open_error> io_failure(const error& e, const std::string& path, const char* why) {
  return open_failure(e, path, 0, why);
}

// Replays one segment file; truncates its torn tail, or removes it when not
// even its header survived. Appends it to `out` unless removed.
[[nodiscard]] inline result<void, open_error> recover_segment(replayer& r, recovered& out, const std::string& dir,
                                                              std::uint64_t seq, bool last, byte_buffer& buf,
                                                              const file_log_options& o) {
  const std::string path = dir + "/" + segment_name(seq);
  auto fd = posix::open(path, O_RDWR);
  if (!fd) return io_failure(fd.error(), path, "cannot open a segment");
  auto size = posix::file_size(fd->get());
  if (!size) return io_failure(size.error(), path, "cannot stat a segment");
  if (*size > o.max_segment_file_bytes)
    return open_failure(error{errc::too_large, "segment over max_segment_file_bytes", *size}, path, 0,
                        "segment file larger than max_segment_file_bytes");
  buf.resize(static_cast<std::size_t>(*size));
  if (auto rd = posix::read_at(fd->get(), buf.data(), buf.size(), 0); !rd)
    return io_failure(rd.error(), path, "cannot read a segment");
  auto end = r.replay_segment(buf, seq, last, path);
  if (!end) return unexpected{end.error()};
  if (*end == 0) {  // torn before its header completed: the segment never began
    if (auto rm = posix::remove(path); !rm) return io_failure(rm.error(), path, "cannot remove a torn segment");
    if (o.fsync)
      if (auto ds = posix::sync_directory(dir); !ds) return io_failure(ds.error(), dir, "cannot sync the directory");
    out.next_seq = seq;
    return {};
  }
  if (*end < *size)
    if (auto tr = posix::truncate(fd->get(), *end); !tr)
      return io_failure(tr.error(), path, "cannot truncate a torn tail");
  // The next sync marker certifies everything recovered; make that true first.
  if (last && o.fsync)
    if (auto ds = posix::datasync(fd->get()); !ds) return io_failure(ds.error(), path, "cannot sync a segment");
  out.segments.push_back(segment_file{seq, std::move(*fd), *end});
  out.next_seq = seq + 1;
  return {};
}

[[nodiscard]] inline result<recovered, open_error> recover(const std::string& dir, const file_log_options& o) {
  auto seqs = list_segments(dir);
  if (!seqs) return unexpected{seqs.error()};
  recovered out;
  replayer r{o};
  byte_buffer buf;
  for (std::size_t k = 0; k < seqs->size(); ++k)
    if (auto s = recover_segment(r, out, dir, (*seqs)[k], k + 1 == seqs->size(), buf, o); !s)
      return unexpected{s.error()};
  if (auto f = r.finish(dir); !f) return unexpected{f.error()};
  out.index = std::move(r.index());
  out.state = std::move(r.state());
  out.preamble_end = r.preamble_end();
  return out;
}

}  // namespace quorum::storage::detail
