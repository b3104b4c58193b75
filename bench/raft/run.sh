#!/usr/bin/env bash
# Re-runs the Raft benchmark against canonical raft (and quorum's Multi-Paxos
# on the same workload) in one command: builds (Release) if needed, runs
# quorum_raft_bench (5 repetitions, medians, interleaved at random so that
# load falls on every side alike), then counts instructions per committed
# entry under callgrind for each side.
#   bench/raft/run.sh [build-dir]        (default: build/bench-raft)
# Output also lands in <build-dir>/bench-results/raft/.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build/bench-raft}
out="$build/bench-results/raft"
mkdir -p "$out"

if [[ ! -f "$build/build.ninja" && ! -f "$build/Makefile" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DQUORUM_BUILD_BENCH=ON \
    -DQUORUM_BUILD_TESTS=OFF -DQUORUM_BUILD_EXAMPLES=OFF
fi
cmake --build "$build" -j2 --target quorum_raft_bench quorum-raft-callgrind
bin="$build/bench/raft"

{
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(c++ --version | head -1)"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/machine.txt"

"$bin/quorum_raft_bench" --benchmark_counters_tabular=true --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true --benchmark_min_time=0.3 --benchmark_enable_random_interleaving=true \
  | tee "$out/quorum_raft_bench.txt"

if ! command -v valgrind >/dev/null; then
  echo "valgrind not found: no instruction counts" >&2
  exit 0
fi
echo "instructions per committed entry (callgrind, inside measured_run only):" | tee "$out/callgrind.txt"
for spec in "quorum one 20000" "quorum batch64 64000" "paxos one 20000" "paxos batch64 64000" \
            "canonical one 20000" "canonical batch64 64000" "canonical batch64-one-request 64000"; do
  read -r side mode n <<<"$spec"
  log="$out/callgrind.$side.$mode.log"
  if ! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*measured_run*' \
       --callgrind-out-file="$out/callgrind.$side.$mode.out" "$bin/quorum-raft-callgrind" "$side" "$mode" "$n" >"$log" 2>&1; then
    echo "  $side $mode: failed (see $log)" | tee -a "$out/callgrind.txt"
    continue
  fi
  ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log")
  echo "  $side $mode: $((ir / n)) ($ir over $n entries; $(grep -m1 '^entries' "$log"))" | tee -a "$out/callgrind.txt"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt"
