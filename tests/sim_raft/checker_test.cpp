// Each property of the Raft checker (sim/raft_checker.hpp) fires on a
// hand-made history that breaks it, and stays quiet on the same history kept
// correct: a checker that cannot fail proves nothing.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "quorum/sim/raft_checker.hpp"

namespace {

using quorum::byte_view;
using quorum::log_index;
using quorum::node_id;
using quorum::term_id;
using quorum::sim::raft_checker;
using quorum::sim::raft_record;

// A log as (term, text) per index, from 1.
using fake_log = std::vector<std::pair<std::uint64_t, std::string>>;

void show(raft_checker& c, std::uint64_t n, const fake_log& log, std::uint64_t leader_term = 0) {
  c.observe_log(node_id{n}, leader_term, 1, log.size(), [&](log_index i) {
    const auto& [term, text] = log[static_cast<std::size_t>(i.value() - 1)];
    return raft_record{term_id{term}, quorum::as_bytes(text)};
  });
  c.observe_role(node_id{n}, leader_term);
}

bool fired(const raft_checker& c, const char* what) {
  return c.violation().has_value() && c.violation()->find(what) != std::string::npos;
}

}  // namespace

TEST_CASE("raft checker: a correct history raises nothing") {
  raft_checker c{3};
  const fake_log log{{1, "a"}, {1, "b"}, {2, "c"}};
  show(c, 1, log, 2);
  show(c, 2, log);
  show(c, 3, fake_log{{1, "a"}});
  c.observe_commit(node_id{1}, 3);
  c.observe_commit(node_id{2}, 2);
  for (std::uint64_t i = 1; i <= 3; ++i) c.observe_apply(node_id{1}, i, log[i - 1].first, log[i - 1].second);
  c.observe_ack(3, 2, "c");
  show(c, 3, log);          // a follower catching up
  show(c, 2, log, 3);       // a new leader that holds every committed entry
  CHECK_FALSE(c.violation().has_value());
  CHECK(c.committed_index() == 3);
  CHECK(c.leaders() == 2);
  CHECK(c.holds_committed(node_id{2}, 3));
  show(c, 3, fake_log{{1, "a"}, {1, "b"}, {3, "d"}});
  CHECK(c.holds_committed(node_id{3}, 2));
  CHECK_FALSE(c.holds_committed(node_id{3}, 3));
  CHECK_FALSE(c.holds_committed(node_id{1}, 4));  // not committed (yet)
}

TEST_CASE("raft checker: Election Safety fires on two leaders in one term") {
  raft_checker c{3};
  show(c, 1, {}, 4);
  show(c, 1, {}, 4);  // the same leader seen again is fine
  CHECK_FALSE(c.violation().has_value());
  show(c, 2, {}, 4);
  CHECK(fired(c, "Election Safety: nodes 1 and 2 were both leader in term 4"));
}

TEST_CASE("raft checker: Leader Append-Only fires when a leader drops or rewrites an entry") {
  SUBCASE("dropped") {
    raft_checker c{3};
    show(c, 1, {{1, "a"}, {2, "b"}}, 2);
    show(c, 1, {{1, "a"}}, 2);
    CHECK(fired(c, "Leader Append-Only"));
  }
  SUBCASE("rewritten") {
    raft_checker c{3};
    show(c, 1, {{1, "a"}, {1, "b"}}, 2);
    show(c, 1, {{1, "a"}, {2, "x"}}, 2);  // (2, 2) is new, so only append-only can see it
    CHECK(fired(c, "Leader Append-Only"));
  }
  SUBCASE("a follower may truncate, and a leader may append") {
    raft_checker c{3};
    show(c, 1, {{1, "a"}, {2, "b"}});
    show(c, 1, {{1, "a"}, {3, "c"}});
    show(c, 1, {{1, "a"}, {3, "c"}}, 3);
    show(c, 1, {{1, "a"}, {3, "c"}, {3, "d"}}, 3);
    CHECK_FALSE(c.violation().has_value());
  }
}

TEST_CASE("raft checker: Log Matching fires on one (index, term) over two prefixes") {
  raft_checker c{3};
  show(c, 1, {{1, "a"}, {2, "b"}});
  show(c, 2, {{1, "x"}, {2, "y"}});  // differs at index 1 already: (1, 1) has two prefixes
  CHECK(fired(c, "Log Matching: node 2 holds an entry at index 1 of term 1"));

  raft_checker d{3};
  show(d, 1, {{1, "a"}, {2, "b"}});
  show(d, 2, {{1, "x"}, {2, "b"}});  // same last entry, different history below it
  CHECK(fired(d, "Log Matching"));
}

TEST_CASE("raft checker: Leader Completeness fires on a leader missing a committed entry") {
  raft_checker c{3};
  show(c, 1, {{1, "a"}, {1, "b"}}, 1);
  c.observe_commit(node_id{1}, 2);
  show(c, 2, {{1, "a"}});
  show(c, 2, {{1, "a"}}, 2);
  CHECK(fired(c, "Leader Completeness: node 2 became leader of term 2"));
}

TEST_CASE("raft checker: a commit of another entry at a committed index fires") {
  raft_checker c{3};
  show(c, 1, {{1, "a"}});
  c.observe_commit(node_id{1}, 1);
  show(c, 2, {{2, "z"}});
  c.observe_commit(node_id{2}, 1);
  CHECK(fired(c, "committed index 1 holding a different entry"));
}

TEST_CASE("raft checker: State Machine Safety fires on two values at one index") {
  raft_checker c{3};
  const fake_log log{{1, "a"}};
  show(c, 1, log);
  show(c, 2, log);
  c.observe_commit(node_id{1}, 1);
  c.observe_commit(node_id{2}, 1);
  c.observe_apply(node_id{1}, 1, 1, "a");
  c.observe_apply(node_id{2}, 1, 1, "a");
  CHECK_FALSE(c.violation().has_value());
  c.boot(node_id{2});  // a restart applies from the start again: still one value per index
  c.observe_commit(node_id{2}, 1);
  c.observe_apply(node_id{2}, 1, 1, "a!");
  CHECK(fired(c, "State Machine Safety: index 1 applied as 'a' (term 1) and as 'a!'"));
}

TEST_CASE("raft checker: the commit index may not go down within an incarnation") {
  raft_checker c{3};
  show(c, 1, {{1, "a"}, {1, "b"}});
  c.observe_commit(node_id{1}, 2);
  c.boot(node_id{1});
  c.observe_commit(node_id{1}, 0);  // a restart forgets its commit index: allowed
  CHECK_FALSE(c.violation().has_value());
  c.observe_commit(node_id{1}, 2);
  c.observe_commit(node_id{1}, 1);
  CHECK(fired(c, "commit index of node 1 went down from 2 to 1"));
}

TEST_CASE("raft checker: applies must be contiguous and committed") {
  raft_checker c{3};
  show(c, 1, {{1, "a"}, {1, "b"}, {1, "c"}});
  c.observe_commit(node_id{1}, 3);
  c.observe_apply(node_id{1}, 1, 1, "a");
  c.observe_apply(node_id{1}, 3, 1, "c");
  CHECK(fired(c, "applied index 3 after 1"));

  raft_checker d{3};
  show(d, 1, {{1, "a"}});
  d.observe_apply(node_id{1}, 1, 1, "a");
  CHECK(fired(d, "above its commit index 0"));
}

TEST_CASE("raft checker: an acknowledgement must match what was applied") {
  raft_checker c{3};
  show(c, 1, {{1, "a"}});
  c.observe_commit(node_id{1}, 1);
  c.observe_apply(node_id{1}, 1, 1, "a");
  c.observe_ack(1, 1, "a");
  CHECK_FALSE(c.violation().has_value());
  c.observe_ack(2, 1, "b");
  CHECK(fired(c, "acknowledged 'b' at index 2"));
}
