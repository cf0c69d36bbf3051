// The web app and the web API on every edge runtime from one description, in a real browser:
// headless Chromium signs users in through the reference Worker (wrangler dev), the Fastly app
// (Viceroy) and the Spin component (wasmtime serve), all routed by the core's route tables
// (WebApp::route, WebApi::route), against the local provider. On each runtime two apps run: the
// web app (client `webapp`) and the web API (client `webapi`) it calls on GET /me/api, so the
// chain browser -> web app -> web API -> on-behalf-of -> downstream stays on one runtime; a
// third app signs in with response_mode=form_post (the code in the callback's POST body).
//
//   testbed/node_modules/.bin/node --test testbed/e2e/runtimes-webapp.test.mjs
//   EDGE_TOKEN_RUNTIMES="fastly spin" testbed/node_modules/.bin/node --test testbed/e2e/runtimes-webapp.test.mjs
//
// Sessions live in the runtime's store: Workers KV, the Fastly KV Store (each request is a new
// instance there, so every step of a sign-in finds its records in the store), the instance's
// memory under wasmtime serve (which reuses the instance). Access tokens live 60 s, which the
// apps count as expired (<= 300 s left): every delegated call refreshes, and the provider counts
// refresh-token reuse, so a rotated refresh token that did not reach the store before the
// browser's next request would show.
//
// The web app's pages are HTML on Workers (apps/cloudflare/src/pages.rs) and plain text on
// Fastly and Spin (Page's Display): the assertions read the page's text, which is the same
// sentence in both. Chromium keeps `__Host-` cookies from http://127.0.0.1 (see
// webapp.test.mjs); cookies are not isolated by port, so each runtime's browser is its own
// context, and a proxy on a closed port keeps the browser on 127.0.0.1.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  jsonOf, navigate, pageText, recordRequests, signInUrl, visit,
} from '../lib/browser-flows.mjs';
import { closeContext, launchChromium, newContext as newBrowserContext } from '../lib/chromium.mjs';
import { listFromEnv } from '../lib/env.mjs';
import { RUNTIMES, startRuntime } from '../lib/runtimes.mjs';
import { startTestbed, webapiVars, webappUris, webappVars } from '../lib/testbed.mjs';
import { freePort } from '../lib/worker.mjs';

/** Room for a first build (Worker, Fastly and Spin apps) and two app starts. */
const START_TIMEOUT = { timeout: 900_000 };
const ACCESS_TOKEN_TTL = 60;
const SESSION_COOKIE = '__Host-edge-token-session';
const TX_COOKIE_PREFIX = '__Host-edge-token-tx-';

/**
 * Whether the runtime's token requests go through a token coordinator with its own store: on
 * Workers a Durable Object per coordination key (here each on-behalf-of exchange, keyed by its
 * incoming token), whose new objects fetch the discovery document themselves.
 */
const COORDINATED = { workers: true, fastly: false, spin: false };

const runtimes = listFromEnv('EDGE_TOKEN_RUNTIMES', RUNTIMES);
let tb;
let browser;
/**
 * Each runtime's web app URLs (`query`: the default response mode, `formPost`), chosen before
 * the provider starts: it registers them.
 */
const appUrls = {};

before(async () => {
  const ports = new Set();
  while (ports.size < 2 * runtimes.length) ports.add(await freePort());
  const appPorts = [...ports];
  runtimes.forEach((runtime, index) => {
    const [query, formPost] = appPorts.slice(2 * index, 2 * index + 2);
    appUrls[runtime] = { query: `http://127.0.0.1:${query}`, formPost: `http://127.0.0.1:${formPost}` };
  });
  const apps = Object.values(appUrls).flatMap(({ query, formPost }) => [query, formPost]).map(webappUris);
  tb = await startTestbed({
    accessTokenTtl: ACCESS_TOKEN_TTL,
    webappRedirectUris: apps.map((app) => app.redirectUri),
    webappPostLogoutRedirectUris: apps.map((app) => app.postLogoutRedirectUri),
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await tb?.stop();
});

/** A new browser context (fresh cookies); see lib/chromium.mjs. */
const newContext = () => newBrowserContext(browser);

async function cookieNamed(context, appUrl, name) {
  return (await context.cookies(appUrl)).find((cookie) => cookie.name === name);
}

for (const runtime of runtimes) {
  describe(`web app and web API on ${runtime}`, () => {
    let webapi;
    let webapp;
    /** Alice's browser, signed in by the first test, used by the next ones until sign-out. */
    let alice;

    before(async () => {
      // The web API first: the web app's settings name its URL (WEB_API_URL).
      webapi = await startRuntime(runtime, { vars: webapiVars(tb) });
      const url = appUrls[runtime].query;
      webapp = await startRuntime(runtime, {
        vars: webappVars(tb, { workerUrl: url, webApiUrl: webapi.url }),
        port: Number(new URL(url).port),
      });
    }, START_TIMEOUT);

    after(async () => {
      if (alice) await closeContext(alice.context);
      await webapp?.stop();
      await webapi?.stop();
    });

    it('signs alice in by login_hint and lands on /me; discovery and keys are fetched once', async () => {
      await tb.reset();
      const context = await newContext();
      const page = await context.newPage();
      alice = { context, page };
      const authorizations = recordRequests(page, tb.authorizationEndpoint);

      const response = await visit(page, signInUrl(webapp.url, { loginHint: 'alice' }));
      assert.equal(response.status(), 200, `${response.url()}: ${await response.text()}`);
      assert.equal(page.url(), `${webapp.url}/me`);
      const me = await jsonOf(response);
      assert.equal(me.sub, 'alice');
      assert.equal(me.name, 'Alice Example');
      assert.equal(me.iss, tb.issuer);
      assert.equal(me.aud, 'webapp');

      assert.equal(authorizations.length, 1);
      const params = new URL(authorizations[0].url).searchParams;
      assert.equal(params.get('login_hint'), 'alice');
      assert.equal(params.get('redirect_uri'), webappUris(webapp.url).redirectUri);
      assert.equal(params.get('code_challenge_method'), 'S256');

      const session = await cookieNamed(context, webapp.url, SESSION_COOKIE);
      assert.ok(session, 'session cookie');
      assert.equal(session.secure, true);
      assert.equal(session.httpOnly, true);
      assert.ok(!session.value.includes('eyJ'), 'the cookie holds an id, not tokens');
      const pending = (await context.cookies(webapp.url)).filter((c) => c.name.startsWith(TX_COOKIE_PREFIX));
      assert.deepEqual(pending, [], 'the transaction cookie is gone');

      const stats = await tb.stats();
      assert.deepEqual(stats.by_grant_outcome, { 'authorization_code:200': 1 });
      assert.deepEqual(stats.sign_ins, { alice: 1 });
      // Three requests to the app (sign-in, callback, /me), on Fastly three instances: the
      // discovery document and the key set come from the store after the first fetch.
      assert.equal(stats.discovery_requests, 1, 'one discovery fetch');
      assert.equal(stats.jwks_requests, 1, 'one key set fetch');
    });

    it('/ shows the signed-in user', async () => {
      assert.ok(alice, 'alice signed in');
      const home = await visit(alice.page, `${webapp.url}/`);
      assert.equal(home.status(), 200);
      assert.match(await pageText(alice.page), /Signed in as Alice Example\./);
    });

    it('/me/call calls the downstream as alice, refreshing and rotating the refresh token each time', async () => {
      assert.ok(alice, 'alice signed in');
      await tb.reset();
      for (let call = 1; call <= 2; call += 1) {
        const answer = await visit(alice.page, `${webapp.url}/me/call`);
        assert.equal(answer.status(), 200, await answer.text());
        assert.ok(answer.headers()['x-edge-token-source'], 'x-edge-token-source');
        const body = await jsonOf(answer);
        assert.equal(body.ok, true);
        assert.equal(body.claims.sub, 'alice');
        assert.equal(body.claims.aud, 'api://downstream');
      }
      const stats = await tb.stats();
      assert.deepEqual(stats.by_grant_outcome, { 'refresh_token:200': 2 }, JSON.stringify(stats));
      assert.equal(stats.refresh_token_reuse, 0, 'each refresh used the rotated refresh token');
      assert.deepEqual(await tb.downstreamStats(), { requests: 2, authorized: 2 });
    });

    it('/me/api: the web API on the same runtime calls the downstream on alice\'s behalf; its documents come from its store after the first call', async () => {
      assert.ok(alice, 'alice signed in');
      await tb.reset();
      let documents;
      for (let call = 1; call <= 2; call += 1) {
        const answer = await visit(alice.page, `${webapp.url}/me/api`);
        assert.equal(answer.status(), 200, await answer.text());
        assert.ok(answer.headers()['x-edge-token-source'], 'x-edge-token-source');
        const body = await jsonOf(answer);
        assert.equal(body.ok, true, JSON.stringify(body));
        assert.equal(body.claims.sub, 'alice');
        assert.equal(body.claims.azp, 'webapi', 'the downstream token is the web API\'s');
        assert.equal(body.claims.aud, 'api://downstream');
        const { discovery_requests: discovery, jwks_requests: jwks } = await tb.stats();
        // The first call is the web API's first: it fetches the discovery document and the key
        // set to validate alice's token; the second (on Fastly a new instance) finds them in
        // its store (or memory).
        if (call === 2) {
          assert.equal(jwks, documents.jwks, 'no key set fetched again');
          if (!COORDINATED[runtime]) assert.equal(discovery, documents.discovery, 'no discovery fetched again');
        }
        documents = { discovery, jwks };
      }

      const stats = await tb.stats();
      // Each call: the web app's token for the web API (refresh token, rotated), then the web
      // API's on-behalf-of exchange of it (a new incoming token each time).
      assert.equal(stats.by_grant_outcome['refresh_token:200'], 2, JSON.stringify(stats.by_grant_outcome));
      assert.equal(stats.by_grant_outcome['on_behalf_of:200'], 2, JSON.stringify(stats.by_grant_outcome));
      assert.deepEqual(stats.obo_subjects, { alice: 2 });
      assert.equal(stats.refresh_token_reuse, 0);
      assert.deepEqual(await tb.downstreamStats(), { requests: 2, authorized: 2 });

      // The web API refuses a caller without a bearer token, before any token request.
      await tb.reset();
      const refused = await fetch(`${webapi.url}/api/profile`);
      assert.equal(refused.status, 401);
      assert.match(refused.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.equal((await tb.stats()).token_requests, 0);
    });

    it('refuses a replayed callback, with or without its transaction cookie: one code redemption', async () => {
      await tb.reset();
      const context = await newContext();
      try {
        const page = await context.newPage();
        // Stop on the provider's login page (prompt=login, no hint) to keep the transaction cookie.
        const loginPage = await visit(page, signInUrl(webapp.url, { returnTo: '/', prompt: 'login' }), { origin: tb.issuer });
        assert.equal(loginPage.status(), 200, await loginPage.text());
        const [transaction] = (await context.cookies(webapp.url)).filter((c) => c.name.startsWith(TX_COOKIE_PREFIX));
        assert.ok(transaction, 'transaction cookie');
        const callbacks = recordRequests(page, `${webapp.url}/auth/callback`);
        const home = await navigate(page, () => page.click('#sign-in-bob'), (u) => u.origin === webapp.url);
        assert.equal(home.status(), 200, await home.text());
        assert.match(await pageText(page), /Signed in as Bob Example\./);
        assert.equal(callbacks.length, 1);

        // In the browser: the transaction cookie was deleted by the first callback.
        const replayed = await visit(page, callbacks[0].url);
        assert.equal(replayed.status(), 400);
        assert.match(await pageText(page), /Sign-in failed/);
        // With the transaction cookie sent again: the transaction was consumed (in the store).
        const withCookie = await fetch(callbacks[0].url, {
          headers: { cookie: `${transaction.name}=${transaction.value}` },
          redirect: 'manual',
        });
        assert.equal(withCookie.status, 400, await withCookie.text());
        const sessions = withCookie.headers.getSetCookie()
          .filter((line) => line.startsWith(`${SESSION_COOKIE}=`) && !/;\s*Max-Age=0(;|$)/i.test(line));
        assert.deepEqual(sessions, [], 'no session started');
        assert.deepEqual((await tb.stats()).by_grant, { authorization_code: 1 }, 'exactly one code redemption');
      } finally {
        await closeContext(context);
      }
    });

    it('sign-out ends the session in the store and at the provider, back on /', async () => {
      assert.ok(alice, 'alice signed in');
      const { context, page } = alice;
      await tb.reset();
      const oldSession = await cookieNamed(context, webapp.url, SESSION_COOKIE);
      assert.ok(oldSession, 'signed in before');
      const endSessions = recordRequests(page, tb.endSessionEndpoint);

      const home = await visit(page, `${webapp.url}/auth/sign-out`, {
        until: (u) => u.origin === webapp.url && u.pathname === '/',
      });
      assert.equal(home.status(), 200);
      assert.match(await pageText(page), /You are signed out\./);
      assert.equal(await cookieNamed(context, webapp.url, SESSION_COOKIE), undefined);
      assert.equal(endSessions.length, 1);
      assert.equal(new URL(endSessions[0].url).searchParams.get('post_logout_redirect_uri'), `${webapp.url}/`);
      assert.equal((await tb.stats()).end_sessions, 1);

      const me = await visit(page, `${webapp.url}/me`);
      assert.equal(me.status(), 401);
      assert.equal((await jsonOf(me)).error, 'not_signed_in');
      // The old session id is dead in the store too.
      await context.addCookies([oldSession]);
      assert.equal((await visit(page, `${webapp.url}/me/call`)).status(), 401);
      assert.equal((await tb.stats()).token_requests, 0);
    });

    it('form_post: signs in with the code posted to the callback, then calls the downstream', async () => {
      const url = appUrls[runtime].formPost;
      const formPost = await startRuntime(runtime, {
        vars: webappVars(tb, { workerUrl: url, responseMode: 'form_post' }),
        port: Number(new URL(url).port),
      });
      const context = await newContext();
      try {
        await tb.reset();
        const page = await context.newPage();
        const callbacks = recordRequests(page, `${url}/auth/callback`);
        const response = await visit(page, signInUrl(url, { loginHint: 'alice' }));
        assert.equal(response.status(), 200, `${response.url()}: ${await response.text()}`);
        assert.equal(page.url(), `${url}/me`);
        assert.equal((await jsonOf(response)).sub, 'alice');
        assert.equal(callbacks.length, 1);
        assert.equal(callbacks[0].method, 'POST', 'the code came in the form body');

        const call = await visit(page, `${url}/me/call`);
        assert.equal(call.status(), 200, await call.text());
        assert.equal((await jsonOf(call)).claims.sub, 'alice');
        assert.deepEqual((await tb.stats()).by_grant_outcome, { 'authorization_code:200': 1, 'refresh_token:200': 1 });
      } finally {
        await closeContext(context);
        await formPost.stop();
      }
    });

    it('answers 405 for another method on a web app or web API path, 404 elsewhere', async () => {
      for (const [url, method] of [[`${webapp.url}/me`, 'POST'], [`${webapp.url}/auth/sign-in`, 'DELETE'], [`${webapi.url}/api/profile`, 'POST']]) {
        const answer = await fetch(url, { method, redirect: 'manual' });
        assert.equal(answer.status, 405, `${method} ${url}`);
        assert.deepEqual(await answer.json(), { error: 'method_not_allowed' });
      }
      assert.equal((await fetch(`${webapp.url}/me/nothing`)).status, 404);
    });
  });
}
