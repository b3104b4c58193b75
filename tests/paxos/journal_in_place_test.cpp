// The journal over a Log whose records stay in place (memory_log makes the
// promise, core/log.hpp): the first write after a sync and every accepted run
// go to the Log at once, and the record cache views them there instead of
// copying. The same writes must read back, recover and compact exactly as
// over a Log that makes no promise (test_log), which copies.
#include <doctest/doctest.h>

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cluster.hpp"
#include "quorum/core/random.hpp"
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

// Random calls, the same on a journal over memory_log (whose slot index
// views each value where the Log keeps it) and one over test_log (which
// copies into the record cache): single writes and runs (values back to
// back or apart), holes, re-accepts at higher and lower ballots, learned
// values, syncs, chosen marks, applies, compactions and restarts. After
// every call both must hold the same slots, ballots and values, and every
// value either serves from memory (cached(), collect_range()) must be what
// read() returns.
TEST_CASE("paxos journal in place: views agree with a copying journal under random writes, compactions and restarts") {
  std::uint64_t longest = 0;
  for (std::uint64_t seed = 1; seed <= 24; ++seed) {
    CAPTURE(seed);
    seeded_random rng{seed};
    std::deque<std::string> kept;  // every value written, alive for the views
    std::optional<journal<storage::memory_log>> j;
    j.emplace(storage::memory_log{}, rng.chance(0.5) ? std::size_t{8} << 20 : std::size_t{256});
    disk d;
    std::optional<journal<test_log>> c;
    c.emplace(test_log{&d});
    REQUIRE(j->recover(1 << 20));
    REQUIRE(c->recover(1 << 20));
    log_index applied{};
    const auto value = [&] {
      kept.push_back(std::string(rng.below(12), static_cast<char>('a' + rng.below(26))) + std::to_string(kept.size()));
      return as_bytes(kept.back());
    };
    for (int step = 0; step < 1500; ++step) {
      CAPTURE(step);
      const std::uint64_t op = rng.below(100);
      const log_index end = j->known_end();
      // Mostly the next slot; sometimes an earlier one (a re-accept) or a gap.
      const auto pick = [&] {
        if (rng.chance(0.7)) return end.next();
        return log_index{rng.between(j->base().value() + 1, end.value() + 3)};
      };
      const ballot b = bal(rng.between(1, 4), rng.between(1, 3));
      const record_kind kind = rng.chance(0.1) ? record_kind::chosen : record_kind::accepted;
      if (op < 35) {
        const entry e{pick(), b, rng.chance(0.9) ? entry_kind::normal : entry_kind::noop, value()};
        REQUIRE(j->write(kind, e));
        REQUIRE(c->write(kind, e));
      } else if (op < 55) {
        const log_index first = pick();
        const std::size_t n = rng.chance(0.3) ? rng.between(9, 64) : rng.between(1, 8);
        std::vector<entry> es;
        if (rng.chance(0.5)) {  // back to back in one string
          kept.push_back({});
          for (std::size_t k = 0; k < n; ++k) kept.back() += "v" + std::to_string(k);
          const byte_view all = as_bytes(kept.back());
          std::size_t at = 0;
          for (std::size_t k = 0; k < n; ++k) {
            const std::size_t size = 1 + std::to_string(k).size();
            es.push_back(entry{first + k, b, entry_kind::normal, all.subspan(at, size)});
            at += size;
          }
        } else {
          for (std::size_t k = 0; k < n; ++k) es.push_back(entry{first + k, b, entry_kind::normal, value()});
        }
        REQUIRE(j->write_run(kind, es));
        REQUIRE(c->write_run(kind, es));
      } else if (op < 65) {
        REQUIRE(j->sync());
        REQUIRE(c->sync());
      } else if (op < 78) {
        // Mark held slots chosen (as a leader would once a quorum accepted
        // them): one, or every one up to the end (so that applies fold them).
        const log_index s{rng.between(j->base().value() + 1, std::max(j->base().value() + 1, end.value()))};
        const log_index to = rng.chance(0.6) ? end : s;
        for (log_index t = s; t <= to; t = t.next()) {
          if (!j->at(t) || j->at(t)->position == log_index{}) {  // a gap: filled with a no-op, as a new leader does
            const entry noop{t, b, entry_kind::noop, byte_view{}};
            REQUIRE(j->write(record_kind::chosen, noop));
            REQUIRE(c->write(record_kind::chosen, noop));
            continue;
          }
          j->mark_chosen(t);
          c->mark_chosen(t);
        }
        j->advance();
        c->advance();
      } else if (op < 88) {
        if (j->watermark() > applied)
          applied =
              rng.chance(0.5) ? j->watermark() : log_index{rng.between(applied.value() + 1, j->watermark().value())};
        j->applied_through(applied);
        c->applied_through(applied);
      } else if (op < 91) {
        // A snapshot at the applied slot, then compaction behind it.
        if (applied > j->base()) {
          const log_index through{rng.between(j->base().value() + 1, applied.value())};
          REQUIRE(j->policy().compact(j->needed_from(through)));
          j->drop_through(through);
          REQUIRE(d.live.compact(c->needed_from(through)));
          c->drop_through(through);
        }
      } else if (op < 92) {
        // A restart: both journals recover from their Logs, above the same base.
        const log_index base = j->base();
        REQUIRE(j->sync());
        REQUIRE(c->sync());
        storage::memory_log log = j->policy();
        j.reset();
        j.emplace(std::move(log));
        c.emplace(test_log{&d});
        REQUIRE(j->recover(1 << 20, base));
        REQUIRE(c->recover(1 << 20, base));
        applied = base;
        j->applied_through(applied);
        c->applied_through(applied);
      } else {
        // A leader's collect (of slots it holds): the same entries from both.
        const log_index first{rng.between(j->base().value() + 1, end.value() + 1)};
        log_index last = first.prev();
        while (last < first + 11 && last < end && j->at(last.next())->position != log_index{}) last = last.next();
        if (last < first) continue;
        const log_index stop_at = first + rng.below(16);
        const std::size_t max_entries = rng.between(1, 10);
        const std::size_t max_bytes = rng.between(1, 60);
        const ballot as = rng.chance(0.5) ? ballot{} : bal(9, 1);
        const auto stop = [&](log_index s) { return s == stop_at; };
        entry_batch a;
        entry_batch bb;
        REQUIRE(j->collect_range(first, last, a, max_entries, max_bytes, as, stop));
        REQUIRE(c->collect_range(first, last, bb, max_entries, max_bytes, as, stop));
        const auto va = a.views();
        const auto vb = bb.views();
        REQUIRE(va.size() == vb.size());
        for (std::size_t k = 0; k < va.size(); ++k) {
          CHECK(va[k].slot == vb[k].slot);
          CHECK(va[k].bal == vb[k].bal);
          CHECK(va[k].kind == vb[k].kind);
          CHECK(std::string(as_chars(va[k].data)) == std::string(as_chars(vb[k].data)));
        }
      }
      longest = std::max<std::uint64_t>(longest, j->indexed_slots());
      REQUIRE(j->known_end() == c->known_end());
      REQUIRE(j->watermark() == c->watermark());
      REQUIRE(j->base() == c->base());
      // Every slot now and then; the last 80 (where the writes land) after every call.
      const bool all = step % 25 == 0;
      const log_index from = all || j->known_end() - j->base() < 80 ? j->base().next() : j->known_end() - 79;
      for (log_index s = from; s <= j->known_end(); s = s.next()) {
        CAPTURE(s);
        const auto sj = j->at(s);
        const auto sc = c->at(s);
        REQUIRE(sj.has_value() == sc.has_value());
        if (!sj) continue;
        REQUIRE((sj->position == log_index{}) == (sc->position == log_index{}));
        CHECK(sj->accepted == sc->accepted);
        CHECK(std::uint64_t{sj->chosen} == std::uint64_t{sc->chosen});
        if (sj->position == log_index{}) continue;
        const std::optional<entry> viewed = j->cached(s);
        auto rj = j->read(s);
        auto rc = c->read(s);
        REQUIRE(rj.has_value());
        REQUIRE(rc.has_value());
        const std::string from_j(as_chars(rj->data));
        CHECK(from_j == std::string(as_chars(rc->data)));
        CHECK(rj->kind == rc->kind);
        CHECK(rj->bal == sj->accepted);
        if (viewed) {
          CHECK(viewed->slot == s);
          CHECK(viewed->bal == sj->accepted);
          CHECK(viewed->kind == rj->kind);
          CHECK(std::string(as_chars(viewed->data)) == from_j);
        }
      }
      // A walk over the viewed values stops at the first slot without one
      // (a hole, the open run) and never shows another slot's value.
      std::uint64_t k = 0;
      bool walk_ok = true;
      j->visit_cached(from, j->known_end(), [&](const entry& e) {
        walk_ok =
            walk_ok && e.slot == from + k && j->at(e.slot)->position != log_index{} && e.bal == j->at(e.slot)->accepted;
        ++k;
        return true;
      });
      CHECK(walk_ok);
    }
  }
  // Long enough that applied slots fold and the index's dead front is
  // dropped (over 1,024 entries), not only appended to.
  CHECK(longest > 3000);
}

// A long steady run, as a leader's: thousands of slots written in batches,
// chosen and applied a few hundred at a time, so that applied slots fold
// and the index drops its dead front (past 1,024 entries) again and again.
// The views of the slots still open must follow every such move.
TEST_CASE("paxos journal in place: views stay with their slots as applied slots fold and the index moves") {
  journal<storage::memory_log> j{storage::memory_log{}};
  REQUIRE(j.recover(1 << 20));
  REQUIRE(j.sync());
  std::deque<std::string> kept;
  std::uint64_t next = 1;
  log_index applied{};
  for (int round = 0; round < 60; ++round) {
    // A batch of 100 proposals (the first placed at once, the rest staged), then a sync.
    for (int k = 0; k < 100; ++k, ++next) {
      kept.push_back("value-" + std::to_string(next));
      REQUIRE(
          j.write(record_kind::accepted, entry{log_index{next}, bal(1, 1), entry_kind::normal, as_bytes(kept.back())}));
    }
    REQUIRE(j.sync());
    // Everything but the last 150 slots is chosen and applied.
    const log_index to{next - 1 > 150 ? next - 151 : 0};
    for (log_index s = applied.next(); s <= to; s = s.next()) j.mark_chosen(s);
    j.advance();
    if (to > applied) {
      applied = to;
      j.applied_through(applied);
    }
    // Every slot still open views its own value; visits walk them in order.
    bool views_match = true;
    for (log_index s = applied.next(); s < log_index{next}; s = s.next()) {
      const auto v = j.cached(s);
      views_match = views_match && v.has_value() && v->slot == s &&
                    std::string(as_chars(v->data)) == "value-" + std::to_string(s.value());
    }
    CHECK(views_match);
    std::uint64_t visited = 0;
    j.visit_cached(applied.next(), log_index{next - 1}, [&](const entry& e) {
      views_match = views_match && e.slot == applied.next() + visited &&
                    std::string(as_chars(e.data)) == "value-" + std::to_string(e.slot.value());
      ++visited;
      return true;
    });
    CHECK(views_match);
    CHECK(visited == next - 1 - applied.value());
  }
  CHECK(j.index_entries() < j.indexed_slots() / 10);  // folded: a stretch per record, and the slots not yet folded
  for (std::uint64_t s = 1; s < next; s += 97) CHECK(value_of(j, s) == "value-" + std::to_string(s));
}
