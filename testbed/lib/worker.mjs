// Runs the edge-token Worker locally under `wrangler dev` (workerd, no Cloudflare account).
//
// Settings reach the Worker as `--var KEY:VALUE`. wrangler 4.164.0 splits each on its first
// colon only (`const [key, ...value] = v.split(":"); value.join(":")`), and the argument goes
// to wrangler without a shell, so URLs and multi-line PEM text arrive byte for byte (checked
// with a Worker echoing its env). An env file (`--env-file`) would also carry PEM, in double
// quotes, but dotenv parsing rewrites escapes and `$` expansions, and it would put secrets in a
// file; so --var it is. `--env-file /dev/null` is still passed: given no env file, wrangler
// loads `.dev.vars` or `.env` from the repository root, which would add settings a test did not
// choose (a stray CLIENT_ID would defeat the missing-CLIENT_ID test).
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

import { startProcess } from './processes.mjs';
import { BIN_DIR, LOG_DIR, REPO_ROOT } from './paths.mjs';

/** The first start builds the Rust Worker (wrangler.toml's [build] command): minutes. */
const READY_TIMEOUT_MS = 240_000;

/** What wrangler 4 prints once `wrangler dev` serves: `[wrangler:info] Ready on http://…`. */
export const WRANGLER_READY_LINE = /Ready on http:\/\/\S+/;

/**
 * Environment for a quiet, offline, accountless wrangler with Node 22 first on PATH, keeping
 * its own debug logs beside ours. The [build] command inherits it.
 */
function wranglerEnv() {
  return {
    ...process.env,
    PATH: `${BIN_DIR}${path.delimiter}${process.env.PATH}`,
    WRANGLER_LOG_PATH: LOG_DIR,
    CI: 'true',
    WRANGLER_SEND_METRICS: 'false',
    DO_NOT_TRACK: '1',
    WRANGLER_SEND_ERROR_REPORTS: 'false',
    WRANGLER_HIDE_BANNER: 'true',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  };
}

/**
 * A port free on 127.0.0.1 right now (the OS picks it). Tests that must know the Worker's URL
 * before it starts (to register it as a redirect URI) take one and give it to startWorker.
 */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `--var` arguments for each setting; undefined values are left out. */
function varArgs(vars) {
  return Object.entries(vars).flatMap(([key, value]) => {
    if (value === undefined) return [];
    if (key.includes(':')) throw new Error(`Worker setting name ${key} must not contain ':'`);
    return ['--var', `${key}:${value}`];
  });
}

/**
 * Starts `wrangler dev` from the repository root and waits until GET /healthz answers 200 (or,
 * with `readyLine`, until wrangler says it is ready: no request reaches the Worker first).
 *
 * @param {object} options
 * @param {Record<string, string | undefined>} options.vars Worker settings (AUTHORITY, CLIENT_ID, ...).
 * @param {string} options.persistTo Directory for local KV state; reuse it to keep the cache.
 * @param {number} [options.port] Default: a free port (see freePort).
 * @param {string} [options.config] A wrangler configuration file other than the top-level
 *   wrangler.toml (e.g. one binding another script's Durable Object).
 * @param {Record<string, string>} [options.env] Extra environment for wrangler (e.g. a private
 *   XDG_CONFIG_HOME, whose dev registry connects `wrangler dev` processes to each other).
 * @param {RegExp} [options.readyLine] Ready when wrangler's output has a line matching it (e.g.
 *   WRANGLER_READY_LINE) instead of when GET /healthz answers, so that the caller's first request
 *   is the Worker's first (measure-load.mjs times a fresh isolate's first request).
 * @param {number} [options.pollMs] How often readiness is checked, in ms; default 200.
 * @returns {Promise<{url: string, persistTo: string, pid: number, logFile: string, stop: () => Promise<void>,
 *   kill: () => void}>}
 */
export async function startWorker({ vars, persistTo, port, config, env = {}, readyLine, pollMs }) {
  const listenPort = port ?? await freePort();
  const url = `http://127.0.0.1:${listenPort}`;
  const worker = await startProcess({
    name: 'worker',
    command: path.join(BIN_DIR, 'wrangler'),
    args: [
      'dev',
      '--ip', '127.0.0.1',
      '--port', String(listenPort),
      '--persist-to', persistTo,
      '--env-file', '/dev/null',
      '--show-interactive-dev-session=false',
      ...(config ? ['--config', config] : []),
      ...varArgs(vars),
    ],
    cwd: REPO_ROOT,
    env: { ...wranglerEnv(), ...env },
    ...(readyLine ? { readyLine } : { readyUrl: `${url}/healthz` }),
    timeoutMs: READY_TIMEOUT_MS,
    pollMs,
  });
  return {
    url,
    persistTo,
    /** wrangler's process id, also its process group's (workerd and its other children). */
    pid: worker.pid,
    logFile: worker.logFile,
    stop: () => worker.stop(),
    /** SIGKILL to the whole process group, as a crash would. */
    kill: () => {
      try { process.kill(-worker.pid, 'SIGKILL'); } catch { /* already gone */ }
    },
  };
}

let built;
/**
 * Builds the reference Worker into build/ (scripts/build-worker.sh; skipped when up to date),
 * once per process: what configurations from workerConfig run, having no [build] step.
 */
export function buildWorker() {
  built ??= promisify(execFile)('bash', [path.join(REPO_ROOT, 'scripts', 'build-worker.sh')], {
    cwd: REPO_ROOT, env: wranglerEnv(), timeout: 900_000, maxBuffer: 16 * 1024 * 1024,
  });
  return built;
}

/**
 * Writes a wrangler configuration for the reference Worker's built wasm (build/; see
 * buildWorker) under target/wrangler/ and returns its path: the script `name`, the TOKEN_CACHE
 * KV namespace (unless `kv` is false), and the token coordinator: none (default), the class in
 * this very script (`coordinator: 'self'`, with its migration), or another script's
 * (`coordinator: '<script name>'`, found through the dev registry).
 *
 * @param {object} options
 * @param {string} options.name
 * @param {boolean} [options.kv]
 * @param {string} [options.coordinator]
 */
export async function workerConfig({ name, kv = true, coordinator }) {
  const dir = path.join(REPO_ROOT, 'target', 'wrangler');
  await mkdir(dir, { recursive: true });
  const main = path.relative(dir, path.join(REPO_ROOT, 'build', 'worker', 'shim.mjs'));
  const lines = [`name = "${name}"`, `main = "${main}"`, 'compatibility_date = "2025-09-01"'];
  if (kv) lines.push('[[kv_namespaces]]', 'binding = "TOKEN_CACHE"', 'id = "00000000000000000000000000000000"');
  if (coordinator) {
    lines.push('[[durable_objects.bindings]]', 'name = "TOKEN_COORDINATOR"', 'class_name = "TokenCoordinator"');
    if (coordinator === 'self') lines.push('[[migrations]]', 'tag = "v1"', 'new_sqlite_classes = ["TokenCoordinator"]');
    else lines.push(`script_name = "${coordinator}"`);
  }
  const file = path.join(dir, `${name}.toml`);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}
