// A fixed-size two-phase commit run for instruction counts, which a shared
// machine's load does not move: warm up, then run T transactions inside
// measured_run(), the function to give valgrind --tool=callgrind
// --toggle-collect. Usage and figures: bench/README.md.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "classic_cluster.hpp"
#include "paxos_commit_cluster.hpp"

namespace {

using namespace tpc_bench;

constexpr std::uint64_t max_txns = std::uint64_t{1} << 26;
constexpr std::uint64_t warmup_txns = 8192;

int usage() {
  std::fprintf(stderr,
               "usage: quorum-2pc-callgrind classic VARIANT N WINDOW WIRE [T]\n"
               "       quorum-2pc-callgrind paxos N F WINDOW WIRE [T]\n"
               "  VARIANT 0..5 as in quorum_2pc_bench; runs T transactions (default 100000)\n"
               "  inside measured_run(): valgrind --tool=callgrind --collect-atstart=no\n"
               "  --toggle-collect='*measured_run*' counts exactly those instructions.\n");
  return 2;
}

bool parse(const char* s, std::uint64_t& out) {
  const char* end = s + std::strlen(s);
  auto [p, ec] = std::from_chars(s, end, out);
  return ec == std::errc{} && p == end;
}

[[gnu::noinline]] bool measured_run(classic_cluster& c, std::uint64_t txns, std::size_t window) {
  for (std::uint64_t k = 0; k < txns; ++k)
    if (!c.begin_next(window) || !c.take_decisions()) return false;
  return c.drain() && c.take_decisions();
}

[[gnu::noinline]] bool measured_run(paxos_commit_cluster& c, std::uint64_t txns, std::size_t window) {
  for (std::uint64_t k = 0; k < txns; ++k)
    if (!c.begin_next(window)) return false;
  return c.drain();
}

bool warm_up(classic_cluster& c, std::size_t window) {
  for (std::uint64_t k = 0; k < warmup_txns; ++k)
    if (!c.begin_next(window) || !c.take_decisions()) return false;
  return c.drain() && c.take_decisions();
}

// Untimed, uncounted: the nodes reach a steady state (forgetting keeps up).
bool warm_up(paxos_commit_cluster& c, std::size_t window) {
  for (std::uint64_t k = 0; k < warmup_txns; ++k)
    if (!c.begin_next(window)) return false;
  return c.drain();
}

int classic(variant v, std::size_t n, std::size_t window, wire_mode mode, std::uint64_t txns) {
  classic_cluster c{v, n, mode};
  if (!c.check().empty() || !warm_up(c, window)) return 1;
  const std::uint64_t m0 = c.messages(), f0 = c.forced_writes(), d0 = c.finished();
  if (!measured_run(c, txns, window) || c.finished() - d0 != txns) return 1;
  std::printf("%s n=%zu window=%zu: txns %llu  msgs/txn %.3f  forced/txn %.3f\n", to_string(v), n, window,
              static_cast<unsigned long long>(txns), static_cast<double>(c.messages() - m0) / static_cast<double>(txns),
              static_cast<double>(c.forced_writes() - f0) / static_cast<double>(txns));
  return 0;
}

int paxos(std::size_t n, std::size_t f, std::size_t window, wire_mode mode, std::uint64_t txns) {
  paxos_commit_cluster c{n, f, mode};
  if (!c.check().empty() || !warm_up(c, window)) return 1;
  const std::uint64_t d0 = c.decided(), c0 = c.commits(), m0 = c.messages(), g0 = c.gc_messages(),
                      f0 = c.forced_writes();
  if (!measured_run(c, txns, window) || c.decided() - d0 != txns || c.commits() - c0 != txns) return 1;
  const auto per_txn = [&](std::uint64_t v) { return static_cast<double>(v) / static_cast<double>(txns); };
  std::printf(
      "paxos commit n=%zu f=%zu window=%zu wire=%d: txns %llu  msgs/txn %.3f (gc %.3f)  forced/txn %.3f  held %llu\n",
      n, f, window, mode == wire_mode::wire ? 1 : 0, static_cast<unsigned long long>(txns), per_txn(c.messages() - m0),
      per_txn(c.gc_messages() - g0), per_txn(c.forced_writes() - f0), static_cast<unsigned long long>(c.held()));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string_view side = argv[1];
  std::uint64_t a[5] = {0, 0, 0, 0, 100000};
  const int fields = side == "classic" || side == "paxos" ? 4 : -1;
  if (fields < 0 || argc < 2 + fields || argc > 3 + fields) return usage();
  for (int i = 0; i < fields; ++i)
    if (!parse(argv[2 + i], a[i])) return usage();
  std::uint64_t& txns = a[fields];
  if (argc == 3 + fields && !parse(argv[2 + fields], txns)) return usage();
  if (txns == 0 || txns > max_txns || a[2] == 0 || a[2] > 4096) return usage();
  if (a[3] > 1) return usage();
  const wire_mode mode = a[3] == 1 ? wire_mode::wire : wire_mode::copy;
  if (side == "paxos") return a[0] > 64 || 2 * a[1] + 1 > a[0] ? usage() : paxos(a[0], a[1], a[2], mode, txns);
  if (a[0] > static_cast<std::uint64_t>(variant::one_phase) || a[1] == 0 || a[1] > 64) return usage();
  return classic(static_cast<variant>(a[0]), a[1], a[2], mode, txns);
}
