// The journal's slot index: slots chosen and applied are folded into
// stretches (a run of slots in one record, or in consecutive one-slot
// records), and every question the index answers (at, read, cached,
// needed_from, drop_through) gives what it gave per slot before the fold.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "cluster.hpp"
#include "quorum/core/random.hpp"

using namespace paxos_test;

namespace {

using test_journal = journal<test_log>;
using slot_state = test_journal::slot_state;

struct fixture {
  disk d;
  test_journal j{test_log{&d}};
  std::vector<std::string> values;  // values[s]: slot s's value, kept alive for the views

  fixture() {
    REQUIRE(j.recover(1 << 20));
    values.resize(1000);
    for (std::size_t s = 0; s < values.size(); ++s) values[s] = "value-" + std::to_string(s);
  }

  entry at(std::uint64_t s, ballot b) { return entry{log_index{s}, b, entry_kind::normal, as_bytes(values[s])}; }

  // Slots first..last at b as runs of `run` slots (1: one record each).
  void accept(std::uint64_t first, std::uint64_t last, ballot b, std::size_t run) {
    for (std::uint64_t s = first; s <= last; s += run) {
      std::vector<entry> es;
      for (std::uint64_t t = s; t <= std::min(last, s + run - 1); ++t) es.push_back(at(t, b));
      REQUIRE(j.write_run(record_kind::accepted, es));
      REQUIRE(j.sync());
    }
  }

  void choose(std::uint64_t first, std::uint64_t last) {
    for (std::uint64_t s = first; s <= last; ++s) j.mark_chosen(log_index{s});
    j.advance();
  }

  std::vector<std::optional<slot_state>> snapshot(std::uint64_t last) const {
    std::vector<std::optional<slot_state>> out;
    for (std::uint64_t s = 0; s <= last; ++s) out.push_back(j.at(log_index{s}));
    return out;
  }

  // at(), read() and needed_from() answer as `expected` (taken per slot) says.
  void check(const std::vector<std::optional<slot_state>>& expected, std::uint64_t base) {
    const std::uint64_t last = expected.size() - 1;
    for (std::uint64_t s = 1; s <= last; ++s) {
      CAPTURE(s);
      const auto got = j.at(log_index{s});
      if (s <= base || !expected[s]) {
        CHECK_FALSE(got.has_value());
        continue;
      }
      REQUIRE(got.has_value());
      CHECK(got->accepted == expected[s]->accepted);
      CHECK(got->position == expected[s]->position);
      CHECK(std::uint64_t{got->seq} == std::uint64_t{expected[s]->seq});
      CHECK(std::uint64_t{got->chosen} == std::uint64_t{expected[s]->chosen});
      CHECK(j.chosen(log_index{s}) == static_cast<bool>(expected[s]->chosen));
      auto e = j.read(log_index{s});
      REQUIRE(e.has_value());
      CHECK(e->slot == log_index{s});
      CHECK(e->bal == expected[s]->accepted);
      CHECK(std::string(as_chars(e->data)) == values[s]);
    }
    for (std::uint64_t through = base; through <= last; through += 7) {
      CAPTURE(through);
      log_index want = d.live.last_index().next();
      for (std::uint64_t s = through + 1; s <= last; ++s)
        if (expected[s] && expected[s]->position != log_index{}) want = std::min(want, expected[s]->position);
      CHECK(j.needed_from(log_index{through}) == want);
    }
  }
};

}  // namespace

TEST_CASE("paxos journal index: applied and chosen slots fold into stretches that answer as the slots did") {
  fixture f;
  f.accept(1, 320, bal(1, 1), 64);     // five records of 64 slots
  f.accept(321, 700, bal(1, 1), 1);    // one record per slot
  f.accept(701, 720, bal(2, 3), 64);   // another ballot
  f.accept(721, 740, bal(2, 3), 1);
  f.choose(1, 730);
  CHECK(f.j.watermark() == log_index{730});
  const auto expected = f.snapshot(745);
  CHECK(f.j.index_entries() == 740);

  f.j.applied_through(log_index{100});  // under the fold's batch: nothing folds yet
  CHECK(f.j.index_entries() == 740);
  f.j.applied_through(log_index{740});  // folds up to the watermark only
  // 5 runs of 64, the one-slot records (one stretch), one run and the one-slot records at ballot 2, 10 open slots.
  CHECK(f.j.index_entries() == 5 + 1 + 1 + 1 + 10);
  CHECK(f.j.indexed_slots() == 740);
  CHECK(f.j.known_end() == log_index{740});
  f.check(expected, 0);

  // A slot written again after its fold (a chosen value re-sent) changes nothing.
  REQUIRE(f.j.write(record_kind::chosen, f.at(5, bal(9, 9))));
  REQUIRE(f.j.sync());
  f.check(expected, 0);

  // Compaction inside a run of 64, then inside the one-slot stretch, then past the fold.
  f.j.drop_through(log_index{150});
  f.check(expected, 150);
  f.j.drop_through(log_index{400});
  f.check(expected, 400);
  f.j.drop_through(log_index{725});
  f.check(expected, 725);
  CHECK(f.j.index_entries() == 1 + 10);
  f.choose(731, 740);
  f.j.applied_through(log_index{740});
  CHECK(f.j.watermark() == log_index{740});
  CHECK(f.j.chosen(log_index{740}));
}

// The fold scans a record's slots several at a time: runs of every length
// around that step, some cut by a later write of one of their slots (at a
// higher ballot, so a slot in a run's middle names another record), fold
// into stretches that answer exactly as the slots did.
TEST_CASE("paxos journal index: runs of any length, cut anywhere, fold as their slots answered") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    fixture f;
    seeded_random rng{seed};
    std::uint64_t end = 0;
    while (end < 900) {
      const std::uint64_t n = rng.between(1, 70);
      f.accept(end + 1, end + n, bal(1, 1), n);
      end += n;
      if (rng.chance(0.3)) {  // a slot of the last few runs written again
        const std::uint64_t s = rng.between(end > 150 ? end - 150 : 1, end);
        f.accept(s, s, bal(2, 1), 1);
      }
    }
    f.choose(1, end);
    REQUIRE(f.j.watermark() == log_index{end});
    const auto expected = f.snapshot(end);
    const std::size_t entries_before = f.j.index_entries();
    for (std::uint64_t through = 300; through < end; through += 300) f.j.applied_through(log_index{through});
    f.j.applied_through(log_index{end});
    CHECK(f.j.index_entries() < entries_before);  // it folded
    f.check(expected, 0);
  }
}

TEST_CASE("paxos journal index: slots replayed from the Log (no cache sequence) fold too") {
  fixture f;
  f.accept(1, 300, bal(1, 2), 64);
  f.accept(301, 600, bal(1, 2), 1);
  test_journal k{test_log{&f.d}};
  REQUIRE(k.recover(1 << 20));
  for (std::uint64_t s = 1; s <= 600; ++s) k.mark_chosen(log_index{s});
  k.advance();
  std::vector<std::optional<slot_state>> expected;
  for (std::uint64_t s = 0; s <= 600; ++s) expected.push_back(k.at(log_index{s}));
  CHECK(std::uint64_t{expected[600]->seq} == 0);
  k.applied_through(log_index{600});
  CHECK(k.index_entries() == 5 + 1);
  for (std::uint64_t s = 1; s <= 600; ++s) {
    CAPTURE(s);
    const auto got = k.at(log_index{s});
    REQUIRE(got.has_value());
    CHECK(got->position == expected[s]->position);
    CHECK(std::uint64_t{got->seq} == 0);
    CHECK(got->accepted == bal(1, 2));
    auto e = k.read(log_index{s});
    REQUIRE(e.has_value());
    CHECK(std::string(as_chars(e->data)) == f.values[s]);
  }
}

// The open index reuses its room: states left there by slots a snapshot
// dropped must not show through as the holes of a later gap.
TEST_CASE_TEMPLATE("paxos journal index: holes past a dropped stretch hold nothing", L, test_log, storage::memory_log) {
  disk d;
  std::optional<journal<L>> j;
  if constexpr (std::is_same_v<L, test_log>) j.emplace(test_log{&d});
  else j.emplace(storage::memory_log{});
  REQUIRE(j->recover(1 << 20));
  std::vector<std::string> values;
  for (int s = 0; s <= 60; ++s) values.push_back("value-" + std::to_string(s));
  const ballot b = bal(3, 1);
  std::vector<entry> run;
  for (std::uint64_t s = 1; s <= 50; ++s)
    run.push_back(entry{log_index{s}, b, entry_kind::normal, as_bytes(values[s])});
  REQUIRE(j->write_run(record_kind::accepted, run));
  REQUIRE(j->sync());
  j->mark_chosen(log_index{1}, log_index{50});
  j->advance();
  j->drop_through(log_index{50});  // a snapshot covers them: the open index empties
  REQUIRE(j->write(record_kind::accepted, entry{log_index{55}, b, entry_kind::normal, as_bytes(values[55])}));
  REQUIRE(j->sync());
  CHECK(j->known_end() == log_index{55});
  for (std::uint64_t s = 51; s <= 54; ++s) {
    CAPTURE(s);
    const auto st = j->at(log_index{s});
    REQUIRE(st.has_value());
    CHECK(st->position == log_index{});
    CHECK_FALSE(st->chosen);
    CHECK_FALSE(j->chosen(log_index{s}));
    CHECK_FALSE(j->read(log_index{s}).has_value());
  }
  auto e = j->read(log_index{55});
  REQUIRE(e.has_value());
  CHECK(std::string(as_chars(e->data)) == values[55]);
  entry_batch held;
  auto upto = j->collect_held(log_index{51}, held, 100, 1 << 20);
  REQUIRE(upto.has_value());
  REQUIRE(held.size() == 1);
  CHECK(held.views()[0].slot == log_index{55});
}

// learn_chosen() moves the watermark over the slots past it at once when all
// of them hold a value accepted at the ballot named (the uniform stretch),
// else slot by slot; mark_chosen() of a run that continues the chosen prefix
// moves a front instead of marking each slot. Either way they must choose
// exactly what the rule per slot chooses. A model keeps that rule; random
// writes (runs at the end, single slots anywhere, holes, learned values),
// learns and a leader's marks are checked against it.
TEST_CASE_TEMPLATE("paxos journal index: learn_chosen() and mark_chosen() choose what the rule per slot does", L,
                   test_log,
                   storage::memory_log) {
  struct model_slot {
    bool held = false;
    ballot accepted{};
    bool chosen = false;
  };
  std::vector<std::string> values;
  for (int s = 0; s <= 400; ++s) values.push_back("value-" + std::to_string(s));
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    CAPTURE(seed);
    disk d;
    std::optional<journal<L>> j;
    if constexpr (std::is_same_v<L, test_log>) j.emplace(test_log{&d});
    else j.emplace(storage::memory_log{});
    REQUIRE(j->recover(1 << 20));
    seeded_random rng{seed};
    std::vector<model_slot> m(1);  // m[s], slot 0 unused
    std::uint64_t watermark = 0;
    const auto end = [&] { return m.size() - 1; };
    const auto note = [&](std::uint64_t s, ballot b, bool learned) {
      if (s >= m.size()) m.resize(s + 1);
      model_slot& x = m[s];
      if (x.chosen) return;
      if (learned || !x.held || b > x.accepted) x.accepted = b;
      x.held = true;
      if (learned) x.chosen = true;
    };
    const auto advance = [&] {
      while (watermark < end() && m[watermark + 1].chosen) ++watermark;
    };
    const auto entry_at = [&](std::uint64_t s, ballot b) {
      return entry{log_index{s}, b, entry_kind::normal, as_bytes(values[s])};
    };
    for (int step = 0; step < 120 && end() < 380; ++step) {
      CAPTURE(step);
      const ballot b = bal(rng.between(1, 3), rng.between(1, 2));
      switch (rng.below(8)) {
        case 0:
        case 1: {  // a run at the end
          std::vector<entry> es;
          const std::uint64_t n = rng.between(1, 8);
          for (std::uint64_t s = end() + 1; s <= end() + n; ++s) es.push_back(entry_at(s, b));
          REQUIRE(j->write_run(record_kind::accepted, es));
          for (const entry& e : es) note(e.slot.value(), b, false);
          break;
        }
        case 2: {  // one slot anywhere past the watermark, a hole before it if past the end
          const std::uint64_t s = rng.between(watermark + 1, end() + 3);
          const bool learned = rng.chance(0.2);
          REQUIRE(j->write(learned ? record_kind::chosen : record_kind::accepted, entry_at(s, b)));
          note(s, b, learned);
          break;
        }
        case 6:
        case 7: {  // a leader's mark of a stretch of held slots, at the front or past a gap
          std::vector<std::uint64_t> held;
          for (std::uint64_t s = watermark + 1; s <= end(); ++s)
            if (m[s].held) held.push_back(s);
          if (held.empty()) break;
          const std::uint64_t first = held[rng.below(held.size())];
          std::uint64_t last = first;
          while (last < end() && m[last + 1].held && rng.chance(0.8)) ++last;
          j->mark_chosen(log_index{first}, log_index{last});
          for (std::uint64_t s = first; s <= last; ++s) {
            m[s].chosen = true;
            CHECK(j->chosen(log_index{s}));  // at once, before advance() moves the watermark
            CHECK(static_cast<bool>(j->at(log_index{s})->chosen));
          }
          break;
        }
        default: {  // a learn at some ballot up to some slot (it advances the watermark too)
          REQUIRE(j->sync());
          const std::uint64_t top = rng.between(watermark, end() + 2);
          j->learn_chosen(log_index{top}, b);
          for (std::uint64_t s = watermark + 1; s <= std::min<std::uint64_t>(top, end()); ++s)
            if (!m[s].chosen && m[s].held && m[s].accepted == b) m[s].chosen = true;
          advance();
          break;
        }
      }
      // A node advances after every message; not always here, so that
      // writes also meet slots chosen past a watermark not moved yet.
      if (rng.chance(0.5)) {
        advance();
        j->advance();
      }
      REQUIRE(j->known_end() == log_index{end()});
      REQUIRE(j->watermark() == log_index{watermark});
      for (std::uint64_t s = 1; s <= end(); ++s) {
        CAPTURE(s);
        REQUIRE(j->chosen(log_index{s}) == m[s].chosen);
        const auto st = j->at(log_index{s});
        REQUIRE(st.has_value());
        CHECK(static_cast<bool>(st->chosen) == m[s].chosen);
        CHECK((st->position != log_index{}) == m[s].held);
        if (m[s].held) CHECK(st->accepted == m[s].accepted);
      }
    }
    REQUIRE(j->sync());
    j->applied_through(j->watermark());  // folds what is chosen: the answers stay
    for (std::uint64_t s = 1; s <= end(); ++s) {
      CAPTURE(s);
      CHECK(j->chosen(log_index{s}) == m[s].chosen);
    }
  }
}
