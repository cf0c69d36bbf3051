#!/usr/bin/env bash
# Builds the reference Fastly app and Spin component (release) and copies the wasm files to
# target/edge-apps/:
#   fastly.wasm         apps/fastly, wasm32-wasip1, for Fastly Compute / Viceroy
#   spin.wasm           apps/spin, wasm32-wasip2, Spin variables and key-value, for `spin up`
#   spin-wasmtime.wasm  apps/spin with feature `wasmtime`: settings from the environment and an
#                       in-memory token store, for `wasmtime serve` (no Spin interfaces there)
# Cargo skips what is up to date; the two Spin builds share their dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/edge-apps
mkdir -p "$out"
release=(cargo build --release --quiet)

# The pure-Rust RSA signer (rsa with 64-bit digits) multiplies 64-bit digits into 128 bits.
# WebAssembly's wide-arithmetic instructions (`i64.mul_wide_u`, a phase 4 proposal; on by
# default in wasmtime >= 46 and Viceroy 0.22) do that in one instruction instead of a
# `__multi3` call: RS256/PS256 signing ~4.5x faster. A host without them refuses the module
# when loading it: WASM_WIDE_ARITHMETIC=0 builds without (rustc 1.95 warns that the target
# feature is unstable: the instructions are standard, rustc's flag name is not yet).
if [[ ${WASM_WIDE_ARITHMETIC:-1} != 0 ]]; then
  export CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS="${CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS:-} -Ctarget-feature=+wide-arithmetic"
  export CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS="${CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS:-} -Ctarget-feature=+wide-arithmetic"
fi

"${release[@]}" --target wasm32-wasip1 -p edge-token-fastly-app
cp target/wasm32-wasip1/release/edge-token-fastly-app.wasm "$out/fastly.wasm"

"${release[@]}" --target wasm32-wasip2 -p edge-token-spin-app
cp target/wasm32-wasip2/release/edge_token_spin_app.wasm "$out/spin.wasm"

"${release[@]}" --target wasm32-wasip2 -p edge-token-spin-app --features wasmtime
cp target/wasm32-wasip2/release/edge_token_spin_app.wasm "$out/spin-wasmtime.wasm"
