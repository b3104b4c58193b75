// The pieces of the replication fast path: entry_cache (the log's tail in
// memory, bounded, views kept coherent while its arena packs and grows),
// raft_log serving batches and entries from it, memory_log's two-piece append,
// runs appended at once (cache, raft_log, Log) equal to one entry at a time,
// and configuration's quorum index for small and large voter sets.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "quorum/raft/configuration.hpp"
#include "quorum/raft/entry_cache.hpp"
#include "quorum/raft/raft_log.hpp"
#include "quorum/storage/memory_log.hpp"

namespace {

using namespace quorum;
using namespace quorum::raft;

std::string text(byte_view b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

// A payload that names its index, of a length that varies with it.
std::string payload(std::uint64_t i) { return "entry " + std::to_string(i) + std::string(i % 37, 'x'); }

}  // namespace

TEST_CASE("entry_cache: holds a contiguous run and gives the entries back as appended") {
  entry_cache c;
  CHECK(c.size() == 0);
  CHECK_FALSE(c.holds(log_index{1}));
  std::vector<std::string> data;
  for (std::uint64_t i = 1; i <= 2000; ++i) data.push_back(payload(i));  // enough to pack and grow the arena
  for (std::uint64_t i = 1; i <= 2000; ++i)
    c.append(log_index{i}, entry_view{term_id{1 + i / 500}, entry_kind::normal, as_bytes(data[i - 1])});
  REQUIRE(c.first() == log_index{1});
  REQUIRE(c.last() == log_index{2000});
  for (std::uint64_t i = 1; i <= 2000; ++i) {
    const entry_view& e = c.at(log_index{i});
    CHECK(text(e.data) == data[i - 1]);
    CHECK(e.term == term_id{1 + i / 500});
  }
}

TEST_CASE("entry_cache: release and truncate keep the views right while the arena packs") {
  entry_cache c{entry_cache_options{64 * 1024}};
  std::vector<std::string> data;
  for (std::uint64_t i = 1; i <= 20000; ++i) data.push_back(payload(i));
  std::uint64_t next = 1;
  for (int round = 0; round < 200; ++round) {
    for (int k = 0; k < 100; ++k, ++next)
      c.append(log_index{next}, entry_view{term_id{1}, entry_kind::normal, as_bytes(data[next - 1])});
    c.release(log_index{next - 30});                   // keep the last 29
    if (round % 3 == 0) c.truncate(log_index{next - 5});  // a follower's conflicting suffix
    if (round % 3 == 0) next -= 5;
    REQUIRE(c.last() == log_index{next - 1});
    for (log_index i = c.first(); i <= c.last(); i = i.next()) REQUIRE(text(c.at(i).data) == data[i.value() - 1]);
  }
  CHECK(c.bytes() <= c.options().max_bytes);
}

TEST_CASE("entry_cache: the byte bound drops the oldest entries and never holds more") {
  entry_cache c{entry_cache_options{10 * (100 + entry_cache::per_entry_bytes)}};
  const std::string hundred(100, 'a');
  for (std::uint64_t i = 1; i <= 50; ++i)
    c.append(log_index{i}, entry_view{term_id{1}, entry_kind::normal, as_bytes(hundred)});
  CHECK(c.size() == 10);
  CHECK(c.first() == log_index{41});
  CHECK(c.last() == log_index{50});
  CHECK(c.bytes() <= c.options().max_bytes);
  // An entry alone over the bound is not kept, and the cache stays contiguous after it.
  const std::string huge(20000, 'b');
  c.append(log_index{51}, entry_view{term_id{1}, entry_kind::normal, as_bytes(huge)});
  CHECK_FALSE(c.holds(log_index{51}));
  CHECK(c.size() == 0);
  c.append(log_index{52}, entry_view{term_id{1}, entry_kind::normal, as_bytes(hundred)});
  CHECK(c.holds(log_index{52}));
  CHECK(c.first() == log_index{52});
  // A gap (the log was reset under it) restarts the cache.
  c.append(log_index{90}, entry_view{term_id{2}, entry_kind::noop, {}});
  CHECK_FALSE(c.holds(log_index{52}));
  CHECK(c.holds(log_index{90}));
}

TEST_CASE("entry_cache: run honours the entry and byte limits and always gives one entry") {
  entry_cache c;
  const std::string ten(10, 'z');
  for (std::uint64_t i = 1; i <= 100; ++i)
    c.append(log_index{i}, entry_view{term_id{1}, entry_kind::normal, as_bytes(ten)});
  CHECK(c.run(log_index{1}, 64, 1 << 20).size() == 64);
  CHECK(c.run(log_index{90}, 64, 1 << 20).size() == 11);
  CHECK(c.run(log_index{1}, 64, 35).size() == 3);
  CHECK(c.run(log_index{1}, 64, 1).size() == 1);
  CHECK(c.upto(log_index{95}, 100).size() == 6);
  CHECK(c.upto(log_index{101}, 100).empty());
}

TEST_CASE("entry_cache: releasing every entry, or past them, empties it and it goes on after them") {
  for (const std::uint64_t upto : {std::uint64_t{20}, std::uint64_t{25}}) {
    CAPTURE(upto);
    entry_cache c;
    const std::string ten(10, 'q');
    for (std::uint64_t i = 1; i <= 20; ++i)
      c.append(log_index{i}, entry_view{term_id{1}, entry_kind::normal, as_bytes(ten)});
    c.release(log_index{5});
    CHECK(c.bytes() == 15 * (10 + entry_cache::per_entry_bytes));
    c.release(log_index{upto});
    CHECK(c.size() == 0);
    CHECK(c.bytes() == 0);
    CHECK(c.first() == log_index{upto + 1});
    c.append(log_index{upto + 1}, entry_view{term_id{2}, entry_kind::normal, as_bytes(ten)});
    CHECK(c.holds(log_index{upto + 1}));
    CHECK(c.bytes() == 10 + entry_cache::per_entry_bytes);
  }
}

TEST_CASE("entry_cache: data that views the cache itself is copied before the arena moves") {
  entry_cache c;
  const std::string first(3000, 'q');
  c.append(log_index{1}, entry_view{term_id{1}, entry_kind::normal, as_bytes(first)});
  for (std::uint64_t i = 2; i <= 8; ++i) {
    const byte_view again = c.at(log_index{i - 1}).data;  // re-proposing a cached command
    c.append(log_index{i}, entry_view{term_id{1}, entry_kind::normal, again});
  }
  for (std::uint64_t i = 1; i <= 8; ++i) CHECK(text(c.at(log_index{i}).data) == first);
}

TEST_CASE("raft_log: batches and entries served from the cache equal those read back from the Log") {
  raft_log<storage::memory_log> cached{storage::memory_log{}};
  raft_log<storage::memory_log> uncached{storage::memory_log{}, entry_cache_options{0}};
  std::vector<std::string> data;
  for (std::uint64_t i = 1; i <= 300; ++i) data.push_back(payload(i));
  for (std::uint64_t i = 1; i <= 300; ++i) {
    const entry_view e{term_id{1 + i / 100}, i % 50 == 0 ? entry_kind::noop : entry_kind::normal,
                       i % 50 == 0 ? byte_view{} : as_bytes(data[i - 1])};
    REQUIRE(cached.append(e).has_value());
    REQUIRE(uncached.append(e).has_value());
  }
  CHECK(cached.cache().size() == 300);
  CHECK(uncached.cache().size() == 0);
  for (std::uint64_t from : {1u, 63u, 250u, 300u}) {
    auto a = cached.batch(log_index{from}, 64, 1 << 20);
    REQUIRE(a.has_value());
    std::vector<std::string> got_a;
    std::vector<term_id> terms_a;
    for (const auto& e : *a) got_a.push_back(text(e.data)), terms_a.push_back(e.term);
    auto b = uncached.batch(log_index{from}, 64, 1 << 20);
    REQUIRE(b.has_value());
    std::vector<std::string> got_b;
    std::vector<term_id> terms_b;
    for (const auto& e : *b) got_b.push_back(text(e.data)), terms_b.push_back(e.term);
    CHECK(got_a == got_b);
    CHECK(terms_a == terms_b);
  }
  // What the Log holds is the same record either way, and a released entry is read from it.
  cached.release(log_index{200});
  CHECK_FALSE(cached.cache().holds(log_index{200}));
  for (std::uint64_t i : {1u, 150u, 200u, 201u, 300u}) {
    auto a = cached.entry(log_index{i});
    auto b = uncached.entry(log_index{i});
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CHECK(text(a->data) == text(b->data));
    CHECK(a->term == b->term);
    CHECK(a->kind == b->kind);
    CHECK(text(*cached.policy().read(log_index{i})) == text(*uncached.policy().read(log_index{i})));
  }
}

TEST_CASE("raft_log: a follower's truncation drops the cached suffix too") {
  raft_log<storage::memory_log> log{storage::memory_log{}};
  const std::string a = "from term 1", b = "from term 2";
  std::vector<entry_view> first(5, entry_view{term_id{1}, entry_kind::normal, as_bytes(a)});
  REQUIRE(log.append_from(log_index{1}, first, log_index{}).has_value());
  std::vector<entry_view> conflict(2, entry_view{term_id{2}, entry_kind::normal, as_bytes(b)});
  auto t = log.append_from(log_index{4}, conflict, log_index{2});
  REQUIRE(t.has_value());
  CHECK(*t == log_index{4});
  CHECK(log.last_index() == log_index{5});
  CHECK(text(log.entry(log_index{3})->data) == a);
  CHECK(text(log.entry(log_index{4})->data) == b);
  CHECK(text(log.entry(log_index{5})->data) == b);
  CHECK(log.entry(log_index{5})->term == term_id{2});
}

TEST_CASE("memory_log: a record appended in two pieces is the record appended whole") {
  storage::memory_log one, two;
  const std::string head = "hd", body = "the body of the record";
  REQUIRE(one.append(as_bytes(head + body)).has_value());
  REQUIRE(two.append(as_bytes(head), as_bytes(body)).has_value());
  REQUIRE(two.append(byte_view{}, as_bytes(body)).has_value());
  CHECK(text(*one.read(log_index{1})) == text(*two.read(log_index{1})));
  CHECK(text(*two.read(log_index{2})) == body);
  storage::memory_log small{storage::memory_log_options{8, 64}};
  auto r = small.append(as_bytes(head), as_bytes(body));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::too_large);
  // Pieces viewing the log's own storage are copied before it grows.
  REQUIRE(two.append(*two.read(log_index{1}), *two.read(log_index{2})).has_value());
  CHECK(text(*two.read(log_index{3})) == head + body + body);
}

TEST_CASE("configuration: the quorum index of small and large voter sets is the majority's lowest match") {
  std::mt19937_64 rng{7};
  for (std::size_t voters = 1; voters <= 11; ++voters) {
    std::vector<node_id> ids;
    for (std::size_t k = 1; k <= voters; ++k) ids.push_back(node_id{k});
    configuration cfg{node_id{1}, ids};
    for (int trial = 0; trial < 200; ++trial) {
      std::vector<log_index> match;
      for (std::size_t k = 0; k < voters; ++k) match.push_back(log_index{rng() % 20});
      const log_index q = cfg.quorum_index([&](std::size_t i) { return match[i]; });
      // A majority holds q, and no majority holds anything higher.
      const auto holding = [&](log_index x) {
        return static_cast<std::size_t>(std::count_if(match.begin(), match.end(), [&](log_index m) { return m >= x; }));
      };
      CHECK(holding(q) >= voters / 2 + 1);
      CHECK(holding(q.next()) < voters / 2 + 1);
    }
  }
}

TEST_CASE("configuration: a joint quorum index needs both majorities") {
  membership m{{node_id{1}, node_id{2}, node_id{3}}, {node_id{3}, node_id{4}, node_id{5}}, {}};
  configuration cfg{node_id{1}, m};
  // Incoming {1,2,3} holds 9 by majority; outgoing {3,4,5} only 2.
  const std::vector<log_index> match{log_index{9}, log_index{9}, log_index{2}, log_index{1}, log_index{2}};
  CHECK(cfg.quorum_index([&](std::size_t i) { return match[i]; }) == log_index{2});
}

namespace {

// A Log with only the required calls: raft_log appends to it one record at a time.
struct plain_log {
  storage::memory_log m;
  [[nodiscard]] log_index first_index() const noexcept { return m.first_index(); }
  [[nodiscard]] log_index last_index() const noexcept { return m.last_index(); }
  result<log_index> append(byte_view b) { return m.append(b); }
  result<byte_view> read(log_index i) { return m.read(i); }
  result<void> truncate(log_index i) { return m.truncate(i); }
  result<void> compact(log_index i) { return m.compact(i); }
  result<void> save_state(byte_view b) { return m.save_state(b); }
  [[nodiscard]] byte_view state() const noexcept { return m.state(); }
  result<void> sync() { return m.sync(); }
};
static_assert(!raft::detail::appends_runs<plain_log> && !raft::detail::appends_in_two_pieces<plain_log>);
static_assert(raft::detail::appends_runs<storage::memory_log>);

}  // namespace

TEST_CASE("entry_cache: a run appended at once is the same as its entries appended one by one") {
  // Small bounds, so that runs evict, pack and grow the arena.
  for (std::size_t max_bytes : {std::size_t{4096}, std::size_t{20000}, std::size_t{8} << 20}) {
    entry_cache run{entry_cache_options{max_bytes}}, one{entry_cache_options{max_bytes}};
    std::vector<std::string> data;
    for (std::uint64_t i = 1; i <= 1500; ++i) data.push_back(i % 11 == 0 ? std::string{} : payload(i));
    std::vector<entry_view> es;
    for (std::uint64_t i = 1; i <= 1500; ++i)
      es.push_back(entry_view{term_id{1 + i / 400}, entry_kind::normal, as_bytes(data[i - 1])});
    std::size_t at = 0;
    for (std::size_t len = 1; at < es.size(); len = len % 70 + 3) {
      const std::size_t n = std::min(len, es.size() - at);
      run.append_run(log_index{at + 1}, std::span<const entry_view>{es}.subspan(at, n));
      at += n;
      if (at % 5 == 0 && at > 20) run.release(log_index{at - 20});  // as applying would
    }
    for (std::uint64_t i = 1; i <= 1500; ++i) one.append(log_index{i}, es[i - 1]);
    // `one` released nothing while appending: release the same prefix now.
    one.release(run.first().prev());
    REQUIRE(run.first() == one.first());
    REQUIRE(run.last() == log_index{1500});
    REQUIRE(one.last() == log_index{1500});
    CHECK(run.bytes() == one.bytes());
    for (log_index i = run.first(); i <= run.last(); i = i.next()) {
      CHECK(text(run.at(i).data) == data[i.value() - 1]);
      CHECK(run.at(i).term == one.at(i).term);
    }
  }
}

TEST_CASE("entry_cache: a run viewing the cache's own bytes is copied before the arena moves") {
  entry_cache c;
  const std::string first(3000, 'q');
  c.append(log_index{1}, entry_view{term_id{1}, entry_kind::normal, as_bytes(first)});
  const std::vector<entry_view> again(3, c.at(log_index{1}));  // re-proposing a cached command, three times
  c.append_run(log_index{2}, again);
  for (std::uint64_t i = 1; i <= 4; ++i) CHECK(text(c.at(log_index{i}).data) == first);
}

TEST_CASE("raft_log: a follower's runs give the same log over a Log that takes runs and one that does not") {
  raft_log<storage::memory_log> fast{storage::memory_log{}};
  raft_log<plain_log> plain{plain_log{}};
  std::vector<std::string> data;
  for (std::uint64_t i = 1; i <= 400; ++i) data.push_back(payload(i));
  const auto entries = [&](std::uint64_t from, std::size_t n, std::uint64_t term) {
    std::vector<entry_view> es;
    for (std::uint64_t i = from; i < from + n; ++i)
      es.push_back(entry_view{term_id{term}, i % 30 == 0 ? entry_kind::noop : entry_kind::normal,
                              i % 30 == 0 ? byte_view{} : as_bytes(data[i - 1])});
    return es;
  };
  struct step {
    std::uint64_t start;
    std::size_t n;
    std::uint64_t term;
    log_index truncated;
  };
  // Fresh runs, a run overlapping what is held, a conflict in the middle of a run, and single entries.
  const std::vector<step> steps{{1, 64, 1, {}},   {65, 1, 1, {}},   {40, 64, 1, {}},  {104, 100, 2, {}},
                                {150, 64, 3, log_index{150}}, {214, 1, 3, {}}, {215, 180, 3, {}}};
  for (const step& s : steps) {
    const auto es = entries(s.start, s.n, s.term);
    auto a = fast.append_from(log_index{s.start}, es, log_index{});
    auto b = plain.append_from(log_index{s.start}, es, log_index{});
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CHECK(*a == s.truncated);
    CHECK(*b == s.truncated);
    REQUIRE(fast.last_index() == plain.last_index());
  }
  REQUIRE(fast.last_index() == log_index{394});
  for (log_index i{1}; i <= fast.last_index(); i = i.next()) {
    CHECK(text(*fast.policy().read(i)) == text(*plain.policy().m.read(i)));
    CHECK(fast.term_at(i) == plain.term_at(i));
    auto a = fast.entry(i);
    REQUIRE(a.has_value());
    CHECK(text(a->data) == (i.value() % 30 == 0 ? std::string{} : data[i.value() - 1]));
    CHECK(a->term == term_id{i.value() < 104 ? 1u : i.value() < 150 ? 2u : 3u});
  }
  CHECK(fast.cache().size() == plain.cache().size());
  CHECK(fast.cache().bytes() == plain.cache().bytes());
  CHECK(fast.dirty());
  REQUIRE(fast.sync());
  CHECK(fast.synced_index() == log_index{394});
}
