// The daemon scenario on every edge runtime from one description: the reference Worker under
// wrangler dev, the Fastly app under Viceroy, the Spin component under wasmtime serve (see
// ../lib/runtimes.mjs). Each takes an app token from the local OpenID Provider (client
// credentials) and calls the downstream API with it; the provider sits behind the test bed's
// fault-injecting proxy, so a case can add Entra's refresh_in to its answers. Each case resets
// the provider's counters before starting its app, so the counts it asserts include everything
// that app did. GET /daemon/call is protected: calls carry a caller's app-only token for the
// daemon's API (api://daemon, role Daemon.Call), taken once before the cases (so the provider's
// counts never include it); the caller cases check refused callers cause no token request.
// (daemon.test.mjs holds the Worker's further cases: concurrency, KV state across restarts...)
//
//   testbed/node_modules/.bin/node --test testbed/e2e/runtimes.test.mjs
//   EDGE_TOKEN_RUNTIMES="fastly spin" testbed/node_modules/.bin/node --test testbed/e2e/runtimes.test.mjs
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { listFromEnv } from '../lib/env.mjs';
import { FetchBrowser, formsOf } from '../lib/fetch-browser.mjs';
import { readResponse } from '../lib/http.mjs';
import { RUNTIMES, startRuntime } from '../lib/runtimes.mjs';
import {
  callerToken, clients, DAEMON_CALLER_ROLE, daemonVars, DOWNSTREAM_SCOPE, startTestbed, tenantAdmins,
  TOKEN_HELPER_REDIRECT_URI,
} from '../lib/testbed.mjs';
import { eventually } from '../lib/eventually.mjs';
import { freePort } from '../lib/worker.mjs';

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

/** The token endpoint's path behind the fault-injecting proxy. */
const TOKEN_PATH = '/token';

/** The core's delay before its one retry of a 5xx or transport failure, in ms (plus jitter). */
const RETRY_DELAY_MS = 1_000;

/**
 * Whether a token past its refresh time is served from cache and refreshed after the response:
 * on every runtime. The core flags it for tokens in instance memory and in the shared store
 * alike (a Fastly instance serves one request, so it only ever reads the KV Store).
 */
const REFRESH_AFTER_RESPONSE = { workers: true, fastly: true, spin: true };

let tb;
/** Callers' tokens (see callerToken): with the caller role, without it, for another API. */
let callers;
/** Each runtime's port for the admin consent case, chosen first: the provider registers it. */
const consentPorts = {};
// Behind the fault-injecting proxy, so a case can add Entra's refresh_in to token responses.
before(async () => {
  for (const runtime of RUNTIMES) consentPorts[runtime] = await freePort();
  tb = await startTestbed({
    behindProxy: true,
    adminConsentRedirectUris: RUNTIMES.map((runtime) => `http://127.0.0.1:${consentPorts[runtime]}/tenants/callback`),
  });
  callers = {
    allowed: await callerToken(tb),
    withoutRole: await callerToken(tb, { caller: 'withoutRole' }),
    otherApi: await callerToken(tb, { resource: DOWNSTREAM_SCOPE.replace(/\/\.default$/, '') }),
  };
  // Tenant A's administrator consents to the daemon (client daemon-secret), for the
  // multi-tenant case; the provider's redirect back is not followed.
  const consent = new URL(tb.tenants.a.adminConsentUrl);
  consent.search = new URLSearchParams({
    client_id: clients.secretPost.clientId, redirect_uri: TOKEN_HELPER_REDIRECT_URI, scope: DOWNSTREAM_SCOPE,
    state: 'runtimes', login_hint: tenantAdmins.a.username,
  }).toString();
  const consented = await fetch(consent, { redirect: 'manual' });
  assert.match(consented.headers.get('location') ?? '', /admin_consent=True/, await consented.text());
});
after(async () => { await tb?.stop(); });

async function withApp(runtime, vars, fn, { port } = {}) {
  const app = await startRuntime(runtime, { vars, port });
  try {
    return await fn(app);
  } finally {
    await app.stop();
  }
}

async function request(app, route, init) {
  return readResponse(await fetch(`${app.url}${route}`, init));
}

/** GET /daemon/call as `authorization` (default: a caller holding the caller role; null: none). */
const callDaemon = (app, authorization = callers.allowed.authorization) => request(
  app, '/daemon/call', authorization === null ? undefined : { headers: { authorization } },
);

/**
 * A multi-tenant daemon whose home tenant is B of the provider's Entra-shaped tenants
 * (lib/tenants.mjs), open to any caller (the tenant cases are about tenants, not callers).
 */
function multiTenantVars() {
  return {
    ...daemonVars(tb, 'secretPost', { public: true }),
    AUTHORITY: `${new URL(tb.issuer).origin}/${tb.tenants.b.id}`,
    AUTHORITY_KIND: 'entra',
  };
}

/** Nothing was asked of the provider's token endpoint nor of the downstream. */
async function assertNoTokenRequest() {
  assert.equal((await tb.stats()).token_requests, 0, 'no token request');
  assert.equal((await tb.proxy.requests(TOKEN_PATH)).length, 0, 'nothing reached the token endpoint');
  assert.equal((await tb.downstreamStats()).requests, 0, 'no downstream call');
}


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

    it('a multi-tenant app: ?tenant= takes the app token from that customer tenant; a malformed tenant gets no token request', TIMEOUT, async () => {
      // The vendor's home tenant is B (Entra-shaped, lib/tenants.mjs); tenant A consented.
      const vars = multiTenantVars();
      await tb.reset();
      await withApp(runtime, vars, async (app) => {
        const refused = await request(app, '/daemon/call?tenant=not%20a%20tenant');
        assert.equal(refused.status, 403, refused.text);
        assert.equal(refused.json?.error, 'tenant_not_onboarded');
        const before = Object.values((await tb.stats()).by_tenant).map((counts) => counts.token_requests);
        assert.deepEqual(before, [0, 0], 'no token request in any tenant');

        const call = await request(app, `/daemon/call?tenant=${tb.tenants.a.id}`);
        assert.equal(call.status, 200, call.text);
        assert.equal(call.json.claims.iss, tb.tenants.a.issuer);
        assert.equal(call.json.claims.tid, tb.tenants.a.id);
        assert.equal(call.json.claims.azp, clients.secretPost.clientId);
        const stats = await tb.stats();
        assert.equal(stats.by_tenant[tb.tenants.a.id]?.token_requests, 1, JSON.stringify(stats.by_tenant));
        assert.equal(stats.token_requests, 0, 'nothing at the root issuer');
      });
    });

    it('a multi-tenant app onboards a tenant by admin consent, then calls in it; the registry is never open', TIMEOUT, async () => {
      const port = consentPorts[runtime];
      const appUrl = `http://127.0.0.1:${port}`;
      const vars = { ...multiTenantVars(), ADMIN_CONSENT_REDIRECT_URI: `${appUrl}/tenants/callback` };
      await tb.reset();
      await withApp(runtime, vars, async (app) => {
        const before = await request(app, `/daemon/call?tenant=${tb.tenants.a.id}`);
        assert.equal(before.status, 403, before.text);
        assert.equal(before.json?.error, 'tenant_not_onboarded');

        // The administrator's browser: the app's consent route, the provider's page, accept,
        // back to the app's callback (which confirms with a token request in tenant A).
        const browser = new FetchBrowser();
        const providerOrigin = new URL(tb.tenants.a.adminConsentUrl).origin;
        const page = await browser.navigate(`${app.url}/tenants/consent?tenant=${tb.tenants.a.id}`, {
          stayOn: [app.url, providerOrigin],
        });
        assert.equal(page.status, 200, page.text.slice(0, 300));
        const [form] = formsOf(page.text, page.url);
        const done = await browser.navigate(form.action, {
          method: 'POST',
          form: { ...Object.fromEntries(form.fields), admin: tenantAdmins.a.username, action: 'accept' },
          stayOn: [app.url, providerOrigin],
        });
        assert.equal(done.status, 200, done.text);
        assert.ok(done.url.startsWith(`${appUrl}/tenants/callback?`), done.url);
        assert.ok(done.text.includes(tb.tenants.a.id), done.text);
        assert.equal((await tb.stats()).by_tenant[tb.tenants.a.id].token_requests, 1, 'confirmed in tenant A');

        const call = await request(app, `/daemon/call?tenant=${tb.tenants.a.id}`);
        assert.equal(call.status, 200, call.text);
        assert.equal(call.json.claims.iss, tb.tenants.a.issuer);
        const other = await request(app, `/daemon/call?tenant=${tb.tenants.b.id}`);
        assert.equal(other.status, 403, 'tenant B never onboarded');
        // DAEMON_PUBLIC opens /daemon/call, never the registry.
        assert.equal((await request(app, '/tenants')).status, 403);
      }, { port });
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

    it('certificate: a refresh within the assertion\'s lifetime reuses it where the instance lives on', TIMEOUT, async () => {
      await tb.reset();
      await withApp(runtime, daemonVars(tb, 'certificate'), async (app) => {
        try {
          // As in the refresh case below: the first token is due 3 s after it is requested.
          await tb.proxy.setFaults({ [TOKEN_PATH]: { type: 'refresh_in', seconds: 3 } });
          assertDownstreamAccepted(await callDaemon(app), 'daemon-cert');
          await tb.proxy.setFaults({});
          await sleep(4_100);
          const second = await callDaemon(app);
          assertDownstreamAccepted(second, 'daemon-cert');
          // Requests are counted on arrival, outcomes once answered: wait for the refresh's answer.
          const answered = async () => (await tb.stats()).by_grant_outcome['client_credentials:200'] >= 2;
          assert.ok(await eventually(answered, 5_000), 'the refresh was answered');
          const stats = await tb.stats();
          assert.equal(stats.token_requests, 2);
          assert.deepEqual(stats.by_grant_outcome, { 'client_credentials:200': 2 });
          // The assertion lives in instance memory, like the token: the refresh reuses it when
          // the second call ran in the instance of the first (a token from memory says so); a
          // Fastly instance serves one request, so there the refresh signs a new one.
          const sameInstance = second.headers.get('x-edge-token-source') === 'memory';
          if (runtime === 'fastly') assert.equal(sameInstance, false);
          assert.equal(stats.assertion_reuse, sameInstance ? 1 : 0);
        } finally {
          await tb.proxy.setFaults({});
        }
      });
    });

    it('refresh at refresh_in: one new token, then served from cache again', TIMEOUT, async () => {
      await tb.reset();
      await withApp(runtime, daemonVars(tb, 'secretPost'), async (app) => {
        try {
          // The provider's answer gains refresh_in: 3 (Entra sends it; oidc-provider does not): long
      // enough that the first call (a cold app on a busy machine) ends before it is due.
          await tb.proxy.setFaults({ [TOKEN_PATH]: { type: 'refresh_in', seconds: 3 } });
          const first = await callDaemon(app);
          assertDownstreamAccepted(first, 'daemon-secret');
          // The next token comes without refresh_in, so exactly one refresh happens.
          await tb.proxy.setFaults({});
          // refresh_on = requested_at + 3 s (whole seconds); jitter only brings it forward.
          await sleep(4_100);

          const second = await callDaemon(app);
          assertDownstreamAccepted(second, 'daemon-secret');
          if (REFRESH_AFTER_RESPONSE[runtime]) {
            assert.ok(CACHED_SOURCES[runtime].includes(second.headers.get('x-edge-token-source')));
            assert.equal(second.json.claims.jti, first.json.claims.jti, 'the cached token answers at once');
            const refreshed = await eventually(async () => (await tb.stats()).token_requests >= 2, 5_000);
            assert.ok(refreshed, 'the refresh after the response reached the provider within 5 s');
          } else {
            assert.equal(second.headers.get('x-edge-token-source'), 'provider');
            assert.notEqual(second.json.claims.jti, first.json.claims.jti, 'refreshed inline');
          }

          // The app stores the new token once the provider's answer is back.
          let third;
          const used = await eventually(async () => {
            third = await callDaemon(app);
            return third.json?.claims?.jti !== first.json.claims.jti;
          }, 3_000);
          assert.ok(used, 'the refreshed token is used');
          assertDownstreamAccepted(third, 'daemon-secret');
          assert.ok(CACHED_SOURCES[runtime].includes(third.headers.get('x-edge-token-source')));
          assert.equal((await tb.stats()).token_requests, 2, 'one refresh, no more');
        } finally {
          await tb.proxy.setFaults({});
        }
      });
    });

    it('a 503 without Retry-After is retried once, after the retry delay, and the call succeeds', TIMEOUT, async () => {
      await tb.reset();
      await withApp(runtime, daemonVars(tb, 'secretPost'), async (app) => {
        try {
          // The first token request meets an outage page; the retry reaches the provider.
          await tb.proxy.setFaults({ [TOKEN_PATH]: { type: 'unavailable', times: 1 } });
          const result = await callDaemon(app);
          assertDownstreamAccepted(result, 'daemon-secret');
          const attempts = await tb.proxy.requests(TOKEN_PATH);
          assert.deepEqual(attempts.map((entry) => entry.outcome), ['unavailable', 'forwarded']);
          // The contract's retry delay (1000 ms plus jitter) is honoured on every runtime: on
          // Fastly, too, the one retry waits instead of following at once.
          const gap = attempts[1].at - attempts[0].at;
          assert.ok(gap >= RETRY_DELAY_MS - 100, `retry ${gap} ms after the first attempt`);
          assert.notEqual(
            attempts[0].headers['client-request-id'],
            attempts[1].headers['client-request-id'],
            'each attempt has its own client-request-id',
          );
          assert.equal((await tb.stats()).token_requests, 1, 'one request reached the provider');
        } finally {
          await tb.proxy.setFaults({});
        }
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

    it('callers: no token, a bad token or another API\'s get 401, a token without the caller role 403, with no token request', TIMEOUT, async () => {
      await tb.reset();
      await withApp(runtime, daemonVars(tb, 'secretPost'), async (app) => {
        const missing = await callDaemon(app, null);
        assert.equal(missing.status, 401, missing.text);
        assert.equal(missing.headers.get('www-authenticate'), 'Bearer');
        assert.deepEqual(missing.json, { error: 'missing_token' });

        for (const authorization of [
          'Basic ZGFlbW9uOnB3',
          'Bearer not.a.jwt',
          `Bearer ${callers.allowed.accessToken.slice(0, -6)}AAAAAA`, // signature altered
          callers.otherApi.authorization, // aud api://downstream
        ]) {
          const refused = await callDaemon(app, authorization);
          assert.equal(refused.status, 401, `${authorization.slice(0, 20)}: ${refused.text}`);
          assert.match(refused.headers.get('www-authenticate'), /^Bearer error="invalid_token", error_description="/);
          assert.equal(refused.json?.error, 'invalid_token');
        }

        assert.deepEqual(callers.withoutRole.claims.roles, ['Reports.Read']);
        const forbidden = await callDaemon(app, callers.withoutRole.authorization);
        assert.equal(forbidden.status, 403, forbidden.text);
        assert.equal(
          forbidden.headers.get('www-authenticate'),
          `Bearer error="insufficient_scope", error_description="the token lacks the required scope or role", scope="${DAEMON_CALLER_ROLE}"`,
        );
        assert.deepEqual(forbidden.json, { error: 'insufficient_scope' });
        for (const reply of [missing, forbidden]) {
          assert.equal(reply.headers.get('x-edge-token-source'), null);
        }
        await assertNoTokenRequest();

        // The same app serves a caller holding the role.
        assertDownstreamAccepted(await callDaemon(app), 'daemon-secret');
        assert.equal((await tb.stats()).token_requests, 1);
      });
    });

    it('no caller policy is a configuration error; DAEMON_PUBLIC=true opens the route (unsafe)', TIMEOUT, async () => {
      await tb.reset();
      const unprotected = { ...daemonVars(tb, 'secretPost'), DAEMON_API_AUDIENCE: undefined, DAEMON_CALLER_ROLES: undefined };
      await withApp(runtime, unprotected, async (app) => {
        const result = await callDaemon(app, null);
        assert.equal(result.status, 500, result.text);
        assert.equal(result.json?.error, 'configuration_error', result.text);
        assert.match(result.json.error_description, /DAEMON_API_AUDIENCE/);
        await assertNoTokenRequest();
      });
      await withApp(runtime, daemonVars(tb, 'secretPost', { public: true }), async (app) => {
        assertDownstreamAccepted(await callDaemon(app, null), 'daemon-secret');
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
