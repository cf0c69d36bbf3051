// The web app's addresses and session lifetime end to end, in headless Chromium against the
// Worker (wrangler dev) and the local provider:
// - one Worker answering on two origins (http://127.0.0.1:P and http://localhost:P, both
//   registered, REDIRECT_URI listing both): each sign-in uses its own origin's redirect URI,
//   and a request at an origin not in the list is refused before any provider request;
// - SESSION_ABSOLUTE_TIMEOUT_SECS=90 and SESSION_IDLE_TIMEOUT_SECS=40: an active session slides
//   (its cookie renewed) until its absolute end, an idle one ends after 40 s; both checked by
//   replaying the session cookie after the end, so the server's decision is what is tested,
//   not the browser's cookie expiry.
//
//   testbed/node_modules/.bin/node --test testbed/e2e/webapp-sessions.test.mjs
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';

import { startTestbed, webappUris, webappVars } from '../lib/testbed.mjs';
import { closeContext, launchChromium, newContext } from '../lib/chromium.mjs';
import { freePort, startWorker } from '../lib/worker.mjs';

const WORKER_TIMEOUT = { timeout: 360_000 };
const SESSION_COOKIE = '__Host-edge-token-session';
const ABSOLUTE_SECS = 90;
const IDLE_SECS = 40;

let tb;
let browser;
let worker;
/** The Worker's two origins. */
const origins = {};
const persistDirs = [];

before(async () => {
  const port = await freePort();
  origins.ip = `http://127.0.0.1:${port}`;
  origins.name = `http://localhost:${port}`;
  const apps = [webappUris(origins.ip), webappUris(origins.name)];
  tb = await startTestbed({
    webappRedirectUris: apps.map((app) => app.redirectUri),
    webappPostLogoutRedirectUris: apps.map((app) => app.postLogoutRedirectUri),
  });
  const persistTo = await mkdtemp(path.join(tmpdir(), 'edge-token-sessions-kv-'));
  persistDirs.push(persistTo);
  worker = await startWorker({
    vars: {
      ...webappVars(tb, { workerUrl: origins.ip }),
      REDIRECT_URI: apps.map((app) => app.redirectUri).join(' '),
      SESSION_ABSOLUTE_TIMEOUT_SECS: String(ABSOLUTE_SECS),
      SESSION_IDLE_TIMEOUT_SECS: String(IDLE_SECS),
    },
    persistTo,
    port,
  });
  browser = await launchChromium();
}, WORKER_TIMEOUT);

after(async () => {
  await browser?.close();
  await worker?.stop();
  await tb?.stop();
  await Promise.all(persistDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function newPage() {
  return (await newContext(browser)).newPage();
}

/** Signs `user` in at `origin`; returns the page (on `origin`/me) and the authorization request's URL. */
async function signIn(origin, user) {
  const page = await newPage();
  let authorization;
  page.on('request', (request) => {
    if (request.url().startsWith(tb.authorizationEndpoint)) authorization ??= new URL(request.url());
  });
  const landed = await page.goto(`${origin}/auth/sign-in?returnTo=%2Fme&login_hint=${user}`);
  assert.equal(landed.status(), 200, await landed.text());
  assert.equal(page.url(), `${origin}/me`);
  return { page, authorization };
}

/** The session cookie `page`'s context holds. */
async function sessionCookie(page) {
  return (await page.context().cookies()).find((cookie) => cookie.name === SESSION_COOKIE);
}

/** GET /me at the Worker with `cookie` (the value) only, outside the browser. */
async function meWith(cookie) {
  const answer = await fetch(`${origins.ip}/me`, { headers: { cookie: `${SESSION_COOKIE}=${cookie}` } });
  return { status: answer.status, setCookie: answer.headers.getSetCookie() };
}

/** GET `path` at the Worker's port with the request's Host header naming `host`. */
function getWithHost(host, requestPath) {
  return new Promise((resolve, reject) => {
    const request = http.get({
      host: '127.0.0.1', port: new URL(origins.ip).port, path: requestPath, headers: { host },
    }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { text += chunk; });
      response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, text }));
    });
    request.on('error', reject);
  });
}

describe('several redirect URIs: the request\'s origin picks one', () => {
  it('a sign-in at each origin comes back to that origin', async () => {
    for (const origin of [origins.ip, origins.name]) {
      const { page, authorization } = await signIn(origin, 'alice');
      assert.equal(authorization.searchParams.get('redirect_uri'), `${origin}/auth/callback`);
      const me = await page.goto(`${origin}/me`);
      assert.equal((await me.json()).sub, 'alice');
      await closeContext(page.context());
    }
  });

  it('an origin not in the list is refused, with no provider request', async () => {
    await tb.reset();
    const answer = await getWithHost(`preview.example.net:${new URL(origins.ip).port}`, '/auth/sign-in?returnTo=%2F');
    assert.equal(answer.status, 400, answer.text);
    assert.match(answer.text, /not a registered address/);
    assert.equal(answer.headers.location, undefined);
    assert.equal(answer.headers['set-cookie'], undefined);
    const stats = await tb.stats();
    assert.equal(stats.discovery_requests, 0);
  });
});

describe('session lifetime: idle and absolute timeouts', () => {
  it('an active session slides until its absolute end; an idle one ends after the idle timeout', { timeout: 180_000 }, async () => {
    const active = (await signIn(origins.ip, 'alice')).page;
    const idle = (await signIn(origins.ip, 'bob')).page;
    const signedInAt = Date.now();
    const activeCookie = await sessionCookie(active);
    const idleCookie = await sessionCookie(idle);
    // The cookie lasts the idle window (Max-Age), not the browser session.
    assert.ok(activeCookie.expires > 0, 'a persistent cookie');
    assert.ok(activeCookie.expires - signedInAt / 1000 <= IDLE_SECS + 2, `expires ${activeCookie.expires}`);

    const at = async (seconds) => sleep(Math.max(0, signedInAt + seconds * 1000 - Date.now()));
    // Past half the idle window: the request renews the cookie (sliding expiration).
    await at(25);
    const renewed = await meWith(activeCookie.value);
    assert.equal(renewed.status, 200);
    assert.ok(renewed.setCookie.some((c) => c.startsWith(`${SESSION_COOKIE}=${activeCookie.value}`) && /Max-Age=40/i.test(c)),
      JSON.stringify(renewed.setCookie));
    await at(50);
    assert.equal((await meWith(activeCookie.value)).status, 200, 'active past the first idle window');

    // Bob made no request for 50 s: his session ended on the server, and its cookie is cleared.
    const ended = await meWith(idleCookie.value);
    assert.equal(ended.status, 401);
    assert.ok(ended.setCookie.some((c) => c.startsWith(`${SESSION_COOKIE}=;`) && /Max-Age=0/i.test(c)),
      JSON.stringify(ended.setCookie));
    assert.equal((await idle.goto(`${origins.ip}/me`)).status(), 401);

    await at(75);
    assert.equal((await meWith(activeCookie.value)).status, 200);
    // However active, the session ends 90 s after sign-in.
    await at(ABSOLUTE_SECS + 2);
    assert.equal((await meWith(activeCookie.value)).status, 401, 'past the absolute timeout');
    await closeContext(active.context());
    await closeContext(idle.context());
  });
});
