#!/usr/bin/env bash
# Instructions per request on bench-server, counted by valgrind's callgrind (repeatable on a
# busy machine, unlike time): the server runs under callgrind twice, answering N1 and then N2
# keep-alive requests sent one after another by one client, and the difference of the two
# totals divided by N2 - N1 is one request's cost (start-up and shutdown cancel out).
#   benches/callgrind.sh [get|post] [N1=1000] [N2=5000]
# BENCH_BIN=<dir> uses a bench-server already built there instead of the profiling build.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUTE="${1:-get}"; N1="${2:-1000}"; N2="${3:-5000}"
command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind" >&2; exit 1; }
if [ -n "${BENCH_BIN:-}" ]; then
  BIN="$BENCH_BIN"
else
  cargo build --profile profiling -q -p bench-server
  BIN="${CARGO_TARGET_DIR:-target}/profiling"
fi
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

count() { # requests -> instructions of the whole server process
  local n="$1" port=$((20000 + RANDOM % 20000)) pid
  GDD_PORT=$port GDD_HOST=127.0.0.1 GDD_SERVICE_DISCOVERY_MODE=none GDD_LOG_LEVEL=warn \
    valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.$n" "$BIN/bench-server" >/dev/null 2>&1 &
  pid=$!
  python3 - "$port" "$n" "$ROUTE" <<'PY'
import http.client, json, sys, time
port, n, route = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
deadline = time.time() + 60
while True:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/user?id=1"); conn.getresponse().read()
        break
    except OSError:
        if time.time() > deadline: sys.exit("bench-server did not start under valgrind")
        time.sleep(0.2)
body = json.dumps({"page": 3, "size": 10})  # as benches/post.lua sends
for _ in range(n):
    if route == "get":
        conn.request("GET", "/user?id=7")
    else:
        conn.request("POST", "/page/users", body, {"Content-Type": "application/json"})
    r = conn.getresponse(); r.read()
    assert r.status == 200, r.status
PY
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  awk '/^(summary|totals):/ {print $2; exit}' "$OUT/cg.$n"
}

a=$(count "$N1"); b=$(count "$N2")
echo "$ROUTE: $(( (b - a) / (N2 - N1) )) instructions per request ($N1 requests: $a, $N2: $b)"
