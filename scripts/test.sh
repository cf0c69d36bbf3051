#!/usr/bin/env bash
# Every test of edge-token, in order of cost. This is what .ci/run runs.
#
#   scripts/test.sh
#
# Installs missing tools first (scripts/install-tools.sh), then: formatting, lints and docs; host
# unit tests; the core built for a bare-metal target (proves no_std + alloc); the unit tests on
# wasm32 in Node and in headless Chromium (with the WebCrypto signer); the test bed's own tests
# and the Worker end to end in wrangler dev against the local identity provider.
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

step "host unit tests"
cargo test --quiet

step "core without std: cargo build --lib --no-default-features --target thumbv7em-none-eabihf"
# (cargo notes that it drops the cdylib crate type for this target: expected.)
cargo build --lib --quiet --no-default-features --target thumbv7em-none-eabihf

step "unit tests on wasm32 in Node (core + WebCrypto signer)"
wasm-pack test --node -- --features webcrypto

step "unit tests on wasm32 in headless Chromium (core + WebCrypto signer)"
WASM_BINDGEN_USE_BROWSER=1 wasm-pack test --headless --chrome -- --features webcrypto

step "end to end: test bed, then the Worker in wrangler dev against the local provider"
bash scripts/build-worker.sh
node --test testbed/e2e/*.test.mjs
