// Starts edge-token's reference app on each edge runtime with given settings (the daemon's, the
// web app's or the web API's: the apps serve every scenario's routes), so one test description
// can run on all of them:
//
//   workers  the reference Worker under `wrangler dev` (see worker.mjs);
//   fastly   apps/fastly under Viceroy, Fastly's local runtime: settings in a Config Store,
//            secrets in a Secret Store, tokens and sessions in a KV Store, all declared in a fastly.toml
//            written for each start (secrets are read from viceroy's environment, never
//            written to the file);
//   spin     apps/spin built with feature `wasmtime` under `wasmtime serve`: settings in the
//            component's environment, tokens and sessions in memory (wasmtime has no Spin variables or
//            key-value; the component's WASI HTTP path is the same).
//
// The Fastly and Spin apps are built first with scripts/build-apps.sh (once per process; cargo
// skips what is up to date). Tools: `viceroy` on PATH (cargo install), wasmtime under .tools/
// (scripts/install-tools.sh).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { REPO_ROOT } from './paths.mjs';
import { startProcess } from './processes.mjs';
import { freePort, startWorker } from './worker.mjs';

/** The runtimes, in the order tests run them. */
export const RUNTIMES = ['workers', 'fastly', 'spin'];

/** Pinned with scripts/install-tools.sh. */
export const WASMTIME = path.join(REPO_ROOT, '.tools', 'wasmtime-49.0.4', 'wasmtime_cli', 'wasmtime');
export const VICEROY = 'viceroy';
export const APPS_DIR = path.join(REPO_ROOT, 'target', 'edge-apps');

/** Settings that are secrets: in the Fastly app they come from its Secret Store only. */
const FASTLY_SECRETS = new Set(['AZURE_AD', 'CLIENT_SECRET', 'CLIENT_PRIVATE_KEY', 'CLIENT_ASSERTION', 'COOKIE_KEY', 'TOKEN_CACHE_KEY']);

const APP_READY_TIMEOUT_MS = 60_000;
const BUILD_TIMEOUT_MS = 900_000;

let built;
/** Builds the Fastly and Spin apps (release) once per process. */
export function buildApps() {
  built ??= promisify(execFile)('bash', [path.join(REPO_ROOT, 'scripts', 'build-apps.sh')], {
    cwd: REPO_ROOT, timeout: BUILD_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024,
  });
  return built;
}

/** Settings without the undefined ones. */
const defined = (vars) => Object.entries(vars).filter(([, value]) => value !== undefined);

/** A TOML basic string or quoted key (JSON string escapes are valid TOML ones). */
const toml = (text) => JSON.stringify(text);

/**
 * fastly.toml for the reference app: `settings` in the Config Store, secrets in the Secret
 * Store read from the environment variables named in the returned `env`, an empty KV Store,
 * and a configured backend for the identity provider's origin (other origins use dynamic
 * backends, so both paths of the transport run).
 */
export function fastlyManifest(vars) {
  const config = [];
  const secrets = [];
  const env = {};
  for (const [key, value] of defined(vars)) {
    if (FASTLY_SECRETS.has(key)) {
      const variable = `EDGE_TOKEN_SECRET_${key}`;
      env[variable] = value;
      secrets.push(`{ key = ${toml(key)}, env = ${toml(variable)} }`);
    } else {
      config.push(`${toml(key)} = ${toml(value)}`);
    }
  }
  const lines = [
    'manifest_version = 3',
    'name = "edge-token-daemon-test"',
    'language = "rust"',
    '',
    '[local_server.kv_stores]',
    'token_cache = []',
    '',
    '[local_server.config_stores.edge_token_config]',
    'format = "inline-toml"',
    '[local_server.config_stores.edge_token_config.contents]',
    ...config,
    '',
    '[local_server.secret_stores]',
    `edge_token_secrets = [${secrets.join(', ')}]`,
  ];
  let authority;
  try {
    authority = new URL(vars.AUTHORITY);
  } catch {
    authority = undefined;
  }
  if (authority) {
    lines.push('', `[local_server.backends.${toml(authority.origin)}]`, `url = ${toml(authority.origin)}`);
  }
  return { manifest: `${lines.join('\n')}\n`, env };
}

async function startFastly({ vars, port }) {
  const dir = await mkdtemp(path.join(tmpdir(), 'edge-token-fastly-'));
  const { manifest, env } = fastlyManifest(vars);
  const manifestFile = path.join(dir, 'fastly.toml');
  await writeFile(manifestFile, manifest);
  const url = `http://127.0.0.1:${port}`;
  let app;
  try {
    app = await startProcess({
      name: 'viceroy',
      command: VICEROY,
      args: ['serve', '--addr', `127.0.0.1:${port}`, '-C', manifestFile, path.join(APPS_DIR, 'fastly.wasm')],
      env: { ...process.env, ...env },
      readyUrl: `${url}/healthz`,
      timeoutMs: APP_READY_TIMEOUT_MS,
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    logFile: app.logFile,
    stop: async () => {
      await app.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function startSpin({ vars, port }) {
  const url = `http://127.0.0.1:${port}`;
  const app = await startProcess({
    name: 'wasmtime',
    command: WASMTIME,
    args: [
      'serve', '-Scli', '--addr', `127.0.0.1:${port}`,
      // One instance for the whole run: the memory cache, and under wasmtime the sessions,
      // live in it. Kept while idle, never retired after its default 128 requests, and never
      // split into several for concurrent requests (each would have its own memory).
      '--idle-instance-timeout', '600s',
      '--max-instance-reuse-count', '1000000',
      '--max-instance-concurrent-reuse-count', '1000',
      // argv, no shell: PEM text and URLs arrive byte for byte.
      ...defined(vars).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
      path.join(APPS_DIR, 'spin-wasmtime.wasm'),
    ],
    readyUrl: `${url}/healthz`,
    timeoutMs: APP_READY_TIMEOUT_MS,
  });
  return { url, logFile: app.logFile, stop: () => app.stop() };
}

/**
 * Starts the reference app on `runtime` with `vars` (settings named as in wrangler.toml) and waits
 * until GET /healthz answers 200.
 *
 * @param {'workers' | 'fastly' | 'spin'} runtime
 * @param {object} options
 * @param {Record<string, string | undefined>} options.vars
 * @param {string} [options.persistTo] Workers only: directory for local KV state.
 * @param {number} [options.port] Default: a free port (a test that registers the app's URL
 *   with the provider chooses it first, see freePort).
 * @returns {Promise<{runtime: string, url: string, logFile: string, stop: () => Promise<void>}>}
 */
export async function startRuntime(runtime, { vars, persistTo, port: chosen }) {
  const port = chosen ?? await freePort();
  switch (runtime) {
    case 'workers': {
      const dir = persistTo ?? await mkdtemp(path.join(tmpdir(), 'edge-token-kv-'));
      const worker = await startWorker({ vars, persistTo: dir, port });
      return {
        runtime,
        url: worker.url,
        logFile: worker.logFile,
        stop: async () => {
          await worker.stop();
          if (!persistTo) await rm(dir, { recursive: true, force: true });
        },
      };
    }
    case 'fastly':
      await buildApps();
      return { runtime, ...await startFastly({ vars, port }) };
    case 'spin':
      await buildApps();
      return { runtime, ...await startSpin({ vars, port }) };
    default:
      throw new Error(`unknown runtime ${runtime}`);
  }
}
