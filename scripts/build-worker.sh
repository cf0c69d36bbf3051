#!/usr/bin/env bash
# Builds the reference Worker (apps/cloudflare, release, WebCrypto signer) into build/ with
# worker-build; the top-level wrangler.toml runs it. Skips the build when build/ is newer than
# every source. Uses the locally installed wasm-bindgen, esbuild and wasm-opt
# (scripts/install-tools.sh) instead of letting worker-build download them.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=build/worker/shim.mjs
if [ -f "$stamp" ] && [ -z "$(find src crates apps/cloudflare Cargo.toml Cargo.lock -newer "$stamp" -print -quit)" ]; then
  exit 0
fi
export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export ESBUILD_BIN="$PWD/testbed/node_modules/@esbuild/linux-x64/bin/esbuild"
export WASM_OPT_BIN="$PWD/testbed/node_modules/binaryen/bin/wasm-opt"
worker-build --release --out-dir ../../build apps/cloudflare
