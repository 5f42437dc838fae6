#!/usr/bin/env bash
# The one test command: installs (idempotently) what the checks need on a fresh Debian
# machine, then runs formatting, lints and every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

# --- tools ------------------------------------------------------------------------------
# Debian packages the tests drive as real processes. Each entry is "command:package".
APT_TOOLS=(prometheus:prometheus promtool:prometheus wrk:wrk taskset:util-linux valgrind:valgrind curl:curl
  python3:python3)
missing=()
for entry in "${APT_TOOLS[@]}"; do
  command -v "${entry%%:*}" >/dev/null 2>&1 || missing+=("${entry#*:}")
done
# The venvs below need ensurepip, which Debian ships apart from python3.
python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u)
fi

# Python tools, pinned, in venvs outside the clone (reused across runs): a venv is (re)filled
# only when its requirements file changed since it was last installed.
install_venv() { # venv requirements-file what
  if [ ! -x "$1/bin/python" ]; then
    log "creating the venv $1"
    python3 -m venv "$1"
  fi
  if ! cmp -s "$2" "$1/.installed-requirements" 2>/dev/null; then
    log "installing $3"
    "$1/bin/pip" install --quiet --disable-pip-version-check -r "$2"
    cp "$2" "$1/.installed-requirements"
  fi
}
VENV="${DOUDOU_TOOLS_VENV:-${HOME}/.cache/doudou-tools/venv}"
install_venv "${VENV}" scripts/requirements-test.txt "the Python test tools"
# checkov and Arize Phoenix pin dozens of packages of their own: each gets a venv of its own,
# so that neither can change what the other tools run with.
CHECKOV_VENV="${VENV}-checkov"
install_venv "${CHECKOV_VENV}" scripts/requirements-checkov.txt checkov
PHOENIX_VENV="${VENV}-phoenix"
install_venv "${PHOENIX_VENV}" scripts/requirements-phoenix.txt "Arize Phoenix"
export PATH="${VENV}/bin:${CHECKOV_VENV}/bin:${PHOENIX_VENV}/bin:${PATH}"

for component in rustfmt clippy; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^${component}"; then
    log "installing the ${component} component"
    rustup component add "${component}"
  fi
done

# --- checks -----------------------------------------------------------------------------
log "cargo fmt --check"
cargo fmt --all --check

log "mdbook build docs"
mdbook build docs

log "layers: each module of doudou/src imports only those below it (ARCHITECTURE.md)"
python3 scripts/layers.py

log "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

log "doudou without its default features: lints, and examples/minimal built alone serves"
cargo clippy -p doudou --no-default-features --all-targets -- -D warnings
for feature in gossip otel validate chrono time uuid; do
  cargo check -q -p doudou --no-default-features --features "$feature"
done
# Built alone, minimal resolves doudou with default-features = false (in the workspace build
# below, cargo unifies features and it gets them all).
cargo build -p minimal
scripts/serve-once.sh "$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/minimal" \
  '/greeting?name=doudou' '{"text":"Hello, doudou!"}'

log "build the example services the integration tests start"
cargo build --workspace --bins

log "cargo test"
# doudou's own tests (trybuild's snapshots among them) with its default features: in one
# workspace run, cargo would turn on the chrono/time/uuid features the integration tests ask
# for, and the compiler's lists of a trait's types in the snapshots would depend on that.
cargo test -p doudou
cargo test --workspace --exclude doudou
