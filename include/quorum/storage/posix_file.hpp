// The few POSIX calls file_log makes, wrapped to return quorum::result: an
// owning descriptor, positioned reads and writes that retry short transfers
// and EINTR, fdatasync, truncation, and the directory fsync that makes a
// created or removed segment durable.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "quorum/core/bytes.hpp"
#include "quorum/core/result.hpp"

namespace quorum::storage::posix {

[[nodiscard]] inline unexpected<error> os_error(const char* what) noexcept {
  return fail(errc::io_error, what, static_cast<std::uint64_t>(errno));
}

class unique_fd {
 public:
  unique_fd() = default;
  explicit unique_fd(int fd) noexcept : fd_{fd} {}
  unique_fd(unique_fd&& o) noexcept : fd_{std::exchange(o.fd_, -1)} {}
  unique_fd& operator=(unique_fd&& o) noexcept {
    if (this != &o) reset(std::exchange(o.fd_, -1));
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }

  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// A second descriptor for the same open file: it stays valid whatever
// happens to the first (closed, its file removed).
[[nodiscard]] inline result<unique_fd> duplicate(int fd) noexcept {
  const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return os_error("fcntl(F_DUPFD_CLOEXEC)");
  return unique_fd{copy};
}

[[nodiscard]] inline result<unique_fd> open(const std::string& path, int flags, mode_t mode = 0644) {
  int fd;
  do fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return os_error("open");
  return unique_fd{fd};
}

[[nodiscard]] inline result<void> write_at(int fd, byte_view data, std::uint64_t offset) noexcept {
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error("pwrite");
    }
    if (n == 0) return fail(errc::io_error, "pwrite wrote nothing");
    data = data.subspan(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return {};
}

// Reads exactly n bytes; errc::truncated when the file ends first.
[[nodiscard]] inline result<void> read_at(int fd, std::byte* out, std::size_t n, std::uint64_t offset) noexcept {
  while (n > 0) {
    const ssize_t got = ::pread(fd, out, n, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      return os_error("pread");
    }
    if (got == 0) return fail(errc::truncated, "file shorter than expected", offset);
    out += got;
    n -= static_cast<std::size_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
  return {};
}

[[nodiscard]] inline result<std::uint64_t> file_size(int fd) noexcept {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return os_error("fstat");
  return static_cast<std::uint64_t>(st.st_size);
}

// Runs call() (0, or -1 and errno) again while a signal interrupts it.
template <class Call>
[[nodiscard]] inline result<void> retrying(const char* what, Call call) noexcept {
  int rc;
  do rc = call();
  while (rc != 0 && errno == EINTR);
  if (rc != 0) return os_error(what);
  return {};
}

[[nodiscard]] inline result<void> datasync(int fd) noexcept {
  return retrying("fdatasync", [fd] { return ::fdatasync(fd); });
}

// fsync: data and every piece of metadata (a size that shrank included).
[[nodiscard]] inline result<void> sync_file(int fd) noexcept {
  return retrying("fsync", [fd] { return ::fsync(fd); });
}

[[nodiscard]] inline result<void> truncate(int fd, std::uint64_t size) noexcept {
  return retrying("ftruncate", [fd, size] { return ::ftruncate(fd, static_cast<off_t>(size)); });
}

// Makes the directory's entries (files created, renamed or removed) durable.
[[nodiscard]] inline result<void> sync_directory(const std::string& dir) {
  auto fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (!fd) return unexpected{fd.error()};
  return retrying("fsync of the directory", [&fd] { return ::fsync(fd->get()); });
}

[[nodiscard]] inline result<void> remove(const std::string& path) noexcept {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return os_error("unlink");
  return {};
}

}  // namespace quorum::storage::posix
