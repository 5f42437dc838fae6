#!/usr/bin/env bash
# The load benchmark: doudou's bench-server beside a hand-written hyper server and axum, with the
# same two endpoints. All three servers run for the whole benchmark, pinned to CPU 0; wrk runs on
# CPU 1 against one at a time. Each round measures every server on each endpoint, back to back
# and in an order that rotates, so the machine's slow minutes fall on all of them alike; the
# table gives the median over the rounds and the ratio to hyper.
#   benches/load.sh [rounds=9] [seconds=3] [connections=64] [size=10]
# BENCH_BIN=<dir> uses the three binaries already built there instead of a release build (the
# tests run the script that way, against debug builds: a check that it works, not a measurement).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-9}"; SECS="${2:-3}"; CONNS="${3:-64}"; SIZE="${4:-10}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
if [ -n "${BENCH_BIN:-}" ]; then
  BIN="$BENCH_BIN"
else
  cargo build --release -q -p bench-server -p doudou-benches
  BIN="${CARGO_TARGET_DIR:-target}/release"
fi
for b in hyper-baseline axum-baseline bench-server; do
  [ -x "$BIN/$b" ] || { echo "$BIN/$b is missing" >&2; exit 1; }
done
export SIZE
ulimit -n 65536 2>/dev/null || true
declare -A RPS P99 ERR PID PORT

servers=(hyper axum doudou)
cleanup() { for s in "${servers[@]}"; do [ -n "${PID[$s]:-}" ] && kill -TERM "${PID[$s]}" 2>/dev/null; done; wait 2>/dev/null || true; }
trap cleanup EXIT

start_server() { # name; a port someone else holds makes the server exit: try another one
  local port attempt
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 20000))
    case "$1" in
      hyper) GDD_PORT=$port taskset -c 0 "$BIN/hyper-baseline" >/dev/null 2>&1 & ;;
      axum) GDD_PORT=$port taskset -c 0 "$BIN/axum-baseline" >/dev/null 2>&1 & ;;
      doudou) GDD_PORT=$port GDD_HOST=127.0.0.1 GDD_MEM_PORT=0 GDD_MEM_HOST=127.0.0.1 GDD_LOG_LEVEL=warn \
                taskset -c 0 "$BIN/bench-server" >/dev/null 2>&1 & ;;
    esac
    PID[$1]=$!; PORT[$1]=$port
    for _ in $(seq 200); do
      curl -sf "http://127.0.0.1:$port/user?id=1" >/dev/null 2>&1 && return 0
      kill -0 "${PID[$1]}" 2>/dev/null || break
      sleep 0.02
    done
    kill -TERM "${PID[$1]}" 2>/dev/null || true; wait "${PID[$1]}" 2>/dev/null || true
  done
  echo "$1 did not start (5 ports tried)" >&2; return 1
}

to_us() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); print v} else if (v ~ /ms$/) {sub(/ms/,"",v); print v*1000} else if (v ~ /s$/) {sub(/s/,"",v); print v*1000000} else print v}'; }

measure() { # server endpoint
  local out url="http://127.0.0.1:${PORT[$1]}"
  if [ "$2" = get ]; then
    out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "$url/user?id=7")
  else
    out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -s benches/post.lua "$url/page/users")
  fi
  RPS[$1.$2]+="$(awk '/Requests\/sec/ {print $2}' <<<"$out") "
  P99[$1.$2]+="$(awk '$1 == "99%" {print $2}' <<<"$out" | to_us) "
  local errs
  errs=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out")
  [ -n "$errs" ] && ERR[$1.$2]+="$errs; "
  return 0
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# The ratio of two servers' req/s in each round (measured seconds apart), space-separated.
per_round() { paste <(tr ' ' '\n' <<<"$1" | grep -v '^$') <(tr ' ' '\n' <<<"$2" | grep -v '^$') | awk '{printf "%.3f ", $1/$2}'; }

for s in "${servers[@]}"; do
  start_server "$s"
  taskset -c 1 wrk -t1 -c"$CONNS" -d2s "http://127.0.0.1:${PORT[$s]}/user?id=7" >/dev/null  # warm-up
done
for round in $(seq "$ROUNDS"); do
  # Rotate the order each round so no server always runs first.
  order=("${servers[@]:$(( (round - 1) % 3 ))}" "${servers[@]:0:$(( (round - 1) % 3 ))}")
  for e in get post; do
    for s in "${order[@]}"; do measure "$s" "$e"; done
  done
done

printf '\n%d rounds x %ss, %d connections, POST size %s; servers on CPU 0, wrk on CPU 1\n' "$ROUNDS" "$SECS" "$CONNS" "$SIZE"
# "x hyper": the ratio of the medians; "paired": the median of the rounds' own ratios, which
# cancels the machine's drift between rounds (each round measures the servers seconds apart).
printf '%-8s %-6s %12s %8s %8s %10s %8s %12s  %s\n' server route "req/s" "x hyper" paired "p99 us" "x hyper" \
  "peak RSS KiB" errors
for e in get post; do
  base_rps=$(median <<<"${RPS[hyper.$e]}"); base_p99=$(median <<<"${P99[hyper.$e]}")
  for s in "${servers[@]}"; do
    rps=$(median <<<"${RPS[$s.$e]}"); p99=$(median <<<"${P99[$s.$e]}")
    paired=$(median <<<"$(per_round "${RPS[$s.$e]}" "${RPS[hyper.$e]}")")
    rss=$(awk '/VmHWM/ {print $2}' /proc/"${PID[$s]}"/status)
    printf '%-8s %-6s %12.0f %8.2f %8.2f %10.0f %8.2f %12s  %s\n' "$s" "$e" "$rps" "$(awk "BEGIN {print $rps/$base_rps}")" \
      "$paired" "$p99" "$(awk "BEGIN {print $p99/$base_p99}")" "$rss" "${ERR[$s.$e]:-none}"
  done
  printf '%-15s %-6s %-15s %8.2f\n' "doudou/axum" "$e" "paired" \
    "$(median <<<"$(per_round "${RPS[doudou.$e]}" "${RPS[axum.$e]}")")"
done
printf '\nper round (req/s, p99 us; ratio to hyper), to judge the noise:\n'
for e in get post; do
  for s in "${servers[@]}"; do
    printf '%-8s %-6s %s\n        %-6s %s\n        %-6s %s\n' "$s" "$e" "${RPS[$s.$e]}" "" "${P99[$s.$e]}" "" \
      "$(per_round "${RPS[$s.$e]}" "${RPS[hyper.$e]}")"
  done
done
