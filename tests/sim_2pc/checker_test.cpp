// The two-phase commit checker, property by property, on hand-made
// observations: each violation it must report, and the histories it must accept.
#include <doctest/doctest.h>

#include "quorum/sim/two_phase_commit_checker.hpp"

using namespace quorum;
using namespace quorum::sim;
using two_phase_commit::decision;
using two_phase_commit::txn_id;
using two_phase_commit::vote;

namespace {
const node_id ps[] = {node_id{2}, node_id{3}};
}

TEST_CASE("checker 2pc: a clean commit and a clean abort pass") {
  two_phase_commit_checker c;
  c.begin(txn_id{1}, ps);
  c.observe_vote(txn_id{1}, node_id{2}, vote::yes);
  c.observe_vote(txn_id{1}, node_id{3}, vote::read_only);
  c.observe_decide(txn_id{1}, decision::commit);
  c.observe_outcome(txn_id{1}, node_id{2}, decision::commit);
  c.observe_decide(txn_id{1}, decision::commit);  // re-reported after a restart
  c.begin(txn_id{2}, ps);
  c.observe_vote(txn_id{2}, node_id{2}, vote::no);
  c.observe_outcome(txn_id{2}, node_id{3}, decision::abort);  // unilateral, before any decision
  c.observe_decide(txn_id{2}, decision::abort);
  CHECK_FALSE(c.violation());
  CHECK(c.decided(txn_id{1}) == decision::commit);
}

TEST_CASE("checker 2pc: commit with a missing or a no vote is caught") {
  two_phase_commit_checker missing;
  missing.begin(txn_id{1}, ps);
  missing.observe_vote(txn_id{1}, node_id{2}, vote::yes);
  missing.observe_decide(txn_id{1}, decision::commit);
  REQUIRE(missing.violation());
  CHECK(missing.violation()->find("before node 3 voted") != std::string::npos);

  two_phase_commit_checker no;
  no.begin(txn_id{1}, ps);
  no.observe_vote(txn_id{1}, node_id{2}, vote::yes);
  no.observe_vote(txn_id{1}, node_id{3}, vote::no);
  no.observe_decide(txn_id{1}, decision::commit);
  REQUIRE(no.violation());
  CHECK(no.violation()->find("voted no") != std::string::npos);
}

TEST_CASE("checker 2pc: two decisions or disagreeing outcomes are caught") {
  two_phase_commit_checker twice;
  twice.begin(txn_id{1}, ps);
  twice.observe_decide(txn_id{1}, decision::abort);
  twice.observe_decide(txn_id{1}, decision::commit);
  REQUIRE(twice.violation());

  two_phase_commit_checker split;
  split.begin(txn_id{1}, ps);
  split.observe_outcome(txn_id{1}, node_id{2}, decision::abort);
  split.observe_outcome(txn_id{1}, node_id{3}, decision::commit);
  REQUIRE(split.violation());
  CHECK(split.violation()->find("atomicity") != std::string::npos);
}
