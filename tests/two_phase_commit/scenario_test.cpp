// Named scenarios: crashes of the coordinator and of participants at the
// steps that matter, termination when in doubt, duplicates and reordering,
// read-only and one-phase paths. Each ends with every RM agreeing.
#include <doctest/doctest.h>

#include <algorithm>

#include "harness.hpp"

using namespace tpc_test;

namespace {

void require_agreement(cluster& c, txn_id t, std::optional<decision> d) {
  for (const node_id p : c.participants()) {
    CAPTURE(p.value());
    CHECK(c.rm(p).conflicts == 0);
    auto it = c.rm(p).final.find(t.value());
    if (d && it != c.rm(p).final.end()) CHECK(it->second == *d);
  }
  CHECK(c.net.violations.empty());
}

std::size_t count_calls(const rm_state& s, const std::string& call) {
  return static_cast<std::size_t>(std::count(s.calls.begin(), s.calls.end(), call));
}

}  // namespace

TEST_CASE("scenario: coordinator crash after prepare leaves participants in doubt until it answers abort") {
  cluster c{3};
  REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
  c.deliver_all(3);  // the prepares: every participant votes yes, durably
  c.crash(coordinator_id);
  c.deliver_all();   // the votes are lost
  for (const node_id p : c.participants()) CHECK(c.part(p).phase_of(txn_id{1}) == txn_phase::prepared);
  // Down, it cannot answer: in doubt they stay, never deciding alone.
  c.settle(50);
  for (const node_id p : c.participants()) {
    CHECK(c.part(p).phase_of(txn_id{1}) == txn_phase::prepared);
    CHECK(c.rm(p).final.empty());
  }
  c.restart(coordinator_id);  // no record of txn 1: presumed abort
  c.settle(50);
  for (const node_id p : c.participants()) CHECK(c.rm(p).final.at(1) == decision::abort);
  require_agreement(c, txn_id{1}, decision::abort);
}

TEST_CASE("scenario: coordinator crash after forcing commit re-sends commit on restart") {
  cluster c{3};
  REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
  c.deliver_all(6);  // prepares and votes: commit forced
  REQUIRE(c.decided(txn_id{1}) == decision::commit);
  c.drop(message_type::decision);
  c.crash(coordinator_id);
  c.restart(coordinator_id);
  CHECK(c.coord().stats().recovered == 1);
  CHECK(c.decided(txn_id{1}) == decision::commit);  // reported again
  c.settle(30);
  for (const node_id p : c.participants()) CHECK(c.rm(p).final.at(1) == decision::commit);
  CHECK(c.coord().open_transactions() == 0);
  require_agreement(c, txn_id{1}, decision::commit);
}

TEST_CASE("scenario: participant crash while in doubt recovers its prepared record and asks") {
  for (const presumption pres : {presumption::abort, presumption::commit}) {
    coordinator_options co;
    co.presumption = pres;
    cluster c{3, co};
    REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
    c.deliver_all(6);
    REQUIRE(c.decided(txn_id{1}) == decision::commit);
    const node_id victim = c.p(1);
    c.crash(victim);   // the commit to it is lost
    c.deliver_all();
    c.restart(victim);
    // A participant that restarts and finds a prepared record is in doubt.
    CHECK(c.part(victim).stats().in_doubt_recovered == 1);
    CHECK(c.part(victim).phase_of(txn_id{1}) == txn_phase::prepared);
    CHECK(c.part(victim).in_doubt() == 1);
    c.settle(60);
    CHECK(c.rm(victim).final.at(1) == decision::commit);
    CHECK(c.part(victim).in_doubt() == 0);
    CHECK(c.coord().open_transactions() == 0);
    require_agreement(c, txn_id{1}, decision::commit);
  }
}

TEST_CASE("scenario: duplicate and reordered decisions are harmless") {
  for (const presumption pres : {presumption::abort, presumption::commit}) {
    coordinator_options co;
    co.presumption = pres;
    cluster c{3, co};
    REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
    c.deliver_all(6);
    // Every decision delivered three times, newest first.
    std::vector<envelope> pending(c.net.queue.begin(), c.net.queue.end());
    c.net.queue.clear();
    std::reverse(pending.begin(), pending.end());
    for (int k = 0; k < 3; ++k)
      for (const envelope& e : pending) c.deliver(e);
    c.settle(30);
    for (const node_id p : c.participants()) {
      CHECK(count_calls(c.rm(p), "commit 1") == 1);
      CHECK(count_calls(c.rm(p), "prepare 1") == 1);
    }
    CHECK(c.coord().open_transactions() == 0);
    require_agreement(c, txn_id{1}, decision::commit);
  }
}

TEST_CASE("scenario: a duplicated prepare after the decision is never voted on twice") {
  cluster c{2};
  REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
  const envelope stale = c.net.queue.front();  // txn 1's prepare to the first participant
  c.deliver_all();
  REQUIRE(c.coord().begin(txn_id{2}, c.participants()));
  c.deliver_all();  // txn 2's prepare carries horizon 2: txn 1 is forgotten
  CHECK_FALSE(c.part(c.p(0)).phase_of(txn_id{1}).has_value());
  c.deliver(stale);
  c.deliver_all();
  CHECK(count_calls(c.rm(c.p(0)), "prepare 1") == 1);
  CHECK(c.part(c.p(0)).stats().dropped_stale >= 1);
  require_agreement(c, txn_id{1}, decision::commit);
}

TEST_CASE("scenario: a participant that has not voted aborts unilaterally on timeout") {
  participant_options po;
  po.unilateral_abort_ticks = 5;
  cluster c{2, {}, po};
  REQUIRE(c.part(c.p(0)).enlist(txn_id{1}, coordinator_id));
  c.tick_all(5);
  CHECK(c.part(c.p(0)).phase_of(txn_id{1}) == txn_phase::aborted);
  CHECK(c.rm(c.p(0)).final.at(1) == decision::abort);
  // The late prepare is answered no: the transaction aborts everywhere.
  REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
  c.settle(5);
  CHECK(c.decided(txn_id{1}) == decision::abort);
  CHECK(c.rm(c.p(1)).final.at(1) == decision::abort);
  require_agreement(c, txn_id{1}, decision::abort);
}

TEST_CASE("scenario: cooperative termination learns commit from a peer while the coordinator is down") {
  cluster c{3};
  REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
  c.deliver_all(6);
  REQUIRE(c.decided(txn_id{1}) == decision::commit);
  c.deliver_one();  // the commit reaches the first participant only
  c.crash(coordinator_id);
  c.drop();
  c.settle(40);
  for (const node_id p : c.participants()) CHECK(c.rm(p).final.at(1) == decision::commit);
  CHECK(c.part(c.p(2)).stats().inquiries_sent >= 1);
  require_agreement(c, txn_id{1}, decision::commit);
}

TEST_CASE("scenario: cooperative termination aborts through a peer that has not voted") {
  cluster c{2};
  REQUIRE(c.part(c.p(1)).enlist(txn_id{1}, coordinator_id));
  REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
  c.deliver_one();  // only the first participant gets its prepare, and votes yes
  c.crash(coordinator_id);
  c.drop();
  c.settle(40);
  CHECK(c.rm(c.p(0)).final.at(1) == decision::abort);
  CHECK(c.rm(c.p(1)).final.at(1) == decision::abort);
  // The peer promised abort durably: after a crash it still answers no.
  c.crash(c.p(1));
  c.restart(c.p(1));
  CHECK(c.part(c.p(1)).phase_of(txn_id{1}) == txn_phase::aborted);
  require_agreement(c, txn_id{1}, decision::abort);
}

TEST_CASE("scenario: without cooperative termination an in-doubt participant asks only the coordinator") {
  participant_options po;
  po.cooperative_termination = false;
  cluster c{3, {}, po};
  REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
  c.deliver_all(6);
  c.deliver_one();
  c.crash(coordinator_id);
  c.drop();
  c.settle(40);
  CHECK(c.rm(c.p(0)).final.at(1) == decision::commit);
  CHECK(c.rm(c.p(1)).final.count(1) == 0);  // still in doubt: blocked, as 2PC is
  CHECK(c.part(c.p(1)).in_doubt() == 1);
  c.restart(coordinator_id);
  c.settle(40);
  CHECK(c.rm(c.p(1)).final.at(1) == decision::commit);
  require_agreement(c, txn_id{1}, decision::commit);
}

TEST_CASE("scenario: read-only participants drop out of phase two and write nothing") {
  cluster c{3};
  c.rm(c.p(0)).votes[1] = vote::read_only;
  REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
  c.deliver_all();
  CHECK(c.decided(txn_id{1}) == decision::commit);
  CHECK(c.rm(c.p(0)).calls == std::vector<std::string>{"prepare 1"});
  CHECK(c.disk_of(c.p(0)).live.last_index().value() == 0);
  CHECK(c.part(c.p(0)).stats().messages_sent == 1);
  require_agreement(c, txn_id{1}, decision::commit);
}

TEST_CASE("scenario: one-phase commit and its duplicate request answered from the record") {
  cluster c{1};
  REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
  const envelope request = c.net.queue.front();
  CHECK(request.type == message_type::one_phase);
  c.deliver_all();
  CHECK(c.decided(txn_id{1}) == decision::commit);
  c.crash(c.p(0));
  c.restart(c.p(0));
  c.deliver(request);  // a late duplicate: answered from the forced decision
  CHECK(c.net.queue.size() == 1);
  CHECK(c.net.queue.front().type == message_type::outcome);
  c.deliver_all();
  CHECK(count_calls(c.rm(c.p(0)), "prepare 1") == 1);
  CHECK(c.coord().open_transactions() == 0);
  require_agreement(c, txn_id{1}, decision::commit);
}

TEST_CASE("scenario: a lost one-phase request is retried, never timed out into an abort") {
  coordinator_options co;
  co.retry_ticks = 2;
  co.vote_timeout_ticks = 3;
  cluster c{1, co};
  REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
  c.drop();
  c.tick_all(10);
  CHECK(c.coord().is_open(txn_id{1}));
  CHECK_FALSE(c.decided(txn_id{1}).has_value());
  c.deliver_all();
  CHECK(c.decided(txn_id{1}) == decision::commit);
}

TEST_CASE("scenario: presumed commit coordinator crash after collecting aborts and collects acks") {
  coordinator_options co;
  co.presumption = presumption::commit;
  cluster c{3, co};
  REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
  c.deliver_all(3);  // every participant prepared
  c.crash(coordinator_id);
  c.drop();
  c.restart(coordinator_id);
  CHECK(c.coord().stats().recovered == 1);
  CHECK(c.decided(txn_id{1}) == decision::abort);
  c.settle(30);
  for (const node_id p : c.participants()) CHECK(c.rm(p).final.at(1) == decision::abort);
  CHECK(c.coord().open_transactions() == 0);
  require_agreement(c, txn_id{1}, decision::abort);
}

TEST_CASE("scenario: a vote timeout aborts the transaction") {
  coordinator_options co;
  co.vote_timeout_ticks = 4;
  cluster c{3, co};
  REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
  c.deliver_all(2);  // the third prepare never arrives
  c.drop();
  c.tick_all(4);
  CHECK(c.decided(txn_id{1}) == decision::abort);
  CHECK(c.coord().stats().vote_timeouts == 1);
  c.settle(30);
  require_agreement(c, txn_id{1}, decision::abort);
}

TEST_CASE("scenario: a coordinator that lost its end record asks again and participants that forgot still ack") {
  cluster c{2};
  REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
  c.deliver_all();  // committed and acknowledged; the end record is written, not synced
  REQUIRE_FALSE(c.coord().is_open(txn_id{1}));
  REQUIRE(c.coord().begin(txn_id{2}, c.participants()));
  c.deliver_all(2);  // txn 2's prepares carry horizon 2: both forget txn 1
  for (const node_id p : c.participants()) REQUIRE_FALSE(c.part(p).phase_of(txn_id{1}).has_value());
  c.crash(coordinator_id);  // before txn 2's commit would have synced the end record
  c.drop();
  c.restart(coordinator_id);
  REQUIRE(c.coord().is_open(txn_id{1}));  // the commit record without its end record
  c.settle(30);
  CHECK_FALSE(c.coord().is_open(txn_id{1}));
  for (const node_id p : c.participants()) CHECK(count_calls(c.rm(p), "commit 1") == 1);
  require_agreement(c, txn_id{1}, decision::commit);
}

TEST_CASE("scenario: one transaction stuck on a down participant does not hold the others' memory") {
  participant_options po;
  po.max_transactions = 4;
  po.max_log_span = 16;
  cluster c{3, {}, po};
  REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
  c.deliver_all(6);
  c.crash(c.p(0));  // txn 1 now waits for its ack
  c.deliver_all();
  const std::vector<node_id> others{c.p(1), c.p(2)};
  for (std::uint64_t t = 2; t <= 40; ++t) {
    REQUIRE(c.coord().begin(txn_id{t}, others));
    c.deliver_all();
    CHECK(c.decided(txn_id{t}) == decision::commit);
  }
  CHECK(c.part(c.p(1)).transactions() <= 2);
  CHECK(c.part(c.p(1)).stats().refused_busy == 0);
}
