#!/usr/bin/env bash
# Fuzzes the core's parsers of untrusted input with cargo-fuzz (libFuzzer, nightly toolchain).
# Not part of scripts/test.sh.
#
#   scripts/fuzz.sh                 # every target, FUZZ_SECONDS (default 60) each, one after another
#   scripts/fuzz.sh jwt             # one target
#   FUZZ_SECONDS=600 scripts/fuzz.sh seal
#   FUZZ_JOBS=2 scripts/fuzz.sh     # libFuzzer -jobs/-workers (default: one in-process fuzzer)
#   nice -n 10 scripts/fuzz.sh      # on a shared machine
#
# Targets (fuzz/fuzz_targets/): token_response bearer jwt jwks authority azure_ad seal.
# The corpus of each target grows in fuzz/corpus/<target>/ (git-ignored), seeded from the
# committed fuzz/seeds/<target>/; crashes go to fuzz/artifacts/<target>/. Reproduce one with
#   cargo +nightly fuzz run <target> fuzz/artifacts/<target>/crash-…
# (from fuzz/ or the repository root), and keep the minimized input
# (cargo +nightly fuzz tmin <target> <crash>) under fuzz/regressions/<target>/.
# Every committed regression input is run once before fuzzing starts.
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_EACH="${FUZZ_SECONDS:-60}"
JOBS="${FUZZ_JOBS:-1}"
TARGETS=(token_response bearer jwt jwks authority azure_ad seal)

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz.sh: the nightly toolchain is needed (rustup toolchain install nightly)" >&2
    exit 1
fi
installed="$(cargo fuzz --version 2>/dev/null || true)"
if [[ "$installed" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
    echo "fuzz.sh: installing cargo-fuzz $CARGO_FUZZ_VERSION (found: ${installed:-none})"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

if [[ $# -gt 0 ]]; then
    for target in "$@"; do
        if [[ ! " ${TARGETS[*]} " == *" $target "* ]]; then
            echo "fuzz.sh: unknown target '$target' (targets: ${TARGETS[*]})" >&2
            exit 2
        fi
    done
    TARGETS=("$@")
fi

cd "$ROOT/fuzz"
for target in "${TARGETS[@]}"; do
    corpus="corpus/$target"
    mkdir -p "$corpus" "artifacts/$target"
    # Seeds are copied (not passed as a second corpus) so that reruns start from the grown
    # corpus and never write into fuzz/seeds.
    if [[ -d "seeds/$target" ]]; then
        cp -n "seeds/$target"/* "$corpus"/ 2>/dev/null || true
    fi
    if [[ -d "regressions/$target" ]] && compgen -G "regressions/$target/*" >/dev/null; then
        echo "== $target: regression inputs"
        cargo +nightly fuzz run "$target" "regressions/$target"/* -- -runs=1
    fi
    echo "== $target: ${SECONDS_EACH}s"
    parallel=()
    if [[ "$JOBS" -gt 1 ]]; then
        # libFuzzer then runs worker processes that log to fuzz/fuzz-<n>.log.
        parallel=(-jobs="$JOBS" -workers="$JOBS")
    fi
    cargo +nightly fuzz run "$target" "$corpus" -- \
        -max_total_time="$SECONDS_EACH" -print_final_stats=1 "${parallel[@]}"
done
