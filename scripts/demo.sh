#!/usr/bin/env bash
# The demo: installs what is missing, starts the local identity provider (oidc-provider), the
# downstream API and the reference Worker (wrangler dev) on 127.0.0.1, calls GET /daemon/call
# twice with the certificate credential, prints the downstream's answers and the number of token
# requests the provider received (1), and stops everything it started.
#
#   scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-tools.sh --no-browser
export PATH="$PWD/testbed/node_modules/.bin:$PATH"
exec node testbed/demo.mjs
