// The codec: every message and record round-trips, and the decoders are
// total (any byte string is a value or an error, never a crash).
#include <doctest/doctest.h>

#include "quorum/core/random.hpp"
#include "quorum/two_phase_commit.hpp"

using namespace quorum;
using namespace quorum::two_phase_commit;

TEST_CASE("codec: a prepare round-trips with its participants") {
  const node_id ps[] = {node_id{2}, node_id{3}, node_id{300}};
  message m;
  m.type = message_type::prepare;
  m.from = node_id{1};
  m.to = node_id{2};
  m.txn = txn_id{std::uint64_t{1} << 40};
  m.coordinator = node_id{1};
  m.horizon = txn_id{17};
  m.presumption = presumption::commit;
  m.vote = vote::read_only;
  m.decision = decision::commit;
  m.participants = ps;
  byte_buffer b;
  encode(m, b);
  std::vector<node_id> scratch;
  auto d = decode(b, scratch);
  REQUIRE(d);
  CHECK(d->type == m.type);
  CHECK(d->from == m.from);
  CHECK(d->to == m.to);
  CHECK(d->txn == m.txn);
  CHECK(d->coordinator == m.coordinator);
  CHECK(d->horizon == m.horizon);
  CHECK(d->presumption == m.presumption);
  CHECK(d->vote == m.vote);
  CHECK(d->decision == m.decision);
  REQUIRE(d->participants.size() == 3);
  CHECK(d->participants[2] == node_id{300});
}

TEST_CASE("codec: bad bytes are errors naming what is wrong") {
  std::vector<node_id> scratch;
  message m;
  byte_buffer b;
  encode(m, b);
  for (std::size_t cut = 0; cut < b.size(); ++cut) {
    auto d = decode(byte_view{b}.first(cut), scratch);
    REQUIRE_FALSE(d);
    CHECK(d.error().code == errc::truncated);
  }
  byte_buffer bad = b;
  bad[1] = std::byte{99};
  CHECK(decode(bad, scratch).error().code == errc::malformed);
  bad = b;
  bad.push_back(std::byte{0});
  CHECK_FALSE(decode(bad, scratch));
  message_limits tight;
  tight.max_participants = 1;
  const node_id ps[] = {node_id{2}, node_id{3}};
  m.participants = ps;
  b.clear();
  encode(m, b);
  CHECK(decode(b, scratch, tight).error().code == errc::too_large);
}

TEST_CASE("codec: random bytes never crash either decoder") {
  seeded_random rng{42};
  std::vector<node_id> scratch;
  std::size_t ok = 0;
  byte_buffer b;
  for (int i = 0; i < 20000; ++i) {
    b.resize(rng.below(24));
    for (auto& x : b) x = std::byte{static_cast<unsigned char>(rng.below(rng.chance(0.5) ? 4 : 256))};
    if (!b.empty() && rng.chance(0.5)) b[0] = std::byte{1};
    if (decode(b, scratch)) ++ok;
    (void)decode_record(b, scratch, 64);
  }
  CHECK(ok < 20000);
}

TEST_CASE("codec: records and hard state round-trip") {
  const node_id ps[] = {node_id{4}, node_id{5}};
  record r{record_kind::prepared, txn_id{9}, node_id{1}, 2, ps};
  byte_buffer b;
  encode(r, b);
  std::vector<node_id> scratch;
  auto d = decode_record(b, scratch, 8);
  REQUIRE(d);
  CHECK(d->kind == record_kind::prepared);
  CHECK(d->txn == txn_id{9});
  CHECK(d->value == 2);
  CHECK(d->nodes.size() == 2);
  CHECK(decode_record(b, scratch, 1).error().code == errc::too_large);
  const std::pair<node_id, txn_id> hs[] = {{node_id{1}, txn_id{7}}, {node_id{2}, txn_id{3}}};
  b.clear();
  encode_horizons(hs, b);
  std::vector<std::pair<node_id, txn_id>> out;
  REQUIRE(decode_horizons(b, 8, out));
  CHECK(out.size() == 2);
  CHECK(out[1].second == txn_id{3});
  CHECK_FALSE(decode_horizons(byte_view{b}.first(2), 8, out));
}
