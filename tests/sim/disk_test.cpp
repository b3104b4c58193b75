// sim_disk / sim_log: the Log semantics, and crash behaviour exactly as a real
// checksummed file log allows: everything synced survives, and of the unsynced
// calls at most a prefix, in call order; never anything invented.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "quorum/core/log.hpp"
#include "quorum/sim/disk.hpp"

using quorum::as_bytes;
using quorum::as_chars;
using quorum::errc;
using quorum::log_index;
using quorum::seeded_random;
using quorum::sim::disk_image;
using quorum::sim::sim_disk;
using quorum::sim::sim_log;

namespace {

std::vector<std::string> contents(const disk_image& img) {
  std::vector<std::string> out;
  for (const auto& r : img.records) out.emplace_back(as_chars(r));
  return out;
}

std::string read(sim_log& log, std::uint64_t i) {
  auto r = log.read(log_index{i});
  REQUIRE(r.has_value());
  return std::string{as_chars(*r)};
}

}  // namespace

TEST_CASE("sim_log models quorum::Log with its semantics table") {
  static_assert(quorum::check_log<sim_log>());
  sim_disk disk;
  sim_log log{disk};
  CHECK(log.first_index() == log_index{1});
  CHECK(log.last_index() == log_index{0});
  CHECK(log.append(as_bytes("a")).value() == log_index{1});
  CHECK(log.append(as_bytes("b")).value() == log_index{2});
  CHECK(log.append(as_bytes("c")).value() == log_index{3});
  CHECK(read(log, 2) == "b");
  CHECK(log.read(log_index{0}).error().code == errc::out_of_range);
  CHECK(log.read(log_index{4}).error().code == errc::out_of_range);

  REQUIRE(log.truncate(log_index{3}));
  CHECK(log.last_index() == log_index{2});
  CHECK(log.truncate(log_index{5}).error().code == errc::out_of_range);
  CHECK(log.append(as_bytes("c2")).value() == log_index{3});

  REQUIRE(log.compact(log_index{2}));
  CHECK(log.first_index() == log_index{2});
  CHECK(log.read(log_index{1}).error().code == errc::out_of_range);
  CHECK(read(log, 2) == "b");
  CHECK(log.truncate(log_index{1}).error().code == errc::out_of_range);

  // Compacting past the end empties the log; the next append lands there.
  REQUIRE(log.compact(log_index{10}));
  CHECK(log.first_index() == log_index{10});
  CHECK(log.last_index() == log_index{9});
  CHECK(log.append(as_bytes("j")).value() == log_index{10});

  CHECK(log.state().empty());
  REQUIRE(log.save_state(as_bytes("term=3")));
  CHECK(as_chars(log.state()) == "term=3");
  CHECK(disk.counters().appends == 5);
}

TEST_CASE("sim_log enforces its limits with clear errors") {
  quorum::sim::disk_options o;
  o.max_record_bytes = 4;
  o.max_state_bytes = 2;
  o.max_records = 2;
  sim_disk disk{o};
  sim_log log{disk};
  CHECK(log.append(as_bytes("12345")).error().code == errc::too_large);
  CHECK(log.save_state(as_bytes("abc")).error().code == errc::too_large);
  REQUIRE(log.append(as_bytes("1")));
  REQUIRE(log.append(as_bytes("2")));
  CHECK(log.append(as_bytes("3")).error().code == errc::too_large);
  CHECK(log.last_index() == log_index{2});
}

TEST_CASE("sim_disk keeps synced data across a crash and loses all unsynced calls when none survive") {
  sim_disk disk;
  {
    sim_log log{disk};
    REQUIRE(log.append(as_bytes("a")));
    REQUIRE(log.append(as_bytes("b")));
    REQUIRE(log.save_state(as_bytes("s1")));
    REQUIRE(log.sync());
    REQUIRE(log.append(as_bytes("c")));
    REQUIRE(log.truncate(log_index{2}));
    REQUIRE(log.save_state(as_bytes("s2")));
    CHECK(disk.unsynced_calls() == 3);
  }
  // Find a crash that keeps nothing unsynced: the generator's first draw decides.
  for (std::uint64_t seed = 0;; ++seed) {
    sim_disk copy = disk;
    seeded_random rng{seed};
    copy.crash(rng);
    if (copy.counters().lost_calls != 3) continue;
    sim_log log{copy};
    CHECK(contents(copy.current()) == std::vector<std::string>{"a", "b"});
    CHECK(as_chars(log.state()) == "s1");
    CHECK(log.last_index() == log_index{2});
    break;
  }
}

TEST_CASE("sim_disk crash keeps exactly a prefix of the unsynced calls, in order") {
  // The states after each prefix of the unsynced calls: the only legal outcomes.
  const std::vector<std::vector<std::string>> legal = {
      {"a", "b"}, {"a", "b", "c"}, {"a", "b", "c", "d"}, {"a", "b", "c"}, {"a", "b", "c", "e"}};
  std::vector<int> seen(legal.size(), 0);
  std::uint64_t torn = 0;
  for (std::uint64_t seed = 1; seed <= 400; ++seed) {
    sim_disk disk;
    sim_log log{disk};
    REQUIRE(log.append(as_bytes("a")));
    REQUIRE(log.append(as_bytes("b")));
    REQUIRE(log.sync());
    REQUIRE(log.append(as_bytes("c")));
    REQUIRE(log.append(as_bytes("d")));
    REQUIRE(log.truncate(log_index{4}));
    REQUIRE(log.append(as_bytes("e")));
    seeded_random rng{seed};
    disk.crash(rng);
    const std::size_t kept = 4 - disk.counters().lost_calls;
    REQUIRE(kept < legal.size());
    CHECK(contents(disk.current()) == legal[kept]);
    CHECK(contents(disk.durable()) == legal[kept]);
    CHECK(disk.unsynced_calls() == 0);
    ++seen[kept];
    torn += disk.counters().torn_writes;
    // The recovered log is a working log again.
    REQUIRE(log.append(as_bytes("z")));
    CHECK(read(log, log.last_index().value()) == "z");
  }
  for (std::size_t k = 0; k < seen.size(); ++k) CHECK_MESSAGE(seen[k] > 30, "prefix ", k);
  CHECK(torn > 0);
}

TEST_CASE("sim_disk: compaction and hard state are journaled like appends") {
  int lost_compact = 0;
  int kept_compact = 0;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    sim_disk disk;
    sim_log log{disk};
    for (const char* v : {"1", "2", "3"}) REQUIRE(log.append(as_bytes(v)));
    REQUIRE(log.save_state(as_bytes("old")));
    REQUIRE(log.sync());
    REQUIRE(log.compact(log_index{3}));
    REQUIRE(log.save_state(as_bytes("new")));
    seeded_random rng{seed};
    disk.crash(rng);
    const auto lost = disk.counters().lost_calls;
    if (lost == 2) {
      ++lost_compact;
      CHECK(log.first_index() == log_index{1});
      CHECK(as_chars(log.state()) == "old");
    } else {
      ++kept_compact;
      CHECK(log.first_index() == log_index{3});
      CHECK(read(log, 3) == "3");
      CHECK(as_chars(log.state()) == (lost == 0 ? "new" : "old"));
    }
    CHECK(disk.counters().syncs == 1);
  }
  CHECK(lost_compact > 0);
  CHECK(kept_compact > 0);
}
