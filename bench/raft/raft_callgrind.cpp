// A fixed-size Raft run for instruction counts: warm up untimed, then commit
// N entries (one at a time or in batches of 64) on quorum's cluster, on
// quorum's Multi-Paxos cluster (side "paxos") or on canonical raft's
// fixture, inside measured_run(), the function to give
// valgrind --tool=callgrind --toggle-collect. Also prints allocations per
// entry and the commit latency. Usage and figures: bench/README.md.
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "alloc_counter.hpp"
#include "paxos_cluster.hpp"
#include "quorum_cluster.hpp"

#if QUORUM_BENCH_HAVE_LIBRAFT
#include "canonical_cluster.hpp"
#endif

namespace {

using namespace quorum_bench;

// Bounds on the command line's N, so that a typo cannot run for hours.
constexpr std::uint64_t max_entries = std::uint64_t{1} << 28;
constexpr std::uint64_t quorum_warmup_entries = 4096;

int usage() {
  std::fprintf(stderr,
               "usage: quorum-raft-callgrind quorum|paxos|canonical one|batch64|batch64-one-request [N]\n"
               "       quorum-raft-callgrind quorum-wire|paxos-wire one|batch64|batch64-one-request [N]\n"
               "  commits N entries (default 100000, a multiple of 64 for batches) after an untimed\n"
               "  warm-up, inside measured_run(): valgrind --tool=callgrind --collect-atstart=no\n"
               "  --toggle-collect='*measured_run*' counts exactly those instructions.\n"
               "  batch64-one-request: canonical's one raft_apply carrying 64 buffers, quorum's and\n"
               "  paxos's one node::propose_all of 64 commands.\n"
               "  -wire: every message encoded by the sender and decoded by the receiver.\n");
  return 2;
}

// One batch of `batch` entries (1: a single proposal), on either cluster.
template <class Cluster>
bool commit(Cluster& c, std::uint64_t batch, bool one_request) {
  if constexpr (std::is_same_v<Cluster, quorum_cluster> || std::is_same_v<Cluster, paxos_cluster>) {
    if (batch == 1) return c.commit_one();
    return one_request ? c.commit_batch_one_request(batch) : c.commit_batch(batch);
  } else {
    return batch == 1 ? c.commit_one() : c.commit_batch(static_cast<unsigned>(batch), one_request);
  }
}

// The measured part and nothing else: its name is what callgrind toggles on.
template <class Cluster>
[[gnu::noinline]] bool measured_run(Cluster& c, std::uint64_t entries, std::uint64_t batch, bool one_request) {
  for (std::uint64_t k = 0; k < entries / batch; ++k)
    if (!commit(c, batch, one_request)) return false;
  return true;
}

template <class Cluster, class Allocations>
int run(Cluster& c, std::uint64_t entries, std::uint64_t batch, bool one_request, Allocations allocations) {
  const std::uint64_t applied0 = c.applied_everywhere_count();
  const std::uint64_t messages0 = c.messages_sent();
  const std::uint64_t allocs0 = allocations();
  if (!measured_run(c, entries, batch, one_request)) {
    std::fprintf(stderr, "a commit failed\n");
    return 1;
  }
  const std::uint64_t allocs = allocations() - allocs0;
  const std::uint64_t applied = c.applied_everywhere_count() - applied0;
  if (applied != entries) {
    std::fprintf(stderr, "applied %llu entries everywhere, expected %llu\n", static_cast<unsigned long long>(applied),
                 static_cast<unsigned long long>(entries));
    return 1;
  }
  std::printf("entries %llu  allocs/entry %.4f  msgs/entry %.3f\n", static_cast<unsigned long long>(entries),
              static_cast<double>(allocs) / static_cast<double>(entries),
              static_cast<double>(c.messages_sent() - messages0) / static_cast<double>(entries));
  return 0;
}

// quorum's Raft (side "quorum") or quorum's Multi-Paxos (side "paxos").
template <class Cluster>
int run_ours(const char* side, std::uint64_t entries, std::uint64_t batch, wire_mode mode, bool one_request) {
  Cluster c{mode};
  if (auto e = c.elect(); !e.empty()) {
    std::fprintf(stderr, "%s\n", e.c_str());
    return 1;
  }
  for (std::uint64_t k = 0; k < quorum_warmup_entries / batch; ++k)
    if (!commit(c, batch, one_request)) return std::fprintf(stderr, "warm-up failed\n"), 1;
  const auto l = c.measure_rounds();
  std::printf("%s: commit latency %d message delays to the leader's commit, %d to all applied\n", side,
              l.leader_commit, l.all_applied);
  return run(c, entries, batch, one_request, [] { return heap_allocations(); });
}

#if QUORUM_BENCH_HAVE_LIBRAFT
int run_canonical(std::uint64_t entries, std::uint64_t batch, bool one_request) {
  canonical_cluster c;
  if (auto e = c.start(); !e.empty()) {
    std::fprintf(stderr, "%s\n", e.c_str());
    return 1;
  }
  const auto l = c.measure_latency();
  std::printf("canonical: commit latency %ld ms to the leader's commit, %ld ms to all applied (1 ms per delay)\n",
              l.leader_commit_ms, l.all_applied_ms);
  return run(c, entries, batch, one_request, [] { return canonical_heap_counter::allocations; });
}
#endif

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) return usage();
  const std::string_view side = argv[1];
  const std::string_view mode = argv[2];
  std::uint64_t entries = 100000;
  if (argc == 4) {
    const char* end = argv[3] + std::strlen(argv[3]);
    auto [p, ec] = std::from_chars(argv[3], end, entries);
    if (ec != std::errc{} || p != end || entries == 0 || entries > max_entries) {
      std::fprintf(stderr, "N must be a whole number in 1..%llu\n", static_cast<unsigned long long>(max_entries));
      return 2;
    }
  }
  const bool one_request = mode == "batch64-one-request";
  std::uint64_t batch = 0;
  if (mode == "one") batch = 1;
  else if (mode == "batch64" || one_request) batch = 64;
  else return usage();
  if (entries % batch != 0) {
    std::fprintf(stderr, "N must be a multiple of %llu in this mode\n", static_cast<unsigned long long>(batch));
    return 2;
  }
  const bool wire = side == "quorum-wire" || side == "paxos-wire";
  const wire_mode how = wire ? wire_mode::wire : wire_mode::copy;
  if (side == "quorum" || side == "paxos" || wire) {
    return side.starts_with("quorum") ? run_ours<quorum_cluster>("quorum", entries, batch, how, one_request)
                                      : run_ours<paxos_cluster>("paxos", entries, batch, how, one_request);
  }
  if (side == "canonical") {
#if QUORUM_BENCH_HAVE_LIBRAFT
    return run_canonical(entries, batch, one_request);
#else
    std::fprintf(stderr, "built without canonical raft (Debian libraft-dev)\n");
    return 2;
#endif
  }
  return usage();
}
