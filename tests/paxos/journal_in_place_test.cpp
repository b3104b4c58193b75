// The journal over a Log whose records stay in place (memory_log makes the
// promise, core/log.hpp): the first write after a sync and every accepted run
// go to the Log at once, and the record cache views them there instead of
// copying. The same writes must read back, recover and compact exactly as
// over a Log that makes no promise (test_log), which copies.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cluster.hpp"
#include "quorum/storage/memory_log.hpp"

using namespace paxos_test;

namespace {

static_assert(journal<storage::memory_log>::in_place && !journal<test_log>::in_place);

entry at_slot(std::uint64_t s, ballot b, std::string_view v) {
  return entry{log_index{s}, b, entry_kind::normal, as_bytes(v)};
}

template <class L>
std::string value_of(journal<L>& j, std::uint64_t s) {
  auto e = j.read(log_index{s});
  REQUIRE(e.has_value());
  REQUIRE(e->slot == log_index{s});
  return std::string(as_chars(e->data));
}

// The same calls on any journal: single writes (after a sync and within a
// batch), runs whose values lie back to back and runs whose values do not,
// a re-accept at a higher ballot, learned values; returns the expected values.
template <class L>
std::vector<std::pair<std::uint64_t, std::string>> fill(journal<L>& j) {
  REQUIRE(j.sync());  // a recovered journal counts as written until its first sync
  REQUIRE(j.write(record_kind::accepted, at_slot(1, bal(1, 1), "one")));  // first since the sync
  REQUIRE(j.write(record_kind::accepted, at_slot(2, bal(1, 1), "two")));  // a batch: staged
  REQUIRE(j.write(record_kind::accepted, at_slot(3, bal(1, 1), "three")));
  REQUIRE(j.sync());
  const std::string joined = "fourfivesix";  // values back to back, as a message's often are
  const std::vector<entry> adjacent{entry{log_index{4}, bal(1, 1), entry_kind::normal, as_bytes(joined).subspan(0, 4)},
                                    entry{log_index{5}, bal(1, 1), entry_kind::noop, byte_view{}},
                                    entry{log_index{6}, bal(1, 1), entry_kind::normal, as_bytes(joined).subspan(4, 4)},
                                    entry{log_index{7}, bal(1, 1), entry_kind::normal, as_bytes(joined).subspan(8, 3)}};
  REQUIRE(j.write_run(record_kind::accepted, adjacent));
  const std::string a = "eight", b = "nine";  // two strings: not back to back
  const std::vector<entry> apart{at_slot(8, bal(2, 1), a), at_slot(9, bal(2, 1), b)};
  REQUIRE(j.write(record_kind::accepted, at_slot(10, bal(1, 1), "ten-old")));  // staged, then sealed by the run
  REQUIRE(j.write_run(record_kind::accepted, apart));
  REQUIRE(j.write(record_kind::accepted, at_slot(10, bal(2, 1), "ten")));  // a higher ballot wins
  REQUIRE(j.write(record_kind::chosen, at_slot(11, bal(2, 1), "eleven")));
  REQUIRE(j.sync());
  return {{1, "one"}, {2, "two"}, {3, "three"}, {4, "four"}, {5, ""},     {6, "five"},
          {7, "six"}, {8, "eight"}, {9, "nine"}, {10, "ten"}, {11, "eleven"}};
}

// A Log whose records stay in place but that does not say where it put one
// (no append(head, body, placed)): the journal reads each record back to view it.
struct unplaced_log : storage::memory_log {
  result<log_index> append(byte_view record) { return storage::memory_log::append(record); }
  result<log_index> append(byte_view head, byte_view body) { return storage::memory_log::append(head, body); }
};
static_assert(journal<unplaced_log>::in_place && !quorum::paxos::detail::appends_placed<unplaced_log> &&
              quorum::paxos::detail::appends_placed<storage::memory_log>);

}  // namespace

TEST_CASE("paxos journal in place: a Log that does not say where it placed a record is read back, to the same values") {
  for (std::size_t cache : {std::size_t{8} << 20, std::size_t{0}}) {
    CAPTURE(cache);
    journal<unplaced_log> j{unplaced_log{}, cache};
    REQUIRE(j.recover(1000));
    const auto want = fill(j);
    CHECK(j.policy().last_index() == log_index{7});  // the same records as over memory_log
    for (const auto& slot_value : want) {
      const std::uint64_t s = slot_value.first;
      CAPTURE(s);
      CHECK(value_of(j, s) == slot_value.second);
      if (cache != 0) CHECK(j.cached(log_index{s}).has_value());
    }
  }
}

TEST_CASE("paxos journal in place: the same writes read back, recover and compact as over a copying Log") {
  for (std::size_t cache : {std::size_t{8} << 20, std::size_t{0}}) {
    CAPTURE(cache);
    journal<storage::memory_log> j{storage::memory_log{}, cache};
    REQUIRE(j.recover(1000));
    disk d;
    journal<test_log> c{test_log{&d}, cache};
    REQUIRE(c.recover(1000));
    const auto want = fill(j);
    CHECK(fill(c) == want);
    // Slot 1 placed alone, 2-3 one staged run, 4-7 placed as one record, 10
    // at ballot 1 staged and sealed before 8-9 are placed, then 10 at ballot
    // 2 and 11 (another kind) staged as two runs: the order of the calls.
    CHECK(j.policy().last_index() == log_index{7});
    for (const auto& slot_value : want) {
      const std::uint64_t s = slot_value.first;
      const std::string& v = slot_value.second;
      CAPTURE(s);
      CHECK(value_of(j, s) == v);
      CHECK(value_of(c, s) == v);
      CHECK(j.at(log_index{s})->accepted == c.at(log_index{s})->accepted);
      if (cache != 0) CHECK(j.cached(log_index{s}).has_value());
    }
    CHECK(j.read(log_index{5})->kind == entry_kind::noop);
    CHECK(static_cast<bool>(j.at(log_index{11})->chosen));

    // A restart over the same records finds the same.
    journal<storage::memory_log> k{j.policy(), cache};
    REQUIRE(k.recover(1000));
    CHECK(k.known_end() == log_index{11});
    for (const auto& [s, v] : want) CHECK(value_of(k, s) == v);
    CHECK(k.at(log_index{10})->accepted == bal(2, 1));

    // Slots applied and chosen: views released; a compaction behind a
    // snapshot drops the rest, and what is left still reads from the Log.
    for (std::uint64_t s = 1; s <= 11; ++s) j.mark_chosen(log_index{s});
    CHECK(j.advance());
    j.applied_through(log_index{6});
    CHECK(value_of(j, 7) == "six");
    const log_index keep = j.needed_from(log_index{6});
    REQUIRE(j.policy().compact(keep));
    j.drop_through(log_index{6});
    for (std::uint64_t s = 7; s <= 11; ++s) CHECK(value_of(j, s) == want[s - 1].second);
    REQUIRE(j.write(record_kind::accepted, at_slot(12, bal(2, 1), "twelve")));
    CHECK(value_of(j, 12) == "twelve");
  }
}

TEST_CASE("paxos journal in place: a batch's writes wait in the open run, and every reader seals it first") {
  for (std::size_t cache : {std::size_t{8} << 20, std::size_t{0}}) {
    CAPTURE(cache);
    journal<storage::memory_log> j{storage::memory_log{}, cache};
    REQUIRE(j.recover(1000));
    REQUIRE(j.sync());
    // Values of 0, 3, 40 (two fixed moves), 100 and 300 bytes (a two-byte length in the run's head).
    const std::vector<std::string> values{"first", "", "abc", std::string(40, 'x'), std::string(100, 'y'),
                                          std::string(300, 'z'), "last"};
    for (std::size_t i = 0; i < values.size(); ++i)
      REQUIRE(j.write(record_kind::accepted, at_slot(i + 1, bal(1, 1), values[i])));
    CHECK(j.policy().last_index() == log_index{1});  // the first placed at once, the rest staged
    CHECK(j.known_end() == log_index{values.size()});
    CHECK_FALSE(j.cached(log_index{3}).has_value());  // the cache only views the Log

    // A leader collects the batch for its accepts: the run is sealed, one record.
    entry_batch out;
    REQUIRE(j.collect_range(log_index{1}, log_index{values.size()}, out, 64, std::size_t{1} << 20, bal(1, 1),
                            [](log_index) { return false; }));
    CHECK(j.policy().last_index() == log_index{2});
    REQUIRE(out.views().size() == values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      CAPTURE(i);
      CHECK(out.views()[i].slot == log_index{i + 1});
      CHECK(std::string(as_chars(out.views()[i].data)) == values[i]);
      if (cache != 0) CHECK(j.cached(log_index{i + 1}).has_value());
    }

    // read() of a staged slot seals too, and the cache views the record.
    REQUIRE(j.write(record_kind::accepted, at_slot(8, bal(1, 1), "eight")));
    REQUIRE(j.write(record_kind::accepted, at_slot(9, bal(1, 1), std::string(200, 'n'))));
    CHECK(j.policy().last_index() == log_index{2});
    CHECK(value_of(j, 9) == std::string(200, 'n'));
    CHECK(j.policy().last_index() == log_index{3});
    CHECK(value_of(j, 8) == "eight");

    // The same records recover to the same values.
    REQUIRE(j.sync());
    journal<storage::memory_log> k{j.policy(), cache};
    REQUIRE(k.recover(1000));
    CHECK(k.known_end() == log_index{9});
    for (std::size_t i = 0; i < values.size(); ++i) CHECK(value_of(k, i + 1) == values[i]);
    CHECK(value_of(k, 9) == std::string(200, 'n'));
  }
}
