// Paxos's wire version 2: a message whose entries are a run (consecutive
// slots at the message's own ballot, every accept a leader sends) writes the
// first slot once and no per-entry slot or ballot. It round-trips; version 1
// of the same message still decodes to the same thing; its decoder is total.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cluster.hpp"
#include "quorum/codec/writer.hpp"
#include "quorum/core/random.hpp"

using namespace paxos_test;

namespace {

const std::vector<std::string> run_values{"alpha", "", std::string(200, 'z'), "d"};

std::vector<entry> run_at(std::uint64_t first, ballot b) {
  std::vector<entry> es;
  for (std::size_t i = 0; i < run_values.size(); ++i)
    es.push_back(
        entry{log_index{first + i}, b, i == 1 ? entry_kind::noop : entry_kind::normal, as_bytes(run_values[i])});
  return es;
}

message accept_of(std::span<const entry> es) {
  message m = msg(message_type::accept, 1, 3, bal(4, 1));
  m.slot = log_index{40};
  m.index = log_index{41};
  m.commit = log_index{39};
  m.entries = es;
  return m;
}

// The version-1 bytes of m, written field by field as that layout says.
byte_buffer version_1(const message& m) {
  byte_buffer out;
  codec::writer w{out};
  w.u8(1);
  w.u8(static_cast<std::uint8_t>(m.type));
  for (std::uint64_t v : {m.from.value(), m.to.value(), m.bal.round, m.bal.node.value(), m.slot.value(),
                          m.index.value(), m.commit.value()})
    w.varint(v);
  w.u8(m.reject ? 1 : 0);
  w.varint(m.entries.size());
  for (const entry& e : m.entries) {
    w.varint(e.slot.value());
    w.varint(e.bal.round);
    w.varint(e.bal.node.value());
    w.u8(static_cast<std::uint8_t>(e.kind));
    w.prefixed_bytes(e.data);
  }
  return out;
}

void check_same(const message& got, const message& want) {
  CHECK(got.type == want.type);
  CHECK(got.from == want.from);
  CHECK(got.to == want.to);
  CHECK(got.bal == want.bal);
  CHECK(got.slot == want.slot);
  CHECK(got.index == want.index);
  CHECK(got.commit == want.commit);
  CHECK(got.reject == want.reject);
  REQUIRE(got.entries.size() == want.entries.size());
  for (std::size_t i = 0; i < want.entries.size(); ++i) {
    CAPTURE(i);
    CHECK(got.entries[i].slot == want.entries[i].slot);
    CHECK(got.entries[i].bal == want.entries[i].bal);
    CHECK(got.entries[i].kind == want.entries[i].kind);
    CHECK(std::string(as_chars(got.entries[i].data)) == std::string(as_chars(want.entries[i].data)));
  }
}

}  // namespace

TEST_CASE("paxos message run: a run at the message's ballot is version 2, smaller, and round-trips") {
  const auto es = run_at(40, bal(4, 1));
  const message m = accept_of(es);
  byte_buffer b;
  b.push_back(std::byte{0xee});  // encode appends
  encode(m, b);
  CHECK(b[0] == std::byte{0xee});
  const byte_view v2 = byte_view{b}.subspan(1);
  CHECK(v2[0] == std::byte{wire_version_run});
  const byte_buffer v1 = version_1(m);
  CHECK(v2.size() + 3 * es.size() - 1 == v1.size());  // slot, round and node per entry, but the first slot once
  std::vector<entry> scratch;
  auto back = decode(v2, scratch);
  REQUIRE(back.has_value());
  check_same(*back, m);
  // The version-1 bytes of the same message, as a node before version 2 sent them, decode alike.
  auto old = decode(byte_view{v1}, scratch);
  REQUIRE(old.has_value());
  check_same(*old, m);
}

TEST_CASE("paxos message run: anything but a run at the message's ballot stays version 1") {
  std::vector<entry> es = run_at(40, bal(4, 1));
  std::vector<entry> other_ballot = es;
  other_ballot[2].bal = bal(3, 1);
  std::vector<entry> gap = es;
  gap[3].slot = log_index{50};
  for (const auto* list : {&other_ballot, &gap}) {
    const message m = accept_of(*list);
    byte_buffer b;
    encode(m, b);
    CHECK(b[0] == std::byte{wire_version});
    CHECK(b == version_1(m));
    std::vector<entry> scratch;
    auto back = decode(byte_view{b}, scratch);
    REQUIRE(back.has_value());
    check_same(*back, m);
  }
  byte_buffer none;
  encode(accept_of({}), none);
  CHECK(none[0] == std::byte{wire_version});
}

TEST_CASE("paxos message run: truncations, lies and damage are errors, never a crash or a large allocation") {
  const auto es = run_at(40, bal(4, 1));
  byte_buffer good;
  encode(accept_of(es), good);
  REQUIRE(good[0] == std::byte{wire_version_run});
  std::vector<entry> scratch;
  for (std::size_t n = 0; n < good.size(); ++n) CHECK_FALSE(decode(byte_view{good}.first(n), scratch).has_value());
  byte_buffer b = good;
  b.push_back(std::byte{0});
  CHECK(decode(byte_view{b}, scratch).error().code == errc::malformed);

  // The head is 2 bytes of version and type, 7 one-byte varints, the reject
  // byte: the count is at 10, the first slot at 11, the first kind at 12.
  REQUIRE(good[10] == std::byte{4});
  REQUIRE(good[11] == std::byte{40});
  b = good;
  b[10] = std::byte{0x7f};  // 127 entries: past what the bytes could hold
  CHECK_FALSE(decode(byte_view{b}, scratch).has_value());
  CHECK(scratch.capacity() < 127);
  b = good;
  b[11] = std::byte{0};  // a run from slot 0
  CHECK(decode(byte_view{b}, scratch).error().code == errc::malformed);
  b = good;
  b[12] = std::byte{7};  // an unknown kind
  CHECK(decode(byte_view{b}, scratch).error().code == errc::malformed);
  message_limits tight;
  tight.max_entries = 3;
  CHECK(decode(byte_view{good}, scratch, tight).error().code == errc::too_large);

  // A run of no entries is never written (that is version 1): refused.
  message empty = accept_of({});
  byte_buffer e;
  encode(empty, e);
  e[0] = std::byte{wire_version_run};
  CHECK(decode(byte_view{e}, scratch).error().code == errc::malformed);

  // A run whose last slot would pass the slot space.
  const std::vector<entry> high{entry{all_slots, bal(4, 1), entry_kind::normal, {}},
                                entry{all_slots + 1, bal(4, 1), entry_kind::normal, {}}};
  byte_buffer h;
  encode(accept_of(high), h);
  REQUIRE(h[0] == std::byte{wire_version_run});
  CHECK(decode(byte_view{h}, scratch).error().code == errc::malformed);
  const std::vector<entry> top{entry{all_slots, bal(4, 1), entry_kind::normal, {}}};
  byte_buffer t;
  encode(accept_of(top), t);
  CHECK(decode(byte_view{t}, scratch).has_value());

  seeded_random rng{7};
  std::size_t ok = 0;
  for (int i = 0; i < 20000; ++i) {
    b = good;
    b[rng.below(b.size())] = static_cast<std::byte>(rng.below(256));
    auto m = decode(byte_view{b}, scratch);
    if (!m) continue;
    ++ok;
    for (const entry& x : m->entries) REQUIRE(x.data.size() <= b.size());
  }
  CHECK(ok > 0);
}

TEST_CASE("paxos message run: one scratch decodes a long run, a short one, version 1 and no entries, each whole") {
  // The scratch only grows, for runs: a shorter run after a longer one must
  // give only its own entries, and a failed decode none of another's.
  std::vector<std::string> values;
  for (int i = 0; i < 70; ++i) values.push_back("v" + std::to_string(i));
  const auto run = [&](std::uint64_t first, std::size_t n) {
    std::vector<entry> es;
    for (std::size_t i = 0; i < n; ++i)
      es.push_back(entry{log_index{first + i}, bal(4, 1), entry_kind::normal, as_bytes(values[i])});
    return es;
  };
  std::vector<entry> scratch;
  const std::vector<entry> long_run = run(100, 70), short_run = run(7, 3);
  const std::vector<entry> mixed = {entry{log_index{5}, bal(2, 2), entry_kind::noop, {}}};  // version 1
  const message heartbeat = msg(message_type::heartbeat, 1, 3, bal(4, 1));
  for (const auto* es : {&long_run, &short_run, &mixed, &long_run, &short_run}) {
    const message m = accept_of(*es);
    byte_buffer b;
    encode(m, b);
    auto back = decode(byte_view{b}, scratch);
    REQUIRE(back.has_value());
    CHECK(back->entries.size() == es->size());
    check_same(*back, m);
    // A message with no entries after it has none.
    byte_buffer h;
    encode(heartbeat, h);
    auto hb = decode(byte_view{h}, scratch);
    REQUIRE(hb.has_value());
    CHECK(hb->entries.empty());
  }
  // Grown once to the longest, never shrunk or initialized again.
  CHECK(scratch.size() == long_run.size());
}
