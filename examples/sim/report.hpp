// What quorum-sim prints when a sweep ends: every failing seed (up to a cap)
// with what broke and the exact command that replays it, then the summary
// table. The table's layout is stable: scripts/demo collects its rows.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "flags.hpp"
#include "sweep.hpp"

namespace quorum_sim {

// Quotes a word for a POSIX shell when it needs it, so a replay command can be pasted.
[[nodiscard]] inline std::string shell_word(std::string_view w) {
  bool plain = !w.empty();
  for (char c : w) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view{"_-./=:,+@%"}.find(c) != std::string_view::npos;
    plain = plain && ok;
  }
  if (plain) return std::string{w};
  std::string q = "'";
  for (char c : w) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

// The same protocol and flags as this run, narrowed to one seed, with a trace.
[[nodiscard]] inline std::string replay_command(std::string_view program, const options& o,
                                                std::uint64_t seed) {
  std::string cmd = shell_word(program) + " " + shell_word(o.protocol);
  for (const auto& [flag, value] : o.run_flags) cmd += " " + flag + " " + shell_word(value);
  const std::string s = std::to_string(seed);
  cmd += " --seed " + s + " --trace " + shell_word("quorum-sim-" + o.protocol + "-seed-" + s + ".jsonl");
  return cmd;
}

inline void print_failures(std::FILE* out, std::string_view program, const options& o, const sweep_totals& t) {
  for (const auto& f : t.failures) {
    std::fprintf(out, "VIOLATION  %s seed %llu: %s\n  replay: %s\n", o.protocol.c_str(),
                 static_cast<unsigned long long>(f.seed), f.what.empty() ? "(no explanation given)" : f.what.c_str(),
                 replay_command(program, o, f.seed).c_str());
  }
  if (t.violations > t.failures.size())
    std::fprintf(out, "... and %llu more failing seeds (only the first %zu are listed)\n",
                 static_cast<unsigned long long>(t.violations - t.failures.size()), t.failures.size());
}

inline void print_summary_header(std::FILE* out) {
  std::fprintf(out, "%-14s %10s %14s %12s %14s %12s %10s %10s\n", "protocol", "seeds", "events", "commits",
               "leader-changes", "faults", "violations", "wall");
}

inline void print_summary_row(std::FILE* out, std::string_view name, const sweep_totals& t) {
  const auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  std::fprintf(out, "%-14.*s %10llu %14llu %12llu %14llu %12llu %10llu %9.2fs\n", static_cast<int>(name.size()),
               name.data(), u(t.seeds), u(t.events), u(t.commits), u(t.leader_changes), u(t.faults),
               u(t.violations), t.wall_seconds);
}

inline void print_summary(std::FILE* out, std::string_view name, const sweep_totals& t) {
  std::fputc('\n', out);
  print_summary_header(out);
  print_summary_row(out, name, t);
}

}  // namespace quorum_sim
