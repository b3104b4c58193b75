// file_snapshot_store: the durable model of the SnapshotStore concept. One
// image per directory, replaced whole: written to a temp file, synced, renamed
// over the current file, and the directory synced, so a crash leaves the old
// image or the new one. The file is [header][image]; the format is below.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "quorum/codec/crc32c.hpp"
#include "quorum/codec/endian.hpp"
#include "quorum/core/bytes.hpp"
#include "quorum/core/result.hpp"
#include "quorum/core/snapshot_store.hpp"
#include "quorum/storage/file_log_options.hpp"
#include "quorum/storage/posix_file.hpp"

namespace quorum::storage {

struct file_snapshot_options {
  // save() of a larger image: errc::too_large. A stored image larger than this
  // (the limit was lowered) is refused the same way, before anything is read.
  std::uint64_t max_image_bytes = std::uint64_t{1} << 30;
  // open() of a missing directory creates it; false: errc::not_found.
  bool create_if_missing = true;
  // false skips fdatasync and the directory fsync: for tests and throwaway data only.
  bool fsync = true;
};

namespace snapshot_format {

// Header, little endian: magic u64, version u32, crc32c u32, image length u64.
// The CRC covers the magic, version and length fields, then the image, so a
// flipped bit anywhere in the file is found.
inline constexpr std::uint64_t magic = 0x3176504e534d5251ull;  // "QRMSNPv1" read as a little-endian u64
inline constexpr std::uint32_t version = 1;
inline constexpr std::size_t header_bytes = 24;
inline constexpr const char* current_name = "snapshot.qsnap";
inline constexpr const char* temp_name = "snapshot.qsnap.tmp";
inline constexpr const char* lock_name = "snapshot.lock";

[[nodiscard]] inline std::uint32_t image_crc(const std::byte* header, byte_view image) noexcept {
  std::uint32_t crc = codec::crc32c(byte_view{header, 12});
  crc = codec::crc32c(byte_view{header + 16, 8}, crc);
  return codec::crc32c(image, crc);
}

inline void write_header(std::byte* out, byte_view image) noexcept {
  codec::store_le64(out, magic);
  codec::store_le32(out + 8, version);
  codec::store_le64(out + 16, image.size());
  codec::store_le32(out + 12, image_crc(out, image));
}

}  // namespace snapshot_format

class file_snapshot_store {
 public:
  // Opens (or creates) the store in `dir`, removes a temp file a crash left
  // behind, and reads and checks the current image: damage is an error naming
  // the file and the offset (a torn image is impossible, so damage is real).
  static result<file_snapshot_store, open_error> open(const std::string& dir, file_snapshot_options options = {}) {
    if (options.max_image_bytes == 0 || options.max_image_bytes > max_supported_bytes)
      return failure(error{errc::invalid_config, "max_image_bytes out of range", options.max_image_bytes}, dir, 0,
                     "max_image_bytes must be between 1 and 2^62");
    file_snapshot_store s{dir, options};
    if (auto r = s.lock_directory(); !r) return unexpected{r.error()};
    if (auto r = s.remove_leftover(); !r) return unexpected{r.error()};
    if (auto r = s.read_current(); !r) return unexpected{r.error()};
    return s;
  }

  // Replaces the image. Returns once the new image is durable; a crash before
  // that leaves the old one. `image` may view this store's last load().
  result<void> save(byte_view image) {
    if (image.size() > options_.max_image_bytes)
      return fail(errc::too_large, "snapshot image over max_image_bytes", image.size());
    const std::string temp = temp_path();
    if (auto r = write_temp(temp, image); !r) {
      static_cast<void>(posix::remove(temp));
      return r;
    }
    if (::rename(temp.c_str(), current_path().c_str()) != 0) {
      auto err = posix::os_error("rename of the snapshot temp file");
      static_cast<void>(posix::remove(temp));
      return err;
    }
    cached_ = false;
    image_.clear();
    ++saves_;
    if (options_.fsync) QUORUM_TRY(posix::sync_directory(dir_));
    return {};
  }

  // The current image, empty when none was ever saved. Read and checked from
  // the file the first time after open or save; the view is valid until the
  // next non-const call. Damage found here is errc::corrupt_log (detail: the
  // offset); current_path() names the file.
  result<byte_view> load() {
    if (!cached_) {
      auto r = read_current();
      if (!r) return unexpected{r.error().error};
    }
    return byte_view{image_};
  }

  [[nodiscard]] std::string current_path() const { return dir_ + "/" + snapshot_format::current_name; }
  [[nodiscard]] std::string temp_path() const { return dir_ + "/" + snapshot_format::temp_name; }
  [[nodiscard]] const std::string& directory() const noexcept { return dir_; }
  [[nodiscard]] const file_snapshot_options& options() const noexcept { return options_; }
  [[nodiscard]] std::uint64_t saves() const noexcept { return saves_; }

 private:
  // Keeps header + image inside a 64-bit file offset and a size_t on any host.
  static constexpr std::uint64_t max_supported_bytes = std::uint64_t{1} << 62;

  file_snapshot_store(std::string dir, file_snapshot_options o) : dir_{std::move(dir)}, options_{o} {}

  static unexpected<open_error> failure(error e, std::string file, std::uint64_t offset, const std::string& why) {
    std::string msg = file + ": ";
    if (e.code == errc::corrupt_log) msg += "at offset " + std::to_string(offset) + ": ";
    msg += why + " (" + e.message() + ")";
    return unexpected<open_error>{open_error{e, std::move(msg), std::move(file), offset}};
  }

  result<void, open_error> lock_directory() {
    struct stat st {};
    if (::stat(dir_.c_str(), &st) != 0) {
      if (!options_.create_if_missing)
        return failure(error{errc::not_found, "no snapshot directory", 0}, dir_, 0,
                       "the snapshot directory does not exist");
      if (::mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST)
        return failure(error{errc::io_error, "mkdir", static_cast<std::uint64_t>(errno)}, dir_, 0,
                       "cannot create the snapshot directory");
    }
    const std::string path = dir_ + "/" + snapshot_format::lock_name;
    auto fd = posix::open(path, O_RDWR | O_CREAT);
    if (!fd) return failure(fd.error(), path, 0, "cannot open the lock file");
    if (::flock(fd->get(), LOCK_EX | LOCK_NB) != 0)
      return failure(error{errc::busy, "locked", static_cast<std::uint64_t>(errno)}, path, 0,
                     "the snapshot directory is open elsewhere");
    lock_ = std::move(*fd);
    return {};
  }

  // A temp file is a save() that never reached its rename: never the image.
  result<void, open_error> remove_leftover() {
    const std::string temp = temp_path();
    struct stat st {};
    if (::stat(temp.c_str(), &st) != 0) return {};
    if (auto r = posix::remove(temp); !r) return failure(r.error(), temp, 0, "cannot remove a leftover temp file");
    if (options_.fsync)
      if (auto r = posix::sync_directory(dir_); !r) return failure(r.error(), dir_, 0, "cannot sync the directory");
    return {};
  }

  result<void> write_temp(const std::string& temp, byte_view image) {
    auto fd = posix::open(temp, O_WRONLY | O_CREAT | O_TRUNC);
    if (!fd) return unexpected{fd.error()};
    std::byte header[snapshot_format::header_bytes];
    snapshot_format::write_header(header, image);
    QUORUM_TRY(posix::write_at(fd->get(), byte_view{header}, 0));
    QUORUM_TRY(posix::write_at(fd->get(), image, snapshot_format::header_bytes));
    if (options_.fsync) QUORUM_TRY(posix::datasync(fd->get()));
    return {};
  }

  // Reads the current file into image_ and checks it; no file is no image.
  result<void, open_error> read_current() {
    const std::string path = current_path();
    image_.clear();
    auto fd = posix::open(path, O_RDONLY);
    if (!fd) {
      if (fd.error().code == errc::io_error && fd.error().detail == ENOENT) return cached();
      return failure(fd.error(), path, 0, "cannot open the snapshot");
    }
    auto size = posix::file_size(fd->get());
    if (!size) return failure(size.error(), path, 0, "cannot stat the snapshot");
    if (*size < snapshot_format::header_bytes)
      return corrupt(path, *size, "the file is shorter than its header");
    if (*size - snapshot_format::header_bytes > options_.max_image_bytes)
      return failure(error{errc::too_large, "snapshot over max_image_bytes", *size}, path, 0,
                     "the image is larger than max_image_bytes");
    std::byte header[snapshot_format::header_bytes];
    if (auto r = posix::read_at(fd->get(), header, sizeof header, 0); !r)
      return failure(r.error(), path, 0, "cannot read the snapshot header");
    QUORUM_TRY(check_header(header, *size, path));
    image_.resize(static_cast<std::size_t>(*size - snapshot_format::header_bytes));
    if (auto r = posix::read_at(fd->get(), image_.data(), image_.size(), snapshot_format::header_bytes); !r)
      return failure(r.error(), path, snapshot_format::header_bytes, "cannot read the snapshot image");
    if (codec::load_le32(header + 12) != snapshot_format::image_crc(header, image_)) {
      image_.clear();
      return corrupt(path, snapshot_format::header_bytes, "checksum mismatch: the image is damaged");
    }
    return cached();
  }

  result<void, open_error> check_header(const std::byte* header, std::uint64_t size, const std::string& path) {
    if (codec::load_le64(header) != snapshot_format::magic)
      return corrupt(path, 0, "not a quorum snapshot (bad magic)");
    if (codec::load_le32(header + 8) != snapshot_format::version)
      return corrupt(path, 8, "unsupported snapshot format version");
    if (codec::load_le64(header + 16) != size - snapshot_format::header_bytes)
      return corrupt(path, 16, "the image length in the header does not match the file size");
    return {};
  }

  static unexpected<open_error> corrupt(const std::string& path, std::uint64_t at, const std::string& why) {
    return failure(error{errc::corrupt_log, "snapshot file damaged", at}, path, at, why);
  }

  result<void, open_error> cached() {
    cached_ = true;
    return {};
  }

  std::string dir_;
  file_snapshot_options options_;
  posix::unique_fd lock_;  // held for the store's life
  byte_buffer image_;      // the checked image while cached_
  bool cached_ = false;
  std::uint64_t saves_ = 0;
};

static_assert(check_snapshot_store<file_snapshot_store>());

}  // namespace quorum::storage
