#!/usr/bin/env bash
# The client benchmark: the generated BenchClient against a bare hyper client, both calling
# bench-server's GET /user?id=7 over keep-alive connections and decoding the same JSON. The
# hyper caller writes each call's URI from the id, as the generated client does; hyper-static
# sends one URI parsed before the run. The server runs on CPU 0, the caller on CPU 1 (one
# thread); each round measures the callers in an order that rotates, and the table gives the
# medians and the median of the rounds' own ratios (paired).
#   benches/client.sh [rounds=9] [seconds=3] [concurrency=16]
# BENCH_BIN=<dir> uses binaries already built there (the tests run it so, briefly).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-9}"; SECS="${2:-3}"; CONC="${3:-16}"
if [ -n "${BENCH_BIN:-}" ]; then
  BIN="$BENCH_BIN"
else
  cargo build --release -q -p bench-server -p doudou-benches
  BIN="${CARGO_TARGET_DIR:-target}/release"
fi
for b in bench-server client-load; do
  [ -x "$BIN/$b" ] || { echo "$BIN/$b is missing" >&2; exit 1; }
done
PORT=""; PID=""
cleanup() { [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT
for attempt in 1 2 3 4 5; do
  PORT=$((20000 + RANDOM % 20000))
  GDD_PORT=$PORT GDD_HOST=127.0.0.1 GDD_SERVICE_DISCOVERY_MODE=none GDD_LOG_LEVEL=warn \
    taskset -c 0 "$BIN/bench-server" >/dev/null 2>&1 &
  PID=$!
  for _ in $(seq 200); do
    curl -sf "http://127.0.0.1:$PORT/user?id=1" >/dev/null 2>&1 && break 2
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.02
  done
  kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=""
done
[ -n "$PID" ] || { echo "bench-server did not start" >&2; exit 1; }
URL="http://127.0.0.1:$PORT"
run() { GDD_SERVICE_DISCOVERY_MODE=none taskset -c 1 "$BIN/client-load" "$URL" "$1" "$SECS" "$CONC" | awk '{print $1}'; }
CALLERS=(doudou hyper hyper-static)
for m in "${CALLERS[@]}"; do run "$m" >/dev/null; done  # warm-up
declare -A CALLS
for round in $(seq "$ROUNDS"); do
  for k in 0 1 2; do
    m=${CALLERS[$(( (round + k) % 3 ))]}
    CALLS[$m]+="$(run "$m") "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
paired() {
  paste <(tr ' ' '\n' <<<"${CALLS[doudou]}" | grep -v '^$') <(tr ' ' '\n' <<<"${CALLS[$1]}" | grep -v '^$') \
    | awk '{printf "%.3f\n", $1/$2}' | median
}
printf '\n%d rounds x %ss, %d concurrent calls on one thread (CPU 1), bench-server on CPU 0\n' "$ROUNDS" "$SECS" "$CONC"
printf '%-13s %12s\n' caller "calls/s"
for m in hyper-static hyper doudou; do printf '%-13s %12.0f\n' "$m" "$(median <<<"${CALLS[$m]}")"; done
printf 'doudou / hyper, paired: %s\n' "$(paired hyper)"
printf 'doudou / hyper-static, paired: %s\n' "$(paired hyper-static)"
for m in "${CALLERS[@]}"; do printf 'per round: %-13s %s\n' "$m" "${CALLS[$m]}"; done
