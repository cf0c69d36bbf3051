// The provider's discovery document and key set shared through Workers KV, end to end under
// `wrangler dev` with local KV files (`--persist-to`): a web API Worker validates a caller's
// token, is stopped, and a new Worker (a new isolate, empty memory) on the same KV directory
// validates again without asking the provider for either document. What KV holds is sealed (no
// readable key set or endpoint), and a key set planted in KV by whoever can write there is a miss:
// the Worker fetches the real one and overwrites it.
//
//   testbed/node_modules/.bin/node --test testbed/e2e/shared-documents.test.mjs
//
// The provider counts GETs of its discovery document and key set (`discovery_requests`,
// `jwks_requests` in /__testbed/stats). The downstream the web API calls on-behalf-of fetches
// them too, once: the test compares counts after the first Worker with later ones.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

import { readResponse } from '../lib/http.mjs';
import { REPO_ROOT } from '../lib/paths.mjs';
import { startTestbed, userAccessToken, webapiVars } from '../lib/testbed.mjs';
import { startWorker } from '../lib/worker.mjs';

/** Room for the first start's Rust build. */
const TIMEOUT = { timeout: 600_000 };
/** Where provider documents live in KV: this prefix + base64url(SHA-256(document URL)). */
const DOC_PREFIX = 'edge-token/v1/doc/';

let tb;
let persistTo;

before(async () => {
  tb = await startTestbed();
  persistTo = await mkdtemp(path.join(tmpdir(), 'edge-token-shared-docs-'));
});
after(async () => {
  await tb?.stop();
  if (persistTo) await rm(persistTo, { recursive: true, force: true });
});

/** Runs `wrangler kv key <args>` on the Worker's TOKEN_CACHE namespace in `persistTo`. */
async function kv(...args) {
  const { stdout } = await promisify(execFile)(
    'wrangler',
    ['kv', 'key', ...args, '--binding', 'TOKEN_CACHE', '--local', '--persist-to', persistTo],
    { cwd: REPO_ROOT, timeout: 60_000, maxBuffer: 4 * 1024 * 1024 },
  );
  return stdout;
}

/** The provider document keys in KV. */
async function documentKeys() {
  return JSON.parse(await kv('list', '--prefix', DOC_PREFIX)).map((entry) => entry.name);
}

/** The KV key of the document at `url` (as the core builds it). */
const documentKey = (url) => DOC_PREFIX + createHash('sha256').update(url).digest('base64url');

/** Polls until KV holds `count` document keys (writes may run after the response). */
async function documentKeysEventually(count) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const keys = await documentKeys();
    if (keys.length >= count || Date.now() >= deadline) return keys;
    await sleep(250);
  }
}

/** Every file under the KV directory, as text. */
async function kvFiles() {
  const dir = path.join(persistTo, 'v3', 'kv');
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return Promise.all(entries.filter((entry) => entry.isFile()).map(async (entry) => {
    const file = path.join(entry.parentPath, entry.name);
    return { file, text: (await readFile(file)).toString('latin1') };
  }));
}

/** Starts the web API Worker with `vars` on `persistTo`, runs `fn(worker)`, stops it. */
async function withWorker(vars, fn) {
  const worker = await startWorker({ vars, persistTo });
  try {
    return await fn(worker);
  } finally {
    await worker.stop();
  }
}

/** GET /api/profile with alice's token: validated (then exchanged on-behalf-of). */
async function profile(worker, accessToken) {
  const result = await readResponse(await fetch(`${worker.url}/api/profile`, {
    headers: { authorization: `Bearer ${accessToken}` },
  }));
  assert.equal(result.status, 200, result.text);
  assert.equal(result.json.claims.sub, 'alice');
}

describe('discovery and key set shared through Workers KV', () => {
  it('a new Worker on the same KV fetches neither; KV holds them sealed; a planted key set is a miss and is overwritten', TIMEOUT, async () => {
    const { jwks_uri: jwksUri } = await (await fetch(`${tb.issuer}/.well-known/openid-configuration`)).json();
    const user = await userAccessToken(tb, { user: 'alice' });
    // One configuration (one TOKEN_CACHE_KEY) for every start: the same app, new isolates.
    const vars = webapiVars(tb);
    await tb.reset();

    await withWorker(vars, async (worker) => {
      await profile(worker, user.accessToken);
      const keys = await documentKeysEventually(2);
      assert.ok(keys.includes(documentKey(jwksUri)), `the key set is stored: ${keys}`);
    });
    // The downstream validates the on-behalf-of token with the same documents: it fetches them
    // once and keeps them (jose's remote key set), so what is counted from here on is the Workers'.
    const first = await tb.stats();
    assert.ok(first.discovery_requests >= 1, 'discovery fetched');
    assert.ok(first.jwks_requests >= 1, 'key set fetched');

    // A new isolate: both documents come from KV.
    await withWorker(vars, async (worker) => {
      await profile(worker, user.accessToken);
    });
    let stats = await tb.stats();
    assert.equal(stats.discovery_requests, first.discovery_requests, 'no second discovery request');
    assert.equal(stats.jwks_requests, first.jwks_requests, 'no second key set request');

    // Sealed at rest: no key, no endpoint readable in the KV files.
    const files = await kvFiles();
    assert.ok(files.length > 0, 'KV files exist');
    for (const { file, text } of files) {
      for (const readable of ['"kty"', '"keys"', 'token_endpoint', 'jwks_uri', tb.issuer]) {
        assert.ok(!text.includes(readable), `${file} holds ${readable}`);
      }
    }

    // Planted: a key set in plain JSON under the very key (an attacker's key would forge tokens).
    const planted = JSON.stringify({ keys: [{ kty: 'RSA', kid: 'attacker', n: 'AQAB', e: 'AQAB' }] });
    const jwksKey = documentKey(jwksUri);
    await kv('put', jwksKey, planted);
    await withWorker(vars, async (worker) => {
      await profile(worker, user.accessToken);
      const deadline = Date.now() + 10_000;
      while ((await kv('get', jwksKey)) === planted && Date.now() < deadline) await sleep(250);
    });
    stats = await tb.stats();
    assert.equal(stats.jwks_requests, first.jwks_requests + 1, 'the planted key set is a miss: fetched');
    assert.equal(stats.discovery_requests, first.discovery_requests, 'discovery still from KV');
    const overwritten = await kv('get', jwksKey);
    assert.notEqual(overwritten, planted, 'overwritten');
    assert.match(overwritten, /^[A-Za-z0-9_-]+$/, 'by a sealed value (base64url)');
  });
});
