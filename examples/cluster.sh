#!/usr/bin/env bash
# Starts a local gossip cluster on 127.0.0.1: a dedicated seed, three helloworld instances
# (weights 1, 1, 2) and the greeter, which calls helloworld by service name.
# Ctrl-C stops them all (each leaves the cluster first).
#   examples/cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p helloworld -p greeter
BIN="${CARGO_TARGET_DIR:-target}/debug"
pids=()
trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM

common=(GDD_HOST=127.0.0.1 GDD_MEM_HOST=127.0.0.1 GDD_MEM_SEED=127.0.0.1:7946)
run() { # name http-port gossip-port binary [VAR=value ...]
  local name=$1 port=$2 mem_port=$3 bin=$4; shift 4
  env "${common[@]}" GDD_MEM_NAME="$name" GDD_PORT="$port" GDD_MEM_PORT="$mem_port" "$@" \
    "$BIN/$bin" > "/tmp/doudou-$name.log" 2>&1 &
  pids+=($!)
  echo "started $name: http://127.0.0.1:$port (log /tmp/doudou-$name.log)"
}

run seed    6060 7946 helloworld GDD_SERVICE_NAME=seed
run hello-1 6061 7947 helloworld GDD_SERVICE_NAME=helloworld
run hello-2 6062 7948 helloworld GDD_SERVICE_NAME=helloworld
run hello-3 6063 7949 helloworld GDD_SERVICE_NAME=helloworld GDD_WEIGHT=2
run greeter 6070 7950 greeter GDD_SERVICE_NAME=greeter

cat <<'TXT'

Try:
  curl -s -u admin:admin http://127.0.0.1:6070/go-doudou/registry      # every member
  for i in 1 2 3 4 5 6 7 8; do curl -s 'http://127.0.0.1:6070/hello?name=you'; echo; done
                                                                      # served_by: hello-1, hello-2, hello-3 x2
Ctrl-C stops the cluster.
TXT
wait
