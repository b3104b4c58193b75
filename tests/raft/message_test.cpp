// The Raft wire codec and record formats: every message round-trips, every
// truncation and every corruption is an error value (never a crash or an
// unbounded allocation), and the limits are enforced before anything grows.
#include <doctest/doctest.h>

#include <span>
#include <string>
#include <vector>

#include "quorum/core/random.hpp"
#include "quorum/raft/entry.hpp"
#include "quorum/raft/hard_state.hpp"
#include "quorum/raft/message.hpp"

using namespace quorum;
using namespace quorum::raft;

namespace {

bool same(const message& a, const message& b) {
  if (a.type != b.type || a.from != b.from || a.to != b.to || a.term != b.term || a.index != b.index ||
      a.log_term != b.log_term || a.commit != b.commit || a.hint_index != b.hint_index || a.reject != b.reject ||
      a.no_answer != b.no_answer ||
      a.context != b.context || a.offset != b.offset || a.total != b.total ||
      as_chars(a.data) != as_chars(b.data) || a.entries.size() != b.entries.size())
    return false;
  for (std::size_t i = 0; i < a.entries.size(); ++i) {
    const auto& x = a.entries[i];
    const auto& y = b.entries[i];
    if (x.term != y.term || x.kind != y.kind || as_chars(x.data) != as_chars(y.data)) return false;
  }
  return true;
}

struct sample {
  std::vector<std::string> payloads{"", "a", std::string(300, 'x')};
  std::vector<entry_view> entries;
  message m;
  sample() {
    entries.push_back(entry_view{term_id{3}, entry_kind::noop, {}});
    entries.push_back(entry_view{term_id{4}, entry_kind::normal, as_bytes(payloads[1])});
    entries.push_back(entry_view{term_id{4}, entry_kind::config, as_bytes(payloads[2])});
    m.type = message_type::append_entries;
    m.from = node_id{1};
    m.to = node_id{300};
    m.term = term_id{4};
    m.index = log_index{1u << 20};
    m.log_term = term_id{3};
    m.commit = log_index{~std::uint64_t{0}};
    m.hint_index = log_index{17};
    m.reject = true;
    m.context = 99;
    m.offset = 1u << 30;
    m.total = ~std::uint64_t{0};
    m.data = as_bytes(payloads[2]);
    m.entries = entries;
  }
};

}  // namespace

TEST_CASE("raft message: every type round-trips, with and without entries") {
  sample s;
  std::vector<entry_view> storage;
  for (std::uint8_t t = 1; t <= max_message_type; ++t) {
    message m = s.m;
    m.type = static_cast<message_type>(t);
    for (bool with_entries : {false, true}) {
      m.entries = with_entries ? std::span<const entry_view>{s.entries} : std::span<const entry_view>{};
      byte_buffer out;
      encode(m, out);
      auto back = decode(out, storage);
      REQUIRE(back.has_value());
      CHECK(same(*back, m));
      byte_buffer again;
      encode(*back, again);
      CHECK(again == out);  // canonical: one encoding per message
    }
  }
}

TEST_CASE("raft message: encoded_bound covers the widest encoding") {
  // Every field at its widest varint, values whose length prefixes take one
  // to three bytes: encode() writes into room sized by the bound, unchecked.
  const std::uint64_t wide = ~std::uint64_t{0};
  const std::vector<std::string> values{"", "v", std::string(127, 'a'), std::string(128, 'b'), std::string(20000, 'c')};
  std::vector<entry_view> es;
  for (std::size_t i = 0; i < 40; ++i) {
    const std::string& v = values[i % values.size()];
    es.push_back(entry_view{term_id{wide}, v.empty() ? entry_kind::noop : entry_kind::normal, as_bytes(v)});
  }
  message m;
  m.type = message_type::append_entries;
  m.from = node_id{wide};
  m.to = node_id{wide};
  m.term = term_id{wide};
  m.index = log_index{wide};
  m.log_term = term_id{wide};
  m.commit = log_index{wide};
  m.hint_index = log_index{wide};
  m.reject = true;
  m.context = wide;
  m.offset = wide;
  m.total = wide;
  for (const std::size_t data : {std::size_t{0}, std::size_t{200}}) {
    const std::string snapshot(data, 's');
    m.data = as_bytes(snapshot);
    for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{7}, es.size()}) {
      CAPTURE(data);
      CAPTURE(n);
      m.entries = std::span<const entry_view>{es}.first(n);
      byte_buffer b;
      encode(m, b);
      CHECK(b.size() <= quorum::raft::detail::encoded_bound(m));
    }
  }
}

TEST_CASE("raft message: encode appends after what the buffer holds, also when the message views that buffer") {
  sample s;
  std::vector<entry_view> storage;
  byte_buffer alone;
  encode(s.m, alone);
  // Appended after a prefix: the prefix stays, the message follows it byte for byte.
  byte_buffer out(5, std::byte{0x5a});
  encode(s.m, out);
  REQUIRE(out.size() == 5 + alone.size());
  CHECK(byte_buffer(out.begin(), out.begin() + 5) == byte_buffer(5, std::byte{0x5a}));
  CHECK(byte_buffer(out.begin() + 5, out.end()) == alone);
  // A message whose data and entries view the very buffer it is appended to,
  // once when the buffer must grow (it moves) and once when it has room.
  for (const bool room : {false, true}) {
    CAPTURE(room);
    byte_buffer buf = alone;
    buf.shrink_to_fit();
    if (room) buf.reserve(4 * alone.size());
    const std::byte* before = buf.data();
    auto viewed = decode(buf, storage);  // data and entries view buf
    REQUIRE(viewed.has_value());
    const std::vector<entry_view> entries(viewed->entries.begin(), viewed->entries.end());
    viewed->entries = entries;
    encode(*viewed, buf);
    CHECK((buf.data() == before) == room);
    REQUIRE(buf.size() == 2 * alone.size());
    CHECK(byte_buffer(buf.begin() + static_cast<std::ptrdiff_t>(alone.size()), buf.end()) == alone);
  }
}

TEST_CASE("raft message: every truncation is an error, never a crash") {
  sample s;
  byte_buffer out;
  encode(s.m, out);
  std::vector<entry_view> storage;
  for (std::size_t n = 0; n < out.size(); ++n) {
    auto r = decode(byte_view{out}.first(n), storage);
    REQUIRE_FALSE(r.has_value());
    CHECK((r.error().code == errc::truncated || r.error().code == errc::malformed));
  }
  CHECK(decode(out, storage).has_value());
}

TEST_CASE("raft message: trailing bytes, unknown versions, types, kinds and term 0 are malformed") {
  sample s;
  byte_buffer out;
  encode(s.m, out);
  std::vector<entry_view> storage;
  byte_buffer longer = out;
  longer.push_back(std::byte{0});
  CHECK(decode(longer, storage).error().code == errc::malformed);
  byte_buffer bad = out;
  bad[0] = std::byte{9};  // version
  CHECK(decode(bad, storage).error().code == errc::malformed);
  for (std::uint8_t t : {0, max_message_type + 1, 255}) {
    bad = out;
    bad[1] = std::byte{t};
    CHECK(decode(bad, storage).error().code == errc::malformed);
  }
  message one = s.m;
  one.context = one.offset = one.total = 0;
  one.data = {};
  one.entries = std::span<const entry_view>{s.entries}.first(1);
  byte_buffer single;
  encode(one, single);
  // The single entry is the last 4 bytes: kind, term, length 0 ... (noop, term 3, empty data).
  byte_buffer kind = single;
  kind[kind.size() - 3] = std::byte{7};
  CHECK(decode(kind, storage).error().code == errc::malformed);
  byte_buffer term0 = single;
  term0[term0.size() - 2] = std::byte{0};
  CHECK(decode(term0, storage).error().code == errc::malformed);
  byte_buffer reject = single;
  // reject is followed by context, offset, total and the data length (one
  // byte each when zero) and the entry count (count 1 is one byte).
  reject[reject.size() - 9] = std::byte{2};
  CHECK(decode(reject, storage).error().code == errc::malformed);
}

TEST_CASE("raft message: no_answer goes out as version 2, everything else as version 1, which still decodes") {
  // Bytes written by the version-1-only encoder (before no_answer existed):
  // an append of one entry "ab", and a rejection with a two-byte hint.
  const std::uint8_t old_append[] = {0x01, 0x05, 0x01, 0x02, 0x02, 0x05, 0x01, 0x04, 0x00, 0x00,
                                     0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x02, 0x61, 0x62};
  const std::uint8_t old_reject[] = {0x01, 0x06, 0x02, 0x01, 0x02, 0x03, 0x00, 0x00, 0xac,
                                     0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00};
  std::vector<entry_view> storage;
  auto a = decode(std::as_bytes(std::span{old_append}), storage);
  REQUIRE(a.has_value());
  CHECK(a->type == message_type::append_entries);
  CHECK(a->index == log_index{5});
  CHECK(a->commit == log_index{4});
  CHECK_FALSE(a->no_answer);
  REQUIRE(a->entries.size() == 1);
  CHECK(as_chars(a->entries[0].data) == "ab");
  byte_buffer again;
  encode(*a, again);
  CHECK(again == byte_buffer(std::as_bytes(std::span{old_append}).begin(), std::as_bytes(std::span{old_append}).end()));
  std::vector<entry_view> storage2;
  auto r = decode(std::as_bytes(std::span{old_reject}), storage2);
  REQUIRE(r.has_value());
  CHECK(r->reject);
  CHECK_FALSE(r->no_answer);
  CHECK(r->hint_index == log_index{300});

  // With no_answer: version 2, flags bit 1, and it round-trips.
  message m = *a;
  m.entries = {};
  m.no_answer = true;
  byte_buffer v2;
  encode(m, v2);
  CHECK(v2[0] == std::byte{2});
  auto back = decode(v2, storage);
  REQUIRE(back.has_value());
  CHECK(same(*back, m));
  CHECK(back->no_answer);
  m.no_answer = false;
  byte_buffer v1;
  encode(m, v1);
  CHECK(v1[0] == std::byte{1});
  REQUIRE(v1.size() == v2.size());
  // One encoding per message: version 2 without no_answer, version 1 with
  // it, and unknown flag bits are malformed. The flags byte sits after
  // from, to, term, index, log_term, commit, hint_index (one byte each here).
  constexpr std::size_t flags_at = 9;
  CHECK(v2[flags_at] == std::byte{2});
  byte_buffer bad = v2;
  bad[flags_at] = std::byte{0};
  CHECK(decode(bad, storage).error().code == errc::malformed);
  bad[flags_at] = std::byte{1};
  CHECK(decode(bad, storage).error().code == errc::malformed);
  bad[flags_at] = std::byte{3};
  CHECK(decode(bad, storage).has_value());  // reject and no_answer: a valid version 2 encoding
  for (std::uint8_t f : {4, 6, 0x82, 0xff}) {
    bad[flags_at] = std::byte{f};
    CHECK(decode(bad, storage).error().code == errc::malformed);
  }
  bad = v1;
  bad[flags_at] = std::byte{2};
  CHECK(decode(bad, storage).error().code == errc::malformed);
  CHECK(decode(v1, storage).has_value());
  bad = v1;
  bad[0] = std::byte{3};  // no version 3 yet
  CHECK(decode(bad, storage).error().code == errc::malformed);
}

TEST_CASE("raft message: limits on entry count and size are enforced before allocation") {
  sample s;
  byte_buffer out;
  encode(s.m, out);
  std::vector<entry_view> storage;
  message_limits few;
  few.max_entries = 2;
  CHECK(decode(out, storage, few).error().code == errc::too_large);
  message_limits small;
  small.max_entry_bytes = 299;
  CHECK(decode(out, storage, small).error().code == errc::too_large);
  message_limits chunk;
  chunk.max_chunk_bytes = 299;  // the sample's snapshot data is 300 bytes
  CHECK(decode(out, storage, chunk).error().code == errc::too_large);
  // A count far past the input is refused without reserving for it.
  message empty = s.m;
  empty.entries = {};
  byte_buffer lie;
  encode(empty, lie);
  lie.back() = std::byte{0xff};
  lie.push_back(std::byte{0x0f});  // count 2047 with nothing after it
  message_limits many;
  many.max_entries = 100000;
  CHECK(decode(lie, storage, many).error().code == errc::truncated);
  CHECK(storage.capacity() < 64);
}

TEST_CASE("raft message: random bytes and random corruptions always decode to a value or an error") {
  sample s;
  byte_buffer good;
  encode(s.m, good);
  std::vector<entry_view> storage;
  seeded_random rng{42};
  std::size_t decoded = 0;
  for (int round = 0; round < 20000; ++round) {
    byte_buffer b = good;
    const auto flips = rng.between(1, 4);
    for (std::uint64_t k = 0; k < flips; ++k) b[rng.below(b.size())] = static_cast<std::byte>(rng.below(256));
    if (rng.chance(0.3)) b.resize(rng.below(b.size() + 1));
    auto r = decode(b, storage);
    if (r) {
      ++decoded;
      byte_buffer again;
      encode(*r, again);
      CHECK(again == b);  // whatever decodes is canonical
    }
  }
  CHECK(decoded > 0);
}

TEST_CASE("raft entry record and hard state: round trip, truncation and corruption") {
  byte_buffer rec;
  encode_entry_record(entry_view{term_id{300}, entry_kind::normal, as_bytes("payload")}, rec);
  auto e = decode_entry_record(rec);
  REQUIRE(e.has_value());
  CHECK(e->term == term_id{300});
  CHECK(e->kind == entry_kind::normal);
  CHECK(as_chars(e->data) == "payload");
  CHECK(decode_entry_record(byte_view{rec}.first(0)).error().code == errc::truncated);
  CHECK(decode_entry_record(byte_view{rec}.first(2)).error().code == errc::truncated);
  byte_buffer bad = rec;
  bad[0] = std::byte{3};
  CHECK(decode_entry_record(bad).error().code == errc::malformed);

  byte_buffer hs;
  encode_hard_state(hard_state{term_id{7}, node_id{3}}, hs);
  CHECK(*decode_hard_state(hs) == hard_state{term_id{7}, node_id{3}});
  CHECK(*decode_hard_state({}) == hard_state{});
  for (std::size_t n = 1; n < hs.size(); ++n) CHECK_FALSE(decode_hard_state(byte_view{hs}.first(n)).has_value());
  hs.push_back(std::byte{0});
  CHECK(decode_hard_state(hs).error().code == errc::malformed);
  hs.pop_back();
  hs[0] = std::byte{2};
  CHECK(decode_hard_state(hs).error().code == errc::malformed);
}
