#!/usr/bin/env bash
# quorum-kv against redis-server, under redis-benchmark, in one run:
#   bench/kv/run.sh
# Targets: a 3-node Raft cluster (benchmarked at its leader, and at a follower
# that forwards to it), the same for Multi-Paxos, one redis-server with
# appendonly yes + appendfsync always, and one with persistence off. Each
# round starts every target fresh (empty data dirs, all on the same disk under
# the build dir) in a shuffled order, runs
#   redis-benchmark -t set,get -c 50 -n N -P 1|16 -r KEYSPACE --csv
# and stops it. After ROUNDS rounds it prints medians and ratios.
# Environment: ROUNDS (3), N_P1 (50000), N_P16 (200000), KEYSPACE (100000),
# QUORUM_KV_BUILD (build/kvbench; configured Release and built if needed),
# BASELINE (another quorum-kv binary, e.g. an older commit's: its clusters
# join every round as the targets raft-baseline-leader and -follower, and so
# on), BASELINE_PROTOCOLS (raft; "raft paxos" for both), DATA_DIR (where the
# data dirs go; default $out/data: on the build dir's disk). DATA_DIR on a
# tmpfs (/dev/shm/...) makes every fsync free, for redis and quorum-kv alike:
# the limit of the fast-disk phase, where CPU and round trips, not the disk,
# decide, whatever phase this virtual disk is in.
# Raw output (one CSV per run, node logs, results.tsv, table.md; the data dirs
# are removed once their target has stopped) goes to
# $QUORUM_KV_BUILD/bench-kv/<timestamp>/.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
# Absolute: redis-server changes directory before it opens its --logfile.
build=$(realpath -m -- "${QUORUM_KV_BUILD:-$root/build/kvbench}")
rounds=${ROUNDS:-3}
n_p1=${N_P1:-50000}
n_p16=${N_P16:-200000}
keyspace=${KEYSPACE:-100000}
clients=50
bin=$build/examples/kv/quorum-kv

# The reference peer is needed only here, so it is installed only here (not
# by scripts/dev: its package would start a server on the test machines).
if ! command -v redis-server >/dev/null; then
  sudo=(); [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends redis-server ||
    { "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends redis-server; }
fi
for tool in redis-server redis-benchmark redis-cli python3 ss; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (Debian redis-server, redis-tools, iproute2)" >&2; exit 1; }
done
if [[ ! -x $bin ]]; then
  [[ -f $build/CMakeCache.txt ]] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DQUORUM_BUILD_BENCH=OFF -DQUORUM_BUILD_TESTS=ON
  cmake --build "$build" -j2 --target quorum-kv
fi

out=$build/bench-kv/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
results=$out/results.tsv
data_root=${DATA_DIR:-$out/data}
printf 'round\ttarget\tpipeline\ttest\trps\tp50_ms\n' >"$results"

# Only the processes this script started are ever stopped.
started=()
cleanup() {
  local p
  for p in "${started[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${started[@]}"; do wait "$p" 2>/dev/null || true; done
  started=()
}
trap cleanup EXIT

taken=" "
# Below the kernel's ephemeral range (32768 up), so no outgoing connection takes it meanwhile.
free_port() {  # a port no socket uses and this script has not handed out
  local p
  while :; do
    p=$((12000 + RANDOM % 20000))
    [[ $taken == *" $p "* ]] && continue
    [[ -z $(ss -Htan "sport = :$p") ]] || continue
    taken+="$p "
    echo "$p"
    return
  done
}

# stop PID NAME: SIGTERM, and SIGKILL (said aloud) if it has not exited within 10 s.
stop() {
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$1" 2>/dev/null; then
    echo "  warning: $2 (pid $1) ignored SIGTERM for 10 s; killed" >&2
    kill -KILL "$1"
  fi
  wait "$1" 2>/dev/null || true
}

info_field() { redis-cli -p "$1" INFO 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"; }

# bench ROUND TARGET PORT: SET then GET at pipeline 1 and 16; a row per test in results.tsv.
bench() {
  local round=$1 target=$2 port=$3 p n csv
  for p in 1 16; do
    n=$n_p1
    [[ $p == 16 ]] && n=$n_p16
    csv=$out/round$round-$target-P$p.csv
    redis-benchmark -h 127.0.0.1 -p "$port" -t set,get -c "$clients" -n "$n" -P "$p" -r "$keyspace" --csv \
      >"$csv" 2>"$csv.err" || echo "  $target P$p: redis-benchmark exited $? (see $csv.err)" >&2
    python3 - "$csv" "$round" "$target" "$p" >>"$results" <<'EOF'
import csv, sys
path, rnd, target, p = sys.argv[1:]
rows = {r["test"]: r for r in csv.DictReader(open(path))}
for test in ("SET", "GET"):
    r = rows.get(test)  # missing: redis-benchmark stopped at an error reply
    print(f"{rnd}\t{target}\t{p}\t{test}\t{r['rps'] if r else 'NA'}\t{r['p50_latency_ms'] if r else 'NA'}")
EOF
    tail -n 2 "$results" | awk -F'\t' '{printf "  %-16s P%-2s %s %10s rps  p50 %s ms\n", $2, $3, $4, $5, $6}'
  done
}

# run_cluster ROUND NAME PROTOCOL BINARY: start three nodes, benchmark the leader and a follower, stop them.
run_cluster() {
  local round=$1 name=$2 proto=$3 bin=$4 dir=$data_root/round$1-$2 peers=() ports=() n cluster="" leader="" follower=""
  for n in 1 2 3; do
    peers[n]=$(free_port)
    ports[n]=$(free_port)
    cluster+="${cluster:+,}$n=127.0.0.1:${peers[n]}"
  done
  local pids=()
  for n in 1 2 3; do
    mkdir -p "$dir/node$n"
    "$bin" --id "$n" --cluster "$cluster" --listen "127.0.0.1:${ports[n]}" --data "$dir/node$n" \
      --protocol "$proto" >"$out/round$round-$name-node$n.log" 2>&1 &
    pids+=($!)
    started+=($!)
  done
  # A leader every node agrees on.
  for _ in $(seq 100); do
    sleep 0.1
    local l1 l2 l3
    l1=$(info_field "${ports[1]}" leader) l2=$(info_field "${ports[2]}" leader) l3=$(info_field "${ports[3]}" leader)
    if [[ -n $l1 && $l1 != 0 && $l1 == "$l2" && $l1 == "$l3" ]]; then
      [[ $(info_field "${ports[l1]}" role) == leader ]] && leader=$l1 && break
    fi
  done
  if [[ -z $leader ]]; then
    echo "run.sh: the $name cluster elected no leader in 10 s; see $out/round$round-$name-node*.log" >&2
    exit 1
  fi
  follower=$((leader % 3 + 1))
  echo "round $round: $name cluster, leader node $leader (client port ${ports[leader]}), follower node $follower"
  bench "$round" "$name-leader" "${ports[leader]}"
  [[ $(info_field "${ports[leader]}" role) == leader ]] || echo "  warning: node $leader lost the lead during the run" >&2
  bench "$round" "$name-follower" "${ports[follower]}"
  [[ $(info_field "${ports[leader]}" role) == leader ]] || echo "  warning: node $leader lost the lead during the run" >&2
  for n in 0 1 2; do kill -TERM "${pids[n]}"; done
  for n in 0 1 2; do stop "${pids[n]}" "$name node $((n + 1))"; done
  rm -rf "$dir"  # gigabytes of log and snapshots; the CSVs and node logs stay
}

# run_redis ROUND TARGET ARGS...: one redis-server with ARGS in its own dir.
run_redis() {
  local round=$1 target=$2 port dir=$data_root/round$1-$2
  shift 2
  port=$(free_port)
  mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize no --logfile "$dir/redis.log" "$@" &
  local pid=$!
  started+=($pid)
  for _ in $(seq 100); do
    sleep 0.1
    [[ $(redis-cli -p "$port" PING 2>/dev/null) == PONG ]] && break
  done
  echo "round $round: $target (port $port)"
  bench "$round" "$target" "$port"
  stop "$pid" "$target"
  rm -rf "$dir"
}

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
  mkdir -p "$data_root"
  echo "disk (data dirs): $data_root on $(df -h --output=source,fstype,size "$data_root" | tail -1)"
  echo "redis: $(redis-server --version)"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "rounds $rounds, -c $clients, -n $n_p1 at -P 1, -n $n_p16 at -P 16, -r $keyspace"
  echo "quorum-kv: $bin${BASELINE:+; baseline: $BASELINE}"
} | tee "$out/meta.txt"

for round in $(seq "$rounds"); do
  baselines=()
  if [[ -n ${BASELINE:-} ]]; then for b in ${BASELINE_PROTOCOLS:-raft}; do baselines+=("$b-baseline"); done; fi
  for target in $(printf '%s\n' raft paxos redis-aof-always redis-no-persistence ${baselines[@]+"${baselines[@]}"} | shuf); do
    case $target in
      raft | paxos) run_cluster "$round" "$target" "$target" "$bin" ;;
      raft-baseline | paxos-baseline) run_cluster "$round" "$target" "${target%-baseline}" "$BASELINE" ;;
      redis-aof-always) run_redis "$round" "$target" --appendonly yes --appendfsync always --save "" ;;
      redis-no-persistence) run_redis "$round" "$target" --appendonly no --save "" ;;
    esac
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/meta.txt"

# Medians over rounds; ratios of medians from this run. SET is compared with the
# fsyncing redis (goal >= 1), GET with redis without persistence (goal >= 0.5).
python3 - "$results" <<'EOF' | tee "$out/table.md"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
def med(target, p, test):
    v = [float(r["rps"]) for r in rows if (r["target"], r["pipeline"], r["test"]) == (target, p, test) and r["rps"] != "NA"]
    return (statistics.median(v), len(v)) if v else (None, 0)
targets = ["raft-leader", "raft-follower", "paxos-leader", "paxos-follower", "redis-aof-always", "redis-no-persistence"]
targets += sorted({r["target"] for r in rows} - set(targets))  # a baseline's rows last
rounds = len({r["round"] for r in rows})
print("| target | -P | SET rps (median) | SET / redis aof-always | GET rps (median) | GET / redis no-persistence |")
print("|---|---|---|---|---|---|")
for p in ("1", "16"):
    set_ref, _ = med("redis-aof-always", p, "SET")
    get_ref, _ = med("redis-no-persistence", p, "GET")
    for t in targets:
        s, ns = med(t, p, "SET")
        g, ng = med(t, p, "GET")
        def cell(x, n):
            return "failed" if x is None else f"{x:,.0f}" + ("" if n == rounds else f" ({n} of {rounds} rounds)")
        def ratio(x, ref):
            return "-" if x is None or not ref else f"{x / ref:.2f}x"
        print(f"| {t} | {p} | {cell(s, ns)} | {ratio(s, set_ref)} | {cell(g, ng)} | {ratio(g, get_ref)} |")
EOF
echo "raw output: $out"
