#!/usr/bin/env bash
# The one test command: installs (idempotently) what the checks need on a fresh Debian
# machine, then runs formatting, lints and every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

# --- tools ------------------------------------------------------------------------------
# Debian packages the tests drive as real processes. Each entry is "command:package".
APT_TOOLS=(prometheus:prometheus promtool:prometheus wrk:wrk taskset:util-linux)
missing=()
for entry in "${APT_TOOLS[@]}"; do
  command -v "${entry%%:*}" >/dev/null 2>&1 || missing+=("${entry#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u)
fi

# Python tools, pinned, in a venv outside the clone (reused across runs).
VENV="${DOUDOU_TOOLS_VENV:-${HOME}/.cache/doudou-tools/venv}"
REQUIREMENTS="scripts/requirements-test.txt"
if [ ! -x "${VENV}/bin/python" ]; then
  log "creating the tools venv in ${VENV}"
  python3 -m venv "${VENV}"
fi
if ! cmp -s "${REQUIREMENTS}" "${VENV}/.installed-requirements" 2>/dev/null; then
  log "installing the Python test tools"
  "${VENV}/bin/pip" install --quiet --disable-pip-version-check -r "${REQUIREMENTS}"
  cp "${REQUIREMENTS}" "${VENV}/.installed-requirements"
fi
# checkov pins dozens of packages of its own: it gets a venv of its own, so that it cannot
# change what the other tools run with.
CHECKOV_VENV="${VENV}-checkov"
CHECKOV_REQUIREMENTS="scripts/requirements-checkov.txt"
if [ ! -x "${CHECKOV_VENV}/bin/python" ]; then
  python3 -m venv "${CHECKOV_VENV}"
fi
if ! cmp -s "${CHECKOV_REQUIREMENTS}" "${CHECKOV_VENV}/.installed-requirements" 2>/dev/null; then
  log "installing checkov"
  "${CHECKOV_VENV}/bin/pip" install --quiet --disable-pip-version-check -r "${CHECKOV_REQUIREMENTS}"
  cp "${CHECKOV_REQUIREMENTS}" "${CHECKOV_VENV}/.installed-requirements"
fi
PHOENIX_VENV="${VENV}-phoenix"
PHOENIX_REQUIREMENTS="scripts/requirements-phoenix.txt"
if [ ! -x "${PHOENIX_VENV}/bin/python" ]; then
  python3 -m venv "${PHOENIX_VENV}"
fi
if ! cmp -s "${PHOENIX_REQUIREMENTS}" "${PHOENIX_VENV}/.installed-requirements" 2>/dev/null; then
  log "installing Arize Phoenix"
  "${PHOENIX_VENV}/bin/pip" install --quiet --disable-pip-version-check -r "${PHOENIX_REQUIREMENTS}"
  cp "${PHOENIX_REQUIREMENTS}" "${PHOENIX_VENV}/.installed-requirements"
fi
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

log "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

log "build the example services the integration tests start"
cargo build --workspace --bins

log "cargo test"
cargo test --workspace
