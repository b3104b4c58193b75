// The Log concept's semantics (core/log.hpp), checked on every model with the
// same cases: memory_log, file_log and the simulator's sim_log. For file_log
// each case also reopens the log and checks that the recovered log is the
// same (sim_log: a crash after the sync keeps it whole). The optional
// append_run is checked on every model that has it.
#include <doctest/doctest.h>

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "quorum/core/random.hpp"
#include "quorum/sim/disk.hpp"
#include "quorum/storage.hpp"
#include "storage_test_util.hpp"

namespace {

using namespace quorum;
using namespace quorum::storage;
using quorum::storage::test::make_record;
using quorum::storage::test::same;

constexpr std::size_t max_record = 1024;
constexpr std::size_t max_state = 256;

struct memory_subject {
  memory_log model{memory_log_options{max_record, max_state}};
  memory_log& log() { return model; }
  void reopen() {}
};

struct file_subject {
  test::scratch_dir dir{"quorum-conformance"};
  file_log_options options = [] {
    file_log_options o;
    o.segment_bytes = 512;  // several segments even in small cases
    o.max_record_bytes = max_record;
    o.max_state_bytes = max_state;
    return o;
  }();
  std::optional<file_log> opened = open();

  std::optional<file_log> open() {
    auto r = file_log::open(dir.path(), options);
    REQUIRE_MESSAGE(r.has_value(), (r ? std::string{} : r.error().message));
    return std::optional<file_log>{std::move(*r)};
  }
  file_log& log() { return *opened; }
  void reopen() {
    REQUIRE(opened->sync());
    opened.reset();  // releases the directory lock
    opened = open();
  }
};

struct sim_subject {
  sim::sim_disk disk{sim::disk_options{.max_record_bytes = max_record, .max_state_bytes = max_state}};
  sim::sim_log handle{disk};
  seeded_random rng{7};
  sim::sim_log& log() { return handle; }
  void reopen() {
    REQUIRE(handle.sync());
    disk.crash(rng);  // nothing unsynced: nothing lost
    handle = sim::sim_log{disk};
  }
};

template <class Subject>
void check_records(Subject& s, std::uint64_t first, std::uint64_t last, std::uint64_t seed_base) {
  CHECK(s.log().first_index() == log_index{first});
  CHECK(s.log().last_index() == log_index{last});
  for (std::uint64_t i = first; i <= last; ++i) {
    auto r = s.log().read(log_index{i});
    REQUIRE(r.has_value());
    CHECK(same(*r, make_record(seed_base + i, i * 7 % 300)));
  }
}

template <class Subject>
void append_range(Subject& s, std::uint64_t from, std::uint64_t to, std::uint64_t seed_base) {
  for (std::uint64_t i = from; i <= to; ++i) {
    auto r = s.log().append(make_record(seed_base + i, i * 7 % 300));
    REQUIRE(r.has_value());
    CHECK(*r == log_index{i});
  }
}

}  // namespace

TEST_CASE_TEMPLATE("log conformance: a new log is empty", S, memory_subject, file_subject, sim_subject) {
  S s;
  for (int round = 0; round < 2; ++round) {
    CHECK(s.log().first_index() == log_index{1});
    CHECK(s.log().last_index() == log_index{0});
    CHECK(s.log().state().empty());
    CHECK(s.log().read(log_index{0}).error().code == errc::out_of_range);
    CHECK(s.log().read(log_index{1}).error().code == errc::out_of_range);
    s.reopen();
  }
}

TEST_CASE_TEMPLATE("log conformance: append and read back, across reopen", S, memory_subject, file_subject,
                   sim_subject) {
  S s;
  append_range(s, 1, 40, 100);
  CHECK(s.log().read(log_index{41}).error().code == errc::out_of_range);
  check_records(s, 1, 40, 100);
  s.reopen();
  check_records(s, 1, 40, 100);
  append_range(s, 41, 60, 100);  // appending continues after a reopen
  s.reopen();
  check_records(s, 1, 60, 100);
}

TEST_CASE_TEMPLATE("log conformance: empty records and records at the size limit", S, memory_subject, file_subject,
                   sim_subject) {
  S s;
  const auto big = make_record(7, max_record);
  CHECK(*s.log().append({}) == log_index{1});
  CHECK(*s.log().append(big) == log_index{2});
  const auto over = s.log().append(make_record(8, max_record + 1));
  REQUIRE_FALSE(over.has_value());
  CHECK(over.error().code == errc::too_large);
  CHECK(s.log().last_index() == log_index{2});  // the refused record left no trace
  s.reopen();
  CHECK(s.log().last_index() == log_index{2});
  CHECK(s.log().read(log_index{1})->empty());
  CHECK(same(*s.log().read(log_index{2}), big));
}

TEST_CASE_TEMPLATE("log conformance: truncate drops a suffix", S, memory_subject, file_subject, sim_subject) {
  S s;
  append_range(s, 1, 30, 0);
  CHECK(s.log().truncate(log_index{31}).has_value());  // last + 1: nothing to drop
  CHECK(s.log().truncate(log_index{32}).error().code == errc::out_of_range);
  CHECK(s.log().truncate(log_index{0}).error().code == errc::out_of_range);
  REQUIRE(s.log().truncate(log_index{21}));
  CHECK(s.log().last_index() == log_index{20});
  CHECK(s.log().read(log_index{21}).error().code == errc::out_of_range);
  append_range(s, 21, 25, 1000);  // rewritten positions carry the new records
  s.reopen();
  CHECK(s.log().last_index() == log_index{25});
  for (std::uint64_t i = 1; i <= 20; ++i) CHECK(same(*s.log().read(log_index{i}), make_record(i, i * 7 % 300)));
  for (std::uint64_t i = 21; i <= 25; ++i) CHECK(same(*s.log().read(log_index{i}), make_record(1000 + i, i * 7 % 300)));
  REQUIRE(s.log().truncate(log_index{1}));
  s.reopen();
  CHECK(s.log().first_index() == log_index{1});
  CHECK(s.log().last_index() == log_index{0});
}

TEST_CASE_TEMPLATE("log conformance: compact drops a prefix", S, memory_subject, file_subject, sim_subject) {
  S s;
  append_range(s, 1, 30, 0);
  REQUIRE(s.log().compact(log_index{11}));
  check_records(s, 11, 30, 0);
  CHECK(s.log().read(log_index{10}).error().code == errc::out_of_range);
  REQUIRE(s.log().compact(log_index{5}));  // below first_index: no-op
  CHECK(s.log().first_index() == log_index{11});
  CHECK(s.log().truncate(log_index{10}).error().code == errc::out_of_range);
  s.reopen();
  check_records(s, 11, 30, 0);
  REQUIRE(s.log().compact(log_index{31}));  // exactly past the last: empty
  CHECK(s.log().first_index() == log_index{31});
  CHECK(s.log().last_index() == log_index{30});
  s.reopen();
  CHECK(s.log().first_index() == log_index{31});
  CHECK(s.log().last_index() == log_index{30});
}

TEST_CASE_TEMPLATE("log conformance: compact past the end restarts the log there", S, memory_subject, file_subject,
                   sim_subject) {
  S s;
  append_range(s, 1, 12, 0);
  REQUIRE(s.log().compact(log_index{100}));
  CHECK(s.log().first_index() == log_index{100});
  CHECK(s.log().last_index() == log_index{99});
  CHECK(s.log().read(log_index{12}).error().code == errc::out_of_range);
  s.reopen();
  CHECK(s.log().first_index() == log_index{100});
  CHECK(*s.log().append(make_record(1, 10)) == log_index{100});
  s.reopen();
  CHECK(s.log().first_index() == log_index{100});
  CHECK(s.log().last_index() == log_index{100});
  CHECK(same(*s.log().read(log_index{100}), make_record(1, 10)));
}

TEST_CASE_TEMPLATE("log conformance: hard state is replaced whole", S, memory_subject, file_subject, sim_subject) {
  S s;
  REQUIRE(s.log().save_state(as_bytes("term=3 vote=2")));
  append_range(s, 1, 5, 0);
  REQUIRE(s.log().save_state(as_bytes("term=4 vote=1")));
  CHECK(as_chars(s.log().state()) == "term=4 vote=1");
  const auto over = s.log().save_state(make_record(1, max_state + 1));
  REQUIRE_FALSE(over.has_value());
  CHECK(over.error().code == errc::too_large);
  CHECK(as_chars(s.log().state()) == "term=4 vote=1");
  s.reopen();
  CHECK(as_chars(s.log().state()) == "term=4 vote=1");
  REQUIRE(s.log().save_state(s.log().state().subspan(0, 6)));  // a view of itself
  CHECK(as_chars(s.log().state()) == "term=4");
  REQUIRE(s.log().save_state({}));
  s.reopen();
  CHECK(s.log().state().empty());
  check_records(s, 1, 5, 0);
}

TEST_CASE_TEMPLATE("log conformance: a record read back can be appended again", S, memory_subject, file_subject,
                   sim_subject) {
  S s;
  append_range(s, 1, 3, 0);
  auto view = s.log().read(log_index{2});
  REQUIRE(view.has_value());
  REQUIRE(s.log().append(*view));
  s.reopen();
  CHECK(same(*s.log().read(log_index{4}), make_record(2, 14)));
}

TEST_CASE_TEMPLATE("log conformance: sync is counted", S, memory_subject, file_subject) {
  S s;
  const auto before = s.log().sync_count();
  append_range(s, 1, 3, 0);
  REQUIRE(s.log().sync());
  REQUIRE(s.log().sync());
  CHECK(s.log().sync_count() == before + 2);
}

// append_run: the same as append(head joined with body) for each record in
// turn, one position each, the last one returned; nothing appended on an error.
namespace {

// Record i (of seed_base) split at a size-dependent point, so heads of every
// length (empty ones too) and empty bodies occur.
struct split_run {
  std::vector<byte_buffer> records;
  std::vector<record_parts> parts;
  split_run(std::uint64_t from, std::uint64_t to, std::uint64_t seed_base) {
    for (std::uint64_t i = from; i <= to; ++i) records.push_back(make_record(seed_base + i, i * 7 % 300));
    for (const byte_buffer& r : records) {
      const std::size_t cut = r.empty() ? 0 : (r.size() * 5 + 3) % (r.size() + 1);
      parts.push_back(record_parts{byte_view{r}.first(cut), byte_view{r}.subspan(cut)});
    }
  }
};

template <class Subject>
void append_run_range(Subject& s, std::uint64_t from, std::uint64_t to, std::uint64_t seed_base) {
  const split_run run{from, to, seed_base};
  auto r = s.log().append_run(std::span<const record_parts>{run.parts});
  REQUIRE(r.has_value());
  CHECK(*r == log_index{to});
}

}  // namespace

TEST_CASE_TEMPLATE("log conformance: append_run is the records appended in turn, across reopen", S, memory_subject,
                   file_subject, sim_subject) {
  S s;
  append_run_range(s, 1, 1, 100);   // a run of one
  append_range(s, 2, 5, 100);       // mixed with single appends
  append_run_range(s, 6, 40, 100);  // file_log: across several 512-byte segments
  check_records(s, 1, 40, 100);
  s.reopen();
  check_records(s, 1, 40, 100);
  append_run_range(s, 41, 60, 100);
  REQUIRE(s.log().truncate(log_index{50}));  // a run's records are records like any other
  append_run_range(s, 50, 55, 100);
  s.reopen();
  check_records(s, 1, 55, 100);
}

TEST_CASE_TEMPLATE("log conformance: a run with one record over the limit appends none", S, memory_subject,
                   file_subject, sim_subject) {
  S s;
  append_range(s, 1, 3, 0);
  const byte_buffer ok = make_record(1, 10), big = make_record(2, max_record);
  const record_parts parts[] = {{ok, {}}, {byte_view{big}.first(1), byte_view{big}}, {{}, ok}};
  const auto over = s.log().append_run(std::span<const record_parts>{parts});
  REQUIRE_FALSE(over.has_value());
  CHECK(over.error().code == errc::too_large);
  CHECK(s.log().last_index() == log_index{3});
  s.reopen();
  check_records(s, 1, 3, 0);
  // Exactly at the limit, split in two, is fine.
  const record_parts at_limit[] = {{byte_view{big}.first(5), byte_view{big}.subspan(5)}, {{}, {}}};
  CHECK(*s.log().append_run(std::span<const record_parts>{at_limit}) == log_index{5});
  s.reopen();
  CHECK(same(*s.log().read(log_index{4}), big));
  CHECK(s.log().read(log_index{5})->empty());
}

TEST_CASE_TEMPLATE("log conformance: a run may view the log's own records", S, memory_subject, file_subject,
                   sim_subject) {
  S s;
  append_range(s, 1, 3, 0);
  // The view of a read is valid until the next non-const call: copy all but the last.
  auto first = s.log().read(log_index{1});
  REQUIRE(first.has_value());
  const byte_buffer one{first->begin(), first->end()};
  auto view = s.log().read(log_index{3});
  REQUIRE(view.has_value());
  const record_parts parts[] = {{byte_view{one}.first(2), *view}, {*view, {}}};
  REQUIRE(*s.log().append_run(std::span<const record_parts>{parts}) == log_index{5});
  byte_buffer joined{one.begin(), one.begin() + 2};
  const byte_buffer three = make_record(3, 21);
  joined.insert(joined.end(), three.begin(), three.end());
  s.reopen();
  CHECK(same(*s.log().read(log_index{4}), joined));
  CHECK(same(*s.log().read(log_index{5}), three));
}
