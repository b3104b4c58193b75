// The non-blocking rule of Paxos Commit's checker on hand-made observations:
// in doubt past the bound while the condition held is a violation; the clock
// restarts when the condition lapses for one event; within the bound is fine.
#include <doctest/doctest.h>

#include "quorum/sim/paxos_commit_checker.hpp"

using namespace quorum;
using namespace quorum::sim;
using std::chrono::milliseconds;

TEST_CASE("checker paxos commit: in doubt past the bound while the rule holds is caught") {
  non_blocking_checker c;
  const sim_duration bound = milliseconds{300};
  for (int ms = 0; ms <= 300; ms += 10) {
    c.observe(7, node_id{3}, milliseconds{1000 + ms}, bound);
    c.end_event(milliseconds{1000 + ms});
  }
  CHECK_FALSE(c.violation());  // exactly at the bound
  c.observe(7, node_id{3}, milliseconds{1310}, bound);
  REQUIRE(c.violation());
  CHECK(c.violation()->find("txn 7") != std::string::npos);
  CHECK(c.violation()->find("node 3") != std::string::npos);
  CHECK(c.violation()->find("blocked") != std::string::npos);
}

TEST_CASE("checker paxos commit: the clock restarts when the condition lapses, and pairs are separate") {
  non_blocking_checker c;
  const sim_duration bound = milliseconds{100};
  for (int ms = 0; ms <= 400; ms += 10) {
    // Node 2 is observed every event but one in the middle; node 4 from 350 on.
    if (ms != 200) c.observe(1, node_id{2}, milliseconds{ms}, bound);
    if (ms >= 350) c.observe(1, node_id{4}, milliseconds{ms}, bound);
    c.end_event(milliseconds{ms});
    if (ms < 100) CHECK_FALSE(c.violation());
  }
  // 0..190 is 190ms > 100ms: caught before the lapse.
  REQUIRE(c.violation());
  CHECK(c.violation()->find("node 2") != std::string::npos);

  non_blocking_checker ok;
  for (int ms = 0; ms <= 400; ms += 10) {
    if (ms % 100 != 0) ok.observe(1, node_id{2}, milliseconds{ms}, bound);  // lapses every 100ms
    ok.end_event(milliseconds{ms});
  }
  CHECK_FALSE(ok.violation());
  CHECK(ok.longest() == milliseconds{80});
  CHECK(ok.watched() == 0);
}
