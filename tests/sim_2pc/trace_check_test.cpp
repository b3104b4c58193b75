// Checks two-phase commit's trace the way DESIGN.md says anyone can, from the
// JSON Lines alone: one decision per transaction; commit only where no
// participant voted no and at least one voted; every participant's outcome
// is the transaction's decision; votes and decisions come from the nodes the
// roles live on (participants vote, node 1 decides).
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>

#include "quorum/sim/two_phase_commit_driver.hpp"
#include "support/trace_text.hpp"

using quorum::test::run_traced;
using quorum::test::trace_field;

namespace {
quorum::sim::seed_report run_2pc(const quorum::sim::run_config& c) { return quorum::sim::tpc_sim::run_seed(c); }
}  // namespace

TEST_CASE("sim 2pc trace: the contract's properties hold from the trace alone") {
  std::size_t decisions = 0, commits = 0, outcomes = 0, no_votes = 0, crashes = 0;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    std::istringstream in{run_traced(seed, run_2pc)};
    std::map<std::string, std::string> decided;  // txn -> decision
    std::map<std::string, std::string> first;    // txn -> the first decision or outcome seen
    std::map<std::string, std::set<std::string>> votes;  // txn -> the votes cast
    for (std::string line; std::getline(in, line);) {
      INFO("seed " << seed << ": " << line);
      const std::string node = trace_field(line, "node");
      const std::string event = trace_field(line, "event");
      const std::string txn = trace_field(line, "txn");
      if (event == "\"crash\"") ++crashes;
      if (event == "\"vote\"") {
        CHECK(node != "1");
        const std::string v = trace_field(line, "vote");
        CHECK((v == "\"yes\"" || v == "\"no\""));
        votes[txn].insert(v);
        no_votes += v == "\"no\"" ? 1 : 0;
        if (v == "\"no\"") CHECK_FALSE((decided.count(txn) != 0 && decided.at(txn) == "\"commit\""));
      } else if (event == "\"decide\"" || event == "\"outcome\"") {
        const std::string d = trace_field(line, "decision");
        CHECK((d == "\"commit\"" || d == "\"abort\""));
        auto [it, fresh] = first.emplace(txn, d);
        CHECK(it->second == d);
        if (event == "\"decide\"") {
          CHECK(node == "1");
          ++decisions;
          auto [dt, new_decision] = decided.emplace(txn, d);
          CHECK(dt->second == d);
          if (d == "\"commit\"") {
            ++commits;
            CHECK(votes[txn].count("\"no\"") == 0);
            CHECK_FALSE(votes[txn].empty());
          }
        } else {
          CHECK(node != "1");
          ++outcomes;
        }
      }
    }
  }
  CHECK(decisions > 100);
  CHECK(commits > 50);
  CHECK(commits < decisions);
  CHECK(outcomes > decisions);
  CHECK(no_votes > 10);
  CHECK(crashes > 0);
}
