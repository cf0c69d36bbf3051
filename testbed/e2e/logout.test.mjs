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
// (lib/browser-flows.mjs twoBrowsersOneProviderSession, shared with runtimes-sessions.test.mjs.)
//
// As in webapp.test.mjs, the browser stays on 127.0.0.1 (a proxy on a closed port for anything
// else) and the Worker runs on http://127.0.0.1, which Chromium treats as trustworthy.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';

import {
  jsonOf, meStatus, signIn as signInAt, signOut, twoBrowsersOneProviderSession as sharedSession,
} from '../lib/browser-flows.mjs';
import { closeContext, launchChromium, newContext } from '../lib/chromium.mjs';
import { startTestbed, webappUris, webappVars } from '../lib/testbed.mjs';
import { freePort, startWorker } from '../lib/worker.mjs';

/** Room for the first Worker start's Rust build. */
const WORKER_TIMEOUT = { timeout: 360_000 };

let browser;
const cleanups = [];

before(async () => {
  browser = await launchChromium();
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

/** A new page in a new browser context, closed (and checked) in after(). */
async function newPage() {
  const context = await newContext(browser);
  cleanups.push(() => closeContext(context));
  return context.newPage();
}

/** Signs alice in to the Worker by login_hint; returns her claims from /me. */
async function signIn(page, tb, workerUrl) {
  return jsonOf(await signInAt(page, workerUrl, tb.issuer));
}

/** Two contexts with alice signed in to the Worker in one provider session; returns their pages. */
async function twoBrowsersOneProviderSession(tb, workerUrl) {
  const shared = await sharedSession(browser, workerUrl, tb.issuer);
  for (const page of [shared.a, shared.b]) cleanups.push(() => closeContext(page.context()));
  return shared;
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
    const page = await newPage();
    const claims = await signIn(page, tb, worker.url);
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
    const page = await newPage();
    const claims = await signIn(page, tb, worker.url);
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
