#!/usr/bin/env bash
# Builds the reference Worker into build/ with worker-build (release, feature cloudflare-app,
# without the pure-Rust signer: the Worker signs with WebCrypto). Skips the build when build/
# is newer than every source. Uses the locally installed wasm-bindgen, esbuild and wasm-opt
# (scripts/install-tools.sh) instead of letting worker-build download them.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=build/worker/shim.mjs
if [ -f "$stamp" ] && [ -z "$(find src Cargo.toml Cargo.lock -newer "$stamp" -print -quit)" ]; then
  exit 0
fi
export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export ESBUILD_BIN="$PWD/testbed/node_modules/@esbuild/linux-x64/bin/esbuild"
export WASM_OPT_BIN="$PWD/testbed/node_modules/binaryen/bin/wasm-opt"
worker-build --release --no-default-features --features cloudflare-app
