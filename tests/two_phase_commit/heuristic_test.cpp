// Heuristic outcomes: an operator forces an in-doubt participant's hand; the
// choice is durable, reported, and flagged as a hazard when the coordinator's
// decision disagrees. Never silent, never lost in a crash.
#include <doctest/doctest.h>

#include "harness.hpp"

using namespace tpc_test;

namespace {

// Txn 1 with the first participant prepared and in doubt, and the second
// voting `second`; the decision is reached but not delivered.
void in_doubt(cluster& c, vote second) {
  c.rm(c.p(1)).votes[1] = second;
  REQUIRE(c.coord().begin(txn_id{1}, c.participants()));
  c.deliver_all(4);  // prepares and votes
  c.drop();
  REQUIRE(c.part(c.p(0)).phase_of(txn_id{1}) == txn_phase::prepared);
}

}  // namespace

TEST_CASE("heuristic: heuristic commit that later conflicts is reported as a hazard") {
  cluster c{2};
  in_doubt(c, vote::no);
  REQUIRE(c.decided(txn_id{1}) == decision::abort);
  const node_id p = c.p(0);
  REQUIRE(c.part(p).heuristic_decide(txn_id{1}, decision::commit));
  CHECK(c.rm(p).final.at(1) == decision::commit);
  REQUIRE(c.part(p).heuristics().size() == 1);
  CHECK_FALSE(c.part(p).heuristics()[0].outcome.has_value());
  CHECK(durable_has(c.disk_of(p), record_kind::heuristic, txn_id{1}));
  // It survives a crash, and keeps asking for the real outcome.
  c.crash(p);
  c.restart(p);
  REQUIRE(c.part(p).heuristics().size() == 1);
  c.settle(40);
  const heuristic_report h = c.part(p).heuristics()[0];
  CHECK(h.forced == decision::commit);
  CHECK(h.outcome == decision::abort);
  CHECK(h.mixed());
  CHECK(c.part(p).stats().heuristic_hazards == 1);
  CHECK(c.rm(p).calls.back() == "commit 1");  // the RM is not told again: the hazard is the operator's
  REQUIRE(c.part(p).forget_heuristic(txn_id{1}));
  CHECK(c.part(p).heuristics().empty());
  c.crash(p);
  c.restart(p);
  CHECK(c.part(p).heuristics().empty());
}

TEST_CASE("heuristic: a heuristic that matches the outcome is reported, not a hazard") {
  cluster c{2};
  in_doubt(c, vote::yes);
  REQUIRE(c.decided(txn_id{1}) == decision::commit);
  REQUIRE(c.part(c.p(0)).heuristic_decide(txn_id{1}, decision::commit));
  c.settle(40);
  REQUIRE(c.part(c.p(0)).heuristics().size() == 1);
  CHECK_FALSE(c.part(c.p(0)).heuristics()[0].mixed());
  CHECK(c.part(c.p(0)).stats().heuristic_hazards == 0);
  CHECK(c.coord().open_transactions() == 0);  // its ack was given
}

TEST_CASE("heuristic: only an in-doubt transaction can be forced, and a report is forgotten only once resolved") {
  cluster c{2};
  CHECK(c.part(c.p(0)).heuristic_decide(txn_id{9}, decision::commit).error().code == errc::not_found);
  in_doubt(c, vote::read_only);
  CHECK(c.part(c.p(1)).heuristic_decide(txn_id{1}, decision::abort).error().code == errc::invalid_argument);
  REQUIRE(c.part(c.p(0)).heuristic_decide(txn_id{1}, decision::abort));
  CHECK(c.part(c.p(0)).heuristic_decide(txn_id{1}, decision::abort).error().code == errc::invalid_argument);
  CHECK(c.part(c.p(0)).forget_heuristic(txn_id{1}).error().code == errc::invalid_argument);
  CHECK(c.part(c.p(0)).forget_heuristic(txn_id{5}).error().code == errc::not_found);
}
