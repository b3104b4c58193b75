// file_log beyond the shared conformance cases: agreement with the model over
// long random histories with many rolls, compactions and reopens; segment
// removal; recovery's errors for damage that is not a torn tail; the lock,
// options, and re-checking records read after open.
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "quorum/core/random.hpp"
#include "quorum/storage.hpp"
#include "storage_test_util.hpp"

namespace {

using namespace quorum;
using namespace quorum::storage;
using test::make_record;
using test::open_ok;
using test::same;

file_log_options small_options(bool fsync = false) {
  file_log_options o;
  o.segment_bytes = 1024;
  o.max_record_bytes = 600;
  o.max_state_bytes = 64;
  o.write_buffer_bytes = 300;  // exercise reads of both written and buffered frames
  o.fsync = fsync;
  return o;
}

std::vector<std::string> segment_files(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator{dir})
    if (e.path().extension() == ".qseg") names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Writes ~40 records over several 1 KiB segments and syncs.
void fill(file_log& log, memory_log& model, int n, std::uint64_t seed) {
  for (int k = 0; k < n; ++k) {
    const auto rec = make_record(seed + static_cast<std::uint64_t>(k), 40 + static_cast<std::size_t>(k) * 13 % 200);
    REQUIRE(log.append(rec));
    REQUIRE(model.append(rec));
  }
  REQUIRE(log.sync());
}

}  // namespace

TEST_CASE("file_log: long random histories equal the model across rolls, compactions and reopens") {
  test::scratch_dir dir{"quorum-filelog-random"};
  const auto options = small_options();
  std::optional<file_log> log{open_ok(dir.path(), options)};
  memory_log model{memory_log_options{options.max_record_bytes, options.max_state_bytes}};
  seeded_random rng{20261126};
  int reopens = 0;
  std::size_t most_segments = 0;
  for (int step = 0; step < 3000; ++step) {
    const auto pick = rng.below(100);
    if (pick < 55) {
      const auto rec = make_record(rng.below(1u << 30), rng.below(250));
      REQUIRE(*log->append(rec) == *model.append(rec));
    } else if (pick < 63 && model.last_index() >= model.first_index()) {
      const log_index at{model.first_index().value() + rng.below(model.last_index() - model.first_index() + 2)};
      REQUIRE(log->truncate(at));
      REQUIRE(model.truncate(at));
    } else if (pick < 70) {
      const log_index at{model.first_index().value() + rng.below(model.last_index() - model.first_index() + 8)};
      REQUIRE(log->compact(at));
      REQUIRE(model.compact(at));
    } else if (pick < 78) {
      const auto st = make_record(rng.below(1000), rng.below(64));
      REQUIRE(log->save_state(st));
      REQUIRE(model.save_state(st));
    } else if (pick < 95) {
      REQUIRE(log->sync());
    } else {
      if (rng.chance(0.5)) REQUIRE(log->sync());  // else: closed unsynced, the flushed frames remain
      log.reset();
      log.emplace(open_ok(dir.path(), options));
      ++reopens;
    }
    most_segments = std::max(most_segments, log->segment_count());
    if (step % 50 == 0) REQUIRE(test::equals_model(*log, model));
  }
  REQUIRE(test::equals_model(*log, model));
  log.reset();
  log.emplace(open_ok(dir.path(), options));
  CHECK(test::equals_model(*log, model));
  CHECK(reopens > 50);
  MESSAGE("segments at most " << most_segments << ", reopens " << reopens);
  CHECK(most_segments < 40);  // compaction keeps removing dead segments
}

TEST_CASE("file_log: compaction removes whole dead segments at the next sync") {
  test::scratch_dir dir{"quorum-filelog-compact"};
  auto log = open_ok(dir.path(), small_options(true));
  memory_log model;
  fill(log, model, 60, 1);
  const auto before = segment_files(dir.path());
  REQUIRE(before.size() >= 5);
  REQUIRE(log.compact(log.last_index()));  // keep only the last record
  REQUIRE(model.compact(model.last_index()));
  CHECK(segment_files(dir.path()) == before);  // nothing goes before the base frame is durable
  REQUIRE(log.sync());
  // The segment holding the last record stays, plus the one the sync rolled to.
  const auto after = segment_files(dir.path());
  REQUIRE(after.size() == 2);
  CHECK(after.front() == before.back());
  CHECK(log.segment_count() == 2);
  auto moved = std::move(log);  // moving keeps the files open and the lock held
  CHECK(file_log::open(dir.path(), small_options()).error().error.code == errc::busy);
  CHECK(test::equals_model(moved, model));
}

TEST_CASE("file_log: truncated-and-rewritten positions make their old segment dead") {
  test::scratch_dir dir{"quorum-filelog-superseded"};
  auto log = open_ok(dir.path(), small_options());
  memory_log model;
  fill(log, model, 10, 1);
  REQUIRE(log.compact(log_index{9}));
  REQUIRE(model.compact(log_index{9}));
  REQUIRE(log.truncate(log_index{9}));  // 9, 10 superseded: nothing live in the old segments
  REQUIRE(model.truncate(log_index{9}));
  fill(log, model, 30, 500);
  REQUIRE(log.sync());
  CHECK(log.first_segment() > 1);
  CHECK(test::equals_model(log, model));
  test::scratch_dir other{"quorum-filelog-other"};
  auto second = open_ok(other.path(), small_options());
  REQUIRE(second.append(as_bytes("other")));
  log = std::move(second);  // closes the first log (releasing its lock), takes over the second
  CHECK(as_chars(*log.read(log_index{1})) == "other");
  auto again = open_ok(dir.path(), small_options());
  CHECK(test::equals_model(again, model));
}

TEST_CASE("file_log: damage in a segment that is not the last is an error naming file and offset") {
  test::scratch_dir dir{"quorum-filelog-midcorrupt"};
  {
    auto log = open_ok(dir.path(), small_options());
    memory_log model;
    fill(log, model, 30, 1);
  }
  const auto names = segment_files(dir.path());
  REQUIRE(names.size() >= 3);
  auto bytes = test::read_file(dir.file(names[1]));
  bytes[200] ^= std::byte{0x10};
  test::write_file(dir.file(names[1]), bytes);
  const auto r = file_log::open(dir.path(), small_options());
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().error.code == errc::corrupt_log);
  CHECK(r.error().file == dir.file(names[1]));
  CHECK(r.error().offset <= 200);
  CHECK(r.error().offset + 600 > 200);
  CHECK(r.error().message.find(names[1]) != std::string::npos);
  CHECK(r.error().message.find("offset " + std::to_string(r.error().offset)) != std::string::npos);
  MESSAGE(r.error().message);
}

TEST_CASE("file_log: a missing segment is an error, never silently skipped") {
  test::scratch_dir dir{"quorum-filelog-missing"};
  {
    auto log = open_ok(dir.path(), small_options());
    memory_log model;
    fill(log, model, 40, 1);
  }
  const auto names = segment_files(dir.path());
  REQUIRE(names.size() >= 4);
  SUBCASE("in the middle") {
    std::filesystem::remove(dir.file(names[2]));
    const auto r = file_log::open(dir.path(), small_options());
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().error.code == errc::corrupt_log);
    CHECK(r.error().message.find(names[2]) != std::string::npos);
  }
  SUBCASE("at the front, without a compaction that allowed it") {
    std::filesystem::remove(dir.file(names[0]));
    const auto r = file_log::open(dir.path(), small_options());
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().error.code == errc::corrupt_log);
    MESSAGE(r.error().message);
  }
}

TEST_CASE("file_log: a torn tail is truncated and the log goes on") {
  test::scratch_dir dir{"quorum-filelog-torn"};
  memory_log model;
  {
    auto log = open_ok(dir.path(), small_options());
    fill(log, model, 12, 1);
  }
  const auto last = dir.file(segment_files(dir.path()).back());
  auto bytes = test::read_file(last);
  const auto good_size = bytes.size();
  // A frame header promising 100 bytes, then the file ends: a torn write.
  const unsigned char torn[] = {100, 0, 0, 0, 1, 2, 3, 4, 2, 9, 9};
  for (auto c : torn) bytes.push_back(std::byte{c});
  test::write_file(last, bytes);
  {
    auto log = open_ok(dir.path(), small_options());
    CHECK(std::filesystem::file_size(last) == good_size);
    CHECK(test::equals_model(log, model));
    fill(log, model, 3, 99);
  }
  auto log = open_ok(dir.path(), small_options());
  CHECK(test::equals_model(log, model));
}

TEST_CASE("file_log: a record damaged on disk after open is reported by read") {
  test::scratch_dir dir{"quorum-filelog-bitrot"};
  auto log = open_ok(dir.path(), small_options());
  REQUIRE(log.append(make_record(1, 100)));
  REQUIRE(log.sync());
  const auto seg = dir.file(segment_files(dir.path()).back());
  auto bytes = test::read_file(seg);
  bytes[bytes.size() - 60] ^= std::byte{1};  // inside the record, before the sync marker
  test::write_file(seg, bytes);
  const auto r = log.read(log_index{1});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::checksum_mismatch);
}

TEST_CASE("file_log: options are checked and other files in the directory are left alone") {
  test::scratch_dir dir{"quorum-filelog-options"};
  auto o = small_options();
  o.segment_bytes = 10;
  CHECK(file_log::open(dir.path(), o).error().error.code == errc::invalid_config);
  o = small_options();
  o.max_segment_file_bytes = o.segment_bytes;
  CHECK(file_log::open(dir.path(), o).error().error.code == errc::invalid_config);
  o = small_options();
  o.create_if_missing = false;
  CHECK(file_log::open(dir.file("absent"), o).error().error.code == errc::not_found);
  test::write_file(dir.file("notes.txt"), as_bytes("not a segment"));
  test::write_file(dir.file("0000000000000001.qseg.bak"), as_bytes("nor this"));
  {
    auto log = open_ok(dir.path(), small_options());
    REQUIRE(log.append(as_bytes("x")));
    REQUIRE(log.sync());
  }
  auto log = open_ok(dir.path(), small_options());
  CHECK(as_chars(*log.read(log_index{1})) == "x");
  CHECK(std::filesystem::exists(dir.file("notes.txt")));
}

namespace {

// Records k = 0..n-1 of a seed, each given to append_run split in two at a
// size-dependent point (an empty head or body included).
struct run_of {
  std::vector<byte_buffer> records;
  std::vector<record_parts> parts;
  run_of(int n, std::uint64_t seed) {
    for (int k = 0; k < n; ++k)
      records.push_back(make_record(seed + static_cast<std::uint64_t>(k), static_cast<std::size_t>(k) * 37 % 230));
    for (const byte_buffer& r : records) {
      const std::size_t cut = r.size() * 3 / 7;
      parts.push_back(record_parts{byte_view{r}.first(cut), byte_view{r}.subspan(cut)});
    }
  }
  [[nodiscard]] std::span<const record_parts> span() const { return parts; }
};

}  // namespace

TEST_CASE("file_log: append_run writes the very bytes single appends write, across segment rolls") {
  test::scratch_dir runs{"quorum-filelog-run"}, singles{"quorum-filelog-single"};
  const run_of a{30, 5}, b{3, 900};  // a: about 3.5 KiB, over several 1 KiB segments
  std::size_t segments_before = 0, segments_after = 0;
  {
    auto log = open_ok(runs.path(), small_options());
    REQUIRE(log.append(make_record(1, 50)));
    segments_before = log.segment_count();
    REQUIRE(*log.append_run(a.span()) == log_index{31});
    segments_after = log.segment_count();
    REQUIRE(log.sync());
    REQUIRE(*log.append_run(b.span()) == log_index{34});
    REQUIRE(log.sync());
  }
  CHECK(segments_after >= segments_before + 3);  // the run itself rolled
  {
    auto log = open_ok(singles.path(), small_options());
    REQUIRE(log.append(make_record(1, 50)));
    for (const auto& r : a.records) REQUIRE(log.append(r));
    REQUIRE(log.sync());
    for (const auto& r : b.records) REQUIRE(log.append(r));
    REQUIRE(log.sync());
  }
  const auto names = segment_files(runs.path());
  REQUIRE(names == segment_files(singles.path()));
  for (const auto& name : names)
    CHECK_MESSAGE(test::read_file(runs.file(name)) == test::read_file(singles.file(name)), name);
  // And it reads back (recovery is unchanged, so this is the usual reopen).
  auto log = open_ok(runs.path(), small_options());
  CHECK(log.last_index() == log_index{34});
  for (std::size_t k = 0; k < a.records.size(); ++k) CHECK(same(*log.read(log_index{2 + k}), a.records[k]));
  for (std::size_t k = 0; k < b.records.size(); ++k) CHECK(same(*log.read(log_index{32 + k}), b.records[k]));
}

TEST_CASE("file_log: a run torn inside on restart keeps its whole records before the tear, nothing after") {
  test::scratch_dir dir{"quorum-filelog-run-torn"};
  file_log_options o = small_options();
  o.segment_bytes = 64 * 1024;  // the run stays in one segment
  o.write_buffer_bytes = 64 * 1024;
  memory_log model;
  const run_of run{6, 40};
  std::uint64_t run_start = 0;
  std::string last;
  {
    auto log = open_ok(dir.path(), o);
    fill(log, model, 5, 1);  // synced
    run_start = log.position().offset;
    REQUIRE(*log.append_run(run.span()) == log_index{11});
    CHECK(log.position().offset > run_start);
    CHECK(log.durable_position().offset == run_start);  // written by flush below, never synced
    REQUIRE(log.flush());
    last = dir.file(segment_files(dir.path()).back());
  }
  // Cut the file halfway through the run's third frame: a crash mid-write.
  std::uint64_t cut = run_start;
  for (std::size_t k = 0; k < 2; ++k) cut += format::frame_bytes(format::entry_overhead_bytes + run.records[k].size());
  const std::uint64_t third = format::frame_bytes(format::entry_overhead_bytes + run.records[2].size());
  auto bytes = test::read_file(last);
  REQUIRE(bytes.size() > cut + third);
  bytes.resize(static_cast<std::size_t>(cut + third / 2));
  test::write_file(last, bytes);
  for (std::size_t k = 0; k < 2; ++k) REQUIRE(model.append(run.records[k]));
  {
    auto log = open_ok(dir.path(), o);
    CHECK(std::filesystem::file_size(last) == cut);  // the torn frame is gone, the two before it kept
    CHECK(test::equals_model(log, model));
    REQUIRE(*log.append_run(run_of{2, 77}.span()) == log_index{9});  // the log goes on after them
    for (const auto& r : run_of{2, 77}.records) REQUIRE(model.append(r));
    REQUIRE(log.sync());
  }
  auto log = open_ok(dir.path(), o);
  CHECK(test::equals_model(log, model));
}

namespace {

file_log_options preallocating_options() {
  file_log_options o = small_options(/*fsync=*/true);
  o.segment_bytes = 16 * 1024;
  o.write_buffer_bytes = 0;
  o.preallocate_bytes = 4 * 1024;
  return o;
}

bool all_zero(byte_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; });
}

// Walks a segment's frames from its start: true when valid frames fill the file exactly.
bool frames_fill(byte_view file, const file_log_options& o) {
  std::size_t at = 0;
  while (at < file.size()) {
    const format::frame f = format::parse_frame(file, at, storage::detail::max_frame_payload(o));
    if (f.status != format::bad_frame::none) return false;
    at = f.next;
  }
  return true;
}

}  // namespace

TEST_CASE("file_log: with fsync the active segment is zero-filled ahead, and after a crash the zeros read as its end") {
  test::scratch_dir dir{"quorum-filelog-prealloc"};
  test::scratch_dir crashed{"quorum-filelog-prealloc-crash"};
  const file_log_options o = preallocating_options();
  memory_log model;
  {
    auto log = open_ok(dir.path(), o);
    fill(log, model, 6, 1);
    const std::uint64_t end = log.position().offset;
    const auto last = dir.file(segment_files(dir.path()).back());
    const auto bytes = test::read_file(last);
    // Frames up to the end, then zeros up to preallocate_bytes past the write that reached beyond them.
    CHECK(bytes.size() == log.allocated_bytes());
    CHECK(bytes.size() > end);
    CHECK(bytes.size() <= std::min<std::uint64_t>(o.segment_bytes, end + o.preallocate_bytes));
    CHECK(all_zero(byte_view{bytes}.subspan(static_cast<std::size_t>(end))));
    // Appends inside the zeros do not move the file's end.
    fill(log, model, 2, 50);
    CHECK(std::filesystem::file_size(last) == bytes.size());
    // A crash now: the directory as it is, zeros and all.
    for (const auto& name : segment_files(dir.path()))
      test::write_file(crashed.file(name), test::read_file(dir.file(name)));
  }
  auto log = open_ok(crashed.path(), o);
  CHECK(test::equals_model(log, model));
  CHECK(std::filesystem::file_size(crashed.file(segment_files(crashed.path()).back())) == log.position().offset);
  fill(log, model, 30, 100);  // on past the zeros and across rolls
  CHECK(test::equals_model(log, model));
}

TEST_CASE("file_log: a small log writes few zeros, and the zeros ahead grow with the segment up to preallocate_bytes") {
  test::scratch_dir dir{"quorum-filelog-prealloc-grow"};
  file_log_options o = preallocating_options();
  o.segment_bytes = 8 << 20;
  o.max_record_bytes = 8 * 1024;
  o.preallocate_bytes = 1 << 20;
  constexpr std::uint64_t least = 16 * 1024;  // file_log::preallocate_min_bytes
  memory_log model;
  auto log = open_ok(dir.path(), o);
  fill(log, model, 1, 1);
  const auto ahead = [&] { return log.allocated_bytes() - log.position().offset; };
  CHECK(ahead() > 0);
  CHECK(ahead() <= least);  // not the whole megabyte
  std::uint64_t most_ahead = 0;
  for (std::uint64_t k = 0; log.position().offset < (3u << 20); ++k) {  // small syncs, 4 KiB each
    const auto rec = make_record(100 + k, 4 * 1024);
    REQUIRE(log.append(rec));
    REQUIRE(model.append(rec));
    REQUIRE(log.sync());
    const std::uint64_t end = log.position().offset;
    // Never more zeros ahead than the segment holds (or the least), nor than preallocate_bytes.
    CHECK(log.allocated_bytes() <= end + std::max(least, end));
    CHECK(ahead() <= o.preallocate_bytes);
    most_ahead = std::max(most_ahead, ahead());
  }
  CHECK(most_ahead > o.preallocate_bytes - 16 * 1024);  // it reached the full distance
  CHECK(test::equals_model(log, model));
}

TEST_CASE("file_log: a roll cuts the zero-filled tail, so only the last segment ever ends in zeros") {
  test::scratch_dir dir{"quorum-filelog-prealloc-roll"};
  file_log_options o = preallocating_options();
  o.segment_bytes = 4 * 1024;
  o.preallocate_bytes = 1024;
  memory_log model;
  {
    auto log = open_ok(dir.path(), o);
    for (int round = 0; round < 8; ++round) fill(log, model, 20, static_cast<std::uint64_t>(round) * 100);
    REQUIRE(log.segment_count() > 3);
    const auto names = segment_files(dir.path());
    for (std::size_t k = 0; k + 1 < names.size(); ++k)
      CHECK_MESSAGE(frames_fill(test::read_file(dir.file(names[k])), o), names[k]);
    CHECK_FALSE(frames_fill(test::read_file(dir.file(names.back())), o));  // the active one: zeros after its frames
  }
  auto log = open_ok(dir.path(), o);
  CHECK(test::equals_model(log, model));
}

TEST_CASE("file_log: no zero-filling without fsync or with preallocate_bytes 0") {
  for (const bool fsync : {false, true}) {
    CAPTURE(fsync);
    test::scratch_dir dir{"quorum-filelog-no-prealloc"};
    file_log_options o = preallocating_options();
    o.fsync = fsync;
    if (fsync) o.preallocate_bytes = 0;
    memory_log model;
    auto log = open_ok(dir.path(), o);
    fill(log, model, 6, 1);
    CHECK(log.allocated_bytes() == log.position().offset);
    CHECK(std::filesystem::file_size(dir.file(segment_files(dir.path()).back())) == log.position().offset);
  }
}

TEST_CASE("file_log: a sync of more than 64 KiB stops the zero-filling until a sync is small again") {
  test::scratch_dir dir{"quorum-filelog-prealloc-large"};
  file_log_options o = preallocating_options();
  o.segment_bytes = 1 << 20;
  o.max_record_bytes = 16 * 1024;
  memory_log model;
  auto log = open_ok(dir.path(), o);
  fill(log, model, 1, 1);
  CHECK(log.allocated_bytes() > log.position().offset);  // small syncs: zeros ahead
  for (int k = 0; k < 5; ++k) {  // 80 KiB in one sync
    const auto rec = make_record(10 + static_cast<std::uint64_t>(k), 16 * 1024);
    REQUIRE(log.append(rec));
    REQUIRE(model.append(rec));
  }
  REQUIRE(log.sync());
  // Appends written at once (no write buffer), until one goes past the zeros
  // filled before: it adds none.
  const std::uint64_t zeros_end = log.allocated_bytes();
  for (std::uint64_t k = 0; log.position().offset <= zeros_end; ++k) {
    REQUIRE(k < 100);
    const auto small = make_record(20 + k, 100);
    REQUIRE(log.append(small));
    REQUIRE(model.append(small));
  }
  CHECK(log.allocated_bytes() == log.position().offset);
  REQUIRE(log.sync());  // a small sync: its write zero-fills ahead again
  CHECK(log.allocated_bytes() > log.position().offset);
  CHECK(test::equals_model(log, model));
}

TEST_CASE("file_log: a crash at any byte of a zero-filled segment recovers exactly the records written whole before it") {
  test::scratch_dir dir{"quorum-filelog-prealloc-tear"};
  test::scratch_dir crashed{"quorum-filelog-prealloc-tear-crash"};
  file_log_options o = preallocating_options();
  o.segment_bytes = 64 * 1024;  // one segment throughout
  std::vector<memory_log> models(1);
  std::vector<std::uint64_t> ends;  // ends[k]: where record k + 1's frame ended
  std::uint64_t begin = 0;
  byte_buffer image;
  {
    auto log = open_ok(dir.path(), o);
    begin = log.position().offset;
    for (std::uint64_t k = 0; k < 24; ++k) {
      const auto rec = make_record(k, 1 + k * 37 % 300);
      REQUIRE(log.append(rec));
      ends.push_back(log.position().offset);
      models.push_back(models.back());
      REQUIRE(models.back().append(rec));
      if (k % 5 == 4) REQUIRE(log.sync());
    }
    REQUIRE(log.segment_count() == 1);
    image = test::read_file(dir.file(segment_files(dir.path()).back()));
    REQUIRE(image.size() > log.position().offset);  // zeros after the frames
  }
  // The disk kept the first `cut` bytes of what was written; the rest still reads as the zeros filled before.
  const std::string name = segment_files(dir.path()).back();
  file_log_options reopen = o;
  reopen.fsync = false;  // recovery is the same; its fdatasync is not what is tested
  for (std::uint64_t cut = begin; cut <= image.size(); cut += format::alignment) {
    CAPTURE(cut);
    byte_buffer torn = image;
    std::fill(torn.begin() + static_cast<std::ptrdiff_t>(cut), torn.end(), std::byte{0});
    test::write_file(crashed.file(name), torn);
    std::size_t whole = 0;
    while (whole < ends.size() && ends[whole] <= cut) ++whole;
    auto r = file_log::open(crashed.path(), reopen);
    REQUIRE_MESSAGE(r.has_value(), (r ? std::string{} : r.error().message));
    CHECK(test::equals_model(*r, models[whole]));
  }
}

TEST_CASE("file_log: zeros that cannot be written cost the speed-up, not the appends") {
  test::scratch_dir dir{"quorum-filelog-prealloc-limit"};
  file_log_options o = preallocating_options();
  o.segment_bytes = 1 << 20;
  o.preallocate_bytes = 256 * 1024;
  // A file size limit (as a full disk would) well below the zeros' reach:
  // writing them fails, writing the frames does not.
  struct ::rlimit old {};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  auto* const old_handler = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of a signal
  struct ::rlimit limited = old;
  limited.rlim_cur = 64 * 1024;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &limited) == 0);
  memory_log model;
  {
    auto log = open_ok(dir.path(), o);
    for (int round = 0; round < 4; ++round) fill(log, model, 10, static_cast<std::uint64_t>(round) * 100);
    CHECK(log.position().offset < 64 * 1024);
    CHECK(test::equals_model(log, model));
  }
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &old) == 0);
  std::signal(SIGXFSZ, old_handler);
  auto log = open_ok(dir.path(), o);
  CHECK(test::equals_model(log, model));
}
