// The README's quick start as a user runs it: its three marked blocks (Cargo.toml, src/lib.rs,
// wrangler.toml) become a new cargo project outside the repository, built with worker-build and
// run under `wrangler dev`. The only change to the blocks is the dependency's path, which the
// README writes for a checkout beside the user's project.
//
// In the README each block is a fenced code block right after a marker line:
//
//     <!-- quickstart: Cargo.toml -->
//     ```toml
//     ...
//     ```
import { spawn } from 'node:child_process';
import {
  accessSync, closeSync, constants, mkdirSync, openSync, readFileSync,
} from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { startProcess } from './processes.mjs';
import { BIN_DIR, LOG_DIR, REPO_ROOT, TESTBED_DIR } from './paths.mjs';
import { freePort } from './worker.mjs';

export const README_PATH = path.join(REPO_ROOT, 'README.md');
/** The blocks, by marker name: the info string their fence must carry and the file they become. */
export const QUICKSTART_BLOCKS = {
  'Cargo.toml': { lang: 'toml', file: 'Cargo.toml' },
  'src/lib.rs': { lang: 'rust', file: path.join('src', 'lib.rs') },
  'wrangler.toml': { lang: 'toml', file: 'wrangler.toml' },
};
/** The dependency as the README writes it, and the adapter crate it names in this checkout. */
export const README_DEPENDENCY = 'edge-token-cloudflare = { path = "../edge-token/crates/edge-token-cloudflare" }';
export const ADAPTER_DIR = path.join(REPO_ROOT, 'crates', 'edge-token-cloudflare');
/** Shared by every run so that rebuilds are incremental (gitignored with the rest of target/). */
export const QUICKSTART_TARGET_DIR = path.join(REPO_ROOT, 'target', 'quickstart');

const MARKER = /^<!-- quickstart: (.+?) -->\n```([^\n]*)\n([\s\S]*?)^```$/gm;

/**
 * The quick start's blocks from README text: `{'Cargo.toml': text, 'src/lib.rs': text,
 * 'wrangler.toml': text}`. Throws unless each marker is there exactly once, right before a fence
 * with the expected info string, and no other marker is.
 */
export function extractQuickstartBlocks(readme) {
  const blocks = {};
  const markers = readme.match(/<!-- quickstart:[^\n]*/g) ?? [];
  for (const match of readme.replaceAll('\r\n', '\n').matchAll(MARKER)) {
    const [, name, lang, body] = match;
    const expected = QUICKSTART_BLOCKS[name];
    if (!expected) throw new Error(`README: unknown quick start block ${JSON.stringify(name)}`);
    if (name in blocks) throw new Error(`README: quick start block ${name} appears twice`);
    if (lang.trim() !== expected.lang) {
      throw new Error(`README: quick start block ${name} is fenced as ${JSON.stringify(lang)}, expected ${expected.lang}`);
    }
    blocks[name] = body;
  }
  for (const name of Object.keys(QUICKSTART_BLOCKS)) {
    if (!(name in blocks)) throw new Error(`README: no "<!-- quickstart: ${name} -->" line right before a fenced block`);
  }
  if (markers.length !== Object.keys(QUICKSTART_BLOCKS).length) {
    throw new Error(`README: ${markers.length} quick start markers, expected ${Object.keys(QUICKSTART_BLOCKS).length}: ${markers.join(', ')}`);
  }
  return blocks;
}

/**
 * Writes the blocks into `dir` as a cargo project, the dependency's path pointing at
 * `adapterDir` (absolute) instead of ../edge-token/...: the one edit. Returns the files written.
 */
export async function writeQuickstartProject(dir, blocks, adapterDir = ADAPTER_DIR) {
  const cargoToml = blocks['Cargo.toml'];
  const occurrences = cargoToml.split(README_DEPENDENCY).length - 1;
  if (occurrences !== 1) {
    throw new Error(`README Cargo.toml block: expected the line ${README_DEPENDENCY} once, found it ${occurrences} times`);
  }
  const contents = {
    ...blocks,
    'Cargo.toml': cargoToml.replace(
      README_DEPENDENCY,
      `edge-token-cloudflare = { path = ${JSON.stringify(adapterDir)} }`,
    ),
  };
  const written = [];
  for (const [name, { file }] of Object.entries(QUICKSTART_BLOCKS)) {
    const target = path.join(dir, file);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, contents[name]);
    written.push(target);
  }
  return written;
}

/** `command` as found on PATH, or an error naming what installs it. */
function which(command, env) {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new Error(`${command} not on PATH: run scripts/install-tools.sh`);
}

/**
 * The environment of the build and of `wrangler dev` (which runs the [build] command again):
 * npm binaries (Node 22, wrangler) first on PATH, worker-build pointed at the local wasm-bindgen,
 * esbuild and wasm-opt (nothing downloaded), the shared target dir, and a quiet, offline,
 * accountless wrangler whose config and dev registry live in `xdgConfigHome`.
 */
export function quickstartEnv({ xdgConfigHome } = {}) {
  const env = { ...process.env, PATH: `${BIN_DIR}${path.delimiter}${process.env.PATH}` };
  return {
    ...env,
    WASM_BINDGEN_BIN: which('wasm-bindgen', env),
    ESBUILD_BIN: path.join(TESTBED_DIR, 'node_modules', '@esbuild', 'linux-x64', 'bin', 'esbuild'),
    WASM_OPT_BIN: path.join(TESTBED_DIR, 'node_modules', 'binaryen', 'bin', 'wasm-opt'),
    CARGO_TARGET_DIR: QUICKSTART_TARGET_DIR,
    WRANGLER_LOG_PATH: LOG_DIR,
    CI: 'true',
    WRANGLER_SEND_METRICS: 'false',
    DO_NOT_TRACK: '1',
    WRANGLER_SEND_ERROR_REPORTS: 'false',
    WRANGLER_HIDE_BANNER: 'true',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    ...(xdgConfigHome ? { XDG_CONFIG_HOME: xdgConfigHome } : {}),
  };
}

/**
 * Runs `nice -n 10 worker-build --release` in `dir` (its own process group, output in a log
 * under testbed/.logs/). `build.done` resolves when it exits 0 and rejects otherwise, with the
 * log's tail; `build.stop()` kills the group (for an after hook when a test times out).
 */
export function startQuickstartBuild(dir, env) {
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = path.join(LOG_DIR, `quickstart-build-${process.pid}-${Date.now()}.log`);
  const logFd = openSync(logFile, 'w');
  const child = spawn('nice', ['-n', '10', 'worker-build', '--release'], {
    cwd: dir, env, detached: true, stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  let exited = false;
  // Last resort, as processes.mjs does for servers: a test run that ends early kills the build.
  const killOnExit = () => build.stop();
  process.once('exit', killOnExit);
  const done = new Promise((resolve, reject) => {
    child.on('error', (err) => { exited = true; reject(err); });
    child.on('exit', (code, signal) => {
      exited = true;
      process.off('exit', killOnExit);
      if (code === 0) return resolve({ logFile });
      const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-60).join('\n');
      reject(new Error(`worker-build exited (${signal ?? `code ${code}`})\n--- ${logFile} (tail) ---\n${tail}`));
    });
  });
  const build = {
    pid: child.pid,
    logFile,
    done,
    /** SIGKILL to the build's process group (cargo, rustc, wasm-opt) unless it has exited. */
    stop() {
      if (exited || child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch (err) {
        if (err.code !== 'ESRCH') throw err;
      }
    },
  };
  return build;
}

/** `--var` arguments for each setting. */
function varArgs(vars) {
  return Object.entries(vars).flatMap(([key, value]) => {
    if (key.includes(':')) throw new Error(`Worker setting name ${key} must not contain ':'`);
    return ['--var', `${key}:${value}`];
  });
}

/**
 * `wrangler dev` in the project `dir` on 127.0.0.1 and a free port, with the settings as
 * `--var` (they override the README's [vars] placeholders), no .dev.vars, KV under `persistTo`;
 * ready when wrangler prints its "Ready on" line (the quick start has no health route). Its
 * [build] command runs first, so `env` must be quickstartEnv's.
 *
 * @returns {Promise<{url: string, pid: number, logFile: string, stop: () => Promise<void>}>}
 */
export async function startQuickstartWorker({ dir, vars, persistTo, env, timeoutMs = 600_000 }) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const worker = await startProcess({
    name: 'quickstart-worker',
    command: 'nice',
    args: [
      '-n', '10', path.join(BIN_DIR, 'wrangler'), 'dev',
      '--ip', '127.0.0.1',
      '--port', String(port),
      '--persist-to', persistTo,
      '--env-file', '/dev/null',
      '--show-interactive-dev-session=false',
      ...varArgs(vars),
    ],
    cwd: dir,
    env,
    readyLine: new RegExp(`Ready on http://127\\.0\\.0\\.1:${port}\\b`),
    timeoutMs,
  });
  return { url, pid: worker.pid, logFile: worker.logFile, stop: () => worker.stop() };
}
