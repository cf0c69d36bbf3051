#!/usr/bin/env bash
# Builds the baseline Worker (release) into target/baseline-worker/build/ with worker-build, as
# scripts/build-worker.sh builds the reference Worker: the locally installed wasm-bindgen,
# esbuild and wasm-opt, nothing downloaded. Its own target dir (target/baseline-worker/).
# Skips the build when the output is newer than every source.
set -euo pipefail
crate="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$crate/../.." && pwd)"
out="$root/target/baseline-worker/build"

stamp="$out/worker/shim.mjs"
if [ -f "$stamp" ] && [ -z "$(find "$crate/src" "$crate/Cargo.toml" "$crate/Cargo.lock" -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  exit 0
fi
export CARGO_TARGET_DIR="$root/target/baseline-worker"
export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export ESBUILD_BIN="$root/testbed/node_modules/@esbuild/linux-x64/bin/esbuild"
export WASM_OPT_BIN="$root/testbed/node_modules/binaryen/bin/wasm-opt"
cd "$crate"
worker-build --release --out-dir "$out" .
