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
# The core on the host (every feature), and each adapter with its reference app on its target.
cargo clippy -p edge-token --all-targets --all-features --quiet -- -D warnings
cargo clippy --quiet --all-targets --target wasm32-unknown-unknown \
  -p edge-token-cloudflare -p edge-token-cloudflare-app -- -D warnings
# Each scenario feature on its own compiles without warnings (core and Workers adapter).
for features in "" daemon webapi webapp coordination certificate azure-ad; do
  cargo clippy --quiet -p edge-token --lib --no-default-features --features "std,$features" -- -D warnings
  cargo clippy --quiet -p edge-token-cloudflare --lib --target wasm32-unknown-unknown --no-default-features \
    --features "$features" -- -D warnings
done
cargo clippy --quiet --all-targets --target wasm32-wasip1 -p edge-token-fastly -p edge-token-fastly-app -- -D warnings
cargo clippy --quiet --all-targets --target wasm32-wasip2 -p edge-token-spin -p edge-token-spin-app -- -D warnings
cargo clippy --quiet --target wasm32-wasip2 -p edge-token-spin-app --features wasmtime -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet -p edge-token --all-features
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet -p edge-token-cloudflare --all-features --target wasm32-unknown-unknown
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet -p edge-token-fastly --target wasm32-wasip1
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet -p edge-token-spin --target wasm32-wasip2

step "the core: no module cycles, no platform crate in its dependency tree"
python3 scripts/module-cycles.py src
platform_crates='^(worker|web-sys|js-sys|wasm-bindgen|fastly|spin-sdk) '
for target in wasm32-unknown-unknown wasm32-wasip1 wasm32-wasip2; do
  if cargo tree -p edge-token --all-features -e normal --prefix none --target "$target" | grep -E "$platform_crates"; then
    echo "the core depends on a platform crate on $target" >&2
    exit 1
  fi
done

step "host unit, integration and doc tests (core; adapters' host-testable seams)"
cargo test --quiet -p edge-token --all-features
# Certificate and AZURE_AD settings without their features: configuration errors naming them.
cargo test --quiet -p edge-token --no-default-features --features std --test optional_features
cargo test --quiet -p edge-token-fastly -p edge-token-spin

step "core without std: cargo build --lib --no-default-features --target thumbv7em-none-eabihf"
cargo build --lib --quiet -p edge-token --no-default-features --features daemon,webapi,webapp,coordination,certificate,azure-ad \
  --target thumbv7em-none-eabihf

step "unit tests on wasm32 in Node (core; Workers adapter with the WebCrypto signer and verifier)"
wasm-pack test --node
wasm-pack test --node crates/edge-token-cloudflare --features certificate

step "unit tests on wasm32 in headless Chromium (core; Workers adapter with WebCrypto)"
WASM_BINDGEN_USE_BROWSER=1 wasm-pack test --headless --chrome
WASM_BINDGEN_USE_BROWSER=1 wasm-pack test --headless --chrome crates/edge-token-cloudflare --features certificate

step "end to end: test bed; the Worker (wrangler dev), Fastly app (Viceroy), Spin component (wasmtime serve); the README quick start"
bash scripts/build-worker.sh
bash scripts/build-apps.sh
node --test testbed/e2e/*.test.mjs
