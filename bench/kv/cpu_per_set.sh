#!/usr/bin/env bash
# CPU time each quorum-kv node spends per request, under redis-benchmark:
#   bench/kv/cpu_per_set.sh BINARY [BINARY...]
# For each binary in turn (same conditions, one after the other, repeated
# REPEAT times interleaved): a fresh 3-node cluster on ports BASE_PORT+1..3
# (clients) and BASE_PORT+11..13 (peers), data under $OUT, then
#   redis-benchmark -p LEADER -t TEST -c 50 -n N -P P -r 100000
# (or at a follower, with AT=follower) and each node's user+system CPU from
# /proc/PID/stat before and after, in microseconds per request. Environment:
# TEST (set), N (200000), P (16), REPEAT (1), PROTOCOL (raft or paxos),
# AT (leader), BASE_PORT (16380), OUT (/tmp/kv-cpu-$$), PRIVATE_DISK_US (below); of the two follower
# figures the first is the follower AT=follower talks to. PERF=1 records
# `perf record -g` of the leader and a follower during the run into $OUT. CALLGRIND=1 runs the nodes under callgrind and reports
# instructions per request instead of CPU time (repeatable on a busy
# machine; use a smaller N). A BINARY given as the word `redis` is one
# redis-server with appendonly yes and appendfsync always on BASE_PORT+1
# instead (its CPU per request: the reference the cluster's sum is held to).
# Every line also gives bench_us: redis-benchmark's own CPU per request (it
# shares the machine's cores with the servers). Stops every process it started.
set -euo pipefail

test=${TEST:-set}
n=${N:-200000}
pipeline=${P:-16}
repeat=${REPEAT:-1}
protocol=${PROTOCOL:-raft}
at=${AT:-leader}
[[ $at == leader || $at == follower ]] || { echo "AT is leader or follower" >&2; exit 2; }
base=${BASE_PORT:-16380}
out=${OUT:-/tmp/kv-cpu-$$}
hz=$(getconf CLK_TCK)
# SYSCALLS=1: each node's system calls during the run, per 1,000 requests (perf stat).
syscall_events=syscalls:sys_enter_fdatasync,syscalls:sys_enter_pwrite64,syscalls:sys_enter_write,syscalls:sys_enter_writev
syscall_events+=,syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg,syscalls:sys_enter_recvfrom,syscalls:sys_enter_recvmsg
syscall_events+=,syscalls:sys_enter_readv,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_ctl

mkdir -p "$out"

# PRIVATE_DISK_US=N: every quorum-kv node's fsync and fdatasync also sleep N
# us (bench/kv/private_disk.c, preloaded): with OUT on a tmpfs, a disk of its
# own per node, as on machines with one per replica (redis stays on $out's
# disk unless OUT says otherwise: run it in a second call with OUT on disk).
preload=()
if [[ -n ${PRIVATE_DISK_US:-} ]]; then
  cc -O2 -shared -fPIC -o "$out/private_disk.so" "$(dirname "$0")/private_disk.c" -ldl
  preload=(env "LD_PRELOAD=$out/private_disk.so" "PRIVATE_DISK_US=$PRIVATE_DISK_US")
fi

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do  # SIGKILL after 5 s: the measurement is taken already
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  pids=()
}
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
info_field() { redis-cli -p "$1" INFO 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"; }

# bench PORT DIR: runs redis-benchmark, prints its requests per second; its
# own user+system seconds go to DIR/bench.time.
bench() {
  /usr/bin/time -f '%U %S' -o "$2/bench.time" \
    redis-benchmark -p "$1" -t "$test" -c 50 -n "$n" -P "$pipeline" -r 100000 --csv |
    awk -F, 'NR == 2 {gsub(/"/, "", $2); print $2}'
}
bench_us() { awk -v n="$n" '{printf "%.2f", ($1 + $2) * 1e6 / n}' "$1/bench.time"; }

# The reference: one fsyncing redis-server under the same load.
run_redis() {
  local label=$1 dir=$out/$1 before after rps
  rm -rf "$dir"
  mkdir -p "$dir"
  pids=()
  redis-server --port $((base + 1)) --bind 127.0.0.1 --appendonly yes --appendfsync always --save "" \
    --dir "$dir" --logfile "$dir/redis.log" &
  pids+=("$!")
  for _ in $(seq 100); do redis-cli -p $((base + 1)) PING 2>/dev/null | grep -q PONG && break; sleep 0.1; done
  before=$(cpu_ticks "${pids[0]}")
  rps=$(bench $((base + 1)) "$dir")
  after=$(cpu_ticks "${pids[0]}")
  printf '%s\tredis-aof-always\t%s-P%s\t\trps=%s\tserver_us=%s\t\t\tbench_us=%s\n' "$label" "$test" "$pipeline" "$rps" \
    "$(awk -v t=$((after - before)) -v hz="$hz" -v n="$n" 'BEGIN{printf "%.2f", t / hz * 1e6 / n}')" "$(bench_us "$dir")"
  cleanup
  [[ ${KEEP:-0} == 1 ]] || rm -rf "$dir"
}

run_one() {
  local bin=$1 label=$2 dir=$out/$2 cluster="" k leader="" before=() after=()
  rm -rf "$dir"
  mkdir -p "$dir"
  local wrap=(${preload[@]+"${preload[@]}"})
  if [[ ${CALLGRIND:-0} == 1 ]]; then wrap+=(valgrind -q --tool=callgrind --compress-strings=no "--callgrind-out-file=$dir/cg.%p"); fi  # strings uncompressed: each dump reads alone
  for k in 1 2 3; do cluster+="${cluster:+,}$k=127.0.0.1:$((base + 10 + k))"; done
  pids=()
  for k in 1 2 3; do
    ${wrap[@]+"${wrap[@]}"} "$bin" --id "$k" --cluster "$cluster" --listen "127.0.0.1:$((base + k))" --data "$dir/node$k" \
      --protocol "$protocol" >"$dir/node$k.log" 2>&1 &
    pids+=("$!")
  done
  for _ in $(seq 100); do
    for k in 1 2 3; do
      [[ $(info_field $((base + k)) role) == leader ]] && leader=$k && break 2
    done
    sleep 0.1
  done
  [[ -n $leader ]] || { echo "no leader after 10 s" >&2; exit 1; }
  local follower=$((leader % 3 + 1)) perfs=() target=$leader others=()
  others=("$follower" $(((leader + 1) % 3 + 1)))  # the first is the one AT=follower talks to
  [[ $at == leader ]] || target=$follower
  if [[ ${PERF:-0} == 1 ]]; then
    perf record -q -g -o "$dir/leader.perf" -p "${pids[leader - 1]}" >/dev/null 2>&1 &
    perfs+=("$!")
    perf record -q -g -o "$dir/follower.perf" -p "${pids[follower - 1]}" >/dev/null 2>&1 &
    perfs+=("$!")
    sleep 0.5
  fi
  local stats=()
  if [[ ${SYSCALLS:-0} == 1 ]]; then
    for k in 1 2 3; do
      perf stat -x, -o "$dir/syscalls.$k" -e "$syscall_events" -p "${pids[k - 1]}" >/dev/null 2>&1 &
      stats+=("$!")
    done
    sleep 0.3
  fi
  for k in 1 2 3; do before[k]=$(cpu_ticks "${pids[k - 1]}"); done
  if [[ ${CALLGRIND:-0} == 1 ]]; then
    for k in 1 2 3; do callgrind_control -z "${pids[k - 1]}" >/dev/null 2>&1; done
  fi
  local rps
  rps=$(bench $((base + target)) "$dir")
  sleep 0.3  # followers apply the last commits
  for k in 1 2 3; do after[k]=$(cpu_ticks "${pids[k - 1]}"); done
  if [[ ${CALLGRIND:-0} == 1 ]]; then
    local ir=()
    for k in 1 2 3; do
      rm -f "$dir"/cg.${pids[k - 1]}*
      callgrind_control -d "${pids[k - 1]}" >/dev/null 2>&1
      ir[k]=$(cat "$dir"/cg.${pids[k - 1]}.* | awk '/^(summary|totals):/ && !s {s = $2} END {print s}')
    done
    printf '%s\t%s\t%s\t%s\trps=%s\tleader_instr=%d\tfollower_instr=%d,%d\n' "$label" "$protocol" "$test-P$pipeline" \
      "at-$at" "$rps" \
      $((ir[leader] / n)) $((ir[others[0]] / n)) $((ir[others[1]] / n))
  fi
  local p
  for p in "${perfs[@]}" "${stats[@]}"; do kill -INT "$p"; wait "$p" 2>/dev/null || true; done
  if [[ ${SYSCALLS:-0} == 1 ]]; then
    local role
    for k in "$leader" "${others[@]}"; do
      role=follower; [[ $k == "$leader" ]] && role=leader
      printf '%s\t%s\t%s\tnode%s(%s) per 1000 requests:' "$label" "$protocol" "$test-P$pipeline" "$k" "$role"
      awk -F, -v n="$n" '$3 ~ /sys_enter_/ {sub(/.*sys_enter_/, "", $3); printf " %s=%.1f", $3, $1 * 1000 / n} END {print ""}' \
        "$dir/syscalls.$k"
    done
  fi
  local us_leader us_f1 us_f2
  us_leader=$(awk -v t=$((after[leader] - before[leader])) -v hz="$hz" -v n="$n" 'BEGIN{printf "%.2f", t / hz * 1e6 / n}')
  us_f1=$(awk -v t=$((after[others[0]] - before[others[0]])) -v hz="$hz" -v n="$n" 'BEGIN{printf "%.2f", t / hz * 1e6 / n}')
  us_f2=$(awk -v t=$((after[others[1]] - before[others[1]])) -v hz="$hz" -v n="$n" 'BEGIN{printf "%.2f", t / hz * 1e6 / n}')
  printf '%s\t%s\t%s\t%s\trps=%s\tleader_us=%s\tfollower_us=%s,%s\tsum_us=%s\tbench_us=%s\n' "$label" "$protocol" \
    "$test-P$pipeline" "at-$at" "$rps" "$us_leader" "$us_f1" "$us_f2" \
    "$(awk -v a="$us_leader" -v b="$us_f1" -v c="$us_f2" 'BEGIN{printf "%.2f", a + b + c}')" "$(bench_us "$dir")"
  cleanup
  [[ ${PERF:-0} == 1 || ${KEEP:-0} == 1 ]] || rm -rf "$dir"  # KEEP=1 keeps data, logs and callgrind files
}

for r in $(seq "$repeat"); do
  i=0
  for bin in "$@"; do
    i=$((i + 1))
    if [[ $bin == redis ]]; then run_redis "r$r-b$i"; else run_one "$bin" "r$r-b$i"; fi
  done
done
