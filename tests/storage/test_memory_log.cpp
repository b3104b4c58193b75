// memory_log specifics: compaction gives memory back, reads stay right while
// the arena is reclaimed, and the position space is bounded.
#include <doctest/doctest.h>

#include "quorum/storage/memory_log.hpp"
#include "storage_test_util.hpp"

using namespace quorum;
using namespace quorum::storage;

TEST_CASE("memory_log: reclaiming compacted records keeps every live record intact") {
  memory_log log;
  for (std::uint64_t i = 1; i <= 5000; ++i) {
    REQUIRE(*log.append(test::make_record(i, i % 97)) == log_index{i});
    if (i % 100 == 0) REQUIRE(log.compact(log_index{i - 50}));
  }
  CHECK(log.first_index() == log_index{4950});
  for (std::uint64_t i = 4950; i <= 5000; ++i) CHECK(test::same(*log.read(log_index{i}), test::make_record(i, i % 97)));
  std::size_t expect = 0;
  for (std::uint64_t i = 4950; i <= 5000; ++i) expect += i % 97;
  CHECK(log.live_bytes() == expect);
}

TEST_CASE("memory_log: compacting everything frees the arena") {
  memory_log log;
  for (int i = 0; i < 1000; ++i) REQUIRE(log.append(test::make_record(1, 1000)));
  REQUIRE(log.compact(log_index{2000}));
  CHECK(log.live_bytes() == 0);
  CHECK(*log.append(as_bytes("a")) == log_index{2000});
}

TEST_CASE("memory_log: the position space ends with an error, not a wrap") {
  memory_log log;
  REQUIRE(log.compact(log_index{~std::uint64_t{0}}));
  CHECK(*log.append(as_bytes("last")) == log_index{~std::uint64_t{0}});
  CHECK(log.append(as_bytes("more")).error().code == errc::out_of_range);
}
