// ES256 (ECDSA P-256, RFC 7518 §3.4) end to end: the provider signs ID tokens and the web API's
// access tokens with a P-256 key published beside its RSA key (startTestbed tokenSigningAlg
// 'ES256'; the downstream's tokens stay RS256), and the Workers (wrangler dev, WebCrypto
// verifier) take the algorithm from their settings, never from the token:
// - the web app with ID_TOKEN_SIGNING_ALG=ES256 signs alice in, in headless Chromium, and
//   /me/api reaches the web API, whose ACCESS_TOKEN_SIGNING_ALG=ES256 accepts her ES256 token
//   and exchanges it on-behalf-of her for the downstream;
// - the web API refuses an RS256 token from the same issuer (`alg` is not the configured one);
// - a web app left at the default (RS256) refuses the ES256 ID token: no session;
// - the daemon's GET /daemon/call with ACCESS_TOKEN_SIGNING_ALG=ES256 accepts a caller's ES256
//   app token and refuses an RS256 one.
//
//   testbed/node_modules/.bin/node --test testbed/e2e/es256.test.mjs
//
// The browser stays on 127.0.0.1 as in webapp.test.mjs (a proxy on a closed port for the rest).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { decodeProtectedHeader } from 'jose';

import { jsonOf } from '../lib/browser-flows.mjs';
import { closeContext, launchChromium, newContext as newChromiumContext } from '../lib/chromium.mjs';
import { readResponse } from '../lib/http.mjs';
import {
  callerToken, daemonVars, DOWNSTREAM_SCOPE, startTestbed, userAccessToken, webapiVars, webappUris, webappVars,
} from '../lib/testbed.mjs';
import { freePort, startWorker } from '../lib/worker.mjs';

/** Room for the first Worker start's Rust build. */
const WORKER_TIMEOUT = { timeout: 360_000 };
const SESSION_COOKIE = '__Host-edge-token-session';

let tb;
let browser;
const urls = {};
const workers = [];
const persistDirs = [];

async function persistDir() {
  const dir = await mkdtemp(path.join(tmpdir(), 'edge-token-es256-kv-'));
  persistDirs.push(dir);
  return dir;
}

before(async () => {
  const ports = new Set();
  while (ports.size < 2) ports.add(await freePort());
  const [es256, rs256] = [...ports];
  urls.webapp = `http://127.0.0.1:${es256}`;
  urls.webappRs256 = `http://127.0.0.1:${rs256}`;
  const apps = [urls.webapp, urls.webappRs256].map(webappUris);
  tb = await startTestbed({
    tokenSigningAlg: 'ES256',
    webappRedirectUris: apps.map((app) => app.redirectUri),
    webappPostLogoutRedirectUris: apps.map((app) => app.postLogoutRedirectUri),
  });
  const webapi = await startWorker({
    vars: { ...webapiVars(tb), ACCESS_TOKEN_SIGNING_ALG: 'ES256' },
    persistTo: await persistDir(),
  });
  workers.push(webapi);
  urls.webapi = webapi.url;
  workers.push(await startWorker({
    vars: { ...webappVars(tb, { workerUrl: urls.webapp, webApiUrl: urls.webapi }), ID_TOKEN_SIGNING_ALG: 'ES256' },
    persistTo: await persistDir(),
    port: es256,
  }));
  workers.push(await startWorker({
    vars: webappVars(tb, { workerUrl: urls.webappRs256 }),
    persistTo: await persistDir(),
    port: rs256,
  }));
  const daemon = await startWorker({
    vars: { ...daemonVars(tb, 'secretPost'), ACCESS_TOKEN_SIGNING_ALG: 'ES256' },
    persistTo: await persistDir(),
  });
  workers.push(daemon);
  urls.daemon = daemon.url;
  browser = await launchChromium();
}, WORKER_TIMEOUT);

after(async () => {
  await browser?.close();
  await Promise.all(workers.map((worker) => worker.stop()));
  await tb?.stop();
  await Promise.all(persistDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh browser context that records any request leaving loopback (lib/chromium.mjs). */
const newContext = () => newChromiumContext(browser);

/** Signs `user` in at the Worker (login_hint: no login page); returns the final response. */
async function signIn(page, workerUrl, user) {
  return page.goto(`${workerUrl}/auth/sign-in?returnTo=%2Fme&login_hint=${user}`);
}

describe('ES256 provider', () => {
  it('publishes an RSA and a P-256 key, and signs ID tokens and web API tokens with ES256', async () => {
    const keys = (await (await fetch(tb.jwksUri)).json()).keys;
    assert.deepEqual(keys.map((key) => [key.kty, key.alg, key.crv]).sort(), [['EC', 'ES256', 'P-256'], ['RSA', 'RS256', undefined]]);
    const { accessToken, idToken } = await userAccessToken(tb, { user: 'bob' });
    assert.equal(decodeProtectedHeader(idToken).alg, 'ES256');
    assert.equal(decodeProtectedHeader(accessToken).alg, 'ES256');
    await tb.reset();
  });

  it('web app (ID_TOKEN_SIGNING_ALG=ES256): alice signs in in Chromium, and /me/api works through the ES256 web API', async () => {
    const context = await newContext();
    try {
      const page = await context.newPage();
      const me = await signIn(page, urls.webapp, 'alice');
      assert.equal(me.status(), 200, `${me.url()}: ${await me.text()}`);
      assert.equal(page.url(), `${urls.webapp}/me`);
      const claims = await jsonOf(me);
      assert.equal(claims.sub, 'alice');
      assert.equal(claims.iss, tb.issuer);
      const session = (await context.cookies(urls.webapp)).find((cookie) => cookie.name === SESSION_COOKIE);
      assert.ok(session, 'session cookie');

      const api = await page.goto(`${urls.webapp}/me/api`);
      const answer = await jsonOf(api);
      assert.equal(api.status(), 200, JSON.stringify(answer));
      assert.equal(answer.ok, true);
      // What the downstream saw: alice's delegated token, obtained on-behalf-of by the web API.
      assert.equal(answer.claims.sub, 'alice');
      assert.equal(answer.claims.azp, 'webapi');
      assert.equal(answer.claims.aud, 'api://downstream');

      const stats = await tb.stats();
      assert.deepEqual(stats.sign_ins, { alice: 1 });
      assert.equal(stats.by_grant_outcome['on_behalf_of:200'], 1, JSON.stringify(stats.by_grant_outcome));
    } finally {
      await closeContext(context);
      await tb.reset();
    }
  });

  it('web API (ACCESS_TOKEN_SIGNING_ALG=ES256) refuses an RS256 token of the same issuer before any token request', async () => {
    // The provider's RS256 tokens are the downstream's: `alg` is checked before `aud`.
    const { accessToken } = await userAccessToken(tb, { user: 'alice', scope: DOWNSTREAM_SCOPE });
    assert.equal(decodeProtectedHeader(accessToken).alg, 'RS256');
    await tb.reset();
    const result = await readResponse(await fetch(`${urls.webapi}/api/profile`, {
      headers: { authorization: `Bearer ${accessToken}` },
    }));
    assert.equal(result.status, 401, result.text);
    assert.equal(result.json?.error, 'invalid_token');
    assert.equal(result.json?.error_description, '`alg` is not the configured algorithm');
    assert.equal((await tb.stats()).token_requests, 0);
  });

  it('a web app left at RS256 refuses the ES256 ID token: no session', async () => {
    const context = await newContext();
    try {
      const page = await context.newPage();
      const refused = await signIn(page, urls.webappRs256, 'alice');
      const text = await refused.text();
      assert.equal(refused.status(), 400, text);
      assert.equal(new URL(refused.url()).origin, urls.webappRs256);
      assert.match(text, /ID token could not be validated/);
      const cookies = await context.cookies(urls.webappRs256);
      assert.equal(cookies.find((cookie) => cookie.name === SESSION_COOKIE), undefined);
      // The provider did sign alice in and redeem the code; the Worker refused what came back.
      const stats = await tb.stats();
      assert.deepEqual(stats.sign_ins, { alice: 1 });
      assert.deepEqual(stats.by_grant_outcome, { 'authorization_code:200': 1 });
      const me = await page.goto(`${urls.webappRs256}/me`);
      assert.notEqual(me.status(), 200);
    } finally {
      await closeContext(context);
      await tb.reset();
    }
  });

  it('daemon (ACCESS_TOKEN_SIGNING_ALG=ES256): a caller\'s ES256 app token is accepted, an RS256 token refused', async () => {
    const caller = await callerToken(tb);
    assert.equal(decodeProtectedHeader(caller.accessToken).alg, 'ES256');
    const { accessToken: rs256 } = await userAccessToken(tb, { user: 'alice', scope: DOWNSTREAM_SCOPE });
    await tb.reset();
    const call = (authorization) => fetch(`${urls.daemon}/daemon/call`, { headers: { authorization } }).then(readResponse);
    const accepted = await call(caller.authorization);
    assert.equal(accepted.status, 200, accepted.text);
    assert.equal(accepted.json?.claims?.sub, 'daemon-secret');
    const refused = await call(`Bearer ${rs256}`);
    assert.equal(refused.status, 401, refused.text);
    assert.equal(refused.json?.error_description, '`alg` is not the configured algorithm');
    assert.equal((await tb.stats()).token_requests, 1, 'the daemon\'s own token, for the accepted call only');
  });
});
