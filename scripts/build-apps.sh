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

"${release[@]}" --target wasm32-wasip1 -p edge-token-fastly-app
cp target/wasm32-wasip1/release/edge-token-fastly-app.wasm "$out/fastly.wasm"

"${release[@]}" --target wasm32-wasip2 -p edge-token-spin-app
cp target/wasm32-wasip2/release/edge_token_spin_app.wasm "$out/spin.wasm"

"${release[@]}" --target wasm32-wasip2 -p edge-token-spin-app --features wasmtime
cp target/wasm32-wasip2/release/edge_token_spin_app.wasm "$out/spin-wasmtime.wasm"
