// raft_log over a Log whose records stay in place (core/log.hpp's optional
// promise, made by memory_log): the entry cache views the Log's records
// instead of copying them, and keeps viewing the right bytes through
// truncation, compaction, block reuse and restarts; a Log without the
// promise still gets copies. Both must hold the same entries.
#include <doctest/doctest.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "quorum/core/log.hpp"
#include "quorum/core/random.hpp"
#include "quorum/raft/entry.hpp"
#include "quorum/raft/entry_cache.hpp"
#include "quorum/raft/raft_log.hpp"
#include "quorum/storage/memory_log.hpp"
#include "copying_log.hpp"

namespace {

using namespace quorum;
using namespace quorum::raft;
using raft_test::copying_log;

std::string text(byte_view b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

static_assert(log_records_stay_in_place<storage::memory_log>);

// True when the cached entry i views the very bytes of the Log's record i.
template <class L>
bool views_the_log(raft_log<L>& rl, log_index i) {
  const entry_view& e = rl.cache().at(i);
  auto rec = rl.policy().read(i);
  return rec && rec->size() >= e.data.size() && e.data.data() == rec->last(e.data.size()).data();
}

}  // namespace

TEST_CASE("raft_log over memory_log: the cache views the Log's records, over a Log without the promise it copies") {
  raft_log<storage::memory_log> in_place{storage::memory_log{}};
  raft_log<copying_log> copying{copying_log{}};
  CHECK(in_place.cache().borrows());
  CHECK_FALSE(copying.cache().borrows());
  std::vector<std::string> data;
  for (std::uint64_t i = 1; i <= 40; ++i) data.push_back("command " + std::to_string(i));
  for (std::uint64_t i = 1; i <= 10; ++i) {
    const entry_view e{term_id{1}, entry_kind::normal, as_bytes(data[i - 1])};
    REQUIRE(in_place.append(e));
    REQUIRE(copying.append(e));
  }
  std::vector<entry_view> run;
  for (std::uint64_t i = 11; i <= 40; ++i)
    run.push_back(entry_view{term_id{2}, entry_kind::normal, as_bytes(data[i - 1])});
  REQUIRE(in_place.append_run(run));
  REQUIRE(copying.append_run(run));
  for (std::uint64_t i = 1; i <= 40; ++i) {
    const log_index at{i};
    CAPTURE(i);
    REQUIRE(in_place.cache().holds(at));
    REQUIRE(copying.cache().holds(at));
    CHECK(views_the_log(in_place, at));
    CHECK_FALSE(views_the_log(copying, at));
    CHECK(text(in_place.cache().at(at).data) == data[i - 1]);
    CHECK(text(copying.cache().at(at).data) == data[i - 1]);
    CHECK(in_place.cache().at(at).term == copying.cache().at(at).term);
  }
}

TEST_CASE("entry_cache that borrows: keeps the views it is given, under the same byte bound") {
  const std::string a(100, 'a'), b(100, 'b'), c(100, 'c');
  entry_cache cache{entry_cache_options{2 * (100 + entry_cache::per_entry_bytes)}, entry_cache::storage::borrowed};
  cache.append(log_index{1}, entry_view{term_id{1}, entry_kind::normal, as_bytes(a)});
  const std::vector<entry_view> run{entry_view{term_id{1}, entry_kind::normal, as_bytes(b)},
                                    entry_view{term_id{2}, entry_kind::normal, as_bytes(c)}};
  cache.append_run(log_index{2}, run);
  CHECK(cache.first() == log_index{2});  // the bound dropped entry 1
  CHECK(cache.last() == log_index{3});
  CHECK(cache.at(log_index{2}).data.data() == as_bytes(b).data());
  CHECK(cache.at(log_index{3}).data.data() == as_bytes(c).data());
  CHECK(cache.bytes() == 2 * (100 + entry_cache::per_entry_bytes));
  cache.truncate(log_index{3});
  CHECK(cache.last() == log_index{2});
  CHECK(cache.bytes() == 100 + entry_cache::per_entry_bytes);
  cache.append(log_index{3}, entry_view{term_id{3}, entry_kind::normal, as_bytes(a)});
  CHECK(cache.at(log_index{3}).data.data() == as_bytes(a).data());
  CHECK(cache.at(log_index{3}).term == term_id{3});
}

// Random appends (single and runs), follower appends that conflict and
// truncate, compactions and cache releases, on both kinds of Log: payloads
// of up to 3 KiB so that memory_log fills, drops and reuses its 64 KiB
// blocks under the cache's views. After every step each cached entry must
// equal the Log's record and the other log's entry.
TEST_CASE("raft_log over memory_log: cached views stay right through truncation, compaction and block reuse") {
  raft_log<storage::memory_log> in_place{storage::memory_log{}, entry_cache_options{256 * 1024}};
  raft_log<copying_log> copying{copying_log{}, entry_cache_options{256 * 1024}};
  seeded_random rng{42};
  std::uint64_t term = 1, made = 0;
  std::vector<std::string> pool;  // every payload ever used: the views of the copying log's inputs must outlive it
  pool.reserve(200000);
  auto make = [&] {
    ++made;
    pool.push_back("p" + std::to_string(made) + std::string(rng.below(3000), static_cast<char>('a' + made % 26)));
    return as_bytes(pool.back());
  };
  log_index commit{};
  for (int step = 0; step < 4000; ++step) {
    const double roll = rng.unit();
    if (roll < 0.4) {
      const entry_view e{term_id{term}, entry_kind::normal, make()};
      REQUIRE(in_place.append(e));
      REQUIRE(copying.append(e));
    } else if (roll < 0.75) {
      // A follower's append starting at or before the end, sometimes of a new term: may truncate.
      if (rng.chance(0.3)) ++term;
      const std::uint64_t last = in_place.last_index().value();
      const std::uint64_t lowest = std::max(commit.value() + 1, in_place.first_index().value());
      const std::uint64_t start = last + 1 - std::min<std::uint64_t>(rng.below(6), last + 1 - lowest);
      std::vector<entry_view> run;
      const std::uint64_t n = rng.between(1, 20);
      for (std::uint64_t k = 0; k < n; ++k) run.push_back(entry_view{term_id{term}, entry_kind::normal, make()});
      auto a = in_place.append_from(log_index{start}, run, commit);
      auto b = copying.append_from(log_index{start}, run, commit);
      REQUIRE(a);
      REQUIRE(b);
      CHECK(*a == *b);
    } else if (roll < 0.85) {
      const std::uint64_t last = in_place.last_index().value();
      if (last > commit.value()) commit = log_index{commit.value() + rng.between(1, last - commit.value())};
      in_place.release(commit);
      copying.release(commit);
    } else if (roll < 0.9 && commit > in_place.snapshot_index()) {
      const log_index upto{commit.value() - rng.below(commit.value() - in_place.snapshot_index().value())};
      REQUIRE(in_place.compact(upto));
      REQUIRE(copying.compact(upto));
    } else {
      REQUIRE(in_place.sync());
      REQUIRE(copying.sync());
    }
    REQUIRE(in_place.last_index() == copying.last_index());
    REQUIRE(in_place.first_index() == copying.first_index());
    const entry_cache& cache = in_place.cache();
    for (log_index i = cache.first(); i <= cache.last(); i = i.next()) {
      CAPTURE(step);
      CAPTURE(i.value());
      REQUIRE(views_the_log(in_place, i));
      auto other = copying.entry(i);
      REQUIRE(other);
      REQUIRE(text(cache.at(i).data) == text(other->data));
      REQUIRE(cache.at(i).term == other->term);
    }
  }
  CHECK(in_place.policy().first_index() > log_index{1});  // compaction really dropped blocks
  CHECK(in_place.cache().size() > 0);
}

TEST_CASE("raft_log over memory_log: a batch's proposals wait staged and reach the Log as one run before any read") {
  raft_log<storage::memory_log> in_place{storage::memory_log{}};
  raft_log<copying_log> copying{copying_log{}};
  std::vector<std::string> cmds;
  for (std::size_t k = 0; k < 5; ++k)
    cmds.push_back(std::string(20 + 11 * k, static_cast<char>('a' + k)));  // 20..64 bytes
  for (std::uint64_t i = 1; i <= 5; ++i) {
    std::string scratch = cmds[i - 1];  // the caller's bytes change after the call: staged means copied
    const entry_view e{term_id{1}, entry_kind::normal, as_bytes(scratch)};
    auto a = in_place.append_deferred(e);
    auto b = copying.append_deferred(e);
    scratch.assign(scratch.size(), '#');
    REQUIRE(a);
    REQUIRE(b);
    CHECK(*a == log_index{i});
    CHECK(*b == log_index{i});
  }
  // Both defer: memory_log's in a staging buffer, the other Log's in the cache.
  CHECK(in_place.deferred() == 5);
  CHECK(in_place.last_index() == log_index{5});
  CHECK(in_place.term_at(log_index{5}) == term_id{1});
  CHECK(in_place.policy().last_index() == log_index{});
  CHECK_FALSE(in_place.cache().holds(log_index{1}));
  CHECK(copying.deferred() == 5);
  // An append to a follower reads them: the run is written first, every entry in it.
  auto run = in_place.batch(log_index{1}, 100, 1 << 20);
  REQUIRE(run);
  REQUIRE(run->size() == 5);
  CHECK(in_place.deferred() == 0);
  CHECK(in_place.policy().last_index() == log_index{5});
  for (std::uint64_t i = 1; i <= 5; ++i) {
    CAPTURE(i);
    CHECK(text((*run)[i - 1].data) == cmds[i - 1]);
    CHECK(views_the_log(in_place, log_index{i}));
    auto rec = decode_entry_record(*in_place.policy().read(log_index{i}));
    REQUIRE(rec);
    CHECK(rec->term == term_id{1});
    CHECK(text(rec->data) == cmds[i - 1]);
  }
  CHECK(copying.policy().last_index() ==
        log_index{});  // a run-taking Log without the promise gets them as one run at the sync
  REQUIRE(copying.sync());
  CHECK(copying.policy().last_index() == log_index{5});
}

TEST_CASE("raft_log over memory_log: staged entries of another term or kind, entry(), sync() and plain appends") {
  raft_log<storage::memory_log> rl{storage::memory_log{}};
  const std::string a = "first command", b(64, 'b'), c = "config?", d = "plain";
  REQUIRE(*rl.append_deferred(entry_view{term_id{1}, entry_kind::normal, as_bytes(a)}) == log_index{1});
  REQUIRE(*rl.append_deferred(entry_view{term_id{1}, entry_kind::normal, as_bytes(b)}) == log_index{2});
  // Another kind: the two before are written as their run, this one is staged alone.
  REQUIRE(*rl.append_deferred(entry_view{term_id{1}, entry_kind::config, as_bytes(c)}) == log_index{3});
  CHECK(rl.policy().last_index() == log_index{2});
  CHECK(rl.deferred() == 1);
  // Another term: the same.
  REQUIRE(*rl.append_deferred(entry_view{term_id{2}, entry_kind::normal, as_bytes(a)}) == log_index{4});
  CHECK(rl.policy().last_index() == log_index{3});
  // entry() of a staged index writes it first.
  CHECK(text(rl.entry(log_index{4})->data) == a);
  CHECK(rl.deferred() == 0);
  REQUIRE(rl.append_deferred(entry_view{term_id{2}, entry_kind::normal, as_bytes(b)}));
  rl.release(log_index{5});  // staged entries are not in the cache and stay staged
  CHECK(rl.deferred() == 1);
  // A plain append writes the staged one first and lands after it.
  REQUIRE(*rl.append(entry_view{term_id{2}, entry_kind::normal, as_bytes(d)}) == log_index{6});
  REQUIRE(rl.append_deferred(entry_view{term_id{2}, entry_kind::normal, as_bytes(c)}));
  REQUIRE(rl.sync());
  CHECK(rl.synced_index() == log_index{7});
  const struct {
    std::uint64_t term;
    entry_kind kind;
    std::string data;
  } want[] = {{1, entry_kind::normal, a}, {1, entry_kind::normal, b}, {1, entry_kind::config, c},
              {2, entry_kind::normal, a}, {2, entry_kind::normal, b}, {2, entry_kind::normal, d},
              {2, entry_kind::normal, c}};
  REQUIRE(rl.policy().last_index() == log_index{7});
  for (std::uint64_t i = 1; i <= 7; ++i) {
    CAPTURE(i);
    auto e = decode_entry_record(*rl.policy().read(log_index{i}));
    REQUIRE(e);
    CHECK(e->term == term_id{want[i - 1].term});
    CHECK(e->kind == want[i - 1].kind);
    CHECK(text(e->data) == want[i - 1].data);
    CHECK(rl.term_at(log_index{i}) == term_id{want[i - 1].term});
  }
  CHECK(views_the_log(rl, log_index{7}));
}

TEST_CASE("raft_log over memory_log: a staged run the Log refuses is forgotten everywhere and the error comes back") {
  storage::memory_log_options small;
  small.max_record_bytes = 16;
  raft_log<storage::memory_log> rl{storage::memory_log{small}};
  REQUIRE(rl.recover());
  REQUIRE(rl.append(entry_view{term_id{1}, entry_kind::normal, as_bytes("kept")}));
  REQUIRE(rl.append_deferred(entry_view{term_id{1}, entry_kind::normal, as_bytes("short")}));
  REQUIRE(rl.append_deferred(entry_view{term_id{1}, entry_kind::normal, as_bytes(std::string(40, 'z'))}));
  auto r = rl.batch(log_index{1}, 10, 1 << 20);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::too_large);
  CHECK(rl.last_index() == log_index{1});
  CHECK(rl.deferred() == 0);
  CHECK(rl.cache().holds(log_index{1}));
  CHECK_FALSE(rl.cache().holds(log_index{2}));
  CHECK(rl.policy().last_index() == log_index{1});
  REQUIRE(*rl.append(entry_view{term_id{1}, entry_kind::normal, as_bytes("next")}) == log_index{2});
  REQUIRE(rl.sync());
  CHECK(text(rl.entry(log_index{2})->data) == "next");
}

TEST_CASE("raft_log over memory_log: a follower's run of one term in one pass, of several terms, and too big to cache") {
  raft_log<storage::memory_log> small{storage::memory_log{},
                                      entry_cache_options{3 * (64 + entry_cache::per_entry_bytes)}};
  raft_log<copying_log> model{copying_log{}};
  std::vector<std::string> data;
  for (std::size_t k = 0; k < 12; ++k) data.push_back(std::string(k * 6, static_cast<char>('a' + k)));
  std::vector<entry_view> one_term, many_terms, big;
  for (std::size_t k = 0; k < 3; ++k) one_term.push_back(entry_view{term_id{1}, entry_kind::normal, as_bytes(data[k])});
  for (std::size_t k = 3; k < 6; ++k)
    many_terms.push_back(
        entry_view{term_id{k < 5 ? 1u : 2u}, k == 4 ? entry_kind::config : entry_kind::normal, as_bytes(data[k])});
  for (std::size_t k = 6; k < 12; ++k) big.push_back(entry_view{term_id{3}, entry_kind::normal, as_bytes(data[k])});
  for (auto* run : {&one_term, &many_terms, &big}) {
    REQUIRE(small.append_run(*run));
    REQUIRE(model.append_run(*run));
  }
  REQUIRE(small.last_index() == log_index{12});
  CHECK_FALSE(small.cache().holds(log_index{7}));  // the last run alone is over the cache's bound
  for (std::uint64_t i = 1; i <= 12; ++i) {
    CAPTURE(i);
    auto e = small.entry(log_index{i});
    auto m = model.entry(log_index{i});
    REQUIRE(e);
    REQUIRE(m);
    CHECK(e->term == m->term);
    CHECK(e->kind == m->kind);
    CHECK(text(e->data) == data[i - 1]);
    CHECK(small.term_at(log_index{i}) == m->term);
  }
  // A run that views the cache's own entries (re-appended after a truncation) takes the general path.
  raft_log<storage::memory_log> again{storage::memory_log{}};
  REQUIRE(again.append_run(one_term));
  const auto cached = again.cached(log_index{1}, 3);
  REQUIRE(cached.size() == 3);
  REQUIRE(again.append_run(cached));
  for (std::uint64_t i = 4; i <= 6; ++i) CHECK(text(again.entry(log_index{i})->data) == data[i - 4]);
}

TEST_CASE("memory_log: append_run_with writes what parts() gives, tells place() where, and refuses a run whole") {
  storage::memory_log_options opts;
  opts.max_record_bytes = 40000;
  storage::memory_log log{opts};
  // Big records so that runs outgrow the 64 KiB blocks and take the rare path.
  std::vector<std::string> bodies;
  for (std::size_t k = 0; k < 9; ++k) bodies.push_back(std::string(7000 + 3000 * k, static_cast<char>('A' + k)));
  const std::string head = "hd";
  std::vector<byte_view> placed(bodies.size());
  auto last = log.append_run_with(
      bodies.size(), [&](std::size_t k) { return record_parts{as_bytes(head), as_bytes(bodies[k])}; },
      [&](std::size_t k, byte_view at) { placed[k] = at; });
  REQUIRE(last);
  CHECK(*last == log_index{9});
  for (std::uint64_t i = 1; i <= 9; ++i) {
    CAPTURE(i);
    CHECK(text(*log.read(log_index{i})) == head + bodies[i - 1]);
    CHECK(placed[i - 1].data() == log.read(log_index{i})->data());
    CHECK(placed[i - 1].size() == log.read(log_index{i})->size());
  }
  // One record over the limit, past a block boundary: nothing of the run is appended.
  const std::string huge(40001, 'h');
  auto refused = log.append_run_with(
      3, [&](std::size_t k) { return record_parts{as_bytes(head), k == 2 ? as_bytes(huge) : as_bytes(bodies[k])}; },
      [](std::size_t, byte_view) {});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::too_large);
  CHECK(log.last_index() == log_index{9});
  REQUIRE(log.append(as_bytes("after")));
  CHECK(text(*log.read(log_index{10})) == "after");
}

TEST_CASE("memory_log: records of every body size up to 130 bytes read back exactly, alone, in runs and in placed runs") {
  storage::memory_log single, runs;
  std::vector<std::string> heads, bodies;
  for (std::size_t n = 0; n <= 130; ++n) {
    heads.push_back(std::string(n % 4, static_cast<char>('H' + n % 3)));
    std::string b(n, '\0');
    for (std::size_t k = 0; k < n; ++k) b[k] = static_cast<char>('a' + (k * 7 + n) % 26);
    bodies.push_back(b);
  }
  std::vector<record_parts> parts;
  for (std::size_t n = 0; n <= 130; ++n) {
    REQUIRE(single.append(as_bytes(heads[n]), as_bytes(bodies[n])));
    parts.push_back(record_parts{as_bytes(heads[n]), as_bytes(bodies[n])});
  }
  REQUIRE(runs.append_run(parts));
  storage::memory_log placed_runs;
  std::vector<byte_view> placed(parts.size());
  REQUIRE(placed_runs.append_run(parts, placed));
  for (std::size_t n = 0; n <= 130; ++n) {
    CAPTURE(n);
    const log_index at{n + 1};
    CHECK(text(*single.read(at)) == heads[n] + bodies[n]);
    CHECK(text(*runs.read(at)) == heads[n] + bodies[n]);
    // The placed run says where each record went: exactly what read() gives.
    CHECK(placed[n].data() == placed_runs.read(at)->data());
    CHECK(placed[n].size() == placed_runs.read(at)->size());
    CHECK(text(placed[n]) == heads[n] + bodies[n]);
  }
}

TEST_CASE("entry_cache that borrows: extend gives slots for a run under the byte bound, or none when it cannot fit") {
  const std::string a(100, 'a'), b(100, 'b');
  entry_cache cache{entry_cache_options{3 * (100 + entry_cache::per_entry_bytes)}, entry_cache::storage::borrowed};
  cache.append(log_index{1}, entry_view{term_id{1}, entry_kind::normal, as_bytes(a)});
  auto slots = cache.extend(log_index{2}, 2, 200);
  REQUIRE(slots.size() == 2);
  slots[0] = entry_view{term_id{1}, entry_kind::normal, as_bytes(b)};
  slots[1] = entry_view{term_id{2}, entry_kind::normal, as_bytes(a)};
  CHECK(cache.first() == log_index{1});
  CHECK(cache.last() == log_index{3});
  CHECK(cache.at(log_index{2}).data.data() == as_bytes(b).data());
  CHECK(cache.at(log_index{3}).term == term_id{2});
  CHECK(cache.bytes() == 3 * (100 + entry_cache::per_entry_bytes));
  // One more entry drops the oldest, as append_run would.
  auto more = cache.extend(log_index{4}, 1, 100);
  REQUIRE(more.size() == 1);
  more[0] = entry_view{term_id{2}, entry_kind::normal, as_bytes(b)};
  CHECK(cache.first() == log_index{2});
  CHECK(cache.last() == log_index{4});
  // A run larger than the whole bound: none of it is cached, and the cache goes on after it.
  CHECK(cache.extend(log_index{5}, 4, 400).empty());
  CHECK(cache.size() == 0);
  CHECK_FALSE(cache.holds(log_index{5}));
  cache.append(log_index{9}, entry_view{term_id{3}, entry_kind::normal, as_bytes(a)});
  CHECK(cache.first() == log_index{9});
  CHECK(cache.holds(log_index{9}));
}
