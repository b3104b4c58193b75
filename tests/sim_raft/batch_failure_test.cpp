// The bug the simulator's batches found (tests/sim_raft/run_log_test.cpp keeps
// its seeds), replayed by hand on the Raft test harness: inside a batch, a
// Log call other than the sync writes the deferred entries first; when the
// Log refuses them they are gone, though proposers hold their (index, term).
// The node must fail then, as it does when the batch's sync fails; before the
// fix it went on leading and gave the next entry the same (index, term).
#include <doctest/doctest.h>

#include <string>

#include "raft/cluster.hpp"

namespace {

using namespace raft_test;

// After the refused write: the node failed, the entries are gone, and nothing
// later can take the index the lost proposal was given.
void check_failed_without_reuse(cluster& c, log_index lost) {
  REQUIRE_FALSE(c[1].status());
  CHECK(c[1].status().error().code == errc::io_error);
  CHECK(c[1].last_index() < lost);
  CHECK(c.disk_of(1).live.last_index() < lost);
  auto again = c[1].propose(as_bytes("after"));
  REQUIRE_FALSE(again);
  CHECK(again.error().code == errc::io_error);
}

}  // namespace

TEST_CASE("raft batch: a membership change whose write of the batch's entries fails fails the leader") {
  cluster c{3};
  c.start();
  c.elect(1);
  c.deliver();
  const log_index commit = c[1].commit_index();
  {
    auto batch = c[1].batch();
    auto p = c[1].propose(as_bytes("deferred"));
    REQUIRE(p);
    c.disk_of(1).fail_runs = true;
    auto changed = c[1].change_membership(membership{{node_id{1}, node_id{2}}, {}, {node_id{3}}});
    REQUIRE_FALSE(changed);
    check_failed_without_reuse(c, p->index);
  }
  c.deliver();
  CHECK(c[2].commit_index() == commit);
  CHECK(c.net.violations.empty());
}

TEST_CASE("raft batch: a proposal the cache cannot hold, written after a refused run, fails the leader") {
  options o = test_options();
  o.entry_cache_bytes = 4096;  // the second proposal does not fit: it is written at once, the first before it
  cluster c{3, o};
  c.start();
  c.elect(1);
  c.deliver();
  {
    auto batch = c[1].batch();
    auto p = c[1].propose(as_bytes("small"));
    REQUIRE(p);
    c.disk_of(1).fail_runs = true;
    REQUIRE_FALSE(c[1].propose(as_bytes(std::string(5000, 'x'))));
    check_failed_without_reuse(c, p->index);
  }
  CHECK(c.net.violations.empty());
}

TEST_CASE("raft batch: a snapshot whose compaction writes a refused run fails the node") {
  options o = test_options();
  o.snapshot_trailing_entries = 0;  // the snapshot compacts the log: a Log call
  cluster c{3, o};
  c.start();
  c.elect(1);
  c.deliver();
  {
    auto batch = c[1].batch();
    auto p = c[1].propose(as_bytes("deferred"));
    REQUIRE(p);
    c.disk_of(1).fail_runs = true;
    REQUIRE_FALSE(c[1].take_snapshot());
    check_failed_without_reuse(c, p->index);
  }
  CHECK(c.net.violations.empty());
}
