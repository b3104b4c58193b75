// quorum-sim: the front door to quorum's deterministic simulator (DESIGN.md,
// "The simulator and its contract"). Runs a protocol over seeds under faults;
// exit 0 no violation, 1 a violation (seed and replay printed), 2 bad usage.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flags.hpp"
#include "progress.hpp"
#include "protocols.hpp"
#include "report.hpp"
#include "quorum/sim/trace.hpp"
#include "sweep.hpp"
#include "watchdog.hpp"

namespace {

int usage_error(const std::string& message) {
  std::fprintf(stderr, "quorum-sim: %s\n%.*s", message.c_str(), static_cast<int>(quorum_sim::usage_text.size()),
               quorum_sim::usage_text.data());
  return 2;
}

void print_help() {
  std::fwrite(quorum_sim::usage_text.data(), 1, quorum_sim::usage_text.size(), stdout);
  std::printf("protocols in this build:\n");
  for (const auto& p : quorum_sim::protocols)
    std::printf("  %-14.*s %.*s\n", static_cast<int>(p.name.size()), p.name.data(),
                static_cast<int>(p.description.size()), p.description.data());
}

struct file_closer {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

}  // namespace

int main(int argc, char** argv) {
  using namespace quorum_sim;
  const std::vector<std::string_view> args(argc > 0 ? argv + 1 : argv, argv + argc);
  auto parsed = parse_flags(args);
  if (!parsed) return usage_error(parsed.error());
  const options& o = *parsed;
  if (o.help) {
    print_help();
    return 0;
  }
  if (o.list) {
    for (const auto& p : protocols) std::printf("%.*s\n", static_cast<int>(p.name.size()), p.name.data());
    return 0;
  }
  const protocol* p = find_protocol(o.protocol);
  if (p == nullptr) return usage_error(protocol_error(o.protocol));
  if (o.nodes && (*o.nodes < p->min_nodes || *o.nodes > p->max_nodes))
    return usage_error("--nodes: " + o.protocol + " runs with " + std::to_string(p->min_nodes) + " to " +
                       std::to_string(p->max_nodes) + " nodes, got " + std::to_string(*o.nodes));

  std::unique_ptr<std::FILE, file_closer> trace_file;
  std::optional<quorum::sim::trace_writer> trace;
  if (o.trace) {
    trace_file.reset(std::fopen(o.trace->c_str(), "wb"));
    if (!trace_file) return usage_error("--trace: cannot open '" + *o.trace + "' for writing: " + std::strerror(errno));
    trace.emplace(trace_file.get());
  }

  progress_meter progress{stderr};
  quorum::sim::run_progress watched;
  std::optional<watchdog> dog;
  if (o.watchdog_seconds != 0) {
    const std::string program = argv[0] != nullptr ? argv[0] : "quorum-sim";
    const auto report = [&o, program, file = trace_file.get()](const stall& s) {
      std::string event = std::to_string(s.event) + " (" + s.what;
      if (s.node != 0) event += " node " + std::to_string(s.node);
      event += ")";
      std::fprintf(stdout,
                   "\nVIOLATION  %s seed %llu: watchdog: event %s has not finished after %llu s: a call into a node "
                   "or a checker that never returns\n  replay: %s\n",
                   o.protocol.c_str(), static_cast<unsigned long long>(s.seed), event.c_str(),
                   static_cast<unsigned long long>(s.waited.count()), replay_command(program, o, s.seed).c_str());
      std::fflush(stdout);
      if (file != nullptr) std::fflush(file);  // the trace up to the hung event (lines are written whole)
    };
    dog.emplace(watched, std::chrono::seconds{o.watchdog_seconds}, report);
  }
  const sweep_totals totals = run_sweep(*p, o, trace ? &*trace : nullptr, progress, &watched);
  dog.reset();
  print_failures(stdout, argv[0] != nullptr ? argv[0] : "quorum-sim", o, totals);
  print_summary(stdout, p->name, totals);

  if (trace_file) {
    const auto lines = static_cast<unsigned long long>(trace->lines());
    trace.reset();  // the writer flushes on destruction; only then is the file complete
    if (std::fflush(trace_file.get()) != 0 || std::ferror(trace_file.get()) != 0) {
      std::fprintf(stderr, "quorum-sim: --trace: writing '%s' failed: %s\n", o.trace->c_str(), std::strerror(errno));
      return 2;
    }
    std::printf("trace: %llu events written to %s\n", lines, o.trace->c_str());
  }
  if (totals.violations > 0) {
    std::printf("\n%llu of %llu seeds broke a checker; replay one with the command above.\n",
                static_cast<unsigned long long>(totals.violations), static_cast<unsigned long long>(totals.seeds));
    return 1;
  }
  return 0;
}
