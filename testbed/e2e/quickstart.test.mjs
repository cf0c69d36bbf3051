// The README's quick start, done exactly as a user would: its three blocks (Cargo.toml,
// src/lib.rs, wrangler.toml) copied into a new cargo project outside this repository (only the
// dependency's path changed, to this checkout's crates/edge-token-cloudflare), built with
// worker-build, run under `wrangler dev` with the test bed's provider, secret-based daemon client
// and downstream API as its settings, and called: GET / must answer the downstream's JSON showing
// the app's token. Then with certificate settings, which its default features leave out: refused,
// naming the feature.
//
//   testbed/node_modules/.bin/node --test testbed/e2e/quickstart.test.mjs
//
// The first build compiles every dependency (minutes on 2 cores); target/quickstart keeps the
// artifacts, so later runs rebuild little.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { readResponse } from '../lib/http.mjs';
import { REPO_ROOT } from '../lib/paths.mjs';
import {
  ADAPTER_DIR, README_PATH, extractQuickstartBlocks, quickstartEnv, startQuickstartBuild,
  startQuickstartWorker, writeQuickstartProject,
} from '../lib/quickstart.mjs';
import { clients, daemonVars, newCookieKey, startTestbed } from '../lib/testbed.mjs';

const BUILD_TIMEOUT = { timeout: 20 * 60_000 };
/** wrangler dev runs the [build] command again (incremental: cargo, wasm-bindgen, wasm-opt). */
const RUN_TIMEOUT = { timeout: 10 * 60_000 };

let tb;
let workDir;
let projectDir;
let env;
let build;
let built = false;
let worker;

const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** True once a value is stored in local KV under `persistTo` (v3/kv/<namespace>/blobs/), within 10 s. */
async function kvHasValues(persistTo) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const entries = await readdir(path.join(persistTo, 'v3', 'kv'), { recursive: true, withFileTypes: true })
      .catch(() => []);
    if (entries.some((entry) => entry.isFile() && path.basename(entry.parentPath) === 'blobs')) return true;
    if (Date.now() >= deadline) return false;
    await sleep(200);
  }
}

before(async () => {
  tb = await startTestbed();
  workDir = await mkdtemp(path.join(tmpdir(), 'edge-token-quickstart-'));
  projectDir = path.join(workDir, 'my-worker');
  env = quickstartEnv({ xdgConfigHome: path.join(workDir, 'xdg-config') });
});

after(async () => {
  build?.stop();
  await worker?.stop();
  await tb?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('README quick start: a new Worker project from its three blocks', () => {
  it('the project is outside the repository, and the README blocks make it', async () => {
    const relative = path.relative(REPO_ROOT, projectDir);
    assert.ok(relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative), `${projectDir} must be outside ${REPO_ROOT}`);
    const blocks = extractQuickstartBlocks(await readFile(README_PATH, 'utf8'));
    assert.match(blocks['Cargo.toml'], /^crate-type = \["cdylib"\]$/m);
    assert.match(blocks['Cargo.toml'], /^worker = "=0\.8\.7"$/m);
    assert.match(blocks['src/lib.rs'], /#\[event\(fetch\)\]/);
    assert.match(blocks['src/lib.rs'], /TokenProvider::for_isolate\(\)/);
    assert.match(blocks['wrangler.toml'], /^main = "build\/worker\/shim\.mjs"$/m);
    assert.match(blocks['wrangler.toml'], /^command = "worker-build --release"$/m);
    assert.match(blocks['wrangler.toml'], /^binding = "TOKEN_CACHE"$/m);

    await writeQuickstartProject(projectDir, blocks);
    const cargoToml = await readFile(path.join(projectDir, 'Cargo.toml'), 'utf8');
    assert.equal(
      cargoToml,
      blocks['Cargo.toml'].replace('"../edge-token/crates/edge-token-cloudflare"', JSON.stringify(ADAPTER_DIR)),
    );
    assert.equal(await readFile(path.join(projectDir, 'src', 'lib.rs'), 'utf8'), blocks['src/lib.rs']);
    assert.equal(await readFile(path.join(projectDir, 'wrangler.toml'), 'utf8'), blocks['wrangler.toml']);
  });

  it('builds with worker-build --release', BUILD_TIMEOUT, async (t) => {
    const started = Date.now();
    build = startQuickstartBuild(projectDir, env);
    await build.done;
    built = true;
    t.diagnostic(`worker-build: ${seconds(started)} (log ${build.logFile})`);
  });

  it('GET / under wrangler dev calls the downstream API with the app token', RUN_TIMEOUT, async (t) => {
    assert.ok(built, 'the build failed: nothing to run');
    // What the README names: the [vars] and the secrets CLIENT_SECRET and TOKEN_CACHE_KEY.
    const daemon = daemonVars(tb, 'secretPost');
    const vars = Object.fromEntries(
      ['AUTHORITY', 'CLIENT_ID', 'CLIENT_SECRET', 'DOWNSTREAM_SCOPES', 'DOWNSTREAM_URL']
        .map((name) => [name, daemon[name]]),
    );
    vars.TOKEN_CACHE_KEY = newCookieKey();
    const { 'wrangler.toml': wranglerToml } = extractQuickstartBlocks(await readFile(README_PATH, 'utf8'));
    for (const name of Object.keys(vars)) {
      assert.match(wranglerToml, new RegExp(`\\b${name}\\b`), `the README's wrangler.toml names ${name}`);
    }
    await tb.reset();
    const started = Date.now();
    const persistTo = path.join(workDir, 'wrangler-state');
    worker = await startQuickstartWorker({ dir: projectDir, vars, persistTo, env });
    t.diagnostic(`wrangler dev ready (its [build] run included): ${seconds(started)}`);

    const first = await readResponse(await fetch(`${worker.url}/`));
    assert.equal(first.status, 200, `${first.text}\n(wrangler log: ${worker.logFile})`);
    assert.equal(first.json?.ok, true, first.text);
    assert.equal(first.json.claims.sub, clients.secretPost.clientId);
    assert.equal(first.json.claims.aud, 'api://downstream');
    assert.equal(first.json.claims.iss, tb.issuer);

    // The token is reused from the isolate's cache; other paths get 404 without a token request.
    const second = await readResponse(await fetch(`${worker.url}/`));
    assert.equal(second.status, 200, second.text);
    assert.equal(second.json?.claims?.sub, clients.secretPost.clientId, second.text);
    const other = await fetch(`${worker.url}/favicon.ico`);
    await other.body?.cancel();
    assert.equal(other.status, 404);
    const stats = await tb.stats();
    assert.equal(stats.token_requests, 1, JSON.stringify(stats));
    assert.deepEqual(stats.by_client, { [clients.secretPost.clientId]: 1 });
    assert.deepEqual(await tb.downstreamStats(), { requests: 2, authorized: 2 });

    // The wrangler.toml block's TOKEN_CACHE binding is used with TOKEN_CACHE_KEY: the sealed
    // token reaches local KV (written after the response, in ctx.waitUntil).
    assert.ok(await kvHasValues(persistTo), `no KV value under ${persistTo}`);
  });

  it('a certificate credential without the adapter feature `certificate` is refused, naming the feature, with no token request', RUN_TIMEOUT, async () => {
    assert.ok(built, 'the build failed: nothing to run');
    await worker?.stop();
    worker = undefined;
    // The quick start's default features leave certificates out: its settings must not be
    // ignored (nor the Worker fall back to anything else).
    const daemon = daemonVars(tb, 'certificate');
    const vars = Object.fromEntries(
      ['AUTHORITY', 'CLIENT_ID', 'CLIENT_CERTIFICATE', 'CLIENT_PRIVATE_KEY', 'DOWNSTREAM_SCOPES', 'DOWNSTREAM_URL']
        .map((name) => [name, daemon[name]]),
    );
    await tb.reset();
    const persistTo = path.join(workDir, 'wrangler-state-certificate');
    worker = await startQuickstartWorker({ dir: projectDir, vars, persistTo, env });

    const refused = await readResponse(await fetch(`${worker.url}/`));
    assert.equal(refused.status, 500, refused.text);
    // The quick start hands the error to workers-rs, which reports it: the operator reads which
    // feature is missing (in the answer or in wrangler's log, written as the request ends).
    const named = /need the `certificate` feature/;
    const deadline = Date.now() + 10_000;
    let log = '';
    while (!named.test(refused.text) && !named.test(log) && Date.now() < deadline) {
      await sleep(200);
      log = await readFile(worker.logFile, 'utf8');
    }
    assert.ok(named.test(refused.text) || named.test(log), `neither the answer nor ${worker.logFile} names the feature`);
    assert.equal((await tb.stats()).token_requests, 0);
    assert.deepEqual(await tb.downstreamStats(), { requests: 0, authorized: 0 });
  });
});
