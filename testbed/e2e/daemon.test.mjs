// End to end through the real Worker: wrangler dev runs edge-token's Worker, which takes an app
// token from the local OpenID Provider (client credentials) and calls the downstream API.
// Each case resets the provider's counters before starting its Worker, so the token request
// counts it asserts include everything that Worker did. GET /daemon/call is protected: calls
// carry a caller's app-only token (lib/testbed.mjs callerToken), taken before the cases. The
// refused callers are covered on every runtime in runtimes.test.mjs.
//
//   testbed/node_modules/.bin/node --test testbed/e2e/daemon.test.mjs
//
// The first Worker start builds the Rust Worker (minutes); later ones take ~5-7 s.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  callerToken, clients, credentials, daemonVars, describeCertificate, newCookieKey, signAssertion,
  startTestbed,
} from '../lib/testbed.mjs';
import { readResponse } from '../lib/http.mjs';
import { startWorker } from '../lib/worker.mjs';

/** Room for the first start's Rust build. */
const TIMEOUT = { timeout: 360_000 };
const WRONG_SECRET = 'wrong-secret-that-must-never-be-echoed-7f3a9c';

let tb;
/** A caller of /daemon/call holding the caller role. */
let caller;
const persistDirs = [];

before(async () => {
  tb = await startTestbed();
  caller = await callerToken(tb);
});
after(async () => {
  await tb?.stop();
  await Promise.all(persistDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A new, empty directory for the Worker's local KV state. */
async function freshPersistDir() {
  const dir = await mkdtemp(path.join(tmpdir(), 'edge-token-kv-'));
  persistDirs.push(dir);
  return dir;
}

/** One TOKEN_CACHE_KEY for the file: Workers restarted on the same KV state must unseal it. */
const TOKEN_CACHE_KEY = newCookieKey();
const secretPostVars = () => daemonVars(tb, 'secretPost', { tokenCacheKey: TOKEN_CACHE_KEY });
const certificateVars = (overrides = {}) => ({ ...daemonVars(tb, 'certificate'), ...overrides });

/** Runs `fn(worker)` against a Worker started with `vars`, and always stops the Worker. */
async function withWorker(vars, fn, { persistTo } = {}) {
  const worker = await startWorker({ vars, persistTo: persistTo ?? await freshPersistDir() });
  try {
    return await fn(worker);
  } finally {
    await worker.stop();
  }
}

async function callDaemon(worker) {
  return readResponse(await fetch(`${worker.url}/daemon/call`, { headers: { authorization: caller.authorization } }));
}

/** The call succeeded and the downstream saw a token for `clientId` from our provider. */
function assertDownstreamAccepted(result, clientId) {
  assert.equal(result.status, 200, result.text);
  assert.equal(result.json?.ok, true, result.text);
  assert.equal(result.json.claims.sub, clientId);
  assert.equal(result.json.claims.aud, 'api://downstream');
  assert.equal(result.json.claims.iss, tb.issuer);
}

/** An identity provider error, relayed as a 5xx JSON body. */
function assertProviderError(result, error) {
  assert.ok(result.status >= 500 && result.status < 600, `status ${result.status}: ${result.text}`);
  assert.equal(result.json?.error, error, result.text);
  assert.equal(typeof result.json.error_description, 'string');
}

describe('daemon: client credentials through the Worker', () => {
  let cachePersistDir;

  it('a. client_secret_post: calls the downstream, then serves the second call from cache', TIMEOUT, async () => {
    cachePersistDir = await freshPersistDir();
    await tb.reset();
    await withWorker(secretPostVars(), async (worker) => {
      assertDownstreamAccepted(await callDaemon(worker), 'daemon-secret');
      const stats = await tb.stats();
      assert.equal(stats.token_requests, 1);
      assert.deepEqual(stats.by_auth, { client_secret_post: 1 });

      assertDownstreamAccepted(await callDaemon(worker), 'daemon-secret');
      assert.equal((await tb.stats()).token_requests, 1, 'second call served from cache');
      assert.deepEqual(await tb.downstreamStats(), { requests: 2, authorized: 2 });
    }, { persistTo: cachePersistDir });
  });

  it('h. a new Worker on the same KV state serves the cached token without asking the provider', TIMEOUT, async () => {
    assert.ok(cachePersistDir, 'case a ran');
    await tb.reset();
    await withWorker(secretPostVars(), async (worker) => {
      assertDownstreamAccepted(await callDaemon(worker), 'daemon-secret');
      assert.equal((await tb.stats()).token_requests, 0);
    }, { persistTo: cachePersistDir });
  });

  it('b. client_secret_basic', TIMEOUT, async () => {
    await tb.reset();
    await withWorker(daemonVars(tb, 'secretBasic'), async (worker) => {
      assertDownstreamAccepted(await callDaemon(worker), 'daemon-secret-basic');
      const stats = await tb.stats();
      assert.equal(stats.token_requests, 1);
      assert.deepEqual(stats.by_auth, { client_secret_basic: 1 });
    });
  });

  it('c. certificate, PS256 assertion with x5t#S256 (default), PKCS#8 key', TIMEOUT, async () => {
    await tb.reset();
    await withWorker(certificateVars(), async (worker) => {
      assertDownstreamAccepted(await callDaemon(worker), 'daemon-cert');
      const stats = await tb.stats();
      assert.equal(stats.token_requests, 1);
      assert.deepEqual(stats.by_assertion_alg, { PS256: 1 });
    });
  });

  it('c. certificate with a PKCS#1 key file', TIMEOUT, async () => {
    await tb.reset();
    await withWorker(certificateVars({ CLIENT_PRIVATE_KEY: credentials.privateKeyPkcs1Pem }), async (worker) => {
      assertDownstreamAccepted(await callDaemon(worker), 'daemon-cert');
      assert.equal((await tb.stats()).token_requests, 1);
    });
  });

  it('d. certificate, RS256 assertion with x5t', TIMEOUT, async () => {
    await tb.reset();
    await withWorker(certificateVars({ CLIENT_ASSERTION_ALG: 'RS256' }), async (worker) => {
      assertDownstreamAccepted(await callDaemon(worker), 'daemon-cert');
      const stats = await tb.stats();
      assert.equal(stats.token_requests, 1);
      assert.deepEqual(stats.by_assertion_alg, { RS256: 1 });
    });
  });

  it('e. 50 concurrent calls on a cold cache make exactly one token request', TIMEOUT, async () => {
    await tb.reset();
    await withWorker(secretPostVars(), async (worker) => {
      const results = await Promise.all(Array.from({ length: 50 }, () => callDaemon(worker)));
      for (const result of results) assertDownstreamAccepted(result, 'daemon-secret');
      assert.equal((await tb.stats()).token_requests, 1);
      assert.equal((await tb.downstreamStats()).authorized, 50);
    });
  });

  it('f. a wrong secret gives invalid_client and is echoed nowhere', TIMEOUT, async () => {
    await tb.reset();
    await withWorker({ ...secretPostVars(), CLIENT_SECRET: WRONG_SECRET }, async (worker) => {
      const result = await callDaemon(worker);
      assertProviderError(result, 'invalid_client');
      assert.ok(!result.text.includes(WRONG_SECRET), 'secret in the body');
      for (const [name, value] of result.headers) {
        assert.ok(!`${name}: ${value}`.includes(WRONG_SECRET), `secret in header ${name}`);
      }
      assert.ok((await tb.stats()).by_client['daemon-secret'] >= 1, 'the provider was asked');
      assert.equal((await tb.downstreamStats()).requests, 0);
    });
  });

  it('g. a certificate not registered for the client gives invalid_client', TIMEOUT, async () => {
    await tb.reset();
    await withWorker(certificateVars({ CLIENT_CERTIFICATE: credentials.otherCertificatePem }), async (worker) => {
      assertProviderError(await callDaemon(worker), 'invalid_client');
      assert.ok((await tb.stats()).by_client['daemon-cert'] >= 1, 'the provider was asked');
      assert.equal((await tb.downstreamStats()).requests, 0);
    });
  });

  it('j. a federated assertion signed elsewhere (CLIENT_ASSERTION) is sent as is', TIMEOUT, async () => {
    // Stands in for a workload identity token: signed outside the Worker, handed to it as a setting.
    const header = { alg: 'PS256', 'x5t#S256': describeCertificate(credentials.certificatePem).x5tS256 };
    const assertion = await signAssertion({ tokenEndpoint: tb.tokenEndpoint, header });
    await tb.reset();
    const vars = { ...daemonVars(tb, 'secretPost'), CLIENT_ID: clients.certificate.clientId, CLIENT_SECRET: undefined, CLIENT_ASSERTION: assertion };
    await withWorker(vars, async (worker) => {
      assertDownstreamAccepted(await callDaemon(worker), 'daemon-cert');
      const stats = await tb.stats();
      assert.equal(stats.token_requests, 1);
      assert.deepEqual(stats.by_auth, { private_key_jwt: 1 });
    });
  });

  it('k. the caller\'s token is accepted again; the same token altered after it is refused, with no token request', TIMEOUT, async () => {
    await tb.reset();
    await withWorker(secretPostVars(), async (worker) => {
      // The second call is served from the Worker's table of validated tokens.
      assertDownstreamAccepted(await callDaemon(worker), 'daemon-secret');
      assertDownstreamAccepted(await callDaemon(worker), 'daemon-secret');
      const [header, payload, signature] = caller.accessToken.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      const otherSubject = Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url');
      const altered = {
        'signature altered': `${header}.${payload}.${signature.slice(0, -6)}AAAAAA`,
        'payload altered, signature kept': `${header}.${otherSubject}.${signature}`,
        'one character more': `${caller.accessToken}A`,
      };
      for (const [what, token] of Object.entries(altered)) {
        const refused = await readResponse(await fetch(`${worker.url}/daemon/call`, {
          headers: { authorization: `Bearer ${token}` },
        }));
        assert.equal(refused.status, 401, `${what}: ${refused.text}`);
        assert.match(refused.headers.get('www-authenticate'), /^Bearer error="invalid_token", error_description="/, what);
        assert.equal(refused.json?.error, 'invalid_token', what);
      }
      // The good token still passes.
      assertDownstreamAccepted(await callDaemon(worker), 'daemon-secret');
      assert.equal((await tb.stats()).token_requests, 1);
      assert.deepEqual(await tb.downstreamStats(), { requests: 3, authorized: 3 });
    });
  });

  it('i. a missing CLIENT_ID is a configuration error naming it', TIMEOUT, async () => {
    await tb.reset();
    await withWorker({ ...secretPostVars(), CLIENT_ID: undefined }, async (worker) => {
      const result = await callDaemon(worker);
      assert.equal(result.status, 500, result.text);
      assert.equal(result.json?.error, 'configuration_error', result.text);
      assert.match(result.json.error_description, /CLIENT_ID/);
      assert.equal((await tb.stats()).token_requests, 0);
    });
  });
});
