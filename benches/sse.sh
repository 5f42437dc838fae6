#!/usr/bin/env bash
# A million Server-Sent Events: doudou's EventStream against a hand-written axum `Sse` handler,
# each read by the same raw reader (which counts `data:` lines), then doudou's generated client
# reading doudou's stream as typed events. Reports the median time of the rounds, the ratio to
# axum, and how much resident memory grew in each server and reader (a stream of any length
# should hold a bounded amount).
#   benches/sse.sh [EVENTS=1000000] [ROUNDS=3]
# BENCH_BIN=<dir> uses an sse-load already built there instead of a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS="${1:-1000000}"; ROUNDS="${2:-3}"
if [ -n "${BENCH_BIN:-}" ]; then
  BIN="$BENCH_BIN"
else
  cargo build --release -q -p doudou-benches --bin sse-load
  BIN="${CARGO_TARGET_DIR:-target}/release"
fi
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
on_cpu() { if command -v taskset >/dev/null; then taskset -c "$1" "${@:2}"; else "${@:2}"; fi; }
kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

serve() { # kind port -> pid, once the port answers
  local kind="$1" port="$2"
  GDD_PORT="$port" GDD_HOST=127.0.0.1 GDD_SERVICE_DISCOVERY_MODE=none GDD_LOG_LEVEL=warn \
    GDD_MANAGE_ENABLE=false SSE_EVENTS="$EVENTS" on_cpu 0 "$BIN/sse-load" "$kind" >/dev/null 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$pid"; return; fi
    sleep 0.1
  done
  echo "sse-load $kind did not start" >&2; exit 1
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

port=$((20000 + RANDOM % 20000))
doudou=$(serve doudou "$port"); axum=$(serve axum $((port + 1)))
doudou_start=$(kib "$doudou" VmRSS); axum_start=$(kib "$axum" VmRSS)
printf '%d events, %d rounds; servers on CPU 0, readers on CPU 1\n' "$EVENTS" "$ROUNDS"
printf '%-28s %10s %12s %10s %14s\n' "server <- reader" "seconds" "events/s" "x axum" "reader +KiB"
declare -A secs
for pair in "axum read $((port + 1))" "doudou read $port" "doudou client $port"; do
  set -- $pair
  times=(); growth=0
  for _ in $(seq "$ROUNDS"); do
    read -r events seconds start peak < <(SSE_EVENTS="$EVENTS" on_cpu 1 "$BIN/sse-load" "$2" "http://127.0.0.1:$3")
    [ "$events" = "$EVENTS" ] || { echo "$1 <- $2 read $events events of $EVENTS" >&2; exit 1; }
    times+=("$seconds"); growth=$(( peak - start > growth ? peak - start : growth ))
  done
  med=$(printf '%s\n' "${times[@]}" | median)
  secs["$1 $2"]=$med
  ratio=$(awk -v a="${secs[axum read]}" -v m="$med" 'BEGIN { printf "%.2f", a / m }')
  printf '%-28s %10s %12.0f %10s %14d\n' "$1 <- $2" "$med" "$(awk -v m="$med" -v e="$EVENTS" 'BEGIN { print e / m }')" "$ratio" "$growth"
done
printf 'server resident memory growth: doudou %d KiB, axum %d KiB\n' \
  $(( $(kib "$doudou" VmHWM) - doudou_start )) $(( $(kib "$axum" VmHWM) - axum_start ))
