// file_log: the durable model of the Log concept. A directory of append-only
// segment files (format in segment_format.hpp, recovery in recovery.hpp); the
// hard state travels in the same stream, so one fdatasync covers entries and
// state together. Records are found through an in-memory position index and
// read back with pread (the log may be far larger than memory).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <sys/file.h>
#include <sys/stat.h>

#include "quorum/core/log.hpp"
#include "quorum/storage/file_log_options.hpp"
#include "quorum/storage/memory_log.hpp"
#include "quorum/storage/position_index.hpp"
#include "quorum/storage/posix_file.hpp"
#include "quorum/storage/recovery.hpp"
#include "quorum/storage/segment_format.hpp"

namespace quorum::storage {

// A place in the written stream: a segment and a byte offset in it.
struct stream_position {
  std::uint64_t seq = 0;
  std::uint64_t offset = 0;
  friend bool operator==(const stream_position&, const stream_position&) = default;
};

// The fdatasync a file_log::begin_sync() left to do, and what it will make
// durable. run() touches only its own descriptor (a duplicate of the
// segment's), so it may run on any thread, while the log goes on; the
// result then goes back to file_log::end_sync() on the log's thread.
class pending_sync {
 public:
  pending_sync() = default;  // nothing to do: durable already
  // The fdatasync. Thread-safe; call once.
  [[nodiscard]] result<void> run() const noexcept {
    if (!fd_.valid() || !fsync_) return {};
    return posix::datasync(fd_.get());
  }
  // True when there is a call to make (false: begin_sync found it durable).
  [[nodiscard]] bool needed() const noexcept { return fd_.valid(); }
  // True when this one's run() also makes what `earlier` covers durable:
  // the same segment, written no further (an fdatasync syncs the whole file).
  [[nodiscard]] bool covers(const pending_sync& earlier) const noexcept {
    if (!earlier.needed()) return true;
    return needed() && earlier.seq_ == seq_ && earlier.end_ <= end_;
  }

 private:
  friend class file_log;
  pending_sync(posix::unique_fd fd, std::uint64_t seq, std::uint64_t end, bool fsync) noexcept
      : fd_{std::move(fd)}, seq_{seq}, end_{end}, fsync_{fsync} {}
  posix::unique_fd fd_;
  std::uint64_t seq_ = 0;  // the segment, and the offset in it, durable once run() succeeded
  std::uint64_t end_ = 0;
  bool fsync_ = true;
};

class file_log {
 public:
  // Opens (or creates) the log in `dir`, recovering what the directory holds.
  static result<file_log, open_error> open(const std::string& dir, file_log_options options = {}) {
    if (auto v = detail::validate(options, dir); !v) return unexpected{v.error()};
    file_log log{dir, options};
    if (auto r = log.lock_directory(); !r) return unexpected{r.error()};
    auto rec = detail::recover(dir, options);
    if (!rec) return unexpected{rec.error()};
    log.segments_ = std::move(rec->segments);
    log.index_ = std::move(rec->index);
    log.state_ = std::move(rec->state);
    if (log.segments_.empty()) {
      if (auto r = log.start_segment(rec->next_seq); !r)
        return detail::open_failure(r.error(), dir, 0, "cannot create the first segment");
    } else {
      log.preamble_end_ = rec->preamble_end;
      log.durable_ = log.active().size;
      log.allocated_ = log.active().size;  // recovery cut any zero-filled tail
    }
    return log;
  }

  file_log(file_log&&) noexcept = default;
  file_log& operator=(file_log&& o) noexcept {
    if (this != &o) {
      this->~file_log();
      std::construct_at(this, std::move(o));
    }
    return *this;
  }
  file_log(const file_log&) = delete;
  file_log& operator=(const file_log&) = delete;
  // Hands buffered frames to the OS (they survive a process exit, not a power
  // loss) and closes the files. No sync: durability is sync()'s job alone.
  ~file_log() {
    if (lock_.valid() && !broken_) static_cast<void>(flush());
  }

  [[nodiscard]] log_index first_index() const noexcept { return index_.first(); }
  [[nodiscard]] log_index last_index() const noexcept { return index_.last(); }

  result<log_index> append(byte_view record) {
    if (record.size() > options_.max_record_bytes)
      return fail(errc::too_large, "record over max_record_bytes", record.size());
    if (last_index().value() == ~std::uint64_t{0}) return fail(errc::out_of_range, "log position space exhausted");
    if (detail::aliases(pending_, record) || detail::aliases(read_buffer_, record)) {
      const byte_buffer copy(record.begin(), record.end());
      return append_frame_for(copy);
    }
    return append_frame_for(record);
  }

  // The same as append(r.head joined with r.body) for each record in order
  // (core/log.hpp): every frame goes into the write buffer in one pass, with
  // the bytes those single appends would write (so recovery cannot tell), and
  // the buffer reaches the OS at most once, after the run (a segment roll
  // inside the run writes, as it would for single appends). A record over
  // the limit refuses the run before anything is buffered; an I/O error in a
  // roll leaves the log broken (as for single appends) with none of the run
  // in the index, and a reopen recovers a prefix of the run, as after a crash.
  result<log_index> append_run(std::span<const record_parts> records) {
    if (broken_) return broken();
    std::size_t frames = 0;
    bool aliased = false;
    for (const record_parts& r : records) {
      const std::size_t size = r.head.size() + r.body.size();
      if (size > options_.max_record_bytes) return fail(errc::too_large, "record over max_record_bytes", size);
      frames += format::frame_bytes(format::entry_overhead_bytes + size);
      aliased = aliased || aliases_buffers(r.head) || aliases_buffers(r.body);
    }
    if (~std::uint64_t{0} - last_index().value() < records.size())
      return fail(errc::out_of_range, "log position space exhausted");
    if (aliased) return append_run_copied(records);
    const log_index first = last_index().next();
    // One growth for the run (geometric: reserving the exact size would copy the buffer every run).
    const std::size_t need = pending_.size() + frames;
    if (need > pending_.capacity() && end() + frames <= options_.segment_bytes)
      pending_.reserve(std::max(need, 2 * pending_.capacity()));
    for (const record_parts& r : records) {
      const std::size_t size = r.head.size() + r.body.size();
      if (end() + format::frame_bytes(format::entry_overhead_bytes + size) > options_.segment_bytes &&
          end() > preamble_end_) {
        if (auto rolled = guard(roll()); !rolled) {
          index_.truncate(first);
          return unexpected{rolled.error()};
        }
      }
      const std::uint64_t at = end();
      format::append_entry_frame(pending_, last_index().next().value(), r.head, r.body);
      index_.push_back(detail::locator{active().seq, at + format::frame_header_bytes + format::entry_overhead_bytes,
                                       static_cast<std::uint32_t>(size)});
    }
    QUORUM_TRY(maybe_flush());
    return last_index();
  }

  // The view points into a reused buffer (or the unwritten tail) and stays
  // valid until the next non-const call. The frame's CRC is checked again.
  result<byte_view> read(log_index i) {
    if (i < first_index() || i > last_index()) return fail(errc::out_of_range, "read outside the log", i.value());
    const detail::locator& loc = index_.at(i);
    const detail::segment_file& seg = segments_[static_cast<std::size_t>(loc.seq - segments_.front().seq)];
    if (loc.seq == active().seq && loc.offset >= seg.size)
      return byte_view{pending_.data() + (loc.offset - seg.size), loc.length};
    constexpr std::uint64_t head = format::frame_header_bytes + format::entry_overhead_bytes;
    const std::size_t payload = format::entry_overhead_bytes + loc.length;
    read_buffer_.resize(format::frame_bytes(payload));
    if (auto r = posix::read_at(seg.fd.get(), read_buffer_.data(), read_buffer_.size(), loc.offset - head); !r)
      return unexpected{r.error()};
    const format::frame f = format::parse_frame(read_buffer_, 0, payload);
    if (f.status != format::bad_frame::none || f.type != format::frame_type::entry ||
        f.body.size() != 8 + std::size_t{loc.length} || codec::load_le64(f.body.data()) != i.value())
      return fail(errc::checksum_mismatch, "record damaged on disk since open", loc.offset - head);
    return f.body.subspan(8);
  }

  result<void> truncate(log_index i) {
    if (i < first_index() || i > last_index().next())
      return fail(errc::out_of_range, "truncate outside [first_index, last_index + 1]", i.value());
    if (i == last_index().next()) return {};
    QUORUM_TRY(put(format::frame_type::truncate, i.value(), {}));
    index_.truncate(i);
    return maybe_flush();
  }

  // Compacting to or below first_index() is a no-op. Segments left holding
  // nothing live are removed by the next sync() (see there) or roll.
  result<void> compact(log_index i) {
    if (i <= first_index()) return {};
    QUORUM_TRY(put(format::frame_type::base, i.value(), {}));
    index_.compact(i);
    return maybe_flush();
  }

  result<void> save_state(byte_view state) {
    if (state.size() > options_.max_state_bytes)
      return fail(errc::too_large, "state over max_state_bytes", state.size());
    byte_buffer next(state.begin(), state.end());  // state may alias our buffers
    QUORUM_TRY(put_state(next));
    state_.swap(next);
    return maybe_flush();
  }

  [[nodiscard]] byte_view state() const noexcept { return state_; }

  // Writes a sync marker (certifying what the previous sync made durable),
  // writes the buffer and fdatasyncs. When compaction or truncation left
  // whole segments dead, it rolls instead: the frames that killed them then
  // lie in a sealed, non-last segment, where damage is always reported, so
  // removing the segments can never turn damage into silent loss.
  result<void> sync() {
    const auto needed = write_for_sync();
    if (!needed) return unexpected{needed.error()};
    if (!*needed) return {};
    QUORUM_TRY(guard(datasync(active())));
    durable_ = end();
    return {};
  }

  // sync() in two halves, for a caller that runs the fdatasync elsewhere
  // (core/log.hpp's start_sync): begin_sync() does everything but the
  // fdatasync, which the returned pending_sync runs; end_sync() then takes
  // its outcome. Meanwhile the log takes any call, sync() included; a
  // failed outcome breaks it, as a failed sync() does. A segment roll
  // (which syncs what it seals) may come between: the ending sync then
  // certifies nothing more. When compaction left whole segments dead,
  // begin_sync() rolls at once and leaves nothing to run.
  result<pending_sync> begin_sync() {
    const auto needed = write_for_sync();
    if (!needed) return unexpected{needed.error()};
    if (!*needed) return pending_sync{};
    auto fd = posix::duplicate(active().fd.get());  // (no descriptor left: an error, the files intact)
    if (!fd) return unexpected{fd.error()};
    return pending_sync{std::move(*fd), active().seq, end(), options_.fsync};
  }

  result<void> end_sync(const pending_sync& s, const result<void>& outcome) {
    if (!outcome) return guard(outcome);
    if (broken_) return broken();
    if (s.needed() && s.seq_ == active().seq && s.end_ > durable_) durable_ = s.end_;
    return {};
  }

  // Writes buffered frames to the file without syncing.
  result<void> flush() {
    if (pending_.empty()) return {};
    detail::segment_file& seg = active();
    if (seg.size + pending_.size() > allocated_) preallocate(seg.size + pending_.size());
    QUORUM_TRY(guard(posix::write_at(seg.fd.get(), pending_, seg.size)));
    seg.size += pending_.size();
    pending_.clear();
    return {};
  }

  // How far the active segment's file extends (its frames, then zeros).
  [[nodiscard]] std::uint64_t allocated_bytes() const noexcept { return std::max(allocated_, active().size); }

  [[nodiscard]] std::uint64_t sync_count() const noexcept { return sync_count_; }
  // The end of the written stream (buffered frames included).
  [[nodiscard]] stream_position position() const noexcept { return {active().seq, end()}; }
  // How far the last sync (or segment roll) made the active segment durable.
  [[nodiscard]] stream_position durable_position() const noexcept { return {active().seq, durable_}; }
  [[nodiscard]] std::size_t segment_count() const noexcept { return segments_.size(); }
  [[nodiscard]] std::uint64_t first_segment() const noexcept { return segments_.front().seq; }
  [[nodiscard]] const std::string& directory() const noexcept { return dir_; }
  [[nodiscard]] const file_log_options& options() const noexcept { return options_; }

 private:
  file_log(std::string dir, file_log_options o) : dir_{std::move(dir)}, options_{o} {}

  [[nodiscard]] detail::segment_file& active() noexcept { return segments_.back(); }
  [[nodiscard]] const detail::segment_file& active() const noexcept { return segments_.back(); }
  [[nodiscard]] std::uint64_t end() const noexcept { return active().size + pending_.size(); }
  [[nodiscard]] std::string path_of(std::uint64_t seq) const { return dir_ + "/" + detail::segment_name(seq); }

  // Everything sync() does before its fdatasync: true when one is needed
  // (false: nothing new, or a roll just sealed it all durably).
  result<bool> write_for_sync() {
    if (broken_) return broken();
    ++sync_count_;
    if (has_dead_segments()) {
      QUORUM_TRY(guard(roll()));
      return false;
    }
    if (end() == durable_) return false;
    format::append_frame(pending_, format::frame_type::sync, {active().seq, end(), durable_});
    last_sync_bytes_ = end() - durable_;
    QUORUM_TRY(guard(flush()));
    return true;
  }

  // After an I/O failure the files' state is unknown (a failed fdatasync may
  // have dropped dirty pages): every later change is refused until reopen.
  result<void> guard(result<void> r) {
    if (!r && !broken_) {
      broken_ = true;
      broken_error_ = r.error();
    }
    return r;
  }
  [[nodiscard]] unexpected<error> broken() const noexcept {
    return fail(errc::io_error, "an earlier write or sync failed; reopen the log", broken_error_.detail);
  }

  result<void> datasync(const detail::segment_file& seg) {
    if (!options_.fsync) return {};
    return posix::datasync(seg.fd.get());
  }

  result<void, open_error> lock_directory() {
    struct stat st {};
    if (::stat(dir_.c_str(), &st) != 0) {
      if (!options_.create_if_missing)
        return detail::open_failure(error{errc::not_found, "no log directory", 0}, dir_, 0,
                                    "the log directory does not exist");
      if (::mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST)
        return detail::open_failure(error{errc::io_error, "mkdir", static_cast<std::uint64_t>(errno)}, dir_, 0,
                                    "cannot create the log directory");
    }
    auto fd = posix::open(dir_ + "/LOCK", O_RDWR | O_CREAT);
    if (!fd) return detail::open_failure(fd.error(), dir_ + "/LOCK", 0, "cannot open the lock file");
    if (::flock(fd->get(), LOCK_EX | LOCK_NB) != 0)
      return detail::open_failure(error{errc::busy, "locked", static_cast<std::uint64_t>(errno)}, dir_ + "/LOCK", 0,
                                  "the log directory is open elsewhere");
    lock_ = std::move(*fd);
    return {};
  }

  [[nodiscard]] bool aliases_buffers(byte_view b) const noexcept {
    return detail::aliases(pending_, b) || detail::aliases(read_buffer_, b);
  }

  // A run that views our own buffers (a record read back and appended again)
  // is copied out first: buffering frames may move the write buffer.
  [[gnu::noinline]] result<log_index> append_run_copied(std::span<const record_parts> records) {
    byte_buffer bytes;
    for (const record_parts& r : records) {
      bytes.insert(bytes.end(), r.head.begin(), r.head.end());
      bytes.insert(bytes.end(), r.body.begin(), r.body.end());
    }
    std::vector<record_parts> copies;
    copies.reserve(records.size());
    std::size_t at = 0;
    for (const record_parts& r : records) {
      const std::size_t size = r.head.size() + r.body.size();
      copies.push_back(record_parts{byte_view{bytes}.subspan(at, size), {}});
      at += size;
    }
    return append_run(copies);
  }

  result<log_index> append_frame_for(byte_view record) {
    const log_index at = last_index().next();
    auto frame_at = put(format::frame_type::entry, at.value(), record);
    if (!frame_at) return unexpected{frame_at.error()};
    index_.push_back(detail::locator{active().seq,
                                     *frame_at + format::frame_header_bytes + format::entry_overhead_bytes,
                                     static_cast<std::uint32_t>(record.size())});
    QUORUM_TRY(maybe_flush());
    return at;
  }

  // Buffers one frame [type][position][tail], rolling first when it would not
  // fit; returns the frame's offset in the active segment.
  result<std::uint64_t> put(format::frame_type type, std::uint64_t position, byte_view tail) {
    if (broken_) return broken();
    const std::size_t bytes = format::frame_bytes(format::entry_overhead_bytes + tail.size());
    if (end() + bytes > options_.segment_bytes && end() > preamble_end_) QUORUM_TRY(guard(roll()));
    const std::uint64_t at = end();
    format::append_frame(pending_, type, {position}, tail);
    return at;
  }

  result<void> put_state(byte_view state) {
    if (broken_) return broken();
    const std::size_t bytes = format::frame_bytes(1 + state.size());
    if (end() + bytes > options_.segment_bytes && end() > preamble_end_) QUORUM_TRY(guard(roll()));
    format::append_frame(pending_, format::frame_type::state, {}, state);
    return {};
  }

  result<void> maybe_flush() {
    if (pending_.size() < options_.write_buffer_bytes) return {};
    return flush();
  }

  // Zero-filling pays while syncs are small: it saves each sync a metadata
  // write, and costs one more write of every byte. Measured here (ext4,
  // quorum_storage_bench, bench/README.md): a sync of 1-33 KiB 0.52-0.70x
  // the time, of 45 KiB 0.93-1.08x, of 256 KiB 1.16x, of 2 MiB 1.35x. Past
  // this size a sync skips it.
  static constexpr std::uint64_t preallocate_below_sync_bytes = std::uint64_t{64} << 10;

  // The least a zero-fill writes ahead. A segment is filled ahead by as much
  // as it holds, between this and preallocate_bytes, so that a log that
  // stays small (one of many in a directory) writes 16 KiB of zeros, not
  // preallocate_bytes, and the zeros a segment costs stay within what it
  // holds until it reaches that size.
  static constexpr std::uint64_t preallocate_min_bytes = std::uint64_t{16} << 10;

  // Zero-fills the active segment from data_end (where the frames being
  // written will end) ahead of it, as far as the segment already reaches
  // (at least preallocate_min_bytes, at most options_.preallocate_bytes),
  // within segment_bytes (file_log_options says why), while the last sync
  // was small. Best effort: zeros that cannot be written (a full disk, a
  // file size limit) cost the speed-up, not the append, and the segment
  // stops trying. A failed write leaves zeros or nothing past the frames,
  // which a roll cuts and recovery reads as the end, as always.
  void preallocate(std::uint64_t data_end) noexcept {
    if (!options_.fsync || options_.preallocate_bytes == 0 || !preallocating_) return;
    if (last_sync_bytes_ > preallocate_below_sync_bytes) return;
    const std::uint64_t ahead =
        std::min<std::uint64_t>(options_.preallocate_bytes, std::max(preallocate_min_bytes, data_end));
    const std::uint64_t target = std::min<std::uint64_t>(options_.segment_bytes, data_end + ahead);
    static constexpr std::array<std::byte, 64 * 1024> zeros{};
    std::uint64_t at = data_end;
    while (at < target) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(zeros.size(), target - at));
      if (!posix::write_at(active().fd.get(), byte_view{zeros.data(), n}, at)) {
        preallocating_ = false;
        at = target;  // some of it may have been written: the roll cuts whatever is there
        break;
      }
      at += n;
    }
    allocated_ = std::max({allocated_, data_end, at});
  }

  // Seals the active segment (durably) and starts the next one. Its zero-
  // filled tail is cut off first, and made durable with a full fsync (a size
  // that shrank must reach the disk before the next segment exists: zeros in
  // a segment that is not the last would read as corruption).
  result<void> roll() {
    QUORUM_TRY(flush());
    if (allocated_ > active().size) {
      QUORUM_TRY(posix::truncate(active().fd.get(), active().size));
      allocated_ = active().size;
      if (options_.fsync) QUORUM_TRY(posix::sync_file(active().fd.get()));
    } else if (durable_ != end()) {
      QUORUM_TRY(datasync(active()));
    }
    durable_ = end();
    QUORUM_TRY(start_segment(active().seq + 1));
    return remove_dead_segments();
  }

  // Creates segment `seq` with its preamble (header with the log's bounds, then
  // the hard state) and makes it and its directory entry durable.
  result<void> start_segment(std::uint64_t seq) {
    auto fd = posix::open(path_of(seq), O_RDWR | O_CREAT | O_EXCL);
    if (!fd) return unexpected{fd.error()};
    segments_.push_back(detail::segment_file{seq, std::move(*fd), 0});
    allocated_ = 0;
    preallocating_ = true;
    pending_.clear();
    format::append_header(pending_, seq, first_index().value(), last_index().value());
    format::append_frame(pending_, format::frame_type::state, {}, state_);
    preamble_end_ = pending_.size();
    QUORUM_TRY(flush());
    QUORUM_TRY(datasync(active()));
    if (options_.fsync) QUORUM_TRY(posix::sync_directory(dir_));
    durable_ = end();
    return {};
  }

  // Segments older than the one holding first_index() hold nothing live:
  // positions below it were compacted away or truncated and rewritten later.
  [[nodiscard]] std::uint64_t oldest_live_segment() const noexcept {
    return index_.empty() ? active().seq : index_.front().seq;
  }
  [[nodiscard]] bool has_dead_segments() const noexcept {
    return segments_.size() > 1 && segments_.front().seq < oldest_live_segment();
  }

  // Removes the dead segments, then makes the removal durable. Only called
  // right after a roll: what made them dead is durable and sealed.
  result<void> remove_dead_segments() {
    if (!has_dead_segments()) return {};
    const std::uint64_t keep = oldest_live_segment();
    std::size_t n = 0;
    while (n + 1 < segments_.size() && segments_[n].seq < keep) {
      QUORUM_TRY(posix::remove(path_of(segments_[n].seq)));
      ++n;
    }
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(n));
    if (options_.fsync) QUORUM_TRY(posix::sync_directory(dir_));
    return {};
  }

  std::string dir_;
  file_log_options options_;
  posix::unique_fd lock_;                       // held for the log's life; also "owns files"
  std::vector<detail::segment_file> segments_;  // in sequence order; back() is active
  byte_buffer pending_;                         // frames of the active segment not yet written
  std::uint64_t durable_ = 0;                   // active segment bytes known durable
  std::uint64_t allocated_ = 0;                 // active segment bytes in the file, frames then zeros
  std::uint64_t last_sync_bytes_ = 0;           // what the last sync wrote (preallocate() asks)
  bool preallocating_ = true;                   // false once zeros failed to write in the active segment
  std::uint64_t preamble_end_ = 0;              // rolling before this would gain nothing
  detail::position_index index_;
  byte_buffer state_;
  byte_buffer read_buffer_;
  std::uint64_t sync_count_ = 0;
  bool broken_ = false;
  error broken_error_{};
};

static_assert(quorum::check_log<file_log>());

}  // namespace quorum::storage
