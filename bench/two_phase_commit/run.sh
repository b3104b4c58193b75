#!/usr/bin/env bash
# Re-runs the two-phase commit benchmark in one command: builds (Release) if
# needed, runs quorum_2pc_bench (5 repetitions, medians), then counts
# instructions per transaction under callgrind, which load does not move.
#   bench/two_phase_commit/run.sh [build-dir]     (default: build/bench-2pc)
# Output also lands in <build-dir>/bench-results/2pc/.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build/bench-2pc}
out="$build/bench-results/2pc"
mkdir -p "$out"

if [[ ! -f "$build/build.ninja" && ! -f "$build/Makefile" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DQUORUM_BUILD_BENCH=ON \
    -DQUORUM_BUILD_TESTS=OFF -DQUORUM_BUILD_EXAMPLES=OFF
fi
cmake --build "$build" -j2 --target quorum_2pc_bench quorum-2pc-callgrind
bin="$build/bench/two_phase_commit"

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(c++ --version | head -1)"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/machine.txt"

"$bin/quorum_2pc_bench" --benchmark_counters_tabular=true --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true --benchmark_min_time=0.3 | tee "$out/quorum_2pc_bench.txt"

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt"
if ! command -v valgrind >/dev/null; then
  echo "valgrind not found: no instruction counts" >&2
  exit 0
fi
n=20000
echo "instructions per transaction (callgrind, inside measured_run only, $n transactions):" | tee "$out/callgrind.txt"
for spec in "classic 0 3 1 0" "classic 0 3 16 0" "classic 0 3 1 1" "classic 0 3 16 1" "classic 1 3 1 0" \
            "classic 2 3 1 0" "classic 0 10 1 0" "paxos 3 0 1 0" "paxos 3 1 1 0" "paxos 3 1 16 0" "paxos 3 1 1 1" \
            "paxos 3 1 16 1" "paxos 10 1 1 0"; do
  log="$out/callgrind.${spec// /-}.log"
  # shellcheck disable=SC2086  # spec is a list of arguments
  if ! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*measured_run*' \
       --callgrind-out-file="$out/callgrind.${spec// /-}.out" "$bin/quorum-2pc-callgrind" $spec "$n" >"$log" 2>&1; then
    echo "  $spec: failed (see $log)" | tee -a "$out/callgrind.txt"
    continue
  fi
  ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log")
  echo "  $spec: $((ir / n)) ($(grep -m1 'txns' "$log"))" | tee -a "$out/callgrind.txt"
done
