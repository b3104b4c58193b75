// Checks Raft's trace the way DESIGN.md says anyone can, from the JSON Lines
// alone: per index one value (and one term); apply indices contiguous per node
// incarnation; every acknowledged value applied at its index by the node that
// acknowledged it; at most one leader per term; no-ops applied as "noop...".
#include <doctest/doctest.h>

#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <utility>

#include "quorum/sim/raft_driver.hpp"

namespace {

// The raw text of a top-level field ("42" or "\"v7 set k0\""), or "" when absent.
std::string field(const std::string& line, const std::string& key) {
  const std::string k = "\"" + key + "\":";
  const auto at = line.find(k);
  if (at == std::string::npos) return "";
  const auto from = at + k.size();
  if (line[from] == '"') return line.substr(from, line.find('"', from + 1) - from + 1);
  return line.substr(from, line.find_first_of(",}", from) - from);
}

std::string run_traced(std::uint64_t seed) {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  {
    quorum::sim::trace_writer w{f};
    quorum::sim::run_config c;
    c.seed = seed;
    c.trace = &w;
    c.crash = 0.003;  // restarts, so incarnations matter
    REQUIRE_FALSE(quorum::sim::raft_sim::run_seed(c).violation);
  }
  std::rewind(f);
  std::string out;
  char buf[8192];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  std::fclose(f);
  return out;
}

}  // namespace

TEST_CASE("sim raft trace: the contract's properties hold from the trace alone") {
  std::size_t acks = 0, noops = 0, restarts = 0;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    std::istringstream in{run_traced(seed)};
    std::map<std::string, std::pair<std::string, std::string>> chosen;  // index -> (value, term)
    std::map<std::string, long> next;                                  // node -> next apply index
    std::map<std::string, std::map<std::string, std::string>> applied;  // node -> index -> value
    std::map<std::string, std::string> leader_of;                      // term -> node
    for (std::string line; std::getline(in, line);) {
      INFO("seed " << seed << ": " << line);
      const std::string node = field(line, "node");
      const std::string event = field(line, "event");
      if (event == "\"restart\"") {
        next[node] = 1;
        applied[node].clear();
        ++restarts;
      } else if (event == "\"leader\"") {
        auto [it, fresh] = leader_of.emplace(field(line, "term"), node);
        CHECK((fresh || it->second == node));
      } else if (event == "\"apply\"") {
        const std::string index = field(line, "index");
        const std::string value = field(line, "value");
        const std::string term = field(line, "term");
        REQUIRE_FALSE(term.empty());
        auto& n = next.try_emplace(node, 1).first->second;
        CHECK(std::stol(index) == n);
        n = std::stol(index) + 1;
        auto [it, fresh] = chosen.emplace(index, std::pair{value, term});
        CHECK(it->second == std::pair{value, term});
        applied[node][index] = value;
        if (value.rfind("\"noop", 0) == 0) ++noops;
      } else if (event == "\"ack\"") {
        const std::string index = field(line, "index");
        CHECK(applied[node][index] == field(line, "value"));
        ++acks;
      }
    }
  }
  CHECK(acks > 100);
  CHECK(noops > 8);
  CHECK(restarts > 0);
}
