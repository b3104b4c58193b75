// The journal's runs: consecutive slots at one ballot become one Log record
// (version 2), read back by slot with the record cache on and off; the
// decoder is total; a journal of version-1 records (written before runs)
// still recovers, mixed with runs, and a node restarted from one goes on.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "cluster.hpp"

using namespace paxos_test;

namespace {

// The entry views v: a literal, or a string that outlives it.
entry at_slot(std::uint64_t s, ballot b, std::string_view v, entry_kind k = entry_kind::normal) {
  return entry{log_index{s}, b, k, as_bytes(v)};
}

// Writes each value as the slot after the one before, from `first`, at b.
void write_run(journal<test_log>& j, record_kind k, std::uint64_t first, ballot b,
               const std::vector<std::string>& values) {
  for (std::size_t i = 0; i < values.size(); ++i) REQUIRE(j.write(k, at_slot(first + i, b, values[i])));
}

std::string value_of(journal<test_log>& j, std::uint64_t s) {
  auto e = j.read(log_index{s});
  REQUIRE(e.has_value());
  REQUIRE(e->slot == log_index{s});
  return std::string(as_chars(e->data));
}

}  // namespace

TEST_CASE("paxos journal run: a run record round-trips every slot, v1 and v2 decode alike") {
  const std::vector<std::string> values{"a", "", std::string(300, 'x'), "dd"};
  std::vector<entry> es;
  for (std::size_t i = 0; i < values.size(); ++i)
    es.push_back(at_slot(7 + i, bal(3, 2), values[i], i == 1 ? entry_kind::noop : entry_kind::normal));
  byte_buffer rec;
  encode_run(record_kind::accepted, es, rec);
  auto r = decode_run(rec);
  REQUIRE(r.has_value());
  CHECK(r->kind == record_kind::accepted);
  CHECK(r->first == log_index{7});
  CHECK(r->bal == bal(3, 2));
  REQUIRE(r->count == 4);
  std::size_t i = 0;
  r->for_each([&](const entry& e) {
    CHECK(e.slot == log_index{7 + i});
    CHECK(e.bal == bal(3, 2));
    CHECK(e.kind == (i == 1 ? entry_kind::noop : entry_kind::normal));
    CHECK(as_chars(e.data) == values[i]);
    ++i;
  });
  CHECK(i == 4);
  CHECK(as_chars(r->at(2).data) == values[2]);

  // A builder reused: a second run carries nothing of the first.
  run_builder b;
  b.start(record_kind::accepted, es[0]);
  for (const entry& e : es) b.add(e);
  (void)b.head();
  const entry only = at_slot(1, bal(1, 1), "only");
  b.start(record_kind::chosen, only);
  b.add(only);
  byte_buffer rec2(b.head().begin(), b.head().end());
  CHECK(b.values_bytes() == 4);
  rec2.insert(rec2.end(), only.data.begin(), only.data.end());
  auto r2 = decode_run(rec2);
  REQUIRE(r2.has_value());
  CHECK(r2->kind == record_kind::chosen);
  CHECK(r2->count == 1);
  CHECK(as_chars(r2->at(0).data) == "only");
}

TEST_CASE("paxos journal run: add_all() says where the values it added lie back to back, and only when they do") {
  const std::string joined = "aaaabbbbbbcc";
  const ballot b = bal(2, 1);
  const auto piece = [&](std::size_t from, std::size_t n) { return std::string_view{joined}.substr(from, n); };
  run_builder r;
  const std::byte* contiguous = nullptr;

  // Back to back, with a no-op between (an empty value lies anywhere).
  const std::vector<entry> adjacent{at_slot(1, b, piece(0, 4)), entry{log_index{2}, b, entry_kind::noop, {}},
                                    at_slot(3, b, piece(4, 6)), at_slot(4, b, piece(10, 2))};
  r.start(record_kind::accepted, adjacent.front());
  CHECK(r.add_all(adjacent, 1 << 16, contiguous) == 4);
  CHECK(contiguous == as_bytes(joined).data());
  CHECK(r.values_bytes() == joined.size());

  // A gap between two values: not one piece.
  const std::vector<entry> gap{at_slot(1, b, piece(0, 4)), at_slot(2, b, piece(5, 3))};
  r.start(record_kind::accepted, gap.front());
  CHECK(r.add_all(gap, 1 << 16, contiguous) == 2);
  CHECK(contiguous == nullptr);

  // Stopped by max_bytes: what was added is one piece even if the rest is not.
  const std::string far = "zzzz";
  const std::vector<entry> cut{at_slot(1, b, piece(0, 4)), at_slot(2, b, piece(4, 6)), at_slot(3, b, far)};
  r.start(record_kind::accepted, cut.front());
  // Room for two heads and values, and short of the third value by a byte.
  CHECK(r.add_all(cut, 2 * 2 + 10 + max_run_entry_head_bytes + far.size() - 1, contiguous) == 2);
  CHECK(contiguous == as_bytes(joined).data());
  CHECK(r.values_bytes() == 10);

  // A no-op first, its empty view pointing nowhere: the rest still counts from the first value.
  const std::vector<entry> noop_first{entry{log_index{1}, b, entry_kind::noop, {}}, at_slot(2, b, piece(4, 6)),
                                      at_slot(3, b, piece(10, 2))};
  r.start(record_kind::accepted, noop_first.front());
  CHECK(r.add_all(noop_first, 1 << 16, contiguous) == 3);
  CHECK((contiguous == nullptr || contiguous == as_bytes(joined).data() + 4));
}

TEST_CASE("paxos journal run: every truncation and every byte changed gives an error or a sane record, never a crash") {
  const std::vector<std::string> values{"v0", "v1", "v2", "v3", "v4"};
  std::vector<entry> es;
  for (std::size_t i = 0; i < values.size(); ++i) es.push_back(at_slot(100 + i, bal(9, 3), values[i]));
  byte_buffer rec;
  encode_run(record_kind::accepted, es, rec);
  for (std::size_t n = 0; n < rec.size(); ++n) {
    auto r = decode_run(byte_view{rec}.first(n));
    CHECK_FALSE(r.has_value());  // a run's values must match their lengths exactly
  }
  for (std::size_t at = 0; at < rec.size(); ++at) {
    for (int flip : {0x01, 0x80, 0xff}) {
      byte_buffer bad = rec;
      bad[at] ^= static_cast<std::byte>(flip);
      auto r = decode_run(bad);
      if (!r) continue;
      std::size_t total = 0;
      r->for_each([&](const entry& e) { total += e.data.size(); });
      CHECK(total <= bad.size());
      CHECK(r->count <= bad.size());
    }
  }
  // A count that claims more slots than the bytes could hold is refused.
  byte_buffer lie{std::byte{3}, std::byte{1}, std::byte{1}, std::byte{1}, std::byte{100}, std::byte{0}, std::byte{0}};
  CHECK(decode_run(lie).error().code == errc::malformed);
  CHECK(decode_run({}).error().code == errc::truncated);
}

TEST_CASE("paxos journal run: consecutive slots at one ballot are one Log record, read back by slot") {
  for (std::size_t cache : {std::size_t{8} << 20, std::size_t{0}}) {
    CAPTURE(cache);
    disk d;
    journal<test_log> j{test_log{&d}, cache};
    REQUIRE(j.recover(1000));
    write_run(j, record_kind::accepted, 1, bal(1, 1), {"a", "b", "c"});
    CHECK(d.live.last_index() == log_index{0});  // staged: nothing in the Log before the sync
    CHECK(value_of(j, 2) == "b");                // the open run is read from the cache, even one of 0 bytes
    write_run(j, record_kind::accepted, 4, bal(1, 1), {"d"});
    write_run(j, record_kind::accepted, 6, bal(1, 1), {"f"});       // a gap: a new run
    write_run(j, record_kind::accepted, 7, bal(2, 1), {"g", "h"});  // another ballot: a new run
    write_run(j, record_kind::chosen, 9, bal(2, 1), {"i"});         // another kind: a new run
    REQUIRE(j.sync());
    CHECK(d.durable.last_index() == log_index{4});
    for (auto [s, v] : std::vector<std::pair<std::uint64_t, std::string>>{
             {1, "a"}, {2, "b"}, {3, "c"}, {4, "d"}, {6, "f"}, {7, "g"}, {8, "h"}, {9, "i"}})
      CHECK(value_of(j, s) == v);
    CHECK(j.read(log_index{5}).error().code == errc::not_found);
    CHECK(j.at(log_index{8})->position == j.at(log_index{7})->position);  // one record holds both
    CHECK(static_cast<bool>(j.at(log_index{9})->chosen));

    // A restart finds the same: every slot, from its run.
    journal<test_log> k{test_log{&d}, cache};
    REQUIRE(k.recover(1000));
    CHECK(k.known_end() == log_index{9});
    for (auto [s, v] :
         std::vector<std::pair<std::uint64_t, std::string>>{{1, "a"}, {3, "c"}, {7, "g"}, {8, "h"}, {9, "i"}})
      CHECK(value_of(k, s) == v);
    CHECK(k.at(log_index{8})->accepted == bal(2, 1));
  }
}

TEST_CASE("paxos journal run: a run stops at journal_run_bytes, a value over it is a record of its own") {
  disk d;
  journal<test_log> j{test_log{&d}, std::size_t{8} << 20, 100};
  const std::string v(30, 'v');
  write_run(j, record_kind::accepted, 1, bal(1, 1), {v, v, v, v, v, v});  // 2 or 3 fit in 100 bytes
  write_run(j, record_kind::accepted, 7, bal(1, 1), {std::string(500, 'w')});
  REQUIRE(j.sync());
  std::uint64_t records = d.durable.last_index().value();
  CHECK(records >= 3);
  CHECK(records <= 4);
  for (log_index i{1}; i <= d.durable.last_index(); i = i.next()) {
    auto r = decode_run(*d.durable.read(i));
    REQUIRE(r.has_value());
    if (r->count > 1) CHECK(d.durable.read(i)->size() <= 100);
  }
  for (std::uint64_t s = 1; s <= 6; ++s) CHECK(value_of(j, s) == v);
  CHECK(value_of(j, 7) == std::string(500, 'w'));
}

TEST_CASE("paxos journal run: recovery over version-1 records and runs keeps the highest ballot per slot") {
  disk d;
  byte_buffer b;
  auto put_v1 = [&](record_kind k, std::uint64_t slot, ballot bb, const char* v) {
    b.clear();
    encode_record(k, at_slot(slot, bb, v), b);
    REQUIRE(d.live.append(b));
  };
  put_v1(record_kind::accepted, 1, bal(1, 1), "old1");
  put_v1(record_kind::accepted, 2, bal(1, 1), "old2");
  put_v1(record_kind::accepted, 3, bal(1, 1), "old3");
  put_v1(record_kind::chosen, 4, bal(1, 1), "chosen4");
  {
    journal<test_log> j{test_log{&d}};
    REQUIRE(j.recover(1000));
    // A run at a higher ballot over slots 2..5: wins at 2, 3 and 5, not at the chosen 4.
    write_run(j, record_kind::accepted, 2, bal(2, 3), {"new2", "new3", "new4", "new5"});
    REQUIRE(j.sync());
  }
  journal<test_log> j{test_log{&d}};
  REQUIRE(j.recover(1000));
  CHECK(j.known_end() == log_index{5});
  CHECK(value_of(j, 1) == "old1");
  CHECK(value_of(j, 2) == "new2");
  CHECK(value_of(j, 3) == "new3");
  CHECK(value_of(j, 4) == "chosen4");
  CHECK(value_of(j, 5) == "new5");
  CHECK(j.at(log_index{3})->accepted == bal(2, 3));
  CHECK(static_cast<bool>(j.at(log_index{4})->chosen));
  CHECK(decode_run(*d.live.read(log_index{5}))->count == 4);  // the run is one record after the four old ones
}

TEST_CASE("paxos journal run: a run record with a slot past the gap bound is an error naming its position") {
  disk d;
  const entry far[] = {at_slot(1'000'000, bal(1, 1), "far"), at_slot(1'000'001, bal(1, 1), "farther")};
  byte_buffer rec;
  encode_run(record_kind::accepted, far, rec);
  REQUIRE(d.live.append(rec));
  journal<test_log> j{test_log{&d}};
  auto r = j.recover(10);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::corrupt_log);
  CHECK(r.error().detail == 1);
}

TEST_CASE("paxos journal run: a group restarted from version-1 journals chooses what they held and goes on in runs") {
  cluster c{3};
  // Nodes 1 and 2 accepted slots 1..3 at ballot (1, 1), one record per slot
  // (the format before runs), and promised it; node 3 saw nothing.
  for (std::uint64_t n : {1, 2}) {
    disk& d = c.disk_of(n);
    for (std::uint64_t s = 1; s <= 3; ++s)
      put_record(d, record_kind::accepted, at_slot(s, bal(1, 1), "v" + std::to_string(s)));
    put_promise(d, bal(1, 1));
    REQUIRE(d.live.sync());
    d.durable = d.live;
  }
  c.start();
  c.elect(2);
  REQUIRE(c.leader() == 2);
  for (int k = 0; k < 5; ++k) {
    c.tick_all();
    c.deliver();
  }
  for (std::uint64_t n = 1; n <= 3; ++n) {
    auto v = c.applied_values(n);
    REQUIRE(v.size() >= 3);
    CHECK(v[0] == "v1");
    CHECK(v[1] == "v2");
    CHECK(v[2] == "v3");
  }
  // New values go on in runs, restart included.
  {
    auto g = c[2].batch();
    for (int k = 0; k < 10; ++k) REQUIRE(c[2].propose(as_bytes("n" + std::to_string(k))));
  }
  c.deliver();
  c.tick_all();
  c.deliver();
  for (std::uint64_t n = 1; n <= 3; ++n) {
    auto v = c.applied_values(n);
    REQUIRE(v.size() == 13);
    CHECK(v.back() == "n9");
  }
  const log_index before = c.disk_of(3).durable.last_index();
  c.restart(3);
  CHECK(c[3].log().last_index() == before);
  CHECK(c[3].value_at(log_index{13}).has_value());
  CHECK(std::string(as_chars(c[3].value_at(log_index{13})->data)) == "n9");
  bool some_run = false;
  for (const auto& r : durable_records(c.disk_of(1)))
    if (r.value.slot == log_index{13}) some_run = true;
  CHECK(some_run);
  std::uint64_t records = 0;
  for (log_index i = c.disk_of(3).durable.first_index(); i <= c.disk_of(3).durable.last_index(); i = i.next())
    ++records;
  CHECK(records < 13);  // node 3 held all 13 slots in fewer records than slots
  CHECK(c.net.violations.empty());
}
