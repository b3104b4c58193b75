// Test support: run one seed with a JSON Lines trace and read fields back from
// the text, so trace checks use only what DESIGN.md promises, not our types.
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "quorum/sim/run.hpp"
#include "quorum/sim/trace.hpp"

namespace quorum::test {

// The raw text of a top-level field ("42" or "\"v7\""), or "" when absent.
// Enough for our traces, whose values hold no escaped quotes.
inline std::string trace_field(const std::string& line, const std::string& key) {
  const std::string k = "\"" + key + "\":";
  const auto at = line.find(k);
  if (at == std::string::npos) return "";
  const auto from = at + k.size();
  if (line[from] == '"') return line.substr(from, line.find('"', from + 1) - from + 1);
  return line.substr(from, line.find_first_of(",}", from) - from);
}

// Everything written to f so far.
inline std::string read_all(std::FILE* f) {
  std::rewind(f);
  std::string out;
  char buf[8192];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  return out;
}

// How many times `what` occurs in s.
inline std::size_t count_of(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// Runs `run(config)` for one seed with `config` as given plus a trace, puts
// the trace text in `out` and returns the seed's report.
template <class Run>
sim::seed_report traced_run(sim::run_config c, std::uint64_t seed, Run run, std::string& out) {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  sim::seed_report r;
  {
    sim::trace_writer w{f};
    c.seed = seed;
    c.trace = &w;
    r = run(c);
  }
  out = read_all(f);
  std::fclose(f);
  return r;
}

// Runs `run(config)` for one seed with crashes on (so incarnations matter),
// requires it to pass, and returns the whole trace text.
template <class Run>
std::string run_traced(std::uint64_t seed, Run run) {
  sim::run_config c;
  c.crash = 0.003;
  std::string out;
  REQUIRE_FALSE(traced_run(c, seed, run, out).violation);
  return out;
}

}  // namespace quorum::test
