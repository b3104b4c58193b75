// Recovery, garbage collection and bounds: logs are compacted once
// transactions finish, memory stays bounded, limits say errc::busy, and
// begin() refuses bad input with a clear error.
#include <doctest/doctest.h>

#include "harness.hpp"

using namespace tpc_test;

TEST_CASE("recovery: finished transactions are compacted away on both sides") {
  for (const presumption pres : {presumption::abort, presumption::commit}) {
    coordinator_options co;
    co.presumption = pres;
    cluster c{3, co};
    for (std::uint64_t t = 1; t <= 50; ++t) {
      if (t % 5 == 0) c.rm(c.p(t % 3)).votes[t] = vote::no;
      REQUIRE(c.coord().begin(txn_id{t}, c.participants()));
      c.deliver_all();
    }
    c.settle(30);
    CHECK(c.coord().open_transactions() == 0);
    CHECK(c.coord().horizon() == txn_id{51});
    const auto& clog = c.disk_of(coordinator_id).live;
    CHECK(clog.first_index() > clog.last_index());  // nothing retained
    CHECK(clog.last_index().value() > 0);           // yet records were written
    for (const node_id p : c.participants()) {
      // Only the last transaction is still remembered: no horizon above it yet.
      CHECK(c.part(p).transactions() <= 1);
      const auto& plog = c.disk_of(p).live;
      CHECK(plog.last_index().value() + 1 - plog.first_index().value() <= 2);
    }
    CHECK(c.net.violations.empty());
  }
}

TEST_CASE("recovery: a restarted participant keeps its knowledge until the horizon passes it") {
  cluster c{2};
  REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
  c.deliver_all();
  c.crash(c.p(0));
  c.restart(c.p(0));
  CHECK(c.part(c.p(0)).phase_of(txn_id{1}) == txn_phase::committed);
  REQUIRE(c.coord().begin(txn_id{2}, c.participants()));
  c.deliver_all();
  CHECK_FALSE(c.part(c.p(0)).phase_of(txn_id{1}).has_value());
  c.crash(c.p(0));
  c.restart(c.p(0));
  CHECK(c.part(c.p(0)).horizon_of(coordinator_id) == txn_id{2});
}

TEST_CASE("recovery: the coordinator remembers the last txn begun across a restart") {
  cluster c{2};
  REQUIRE(c.coord().begin(txn_id{7}, c.participants()));
  c.deliver_all();
  (void)c.disk_of(coordinator_id).durable;  // the hard state is synced with the commit record
  c.crash(coordinator_id);
  c.restart(coordinator_id);
  CHECK(c.coord().last_begun() == txn_id{7});
  auto r = c.coord().begin(txn_id{7}, c.participants());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::stale);
}

TEST_CASE("recovery: a corrupt record refuses to start with the position") {
  cluster c{1};
  disk& d = c.disk_of(coordinator_id);
  const std::byte junk[] = {std::byte{0x7f}, std::byte{1}};
  REQUIRE(d.live.append(junk));
  d.durable = d.live;
  c.crash(coordinator_id);
  test_coordinator broken{coordinator_id, test_transport{&c.net}, test_log{&d}, manual_clock{}};
  REQUIRE_FALSE(broken.status());
  CHECK(broken.status().error().code == errc::corrupt_log);
  CHECK(broken.status().error().detail == 1);
  auto r = broken.begin(txn_id{1}, c.participants());
  CHECK_FALSE(r);
}

TEST_CASE("bounds: begin refuses bad input and a full open set with clear errors") {
  coordinator_options co;
  co.max_open_transactions = 2;
  co.max_participants = 3;
  cluster c{4, co};
  const std::vector<node_id> two{c.p(0), c.p(1)};
  CHECK(c.coord().begin(txn_id{0}, two).error().code == errc::invalid_argument);
  CHECK(c.coord().begin(txn_id{1}, {}).error().code == errc::invalid_argument);
  CHECK(c.coord().begin(txn_id{1}, c.participants()).error().code == errc::too_large);
  const std::vector<node_id> dup{c.p(0), c.p(0)};
  CHECK(c.coord().begin(txn_id{1}, dup).error().code == errc::invalid_argument);
  const std::vector<node_id> self{coordinator_id};
  CHECK(c.coord().begin(txn_id{1}, self).error().code == errc::invalid_argument);
  REQUIRE(c.coord().begin(txn_id{1}, two));
  REQUIRE(c.coord().begin(txn_id{2}, two));
  auto busy = c.coord().begin(txn_id{3}, two);
  REQUIRE_FALSE(busy);
  CHECK(busy.error().code == errc::busy);
  CHECK(c.coord().stats().refused_busy == 1);
  c.deliver_all();
  CHECK(c.coord().begin(txn_id{3}, two));
  CHECK(c.coord().begin(txn_id{2}, two).error().code == errc::stale);
}

TEST_CASE("bounds: a participant at max_transactions votes no and enlist says busy") {
  participant_options po;
  po.max_transactions = 1;
  cluster c{1, {}, po};
  REQUIRE(c.part(c.p(0)).enlist(txn_id{1}, coordinator_id));
  auto r = c.part(c.p(0)).enlist(txn_id{2}, coordinator_id);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::busy);
  CHECK(c.part(c.p(0)).enlist(txn_id{1}, node_id{9}).error().code == errc::invalid_argument);
}

TEST_CASE("bounds: options that cannot work are refused by name") {
  coordinator_options co;
  co.retry_ticks = 0;
  CHECK(validate(co).error().code == errc::invalid_config);
  participant_options po;
  po.max_transactions = 0;
  CHECK(validate(po).error().code == errc::invalid_config);
  cluster c{1};
  test_coordinator inert{coordinator_id, test_transport{&c.net}, test_log{&c.disk_of(coordinator_id)},
                         manual_clock{}, co};
  CHECK_FALSE(inert.status());
  CHECK(inert.begin(txn_id{1}, c.participants()).error().code == errc::invalid_config);
}

TEST_CASE("recovery: a transaction stuck behind a down participant does not pin either log") {
  coordinator_options co;
  co.max_open_transactions = 4;
  co.max_log_span = 8;
  participant_options po;
  po.max_transactions = 4;
  po.max_log_span = 16;
  po.inquiry_ticks = 1000;  // the in-doubt participant stays quiet while the others run
  cluster c{3, co, po};
  const node_id stuck = c.p(0);
  // Txn 1 commits everywhere but stuck, which is down before the commit reaches it.
  REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
  c.deliver_all(6);
  c.crash(stuck);
  c.deliver_all();
  REQUIRE(c.coord().is_open(txn_id{1}));
  // Many more transactions between the other two.
  const std::vector<node_id> others{c.p(1), c.p(2)};
  for (std::uint64_t t = 2; t <= 60; ++t) {
    REQUIRE(c.coord().begin(txn_id{t}, others));
    c.deliver_all();
  }
  const auto& clog = c.disk_of(coordinator_id).live;
  INFO("coordinator log [" << clog.first_index().value() << ", " << clog.last_index().value() << "] open "
                           << c.coord().open_transactions() << " commits " << c.coord().stats().commits << " forced "
                           << c.coord().stats().forced_writes);
  CHECK(clog.last_index().value() + 1 - clog.first_index().value() <= co.max_log_span + 2);
  CHECK(c.coord().stats().relocated > 0);
  // Crash the coordinator too: the copied-forward record still resumes txn 1.
  c.crash(coordinator_id);
  c.restart(coordinator_id);
  CHECK(c.coord().is_open(txn_id{1}));
  c.restart(stuck);
  c.settle(30);
  CHECK(c.rm(stuck).final.at(1) == decision::commit);
  CHECK_FALSE(c.coord().is_open(txn_id{1}));
  CHECK(c.net.violations.empty());
}

TEST_CASE("recovery: an in-doubt participant's record is copied forward as its log grows") {
  coordinator_options co;
  co.max_open_transactions = 4;
  co.max_log_span = 8;
  participant_options po;
  po.max_transactions = 4;
  po.max_log_span = 16;
  cluster c{2, co, po};
  const node_id p = c.p(0);
  // Txn 1: p prepared, then the coordinator forgets it (crash while collecting).
  REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
  c.deliver_one();
  c.crash(coordinator_id);
  c.drop();
  c.restart(coordinator_id);
  // p cannot hear the answer yet: its inquiries are lost while others run.
  for (std::uint64_t t = 2; t <= 40; ++t) {
    REQUIRE(c.coord().begin(txn_id{t}, c.participants()));
    c.deliver_all();
    c.drop(message_type::inquiry);
  }
  REQUIRE(c.part(p).phase_of(txn_id{1}) == txn_phase::prepared);
  const auto& plog = c.disk_of(p).live;
  CHECK(plog.last_index().value() + 1 - plog.first_index().value() <= po.max_log_span + 4);
  CHECK(c.part(p).stats().relocated > 0);
  c.crash(p);
  c.restart(p);
  CHECK(c.part(p).phase_of(txn_id{1}) == txn_phase::prepared);  // the copy survived
  c.settle(40);
  CHECK(c.rm(p).final.at(1) == decision::abort);
}

TEST_CASE("robustness: a log that refuses to sync stops the node before it promises anything") {
  cluster c{2};
  c.disk_of(c.p(0)).fail_sync = true;
  REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
  c.deliver_all();
  CHECK_FALSE(c.part(c.p(0)).status());
  CHECK(c.part(c.p(0)).status().error().code == errc::io_error);
  CHECK(c.part(c.p(0)).stats().log_errors == 1);
  CHECK(c.part(c.p(0)).stats().votes_yes == 0);  // no yes vote left it
  CHECK(c.net.sent[message_type::vote] == 1);     // only the other participant's
  CHECK(c.net.violations.empty());
  c.disk_of(coordinator_id).fail_sync = true;
  c.tick_all(60);  // the vote timeout decides abort: nothing to force under presumed abort
  CHECK(c.decided(txn_id{1}) == decision::abort);
  CHECK(c.coord().status());
}

TEST_CASE("robustness: bytes that are no message are counted and dropped by both roles") {
  cluster c{1};
  const std::byte junk[] = {std::byte{1}, std::byte{42}, std::byte{0}};
  c.coord().receive(byte_view{junk});
  c.part(c.p(0)).receive(byte_view{junk});
  CHECK(c.coord().stats().dropped_malformed == 1);
  CHECK(c.part(c.p(0)).stats().dropped_malformed == 1);
  message m;
  m.type = message_type::vote;
  m.from = c.p(0);
  m.to = node_id{9};
  m.txn = txn_id{1};
  m.coordinator = coordinator_id;
  c.coord().receive(m);
  CHECK(c.coord().stats().dropped_misrouted == 1);
  m.to = coordinator_id;
  c.coord().receive(m);  // a vote for a txn that was never begun
  CHECK(c.coord().stats().dropped_stale == 1);
  CHECK(c.net.queue.empty());
}
