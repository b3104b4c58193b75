// file_log's sync in two halves (begin_sync, pending_sync::run on any
// thread, end_sync), the building block of core/log.hpp's start_sync: it
// writes what sync() writes, certifies only what was written before it
// began, survives the segment it syncs being rolled and removed, and a
// failed fdatasync breaks the log as a failed sync() does.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "quorum/storage.hpp"
#include "storage_test_util.hpp"

namespace {

using namespace quorum;
using namespace quorum::storage;
using test::make_record;
using test::open_ok;

file_log_options small_options(bool fsync = true) {
  file_log_options o;
  o.segment_bytes = 1024;
  o.max_record_bytes = 600;
  o.max_state_bytes = 64;
  o.fsync = fsync;
  return o;
}

void append_n(file_log &log, memory_log &model, int n, std::uint64_t seed, std::size_t size = 60) {
  for (int k = 0; k < n; ++k) {
    const auto rec = make_record(seed + static_cast<std::uint64_t>(k), size);
    REQUIRE(log.append(rec));
    REQUIRE(model.append(rec));
  }
}

// The fdatasync on a thread of its own, as quorum-kv's log_syncer runs it.
result<void> run_elsewhere(const pending_sync &s) {
  result<void> out;
  std::thread t{[&] { out = s.run(); }};
  t.join();
  return out;
}

}  // namespace

TEST_CASE(
    "file_log split sync: it certifies what was written before it began, "
    "and writes what sync() writes") {
  test::scratch_dir a{"quorum-split-a"}, b{"quorum-split-b"};
  memory_log model, model_b;
  {
    auto split = open_ok(a.path(), small_options());
    auto whole = open_ok(b.path(), small_options());
    append_n(split, model, 4, 1);
    append_n(whole, model_b, 4, 1);
    const stream_position before = split.durable_position();
    auto s = split.begin_sync();
    REQUIRE(s);
    REQUIRE(s->needed());
    const stream_position at_begin = split.position();
    CHECK(split.durable_position() == before);  // nothing certified until it ends
    append_n(split, model, 2, 100);             // the log goes on meanwhile
    REQUIRE(run_elsewhere(*s));
    REQUIRE(split.end_sync(*s, result<void>{}));
    CHECK(split.durable_position() == at_begin);  // not the two appends after it
    CHECK(split.durable_position() != split.position());
    REQUIRE(whole.sync());
    append_n(whole, model_b, 2, 100);
    REQUIRE(split.sync());
    REQUIRE(whole.sync());
    // The same frames, sync markers included, byte for byte.
    const std::string name = storage::detail::segment_name(split.first_segment());
    CHECK(test::read_file(a.file(name)) == test::read_file(b.file(name)));
    CHECK(split.sync_count() == whole.sync_count());
  }
  auto reopened = open_ok(a.path(), small_options());
  CHECK(test::equals_model(reopened, model));
}

TEST_CASE(
    "file_log split sync: with nothing new there is nothing to run, and "
    "the later of two covers the earlier") {
  test::scratch_dir dir{"quorum-split-cover"};
  auto log = open_ok(dir.path(), small_options());
  memory_log model;
  auto none = log.begin_sync();
  REQUIRE(none);
  CHECK_FALSE(none->needed());
  CHECK(none->run());
  append_n(log, model, 2, 1);
  auto first = log.begin_sync();
  append_n(log, model, 2, 10);
  auto second = log.begin_sync();
  REQUIRE((first && second));
  CHECK(second->covers(*first));
  CHECK_FALSE(first->covers(*second));
  CHECK(first->covers(*none));
  REQUIRE(second->run());
  REQUIRE(log.end_sync(*second, result<void>{}));
  const stream_position durable = log.durable_position();
  REQUIRE(log.end_sync(*first, result<void>{}));  // late, and behind: changes nothing
  CHECK(log.durable_position() == durable);
  CHECK(log.durable_position() == log.position());
}

TEST_CASE(
    "file_log split sync: a roll and the removal of the segment it syncs "
    "come between, harmlessly") {
  test::scratch_dir dir{"quorum-split-roll"};
  memory_log model;
  {
    auto log = open_ok(dir.path(), small_options());
    append_n(log, model, 3, 1);
    auto s = log.begin_sync();
    REQUIRE(s);
    const std::uint64_t seq = log.position().seq;
    append_n(log, model, 30,
             50);  // several rolls: each seals its segment durably
    REQUIRE(log.position().seq > seq);
    REQUIRE(log.compact(log.last_index()));
    REQUIRE(model.compact(model.last_index()));
    REQUIRE(log.sync());  // removes the dead segments, the one s syncs among them
    CHECK_FALSE(std::filesystem::exists(dir.file(storage::detail::segment_name(seq))));
    auto after = log.begin_sync();
    REQUIRE(after);
    CHECK_FALSE(after->covers(*s));  // another segment
    CHECK(run_elsewhere(*s));        // its own descriptor: still a valid file to sync
    const stream_position durable = log.durable_position();
    REQUIRE(log.end_sync(*s, result<void>{}));
    CHECK(log.durable_position() == durable);  // it certifies nothing in the active segment
    REQUIRE(log.sync());
  }
  auto reopened = open_ok(dir.path(), small_options());
  CHECK(test::equals_model(reopened, model));
}

TEST_CASE(
    "file_log split sync: a failed fdatasync breaks the log until it is "
    "reopened") {
  test::scratch_dir dir{"quorum-split-fail"};
  auto log = open_ok(dir.path(), small_options());
  memory_log model;
  append_n(log, model, 2, 1);
  auto s = log.begin_sync();
  REQUIRE(s);
  const auto failed = log.end_sync(*s, unexpected{error{errc::io_error, "fdatasync", 5}});
  REQUIRE_FALSE(failed);
  CHECK(failed.error().code == errc::io_error);
  const auto next = log.append(make_record(7, 10));
  REQUIRE_FALSE(next);
  CHECK(next.error().code == errc::io_error);
  CHECK_FALSE(log.begin_sync());
  CHECK_FALSE(log.sync());
}
