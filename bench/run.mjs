// edge-token's benchmark driver (run by scripts/bench.sh, which builds what it needs first):
// runs the native binary (edge-token and azure_identity), the same binary built for
// wasm32-wasip1 under Node's WASI (and, for the cold acquisitions, built with wide-arithmetic
// under wasmtime, as the Fastly and Spin apps ship), the wasm-bindgen module in this Node process and the MSAL
// Node cases (bench/msal.mjs); prints one table and writes target/bench.json.
//
//   node bench/run.mjs [--quick]
//   node bench/run.mjs --wasi <module.wasm> [--quick]   (internal: one WASI run, rows on stdout)

import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import os from "node:os";

const root = new URL("../", import.meta.url);
const at = (path) => fileURLToPath(new URL(path, root));
const args = process.argv.slice(2);
const quick = args.includes("--quick");

const NATIVE = at("target/bench-native/edge-token-bench");
const WASI = at("target/wasm32-wasip1/release/edge-token-bench.wasm");
const BINDGEN = at("target/bench/bindgen/edge_token_bench.js");
// The wasm32-wasip1 build with WebAssembly wide-arithmetic (as scripts/build-apps.sh builds the
// Fastly and Spin apps), run under wasmtime: V8 has no wide-arithmetic yet.
const WIDE = at("target/bench-wide/wasm32-wasip1/release/edge-token-bench.wasm");
const WASMTIME = at(".tools/wasmtime-49.0.4/wasmtime_cli/wasmtime");
const WIDE_LABEL = "edge-token wasm32-wasip1 wide-arithmetic";

/** Runs the WASI module with this process's stdio (its rows go to stdout). */
async function runWasi(path) {
  const { WASI: Wasi } = await import("node:wasi");
  const wasi = new Wasi({
    version: "preview1",
    args: ["edge-token-bench", "--only", "edge-token", ...(quick ? ["--quick"] : [])],
    env: {},
    returnOnExit: true,
  });
  const module = await WebAssembly.compile(readFileSync(path));
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
  const code = wasi.start(instance);
  process.exitCode = code;
}

/** Runs `command` with `commandArgs`, progress passed through, and parses its stdout rows. */
function rowsOf(command, commandArgs) {
  const run = spawnSync(command, commandArgs, {
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
    maxBuffer: 16 << 20,
  });
  if (run.status !== 0) {
    throw new Error(`${command} ${commandArgs.join(" ")} failed (${run.status ?? run.signal})`);
  }
  return JSON.parse(run.stdout);
}

async function main() {
  const flags = quick ? ["--quick"] : [];
  const started = Date.now();
  const rows = [];
  console.error("native (edge-token, azure_identity):");
  rows.push(...rowsOf(NATIVE, flags));
  console.error("wasm32-wasip1 under Node's WASI (edge-token):");
  rows.push(
    ...rowsOf(process.execPath, ["--no-warnings", fileURLToPath(import.meta.url), "--wasi", WASI, ...flags]),
  );
  console.error("wasm32-wasip1 with wide-arithmetic under wasmtime (edge-token, cold acquisitions):");
  rows.push(
    ...rowsOf(WASMTIME, ["run", WIDE, "--only", "edge-token", "--cold-only", "--label", WIDE_LABEL, ...flags]),
  );
  console.error("wasm-bindgen in Node (edge-token, the Workers adapter's clock, entropy and WebCrypto signer):");
  const bindgen = createRequire(import.meta.url)(BINDGEN);
  rows.push(...JSON.parse(bindgen.run(quick)));
  rows.push(...JSON.parse(await bindgen.run_webcrypto(quick)));
  console.error("MSAL Node:");
  const { msalSuite } = await import("./msal.mjs");
  const msal = await msalSuite(quick ? { rounds: 5, roundMs: 10 } : { rounds: 7, roundMs: 50 });
  rows.push(...msal.rows);

  const report = {
    command: `bash scripts/bench.sh${quick ? " --quick" : ""}`,
    generated_at: new Date().toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
    host: {
      cpu: os.cpus()[0]?.model,
      cpus: os.cpus().length,
      node: process.version,
      platform: `${os.platform()} ${os.arch()}`,
    },
    versions: {
      azure_identity: lockedVersion("azure_identity"),
      azure_core: lockedVersion("azure_core"),
      "@azure/msal-node": msal.version,
    },
    settings: quick ? { rounds: 5, round_ms: 10 } : { rounds: 7, round_ms: 50 },
    rows,
  };
  mkdirSync(at("target"), { recursive: true });
  writeFileSync(at("target/bench.json"), `${JSON.stringify(report, null, 2)}\n`);
  console.log(table(rows));
  console.log(
    `\n${report.host.cpus} × ${report.host.cpu}, ${report.host.platform}, Node ${report.host.node}; ` +
      `azure_identity ${report.versions.azure_identity}, @azure/msal-node ${report.versions["@azure/msal-node"]}; ` +
      `median of ${report.settings.rounds} rounds of >= ${report.settings.round_ms} ms; ${report.seconds} s. Rows: target/bench.json`,
  );
}

/** The version of `name` in Cargo.lock. */
function lockedVersion(name) {
  const lock = readFileSync(at("Cargo.lock"), "utf8");
  return lock.match(new RegExp(`name = "${name}"\\nversion = "([^"]+)"`))?.[1];
}

const COLUMNS = [
  ["edge-token native", "edge-token native"],
  ["edge-token wasm32-wasip1", "wasm32-wasip1 (Node WASI)"],
  [WIDE_LABEL, "wasip1 + wide-arithmetic (wasmtime)"],
  ["edge-token wasm-bindgen", "wasm-bindgen (Node)"],
  ["azure_identity", "azure_identity"],
  ["msal-node", "msal-node"],
];

const PREPARED = "cache hit, prepared request";
const WEBCRYPTO = ", WebCrypto signer";

/** Nanoseconds, readable. */
function duration(ns) {
  if (ns < 1e3) return `${ns.toFixed(0)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(ns < 1e4 ? 2 : 1)} µs`;
  return `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : 1)} ms`;
}

function label(kase, keys) {
  if (keys == null) return kase;
  return `${kase}, ${keys.toLocaleString("en-US")} key${keys === 1 ? "" : "s"}`;
}

/** The table: one line per case, a column per implementation, then the ratios. */
function table(rows) {
  const cases = [];
  for (const row of rows) {
    const name = label(row.case, row.keys);
    if (!cases.includes(name)) cases.push(name);
  }
  const cell = (name, implementation) =>
    rows.find((row) => label(row.case, row.keys) === name && row.implementation === implementation);
  let partialHits = false;
  let failures = false;
  const text = (row) => {
    if (!row) return "-";
    let mark = "";
    if (row.case.startsWith("cache hit") && row.requests_per_op > 0) {
      partialHits = true;
      mark += ` †${Math.round(row.requests_per_op * 100)}%`;
    }
    if (row.errors > 0) {
      failures = true;
      mark += " !";
    }
    return duration(row.ns_per_op) + mark;
  };
  const ratio = (other, ours) => (other && ours ? `${(other.ns_per_op / ours.ns_per_op).toFixed(1)}×` : "-");
  const header = [
    "case (time per call)",
    ...COLUMNS.map(([, title]) => title),
    "azure_identity ÷ native",
    "msal-node ÷ wasm-bindgen",
  ];
  // The other libraries have no prepared form: edge-token's prepared hits are compared with
  // their (only) hit at the same key count.
  // Likewise edge-token's WebCrypto signer rows (wasm-bindgen only) with their certificate rows.
  const theirs = (name, implementation) =>
    cell(name, implementation) ??
    cell(name.replace(PREPARED, "cache hit").replace(WEBCRYPTO, ""), implementation);
  const lines = cases.map((name) => [
    name,
    ...COLUMNS.map(([implementation]) => text(cell(name, implementation))),
    ratio(theirs(name, "azure_identity"), cell(name, "edge-token native")),
    ratio(theirs(name, "msal-node"), cell(name, "edge-token wasm-bindgen")),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i].length)));
  const format = (line) =>
    `| ${line.map((value, i) => (i === 0 ? value.padEnd(widths[i]) : value.padStart(widths[i]))).join(" | ")} |`;
  const out = [format(header), `|${widths.map((w, i) => (i === 0 ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`];
  out.push(...lines.map(format));
  out.push("");
  out.push("Ratios: the other library's time ÷ edge-token's (above 1: edge-token is faster); MSAL Node is compared");
  out.push("with edge-token through wasm-bindgen in the same Node process. Prepared-request rows are compared with the");
  out.push("other library's cache hit at the same key count (neither has a prepared form); WebCrypto-signer rows (the");
  out.push("Workers adapter's signer, wasm-bindgen only) with the other library's certificate row.");
  if (partialHits) {
    out.push("† not all cache hits: this share of the calls went to the (canned) token endpoint, i.e. the entry had");
    out.push("  been evicted from the memory cache; the time is then that of a mix of hits and misses.");
  }
  if (failures) out.push("! some calls failed (see errors in target/bench.json)");
  return out.join("\n");
}

if (args[0] === "--wasi") {
  await runWasi(args[1]);
} else {
  await main();
}
