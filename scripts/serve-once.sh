#!/usr/bin/env bash
# Starts a doudou service binary on a free loopback port, asks it PATH once it answers, checks
# that the body is EXPECTED, and stops it: `scripts/serve-once.sh BINARY PATH EXPECTED`.
set -euo pipefail
binary=$1 path=$2 expected=$3
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
GDD_HOST=127.0.0.1 GDD_PORT=$port "$binary" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  if body=$(curl -fsS "http://127.0.0.1:$port$path" 2>/dev/null); then
    if [ "$body" = "$expected" ]; then
      echo "$binary answered $path with $body"
      exit 0
    fi
    echo "$binary answered $path with $body, not $expected" >&2
    exit 1
  fi
  kill -0 $pid 2>/dev/null || { echo "$binary exited before answering" >&2; exit 1; }
  sleep 0.1
done
echo "$binary did not answer $path within 10 s" >&2
exit 1
