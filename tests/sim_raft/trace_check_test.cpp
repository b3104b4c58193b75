// Checks Raft's trace the way DESIGN.md says anyone can, from the JSON Lines
// alone: per index one value (and one term); apply indices contiguous per node
// incarnation; every acknowledged value applied at its index by the node that
// acknowledged it; at most one leader per term; no-ops applied as "noop...".
#include <doctest/doctest.h>

#include <map>
#include <sstream>
#include <string>
#include <utility>

#include "quorum/sim/raft_driver.hpp"
#include "support/trace_text.hpp"

using quorum::test::run_traced;
using quorum::test::trace_field;

namespace {
quorum::sim::seed_report run_raft(const quorum::sim::run_config& c) {
  return quorum::sim::raft_sim::run_seed(c);
}
}  // namespace

TEST_CASE("sim raft trace: the contract's properties hold from the trace alone") {
  std::size_t acks = 0, noops = 0, restarts = 0, restores = 0, configs = 0;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    std::istringstream in{run_traced(seed, run_raft)};
    std::map<std::string, std::pair<std::string, std::string>> chosen;  // index -> (value, term)
    std::map<std::string, long> next;                                  // node -> next apply index
    std::map<std::string, std::map<std::string, std::string>> applied;  // node -> index -> value
    std::map<std::string, std::string> leader_of;                      // term -> node
    for (std::string line; std::getline(in, line);) {
      INFO("seed " << seed << ": " << line);
      const std::string node = trace_field(line, "node");
      const std::string event = trace_field(line, "event");
      if (event == "\"restart\"") {
        next[node] = 1;
        applied[node].clear();
        ++restarts;
      } else if (event == "\"restore\"") {
        // A snapshot replaces everything up to its index: applies go on after it.
        next[node] = std::stol(trace_field(line, "index")) + 1;
        applied[node].clear();
        ++restores;
      } else if (event == "\"leader\"") {
        auto [it, fresh] = leader_of.emplace(trace_field(line, "term"), node);
        CHECK((fresh || it->second == node));
      } else if (event == "\"apply\"") {
        const std::string index = trace_field(line, "index");
        const std::string value = trace_field(line, "value");
        const std::string term = trace_field(line, "term");
        REQUIRE_FALSE(term.empty());
        auto& n = next.try_emplace(node, 1).first->second;
        CHECK(std::stol(index) == n);
        n = std::stol(index) + 1;
        auto [it, fresh] = chosen.emplace(index, std::pair{value, term});
        CHECK(it->second == std::pair{value, term});
        applied[node][index] = value;
        if (value.rfind("\"noop", 0) == 0) ++noops;
        if (value.rfind("\"config", 0) == 0) ++configs;
      } else if (event == "\"ack\"") {
        const std::string index = trace_field(line, "index");
        CHECK(applied[node][index] == trace_field(line, "value"));
        ++acks;
      }
    }
  }
  CHECK(acks > 100);
  CHECK(noops > 8);
  CHECK(restarts > 0);
  CHECK(restores > 0);  // snapshots restored on restart or installed from a leader
  CHECK(configs > 0);   // membership changes went through the log
}
