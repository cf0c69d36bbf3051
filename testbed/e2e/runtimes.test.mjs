// The daemon scenario on every edge runtime from one description: the reference Worker under
// wrangler dev, the Fastly app under Viceroy, the Spin component under wasmtime serve (see
// ../lib/runtimes.mjs). Each takes an app token from the local OpenID Provider (client
// credentials) and calls the downstream API with it. Each case resets the provider's counters
// before starting its app, so the counts it asserts include everything that app did.
// (daemon.test.mjs holds the Worker's further cases: concurrency, KV state across restarts...)
//
//   testbed/node_modules/.bin/node --test testbed/e2e/runtimes.test.mjs
//   EDGE_TOKEN_RUNTIMES="fastly spin" testbed/node_modules/.bin/node --test testbed/e2e/runtimes.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { listFromEnv } from '../lib/env.mjs';
import { RUNTIMES, startRuntime } from '../lib/runtimes.mjs';
import { daemonVars, startTestbed } from '../lib/testbed.mjs';

/** Room for a first build (Worker, Fastly and Spin apps). */
const TIMEOUT = { timeout: 600_000 };
const WRONG_SECRET = 'wrong-secret-that-must-never-be-echoed-5be21d';

/**
 * Where the second call's token may come from on each runtime: a Worker isolate and a reused
 * wasmtime instance keep it in memory; a Fastly instance serves one request, so there it can
 * only come from the KV Store.
 */
const CACHED_SOURCES = {
  workers: ['memory', 'store'],
  fastly: ['store'],
  spin: ['memory', 'store'],
};

let tb;
before(async () => { tb = await startTestbed(); });
after(async () => { await tb?.stop(); });

async function withApp(runtime, vars, fn) {
  const app = await startRuntime(runtime, { vars });
  try {
    return await fn(app);
  } finally {
    await app.stop();
  }
}

async function request(app, route, init) {
  const response = await fetch(`${app.url}${route}`, init);
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

const callDaemon = (app) => request(app, '/daemon/call');

/** The call succeeded and the downstream saw a token for `clientId` from our provider. */
function assertDownstreamAccepted(result, clientId) {
  assert.equal(result.status, 200, result.text);
  assert.equal(result.headers.get('content-type')?.split(';')[0], 'application/json');
  assert.equal(result.json?.ok, true, result.text);
  assert.equal(result.json.claims.sub, clientId);
  assert.equal(result.json.claims.aud, 'api://downstream');
  assert.equal(result.json.claims.iss, tb.issuer);
}

for (const runtime of listFromEnv('EDGE_TOKEN_RUNTIMES', RUNTIMES)) {
  describe(`daemon on ${runtime}`, () => {
    it('client_secret_post: calls the downstream, then serves the second call from cache', TIMEOUT, async () => {
      await tb.reset();
      await withApp(runtime, daemonVars(tb, 'secretPost'), async (app) => {
        const first = await callDaemon(app);
        assertDownstreamAccepted(first, 'daemon-secret');
        assert.equal(first.headers.get('x-edge-token-source'), 'provider');
        const stats = await tb.stats();
        assert.equal(stats.token_requests, 1);
        assert.deepEqual(stats.by_auth, { client_secret_post: 1 });

        const second = await callDaemon(app);
        assertDownstreamAccepted(second, 'daemon-secret');
        assert.ok(
          CACHED_SOURCES[runtime].includes(second.headers.get('x-edge-token-source')),
          `second call's token came from ${second.headers.get('x-edge-token-source')}`,
        );
        assert.equal(second.json.claims.jti, first.json.claims.jti, 'the same token');
        assert.equal((await tb.stats()).token_requests, 1, 'second call served from cache');
        assert.deepEqual(await tb.downstreamStats(), { requests: 2, authorized: 2 });
      });
    });

    it('certificate: PS256 assertion signed in the app, then the cached token', TIMEOUT, async () => {
      await tb.reset();
      await withApp(runtime, daemonVars(tb, 'certificate'), async (app) => {
        assertDownstreamAccepted(await callDaemon(app), 'daemon-cert');
        const stats = await tb.stats();
        assert.equal(stats.token_requests, 1);
        assert.deepEqual(stats.by_auth, { private_key_jwt: 1 });
        assert.deepEqual(stats.by_assertion_alg, { PS256: 1 });
        assertDownstreamAccepted(await callDaemon(app), 'daemon-cert');
        assert.equal((await tb.stats()).token_requests, 1, 'second call served from cache');
      });
    });

    it('a wrong secret gives invalid_client and is echoed nowhere', TIMEOUT, async () => {
      await tb.reset();
      await withApp(runtime, { ...daemonVars(tb, 'secretPost'), CLIENT_SECRET: WRONG_SECRET }, async (app) => {
        const result = await callDaemon(app);
        assert.equal(result.status, 502, result.text);
        assert.equal(result.json?.error, 'invalid_client', result.text);
        assert.equal(result.headers.get('content-type'), 'application/json');
        assert.ok(!result.text.includes(WRONG_SECRET), 'secret in the body');
        for (const [name, value] of result.headers) {
          assert.ok(!`${name}: ${value}`.includes(WRONG_SECRET), `secret in header ${name}`);
        }
        assert.ok((await tb.stats()).by_client['daemon-secret'] >= 1, 'the provider was asked');
        assert.equal((await tb.downstreamStats()).requests, 0);
      });
    });

    it('a missing CLIENT_ID is a configuration error naming it; other routes are 404/405', TIMEOUT, async () => {
      await tb.reset();
      await withApp(runtime, { ...daemonVars(tb, 'secretPost'), CLIENT_ID: undefined }, async (app) => {
        const result = await callDaemon(app);
        assert.equal(result.status, 500, result.text);
        assert.equal(result.json?.error, 'configuration_error', result.text);
        assert.match(result.json.error_description, /CLIENT_ID/);
        assert.equal((await tb.stats()).token_requests, 0);

        assert.deepEqual((await request(app, '/healthz')).json, { status: 'ok' });
        const notFound = await request(app, '/nope');
        assert.deepEqual([notFound.status, notFound.json], [404, { error: 'not_found' }]);
        const notAllowed = await request(app, '/daemon/call', { method: 'POST' });
        assert.deepEqual([notAllowed.status, notAllowed.json], [405, { error: 'method_not_allowed' }]);
      });
    });
  });
}
