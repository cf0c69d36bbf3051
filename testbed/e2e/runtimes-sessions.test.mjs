// The web app's sessions on every edge runtime, in headless Chromium: incremental consent,
// several redirect URIs picked by the request's origin, logout that reaches every session of a
// provider session (front-channel and back-channel), and the idle and absolute session
// timeouts, on the reference Worker (wrangler dev), the Fastly app (Viceroy) and the Spin
// component (wasmtime serve), all routed by the core's route table (WebApp::route).
//
//   testbed/node_modules/.bin/node --test testbed/e2e/runtimes-sessions.test.mjs
//   EDGE_TOKEN_RUNTIMES="fastly spin" testbed/node_modules/.bin/node --test testbed/e2e/runtimes-sessions.test.mjs
//
// Each runtime has its own test bed (provider and downstream): the provider registers one
// front-channel and one back-channel logout URI per client, that runtime's web app's. The
// provider asks users to consent to API scopes one request at a time (CONSENT_MODE=per-scope,
// lib/consent.mjs). Per runtime two apps run: the web app, reachable as http://127.0.0.1:P and
// http://localhost:P (REDIRECT_URI lists both callbacks, both registered), with the smallest
// session timeouts allowed (SESSION_ABSOLUTE_TIMEOUT_SECS=60, SESSION_IDLE_TIMEOUT_SECS=30),
// and the web API it calls on GET /me/api. The timeouts are checked last, for every runtime at
// once, by replaying session cookies outside the browser (the server's decision, not the
// browser's cookie expiry).
//
// Pages are HTML on Workers and plain text on Fastly and Spin: assertions read the page's text,
// the same sentences on every runtime.
//
// The origin: Workers and Viceroy hand the app the URL with the Host header's authority. Under
// wasmtime serve 49 the Spin component gets neither: its request URI is the path alone and the
// `Host` header is not among its headers (measured), so the adapter cannot tell the origin and
// the core uses the first REDIRECT_URI; the two origin tests run there as TODO (ORIGIN_UNKNOWN).
// Under `spin up` the adapter reads Spin's `spin-full-url` header (SpinHost::request_url), which
// no runtime here can exercise.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';

import { decodeJwt } from 'jose';

import {
  deletesSession, getWithHost, renewsSession, SESSION_COOKIE, withSessionCookie,
} from '../lib/app-requests.mjs';
import {
  acceptConsent, jsonOf, listedScopes, meStatus, navigate, pageText, recordRequests, signIn, signInUrl, signOut,
  twoBrowsersOneProviderSession, visit,
} from '../lib/browser-flows.mjs';
import { closeContext, launchChromium, newContext } from '../lib/chromium.mjs';
import { listFromEnv } from '../lib/env.mjs';
import { RUNTIMES, startRuntime } from '../lib/runtimes.mjs';
import {
  DOWNSTREAM_SCOPE, startTestbed, WEBAPI_SCOPE, webapiVars, webappUris, webappVars,
} from '../lib/testbed.mjs';
import { freePort } from '../lib/worker.mjs';

/** Room for a first build (Worker, Fastly and Spin apps) and every app's start. */
const START_TIMEOUT = { timeout: 900_000 };
/** The smallest timeouts the web app accepts (core: session::lifetime). */
const ABSOLUTE_SECS = 60;
const IDLE_SECS = 30;

/**
 * Runtimes whose web app cannot tell the request's origin, with why: the core then uses the
 * first REDIRECT_URI for every request (RedirectUris::for_origin), so neither the choice of a
 * redirect URI by origin nor the refusal of an unregistered Host can hold there. Their tests
 * still run, reported as TODO (not failing the run), so that they show when it changes.
 */
const ORIGIN_UNKNOWN = {
  spin: 'wasmtime serve 49 gives the component neither an absolute request URI nor the Host header: '
    + 'no origin, so every request gets the first REDIRECT_URI',
};

const runtimes = listFromEnv('EDGE_TOKEN_RUNTIMES', RUNTIMES);
let browser;
/** Per runtime: its test bed, web API, web app and the web app's two origins. */
const beds = {};
const stops = [];

/** Starts `runtime`'s test bed, web API and web app (see the module comment). */
async function startBed(runtime) {
  const port = await freePort();
  const origins = { ip: `http://127.0.0.1:${port}`, name: `http://localhost:${port}` };
  const apps = [webappUris(origins.ip), webappUris(origins.name)];
  const tb = await startTestbed({
    consent: 'per-scope',
    webappRedirectUris: apps.map((app) => app.redirectUri),
    webappPostLogoutRedirectUris: apps.map((app) => app.postLogoutRedirectUri),
    webappLogoutUris: { frontchannel: apps[0].frontchannelLogoutUri, backchannel: apps[0].backchannelLogoutUri },
  });
  stops.push(() => tb.stop());
  // The web API first: the web app's settings name its URL (WEB_API_URL).
  const webapi = await startRuntime(runtime, { vars: webapiVars(tb) });
  stops.push(() => webapi.stop());
  const webapp = await startRuntime(runtime, {
    vars: {
      ...webappVars(tb, { workerUrl: origins.ip, webApiUrl: webapi.url }),
      REDIRECT_URI: apps.map((app) => app.redirectUri).join(' '),
      SESSION_ABSOLUTE_TIMEOUT_SECS: String(ABSOLUTE_SECS),
      SESSION_IDLE_TIMEOUT_SECS: String(IDLE_SECS),
    },
    port,
  });
  stops.push(() => webapp.stop());
  beds[runtime] = { tb, webapi, webapp, origins };
}

before(async () => {
  browser = await launchChromium();
  // The runtimes start side by side; one that fails fails the file, the others are stopped in after().
  const started = await Promise.allSettled(runtimes.map(startBed));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}, START_TIMEOUT);

after(async () => {
  await browser?.close();
  for (const stop of stops.reverse()) await stop();
});

async function newPage() {
  return (await newContext(browser)).newPage();
}

/**
 * A new browser where `user` signs in to `bed`'s web app (consenting to the downstream API, as
 * the sign-in asks), then goes to GET /me/api: the refresh token cannot get the web API's
 * scope (one refresh refused, consent_required), so the provider's consent page must ask for
 * exactly that scope. Returns the page, on it, and the authorization requests made since the
 * sign-in (counters reset after it).
 */
async function askedForWebApiScope({ tb, origins }, user) {
  const page = await newPage();
  await signIn(page, origins.ip, tb.issuer, { user, consent: [DOWNSTREAM_SCOPE] });
  await tb.reset();
  const authorizations = recordRequests(page, tb.authorizationEndpoint);
  await visit(page, `${origins.ip}/me/api`, { origin: tb.issuer });
  assert.deepEqual(await listedScopes(page, tb.issuer), [WEBAPI_SCOPE]);
  assert.deepEqual((await tb.stats()).by_grant_outcome, { 'refresh_token:400': 1 });
  return { page, authorizations };
}

for (const runtime of runtimes) {
  describe(`web app sessions on ${runtime}`, () => {
    /** This runtime's test bed, apps and origins (started in the file's before()). */
    const bed = () => beds[runtime];

    it('incremental consent: one prompt for exactly the web API\'s scope, back to /me/api, then 200', async () => {
      const { tb, origins } = bed();
      const { page, authorizations } = await askedForWebApiScope(bed(), 'alice');
      const answer = await acceptConsent(page, tb.issuer, [WEBAPI_SCOPE], (u) => u.origin === origins.ip);
      assert.equal(page.url(), `${origins.ip}/me/api`);
      assert.equal(answer.status(), 200, await answer.text());
      const body = await jsonOf(answer);
      assert.equal(body.ok, true, JSON.stringify(body));
      assert.equal(body.claims.sub, 'alice');
      const stats = await tb.stats();
      assert.equal(stats.consent_prompts, 1);
      assert.equal(stats.by_grant_outcome['authorization_code:200'], 1, JSON.stringify(stats.by_grant_outcome));
      assert.equal(authorizations.length, 1, 'one trip to the provider');

      // Consented now: no prompt; the downstream API is still served from the new session.
      const again = await visit(page, `${origins.ip}/me/api`);
      assert.equal(again.status(), 200, await again.text());
      const call = await visit(page, `${origins.ip}/me/call`);
      assert.equal(call.status(), 200, await call.text());
      assert.equal((await tb.stats()).consent_prompts, 1);
      await closeContext(page.context());
    });

    it('a declined consent ends on a 403 page, with no second trip to the provider', async () => {
      const { tb, origins } = bed();
      const { page, authorizations } = await askedForWebApiScope(bed(), 'bob');
      const declined = await navigate(page, () => page.click('#consent-decline'), (u) => u.origin === origins.ip);
      assert.equal(declined.status(), 403, await declined.text());
      assert.ok(page.url().startsWith(`${origins.ip}/auth/callback?`), page.url());
      const text = await pageText(page);
      assert.match(text, /Access denied/);
      assert.match(text, /The permissions this page needs were not granted\./);
      const stats = await tb.stats();
      assert.equal(stats.consent_prompts, 1);
      // One refresh refused for consent, no code redeemed, nothing asked again.
      assert.deepEqual(stats.by_grant_outcome, { 'refresh_token:400': 1 });
      assert.equal(authorizations.length, 1, 'no second authorization request');
      // Bob's session is intact: the downstream API still answers for him.
      const call = await visit(page, `${origins.ip}/me/call`);
      assert.equal(call.status(), 200, await call.text());
      await closeContext(page.context());
    });

    it('two origins: a sign-in at each uses its own redirect URI and comes back to it', { todo: ORIGIN_UNKNOWN[runtime] }, async () => {
      const { tb, origins } = bed();
      const atEither = (u) => u.origin === origins.ip || u.origin === origins.name;
      for (const origin of [origins.ip, origins.name]) {
        const page = await newPage();
        const authorizations = recordRequests(page, tb.authorizationEndpoint);
        const url = signInUrl(origin, { loginHint: 'carol' });
        // Carol consents to the downstream API at her first sign-in only.
        const first = origin === origins.ip;
        let landed = await visit(page, url, { until: first ? (u) => u.origin === tb.issuer : atEither });
        if (first) landed = await acceptConsent(page, tb.issuer, [DOWNSTREAM_SCOPE], atEither);
        assert.equal(authorizations.length, 1);
        assert.equal(new URL(authorizations[0].url).searchParams.get('redirect_uri'), `${origin}/auth/callback`);
        assert.equal(page.url(), `${origin}/me`);
        assert.equal(landed.status(), 200, await landed.text());
        assert.equal((await jsonOf(landed)).sub, 'carol');
        await closeContext(page.context());
      }
    });

    it('an unregistered Host is refused with 400, before any provider request', { todo: ORIGIN_UNKNOWN[runtime] }, async () => {
      const { tb, origins } = bed();
      await tb.reset();
      const answer = await getWithHost(origins.ip, `preview.example.net:${new URL(origins.ip).port}`, '/auth/sign-in?returnTo=%2F');
      assert.equal(answer.status, 400, answer.text);
      assert.match(answer.text, /not a registered address/);
      assert.equal(answer.headers.location, undefined);
      assert.equal(answer.headers['set-cookie'], undefined);
      const stats = await tb.stats();
      assert.equal(stats.discovery_requests, 0);
      assert.equal(stats.token_requests, 0);
    });

    it('a sign-out in one browser ends the session of another browser in the same provider session (back- and front-channel)', async () => {
      const { tb, webapp } = bed();
      const { a, b, sid } = await twoBrowsersOneProviderSession(browser, webapp.url, tb.issuer);
      const sentBefore = (await tb.logoutTokens()).length;
      const frames = [];
      a.on('response', (response) => {
        if (response.url().startsWith(`${webapp.url}/auth/frontchannel-logout?`)) frames.push(response);
      });

      await signOut(a, webapp.url);

      const tokens = (await tb.logoutTokens()).slice(sentBefore);
      assert.equal(tokens.length, 1, 'the provider POSTed one logout token');
      assert.equal(decodeJwt(tokens[0]).sid, sid);
      assert.equal(frames.length, 1, 'the provider loaded the front-channel logout URI');
      assert.equal(new URL(frames[0].url()).searchParams.get('sid'), sid);
      assert.equal(frames[0].status(), 200);
      assert.equal(await meStatus(a, webapp.url), 401);
      assert.equal(await meStatus(b, webapp.url), 401, 'B never asked, and is signed out');
      await closeContext(a.context());
      await closeContext(b.context());
    });
  });
}

describe('session timeouts on every runtime at once', () => {
  /**
   * On `runtime`: bob signs in and stays idle; alice signs in and makes a request at 17 s (past
   * half the idle window: renewed) and at 36 s (past the first idle window: still signed in);
   * bob's session has ended by then; at 62 s alice's ends (26 s after her last request: the
   * absolute timeout, not the idle one).
   */
  async function timeouts(runtime) {
    const { tb, webapp } = beds[runtime];
    const idle = await newPage();
    await signIn(idle, webapp.url, tb.issuer, { user: 'bob' });
    const active = await newPage();
    await signIn(active, webapp.url, tb.issuer, { user: 'alice' });
    const signedInAt = Date.now();
    const cookieOf = async (page) => (await page.context().cookies(webapp.url)).find((c) => c.name === SESSION_COOKIE);
    const activeCookie = await cookieOf(active);
    const idleCookie = await cookieOf(idle);
    // The cookie lasts the idle window (Max-Age), not the browser session.
    assert.ok(activeCookie.expires > 0, `${runtime}: a persistent cookie`);
    assert.ok(activeCookie.expires - signedInAt / 1000 <= IDLE_SECS + 2, `${runtime}: expires ${activeCookie.expires}`);
    const at = (seconds) => sleep(Math.max(0, signedInAt + seconds * 1000 - Date.now()));

    await at(17);
    const renewed = await withSessionCookie(webapp.url, activeCookie.value);
    assert.equal(renewed.status, 200, runtime);
    assert.ok(renewsSession(renewed.setCookie, activeCookie.value, IDLE_SECS), `${runtime}: ${JSON.stringify(renewed.setCookie)}`);

    await at(36);
    assert.equal((await withSessionCookie(webapp.url, activeCookie.value)).status, 200, `${runtime}: active past the first idle window`);
    const ended = await withSessionCookie(webapp.url, idleCookie.value);
    assert.equal(ended.status, 401, `${runtime}: idle for ${IDLE_SECS + 6} s`);
    assert.ok(deletesSession(ended.setCookie), `${runtime}: ${JSON.stringify(ended.setCookie)}`);
    assert.equal((await visit(idle, `${webapp.url}/me`)).status(), 401, runtime);

    await at(ABSOLUTE_SECS + 2);
    assert.equal((await withSessionCookie(webapp.url, activeCookie.value)).status, 401, `${runtime}: past the absolute timeout`);
    await closeContext(active.context());
    await closeContext(idle.context());
  }

  it('an active session slides until its absolute end; an idle one ends after the idle timeout', { timeout: 180_000 }, async () => {
    const results = await Promise.allSettled(runtimes.map(timeouts));
    const failures = results.filter((result) => result.status === 'rejected').map((result) => result.reason);
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, failures.map((failure) => failure.message).join('\n'));
  });
});
