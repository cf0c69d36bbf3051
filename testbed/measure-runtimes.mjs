// Measures the daemon app on each edge runtime (see lib/runtimes.mjs): release wasm size (raw
// and gzip -9) of each runtime's build, the latency of a cold /daemon/call (fresh app, empty
// cache: discovery, the caller's bearer validated (keys fetched), PS256 assertion signing, token
// request, downstream call) and of cached calls
// (50 sequential calls: median and p90). All local: the provider and downstream run on
// 127.0.0.1, so the times are the runtimes' own overhead plus the test bed's. Prints a table and
// writes target/measurements-runtimes.json. Reports numbers only: nothing is asserted.
//
//   testbed/node_modules/.bin/node testbed/measure-runtimes.mjs
//   EDGE_TOKEN_RUNTIMES="fastly spin" testbed/node_modules/.bin/node testbed/measure-runtimes.mjs
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

import { listFromEnv } from './lib/env.mjs';
import { REPO_ROOT } from './lib/paths.mjs';
import { stopAll } from './lib/processes.mjs';
import { APPS_DIR, RUNTIMES, buildApps, startRuntime } from './lib/runtimes.mjs';
import { callerToken, daemonVars, startTestbed } from './lib/testbed.mjs';
import { findWorkerWasm } from './lib/wasm.mjs';

const CACHED_SAMPLES = 50;
const OUTPUT = path.join(REPO_ROOT, 'target', 'measurements-runtimes.json');

/** The Worker's wasm, built first (scripts/build-worker.sh): see findWorkerWasm. */
async function workerWasm() {
  await promisify(execFile)('bash', [path.join(REPO_ROOT, 'scripts', 'build-worker.sh')], {
    cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024,
  });
  return findWorkerWasm();
}

/**
 * The wasm files of each runtime's builds; the first is the one timed (Spin: the `wasmtime`
 * build runs under wasmtime serve; the Spin-hosted build's size is reported beside it).
 */
async function wasmFiles(runtime) {
  switch (runtime) {
    case 'workers': return { worker: await workerWasm() };
    case 'fastly': return { fastly: path.join(APPS_DIR, 'fastly.wasm') };
    case 'spin': return {
      'spin-wasmtime (env + memory)': path.join(APPS_DIR, 'spin-wasmtime.wasm'),
      'spin (Spin KV + variables)': path.join(APPS_DIR, 'spin.wasm'),
    };
    default: throw new Error(`unknown runtime ${runtime}`);
  }
}

async function sizes(files) {
  const result = {};
  for (const [name, file] of Object.entries(files)) {
    const bytes = await readFile(file);
    result[name] = { file: path.relative(REPO_ROOT, file), raw: bytes.length, gzip9: gzipSync(bytes, { level: 9 }).length };
  }
  return result;
}

/**
 * One /daemon/call as `authorization` (a caller's bearer: the route is protected), timed to the
 * end of the body; fails unless it answers 200.
 */
async function timedCall(url, authorization) {
  const start = performance.now();
  const response = await fetch(`${url}/daemon/call`, { headers: { authorization } });
  const body = await response.text();
  const ms = performance.now() - start;
  if (response.status !== 200) throw new Error(`/daemon/call answered ${response.status}: ${body}`);
  return { ms, source: response.headers.get('x-edge-token-source') };
}

const percentile = (sorted, p) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
const round = (ms) => Math.round(ms * 10) / 10;

const results = {};
try {
  await buildApps();
  const tb = await startTestbed();
  const { authorization } = await callerToken(tb);
  for (const runtime of listFromEnv('EDGE_TOKEN_RUNTIMES', RUNTIMES)) {
    const wasm = await sizes(await wasmFiles(runtime));
    const app = await startRuntime(runtime, { vars: daemonVars(tb, 'certificate') });
    try {
      const cold = await timedCall(app.url, authorization);
      const cached = [];
      const sources = {};
      for (let i = 0; i < CACHED_SAMPLES; i += 1) {
        const call = await timedCall(app.url, authorization);
        cached.push(call.ms);
        sources[call.source] = (sources[call.source] ?? 0) + 1;
      }
      cached.sort((a, b) => a - b);
      results[runtime] = {
        wasm,
        cold_ms: round(cold.ms),
        cold_source: cold.source,
        cached_median_ms: round(percentile(cached, 50)),
        cached_p90_ms: round(percentile(cached, 90)),
        cached_sources: sources,
      };
    } finally {
      await app.stop();
    }
  }
  await tb.stop();
} finally {
  await stopAll();
}

await mkdir(path.dirname(OUTPUT), { recursive: true });
await writeFile(OUTPUT, `${JSON.stringify(results, null, 2)}\n`);
console.log('runtime  build                          raw B      gzip-9 B   cold ms  cached median/p90 ms (token sources)');
for (const [runtime, r] of Object.entries(results)) {
  Object.entries(r.wasm).forEach(([name, w], i) => {
    const timing = i === 0
      ? `${String(r.cold_ms).padStart(7)}  ${r.cached_median_ms} / ${r.cached_p90_ms} (${Object.entries(r.cached_sources).map(([s, n]) => `${s} ${n}`).join(', ')})`
      : '';
    console.log(`${runtime.padEnd(8)} ${name.padEnd(30)} ${String(w.raw).padStart(9)}  ${String(w.gzip9).padStart(9)}  ${timing}`);
  });
}
console.log(`written to ${path.relative(REPO_ROOT, OUTPUT)}`);
