// The no_answer mark on the wire: the byte that was `reject` (0 or 1) is a
// flags byte, bit 1 no_answer, on heartbeats only. Without the mark every
// message is byte for byte what the earlier encoder wrote, and those bytes
// still decode; a byte the earlier decoder refused (its bool was 0 or 1) is
// what a no_answer heartbeat carries, so an old peer drops it as malformed.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cluster.hpp"
#include "quorum/codec/reader.hpp"
#include "quorum/codec/writer.hpp"

using namespace paxos_test;

namespace {

// The head of the earlier layout up to (not including) the reject byte.
byte_buffer head_of(const message& m) {
  byte_buffer out;
  codec::writer w{out};
  w.u8(1);
  w.u8(static_cast<std::uint8_t>(m.type));
  for (std::uint64_t v : {m.from.value(), m.to.value(), m.bal.round, m.bal.node.value(), m.slot.value(),
                          m.index.value(), m.commit.value()})
    w.varint(v);
  return out;
}

// A message without entries as the earlier encoder wrote it, with `flags` in the reject byte.
byte_buffer earlier_bytes(const message& m, std::uint8_t flags) {
  byte_buffer out = head_of(m);
  codec::writer w{out};
  w.u8(flags);
  w.varint(0);
  return out;
}

message sample(message_type t) {
  message m = msg(t, 3, 1, bal(70000, 3));  // a multi-byte varint in the head
  m.slot = log_index{12};
  m.index = log_index{300};
  m.commit = log_index{11};
  return m;
}

}  // namespace

TEST_CASE("paxos message no_answer: without the mark every type encodes as before, and those bytes decode") {
  for (std::uint8_t t = 1; t <= max_message_type; ++t) {
    for (bool reject : {false, true}) {
      CAPTURE(int{t});
      CAPTURE(reject);
      message m = sample(static_cast<message_type>(t));
      m.reject = reject;
      byte_buffer now;
      encode(m, now);
      const byte_buffer before = earlier_bytes(m, reject ? 1 : 0);
      CHECK(now == before);
      std::vector<entry> scratch;
      auto back = decode(byte_view{before}, scratch);
      REQUIRE(back.has_value());
      CHECK(back->type == m.type);
      CHECK(back->bal == m.bal);
      CHECK(back->slot == m.slot);
      CHECK(back->index == m.index);
      CHECK(back->commit == m.commit);
      CHECK(back->reject == reject);
      CHECK_FALSE(back->no_answer);
    }
  }
}

TEST_CASE("paxos message no_answer: a marked heartbeat round-trips, and an earlier decoder's bool refuses its byte") {
  for (bool reject : {false, true}) {
    CAPTURE(reject);
    message m = sample(message_type::heartbeat);
    m.reject = reject;
    m.no_answer = true;
    byte_buffer b;
    encode(m, b);
    const std::size_t at = head_of(m).size();
    REQUIRE(b.size() == at + 2);
    CHECK(static_cast<std::uint8_t>(b[at]) == (reject ? 3 : 2));
    CHECK(b == earlier_bytes(m, reject ? 3 : 2));
    std::vector<entry> scratch;
    auto back = decode(byte_view{b}, scratch);
    REQUIRE(back.has_value());
    CHECK(back->no_answer);
    CHECK(back->reject == reject);
    CHECK(back->commit == m.commit);
    codec::reader old{byte_view{b}.subspan(at)};
    CHECK_FALSE(old.boolean().has_value());  // how the earlier decoder read that byte
  }
}

TEST_CASE("paxos message no_answer: the mark is not written on other types, and refused there when read") {
  for (std::uint8_t t = 1; t <= max_message_type; ++t) {
    const auto type = static_cast<message_type>(t);
    if (type == message_type::heartbeat) continue;
    CAPTURE(int{t});
    message m = sample(type);
    m.no_answer = true;
    byte_buffer b;
    encode(m, b);
    CHECK(b == earlier_bytes(m, 0));
    std::vector<entry> scratch;
    auto back = decode(byte_view{b}, scratch);
    REQUIRE(back.has_value());
    CHECK_FALSE(back->no_answer);
    for (std::uint8_t flags : {2, 3}) {
      auto bad = decode(byte_view{earlier_bytes(m, flags)}, scratch);
      REQUIRE_FALSE(bad.has_value());
      CHECK(bad.error().code == errc::malformed);
    }
  }
}

TEST_CASE("paxos message no_answer: unknown flag bits are refused on every type") {
  for (std::uint8_t t = 1; t <= max_message_type; ++t) {
    CAPTURE(int{t});
    const message m = sample(static_cast<message_type>(t));
    for (unsigned flags = 4; flags <= 255; ++flags) {
      CAPTURE(flags);
      std::vector<entry> scratch;
      auto bad = decode(byte_view{earlier_bytes(m, static_cast<std::uint8_t>(flags))}, scratch);
      REQUIRE_FALSE(bad.has_value());
      CHECK(bad.error().code == errc::malformed);
    }
  }
}
