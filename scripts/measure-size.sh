#!/usr/bin/env bash
# Measures the Workers' wasm (numbers only, nothing asserted): the reference Worker (apps/cloudflare,
# every scenario, built by scripts/build-worker.sh) and a daemon-only Worker built from the README
# quick start (its three `<!-- quickstart: ... -->` blocks written into a temporary project by
# testbed/lib/quickstart.mjs, built with `worker-build --release` as a user would). For each: the
# shipped wasm's raw and gzip size (Node's zlib, level 6, as testbed/measure.mjs), and twiggy's 15
# largest items of cargo's wasm (before wasm-bindgen and wasm-opt, with symbol names: the shipped
# wasm has none). Prints them and writes target/size.json.
#
#   scripts/measure-size.sh [--ladder]
#
# --ladder also builds the quick start project once per rung of a feature ladder (no edge-token at
# all: bench/baseline-worker's code, which calls the downstream with a token handed in; then the
# adapter with no features, then one feature more per rung up to all of them) and prints what each
# capability adds, raw and gzip; `ladder` in target/size.json. ~1 min per rung, warm.
#
# Installs twiggy (pinned) when it is missing. Builds one thing at a time; the quick start's cargo
# output is shared with testbed/e2e/quickstart.test.mjs (target/quickstart/).
set -euo pipefail
ladder=false
case "${1:-}" in
  --ladder) ladder=true ;;
  "") ;;
  *) echo "usage: $0 [--ladder]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
root="$PWD"
export PATH="$root/testbed/node_modules/.bin:$PATH"

twiggy_version=0.7.0
twiggy --version 2>/dev/null | grep -qF "$twiggy_version" ||
  cargo install twiggy --version "$twiggy_version" --locked

# The newest .wasm under $1 (worker-build writes build/index_bg.wasm).
newest_wasm() { find "$1" -maxdepth 2 -name '*.wasm' -printf '%T@ %p\n' | sort -rn | sed -n '1s/^[^ ]* //p'; }

export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export ESBUILD_BIN="$root/testbed/node_modules/@esbuild/linux-x64/bin/esbuild"
export WASM_OPT_BIN="$root/testbed/node_modules/binaryen/bin/wasm-opt"

# The reference Worker.
bash scripts/build-worker.sh
reference_wasm="$(newest_wasm build)"
reference_cargo_wasm="target/wasm32-unknown-unknown/worker/edge_token_cloudflare_app.wasm"

# The quick start, outside the repository (cargo would take it for a workspace member inside).
project="$(mktemp -d "${TMPDIR:-/tmp}/edge-token-size-quickstart.XXXXXX")"
trap 'rm -rf "$project"' EXIT
node --input-type=module -e '
  const [dir, lib] = process.argv.slice(1);
  const { readFileSync } = await import("node:fs");
  const { README_PATH, extractQuickstartBlocks, writeQuickstartProject } = await import(lib);
  await writeQuickstartProject(dir, extractQuickstartBlocks(readFileSync(README_PATH, "utf8")));
' "$project" "$root/testbed/lib/quickstart.mjs"
export CARGO_TARGET_DIR="$root/target/quickstart"
(cd "$project" && worker-build --release)
unset CARGO_TARGET_DIR
quickstart_wasm="$(newest_wasm "$project/build")"
# The quick start strips symbols (`strip = true`): for twiggy, the same build with them (release's
# default `strip = "debuginfo"`), in its own target dir (so that neither build invalidates the
# other).
(cd "$project" && CARGO_PROFILE_RELEASE_STRIP=debuginfo CARGO_TARGET_DIR="$root/target/quickstart-names" \
  cargo build --release --quiet --target wasm32-unknown-unknown)
quickstart_cargo_wasm="target/quickstart-names/wasm32-unknown-unknown/release/my_worker.wasm"

mkdir -p target
twiggy top -n 15 -f json "$reference_cargo_wasm" >target/size-reference-twiggy.json
twiggy top -n 15 -f json "$quickstart_cargo_wasm" >target/size-quickstart-twiggy.json
node --input-type=module -e '
  const { readFileSync, writeFileSync } = await import("node:fs");
  const { gzipSync } = await import("node:zlib");
  const [referenceWasm, referenceTwiggy, quickstartWasm, quickstartTwiggy] = process.argv.slice(1);
  const measure = (wasm, twiggy) => {
    const bytes = readFileSync(wasm);
    // The custom sections'"'"' names (id 0), walking the section headers (wasm binary format §5.5).
    const custom = [];
    const leb = (at) => {
      let value = 0, shift = 0, byte;
      do { byte = bytes[at.pos++]; value += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
      return value;
    };
    for (const at = { pos: 8 }; at.pos < bytes.length;) {
      const id = bytes[at.pos++];
      const size = leb(at);
      const end = at.pos + size;
      if (id === 0) {
        const length = leb(at);
        custom.push(bytes.subarray(at.pos, at.pos + length).toString("utf8"));
      }
      at.pos = end;
    }
    return {
      raw_bytes: bytes.length,
      gzip_bytes: gzipSync(bytes).length,
      custom_sections: custom,
      twiggy_top15_before_wasm_opt: JSON.parse(readFileSync(twiggy, "utf8")),
    };
  };
  const size = {
    reference_worker: measure(referenceWasm, referenceTwiggy),
    quickstart_worker: measure(quickstartWasm, quickstartTwiggy),
  };
  writeFileSync("target/size.json", JSON.stringify(size, null, 2) + "\n");
  for (const [name, m] of Object.entries(size)) {
    console.log(`${name}: ${m.raw_bytes} B raw, ${m.gzip_bytes} B gzip`);
  }
' "$reference_wasm" target/size-reference-twiggy.json "$quickstart_wasm" target/size-quickstart-twiggy.json
rm -f target/size-reference-twiggy.json target/size-quickstart-twiggy.json

printf '\n==> reference Worker: twiggy top 15 (%s)\n' "$reference_cargo_wasm"
twiggy top -n 15 "$reference_cargo_wasm"
printf '\n==> quick start Worker: twiggy top 15 (%s)\n' "$quickstart_cargo_wasm"
twiggy top -n 15 "$quickstart_cargo_wasm"

if $ladder; then
  # The adapter's features, one more per rung, in the order a Worker would add them.
  ladder_features=(daemon certificate azure-ad coordination webapi webapp pkcs12 coordinator)
  rung_project="$project/ladder"
  mkdir -p "$rung_project"
  cp -r "$project/Cargo.toml" "$project/wrangler.toml" "$project/src" "$rung_project/"
  dependency_line="$(grep -E '^edge-token-cloudflare = ' "$project/Cargo.toml")"
  adapter_path="$(printf '%s' "$dependency_line" | sed -E 's/.*path = ("[^"]*").*/\1/')"
  export CARGO_TARGET_DIR="$root/target/quickstart-ladder"
  rows=()
  build_rung() { # name, then the dependency line ("" = no edge-token)
    local name="$1" line="$2"
    grep -vE '^edge-token-cloudflare = ' "$project/Cargo.toml" >"$rung_project/Cargo.toml"
    if [ -n "$line" ]; then
      printf '%s\n' "$line" >>"$rung_project/Cargo.toml.dependency"
      # The dependency goes back where it was: right after [dependencies].
      sed -i "/^\[dependencies\]/r $rung_project/Cargo.toml.dependency" "$rung_project/Cargo.toml"
      rm "$rung_project/Cargo.toml.dependency"
      cp "$project/src/lib.rs" "$rung_project/src/lib.rs"
    else
      cp bench/baseline-worker/src/lib.rs "$rung_project/src/lib.rs"
    fi
    (cd "$rung_project" && worker-build --release >/dev/null 2>&1) || {
      echo "ladder: the rung \"$name\" did not build (cd $rung_project && worker-build --release)" >&2
      exit 1
    }
    local kept="$project/rung-${#rows[@]}.wasm"
    cp "$(newest_wasm "$rung_project/build")" "$kept"
    rows+=("$name" "$kept")
  }
  build_rung "no edge-token (bench/baseline-worker's code)" ""
  features=()
  build_rung "app tokens only (no features)" \
    "edge-token-cloudflare = { path = $adapter_path, default-features = false }"
  for feature in "${ladder_features[@]}"; do
    features+=("\"$feature\"")
    build_rung "+ $feature" \
      "edge-token-cloudflare = { path = $adapter_path, default-features = false, features = [$(IFS=,; echo "${features[*]}")] }"
  done
  unset CARGO_TARGET_DIR
  node --input-type=module -e '
    const { readFileSync, writeFileSync } = await import("node:fs");
    const { gzipSync } = await import("node:zlib");
    const args = process.argv.slice(1);
    const ladder = [];
    for (let i = 0; i < args.length; i += 2) {
      const bytes = readFileSync(args[i + 1]);
      ladder.push({ rung: args[i], raw_bytes: bytes.length, gzip_bytes: gzipSync(bytes).length });
    }
    const size = JSON.parse(readFileSync("target/size.json", "utf8"));
    size.ladder = ladder;
    writeFileSync("target/size.json", JSON.stringify(size, null, 2) + "\n");
    console.log("\n==> the quick start, one adapter feature more per rung (bytes; + = added by the rung)");
    console.log(`${"rung".padEnd(48)} ${"raw".padStart(9)} ${"+raw".padStart(8)} ${"gzip".padStart(8)} ${"+gzip".padStart(7)}`);
    ladder.forEach((r, i) => {
      const before = ladder[i - 1];
      const plus = (key) => (before ? String(r[key] - before[key]) : "");
      console.log(`${r.rung.padEnd(48)} ${String(r.raw_bytes).padStart(9)} ${plus("raw_bytes").padStart(8)} ${String(r.gzip_bytes).padStart(8)} ${plus("gzip_bytes").padStart(7)}`);
    });
  ' "${rows[@]}"
fi

echo
echo "wrote target/size.json"
