// Logout that reaches every session, end to end: Front-Channel Logout 1.0 and Back-Channel
// Logout 1.0 from the real provider (lib/logout-channels.mjs) to the Worker (wrangler dev), in
// headless Chromium.
//
//   testbed/node_modules/.bin/node --test testbed/e2e/logout.test.mjs
//
// Each mechanism has its own `describe`, test bed and Worker: the provider registers only that
// one logout URI on the web app client, so the other mechanism cannot be what ended a session.
// Two browser contexts share one provider session: alice signs in to the Worker in context A,
// the provider's session cookies are copied into context B, and B signs in to the Worker too
// (no login page; the provider's `sid` for this client is per provider session, so both of the
// Worker's sessions carry the same `sid`), then A takes the provider's cookies back from B (the
// provider renewed its session id meanwhile). A then signs out through the Worker (RP-initiated
// logout): the provider notifies the Worker, and B's session, which never asked, must be gone.
//
// As in webapp.test.mjs, the browser stays on 127.0.0.1 (a proxy on a closed port for anything
// else) and the Worker runs on http://127.0.0.1, which Chromium treats as trustworthy.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { chromium } from 'playwright-core';

import { startTestbed, webappUris, webappVars } from '../lib/testbed.mjs';
import { freePort, startWorker } from '../lib/worker.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** Room for the first Worker start's Rust build. */
const WORKER_TIMEOUT = { timeout: 360_000 };
const NAVIGATION_TIMEOUT_MS = 30_000;
const ELEMENT_TIMEOUT_MS = 5_000;
const WORKER_COOKIE_PREFIX = '__Host-edge-token-';
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

let browser;
let deadProxy;
const cleanups = [];

before(async () => {
  deadProxy = await freePort();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [`--proxy-server=http://127.0.0.1:${deadProxy}`],
  });
});

after(async () => {
  await browser?.close();
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/**
 * A test bed whose web app client registers only `channel`'s logout URI ('frontchannel' or
 * 'backchannel') for a Worker on a new port, and that Worker.
 */
async function startLogoutBed(channel) {
  const workerUrl = `http://127.0.0.1:${await freePort()}`;
  const uris = webappUris(workerUrl);
  const tb = await startTestbed({
    webappRedirectUris: [uris.redirectUri],
    webappPostLogoutRedirectUris: [uris.postLogoutRedirectUri],
    webappLogoutUris: { [channel]: uris[`${channel}LogoutUri`] },
  });
  cleanups.push(() => tb.stop());
  const persistTo = await mkdtemp(path.join(tmpdir(), 'edge-token-logout-kv-'));
  cleanups.push(() => rm(persistTo, { recursive: true, force: true }));
  const worker = await startWorker({
    vars: webappVars(tb, { workerUrl }),
    persistTo,
    port: Number(new URL(workerUrl).port),
  });
  cleanups.push(() => worker.stop());
  return { tb, worker };
}

/** A new browser context; requests off loopback and dialogs are recorded in `unexpected`. */
async function newContext() {
  const context = await browser.newContext();
  context.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT_MS);
  context.setDefaultTimeout(ELEMENT_TIMEOUT_MS);
  context.unexpected = [];
  context.on('request', (request) => {
    const url = new URL(request.url());
    if (/^(https?|wss?):$/.test(url.protocol) && !LOOPBACK.has(url.hostname)) context.unexpected.push(url.href);
  });
  context.on('dialog', (dialog) => {
    context.unexpected.push(`dialog: ${dialog.message()}`);
    return dialog.dismiss();
  });
  cleanups.push(async () => {
    await context.close();
    assert.deepEqual(context.unexpected, [], 'requests left 127.0.0.1, or a dialog opened');
  });
  return context;
}

/**
 * Runs `go` and waits for a main-frame document (not a redirect) whose URL satisfies `until`,
 * through redirects and pages that go on by script (the provider's logout confirmation, its
 * front-channel logout page). Returns that response, loaded.
 */
async function navigate(page, go, until) {
  const landed = page.waitForResponse((response) => {
    const request = response.request();
    return request.isNavigationRequest()
      && request.frame() === page.mainFrame()
      && !(response.status() >= 300 && response.status() < 400)
      && until(new URL(response.url()));
  }, { timeout: NAVIGATION_TIMEOUT_MS });
  try {
    await go();
  } catch (err) {
    landed.catch(() => {});
    throw err;
  }
  const response = await landed;
  await page.waitForLoadState('load');
  return response;
}

/** Signs alice in to the Worker by login_hint; returns her claims from /me. */
async function signIn(page, workerUrl) {
  const url = `${workerUrl}/auth/sign-in?${new URLSearchParams({ returnTo: '/me', login_hint: 'alice' })}`;
  const response = await navigate(page, () => page.goto(url, { waitUntil: 'commit' }), (u) => u.origin === workerUrl);
  assert.equal(response.status(), 200, `${response.url()}: ${await response.text()}`);
  return response.json();
}

/** The provider's cookies of `from` (not the Worker's), given to `to`: one provider session. */
async function shareProviderSession(from, to, issuer) {
  const cookies = (await from.cookies(issuer)).filter((cookie) => !cookie.name.startsWith(WORKER_COOKIE_PREFIX));
  assert.ok(cookies.length > 0, 'the provider set its session cookies');
  await to.addCookies(cookies);
}

/** GET /me in `page`'s context (its cookies): the status. */
async function meStatus(page, workerUrl) {
  const response = await page.request.get(`${workerUrl}/me`);
  return response.status();
}

/** Signs out through the Worker (RP-initiated logout) and lands back on the Worker's `/`. */
async function signOut(page, workerUrl) {
  const home = await navigate(
    page,
    () => page.goto(`${workerUrl}/auth/sign-out`, { waitUntil: 'commit' }),
    (u) => u.origin === workerUrl && u.pathname === '/',
  );
  assert.equal(home.status(), 200);
}

/** Two contexts with alice signed in to the Worker in one provider session; returns their pages. */
async function twoBrowsersOneProviderSession(tb, workerUrl) {
  const a = await (await newContext()).newPage();
  const b = await (await newContext()).newPage();
  const claimsA = await signIn(a, workerUrl);
  await shareProviderSession(a.context(), b.context(), tb.issuer);
  const claimsB = await signIn(b, workerUrl);
  // The provider renews its session's id when B's sign-in changes it (a consent): A takes the
  // renewed cookies back, and both browsers are in the one provider session again.
  await shareProviderSession(b.context(), a.context(), tb.issuer);
  assert.ok(claimsA.sid, 'the ID token carries sid');
  assert.equal(claimsB.sid, claimsA.sid, 'one provider session, one sid');
  assert.equal(await meStatus(a, workerUrl), 200);
  assert.equal(await meStatus(b, workerUrl), 200);
  return { a, b, sid: claimsA.sid };
}

/** POSTs `logoutToken` to the Worker's back-channel logout URI. */
function postLogoutToken(workerUrl, logoutToken) {
  return fetch(`${workerUrl}/auth/backchannel-logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: logoutToken }),
  });
}

describe('front-channel logout', () => {
  let tb;
  let worker;
  before(async () => { ({ tb, worker } = await startLogoutBed('frontchannel')); }, WORKER_TIMEOUT);

  it('a sign-out in one browser ends the session of another browser in the same provider session', async () => {
    const { a, b, sid } = await twoBrowsersOneProviderSession(tb, worker.url);
    const frames = [];
    a.on('response', (response) => {
      if (response.url().startsWith(`${worker.url}/auth/frontchannel-logout?`)) frames.push(response);
    });

    await signOut(a, worker.url);

    assert.equal(frames.length, 1, 'the provider loaded the front-channel logout URI');
    const params = new URL(frames[0].url()).searchParams;
    assert.equal(params.get('iss'), tb.issuer);
    assert.equal(params.get('sid'), sid);
    assert.equal(frames[0].status(), 200);
    assert.equal(frames[0].headers()['cache-control'], 'no-store');
    assert.equal(await meStatus(a, worker.url), 401);
    assert.equal(await meStatus(b, worker.url), 401, 'B never asked, and is signed out');
    assert.deepEqual(await tb.logoutTokens(), [], 'no back-channel logout in this run');
  });

  it('a front-channel request with another issuer or no sid ends nothing', async () => {
    const page = await (await newContext()).newPage();
    const claims = await signIn(page, worker.url);
    for (const query of [
      { iss: `${tb.issuer}/`, sid: claims.sid },
      { iss: 'http://127.0.0.1:1', sid: claims.sid },
      { iss: tb.issuer },
      { sid: claims.sid },
    ]) {
      const response = await fetch(`${worker.url}/auth/frontchannel-logout?${new URLSearchParams(query)}`);
      assert.equal(response.status, 400, JSON.stringify(query));
    }
    assert.equal(await meStatus(page, worker.url), 200);
  });
});

describe('back-channel logout', () => {
  let tb;
  let worker;
  before(async () => { ({ tb, worker } = await startLogoutBed('backchannel')); }, WORKER_TIMEOUT);

  it('a sign-out in one browser ends the session of another browser in the same provider session', async () => {
    const { a, b, sid } = await twoBrowsersOneProviderSession(tb, worker.url);
    const frames = [];
    a.on('request', (request) => {
      if (request.url().startsWith(`${worker.url}/auth/frontchannel-logout`)) frames.push(request.url());
    });

    await signOut(a, worker.url);

    const tokens = await tb.logoutTokens();
    assert.equal(tokens.length, 1, 'the provider POSTed one logout token');
    assert.equal(decodeProtectedHeader(tokens[0]).typ, 'logout+jwt');
    const claims = decodeJwt(tokens[0]);
    assert.equal(claims.sid, sid);
    assert.equal(claims.iss, tb.issuer);
    assert.deepEqual(frames, [], 'no front-channel logout in this run');
    assert.equal(await meStatus(a, worker.url), 401);
    assert.equal(await meStatus(b, worker.url), 401, 'B never asked, and is signed out');
  });

  it('a replayed logout token is refused with invalid_request', async () => {
    const tokens = await tb.logoutTokens();
    assert.ok(tokens.length > 0, 'a logout token was sent');
    const replayed = await postLogoutToken(worker.url, tokens.at(-1));
    assert.equal(replayed.status, 400);
    assert.equal(replayed.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await replayed.json(), { error: 'invalid_request' });
  });

  it('forged logout tokens are refused with invalid_request and leave the session alone', async () => {
    const page = await (await newContext()).newPage();
    const claims = await signIn(page, worker.url);
    assert.ok(claims.sid);
    const [real] = await tb.logoutTokens();
    const [header, , signature] = real.split('.');
    const payload = {
      ...decodeJwt(real), sid: claims.sid, jti: `forged-${Date.now()}`, iat: Math.floor(Date.now() / 1000),
    };
    // The provider's signature over other claims.
    const tampered = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
    // Signed by an attacker's key under the provider's key id.
    const { privateKey } = await generateKeyPair('RS256');
    const attackerSigned = await new SignJWT(payload)
      .setProtectedHeader({ ...decodeProtectedHeader(real), alg: 'RS256' })
      .sign(privateKey);
    for (const forged of [tampered, attackerSigned, 'not-a-jwt']) {
      const response = await postLogoutToken(worker.url, forged);
      assert.equal(response.status, 400);
      assert.deepEqual(await response.json(), { error: 'invalid_request' });
    }
    assert.equal(await meStatus(page, worker.url), 200, 'the session is untouched');
  });
});
