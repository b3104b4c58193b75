// Each property of the Multi-Paxos checker (sim/paxos_checker.hpp) fires on a
// hand-made history that breaks it, and stays quiet on the same history kept
// correct: a checker that cannot fail proves nothing.
#include <doctest/doctest.h>

#include <string>

#include "quorum/sim/paxos_checker.hpp"

namespace {

using quorum::ballot;
using quorum::node_id;
using quorum::sim::paxos_checker;

bool fired(const paxos_checker& c, const char* what) {
  return c.violation().has_value() && c.violation()->find(what) != std::string::npos;
}

// Two nodes learn and apply slots 1-3 (slot 2 a no-op), and an ack of slot 3.
void correct_history(paxos_checker& c) {
  c.observe_proposed("a");
  c.observe_proposed("c");
  c.observe_leader(node_id{1}, ballot{1, node_id{1}});
  for (std::uint64_t n : {1, 2}) {
    c.observe_chosen(node_id{n}, 1, "a");
    c.observe_chosen(node_id{n}, 2, "noop");
    c.observe_chosen(node_id{n}, 3, "c");
    c.observe_apply(node_id{n}, 1, "a");
    c.observe_apply(node_id{n}, 2, "noop");
    c.observe_apply(node_id{n}, 3, "c");
  }
  c.observe_ack(3, "c");
}

}  // namespace

TEST_CASE("paxos checker: a correct history raises nothing") {
  paxos_checker c{3};
  correct_history(c);
  c.boot(node_id{2});  // a restart applies from slot 1 again
  c.observe_apply(node_id{2}, 1, "a");
  CHECK_FALSE(c.violation().has_value());
  CHECK(c.chosen_slots() == 3);
  CHECK(c.chosen_prefix() == 3);
  CHECK(c.leaders() == 1);
}

TEST_CASE("paxos checker: Agreement fires on two values chosen at one slot") {
  paxos_checker c{3};
  correct_history(c);
  c.observe_proposed("b");
  c.observe_chosen(node_id{3}, 1, "b");
  CHECK(fired(c, "Agreement: slot 1"));
}

TEST_CASE("paxos checker: Validity fires on a value no client proposed") {
  paxos_checker c{3};
  correct_history(c);
  c.observe_chosen(node_id{3}, 4, "invented");
  CHECK(fired(c, "Validity"));
}

TEST_CASE("paxos checker: applies must be contiguous and of the chosen value") {
  paxos_checker gap{3};
  correct_history(gap);
  gap.observe_chosen(node_id{1}, 5, "a");
  gap.observe_apply(node_id{1}, 5, "a");
  CHECK(fired(gap, "not contiguous"));
  paxos_checker wrong{3};
  wrong.observe_proposed("a");
  wrong.observe_proposed("b");
  wrong.observe_chosen(node_id{1}, 1, "a");
  wrong.observe_apply(node_id{2}, 1, "b");
  CHECK(fired(wrong, "applied 'b' at slot 1"));
  paxos_checker early{3};
  early.observe_apply(node_id{1}, 1, "a");
  CHECK(fired(early, "before anyone learned it chosen"));
}

TEST_CASE("paxos checker: an acknowledgement must match what was chosen") {
  paxos_checker c{3};
  correct_history(c);
  c.observe_ack(1, "c");
  CHECK(fired(c, "acknowledged 'c' at slot 1"));
}

TEST_CASE("paxos checker: a ballot leads once and only for its own node") {
  paxos_checker twice{3};
  twice.observe_leader(node_id{2}, ballot{3, node_id{2}});
  twice.observe_leader(node_id{2}, ballot{3, node_id{2}});
  CHECK(fired(twice, "became leader twice"));
  paxos_checker foreign{3};
  foreign.observe_leader(node_id{1}, ballot{3, node_id{2}});
  CHECK(fired(foreign, "not its own"));
}

TEST_CASE("paxos checker: a restore of chosen slots continues the applies after it") {
  paxos_checker c{3};
  correct_history(c);
  c.boot(node_id{3});
  c.observe_restore(node_id{3}, 3);  // every slot up to 3 is chosen
  CHECK_FALSE(c.violation().has_value());
  c.observe_proposed("d");
  c.observe_chosen(node_id{1}, 4, "d");
  c.observe_apply(node_id{3}, 4, "d");
  CHECK_FALSE(c.violation().has_value());
}

TEST_CASE("paxos checker: a restore past the chosen slots is a violation") {
  paxos_checker c{3};
  correct_history(c);
  c.boot(node_id{3});
  c.observe_restore(node_id{3}, 4);
  CHECK(fired(c, "only slots up to 3 are known chosen"));
}

TEST_CASE("paxos checker: a restore that takes a node back is a violation") {
  paxos_checker c{3};
  correct_history(c);
  c.observe_restore(node_id{1}, 2);
  CHECK(fired(c, "after applying up to 3"));
}
