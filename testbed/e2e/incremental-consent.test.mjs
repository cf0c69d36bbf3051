// Incremental consent end to end, in headless Chromium, against a provider that asks users to
// consent to API scopes one request at a time, as Entra does for dynamically requested scopes
// (CONSENT_MODE=per-scope, lib/consent.mjs): a sign-in consents to the downstream API only; the
// first GET /me/api needs the web API's scope, which the refresh token cannot get
// (consent_required), so the web app sends the user to the provider for exactly that scope.
// Browser -> web app Worker -> (consent) -> web API Worker -> on-behalf-of -> downstream.
//
//   testbed/node_modules/.bin/node --test testbed/e2e/incremental-consent.test.mjs
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  DOWNSTREAM_SCOPE, startTestbed, WEBAPI_SCOPE, webapiVars, webappUris, webappVars,
} from '../lib/testbed.mjs';
import { closeContext, launchChromium, newContext } from '../lib/chromium.mjs';
import { freePort, startWorker } from '../lib/worker.mjs';

/** Room for the first Worker start's Rust build. */
const WORKER_TIMEOUT = { timeout: 360_000 };

let tb;
let browser;
let webapi;
let webapp;
const urls = {};
const persistDirs = [];

async function persistDir() {
  const dir = await mkdtemp(path.join(tmpdir(), 'edge-token-consent-kv-'));
  persistDirs.push(dir);
  return dir;
}

before(async () => {
  const webappPort = await freePort();
  urls.webapp = `http://127.0.0.1:${webappPort}`;
  const app = webappUris(urls.webapp);
  tb = await startTestbed({
    consent: 'per-scope',
    webappRedirectUris: [app.redirectUri],
    webappPostLogoutRedirectUris: [app.postLogoutRedirectUri],
  });
  webapi = await startWorker({ vars: webapiVars(tb), persistTo: await persistDir() });
  urls.webapi = webapi.url;
  webapp = await startWorker({
    vars: webappVars(tb, { workerUrl: urls.webapp, webApiUrl: urls.webapi }),
    persistTo: await persistDir(),
    port: webappPort,
  });
  browser = await launchChromium();
}, WORKER_TIMEOUT);

after(async () => {
  await browser?.close();
  await webapp?.stop();
  await webapi?.stop();
  await tb?.stop();
  await Promise.all(persistDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function newPage() {
  return (await newContext(browser)).newPage();
}

/** The API scopes listed on the provider's consent page `page` is on. */
async function listedScopes(page) {
  if (!page.url().startsWith(`${tb.issuer}/interaction/`)) {
    assert.fail(`not on the consent page: ${page.url()}: ${(await page.content()).slice(0, 500)}`);
  }
  return page.locator('#scopes li').allTextContents();
}

/** Signs `user` in (accepting the sign-in's consent to the downstream API); ends on `/`. */
async function signIn(page, user) {
  await page.goto(`${urls.webapp}/auth/sign-in?returnTo=%2F&login_hint=${user}`);
  assert.deepEqual(await listedScopes(page), [DOWNSTREAM_SCOPE]);
  await Promise.all([page.waitForURL(`${urls.webapp}/`), page.click('#consent-accept')]);
  assert.equal(await page.locator('#user-name').count(), 1, 'signed in');
}

/** The JSON body of the page `page` shows. */
async function json(page) {
  return JSON.parse(await page.locator('body').innerText());
}

describe('incremental consent: GET /me/api asks for the web API\'s scope, once', () => {
  it('one consent prompt for exactly the web API\'s scope, back to /me/api, then success', async () => {
    const page = await newPage();
    await signIn(page, 'alice');
    await tb.reset();

    // The refresh token cannot get the web API's scope: the provider's consent page lists it
    // alone (not the sign-in's scopes).
    await page.goto(`${urls.webapp}/me/api`);
    assert.deepEqual(await listedScopes(page), [WEBAPI_SCOPE]);
    let stats = await tb.stats();
    assert.deepEqual(stats.by_grant_outcome, { 'refresh_token:400': 1 }, JSON.stringify(stats.by_grant_outcome));

    // Accepted: the code is redeemed and the browser is back on the page that needed it.
    const answer = page.waitForResponse(`${urls.webapp}/me/api`);
    await Promise.all([page.waitForURL(`${urls.webapp}/me/api`), page.click('#consent-accept')]);
    assert.equal((await answer).status(), 200);
    const body = await json(page);
    assert.equal(body.ok, true);
    assert.equal(body.claims.sub, 'alice');
    stats = await tb.stats();
    assert.equal(stats.consent_prompts, 1);
    assert.equal(stats.by_grant_outcome['authorization_code:200'], 1);

    // Consented now: no prompt, and the downstream API still works from the new session's
    // refresh token.
    const again = await page.goto(`${urls.webapp}/me/api`);
    assert.equal(again.status(), 200);
    const call = await page.goto(`${urls.webapp}/me/call`);
    assert.equal(call.status(), 200, await call.text());
    assert.equal((await tb.stats()).consent_prompts, 1);
    await closeContext(page.context());
  });

  it('a declined consent ends on a 403 page, with no second trip to the provider', async () => {
    const page = await newPage();
    await signIn(page, 'bob');
    await tb.reset();
    await page.goto(`${urls.webapp}/me/api`);
    assert.deepEqual(await listedScopes(page), [WEBAPI_SCOPE]);
    const callback = page.waitForResponse((response) => response.url().startsWith(`${urls.webapp}/auth/callback`));
    await page.click('#consent-decline');
    const declined = await callback;
    assert.equal(declined.status(), 403);
    await page.waitForLoadState('load');
    assert.equal(await page.locator('#access-denied').count(), 1);
    assert.ok(page.url().startsWith(`${urls.webapp}/auth/callback`), page.url());
    const stats = await tb.stats();
    assert.equal(stats.consent_prompts, 1);
    // One refresh refused for consent, no code redeemed, nothing else asked.
    assert.deepEqual(stats.by_grant_outcome, { 'refresh_token:400': 1 });
    // Bob's session is intact: the downstream API still answers for him.
    const call = await page.goto(`${urls.webapp}/me/call`);
    assert.equal(call.status(), 200, await call.text());
    await closeContext(page.context());
  });
});
