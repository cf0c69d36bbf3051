// Measures what the token coordinator (a Durable Object) costs and saves, with the reference
// Worker's built wasm (build/, run as is: nothing is built here) under `wrangler dev`, the
// coordinator as its own `wrangler dev` and the fronts bound to it through a private dev
// registry, as in e2e/coordinator.test.mjs.
//
// 1. Latency of GET /daemon/call (as a caller with the daemon's app role; client side, to the
//    end of the body), median and p90, by where the app token came from:
//    - memory: a warm front, sequential calls (this is the baseline: the call without the token);
//    - store: a front without coordinator whose KV already holds the token, restarted before
//      each sample (empty memory), its isolate warmed with GET /healthz before the timed call;
//    - coordinator: a front bound to the coordinator, which holds the token, with an empty KV
//      of its own (new persist dir per sample), restarted and warmed the same way;
//    - coordinator, KV with discovery and keys: the same, its KV a copy of one holding what the
//      store samples' KV held besides the token (the discovery document and key set entries),
//      so that it differs from store only in where the token comes from.
//    The restarted fronts also validate the caller's token in a cold isolate, so their extra
//    cost over memory includes that, not only the token's retrieval (the provider's discovery
//    and key set GETs during each series are reported beside it).
// 2. Provider token requests for 1,000 concurrent cold calls spread round-robin over 3 fresh
//    fronts (empty KV, cold memory): with a (fresh) coordinator, and without one.
// 3. The wasm's size (raw and gzip).
// Prints the results and writes them to target/measurements-coordinator.json. Reports numbers
// only: nothing is asserted about timings.
//
//   PATH=testbed/node_modules/.bin:$PATH node testbed/measure-coordinator.mjs
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

import { BIN_DIR, REPO_ROOT } from './lib/paths.mjs';
import { stopAll } from './lib/processes.mjs';
import { callerToken, daemonVars, newCookieKey, startTestbed } from './lib/testbed.mjs';
import { findWorkerWasm } from './lib/wasm.mjs';
import { startWorker, workerConfig } from './lib/worker.mjs';

const SAMPLES = Number(process.env.SAMPLES ?? 30);
const BURST = 1_000;
const FRONTS = 3;
const OUTPUT = path.join(REPO_ROOT, 'target', 'measurements-coordinator.json');
// Names of this script's own (the e2e tests write target/wrangler/<name>.toml for theirs).
const COORDINATOR = 'edge-token-measure-coordinator';

/** Nearest-rank percentile of ascending `sorted`. */
const percentile = (sorted, p) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
const round = (ms) => Math.round(ms * 10) / 10;
const summary = (times) => {
  const sorted = [...times].sort((a, b) => a - b);
  return { samples: sorted.length, median: round(percentile(sorted, 50)), p90: round(percentile(sorted, 90)) };
};

const dirs = [];
async function newDir(prefix) {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

let tb;
let authorization;
let xdg;

/** One /daemon/call, timed to the end of the body; fails unless 200 from `source` (if given). */
async function timedCall(worker, source) {
  const start = performance.now();
  const response = await fetch(`${worker.url}/daemon/call`, { headers: { authorization } });
  const body = await response.text();
  const ms = performance.now() - start;
  const got = response.headers.get('x-edge-token-source');
  if (response.status !== 200) throw new Error(`/daemon/call answered ${response.status}: ${body}`);
  if (source && got !== source) throw new Error(`/daemon/call served from ${got}, not ${source}`);
  return { ms, source: got };
}

/** One untimed /daemon/call for the burst: its status and source, never throws. */
async function burstCall(worker) {
  try {
    const response = await fetch(`${worker.url}/daemon/call`, { headers: { authorization } });
    await response.arrayBuffer();
    return `${response.status} ${response.headers.get('x-edge-token-source')}`;
  } catch (err) {
    return `error ${err.cause?.code ?? err.message}`;
  }
}

const start = (config, vars, persistTo) => startWorker({ vars, persistTo, config, env: { XDG_CONFIG_HOME: xdg } });

/** Starts a front (fresh process, memory empty), warms its isolate with /healthz, times one call. */
async function restartedSample(config, vars, persistTo, source) {
  const front = await start(config, vars, persistTo);
  try {
    const health = await fetch(`${front.url}/healthz`);
    await health.arrayBuffer();
    return (await timedCall(front, source)).ms;
  } finally {
    await front.stop();
  }
}

/** `BURST` concurrent cold calls round-robin over `fronts`: token requests and outcomes. */
async function burst(fronts) {
  await tb.reset();
  const outcomes = await Promise.all(Array.from({ length: BURST }, (_, i) => burstCall(fronts[i % fronts.length])));
  const counts = outcomes.reduce((count, o) => ({ ...count, [o]: (count[o] ?? 0) + 1 }), {});
  return { calls: BURST, fronts: fronts.length, token_requests: (await tb.stats()).token_requests, outcomes: counts };
}

/** What the provider served since the last reset: token requests, discovery and key set GETs. */
async function providerFetches() {
  const { token_requests, discovery_requests, jwks_requests } = await tb.stats();
  return { token_requests, discovery_requests, jwks_requests };
}

/** `wrangler kv key …` on a stopped front's local KV (`config`, `persistTo`). */
async function kv(config, persistTo, ...args) {
  const { stdout } = await promisify(execFile)(path.join(BIN_DIR, 'wrangler'), [
    'kv', 'key', ...args, '--binding', 'TOKEN_CACHE', '--local', '--persist-to', persistTo, '--config', config,
  ], { cwd: REPO_ROOT, env: { ...process.env, XDG_CONFIG_HOME: xdg, CI: 'true', WRANGLER_SEND_METRICS: 'false' } });
  return stdout;
}

const settings = () => ({ ...daemonVars(tb, 'secretPost', { tokenCacheKey: newCookieKey() }), AUTHORITY_KIND: 'oidc' });

const began = performance.now();
const started = [];
try {
  const wasmFile = await findWorkerWasm();
  const wasm = await readFile(wasmFile);
  tb = await startTestbed();
  ({ authorization } = await callerToken(tb));
  xdg = await newDir('edge-token-measure-registry-');
  const configs = {
    coordinator: await workerConfig({ name: COORDINATOR, kv: false, coordinator: 'self' }),
    front: [], plain: [],
  };
  for (let n = 1; n <= FRONTS; n += 1) {
    configs.front.push(await workerConfig({ name: `edge-token-measure-front-${n}`, coordinator: COORDINATOR }));
    configs.plain.push(await workerConfig({ name: `edge-token-measure-plain-${n}` }));
  }
  const startedAt = (label) => console.log(`# ${label} (${round((performance.now() - began) / 1000)} s)`);

  // 1a and 1b: a front without coordinator; its first call puts the token in its KV.
  const vars = settings();
  const storeDir = await newDir('edge-token-measure-store-');
  const plain = await start(configs.plain[0], vars, storeDir);
  started.push(plain);
  const first = await timedCall(plain);
  startedAt(`first call: ${first.source}, ${round(first.ms)} ms; memory samples`);
  for (let i = 0; i < 5; i += 1) await timedCall(plain, 'memory');
  const memory = [];
  for (let i = 0; i < SAMPLES; i += 1) memory.push((await timedCall(plain, 'memory')).ms);
  await plain.stop();

  startedAt('store samples (a restart each)');
  await tb.reset();
  const restartStart = performance.now();
  const store = [];
  for (let i = 0; i < SAMPLES; i += 1) store.push(await restartedSample(configs.plain[0], vars, storeDir, 'store'));
  const restartSeconds = (performance.now() - restartStart) / 1000 / SAMPLES;
  const storeFetches = await providerFetches();

  // 1c: the coordinator gets the token through a first front, then cold fronts with empty KV.
  startedAt('coordinator samples (a restart and a new KV each)');
  const coordinator = await start(configs.coordinator, vars, await newDir('edge-token-measure-coordinator-'));
  started.push(coordinator);
  const seeded = await restartedSample(configs.front[0], vars, await newDir('edge-token-measure-front-'));
  await tb.reset();
  const viaCoordinator = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    const dir = await newDir('edge-token-measure-front-');
    viaCoordinator.push(await restartedSample(configs.front[0], vars, dir, 'coordinator'));
    await rm(dir, { recursive: true, force: true });
  }
  const coordinatorFetches = await providerFetches();

  // 1c again, the front's KV holding what the store samples had besides the token (discovery
  // and keys: `edge-token/v1/doc/…`): a template KV without the token (removed if the front
  // kept one; `template_kv_keys` lists what it held), copied for each sample.
  startedAt('coordinator samples, KV with discovery and keys (a restart and a copied KV each)');
  const template = await newDir('edge-token-measure-template-');
  await restartedSample(configs.front[0], vars, template, 'coordinator');
  const keys = JSON.parse(await kv(configs.front[0], template, 'list')).map(({ name }) => name);
  for (const key of keys.filter((name) => !name.startsWith('edge-token/v1/doc/'))) {
    await kv(configs.front[0], template, 'delete', key);
  }
  await tb.reset();
  const viaCoordinatorWarmKv = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    const dir = await newDir('edge-token-measure-front-');
    await cp(template, dir, { recursive: true });
    viaCoordinatorWarmKv.push(await restartedSample(configs.front[0], vars, dir, 'coordinator'));
    await rm(dir, { recursive: true, force: true });
  }
  const coordinatorWarmKvFetches = await providerFetches();
  await coordinator.stop();

  // 2: bursts of cold calls, with a fresh coordinator and without one (new key each time).
  startedAt(`${BURST} cold calls over ${FRONTS} fronts with a coordinator`);
  const burstVars = settings();
  const fronts = [await start(configs.coordinator, burstVars, await newDir('edge-token-measure-coordinator-'))];
  started.push(fronts[0]);
  for (const config of configs.front) {
    fronts.push(await start(config, burstVars, await newDir('edge-token-measure-front-')));
    started.push(fronts.at(-1));
  }
  const withCoordinator = await burst(fronts.slice(1));
  await Promise.all(fronts.map((front) => front.stop()));

  startedAt(`${BURST} cold calls over ${FRONTS} fronts without a coordinator`);
  const plainVars = settings();
  const plains = [];
  for (const config of configs.plain) {
    plains.push(await start(config, plainVars, await newDir('edge-token-measure-plain-')));
    started.push(plains.at(-1));
  }
  const withoutCoordinator = await burst(plains);
  await Promise.all(plains.map((front) => front.stop()));

  const latency = {
    memory: summary(memory), store: summary(store), coordinator: summary(viaCoordinator),
    coordinator_kv_with_discovery_and_keys: summary(viaCoordinatorWarmKv),
  };
  const extra = (source) => round(latency[source].median - latency.memory.median);
  const measurements = {
    measured_at: new Date().toISOString(),
    credential: 'client secret (client_secret_post), AUTHORITY_KIND=oidc',
    daemon_call_ms_by_source: latency,
    baseline_ms: { note: 'memory median: a /daemon/call whose token costs nothing', median: latency.memory.median },
    extra_median_ms_vs_memory: {
      store: extra('store'), coordinator: extra('coordinator'),
      coordinator_kv_with_discovery_and_keys: extra('coordinator_kv_with_discovery_and_keys'),
    },
    template_kv_keys: keys,
    first_call: { source: first.source, ms: round(first.ms) },
    coordinator_seeding_call_ms: round(seeded),
    seconds_per_restarted_sample: round(restartSeconds),
    provider_requests_during_samples: {
      store: storeFetches, coordinator: coordinatorFetches, coordinator_kv_with_discovery_and_keys: coordinatorWarmKvFetches,
    },
    token_requests_per_1000_cold_calls: { with_coordinator: withCoordinator, without_coordinator: withoutCoordinator },
    wasm: {
      file: path.relative(REPO_ROOT, wasmFile),
      raw_bytes: wasm.length,
      gzip_bytes: gzipSync(wasm, { level: 9 }).length,
      gzip_level: 9,
    },
    total_seconds: round((performance.now() - began) / 1000),
    environment: { node: process.version, runtime: 'wrangler dev (local workerd), one process per Worker' },
  };
  await mkdir(path.dirname(OUTPUT), { recursive: true });
  await writeFile(OUTPUT, `${JSON.stringify(measurements, null, 2)}\n`);
  console.log(JSON.stringify(measurements, null, 2));
  console.log(`written to ${path.relative(process.cwd(), OUTPUT) || OUTPUT}`);
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await Promise.all(started.map((worker) => worker.stop()));
  await tb?.stop();
  await stopAll();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
}
