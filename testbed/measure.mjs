// Measures the Worker: wasm size (raw and gzip), the latency of a cold /daemon/call (fresh
// Worker, empty KV: discovery, assertion signing, token request, downstream call) and of cached
// calls (50 sequential calls: median and p90). Prints the results and writes them to
// target/measurements.json. Reports numbers only: nothing is asserted about timings.
//
//   testbed/node_modules/.bin/node testbed/measure.mjs
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';

import { REPO_ROOT } from './lib/paths.mjs';
import { stopAll } from './lib/processes.mjs';
import { daemonVars, startTestbed } from './lib/testbed.mjs';
import { startWorker } from './lib/worker.mjs';

const CACHED_SAMPLES = 50;
const BUILD_DIR = path.join(REPO_ROOT, 'build');
const OUTPUT = path.join(REPO_ROOT, 'target', 'measurements.json');

/** The most recently built .wasm under build/ (worker-build writes e.g. build/index_bg.wasm). */
async function findWorkerWasm() {
  const entries = await readdir(BUILD_DIR, { recursive: true, withFileTypes: true });
  const candidates = await Promise.all(entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.wasm'))
    .map(async (entry) => {
      const file = path.join(entry.parentPath, entry.name);
      return { file, mtimeMs: (await stat(file)).mtimeMs };
    }));
  if (candidates.length === 0) throw new Error(`no .wasm under ${BUILD_DIR}`);
  return candidates.sort((a, b) => b.mtimeMs - a.mtimeMs)[0].file;
}

/** One /daemon/call, timed to the end of the body; fails unless it answers 200. */
async function timedCall(url) {
  const start = performance.now();
  const response = await fetch(`${url}/daemon/call`);
  const body = await response.text();
  const ms = performance.now() - start;
  if (response.status !== 200) throw new Error(`/daemon/call answered ${response.status}: ${body}`);
  return ms;
}

/** Nearest-rank percentile of ascending `sorted`. */
const percentile = (sorted, p) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
const round = (ms) => Math.round(ms * 10) / 10;

const persistTo = await mkdtemp(path.join(tmpdir(), 'edge-token-measure-'));
try {
  const tb = await startTestbed();
  const worker = await startWorker({ vars: daemonVars(tb, 'certificate'), persistTo });

  const wasmFile = await findWorkerWasm();
  const wasm = await readFile(wasmFile);

  const coldMs = await timedCall(worker.url);
  const cached = [];
  for (let i = 0; i < CACHED_SAMPLES; i += 1) cached.push(await timedCall(worker.url));
  cached.sort((a, b) => a - b);

  const measurements = {
    measured_at: new Date().toISOString(),
    credential: 'certificate, PS256 client assertion',
    wasm: {
      file: path.relative(REPO_ROOT, wasmFile),
      raw_bytes: wasm.length,
      gzip_bytes: gzipSync(wasm, { level: 9 }).length,
      gzip_level: 9,
    },
    cold_call_ms: round(coldMs),
    cached_call_ms: {
      samples: cached.length,
      median: round(percentile(cached, 50)),
      p90: round(percentile(cached, 90)),
    },
    environment: { node: process.version, runtime: 'wrangler dev (local workerd)' },
  };
  await mkdir(path.dirname(OUTPUT), { recursive: true });
  await writeFile(OUTPUT, `${JSON.stringify(measurements, null, 2)}\n`);
  console.log(JSON.stringify(measurements, null, 2));
  console.log(`written to ${path.relative(process.cwd(), OUTPUT) || OUTPUT}`);
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await stopAll();
  await rm(persistTo, { recursive: true, force: true });
}
