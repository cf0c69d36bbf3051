// A multi-tenant daemon as the Microsoft identity platform describes it, in `wrangler dev`
// against the test bed's Entra-shaped tenants (lib/tenants.mjs): the vendor's daemon lives in
// tenant B (its home tenant: AUTHORITY is tenant B, its callers hold tenant B tokens), and a
// customer, tenant A, onboards it by admin consent.
//
// - Before onboarding, `/daemon/call?tenant=A` is refused (403 tenant_not_onboarded) with no
//   token request; so is a tenant that never consented.
// - Tenant A's administrator follows `/tenants/consent?tenant=A` to the provider's admin consent
//   page, accepts, and comes back to `/tenants/callback`: the Worker confirms the consent with a
//   token request in tenant A, records tenant A, and `/daemon/call?tenant=A` reaches the
//   downstream with that token (tenant A's issuer).
// - A callback written by hand with a valid state of one's own (anyone can start a consent)
//   naming a tenant that did not consent is refused: the provider does not confirm it.
// - A cancelled consent, a forged state and a replayed callback are refused with nothing
//   recorded; the management routes (`GET /tenants`, `DELETE /tenants/{tid}`) refuse callers
//   without the daemon's app role; offboarding makes tenant A's calls refused again.
// - The scheduled handler (the cron trigger, run through wrangler's local scheduled route)
//   refreshes every tenant's token ahead of the calls (the home tenant B and the onboarded A),
//   and calls SCHEDULED_CALL_URL in each. Access tokens live 320 s here, which the Worker counts
//   as due 20 s after issue (it refreshes 300 s before expiry), so a run can find them due.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { FetchBrowser, formsOf } from '../lib/fetch-browser.mjs';
import { readResponse } from '../lib/http.mjs';
import {
  clients, DAEMON_API_AUDIENCE, DAEMON_CALLER_ROLE, DOWNSTREAM_SCOPE, newCookieKey, startTestbed,
  tenantAdmins, TOKEN_HELPER_REDIRECT_URI,
} from '../lib/testbed.mjs';
import { freePort, startWorker } from '../lib/worker.mjs';

const WORKER_TIMEOUT = { timeout: 360_000 };
/** Access token lifetime: due for the Worker (300 s before expiry) 20 s after issue. */
const ACCESS_TOKEN_TTL = 320;
const DUE_AFTER_MS = (ACCESS_TOKEN_TTL - 300) * 1_000;

let tb;
let worker;
let workerUrl;
let caller;
let persistTo;

/** Tenant B's admin consents to `clientId` at the provider (the redirect is not followed). */
async function consentAtProvider(tenant, admin, clientId) {
  const url = new URL(tenant.adminConsentUrl);
  url.search = new URLSearchParams({
    client_id: clientId, redirect_uri: TOKEN_HELPER_REDIRECT_URI, scope: `${DAEMON_API_AUDIENCE}/.default`,
    state: 'testbed', login_hint: admin.username,
  }).toString();
  const response = await fetch(url, { redirect: 'manual' });
  assert.equal(response.status, 302, await response.text());
  assert.match(response.headers.get('location'), /admin_consent=True/);
}

/** A tenant B app token for the daemon's API, as the daemon's callers hold. */
async function tenantCallerToken(tenant) {
  const response = await fetch(tenant.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials', scope: `${DAEMON_API_AUDIENCE}/.default`,
      client_id: clients.daemonCaller.clientId, client_secret: clients.daemonCaller.secret,
    }),
  });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return `Bearer ${body.access_token}`;
}

before(async () => {
  const port = await freePort();
  workerUrl = `http://127.0.0.1:${port}`;
  tb = await startTestbed({
    accessTokenTtl: ACCESS_TOKEN_TTL,
    adminConsentRedirectUris: [`${workerUrl}/tenants/callback`],
  });
  const { a, b } = tb.tenants;
  await consentAtProvider(b, tenantAdmins.b, clients.daemonCaller.clientId);
  // The daemon's own registration is in its home tenant too (for its calls without `tenant`).
  await consentAtProvider(b, tenantAdmins.b, clients.secretPost.clientId);
  caller = await tenantCallerToken(b);
  persistTo = await mkdtemp(path.join(tmpdir(), 'edge-token-tenants-'));
  const base = new URL(tb.issuer).origin;
  assert.ok(a.issuer.startsWith(base));
  worker = await startWorker({
    port,
    persistTo,
    vars: {
      AUTHORITY: `${base}/${b.id}`,
      AUTHORITY_KIND: 'entra',
      CLIENT_ID: clients.secretPost.clientId,
      CLIENT_SECRET: clients.secretPost.secret,
      DOWNSTREAM_URL: `${tb.downstreamUrl}/api/whoami`,
      DOWNSTREAM_SCOPES: DOWNSTREAM_SCOPE,
      TOKEN_CACHE_KEY: newCookieKey(),
      DAEMON_API_AUDIENCE,
      DAEMON_CALLER_ROLES: DAEMON_CALLER_ROLE,
      ADMIN_CONSENT_REDIRECT_URI: `${workerUrl}/tenants/callback`,
      SCHEDULED_CALL_URL: `${tb.downstreamUrl}/api/whoami`,
    },
  });
}, WORKER_TIMEOUT);

after(async () => {
  await worker?.stop();
  await tb?.stop();
  if (persistTo) await rm(persistTo, { recursive: true, force: true });
});

async function daemonCall(tenant, authorization = caller) {
  const query = tenant ? `?tenant=${encodeURIComponent(tenant)}` : '';
  return readResponse(await fetch(`${workerUrl}/daemon/call${query}`, { headers: { authorization } }));
}

async function listTenants(authorization = caller) {
  const headers = authorization ? { authorization } : {};
  return readResponse(await fetch(`${workerUrl}/tenants`, { headers }));
}

const tenantTokenRequests = async (tenant) => (await tb.stats()).by_tenant?.[tenant.id]?.token_requests ?? 0;

/**
 * The administrator's browser from `/tenants/consent?tenant=` to the provider's consent page,
 * then `decision` ('accept' or 'cancel') as `admin`; returns the browser and the last answer
 * (the Worker's callback page, unless `stopAtCallback`).
 */
async function consentInBrowser(tenant, admin, decision, { stopAtCallback = false } = {}) {
  const browser = new FetchBrowser();
  const providerOrigin = new URL(tenant.adminConsentUrl).origin;
  const page = await browser.navigate(`${workerUrl}/tenants/consent?tenant=${tenant.id}`, {
    stayOn: [workerUrl, providerOrigin],
  });
  assert.equal(page.status, 200, page.text.slice(0, 300));
  assert.ok(page.url.startsWith(`${tenant.adminConsentUrl}?`), page.url);
  const [form] = formsOf(page.text, page.url);
  const fields = Object.fromEntries(form.fields);
  const submitted = await browser.navigate(form.action, {
    method: 'POST',
    form: { ...fields, admin: admin.username, action: decision },
    stayOn: stopAtCallback ? [providerOrigin] : [workerUrl, providerOrigin],
  });
  return { browser, answer: submitted };
}

describe('a multi-tenant daemon: admin consent onboarding and per-tenant app tokens', () => {
  it('refuses a tenant that is not onboarded, and unauthenticated tenant management, with no token request', async () => {
    await tb.reset();
    const refused = await daemonCall(tb.tenants.a.id);
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.json.error, 'tenant_not_onboarded');
    assert.equal(await tenantTokenRequests(tb.tenants.a), 0);
    assert.equal((await listTenants(null)).status, 401);
    const unauthenticated = await fetch(`${workerUrl}/tenants/${tb.tenants.a.id}`, { method: 'DELETE' });
    assert.equal(unauthenticated.status, 401);
    assert.deepEqual((await listTenants()).json, { tenants: [] });
  });

  it('a cancelled consent and a forged state record nothing', async () => {
    const { answer } = await consentInBrowser(tb.tenants.a, tenantAdmins.a, 'cancel');
    assert.equal(answer.status, 400, answer.text);
    assert.ok(answer.url.startsWith(`${workerUrl}/tenants/callback?`));
    assert.match(answer.text, /did not grant/);
    assert.doesNotMatch(answer.text, /AADSTS|declined/, 'no provider text');

    // A forged state: the browser holds a consent in progress, the answer is not its own.
    const browser = new FetchBrowser();
    await browser.request(`${workerUrl}/tenants/consent?tenant=${tb.tenants.a.id}`);
    const forged = await browser.request(
      `${workerUrl}/tenants/callback?admin_consent=True&tenant=${tb.tenants.a.id}&state=forged-0123456789`,
    );
    assert.equal(forged.status, 400);

    // A valid state of one's own, and a callback naming tenant A, which never consented: the
    // provider refuses the confirming token request, nothing is recorded.
    await tb.reset();
    const started = await browser.request(`${workerUrl}/tenants/consent?tenant=${tb.tenants.a.id}`);
    const state = new URL(started.location).searchParams.get('state');
    const unconfirmed = await browser.request(
      `${workerUrl}/tenants/callback?admin_consent=True&tenant=${tb.tenants.a.id}&state=${encodeURIComponent(state)}`,
    );
    assert.equal(unconfirmed.status, 400, unconfirmed.text);
    assert.match(unconfirmed.text, /does not confirm/);
    assert.equal((await tb.stats()).by_tenant[tb.tenants.a.id]?.missing_consent, 1);
    assert.deepEqual((await listTenants()).json, { tenants: [] });
    assert.equal((await daemonCall(tb.tenants.a.id)).status, 403);
  });

  it('onboards tenant A by admin consent; its calls then carry tenant A tokens; a replayed callback is refused', async () => {
    await tb.reset();
    const { browser, answer } = await consentInBrowser(tb.tenants.a, tenantAdmins.a, 'accept', { stopAtCallback: true });
    // The provider's redirect back, in Entra's shape; followed by the admin's browser.
    const callback = new URL(answer.leftTo);
    assert.equal(`${callback.origin}${callback.pathname}`, `${workerUrl}/tenants/callback`);
    assert.equal(callback.searchParams.get('admin_consent'), 'True');
    assert.equal(callback.searchParams.get('tenant'), tb.tenants.a.id);
    const cookies = browser.cookieHeader(callback.href);
    const onboarded = await browser.request(callback.href);
    assert.equal(onboarded.status, 200, onboarded.text);
    assert.ok(onboarded.text.includes(tb.tenants.a.id));
    const onboardingStats = await tb.stats();
    assert.equal(onboardingStats.admin_consents[tb.tenants.a.id], 1);
    assert.equal(onboardingStats.by_tenant[tb.tenants.a.id]?.token_requests, 1, 'the consent confirmed by a token request');

    // The same answer again, even with the consent cookie copied before it was cleared.
    const replayed = await readResponse(await fetch(callback.href, { headers: { cookie: cookies } }));
    assert.equal(replayed.status, 400, replayed.text);

    const listed = await listTenants();
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(listed.json.tenants.map((t) => [t.tenant_id, t.scopes]), [[tb.tenants.a.id, DOWNSTREAM_SCOPE]]);

    // The confirming token serves the first calls.
    await tb.reset();
    const call = await daemonCall(tb.tenants.a.id);
    assert.equal(call.status, 200, call.text);
    assert.equal(call.headers.get('x-edge-token-source'), 'memory');
    assert.equal(call.json.claims.iss, tb.tenants.a.issuer);
    assert.equal(call.json.claims.tid, tb.tenants.a.id);
    assert.equal(call.json.claims.azp, clients.secretPost.clientId);
    const again = await daemonCall(tb.tenants.a.id.toUpperCase());
    assert.equal(again.status, 200, again.text);
    assert.equal(again.headers.get('x-edge-token-source'), 'memory');
    assert.equal(await tenantTokenRequests(tb.tenants.a), 0);
    // Tenant B (the daemon's home tenant) never onboarded as a customer: refused.
    assert.equal((await daemonCall(tb.tenants.b.id)).status, 403);
  });

  it('the scheduled handler refreshes every tenant\'s token ahead of the calls and calls the batch endpoint in each', { timeout: 120_000 }, async () => {
    const scheduled = () => fetch(`${workerUrl}/cdn-cgi/local/scheduled?cron=${encodeURIComponent('*/5 * * * *')}`);
    // Tenant A's token (from its onboarding) is cached; the home tenant's is not yet. Once
    // A's is due, a run gets both.
    await sleep(DUE_AFTER_MS + 1_000);
    await tb.reset();
    const run = await scheduled();
    assert.equal(run.status, 200, await run.text());
    const stats = await tb.stats();
    assert.equal(stats.by_tenant[tb.tenants.b.id]?.token_requests, 1, JSON.stringify(stats.by_tenant));
    assert.equal(stats.by_tenant[tb.tenants.a.id]?.token_requests, 1, 'A\'s due token refreshed');
    const downstream = await tb.downstreamStats();
    assert.deepEqual(downstream, { requests: 2, authorized: 2 }, 'SCHEDULED_CALL_URL in both tenants');

    // The calls that follow find both tokens.
    await tb.reset();
    for (const tenant of [undefined, tb.tenants.a.id]) {
      const call = await daemonCall(tenant);
      assert.equal(call.status, 200, call.text);
      assert.equal(call.headers.get('x-edge-token-source'), 'memory');
    }
    assert.equal((await tb.stats()).token_requests, 0);
  });

  it('offboarding removes the tenant and its calls are refused again', async () => {
    const offboarded = await readResponse(await fetch(`${workerUrl}/tenants/${tb.tenants.a.id}`, {
      method: 'DELETE', headers: { authorization: caller },
    }));
    assert.equal(offboarded.status, 200, offboarded.text);
    assert.deepEqual(offboarded.json, { offboarded: tb.tenants.a.id });
    assert.deepEqual((await listTenants()).json, { tenants: [] });
    await tb.reset();
    assert.equal((await daemonCall(tb.tenants.a.id)).status, 403);
    assert.equal(await tenantTokenRequests(tb.tenants.a), 0);
    const again = await fetch(`${workerUrl}/tenants/${tb.tenants.a.id}`, { method: 'DELETE', headers: { authorization: caller } });
    assert.equal(again.status, 404);
  });
});
