// quorum-sim's command line (DESIGN.md, "The simulator and its contract"):
// parses and validates every flag into `options`, or says in one line which
// flag is wrong. A usage error is exit code 2; nothing runs before it passes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quorum/core/result.hpp"
#include "strict_number.hpp"

namespace quorum_sim {

inline constexpr std::string_view usage_text =
    "usage: quorum-sim PROTOCOL [--nodes N] [--seed S | --seeds A-B] [--steps K]\n"
    "                  [--drop P] [--duplicate P] [--reorder P] [--partition P] [--crash P]\n"
    "                  [--trace FILE] [--watchdog SECONDS]\n"
    "       quorum-sim --list | --help\n"
    "  PROTOCOL     one of `quorum-sim --list`\n"
    "  --nodes N    cluster size, 1..15 (a protocol may narrow it); default: the protocol's\n"
    "  --seed S     run one seed (default 1); --seeds A-B runs A..B inclusive\n"
    "  --steps K    events in the fault phase, 1..10000000; default: the protocol's\n"
    "  --drop P ... fault probabilities in [0, 1]; a rate not given is drawn per seed\n"
    "  --trace FILE write every observable event as JSON Lines to FILE\n"
    "  --watchdog S an event that has not finished after S seconds (a call that never\n"
    "               returns) is reported as a violation, and the run ends; 0: never (default 60)\n"
    "exit code: 0 no violation; 1 a violation (seed and replay command printed); 2 bad usage\n";

inline constexpr std::uint32_t max_nodes = 15;
inline constexpr std::uint64_t max_steps = 10'000'000;  // a seed that long is a soak (selftest: ~16 s per million)
inline constexpr std::uint64_t max_watchdog_seconds = 86'400;

struct options {
  bool help{false};
  bool list{false};
  std::string protocol;
  std::optional<std::uint32_t> nodes;
  std::uint64_t first_seed{1};
  std::uint64_t last_seed{1};
  std::optional<std::uint64_t> steps;
  std::optional<double> drop, duplicate, reorder, partition, crash;
  std::optional<std::string> trace;
  std::uint64_t watchdog_seconds{60};  // 0: no watchdog
  // The flags that shape a run, as the user wrote them, so a replay command
  // reproduces the run exactly (no float reformatting).
  std::vector<std::pair<std::string, std::string>> run_flags;
};

namespace detail {

using parse_result = quorum::result<void, std::string>;

inline quorum::unexpected<std::string> bad(std::string_view flag, std::string_view expected,
                                           std::string_view got) {
  std::string m{flag};
  m += ": expected ";
  m += expected;
  m += ", got '";
  m += got;
  m += "'";
  return quorum::unexpected<std::string>{std::move(m)};
}

inline parse_result parse_seeds(std::string_view text, options& o) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return bad("--seeds", "a range A-B of unsigned 64-bit integers", text);
  const auto a = parse_u64(text.substr(0, dash));
  const auto b = parse_u64(text.substr(dash + 1));
  if (!a || !b) return bad("--seeds", "a range A-B of unsigned 64-bit integers", text);
  if (*a > *b) return bad("--seeds", "A <= B in A-B", text);
  o.first_seed = *a;
  o.last_seed = *b;
  return {};
}

inline parse_result parse_rate(std::string_view flag, std::string_view text, std::optional<double>& into) {
  const auto p = parse_probability(text);
  if (!p) return bad(flag, "a probability in [0, 1] such as 0.05", text);
  into = *p;
  return {};
}

// One flag with its value; `flag` is already known to be one of ours.
inline parse_result parse_value(std::string_view flag, std::string_view text, options& o) {
  if (flag == "--nodes") {
    const auto n = parse_u64(text);
    if (!n || *n < 1 || *n > max_nodes) return bad(flag, "an integer in [1, 15]", text);
    o.nodes = static_cast<std::uint32_t>(*n);
  } else if (flag == "--seed") {
    const auto s = parse_u64(text);
    if (!s) return bad(flag, "an unsigned 64-bit integer", text);
    o.first_seed = o.last_seed = *s;
  } else if (flag == "--seeds") {
    QUORUM_TRY(parse_seeds(text, o));
  } else if (flag == "--steps") {
    const auto k = parse_u64(text);
    if (!k || *k < 1 || *k > max_steps) return bad(flag, "an integer in [1, 10000000]", text);
    o.steps = *k;
  } else if (flag == "--watchdog") {
    const auto s = parse_u64(text);
    if (!s || *s > max_watchdog_seconds) return bad(flag, "whole seconds in [0, 86400]", text);
    o.watchdog_seconds = *s;
  } else if (flag == "--trace") {
    if (text.empty()) return bad(flag, "a file name", text);
    o.trace = std::string{text};
  } else if (flag == "--drop") {
    return parse_rate(flag, text, o.drop);
  } else if (flag == "--duplicate") {
    return parse_rate(flag, text, o.duplicate);
  } else if (flag == "--reorder") {
    return parse_rate(flag, text, o.reorder);
  } else if (flag == "--partition") {
    return parse_rate(flag, text, o.partition);
  } else {
    return parse_rate(flag, text, o.crash);
  }
  return {};
}

inline constexpr std::string_view value_flags[] = {"--nodes", "--seed",      "--seeds",   "--steps",
                                                   "--trace", "--drop",      "--duplicate", "--reorder",
                                                   "--partition", "--crash",   "--watchdog"};

inline bool is_value_flag(std::string_view flag) {
  for (auto f : value_flags)
    if (f == flag) return true;
  return false;
}

}  // namespace detail

// Parses argv[1..]; the error is one line naming the offending flag.
// Accepts "--flag value" and "--flag=value"; PROTOCOL may come anywhere.
inline quorum::result<options, std::string> parse_flags(std::span<const std::string_view> args) {
  options o;
  std::vector<std::string_view> seen;
  auto fail = [](std::string m) { return quorum::unexpected<std::string>{std::move(m)}; };
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") { o.help = true; continue; }
    if (arg == "--list") { o.list = true; continue; }
    if (!arg.starts_with("-")) {
      if (!o.protocol.empty())
        return fail("unexpected argument '" + std::string{arg} + "' (PROTOCOL is already '" + o.protocol + "')");
      o.protocol = std::string{arg};
      continue;
    }
    std::string_view flag = arg;
    std::optional<std::string_view> value;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    if (!detail::is_value_flag(flag)) return fail("unknown flag '" + std::string{flag} + "'");
    for (auto s : seen)
      if (s == flag) return fail(std::string{flag} + ": given more than once");
    if ((flag == "--seed" && std::ranges::count(seen, "--seeds") > 0) ||
        (flag == "--seeds" && std::ranges::count(seen, "--seed") > 0))
      return fail(std::string{flag} + ": --seed and --seeds are exclusive; give one");
    seen.push_back(flag);
    if (!value) {
      if (i + 1 >= args.size()) return fail(std::string{flag} + ": missing value");
      value = args[++i];
    }
    if (auto r = detail::parse_value(flag, *value, o); !r) return fail(r.error());
    if (flag != "--trace" && flag != "--seed" && flag != "--seeds")
      o.run_flags.emplace_back(std::string{flag}, std::string{*value});
  }
  if (!o.help && !o.list && o.protocol.empty()) return fail("missing PROTOCOL");
  return o;
}

}  // namespace quorum_sim
