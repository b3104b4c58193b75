// memory_log specifics: compaction gives memory back, reads stay right while
// the arena is reclaimed, the position space is bounded, a run appended at
// once equals its records appended one by one, and copies are independent.
#include <doctest/doctest.h>

#include <algorithm>
#include <span>
#include <utility>
#include <vector>

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

TEST_CASE("memory_log: live_bytes sums the live records through appends, runs, truncations and compactions") {
  // Compaction counts the bytes it drops per block, not per record: records
  // of every size (past a block's free room and past a whole block), runs,
  // and cuts at the tail check that it still agrees with the records.
  memory_log log;
  std::uint64_t rng = 12345;
  const auto next = [&](std::uint64_t n) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (rng >> 33) % n;
  };
  const auto sum_of_sizes = [&] {
    std::size_t sum = 0;
    for (log_index i = log.first_index(); i <= log.last_index(); i = i.next()) sum += log.read(i)->size();
    return sum;
  };
  for (int step = 0; step < 3000; ++step) {
    CAPTURE(step);
    switch (next(8)) {
      case 0: {  // a run of small records
        std::vector<byte_buffer> bodies;
        for (std::uint64_t k = 0, n = 1 + next(40); k < n; ++k) bodies.push_back(test::make_record(k, next(200)));
        std::vector<record_parts> parts;
        for (const auto& b : bodies) parts.push_back(record_parts{byte_view{}, b});
        REQUIRE(log.append_run(std::span<const record_parts>{parts}));
        break;
      }
      case 1:  // now and then a record past a block's size
        REQUIRE(log.append(test::make_record(1, next(4) == 0 ? memory_log::block_bytes + next(1000) : next(20000))));
        break;
      case 2:
        if (const std::uint64_t held = log.last_index().value() + 1 - log.first_index().value(); held > 0)
          REQUIRE(log.truncate(log.last_index() - next(std::min<std::uint64_t>(5, held))));
        break;
      case 3:
      case 4: {
        const std::uint64_t held = log.last_index().value() + 1 - log.first_index().value();
        REQUIRE(log.compact(log.first_index() + next(held + 1)));
        break;
      }
      default: REQUIRE(log.append(test::make_record(2, next(300)))); break;
    }
    REQUIRE(log.live_bytes() == sum_of_sizes());
  }
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

TEST_CASE("memory_log: a run of records appended at once is the same as each appended alone") {
  memory_log run, one;
  std::vector<byte_buffer> heads, bodies;
  for (std::uint64_t i = 1; i <= 300; ++i) {
    heads.push_back(test::make_record(i, i % 3));           // empty heads too
    bodies.push_back(test::make_record(1000 + i, i % 211));  // and empty bodies
  }
  std::vector<record_parts> parts;
  for (std::size_t k = 0; k < heads.size(); ++k) parts.push_back(record_parts{heads[k], bodies[k]});
  // In runs of several lengths, so that the arena grows inside a run and between runs.
  std::size_t at = 0;
  for (std::size_t len : {1u, 7u, 64u, 100u, 128u}) {
    auto last = run.append_run(std::span<const record_parts>{parts}.subspan(at, len));
    REQUIRE(last.has_value());
    CHECK(*last == log_index{at + len});
    at += len;
  }
  for (std::size_t k = 0; k < heads.size(); ++k) REQUIRE(one.append(heads[k], bodies[k]));
  REQUIRE(run.last_index() == log_index{300});
  for (std::uint64_t i = 1; i <= 300; ++i) CHECK(test::same(*run.read(log_index{i}), *one.read(log_index{i})));
  CHECK(run.live_bytes() == one.live_bytes());
  // Truncating and compacting treat run-appended records like any other.
  REQUIRE(run.truncate(log_index{151}));
  REQUIRE(run.compact(log_index{100}));
  CHECK(run.first_index() == log_index{100});
  CHECK(run.last_index() == log_index{150});
  for (std::uint64_t i = 100; i <= 150; ++i) CHECK(test::same(*run.read(log_index{i}), *one.read(log_index{i})));
}

TEST_CASE("memory_log: a run with one record over the limit appends none of them") {
  memory_log log{memory_log_options{16, 64}};
  REQUIRE(log.append(as_bytes("kept")));
  const byte_buffer small = test::make_record(1, 8), large = test::make_record(2, 12);
  const std::vector<record_parts> parts{{small, small}, {small, large}, {small, {}}};  // the second is 20 bytes
  auto r = log.append_run(std::span<const record_parts>{parts});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::too_large);
  CHECK(log.last_index() == log_index{1});
  CHECK(log.live_bytes() == 4);
  CHECK(*log.append(as_bytes("next")) == log_index{2});
}

TEST_CASE("memory_log: a run viewing the log's own records is copied before the arena grows") {
  memory_log log;
  const byte_buffer big = test::make_record(9, 3000);
  REQUIRE(log.append(big));  // near the arena's first capacity: the run below makes it grow
  REQUIRE(log.append(as_bytes("hd")));
  const std::vector<record_parts> parts{{*log.read(log_index{2}), *log.read(log_index{1})},
                                        {byte_view{}, *log.read(log_index{1})}};
  REQUIRE(*log.append_run(std::span<const record_parts>{parts}) == log_index{4});
  byte_buffer joined = test::make_record(0, 0);
  joined.insert(joined.end(), {std::byte{'h'}, std::byte{'d'}});
  joined.insert(joined.end(), big.begin(), big.end());
  CHECK(test::same(*log.read(log_index{3}), joined));
  CHECK(test::same(*log.read(log_index{4}), big));
}

TEST_CASE("memory_log: a copy holds the same records and is independent of the original") {
  memory_log a;
  for (std::uint64_t i = 1; i <= 100; ++i) REQUIRE(a.append(test::make_record(i, i % 50)));
  memory_log b = a;
  REQUIRE(a.append(as_bytes("only in a")));
  REQUIRE(b.truncate(log_index{51}));
  REQUIRE(b.append(as_bytes("only in b")));
  CHECK(a.last_index() == log_index{101});
  CHECK(b.last_index() == log_index{51});
  for (std::uint64_t i = 1; i <= 100; ++i) CHECK(test::same(*a.read(log_index{i}), test::make_record(i, i % 50)));
  for (std::uint64_t i = 1; i <= 50; ++i) CHECK(test::same(*b.read(log_index{i}), test::make_record(i, i % 50)));
  CHECK(test::same(*b.read(log_index{51}), as_bytes("only in b")));
  memory_log c;
  c = b;  // assignment too
  CHECK(test::same(*c.read(log_index{51}), as_bytes("only in b")));
  memory_log d = std::move(c);
  CHECK(d.last_index() == log_index{51});
  CHECK(test::same(*d.read(log_index{7}), test::make_record(7, 7)));
}

TEST_CASE("memory_log: placed runs across ref pages and blocks read back as appended one by one") {
  // 3,000 records of up to 200 bytes: runs cross the ref table's pages (1,024
  // positions) and the 64 KiB blocks, inside a run and between runs.
  memory_log run, one;
  std::vector<byte_buffer> heads, bodies;
  for (std::uint64_t i = 1; i <= 3000; ++i) {
    heads.push_back(test::make_record(i, 2 + i % 2));
    bodies.push_back(test::make_record(7000 + i, i % 201));
  }
  std::vector<record_parts> parts;
  for (std::size_t k = 0; k < heads.size(); ++k) parts.push_back(record_parts{heads[k], bodies[k]});
  std::vector<byte_view> placed(parts.size());
  std::size_t at = 0;
  for (std::size_t len = 1; at < parts.size(); len = len * 3 % 1000 + 1) {
    len = std::min(len, parts.size() - at);
    auto last = run.append_run(std::span<const record_parts>{parts}.subspan(at, len),
                               std::span<byte_view>{placed}.subspan(at, len));
    REQUIRE(last.has_value());
    CHECK(*last == log_index{at + len});
    at += len;
  }
  for (std::size_t k = 0; k < parts.size(); ++k) {
    byte_view where;
    REQUIRE(*one.append(heads[k], bodies[k], where) == log_index{k + 1});
    REQUIRE(where.data() == one.read(log_index{k + 1})->data());  // placed: what read() gives
    REQUIRE(where.size() == one.read(log_index{k + 1})->size());
  }
  for (std::uint64_t i = 1; i <= 3000; ++i) {
    CAPTURE(i);
    const byte_view r = *run.read(log_index{i});
    REQUIRE(test::same(r, *one.read(log_index{i})));
    REQUIRE(placed[i - 1].data() == r.data());
    REQUIRE(placed[i - 1].size() == r.size());
  }
  CHECK(run.live_bytes() == one.live_bytes());
}

TEST_CASE("memory_log: a run over the limit appends none of it, in the block it fits or past it") {
  // No block yet, a block with room for the whole run, one the run outgrows.
  for (const std::size_t filler : {std::size_t{0}, std::size_t{10}, memory_log::block_bytes - 100}) {
    CAPTURE(filler);
    memory_log log{memory_log_options{memory_log::block_bytes, 64}};
    if (filler > 0) REQUIRE(log.append(test::make_record(1, filler)));
    const log_index before = log.last_index();
    const std::size_t bytes = log.live_bytes();
    const byte_buffer small = test::make_record(2, 40), over = test::make_record(3, memory_log::block_bytes);
    std::vector<record_parts> parts(5, record_parts{small, small});
    parts.push_back(record_parts{small, over});  // its head takes it over the limit
    std::vector<byte_view> placed(parts.size());
    auto r = log.append_run(std::span<const record_parts>{parts}, std::span<byte_view>{placed});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == errc::too_large);
    CHECK(log.last_index() == before);
    CHECK(log.live_bytes() == bytes);
    // The log goes on where it was: the failed run left nothing behind.
    parts.pop_back();
    REQUIRE(*log.append_run(std::span<const record_parts>{parts}) == before + 5);
    for (std::uint64_t k = 1; k <= 5; ++k) CHECK(log.read(before + k)->size() == 80);
  }
}

TEST_CASE("memory_log: a record appended from gathered pieces is the same as the pieces joined") {
  // Pieces of every size copy_bytes() treats apart (empty, short, 16-32,
  // 33-64, longer), in a fresh block and in one the record outgrows.
  for (const std::size_t filler : {std::size_t{0}, memory_log::block_bytes - 300}) {
    CAPTURE(filler);
    memory_log log;
    memory_log joined_log;
    if (filler > 0) {
      REQUIRE(log.append(test::make_record(1, filler)));
      REQUIRE(joined_log.append(test::make_record(1, filler)));
    }
    std::vector<byte_buffer> pieces;
    for (const std::size_t n : {std::size_t{0}, std::size_t{5}, std::size_t{16}, std::size_t{31}, std::size_t{33},
                                std::size_t{64}, std::size_t{65}, std::size_t{200}})
      pieces.push_back(test::make_record(n + 7, n));
    const byte_buffer head = test::make_record(99, 6);
    byte_buffer body;
    for (const byte_buffer& p : pieces) body.insert(body.end(), p.begin(), p.end());
    byte_view placed;
    auto at = log.append_gathered(byte_view{head}, pieces.size(), body.size(),
                                  [&](std::size_t k) { return byte_view{pieces[k]}; }, placed);
    REQUIRE(at.has_value());
    REQUIRE(*joined_log.append(byte_view{head}, byte_view{body}) == *at);
    CHECK(test::same(*log.read(*at), *joined_log.read(*at)));
    CHECK(placed.data() == log.read(*at)->data());
    CHECK(placed.size() == head.size() + body.size());
    CHECK(log.live_bytes() == joined_log.live_bytes());
    // The next record goes on after it.
    CHECK(*log.append(as_bytes("next")) == *at + 1);
    CHECK(test::same(*log.read(*at), *joined_log.read(*at)));
  }
}

TEST_CASE("memory_log: a gathered record over the limit appends nothing") {
  memory_log log{memory_log_options{32, 64}};
  REQUIRE(log.append(as_bytes("kept")));
  const byte_buffer piece = test::make_record(1, 20);
  byte_view placed;
  auto r = log.append_gathered(as_bytes("head"), 2, 2 * piece.size(), [&](std::size_t) { return byte_view{piece}; },
                               placed);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::too_large);
  CHECK(log.last_index() == log_index{1});
  CHECK(log.live_bytes() == 4);
  CHECK(*log.append(as_bytes("next")) == log_index{2});
}
