#!/usr/bin/env bash
# edge-token's benchmark (issue 18): app-token cache hits (1 to 10,000 cached scopes) and cold
# acquisitions (client secret; certificate PS256/RS256 with the pure-Rust signer), with the
# token endpoint answered from memory, for edge-token natively, on wasm32-wasip1 under Node's
# WASI (the cold acquisitions also built with wide-arithmetic, as the Fastly and Spin apps ship,
# under wasmtime), and through wasm-bindgen in Node (the Workers adapter's clock and entropy), next to
# azure_identity 1.x (native) and @azure/msal-node 7.x. Prints one table and writes
# target/bench.json. Timings are printed, never asserted; not part of scripts/test.sh.
#
#   bash scripts/bench.sh [--quick]
#
# --quick: 5 rounds of >= 10 ms per case instead of 7 of >= 50 ms (a smoke run).
# Installs what it needs when missing (scripts/install-tools.sh: the test bed's packages with
# @azure/msal-node and Node 22, wasm-bindgen-cli 0.2.130, wasmtime; OpenSSL headers with apt).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/testbed/node_modules/.bin:$PATH"

# wasm-bindgen-cli and wasmtime (the cold acquisitions with wide-arithmetic), pinned, when missing.
bash scripts/install-tools.sh >&2
# azure_identity's certificate credential links OpenSSL.
if ! dpkg -s libssl-dev >/dev/null 2>&1 || ! command -v pkg-config >/dev/null; then
  apt-get update -qq && apt-get install -y -qq libssl-dev pkg-config >/dev/null
fi
rustup target list --installed | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

echo "==> building (native at opt-level 3; the wasm modules with the release profile the apps ship with)" >&2
cargo build --quiet --profile bench-native -p edge-token-bench --bin edge-token-bench
cargo build --quiet --release -p edge-token-bench --bin edge-token-bench --target wasm32-wasip1
# As scripts/build-apps.sh builds the Fastly and Spin apps (rustc warns that the feature is
# unstable), in a target dir of its own.
CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS="-Ctarget-feature=+wide-arithmetic" \
  cargo build --quiet --release -p edge-token-bench --bin edge-token-bench --target wasm32-wasip1 \
  --target-dir target/bench-wide
cargo rustc --quiet --release -p edge-token-bench --lib --target wasm32-unknown-unknown --crate-type cdylib
wasm-bindgen --target nodejs --out-dir target/bench/bindgen \
  target/wasm32-unknown-unknown/release/edge_token_bench.wasm

echo "==> running" >&2
node bench/run.mjs "$@"
