// The token cache at rest in Workers KV, end to end under `wrangler dev` with local KV files
// (`--persist-to`): what the reference Worker writes there is sealed (no access token, app-only
// or on-behalf-of, is readable in the files), and what it did not write itself under that very
// key is a miss: a planted plain entry and an entry copied under another client's key are never
// served; the next token overwrites them.
//
// Between steps the Worker is stopped and started again on the same KV directory: a new isolate
// with an empty memory cache, whose only shared source is KV (the Worker runs here without the
// token coordinator; what the coordinator's storage holds is checked in coordinator.test.mjs). KV is read and written with wrangler's own
// `wrangler kv key … --local --persist-to` commands, as an attacker with access to the store
// would.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

import { readResponse } from '../lib/http.mjs';
import { REPO_ROOT } from '../lib/paths.mjs';
import {
  clients, daemonVars, newCookieKey, startTestbed, userAccessToken, webapiVars,
} from '../lib/testbed.mjs';
import { buildWorker, startWorker, workerConfig } from '../lib/worker.mjs';

/** Room for the first start's Rust build. */
const TIMEOUT = { timeout: 360_000 };
/** Where the Worker's cache entries live, under every KV key it writes. */
const KEY_PREFIX = 'edge-token/v1/';
/** Every JWS compact serialization starts with base64url of `{"`. */
const JWS_PREFIX = 'eyJ';

let tb;
const persistDirs = [];

let config;

before(async () => {
  await buildWorker();
  // The reference Worker with KV as its only shared tier (no token coordinator: what the
  // coordinator's storage holds is checked in coordinator.test.mjs).
  config = await workerConfig({ name: 'edge-token-kv-only' });
  tb = await startTestbed();
}, { timeout: 900_000 });
after(async () => {
  await tb?.stop();
  await Promise.all(persistDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function newPersistDir() {
  const dir = await mkdtemp(path.join(tmpdir(), 'edge-token-sealed-kv-'));
  persistDirs.push(dir);
  return dir;
}

/** Runs `wrangler kv key <args>` on the Worker's TOKEN_CACHE namespace in `persistTo`. */
async function kv(persistTo, ...args) {
  const { stdout } = await promisify(execFile)(
    'wrangler',
    ['kv', 'key', ...args, '--binding', 'TOKEN_CACHE', '--local', '--persist-to', persistTo],
    { cwd: REPO_ROOT, timeout: 60_000, maxBuffer: 4 * 1024 * 1024 },
  );
  return stdout;
}

/** The token cache keys in `persistTo`'s KV (not the provider documents under `doc/`). */
async function cacheKeys(persistTo) {
  const listed = JSON.parse(await kv(persistTo, 'list', '--prefix', KEY_PREFIX));
  return listed.map((entry) => entry.name).filter((name) => !name.startsWith(`${KEY_PREFIX}doc/`));
}

/** Every file under `dir`, as text (KV blobs and SQLite files alike). */
async function filesUnder(dir) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return Promise.all(entries.filter((entry) => entry.isFile()).map(async (entry) => {
    const file = path.join(entry.parentPath, entry.name);
    return { file, text: (await readFile(file)).toString('latin1') };
  }));
}

/** Fails if any KV file holds a JWS or one of `secrets`. */
async function assertNothingReadable(persistTo, secrets) {
  const files = await filesUnder(path.join(persistTo, 'v3', 'kv'));
  assert.ok(files.length > 0, 'KV files exist');
  for (const { file, text } of files) {
    assert.ok(!text.includes(JWS_PREFIX), `${file} holds a JWS`);
    for (const secret of secrets) assert.ok(!text.includes(secret), `${file} holds ${secret}`);
  }
}

/** Starts the Worker with `vars` on `persistTo`, runs `fn(worker)`, stops it. */
async function withWorker(vars, persistTo, fn) {
  const worker = await startWorker({ vars, persistTo, config });
  try {
    return await fn(worker);
  } finally {
    await worker.stop();
  }
}

/**
 * The daemon's settings for `client`: its own cache key, and the route opened with the unsafe
 * local-demo opt-out, since what is tested here is the store (caller authentication has its own
 * tests).
 */
const daemonSettings = (client, cacheKey) => ({
  ...daemonVars(tb, client, { public: true }), AUTHORITY_KIND: 'oidc', TOKEN_CACHE_KEY: cacheKey,
});

/** GET /daemon/call: the downstream's view of the token and where the Worker got it. */
async function callDaemon(worker) {
  const result = await readResponse(await fetch(`${worker.url}/daemon/call`));
  assert.equal(result.status, 200, result.text);
  return { source: result.headers.get('x-edge-token-source'), claims: result.json.claims };
}

/** Polls until `persistTo` holds `count` cache keys (writes run after the response). */
async function keysEventually(persistTo, count) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const keys = await cacheKeys(persistTo);
    if (keys.length >= count || Date.now() >= deadline) return keys;
    await sleep(250);
  }
}

describe('the token cache at rest in Workers KV', () => {
  it('app tokens: sealed in KV, opened by a new isolate; a planted entry is a miss and is overwritten', TIMEOUT, async () => {
    await tb.reset();
    const persistTo = await newPersistDir();
    const vars = daemonSettings('secretPost', newCookieKey());
    const first = await withWorker(vars, persistTo, async (worker) => {
      const called = await callDaemon(worker);
      assert.equal(called.source, 'provider');
      await keysEventually(persistTo, 1);
      return called;
    });
    const [key] = await cacheKeys(persistTo);
    assert.ok(key, 'one cache entry');
    const sealed = await kv(persistTo, 'get', key);
    assert.match(sealed, /^[A-Za-z0-9_-]+$/, 'base64url of the sealed envelope');
    await assertNothingReadable(persistTo, [first.claims.jti]);

    // A new isolate: the entry opens.
    await withWorker(vars, persistTo, async (worker) => {
      const again = await callDaemon(worker);
      assert.equal(again.source, 'store');
      assert.equal(again.claims.jti, first.claims.jti);
    });
    assert.equal((await tb.stats()).token_requests, 1);

    // Planted: plain JSON in the old layout, far from expiry, under the very key.
    const planted = JSON.stringify({ access_token: 'planted-by-an-attacker', expires_on: Math.floor(Date.now() / 1000) + 86_400 });
    await kv(persistTo, 'put', key, planted);
    await withWorker(vars, persistTo, async (worker) => {
      const served = await callDaemon(worker);
      assert.equal(served.source, 'provider', 'the planted entry is a miss');
      assert.notEqual(served.claims.jti, first.claims.jti);
      const deadline = Date.now() + 10_000;
      while ((await kv(persistTo, 'get', key)) === planted && Date.now() < deadline) await sleep(250);
    });
    assert.notEqual(await kv(persistTo, 'get', key), planted, 'overwritten by a sealed entry');
    assert.equal((await tb.stats()).token_requests, 2);
  });

  it('an entry copied under another client\'s key is a miss: one client is never served another\'s token', TIMEOUT, async () => {
    await tb.reset();
    const persistTo = await newPersistDir();
    const cacheKey = newCookieKey();
    // Two registrations sharing one namespace and one cache key.
    const post = daemonSettings('secretPost', cacheKey);
    const basic = daemonSettings('secretBasic', cacheKey);
    await withWorker(post, persistTo, async (worker) => {
      await callDaemon(worker);
      await keysEventually(persistTo, 1);
    });
    const [postKey] = await cacheKeys(persistTo);
    await withWorker(basic, persistTo, async (worker) => {
      assert.equal((await callDaemon(worker)).claims.sub, clients.secretBasic.clientId);
      await keysEventually(persistTo, 2);
    });
    const basicKey = (await cacheKeys(persistTo)).find((key) => key !== postKey);
    assert.ok(basicKey, 'a second entry');

    // Copy the first client's entry over the second's.
    await kv(persistTo, 'put', basicKey, await kv(persistTo, 'get', postKey));
    await withWorker(basic, persistTo, async (worker) => {
      const served = await callDaemon(worker);
      assert.equal(served.source, 'provider', 'the moved entry is a miss');
      assert.equal(served.claims.sub, clients.secretBasic.clientId, 'its own token, never the other client\'s');
    });
    assert.equal((await tb.stats()).token_requests, 3);
  });

  it('on-behalf-of tokens (users\' delegated tokens) are sealed in KV too', TIMEOUT, async () => {
    const user = await userAccessToken(tb, { user: 'alice' });
    await tb.reset();
    const persistTo = await newPersistDir();
    const downstream = await withWorker({ ...webapiVars(tb), TOKEN_CACHE_KEY: newCookieKey() }, persistTo, async (worker) => {
      const result = await readResponse(await fetch(`${worker.url}/api/profile`, {
        headers: { authorization: `Bearer ${user.accessToken}` },
      }));
      assert.equal(result.status, 200, result.text);
      assert.equal(result.json.claims.sub, 'alice');
      await keysEventually(persistTo, 1);
      return result.json.claims;
    });
    assert.equal((await cacheKeys(persistTo)).length, 1, 'the on-behalf-of entry');
    await assertNothingReadable(persistTo, [downstream.jti]);
  });

  it('without TOKEN_CACHE_KEY or COOKIE_KEY the Worker caches in memory only and says so', TIMEOUT, async () => {
    await tb.reset();
    const persistTo = await newPersistDir();
    const vars = { ...daemonSettings('secretPost', undefined), LOG_LEVEL: 'warn' };
    const worker = await startWorker({ vars, persistTo, config });
    try {
      assert.equal((await callDaemon(worker)).source, 'provider');
      assert.equal((await callDaemon(worker)).source, 'memory');
      await sleep(1_000);
      const log = await readFile(worker.logFile, 'utf8');
      assert.equal(log.match(/no TOKEN_CACHE_KEY or COOKIE_KEY/g)?.length, 1, 'logged once');
    } finally {
      await worker.stop();
    }
    assert.deepEqual(await cacheKeys(persistTo), [], 'nothing written to KV');
  });
});
