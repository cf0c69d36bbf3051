// Measures what edge-token adds to a request under load (issue 18): the reference Worker's
// cached GET /daemon/call against a baseline Worker (bench/baseline-worker: a minimal
// workers-rs Worker calling the same downstream API with a fixed token), both under
// `wrangler dev` with the same downstream from the test bed, in the same run.
//
// - Load: LOAD_REQUESTS (default 1000) requests at each concurrency of LOAD_CONCURRENCY
//   (default "1 50 500"), from a simple pool of that many clients (Node's fetch, keep-alive):
//   requests per second and p50 / p99 latency (nearest rank). Both Workers are warmed first
//   (edge-token's token cached in isolate memory: every measured answer must say
//   `x-edge-token-source: memory`). LOAD_ROUNDS rounds (default 3); in each, every concurrency
//   runs every target back to back, the order alternating from round to round (A B, B A, ...)
//   against drift on a shared machine; the medians of the rounds are reported, and the ratios
//   edge-token / baseline (median of each round's ratio).
//   edge-token's figure includes the validation of the caller's bearer token (/daemon/call is
//   protected: the same valid caller token is sent on every request); the baseline checks no caller.
// - Attribution (LOAD_ATTRIBUTION=0 leaves it out): the same loads of the reference Worker with
//   DAEMON_PUBLIC=true (no caller validation), its /healthz (no work), the baseline's /static
//   (no downstream: the Worker plus wrangler's local proxy) and the downstream straight from Node
//   (no Worker). Every run also records the CPU time per request of each process involved (from
//   /proc, Linux): this script (the client), wrangler's node processes, the workerd serving the
//   port called (wrangler's proxy worker), the workerd running the Worker, and the downstream:
//   CPU time does not grow when other work delays a process, so it attributes better than latency
//   on a busy machine.
// - Startup (LOAD_STARTS rounds, default 3; 0 leaves it out): a fresh `wrangler dev` of each
//   built Worker (no [build] step), timed from process start to wrangler's "Ready on" line, then
//   its first request and a second one: /healthz, and (another fresh start) the call route
//   (edge-token's first /daemon/call finds the app token in KV from the load run but fetches the
//   provider's discovery and keys to validate the caller).
//
// Prints tables and writes target/load.json. Reports numbers only: nothing is asserted about
// timings. The client, wrangler, workerd, the provider and the downstream share the machine's
// cores, so the figures are this machine's, noisy when other work runs.
//
//   testbed/node_modules/.bin/node testbed/measure-load.mjs
//   LOAD_CONCURRENCY="1 50" LOAD_ROUNDS=1 LOAD_STARTS=0 testbed/node_modules/.bin/node testbed/measure-load.mjs
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

import { integerFromEnv, listFromEnv } from './lib/env.mjs';
import { BIN_DIR, REPO_ROOT } from './lib/paths.mjs';
import { stopAll } from './lib/processes.mjs';
import {
  callerToken, clientCredentialsToken, clients, daemonVars, DOWNSTREAM_SCOPE, newCookieKey, startTestbed,
} from './lib/testbed.mjs';
import { findWorkerWasm } from './lib/wasm.mjs';
import { buildWorker, startWorker, workerConfig, WRANGLER_READY_LINE } from './lib/worker.mjs';

const REQUESTS = integerFromEnv('LOAD_REQUESTS', 1000);
const CONCURRENCIES = listFromEnv('LOAD_CONCURRENCY', ['1', '50', '500']).map((value) => {
  if (!/^[1-9]\d*$/.test(value)) throw new Error(`LOAD_CONCURRENCY: ${JSON.stringify(value)} is not a positive integer`);
  return Number(value);
});
const ROUNDS = Math.max(1, integerFromEnv('LOAD_ROUNDS', 3));
const STARTS = integerFromEnv('LOAD_STARTS', 3);
const ATTRIBUTION = integerFromEnv('LOAD_ATTRIBUTION', 1) !== 0;
/** Requests (at concurrency 10) each target answers before it is measured. */
const WARMUP_REQUESTS = 200;
/** How often a fresh `wrangler dev`'s output is read for its ready line, in ms. */
const READY_POLL_MS = 10;
const TOKEN_SOURCE_HEADER = 'x-edge-token-source';

const BASELINE_DIR = path.join(REPO_ROOT, 'bench', 'baseline-worker');
const BASELINE_CONFIG = path.join(BASELINE_DIR, 'wrangler.toml');
const BASELINE_BUILD_DIR = path.join(REPO_ROOT, 'target', 'baseline-worker', 'build');
const OUTPUT = path.join(REPO_ROOT, 'target', 'load.json');

/** Builds the baseline Worker (bench/baseline-worker/build.sh; skipped when up to date). */
function buildBaseline() {
  return promisify(execFile)('bash', [path.join(BASELINE_DIR, 'build.sh')], {
    cwd: REPO_ROOT,
    env: { ...process.env, PATH: `${BIN_DIR}${path.delimiter}${process.env.PATH}` },
    timeout: 900_000,
    maxBuffer: 16 * 1024 * 1024,
  });
}

async function wasmSize(file) {
  const bytes = await readFile(file);
  return { file: path.relative(REPO_ROOT, file), raw: bytes.length, gzip9: gzipSync(bytes, { level: 9 }).length };
}

/** Nearest-rank percentile of ascending `sorted`. */
const percentile = (sorted, p) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const round = (value, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
const count = (tally, key) => { tally[key] = (tally[key] ?? 0) + 1; };

/** Linux clock ticks per second (`getconf CLK_TCK`), the unit of /proc/<pid>/stat CPU times. */
const CLOCK_TICKS_PER_SECOND = 100;

/** The processes on the machine: pid, parent, process group, CPU time (user + system, ms), command line. */
async function processes() {
  const found = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces, in parentheses): state ppid pgrp ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      found.push({
        pid: Number(entry),
        ppid: Number(fields[1]),
        pgrp: Number(fields[2]),
        cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND,
        cmdline,
      });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * CPU time used so far (ms) by role: this script (the load client), the downstream, and for each
 * of `workers` (their wrangler process groups): `wrangler` (its node processes), `proxy` (the
 * workerd serving the port we call: wrangler's proxy worker) and `runtime` (the other workerd,
 * running the Worker itself).
 */
async function cpuSnapshot(workers) {
  const all = await processes();
  const usage = process.cpuUsage();
  const snapshot = { client: (usage.user + usage.system) / 1000, downstream: 0 };
  for (const p of all) {
    if (p.ppid === process.pid && p.cmdline.includes('downstream.mjs')) snapshot.downstream += p.cpuMs;
  }
  for (const worker of workers) {
    const port = new URL(worker.url).port;
    for (const p of all.filter((x) => x.pgrp === worker.pid)) {
      let role = 'wrangler';
      if (p.cmdline.includes('workerd')) role = p.cmdline.includes(`entry=127.0.0.1:${port} `) ? 'proxy' : 'runtime';
      snapshot[role] = (snapshot[role] ?? 0) + p.cpuMs;
    }
  }
  return snapshot;
}

/** CPU ms per request by role between two snapshots. */
const cpuPerRequest = (before, after, requests) => Object.fromEntries(
  Object.keys(after).map((role) => [role, (after[role] - (before[role] ?? 0)) / requests]),
);

/**
 * `total` GETs of `target.url` from `concurrency` clients, each sending its next request as soon
 * as its previous answer's body has arrived. Latency: request start to end of body.
 */
async function load(target, concurrency, total) {
  const latencies = [];
  const statuses = {};
  const sources = {};
  const errors = {};
  let next = 0;
  async function client() {
    while (next < total) {
      next += 1;
      const start = performance.now();
      try {
        const response = await fetch(target.url, { headers: target.headers });
        await response.arrayBuffer();
        latencies.push(performance.now() - start);
        count(statuses, response.status);
        const source = response.headers.get(TOKEN_SOURCE_HEADER);
        if (source) count(sources, source);
      } catch (err) {
        count(errors, err.cause?.code ?? err.name);
      }
    }
  }
  const cpuBefore = await cpuSnapshot(target.workers ?? []);
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, client));
  const seconds = (performance.now() - start) / 1000;
  const cpu = cpuPerRequest(cpuBefore, await cpuSnapshot(target.workers ?? []), total);
  latencies.sort((a, b) => a - b);
  return {
    rps: total / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpu,
    statuses,
    sources,
    errors,
  };
}

/** Warms `target` and checks its answers: all 200 (and, when `target.source`, all from there). */
async function warm(target) {
  const result = await load(target, 10, WARMUP_REQUESTS);
  const ok = result.statuses[200] === WARMUP_REQUESTS
    && (!target.source || result.sources[target.source] === WARMUP_REQUESTS);
  if (!ok) {
    throw new Error(`${target.name}: warm-up answers ${JSON.stringify({
      statuses: result.statuses, sources: result.sources, errors: result.errors,
    })}`);
  }
}

/** One GET timed to the end of its body. */
async function timedGet(url, headers) {
  const start = performance.now();
  const response = await fetch(url, { headers });
  await response.arrayBuffer();
  return { ms: performance.now() - start, status: response.status, source: response.headers.get(TOKEN_SOURCE_HEADER) };
}

/**
 * A fresh `wrangler dev` of `worker` (ready on wrangler's line: no request before ours), timed
 * from process start to ready, then its first and second GET of `route`.
 */
async function freshStart(worker, route) {
  const started = performance.now();
  const running = await startWorker({ ...worker.start, readyLine: WRANGLER_READY_LINE, pollMs: READY_POLL_MS });
  const readyMs = performance.now() - started;
  try {
    const first = await timedGet(`${running.url}${route}`, worker.headers);
    const second = await timedGet(`${running.url}${route}`, worker.headers);
    if (first.status !== 200 || second.status !== 200) {
      throw new Error(`${worker.name} ${route} answered ${first.status}, ${second.status}`);
    }
    return { readyMs, firstMs: first.ms, secondMs: second.ms, firstSource: first.source };
  } finally {
    await running.stop();
  }
}

/** The sum of `tallies` ({ key: count } objects). */
function addTallies(tallies) {
  const sum = {};
  for (const tally of tallies) for (const [key, n] of Object.entries(tally)) sum[key] = (sum[key] ?? 0) + n;
  return sum;
}

/** One target at one concurrency over the rounds: medians, CPU per request by role, each round. */
const summarise = (runs) => ({
  rps: round(median(runs.map((r) => r.rps)), 0),
  p50_ms: round(median(runs.map((r) => r.p50)), 2),
  p99_ms: round(median(runs.map((r) => r.p99)), 2),
  cpu_ms_per_request: Object.fromEntries(Object.keys(runs[0].cpu).map((role) => [
    role, round(median(runs.map((r) => r.cpu[role])), 3),
  ])),
  rounds: runs.map((r) => ({ rps: round(r.rps, 0), p50_ms: round(r.p50, 2), p99_ms: round(r.p99, 2) })),
  statuses: addTallies(runs.map((r) => r.statuses)),
  sources: addTallies(runs.map((r) => r.sources)),
  errors: addTallies(runs.map((r) => r.errors)),
});

/** edge-token / baseline per round (time ratios; for throughput baseline / edge-token), median. */
const ratios = (edge, base) => ({
  rps: round(median(edge.map((e, i) => base[i].rps / e.rps)), 3),
  p50: round(median(edge.map((e, i) => e.p50 / base[i].p50)), 3),
  p99: round(median(edge.map((e, i) => e.p99 / base[i].p99)), 3),
});

const scratch = await mkdtemp(path.join(tmpdir(), 'edge-token-load-'));
const results = {};
try {
  const loadavgBefore = loadavg();
  await buildWorker();
  await buildBaseline();
  const tb = await startTestbed();
  const { authorization } = await callerToken(tb);
  // The baseline's fixed token: an app token for the downstream straight from the provider
  // (client credentials, the daemon's secret client), as the reference Worker gets one.
  const fixedToken = await clientCredentialsToken(tb, clients.secretPost, DOWNSTREAM_SCOPE);
  const downstreamUrl = `${tb.downstreamUrl}/api/whoami`;
  const tokenCacheKey = newCookieKey();
  // A private dev registry: these Workers bind nothing, and other wranglers' registries stay apart.
  const env = { XDG_CONFIG_HOME: path.join(scratch, 'xdg') };

  const workers = {
    'edge-token': {
      name: 'edge-token',
      route: '/daemon/call',
      headers: { authorization },
      start: {
        vars: daemonVars(tb, 'certificate', { tokenCacheKey }),
        persistTo: path.join(scratch, 'edge-token'),
        config: await workerConfig({ name: 'edge-token-load' }),
        env,
      },
    },
    baseline: {
      name: 'baseline',
      route: '/call',
      headers: {},
      start: {
        vars: { DOWNSTREAM_URL: downstreamUrl, DOWNSTREAM_TOKEN: fixedToken },
        persistTo: path.join(scratch, 'baseline'),
        config: BASELINE_CONFIG,
        env,
      },
    },
  };
  const edge = await startWorker(workers['edge-token'].start);
  const base = await startWorker(workers.baseline.start);
  const targets = [
    { name: 'edge-token', url: `${edge.url}/daemon/call`, headers: { authorization }, source: 'memory', workers: [edge] },
    { name: 'baseline', url: `${base.url}/call`, headers: {}, workers: [base] },
  ];
  let open;
  if (ATTRIBUTION) {
    open = await startWorker({
      vars: daemonVars(tb, 'certificate', { public: true }),
      persistTo: path.join(scratch, 'edge-token-public'),
      config: await workerConfig({ name: 'edge-token-load-public' }),
      env,
    });
    targets.push(
      { name: 'edge-token DAEMON_PUBLIC', url: `${open.url}/daemon/call`, headers: {}, source: 'memory', workers: [open] },
      { name: 'edge-token /healthz', url: `${edge.url}/healthz`, headers: {}, workers: [edge] },
      { name: 'baseline /static', url: `${base.url}/static`, headers: {}, workers: [base] },
      { name: 'downstream direct', url: downstreamUrl, headers: { authorization: `Bearer ${fixedToken}` } },
    );
  }

  // The first /daemon/call acquires the app token (provider); the warm-up then finds it in memory.
  for (const target of targets.filter((t) => t.source)) {
    const cold = await timedGet(target.url, target.headers);
    if (cold.status !== 200) throw new Error(`${target.name}: cold call answered ${cold.status}`);
  }
  for (const target of targets) await warm(target);

  const runs = Object.fromEntries(targets.map((t) => [t.name, Object.fromEntries(CONCURRENCIES.map((c) => [c, []]))]));
  for (let r = 0; r < ROUNDS; r += 1) {
    for (const concurrency of CONCURRENCIES) {
      const order = r % 2 === 0 ? targets : [...targets].reverse();
      for (const target of order) runs[target.name][concurrency].push(await load(target, concurrency, REQUESTS));
    }
  }
  await Promise.all([edge.stop(), base.stop(), open?.stop()]);

  results.load = Object.fromEntries(CONCURRENCIES.map((c) => [c, {
    ...Object.fromEntries(targets.map((t) => [t.name, summarise(runs[t.name][c])])),
    ratio_edge_token_to_baseline: ratios(runs['edge-token'][c], runs.baseline[c]),
  }]));

  const starts = { 'edge-token': { '/healthz': [], call: [] }, baseline: { '/healthz': [], call: [] } };
  for (let s = 0; s < STARTS; s += 1) {
    const order = s % 2 === 0 ? ['edge-token', 'baseline'] : ['baseline', 'edge-token'];
    for (const name of order) {
      const worker = workers[name];
      starts[name]['/healthz'].push(await freshStart(worker, '/healthz'));
      starts[name].call.push(await freshStart(worker, worker.route));
    }
  }
  if (STARTS > 0) {
    results.startup = Object.fromEntries(Object.entries(starts).map(([name, byRoute]) => [name, {
      wasm: null,
      ...Object.fromEntries(Object.entries(byRoute).map(([route, list]) => [
        route === 'call' ? workers[name].route : route,
        {
          ready_ms: round(median(list.map((x) => x.readyMs))),
          first_request_ms: round(median(list.map((x) => x.firstMs))),
          second_request_ms: round(median(list.map((x) => x.secondMs))),
          first_sources: list.map((x) => x.firstSource).filter(Boolean),
          starts: list.map((x) => ({
            ready_ms: round(x.readyMs), first_ms: round(x.firstMs), second_ms: round(x.secondMs),
          })),
        },
      ])),
    }]));
  }
  results.wasm = {
    'edge-token': await wasmSize(await findWorkerWasm()),
    baseline: await wasmSize(await findWorkerWasm(BASELINE_BUILD_DIR)),
  };
  results.settings = {
    requests: REQUESTS, concurrencies: CONCURRENCIES, rounds: ROUNDS, starts: STARTS, warmup_requests: WARMUP_REQUESTS,
    notes: [
      "edge-token: the reference Worker's GET /daemon/call, the app token cached in isolate memory; includes the validation of the caller's bearer token (the same valid token on every request)",
      'baseline: bench/baseline-worker GET /call, a fixed token from a var, no caller check',
      'ratios: edge-token / baseline latency, baseline / edge-token throughput; median of per-round ratios',
      'one machine for client, wrangler, workerd, provider and downstream: figures are noisy when other work runs',
    ],
  };
  results.environment = {
    node: process.version,
    runtime: 'wrangler dev (local workerd)',
    cpus: cpus().length,
    loadavg_before: loadavgBefore.map((x) => round(x, 2)),
    loadavg_after: loadavg().map((x) => round(x, 2)),
    measured_at: new Date().toISOString(),
  };
  await tb.stop();
} finally {
  await stopAll();
  await rm(scratch, { recursive: true, force: true });
}
if (results.startup) {
  for (const name of Object.keys(results.startup)) results.startup[name].wasm = results.wasm[name];
}

await mkdir(path.dirname(OUTPUT), { recursive: true });
await writeFile(OUTPUT, `${JSON.stringify(results, null, 2)}\n`);

const cell = (value, width) => String(value).padStart(width);
console.log(`Load: ${REQUESTS} requests per run, median of ${ROUNDS} rounds (edge-token includes the caller's bearer validation)`);
console.log('conc  target                      req/s   p50 ms   p99 ms  errors');
for (const [concurrency, byTarget] of Object.entries(results.load)) {
  for (const [name, r] of Object.entries(byTarget)) {
    if (name === 'ratio_edge_token_to_baseline') {
      const within = [r.rps, r.p50, r.p99].every((ratio) => ratio <= 1.1) ? 'within' : 'not within';
      console.log(`${cell(concurrency, 4)}  ${'ratio edge-token/baseline'.padEnd(26)} ${cell(`x${r.rps}`, 7)} ${cell(`x${r.p50}`, 8)} ${cell(`x${r.p99}`, 8)}  (${within} the x1.1 target)`);
    } else {
      const errors = Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(', ')
        + Object.entries(r.statuses).filter(([k]) => k !== '200').map(([k, v]) => ` ${k}: ${v}`).join(',');
      console.log(`${cell(concurrency, 4)}  ${name.padEnd(26)} ${cell(r.rps, 7)} ${cell(r.p50_ms, 8)} ${cell(r.p99_ms, 8)}  ${errors || '-'}`);
    }
  }
}
const ROLES = ['client', 'wrangler', 'proxy', 'runtime', 'downstream'];
console.log('\nCPU ms per request (median of the rounds; client: this script, wrangler: its node processes,');
console.log('proxy: the workerd serving the port called, runtime: the workerd running the Worker)');
console.log(`conc  target                     ${ROLES.map((role) => role.padStart(11)).join('')}     total`);
for (const [concurrency, byTarget] of Object.entries(results.load)) {
  for (const [name, r] of Object.entries(byTarget)) {
    if (!r.cpu_ms_per_request) continue;
    const cells = ROLES.map((role) => cell(r.cpu_ms_per_request[role] ?? '-', 11)).join('');
    const total = round(Object.values(r.cpu_ms_per_request).reduce((a, b) => a + b, 0), 3);
    console.log(`${cell(concurrency, 4)}  ${name.padEnd(26)} ${cells} ${cell(total, 9)}`);
  }
}
if (results.startup) {
  console.log(`\nFresh wrangler dev, median of ${STARTS} starts (ready: process start to wrangler's "Ready on")`);
  console.log('worker      wasm gzip-9 B  first route      ready ms  first req ms  second req ms  (first source)');
  for (const [name, s] of Object.entries(results.startup)) {
    for (const [route, r] of Object.entries(s)) {
      if (route === 'wasm') continue;
      console.log(`${name.padEnd(11)} ${cell(s.wasm.gzip9, 13)}  ${route.padEnd(15)} ${cell(r.ready_ms, 9)} ${cell(r.first_request_ms, 13)} ${cell(r.second_request_ms, 14)}  ${r.first_sources.join(' ')}`);
    }
  }
}
const { loadavg_before: before, loadavg_after: after } = results.environment;
console.log(`\nload average (1, 5, 15 min) before ${before.join(' ')}, after ${after.join(' ')} on ${results.environment.cpus} CPUs: other work on the machine makes these figures noisy`);
console.log(`written to ${path.relative(REPO_ROOT, OUTPUT)}`);
