// Helpers shared by the storage tests: a scratch directory that removes
// itself, whole-file reads and writes, opening a file_log that must open, and
// a comparison of a Log against the in-memory model.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "quorum/storage/file_log.hpp"
#include "quorum/storage/memory_log.hpp"

namespace quorum::storage::test {

class scratch_dir {
 public:
  explicit scratch_dir(const char* tag = "quorum-storage") {
    // /dev/shm keeps the thousands of recoveries of the crash test off the disk.
    std::filesystem::path base = std::filesystem::exists("/dev/shm") ? std::filesystem::path{"/dev/shm"}
                                                                       : std::filesystem::temp_directory_path();
    std::string templ = (base / (std::string{tag} + "-XXXXXX")).string();
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    path_ = templ;
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline file_log open_ok(const std::string& dir, const file_log_options& o) {
  auto r = file_log::open(dir, o);
  REQUIRE_MESSAGE(r.has_value(), (r ? std::string{} : r.error().message));
  return std::move(*r);
}

inline byte_buffer read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto b = as_bytes(s);
  return byte_buffer(b.begin(), b.end());
}

inline void write_file(const std::string& path, byte_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// A record whose bytes depend on a seed and a size, so every record differs.
inline byte_buffer make_record(std::uint64_t seed, std::size_t size) {
  byte_buffer r(size);
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + size;
  for (auto& b : r) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b = static_cast<std::byte>(x);
  }
  return r;
}

inline bool same(byte_view a, byte_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// True when `log` holds exactly the model's bounds, records and state.
template <class L>
bool equals_model(L& log, const memory_log& model) {
  if (log.first_index() != model.first_index() || log.last_index() != model.last_index()) return false;
  if (!same(log.state(), model.state())) return false;
  for (log_index i = model.first_index(); i <= model.last_index(); i = i.next()) {
    auto got = log.read(i);
    if (!got || !same(*got, *model.read(i))) return false;
  }
  return true;
}

}  // namespace quorum::storage::test
