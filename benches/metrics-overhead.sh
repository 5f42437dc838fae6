#!/usr/bin/env bash
# Measures what the metrics cost: helloworld (release) with GDD_MANAGE_ENABLE=true (requests are
# counted) and false (no metrics), server pinned to CPU 0 and wrk to CPU 1, 64 connections,
# interleaved rounds; prints the median req/s and p99 of each.
#   benches/metrics-overhead.sh [rounds=3] [seconds=10]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-3}"
SECONDS_PER_RUN="${2:-10}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
cargo build --release -q -p helloworld
BIN="${CARGO_TARGET_DIR:-target}/release/helloworld"
PORT=18080
declare -A RPS P99

run() { # $1 = label, $2 = GDD_MANAGE_ENABLE
  GDD_PORT=$PORT GDD_HOST=127.0.0.1 GDD_SERVICE_DISCOVERY_MODE=none GDD_MANAGE_ENABLE="$2" GDD_LOG_LEVEL=warn \
    taskset -c 0 "$BIN" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/go-doudou/health" >/dev/null && break; sleep 0.05; done
  local out
  out=$(taskset -c 1 wrk -t1 -c64 -d"${SECONDS_PER_RUN}s" --latency "http://127.0.0.1:$PORT/user?id=7")
  kill -TERM "$pid"; wait "$pid" || true
  RPS[$1]+="$(awk '/Requests\/sec/ {print $2}' <<<"$out") "
  P99[$1]+="$(awk '$1 == "99%" {print $2}' <<<"$out") "
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for round in $(seq "$ROUNDS"); do
  run metrics_on true
  run metrics_off false
done
printf '%-12s %12s %10s   (rounds: %s x %ss, GET /user?id=7, 64 connections)\n' variant "median req/s" "p99" "$ROUNDS" "$SECONDS_PER_RUN"
for v in metrics_on metrics_off; do
  printf '%-12s %12s %10s   all: %s\n' "$v" "$(median <<<"${RPS[$v]}")" "$(tr ' ' '\n' <<<"${P99[$v]}" | grep -v '^$' | sort | sed -n 2p)" "${RPS[$v]}"
done
