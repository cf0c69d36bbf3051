#!/usr/bin/env bash
# Every test of edge-token, in order of cost. This is what .ci/run runs.
#
#   scripts/test.sh
#
# Installs missing tools first (scripts/install-tools.sh), then: formatting, lints and docs; host
# unit tests; the core built for a bare-metal target (proves no_std + alloc); the unit tests on
# wasm32 in Node and in headless Chromium (with the WebCrypto signer); the test bed's own tests
# and the Worker end to end in wrangler dev against the local identity provider; the Fastly app
# under Viceroy and the Spin component under wasmtime serve, end to end, from the same tests.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-tools.sh
export PATH="$PWD/testbed/node_modules/.bin:$PATH"
step() { printf '\n==> %s\n' "$*"; }

step "format, lints, docs"
cargo fmt --all -- --check
cargo clippy --all-targets --quiet -- -D warnings
cargo clippy --lib --quiet --target wasm32-unknown-unknown --no-default-features --features cloudflare-app -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
# Fastly (wasm32-wasip1) and Spin (wasm32-wasip2) adapters and their reference apps.
cargo clippy --lib --quiet --target wasm32-wasip1 --no-default-features --features fastly -- -D warnings
cargo clippy --quiet --target wasm32-wasip1 -p edge-token-fastly-app -- -D warnings
cargo clippy --lib --quiet --target wasm32-wasip2 --no-default-features --features spin -- -D warnings
cargo clippy --quiet --target wasm32-wasip2 -p edge-token-spin-app -- -D warnings
cargo clippy --quiet --target wasm32-wasip2 -p edge-token-spin-app --features wasmtime -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet --features fastly,spin

step "host unit tests"
cargo test --quiet
# Again with the Fastly and Spin adapters compiled in (their host-testable seams).
cargo test --quiet --lib --features fastly,spin

step "core without std: cargo build --lib --no-default-features --target thumbv7em-none-eabihf"
# (cargo notes that it drops the cdylib crate type for this target: expected.)
cargo build --lib --quiet --no-default-features --target thumbv7em-none-eabihf

step "unit tests on wasm32 in Node (core + WebCrypto signer)"
wasm-pack test --node -- --features webcrypto

step "unit tests on wasm32 in headless Chromium (core + WebCrypto signer)"
WASM_BINDGEN_USE_BROWSER=1 wasm-pack test --headless --chrome -- --features webcrypto

step "end to end: test bed; the Worker (wrangler dev), Fastly app (Viceroy), Spin component (wasmtime serve)"
bash scripts/build-worker.sh
bash scripts/build-apps.sh
node --test testbed/e2e/*.test.mjs
