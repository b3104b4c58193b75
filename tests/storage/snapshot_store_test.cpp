// file_snapshot_store: images survive reopen, a missing image is an empty one,
// a leftover temp file (a save cut short) is never taken for the image, and a
// damaged current file is an error naming the file; the size bound is enforced.
#include <doctest/doctest.h>

#include <filesystem>
#include <optional>
#include <string>

#include "quorum/storage.hpp"
#include "storage_test_util.hpp"

namespace {

using namespace quorum;
using namespace quorum::storage;
using test::make_record;
using test::same;

static_assert(check_snapshot_store<file_snapshot_store>());
static_assert(check_snapshot_store<memory_snapshot_store>());

file_snapshot_options test_options(std::uint64_t max_image_bytes = std::uint64_t{1} << 20) {
  file_snapshot_options o;
  o.max_image_bytes = max_image_bytes;
  return o;
}

file_snapshot_store open_ok(const std::string& dir, const file_snapshot_options& o = test_options()) {
  auto r = file_snapshot_store::open(dir, o);
  REQUIRE_MESSAGE(r.has_value(), (r ? std::string{} : r.error().message));
  return std::move(*r);
}

byte_buffer load_ok(file_snapshot_store& s) {
  auto r = s.load();
  REQUIRE_MESSAGE(r.has_value(), (r ? std::string{} : r.error().message()));
  return to_buffer(*r);
}

// Saves `image` in a fresh store in `dir` and closes it.
void save_one(const std::string& dir, byte_view image) {
  file_snapshot_store s = open_ok(dir);
  REQUIRE(s.save(image));
}

open_error open_fails(const std::string& dir, const file_snapshot_options& o = test_options()) {
  auto r = file_snapshot_store::open(dir, o);
  REQUIRE_FALSE(r.has_value());
  return r.error();
}

}  // namespace

TEST_CASE("file_snapshot_store: the last saved image comes back after reopen") {
  test::scratch_dir dir{"quorum-snapshot"};
  const std::string sub = dir.file("store");  // created by open
  const byte_buffer first = make_record(1, 5000);
  const byte_buffer second = make_record(2, 777);
  {
    file_snapshot_store s = open_ok(sub);
    REQUIRE(s.save(first));
    CHECK(same(load_ok(s), first));
    REQUIRE(s.save(second));
    CHECK(same(load_ok(s), second));
    CHECK(s.saves() == 2);
  }
  CHECK(std::filesystem::file_size(sub + "/" + snapshot_format::current_name) ==
        snapshot_format::header_bytes + second.size());
  file_snapshot_store again = open_ok(sub);
  CHECK(same(load_ok(again), second));
  // Saving the view load() returned (it points into the store) works too.
  auto view = again.load();
  REQUIRE(view.has_value());
  REQUIRE(again.save(*view));
  CHECK(same(load_ok(again), second));
  // An empty image is stored as such.
  REQUIRE(again.save({}));
  CHECK(load_ok(again).empty());
}

TEST_CASE("file_snapshot_store: a directory with no image loads an empty one") {
  test::scratch_dir dir{"quorum-snapshot"};
  file_snapshot_store s = open_ok(dir.path());
  CHECK(load_ok(s).empty());
  CHECK_FALSE(std::filesystem::exists(s.current_path()));

  file_snapshot_options strict = test_options();
  strict.create_if_missing = false;
  const open_error e = open_fails(dir.file("missing"), strict);
  CHECK(e.error.code == errc::not_found);
  CHECK(e.message.find(dir.file("missing")) != std::string::npos);
}

TEST_CASE("file_snapshot_store: a leftover or torn temp file is ignored and removed") {
  test::scratch_dir dir{"quorum-snapshot"};
  const byte_buffer image = make_record(3, 300);
  save_one(dir.path(), image);
  const std::string temp = dir.file(snapshot_format::temp_name);

  // A save cut short after a few bytes of its header.
  test::write_file(temp, byte_view{make_record(4, 7)});
  {
    file_snapshot_store s = open_ok(dir.path());
    CHECK_FALSE(std::filesystem::exists(temp));
    CHECK(same(load_ok(s), image));
  }
  // A complete, valid temp file that never reached its rename is not the image either.
  {
    test::scratch_dir other{"quorum-snapshot"};
    save_one(other.path(), make_record(5, 200));
    std::filesystem::copy_file(other.file(snapshot_format::current_name), temp);
  }
  {
    file_snapshot_store s = open_ok(dir.path());
    CHECK_FALSE(std::filesystem::exists(temp));
    CHECK(same(load_ok(s), image));
  }
  // With no current file, a temp file still means "no image".
  test::scratch_dir fresh{"quorum-snapshot"};
  test::write_file(fresh.file(snapshot_format::temp_name), byte_view{make_record(6, 100)});
  file_snapshot_store s = open_ok(fresh.path());
  CHECK(load_ok(s).empty());
  CHECK_FALSE(std::filesystem::exists(fresh.file(snapshot_format::temp_name)));
}

TEST_CASE("file_snapshot_store: a damaged current file is an error naming the file and the offset") {
  test::scratch_dir dir{"quorum-snapshot"};
  const byte_buffer image = make_record(7, 1000);
  const std::string current = dir.file(snapshot_format::current_name);
  save_one(dir.path(), image);
  const byte_buffer good = test::read_file(current);
  REQUIRE(good.size() == snapshot_format::header_bytes + image.size());

  auto expect_corrupt = [&](const byte_buffer& bytes, std::uint64_t offset) {
    test::write_file(current, bytes);
    const open_error e = open_fails(dir.path());
    CHECK(e.error.code == errc::corrupt_log);
    CHECK(e.file == current);
    CHECK(e.offset == offset);
    CHECK(e.message.find(current + ": at offset " + std::to_string(offset)) == 0);
  };
  SUBCASE("a flipped bit in the image") {
    byte_buffer bad = good;
    bad[snapshot_format::header_bytes + 500] ^= std::byte{0x10};
    expect_corrupt(bad, snapshot_format::header_bytes);
  }
  SUBCASE("a flipped bit in every header byte") {
    for (std::size_t k = 0; k < snapshot_format::header_bytes; ++k) {
      byte_buffer bad = good;
      bad[k] ^= std::byte{0x01};
      test::write_file(current, bad);
      CHECK(open_fails(dir.path()).error.code == errc::corrupt_log);
    }
  }
  SUBCASE("truncated inside the image") {
    byte_buffer bad(good.begin(), good.end() - 1);
    expect_corrupt(bad, 16);
  }
  SUBCASE("truncated inside the header") {
    byte_buffer bad(good.begin(), good.begin() + 10);
    expect_corrupt(bad, 10);
  }
  SUBCASE("trailing bytes after the image") {
    byte_buffer bad = good;
    bad.push_back(std::byte{0});
    expect_corrupt(bad, 16);
  }
  SUBCASE("another file's bytes") {
    expect_corrupt(make_record(8, 100), 0);
  }
  SUBCASE("damage after a save is found by the next load") {
    file_snapshot_store s = open_ok(dir.path());
    REQUIRE(s.save(image));
    byte_buffer bad = good;
    bad[snapshot_format::header_bytes] ^= std::byte{0x80};
    test::write_file(current, bad);
    auto r = s.load();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == errc::corrupt_log);
    CHECK(r.error().detail == snapshot_format::header_bytes);
  }
}

TEST_CASE("file_snapshot_store: an image over max_image_bytes is refused with too_large") {
  test::scratch_dir dir{"quorum-snapshot"};
  const byte_buffer kept = make_record(9, 100);
  {
    file_snapshot_store s = open_ok(dir.path(), test_options(100));
    REQUIRE(s.save(kept));  // exactly at the limit
    auto r = s.save(make_record(10, 101));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == errc::too_large);
    CHECK(same(load_ok(s), kept));
  }
  // A stored image over a lowered limit is refused before it is read.
  const open_error e = open_fails(dir.path(), test_options(99));
  CHECK(e.error.code == errc::too_large);
  CHECK(e.file == dir.file(snapshot_format::current_name));

  CHECK(file_snapshot_options{}.max_image_bytes == std::uint64_t{1} << 30);
  CHECK(open_fails(dir.path(), test_options(0)).error.code == errc::invalid_config);
}

TEST_CASE("file_snapshot_store: a directory is open in one store at a time") {
  test::scratch_dir dir{"quorum-snapshot"};
  std::optional<file_snapshot_store> s{open_ok(dir.path())};
  CHECK(open_fails(dir.path()).error.code == errc::busy);
  s.reset();
  CHECK(file_snapshot_store::open(dir.path(), test_options()).has_value());
}
