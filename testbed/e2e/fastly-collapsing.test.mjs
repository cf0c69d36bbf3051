// Per-POP request collapsing on Fastly: a cold burst of concurrent GET /daemon/call to the Fastly
// app under Viceroy (each request is its own instance) makes exactly one token request. The
// first instance to miss takes the Core Cache transaction of the token's storage key, asks the
// provider and inserts the sealed entry; the others wait in their transactional lookup and
// read it (see crates/edge-token-fastly/src/collapsing.rs and docs/fastly-request-collapsing.md).
//
// The provider sits behind the test bed's fault-injecting proxy: a slow provider still gets one
// request (the others wait), a failing one gets what it would get without collapsing (each
// instance asks, and they do not queue behind each other).
//
//   testbed/node_modules/.bin/node --test testbed/e2e/fastly-collapsing.test.mjs
//   EDGE_TOKEN_BURST=50 ... (the burst size; default 50)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { readResponse } from '../lib/http.mjs';
import { startRuntime } from '../lib/runtimes.mjs';
import { callerToken, daemonVars, startTestbed } from '../lib/testbed.mjs';

/** Room for a first build of the apps. */
const TIMEOUT = { timeout: 900_000 };
const BURST = Number(process.env.EDGE_TOKEN_BURST ?? 50);
/** The token endpoint's path behind the fault-injecting proxy. */
const TOKEN_PATH = '/token';
/** The core's one retry of a 5xx: two attempts per acquisition. */
const ATTEMPTS = 2;

let tb;
let caller;
before(async () => {
  tb = await startTestbed({ behindProxy: true });
  // Taken before any reset: the provider's counts never include it.
  caller = await callerToken(tb);
});
after(async () => { await tb?.stop(); });

async function withFastly(vars, fn) {
  const app = await startRuntime('fastly', { vars });
  try {
    return await fn(app);
  } finally {
    await app.stop();
  }
}

const callDaemon = async (app) => readResponse(await fetch(`${app.url}/daemon/call`, {
  headers: { authorization: caller.authorization },
}));

/** The number of responses per x-edge-token-source. */
function bySource(results) {
  const counts = {};
  for (const result of results) {
    const source = result.headers.get('x-edge-token-source') ?? 'none';
    counts[source] = (counts[source] ?? 0) + 1;
  }
  return counts;
}

describe('Fastly request collapsing (Core Cache transactions, Viceroy)', () => {
  it(`${BURST} concurrent cold /daemon/call make exactly one token request`, TIMEOUT, async (t) => {
    await tb.reset();
    await withFastly(daemonVars(tb, 'secretPost'), async (app) => {
      const results = await Promise.all(Array.from({ length: BURST }, () => callDaemon(app)));
      const { token_requests: tokenRequests } = await tb.stats();
      const sources = bySource(results);
      t.diagnostic(`token requests for ${BURST} concurrent cold calls: ${tokenRequests}; sources ${JSON.stringify(sources)}`);
      for (const result of results) {
        assert.equal(result.status, 200, result.text);
        assert.equal(result.json?.ok, true, result.text);
        assert.equal(result.json.claims.sub, 'daemon-secret');
      }
      assert.equal(tokenRequests, 1, `one token request for ${BURST} concurrent cold calls`);
      assert.deepEqual(sources, { provider: 1, store: BURST - 1 }, 'one from the provider, the others from the cache');
      assert.equal(new Set(results.map((r) => r.json.claims.jti)).size, 1, 'every call used the same token');

      // A later call (a new instance) reads the cached entry: still one token request.
      const later = await callDaemon(app);
      assert.equal(later.status, 200, later.text);
      assert.equal(later.headers.get('x-edge-token-source'), 'store');
      assert.equal(later.json.claims.jti, results[0].json.claims.jti);
      assert.equal((await tb.stats()).token_requests, 1);
    });
  });

  it('a slow provider: the others wait for the first instance\'s request, still one request', TIMEOUT, async () => {
    await tb.reset();
    const burst = 20;
    await withFastly(daemonVars(tb, 'secretPost'), async (app) => {
      await tb.proxy.setFaults({ [TOKEN_PATH]: { type: 'delay', ms: 2_000 } });
      const results = await Promise.all(Array.from({ length: burst }, () => callDaemon(app)));
      for (const result of results) assert.equal(result.status, 200, result.text);
      assert.deepEqual(bySource(results), { provider: 1, store: burst - 1 });
      assert.equal((await tb.stats()).token_requests, 1);
    });
  });

  it('a failing provider: each instance asks (as without collapsing), none waits in a queue', TIMEOUT, async () => {
    await tb.reset();
    const burst = 20;
    await withFastly(daemonVars(tb, 'secretPost'), async (app) => {
      await tb.proxy.setFaults({ [TOKEN_PATH]: { type: 'unavailable' } });
      const started = Date.now();
      const results = await Promise.all(Array.from({ length: burst }, () => callDaemon(app)));
      const elapsed = Date.now() - started;
      for (const result of results) assert.equal(result.status, 502, result.text);
      const attempts = (await tb.proxy.requests(TOKEN_PATH)).length;
      assert.equal(attempts, burst * ATTEMPTS, 'every instance made its request and its retry');
      // Queued one behind the other, the instances would need ~1 s each (their retry delay),
      // up to the wait bound (HTTP_TIMEOUT_MS 10 s + 2 s); in parallel, all of them ~2 s.
      assert.ok(elapsed < 8_000, `the burst took ${elapsed} ms`);
    });
  });

  it('without TOKEN_CACHE_KEY nothing is cached, nor collapsed: every call asks the provider', TIMEOUT, async () => {
    await tb.reset();
    const burst = 5;
    await withFastly({ ...daemonVars(tb, 'secretPost'), TOKEN_CACHE_KEY: undefined }, async (app) => {
      const results = await Promise.all(Array.from({ length: burst }, () => callDaemon(app)));
      for (const result of results) assert.equal(result.status, 200, result.text);
      assert.deepEqual(bySource(results), { provider: burst });
      assert.equal((await tb.stats()).token_requests, burst);
    });
  });
});
