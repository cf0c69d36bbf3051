#!/usr/bin/env bash
# The demo: installs what is missing for it (scripts/install-tools.sh --demo), starts the local
# identity provider (oidc-provider), the downstream API and the reference Worker (wrangler dev)
# on 127.0.0.1, calls GET /daemon/call without a token (refused: 401), then twice as a caller
# holding the daemon's app role (the Worker authenticates with its certificate), prints the
# downstream's answers and the number of token requests the Worker made (1); then starts
# the web app Worker on 127.0.0.1:8787, signs alice in by script and calls the API as her. Run in
# a terminal, it waits (Enter stops it) for a person to open http://127.0.0.1:8787/ and sign in
# as alice or bob. It stops everything it started.
#
#   scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Only what the demo needs: no Chromium, wasm-pack, Viceroy, wasmtime or extra Rust targets.
bash scripts/install-tools.sh --demo
export PATH="$PWD/testbed/node_modules/.bin:$PATH"
exec node testbed/demo.mjs
