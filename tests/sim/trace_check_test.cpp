// Checks the self-test's trace the way DESIGN.md says anyone can, without our
// code: per index one value; apply indices contiguous per node incarnation
// (a restart starts again at 1); every acknowledged value applied where it was
// acknowledged; every line carries seed, time, node and event, times ordered.
#include <doctest/doctest.h>

#include <cstdio>
#include <map>
#include <sstream>
#include <string>

#include "quorum/sim/selftest.hpp"

namespace {

// The raw text of a top-level field ("42" or "\"v7\""), or "" when absent.
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
    REQUIRE_FALSE(quorum::sim::selftest::run_seed(c, false).violation);
  }
  std::rewind(f);
  std::string out;
  char buf[8192];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  std::fclose(f);
  return out;
}

}  // namespace

TEST_CASE("the self-test's trace passes DESIGN.md's trace checks") {
  for (std::uint64_t seed : {3, 17, 101}) {
    std::istringstream in{run_traced(seed)};
    std::map<std::string, std::string> value_at;     // index -> value
    std::map<std::string, long> next_apply;          // node -> next index it may apply
    std::map<std::pair<std::string, std::string>, std::string> applied;  // (node, index) -> value
    std::map<std::string, std::pair<std::string, std::string>> acked;    // index -> (node, value)
    long last_time = 0;
    int lines = 0;
    int restarts = 0;
    for (std::string line; std::getline(in, line);) {
      ++lines;
      REQUIRE(field(line, "seed") == std::to_string(seed));
      const long time = std::stol(field(line, "time"));
      CHECK(time >= last_time);
      last_time = time;
      const std::string node = field(line, "node");
      const std::string event = field(line, "event");
      REQUIRE_FALSE(node.empty());
      if (event == "\"restart\"" || event == "\"crash\"") {
        next_apply[node] = 1;
        restarts += event == "\"restart\"";
      } else if (event == "\"apply\"") {
        const std::string index = field(line, "index");
        const std::string value = field(line, "value");
        auto [it, fresh] = next_apply.emplace(node, 1);
        CHECK_MESSAGE(std::stol(index) == it->second, "node ", node, " applied ", index);
        it->second = std::stol(index) + 1;
        auto [v, first] = value_at.emplace(index, value);
        CHECK_MESSAGE(v->second == value, "index ", index);
        applied[{node, index}] = value;
      } else if (event == "\"ack\"") {
        acked[field(line, "index")] = {node, field(line, "value")};
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
