// Paxos's wire codec and its journal records: round trips of every field,
// a total decoder (truncations, lies and random bytes give errors, never a
// crash or a large allocation), and journal recovery: the highest ballot per
// slot wins, a chosen record settles its slot, damage is named.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cluster.hpp"
#include "quorum/core/random.hpp"

using namespace paxos_test;

namespace {

message sample(message_type t, std::span<const entry> entries) {
  message m = msg(t, 2, 5, bal(7, 2));
  m.slot = log_index{11};
  m.index = log_index{19};
  m.commit = log_index{9};
  m.reject = t == message_type::promise;
  m.entries = entries;
  return m;
}

}  // namespace

TEST_CASE("paxos message: every type round-trips with all its fields") {
  const std::vector<entry> entries{{log_index{11}, bal(6, 1), entry_kind::normal, as_bytes("hello")},
                                   {log_index{12}, bal(7, 2), entry_kind::noop, {}}};
  for (std::uint8_t t = 1; t <= max_message_type; ++t) {
    const message m = sample(static_cast<message_type>(t), entries);
    byte_buffer b;
    encode(m, b);
    std::vector<entry> scratch;
    auto back = decode(byte_view{b}, scratch);
    REQUIRE(back.has_value());
    CHECK(back->type == m.type);
    CHECK(back->from == m.from);
    CHECK(back->to == m.to);
    CHECK(back->bal == m.bal);
    CHECK(back->slot == m.slot);
    CHECK(back->index == m.index);
    CHECK(back->commit == m.commit);
    CHECK(back->reject == m.reject);
    REQUIRE(back->entries.size() == 2);
    CHECK(back->entries[0].slot == log_index{11});
    CHECK(back->entries[0].bal == bal(6, 1));
    CHECK(as_chars(back->entries[0].data) == "hello");
    CHECK(back->entries[1].kind == entry_kind::noop);
    CHECK(std::string{to_string(m.type)} != "unknown");
  }
}

TEST_CASE("paxos message: encoded_bound covers the widest encoding, as a run and entry by entry") {
  // Every field at its widest varint, values whose length prefixes take one
  // to three bytes: encode() writes into room sized by the bound, unchecked.
  const std::uint64_t wide = ~std::uint64_t{0};
  const std::vector<std::string> values{"", "v", std::string(127, 'a'), std::string(128, 'b'), std::string(20000, 'c')};
  for (const bool run : {true, false}) {
    std::vector<entry> es;
    for (std::size_t i = 0; i < 40; ++i) {
      const std::string& v = values[i % values.size()];
      const ballot b = run ? ballot{wide, node_id{wide}} : ballot{wide - i, node_id{wide - 1}};
      es.push_back(entry{log_index{wide - 64 + i}, b, v.empty() ? entry_kind::noop : entry_kind::normal, as_bytes(v)});
    }
    message m;
    m.type = message_type::accept;
    m.from = node_id{wide};
    m.to = node_id{wide};
    m.bal = ballot{wide, node_id{wide}};
    m.slot = log_index{wide};
    m.index = log_index{wide};
    m.commit = log_index{wide};
    m.reject = true;
    for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{7}, es.size()}) {
      CAPTURE(run);
      CAPTURE(n);
      m.entries = std::span<const entry>{es}.first(n);
      byte_buffer b;
      encode(m, b);
      CHECK(b[0] == std::byte{run && n != 0 ? wire_version_run : wire_version});
      CHECK(b.size() <= quorum::paxos::detail::encoded_bound(m));
    }
  }
}

TEST_CASE("paxos message: every truncation and a trailing byte are errors") {
  const std::vector<entry> entries{{log_index{3}, bal(1, 1), entry_kind::normal, as_bytes("abc")}};
  byte_buffer b;
  encode(sample(message_type::accept, entries), b);
  std::vector<entry> scratch;
  for (std::size_t n = 0; n < b.size(); ++n) CHECK_FALSE(decode(byte_view{b}.first(n), scratch).has_value());
  b.push_back(std::byte{0});
  CHECK(decode(byte_view{b}, scratch).error().code == errc::malformed);
}

TEST_CASE("paxos message: bad versions, types, kinds, slots and counts are refused") {
  const std::vector<entry> entries{{log_index{3}, bal(1, 1), entry_kind::normal, as_bytes("abc")}};
  byte_buffer good;
  encode(sample(message_type::accept, entries), good);
  std::vector<entry> scratch;
  byte_buffer b = good;
  b[0] = std::byte{9};
  CHECK(decode(byte_view{b}, scratch).error().code == errc::malformed);
  b = good;
  b[1] = std::byte{0};
  CHECK(decode(byte_view{b}, scratch).error().code == errc::malformed);
  b = good;
  b[1] = std::byte{max_message_type + 1};
  CHECK(decode(byte_view{b}, scratch).error().code == errc::malformed);
  // A count of entries far past the input is refused before anything grows.
  message m = sample(message_type::heartbeat, {});
  byte_buffer lie;
  encode(m, lie);
  lie.back() = std::byte{100};
  CHECK_FALSE(decode(byte_view{lie}, scratch).has_value());
  CHECK(scratch.capacity() < 100);
  // Over the decoder's limits.
  message_limits tight;
  tight.max_entries = 0;
  CHECK(decode(byte_view{good}, scratch, tight).error().code == errc::too_large);
  tight = {};
  tight.max_entry_bytes = 2;
  CHECK(decode(byte_view{good}, scratch, tight).error().code == errc::too_large);
  // An entry at slot 0, or of an unknown kind.
  const std::vector<entry> zero{{log_index{0}, bal(1, 1), entry_kind::normal, {}}};
  b.clear();
  encode(sample(message_type::accept, zero), b);
  CHECK(decode(byte_view{b}, scratch).error().code == errc::malformed);
  const std::vector<entry> odd{{log_index{1}, bal(1, 1), static_cast<entry_kind>(7), {}}};
  b.clear();
  encode(sample(message_type::accept, odd), b);
  CHECK(decode(byte_view{b}, scratch).error().code == errc::malformed);
}

TEST_CASE("paxos message: random bytes and random mutations decode to a message or an error") {
  seeded_random rng{42};
  const std::vector<entry> entries{{log_index{3}, bal(1, 1), entry_kind::normal, as_bytes("abcdef")}};
  byte_buffer good;
  encode(sample(message_type::promise, entries), good);
  std::vector<entry> scratch;
  std::size_t ok = 0;
  for (int i = 0; i < 20000; ++i) {
    byte_buffer b = good;
    if (i % 2 == 0) {
      b.resize(rng.below(64));
      for (auto& x : b) x = static_cast<std::byte>(rng.below(256));
    } else {
      b[rng.below(b.size())] = static_cast<std::byte>(rng.below(256));
    }
    auto m = decode(byte_view{b}, scratch);
    if (!m) continue;
    ++ok;
    for (const entry& e : m->entries) REQUIRE(e.data.size() <= b.size());
  }
  CHECK(ok > 0);  // some mutations are still messages (a changed number)
}

TEST_CASE("paxos journal records and hard state round-trip, damage is an error") {
  const entry e{log_index{5}, bal(3, 2), entry_kind::noop, as_bytes("x")};
  byte_buffer b;
  encode_record(record_kind::chosen, e, b);  // version 1: one slot
  auto r = decode_run(b);
  REQUIRE(r.has_value());
  CHECK(r->kind == record_kind::chosen);
  CHECK(r->count == 1);
  const entry v = r->at(0);
  CHECK(v.slot == log_index{5});
  CHECK(v.bal == bal(3, 2));
  CHECK(v.kind == entry_kind::noop);
  CHECK(as_chars(v.data) == "x");
  b[0] = std::byte{5};
  CHECK(decode_run(b).error().code == errc::malformed);
  byte_buffer h;
  encode_promise(bal(8, 3), h);
  CHECK(*decode_promise(h) == bal(8, 3));
  h.push_back(std::byte{1});
  CHECK_FALSE(decode_promise(h).has_value());
  CHECK(*decode_promise({}) == ballot{});
}

TEST_CASE("paxos journal: recovery keeps the highest ballot per slot, and a chosen record settles it") {
  disk d;
  byte_buffer b;
  auto put = [&](record_kind k, std::uint64_t slot, ballot bb, const char* v) {
    b.clear();
    encode_record(k, entry{log_index{slot}, bb, entry_kind::normal, as_bytes(v)}, b);
    REQUIRE(d.live.append(b));
  };
  put(record_kind::accepted, 1, bal(2, 1), "low");
  put(record_kind::accepted, 1, bal(4, 2), "high");
  put(record_kind::accepted, 1, bal(3, 3), "middle");  // arrives late, loses
  put(record_kind::chosen, 2, bal(1, 1), "chosen");
  put(record_kind::accepted, 2, bal(5, 2), "after");    // a chosen slot never changes
  put(record_kind::accepted, 4, bal(5, 2), "gap");
  journal<test_log> j{test_log{&d}};
  auto promised = j.recover(1000);  // version-1 records, as journals written before runs
  REQUIRE(promised.has_value());
  CHECK(j.known_end() == log_index{4});
  CHECK(as_chars(j.read(log_index{1})->data) == "high");
  CHECK(j.read(log_index{1})->bal == bal(4, 2));
  CHECK(as_chars(j.read(log_index{2})->data) == "chosen");
  CHECK(static_cast<bool>(j.at(log_index{2})->chosen));
  CHECK_FALSE(static_cast<bool>(j.at(log_index{1})->chosen));
  CHECK(j.read(log_index{3}).error().code == errc::not_found);
  CHECK(j.watermark() == log_index{0});  // slot 1 is not known chosen
  j.mark_chosen(log_index{1});
  CHECK(j.advance());
  CHECK(j.watermark() == log_index{2});
}

TEST_CASE("paxos journal: a damaged record or hard state leaves the node inert, naming the position") {
  fabric f{3};
  disk& d = f.disk_of(1);
  put_record(d, record_kind::accepted, entry{log_index{1}, bal(1, 2), entry_kind::normal, as_bytes("ok")});
  const byte_buffer junk{std::byte{7}, std::byte{1}};
  REQUIRE(d.live.append(junk));
  test_node n{node_id{1}, f.ids(), test_transport{&f.net}, test_log{&d}, manual_clock{}, recorder{}, test_options()};
  REQUIRE_FALSE(n.status().has_value());
  CHECK(n.status().error().code == errc::corrupt_log);
  CHECK(n.status().error().detail == 2);
  disk& d2 = f.disk_of(2);
  REQUIRE(d2.live.save_state(junk));
  test_node m{node_id{2}, f.ids(), test_transport{&f.net}, test_log{&d2}, manual_clock{}, recorder{}, test_options()};
  CHECK(m.status().error().code == errc::corrupt_log);
}
