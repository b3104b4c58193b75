// Checks the self-test's trace the way DESIGN.md says anyone can, without our
// code: per index one value; apply indices contiguous per node incarnation
// (a restart starts again at 1); every acknowledged value applied where it was
// acknowledged; every line carries seed, time, node and event, times ordered.
#include <doctest/doctest.h>

#include <map>
#include <sstream>
#include <string>

#include "quorum/sim/selftest.hpp"
#include "support/trace_text.hpp"

using quorum::test::run_traced;
using quorum::test::trace_field;

namespace {
quorum::sim::seed_report run_selftest(const quorum::sim::run_config& c) {
  return quorum::sim::selftest::run_seed(c, false);
}
}  // namespace

TEST_CASE("the self-test's trace passes DESIGN.md's trace checks") {
  for (std::uint64_t seed : {3, 17, 101}) {
    std::istringstream in{run_traced(seed, run_selftest)};
    std::map<std::string, std::string> value_at;     // index -> value
    std::map<std::string, long> next_apply;          // node -> next index it may apply
    std::map<std::pair<std::string, std::string>, std::string> applied;  // (node, index) -> value
    std::map<std::string, std::pair<std::string, std::string>> acked;    // index -> (node, value)
    long last_time = 0;
    int lines = 0;
    int restarts = 0;
    for (std::string line; std::getline(in, line);) {
      ++lines;
      REQUIRE(trace_field(line, "seed") == std::to_string(seed));
      const long time = std::stol(trace_field(line, "time"));
      CHECK(time >= last_time);
      last_time = time;
      const std::string node = trace_field(line, "node");
      const std::string event = trace_field(line, "event");
      REQUIRE_FALSE(node.empty());
      if (event == "\"restart\"" || event == "\"crash\"") {
        next_apply[node] = 1;
        restarts += event == "\"restart\"";
      } else if (event == "\"apply\"") {
        const std::string index = trace_field(line, "index");
        const std::string value = trace_field(line, "value");
        auto [it, fresh] = next_apply.emplace(node, 1);
        CHECK_MESSAGE(std::stol(index) == it->second, "node ", node, " applied ", index);
        it->second = std::stol(index) + 1;
        auto [v, first] = value_at.emplace(index, value);
        CHECK_MESSAGE(v->second == value, "index ", index);
        applied[{node, index}] = value;
      } else if (event == "\"ack\"") {
        acked[trace_field(line, "index")] = {node, trace_field(line, "value")};
      } else {
        CHECK((event == "\"propose\"" || event == "\"leader\""));
      }
    }
    CHECK(lines > 500);
    CHECK(restarts > 0);
    CHECK(acked.size() > 50);
    for (const auto& ack : acked) {
      const std::string& index = ack.first;
      const std::string& node = ack.second.first;
      const auto it = applied.find({node, index});
      REQUIRE_MESSAGE(it != applied.end(), "acked index ", index, " never applied at ", node);
      CHECK(it->second == ack.second.second);
    }
  }
}
