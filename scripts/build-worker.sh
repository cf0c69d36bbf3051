#!/usr/bin/env bash
# Builds the reference Worker (apps/cloudflare, profile `worker`: release for size, WebCrypto
# signer) into build/ with worker-build; the top-level wrangler.toml runs it. Skips the build when
# build/ is newer than every source. Uses the locally installed wasm-bindgen, esbuild and wasm-opt
# (scripts/install-tools.sh) instead of letting worker-build download them. The wasm has no names
# section (scripts/measure-size.sh prints its size).
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=build/worker/shim.mjs
if [ -f "$stamp" ] && [ -z "$(find src crates apps/cloudflare Cargo.toml Cargo.lock -newer "$stamp" -print -quit)" ]; then
  exit 0
fi
export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export ESBUILD_BIN="$PWD/testbed/node_modules/@esbuild/linux-x64/bin/esbuild"
export WASM_OPT_BIN="$PWD/testbed/node_modules/binaryen/bin/wasm-opt"
# The `worker` profile: release at opt-level "z" (Cargo.toml).
worker-build --profile worker --out-dir ../../build apps/cloudflare
# worker-build runs wasm-opt with `--debuginfo`, which keeps the names section (~55 KB gzip):
# drop it from the shipped wasm, after wasm-bindgen (the crate's sections it reads are gone by
# then). The features are worker-build's own list.
"$WASM_OPT_BIN" build/index_bg.wasm -o build/index_bg.stripped.wasm --strip-debug \
  --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling
mv build/index_bg.stripped.wasm build/index_bg.wasm
