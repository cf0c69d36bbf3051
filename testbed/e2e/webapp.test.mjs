// The web app end to end, in a real browser: headless Chromium (Debian's, driven by
// playwright-core) signs users in through the Worker (wrangler dev) against the local provider,
// and the Worker calls the downstream API for them with refreshed, rotated tokens.
//
//   testbed/node_modules/.bin/node --test testbed/e2e/webapp.test.mjs
//
// One provider and downstream serve the whole file; each `describe` starts one Worker (a client
// secret with the query response mode, form_post, the certificate client). Each test uses its
// own browser context (its own cookies). Access tokens live 60 s, which the Worker counts as
// expired (<= 300 s left): every /me/call refreshes.
//
// The browser stays on 127.0.0.1: it runs with a proxy on a closed local port for everything
// else (Chromium never proxies loopback), so a request elsewhere, even by redirect, fails
// without leaving the machine, and the test records it and fails.
//
// Chromium treats http://127.0.0.1 as potentially trustworthy: it keeps `Secure` and `__Host-`
// cookies from it (checked with Chromium 156), so the Worker runs on http://127.0.0.1. Cookies
// are not isolated by port: the provider's and the Worker's share the browser's jar for
// 127.0.0.1, under different names.
//
// Playwright routes do not see redirected requests, so a test that must stop a sign-in halfway
// stops it where a person would: on the provider's login page (`prompt=login`, no login_hint).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';

import { navigate, recordRequests, visit } from '../lib/browser-flows.mjs';
import { closeContext, launchChromium, newContext as newChromiumContext } from '../lib/chromium.mjs';
import { startTestbed, webappUris, webappVars } from '../lib/testbed.mjs';
import { freePort, startWorker } from '../lib/worker.mjs';

/** Room for the first Worker start's Rust build. */
const WORKER_TIMEOUT = { timeout: 360_000 };
const ACCESS_TOKEN_TTL = 60;
const SESSION_COOKIE = '__Host-edge-token-session';
const TX_COOKIE_PREFIX = '__Host-edge-token-tx-';
const TX_COOKIE_NAME = /^__Host-edge-token-tx-/;
const SIGN_IN_AGAIN = '/auth/sign-in?returnTo=%2F';
/** Text a provider error carries, which the Worker must not show. */
const PROVIDER_TEXT = 'PROVIDER-TEXT-3b9e<b id="reflected">x</b>';

let tb;
let browser;
/** Worker URLs, chosen before the provider starts so that it can register them. */
const urls = {};
const persistDirs = [];
/** Browser contexts to close (and check) after each test. */
const openContexts = [];

before(async () => {
  const ports = new Set();
  while (ports.size < 3) ports.add(await freePort());
  const [query, formPost, certificate] = [...ports];
  Object.assign(urls, {
    query: `http://127.0.0.1:${query}`,
    formPost: `http://127.0.0.1:${formPost}`,
    certificate: `http://127.0.0.1:${certificate}`,
  });
  const apps = Object.values(urls).map(webappUris);
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
  await Promise.all(persistDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Starts a Worker on `workerUrl`'s port with the web app settings. */
async function startWebappWorker(workerUrl, options = {}) {
  const persistTo = await mkdtemp(path.join(tmpdir(), 'edge-token-webapp-kv-'));
  persistDirs.push(persistTo);
  const vars = webappVars(tb, { workerUrl, ...options });
  return startWorker({ vars, persistTo, port: Number(new URL(workerUrl).port) });
}

/**
 * A new browser context (fresh cookies; requests off loopback and dialogs recorded, see
 * lib/chromium.mjs), closed and checked after the test, or by the caller when `keep`.
 */
async function newContext({ keep = false } = {}) {
  const context = await newChromiumContext(browser);
  if (!keep) openContexts.push(context);
  return context;
}

afterEach(async () => {
  const contexts = openContexts.splice(0);
  await Promise.all(contexts.map(closeContext));
});


/** Responses from exactly `endpoint` (any query), redirects included, in order. */
function recordResponses(page, endpoint) {
  const seen = [];
  page.on('response', (response) => {
    if (response.url().split('?')[0] === endpoint) seen.push(response);
  });
  return seen;
}



function signInUrl(workerUrl, { returnTo = '/', loginHint, prompt } = {}) {
  const query = new URLSearchParams({ returnTo });
  if (loginHint) query.set('login_hint', loginHint);
  if (prompt) query.set('prompt', prompt);
  return `${workerUrl}/auth/sign-in?${query}`;
}

/** Signs `loginHint` in (no page at the provider); returns the document landed on at the Worker. */
async function signIn(page, workerUrl, { returnTo = '/me', loginHint = 'alice' } = {}) {
  const response = await visit(page, signInUrl(workerUrl, { returnTo, loginHint }));
  assert.equal(response.status(), 200, `${response.url()}: ${await response.text()}`);
  return response;
}

/**
 * Starts a sign-in that stops on the provider's login page (prompt=login, no login_hint), where
 * a person would choose a user. Returns the authorization request URL the Worker redirected to.
 */
async function startSignIn(page, workerUrl, { returnTo = '/' } = {}) {
  const authorizations = recordRequests(page, tb.authorizationEndpoint);
  const loginPage = await visit(page, signInUrl(workerUrl, { returnTo, prompt: 'login' }), { origin: tb.issuer });
  assert.equal(loginPage.status(), 200, await loginPage.text());
  assert.match(new URL(loginPage.url()).pathname, /^\/interaction\/[\w-]+$/);
  assert.equal(authorizations.length, 1);
  return authorizations[0].url;
}

/** On the provider's login page: picks `username` (or cancels); returns what the Worker answers. */
function finishSignIn(page, workerUrl, username) {
  const button = username === 'cancel' ? '#cancel' : `#sign-in-${username}`;
  return navigate(page, () => page.click(button), (u) => u.origin === workerUrl);
}

/** The parsed JSON body of a response, with its text in the message when it is not JSON. */
async function jsonOf(response) {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return assert.fail(`not JSON (${response.status()} ${response.url()}): ${text.slice(0, 500)}`);
  }
}

async function cookieNamed(context, workerUrl, name) {
  return (await context.cookies(workerUrl)).find((cookie) => cookie.name === name);
}

async function transactionCookies(context, workerUrl) {
  return (await context.cookies(workerUrl)).filter((cookie) => cookie.name.startsWith(TX_COOKIE_PREFIX));
}

/** The set-cookie lines of a response (Chromium reports them, redirects included). */
async function setCookieLines(response) {
  return (await response.headersArray())
    .filter(({ name }) => name.toLowerCase() === 'set-cookie')
    .flatMap(({ value }) => value.split('\n'));
}

/** The Worker's sign-in failure page: 400, the heading, a fresh sign-in link, nothing reflected. */
async function assertSignInFailed(page, response) {
  const html = await response.text();
  assert.equal(response.status(), 400, `${response.url()}: ${html}`);
  assert.ok(html.includes('<h1>Sign-in failed</h1>'), html);
  assert.equal(await page.getAttribute('#sign-in', 'href'), SIGN_IN_AGAIN);
  assert.ok(!html.includes('PROVIDER-TEXT'), 'provider text reflected');
  assert.equal(await page.locator('#reflected').count(), 0);
}

/** The provider's authorization request as the Worker sent it (Entra/MSAL style, PKCE S256). */
function assertAuthorizationRequest(url, workerUrl, { loginHint, responseMode, clientId = 'webapp' } = {}) {
  const params = new URL(url).searchParams;
  assert.equal(url.split('?')[0], tb.authorizationEndpoint);
  assert.equal(params.get('client_id'), clientId);
  assert.equal(params.get('response_type'), 'code');
  assert.equal(params.get('redirect_uri'), webappUris(workerUrl).redirectUri);
  assert.equal(params.get('code_challenge_method'), 'S256');
  assert.match(params.get('code_challenge') ?? '', /^[\w-]{43}$/);
  assert.ok(params.get('state'), 'state');
  assert.ok(params.get('nonce'), 'nonce');
  const scopes = (params.get('scope') ?? '').split(' ');
  for (const scope of ['openid', 'offline_access', 'api://downstream/.default']) {
    assert.ok(scopes.includes(scope), `scope ${scope} in ${params.get('scope')}`);
  }
  if (loginHint) assert.equal(params.get('login_hint'), loginHint);
  if (responseMode) assert.equal(params.get('response_mode'), responseMode);
}

/** The transaction cookie as set by /auth/sign-in: one, `__Host-`, Secure, HttpOnly, short-lived. */
async function assertTransactionCookie(signInResponses, sameSite) {
  assert.equal(signInResponses.length, 1);
  assert.equal(signInResponses[0].status(), 302);
  const lines = (await setCookieLines(signInResponses[0]))
    .filter((line) => line.startsWith(TX_COOKIE_PREFIX) && !/;\s*Max-Age=0(;|$)/i.test(line));
  assert.equal(lines.length, 1, `one transaction cookie set by sign-in: ${lines.join(' | ')}`);
  const [line] = lines;
  for (const attribute of [/;\s*Secure/i, /;\s*HttpOnly/i, /;\s*Path=\/(;|$)/i, new RegExp(`;\\s*SameSite=${sameSite}`, 'i')]) {
    assert.match(line, attribute);
  }
  assert.doesNotMatch(line, /;\s*Domain=/i);
  const maxAge = Number(/;\s*Max-Age=(\d+)/i.exec(line)?.[1]);
  assert.ok(maxAge > 0 && maxAge <= 600, line);
}

describe('web app: client secret, query response mode', () => {
  let worker;
  /** Alice's browser, signed in by the first test and used by the next ones until sign-out. */
  let alice;
  before(async () => { worker = await startWebappWorker(urls.query); }, WORKER_TIMEOUT);
  after(async () => {
    if (alice) await closeContext(alice.context);
    await worker?.stop();
  });

  it('signs alice in by login_hint and lands on returnTo (/me) with her ID token claims', async () => {
    await tb.reset();
    const context = await newContext({ keep: true });
    const page = await context.newPage();
    alice = { context, page };
    const authorizations = recordRequests(page, tb.authorizationEndpoint);
    const signIns = recordResponses(page, `${worker.url}/auth/sign-in`);

    const response = await signIn(page, worker.url);
    assert.equal(page.url(), `${worker.url}/me`);
    assert.match(response.headers()['content-type'], /^application\/json/);
    const me = await jsonOf(response);
    assert.equal(me.sub, 'alice');
    assert.equal(me.name, 'Alice Example');
    assert.equal(me.iss, tb.issuer);
    assert.equal(me.aud, 'webapp');

    assert.equal(authorizations.length, 1);
    assertAuthorizationRequest(authorizations[0].url, worker.url, { loginHint: 'alice' });
    await assertTransactionCookie(signIns, 'Lax');

    // Signed in: a session cookie holding an id only; the transaction cookie is gone.
    const session = await cookieNamed(context, worker.url, SESSION_COOKIE);
    assert.ok(session, 'session cookie');
    assert.equal(session.secure, true);
    assert.equal(session.httpOnly, true);
    assert.equal(session.path, '/');
    assert.ok(session.value.length <= 128 && !session.value.includes('eyJ'), 'the cookie holds an id, not tokens');
    assert.deepEqual(await transactionCookies(context, worker.url), []);

    const stats = await tb.stats();
    assert.deepEqual(stats.by_grant_outcome, { 'authorization_code:200': 1 });
    assert.deepEqual(stats.sign_ins, { alice: 1 });
  });

  it('/ shows the signed-in user and links to /me, /me/call and sign-out', async () => {
    assert.ok(alice, 'alice signed in');
    const { page } = alice;
    const home = await visit(page, `${worker.url}/`);
    assert.equal(home.status(), 200);
    assert.match(home.headers()['content-type'], /^text\/html/);
    assert.equal(await page.textContent('#user-name'), 'Alice Example');
    assert.equal(await page.getAttribute('#me', 'href'), '/me');
    assert.equal(await page.getAttribute('#me-call', 'href'), '/me/call');
    assert.equal(await page.getAttribute('#sign-out', 'href'), '/auth/sign-out');
    assert.equal(await page.locator('#sign-in').count(), 0);
  });

  it('/me/call calls the downstream as alice, refreshing (and rotating) the token each time', async () => {
    assert.ok(alice, 'alice signed in');
    const { page } = alice;
    await tb.reset();
    for (let call = 1; call <= 2; call += 1) {
      const answer = await visit(page, `${worker.url}/me/call`);
      assert.equal(answer.status(), 200, await answer.text());
      assert.ok(answer.headers()['x-edge-token-source'], 'x-edge-token-source');
      const body = await jsonOf(answer);
      assert.equal(body.ok, true);
      assert.equal(body.claims.sub, 'alice');
      assert.equal(body.claims.aud, 'api://downstream');
      assert.equal(body.claims.iss, tb.issuer);
    }
    const stats = await tb.stats();
    assert.deepEqual(stats.by_grant_outcome, { 'refresh_token:200': 2 }, JSON.stringify(stats));
    assert.equal(stats.refresh_token_reuse, 0);
    assert.deepEqual(await tb.downstreamStats(), { requests: 2, authorized: 2 });
  });

  it('sign-out clears the session, signs out at the provider with no click and returns to /', async () => {
    assert.ok(alice, 'alice signed in');
    const { context, page } = alice;
    await tb.reset();
    const oldSession = await cookieNamed(context, worker.url, SESSION_COOKIE);
    assert.ok(oldSession, 'signed in before');
    const endSessions = recordRequests(page, tb.endSessionEndpoint);

    const home = await visit(page, `${worker.url}/auth/sign-out`, {
      until: (u) => u.origin === worker.url && u.pathname === '/',
    });
    assert.equal(home.status(), 200);
    assert.equal(new URL(page.url()).pathname, '/'); // the provider may add ?state=
    assert.equal(await page.getAttribute('#sign-in', 'href'), SIGN_IN_AGAIN);
    assert.equal(await page.locator('#user-name').count(), 0);
    assert.equal(await cookieNamed(context, worker.url, SESSION_COOKIE), undefined);

    assert.equal(endSessions.length, 1);
    const logout = new URL(endSessions[0].url).searchParams;
    assert.equal(logout.get('post_logout_redirect_uri'), `${worker.url}/`);
    assert.equal(logout.get('client_id'), 'webapp');
    assert.ok(logout.get('id_token_hint'), 'id_token_hint');
    assert.equal((await tb.stats()).end_sessions, 1);

    const me = await visit(page, `${worker.url}/me`);
    assert.equal(me.status(), 401);
    assert.equal((await jsonOf(me)).error, 'not_signed_in');
    assert.equal((await visit(page, `${worker.url}/me/call`)).status(), 401);

    // The old session id is dead on the server too.
    await context.addCookies([oldSession]);
    assert.equal((await visit(page, `${worker.url}/me`)).status(), 401);
    assert.equal((await tb.stats()).token_requests, 0);
  });

  it('refuses a replayed callback (400 Sign-in failed) without redeeming the code again', async () => {
    await tb.reset();
    const page = await (await newContext()).newPage();
    const callbacks = recordRequests(page, `${worker.url}/auth/callback`);
    await signIn(page, worker.url, { loginHint: 'bob' });
    assert.equal(callbacks.length, 1);
    assert.equal(callbacks[0].method, 'GET');

    await assertSignInFailed(page, await visit(page, callbacks[0].url));
    assert.deepEqual((await tb.stats()).by_grant, { authorization_code: 1 }, 'exactly one code redemption');
  });

  it('completes two sign-ins started in two tabs (alice, then bob) in reverse order', async () => {
    const context = await newContext();
    const [aliceTab, bobTab] = [await context.newPage(), await context.newPage()];

    // Both tabs start a sign-in at the Worker and stop on the provider's login page.
    const aliceRequest = await startSignIn(aliceTab, worker.url, { returnTo: '/me' });
    const bobRequest = await startSignIn(bobTab, worker.url, { returnTo: '/' });
    assertAuthorizationRequest(aliceRequest, worker.url);
    assertAuthorizationRequest(bobRequest, worker.url);
    assert.equal(new URL(aliceRequest).searchParams.get('prompt'), 'login');
    assert.notEqual(new URL(aliceRequest).searchParams.get('state'), new URL(bobRequest).searchParams.get('state'));
    assert.equal((await transactionCookies(context, worker.url)).length, 2, 'one transaction cookie per sign-in');

    // Bob finishes first: lands on / as Bob.
    const bobHome = await finishSignIn(bobTab, worker.url, 'bob');
    assert.equal(bobHome.status(), 200, await bobHome.text());
    assert.equal(bobTab.url(), `${worker.url}/`);
    assert.equal(await bobTab.textContent('#user-name'), 'Bob Example');

    // Then alice (the provider switches its own session from bob to alice on the way).
    const aliceMe = await finishSignIn(aliceTab, worker.url, 'alice');
    assert.equal(aliceMe.status(), 200, await aliceMe.text());
    assert.equal(aliceTab.url(), `${worker.url}/me`);
    assert.equal((await jsonOf(aliceMe)).sub, 'alice');

    assert.deepEqual(await transactionCookies(context, worker.url), []);
    const me = await visit(bobTab, `${worker.url}/me`);
    assert.equal((await jsonOf(me)).sub, 'alice', 'the last sign-in owns the session');
  });

  it('sends every returnTo that is not a same-origin relative path to /', async () => {
    const tricks = ['https://evil.test', '//evil.test', '/\\evil.test', '/%2F%2Fevil.test', 'javascript:alert(1)'];
    for (const returnTo of tricks) {
      const page = await (await newContext()).newPage();
      const landed = await visit(page, signInUrl(worker.url, { returnTo, loginHint: 'alice' }), {
        until: (u) => u.origin !== tb.issuer,
      });
      assert.equal(landed.url(), `${worker.url}/`, `returnTo ${returnTo}`);
      assert.equal(landed.status(), 200, `returnTo ${returnTo}`);
      assert.equal(await page.textContent('#user-name'), 'Alice Example', `returnTo ${returnTo}`);
    }
    // A same-origin path with a query survives.
    const page = await (await newContext()).newPage();
    await signIn(page, worker.url, { returnTo: '/me?x=1' });
    assert.equal(page.url(), `${worker.url}/me?x=1`);
  });

  it('refuses a tampered, missing or foreign transaction cookie without a token request', async () => {
    await tb.reset();
    const context = await newContext();
    const page = await context.newPage();

    // Tampered: one character of the transaction cookie's value changed.
    await startSignIn(page, worker.url);
    const [tx] = await transactionCookies(context, worker.url);
    assert.ok(tx, 'transaction cookie');
    const flipped = tx.value.at(-2) === 'A' ? 'B' : 'A';
    await context.addCookies([{ ...tx, value: `${tx.value.slice(0, -2)}${flipped}${tx.value.at(-1)}` }]);
    await assertSignInFailed(page, await finishSignIn(page, worker.url, 'alice'));

    // Foreign: the callback's transaction cookie is gone; another sign-in's is there.
    await context.clearCookies({ name: TX_COOKIE_NAME });
    await startSignIn(page, worker.url);
    const [first] = await transactionCookies(context, worker.url);
    const otherTab = await context.newPage();
    await startSignIn(otherTab, worker.url);
    await context.clearCookies({ name: first.name });
    assert.equal((await transactionCookies(context, worker.url)).length, 1);
    await assertSignInFailed(page, await finishSignIn(page, worker.url, 'alice'));

    // Missing: no transaction cookie at all.
    await context.clearCookies({ name: TX_COOKIE_NAME });
    await startSignIn(page, worker.url);
    await context.clearCookies({ name: TX_COOKIE_NAME });
    await assertSignInFailed(page, await finishSignIn(page, worker.url, 'alice'));

    // The provider issued three codes and never saw one come back.
    const stats = await tb.stats();
    assert.deepEqual(stats.sign_ins, { alice: 3 });
    assert.equal(stats.token_requests, 0);
    assert.equal(await cookieNamed(context, worker.url, SESSION_COOKIE), undefined);
  });

  it('shows provider errors as Sign-in failed, reflecting none of their text', async () => {
    await tb.reset();
    const context = await newContext();
    const page = await context.newPage();

    // prompt=none without a provider session: login_required.
    await assertSignInFailed(page, await visit(page, signInUrl(worker.url, { prompt: 'none', loginHint: 'alice' })));

    // The person cancels on the provider's login page: access_denied.
    await startSignIn(page, worker.url);
    await assertSignInFailed(page, await finishSignIn(page, worker.url, 'cancel'));

    // A forged error on a genuine transaction: its text must not be reflected.
    const authorization = await startSignIn(page, worker.url);
    const callback = new URL(`${worker.url}/auth/callback`);
    callback.search = new URLSearchParams({
      error: 'access_denied',
      error_description: PROVIDER_TEXT,
      state: new URL(authorization).searchParams.get('state'),
      iss: tb.issuer,
    });
    await assertSignInFailed(page, await visit(page, callback.href));

    assert.equal((await tb.stats()).token_requests, 0);
  });
});

describe('web app: response_mode=form_post', () => {
  let worker;
  before(async () => { worker = await startWebappWorker(urls.formPost, { responseMode: 'form_post' }); }, WORKER_TIMEOUT);
  after(() => worker?.stop());

  it('signs in with the code posted to the callback, then calls the downstream', async () => {
    await tb.reset();
    const page = await (await newContext()).newPage();
    const authorizations = recordRequests(page, tb.authorizationEndpoint);
    const callbacks = recordRequests(page, `${worker.url}/auth/callback`);
    const signIns = recordResponses(page, `${worker.url}/auth/sign-in`);

    const response = await signIn(page, worker.url);
    assert.equal(page.url(), `${worker.url}/me`);
    assert.equal((await jsonOf(response)).sub, 'alice');

    assertAuthorizationRequest(authorizations[0].url, worker.url, { loginHint: 'alice', responseMode: 'form_post' });
    assert.equal(callbacks.length, 1);
    assert.equal(callbacks[0].method, 'POST');
    assert.ok(new URLSearchParams(callbacks[0].postData).get('code'), 'code in the form');
    // The provider posts from another site in general: the cookie must be SameSite=None.
    await assertTransactionCookie(signIns, 'None');

    const call = await visit(page, `${worker.url}/me/call`);
    assert.equal(call.status(), 200, await call.text());
    assert.equal((await jsonOf(call)).claims.sub, 'alice');
    assert.deepEqual((await tb.stats()).by_grant_outcome, { 'authorization_code:200': 1, 'refresh_token:200': 1 });

    // Replaying the posted callback fails like the query one.
    const replay = await page.request.post(callbacks[0].url, {
      form: Object.fromEntries(new URLSearchParams(callbacks[0].postData)),
      maxRedirects: 0,
    });
    assert.equal(replay.status(), 400);
    assert.ok((await replay.text()).includes('<h1>Sign-in failed</h1>'));
    assert.equal((await tb.stats()).by_grant.authorization_code, 1);
  });
});

describe('web app: certificate client (webapp-cert)', () => {
  let worker;
  before(async () => { worker = await startWebappWorker(urls.certificate, { client: 'webapp-cert' }); }, WORKER_TIMEOUT);
  after(() => worker?.stop());

  it('redeems the code and refreshes with a client assertion', async () => {
    await tb.reset();
    const page = await (await newContext()).newPage();
    const authorizations = recordRequests(page, tb.authorizationEndpoint);
    const me = await jsonOf(await signIn(page, worker.url));
    assert.equal(me.sub, 'alice');
    assert.equal(me.aud, 'webapp-cert');
    assertAuthorizationRequest(authorizations[0].url, worker.url, { loginHint: 'alice', clientId: 'webapp-cert' });

    const call = await visit(page, `${worker.url}/me/call`);
    assert.equal(call.status(), 200, await call.text());
    assert.equal((await jsonOf(call)).claims.sub, 'alice');

    const stats = await tb.stats();
    assert.deepEqual(stats.by_client, { 'webapp-cert': 2 });
    assert.deepEqual(stats.by_auth, { private_key_jwt: 2 });
    assert.deepEqual(stats.by_grant_outcome, { 'authorization_code:200': 1, 'refresh_token:200': 1 });
  });
});
