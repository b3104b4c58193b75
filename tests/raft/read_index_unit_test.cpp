// The read bookkeeping on its own: read_queue (bounds, confirmation by
// round, the read index, expiry) and read_rounds (round numbers, quorum
// acknowledgement, the lease derived from a round's send tick).
#include <doctest/doctest.h>

#include <vector>

#include "quorum/raft/configuration.hpp"
#include "quorum/raft/read_index.hpp"

using namespace quorum;
using namespace quorum::raft;

namespace {

pending_read rd(std::uint64_t id, std::uint64_t round, std::uint64_t index, std::uint64_t since = 0,
                bool has_index = true) {
  return pending_read{id, round, log_index{index}, since, false, has_index};
}

std::vector<std::uint64_t> ready_ids(read_queue& q, std::uint64_t applied) {
  std::vector<std::uint64_t> out;
  q.take_ready(log_index{applied}, [&](std::uint64_t id, log_index) { out.push_back(id); });
  return out;
}

configuration five(node_id self = node_id{1}) {
  const std::vector<node_id> m{node_id{1}, node_id{2}, node_id{3}, node_id{4}, node_id{5}};
  return configuration{self, m};
}

}  // namespace

TEST_CASE("read_queue: holds at most its capacity and refuses the next read") {
  read_queue q{3};
  CHECK(q.push(rd(1, 1, 5)));
  CHECK(q.push(rd(2, 1, 5)));
  CHECK(q.push(rd(3, 1, 5)));
  CHECK(q.full());
  CHECK_FALSE(q.push(rd(4, 1, 5)));
  CHECK(q.size() == 3);
  q.take_all([](std::uint64_t) {});
  CHECK(q.empty());
  CHECK(q.push(rd(4, 1, 5)));
}

TEST_CASE("read_queue: a round confirms the reads that waited for it or an earlier one only") {
  read_queue q{10};
  q.push(rd(1, 3, 4));
  q.push(rd(2, 4, 4));
  q.push(rd(3, 5, 4));
  q.confirm(4);
  CHECK(ready_ids(q, 10) == std::vector<std::uint64_t>{1, 2});
  CHECK(q.size() == 1);
  q.confirm(4);  // again: still not round 5
  CHECK(ready_ids(q, 10).empty());
  q.confirm(5);
  CHECK(ready_ids(q, 10) == std::vector<std::uint64_t>{3});
}

TEST_CASE("read_queue: a confirmed read waits until its index is applied and keeps its order") {
  read_queue q{10};
  q.push(rd(1, 1, 7));
  q.push(rd(2, 1, 5));
  q.push(rd(3, 1, 9));
  q.confirm(1);
  CHECK(ready_ids(q, 4).empty());
  CHECK(ready_ids(q, 7) == std::vector<std::uint64_t>{1, 2});
  CHECK(ready_ids(q, 9) == std::vector<std::uint64_t>{3});
}

TEST_CASE("read_queue: set_index gives the index only to reads that had none") {
  read_queue q{10};
  q.push(rd(1, 1, 0, 0, false));
  q.push(rd(2, 1, 3, 0, true));
  q.confirm(1);
  CHECK(ready_ids(q, 100) == std::vector<std::uint64_t>{2});  // read 1 has no index yet
  q.set_index(log_index{6});
  std::vector<std::uint64_t> idx;
  q.take_ready(log_index{5}, [&](std::uint64_t, log_index i) { idx.push_back(i.value()); });
  CHECK(idx.empty());
  q.take_ready(log_index{6}, [&](std::uint64_t, log_index i) { idx.push_back(i.value()); });
  CHECK(idx == std::vector<std::uint64_t>{6});
}

TEST_CASE("read_queue: only reads unconfirmed or without an index expire after the timeout") {
  read_queue q{10};
  q.push(rd(1, 1, 50, 2));          // confirmed below, waits for apply: never expires
  q.push(rd(2, 2, 50, 2));          // unconfirmed
  q.push(rd(3, 1, 0, 2, false));    // confirmed but no index
  q.push(rd(4, 2, 50, 5));          // unconfirmed, later
  q.confirm(1);
  std::vector<std::uint64_t> out;
  q.take_expired(11, 10, [&](std::uint64_t id) { out.push_back(id); });
  CHECK(out.empty());
  q.take_expired(12, 10, [&](std::uint64_t id) { out.push_back(id); });
  CHECK(out == std::vector<std::uint64_t>{2, 3});
  q.take_expired(15, 10, [&](std::uint64_t id) { out.push_back(id); });
  CHECK(out == std::vector<std::uint64_t>{2, 3, 4});
  CHECK(q.size() == 1);
}

TEST_CASE("read_rounds: round numbers grow over the node's life and a new term does not reset them") {
  read_rounds r;
  r.start_term(0);
  CHECK(r.next_round() == 1);
  CHECK(r.begin_round() == 1);
  CHECK(r.begin_round() == 2);
  r.start_term(5);
  CHECK(r.next_round() == 3);
  CHECK(r.confirmed() == 2);  // nothing of the old term can be confirmed in the new one
  r.want();
  CHECK(r.wanted());
  CHECK(r.begin_round() == 3);
  CHECK_FALSE(r.wanted());
}

TEST_CASE("read_rounds: a round is confirmed by a quorum counting self and by no fewer") {
  const configuration cfg = five();
  read_rounds r;
  r.start_term(0);
  const std::uint64_t round = r.begin_round();
  CHECK_FALSE(r.acknowledge(cfg, cfg.position_of(node_id{2}), round, 10, 2));
  CHECK_FALSE(r.acknowledge(cfg, cfg.position_of(node_id{2}), round, 10, 2));  // a duplicate adds nobody
  CHECK(r.confirmed() == 0);
  CHECK(r.acknowledge(cfg, cfg.position_of(node_id{4}), round, 10, 2));
  CHECK(r.confirmed() == round);
}

TEST_CASE("read_rounds: the highest round a quorum answered wins even when answers interleave") {
  const configuration cfg = five();
  read_rounds r;
  r.start_term(0);
  const auto r1 = r.begin_round();
  const auto r2 = r.begin_round();
  const auto r3 = r.begin_round();
  CHECK_FALSE(r.acknowledge(cfg, cfg.position_of(node_id{2}), r3, 10, 2));
  CHECK(r.acknowledge(cfg, cfg.position_of(node_id{3}), r2, 10, 2));  // {1, 2@r3, 3@r2}: r2
  CHECK(r.confirmed() == r2);
  CHECK_FALSE(r.acknowledge(cfg, cfg.position_of(node_id{4}), r1, 10, 2));  // older than confirmed
  CHECK(r.acknowledge(cfg, cfg.position_of(node_id{5}), r3, 10, 2));
  CHECK(r.confirmed() == r3);
}

TEST_CASE("read_rounds: an answer to a round never sent or to round 0 is ignored") {
  const configuration cfg = five();
  read_rounds r;
  r.start_term(0);
  const auto sent = r.begin_round();
  for (auto id : {2, 3, 4}) {
    CHECK_FALSE(r.acknowledge(cfg, cfg.position_of(node_id{static_cast<std::uint64_t>(id)}), sent + 1, 10, 2));
    CHECK_FALSE(r.acknowledge(cfg, cfg.position_of(node_id{static_cast<std::uint64_t>(id)}), 0, 10, 2));
  }
  CHECK(r.confirmed() == 0);
}

TEST_CASE("read_rounds: answers are kept by node id so a membership change lends none to a new member") {
  read_rounds r;
  r.start_term(0);
  const auto round = r.begin_round();
  const configuration before = five();
  CHECK_FALSE(r.acknowledge(before, before.position_of(node_id{4}), round, 10, 2));
  // Nodes 4 and 5 are replaced by 6 and 7: node 6 now sits where node 4 did.
  const std::vector<node_id> m{node_id{1}, node_id{2}, node_id{3}, node_id{6}, node_id{7}};
  const configuration after{node_id{1}, m};
  REQUIRE(after.position_of(node_id{6}) == before.position_of(node_id{4}));
  CHECK_FALSE(r.acknowledge(after, after.position_of(node_id{7}), round, 10, 2));  // self and 7: two of five
  CHECK(r.confirmed() == 0);
  CHECK(r.acknowledge(after, after.position_of(node_id{6}), round, 10, 2));
  CHECK(r.confirmed() == round);
}

TEST_CASE("read_rounds: the lease runs from the tick the round was sent for election minus drift ticks") {
  const std::vector<node_id> m{node_id{1}, node_id{2}, node_id{3}};
  const configuration cfg{node_id{1}, m};
  read_rounds r;
  r.start_term(100);
  r.on_tick(101);
  r.on_tick(102);
  const auto round = r.begin_round();  // sent during tick 102
  r.on_tick(103);
  r.on_tick(104);
  CHECK_FALSE(r.lease_valid(104));
  CHECK(r.acknowledge(cfg, cfg.position_of(node_id{3}), round, 10, 3));
  CHECK(r.lease_until() == 102 + 10 - 3);
  CHECK(r.lease_valid(108));
  CHECK_FALSE(r.lease_valid(109));
  r.revoke_lease();
  CHECK_FALSE(r.lease_valid(104));
  const auto later = r.begin_round();
  CHECK(r.acknowledge(cfg, cfg.position_of(node_id{2}), later, 10, 3));
  CHECK_FALSE(r.lease_valid(104));  // revoked for the rest of the term
  r.start_term(200);
  const auto fresh = r.begin_round();
  CHECK(r.acknowledge(cfg, cfg.position_of(node_id{2}), fresh, 10, 3));
  CHECK(r.lease_valid(200));
}

TEST_CASE("read_rounds: a round sent before every remembered tick gives no lease") {
  const std::vector<node_id> m{node_id{1}, node_id{2}, node_id{3}};
  const configuration cfg{node_id{1}, m};
  read_rounds r;
  r.start_term(0);
  const auto old = r.begin_round();
  for (std::uint64_t t = 1; t <= read_rounds::lease_tick_history; ++t) r.on_tick(t);
  CHECK(r.acknowledge(cfg, cfg.position_of(node_id{2}), old, 1000, 0));
  CHECK(r.confirmed() == old);
  CHECK(r.lease_until() == 0);
}
