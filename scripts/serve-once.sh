#!/usr/bin/env bash
# Starts a doudou service binary on a free loopback port, asks it PATH once it answers, checks
# that the answer is 200 with the body EXPECTED, and stops it:
#   scripts/serve-once.sh BINARY PATH EXPECTED
set -euo pipefail
binary=$1 path=$2 expected=$3
log=$(mktemp)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
GDD_HOST=127.0.0.1 GDD_PORT=$port "$binary" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -f "$log"' EXIT
fail() { echo "$binary: $*; its output:" >&2; cat "$log" >&2; exit 1; }
for _ in $(seq 100); do
  # Connection refused until it listens; then one answer, whatever its status, within 2 s.
  if answer=$(curl -sS --max-time 2 -w '\n%{http_code}' "http://127.0.0.1:$port$path" 2>/dev/null); then
    status=${answer##*$'\n'} body=${answer%$'\n'*}
    [ "$status" = 200 ] && [ "$body" = "$expected" ] || fail "$path answered $status $body, not 200 $expected"
    echo "$binary answered $path with $body"
    exit 0
  fi
  kill -0 $pid 2>/dev/null || fail "exited before answering"
  sleep 0.1
done
fail "did not answer $path within 10 s"
