// The web API that calls a web API, end to end through two Workers (wrangler dev) against the
// local provider and downstream:
// - the web API Worker (client `webapi`, audience api://webapi, scope access_as_user) validates
//   the caller's bearer token on GET /api/profile, exchanges it on-behalf-of for a downstream
//   token and returns the downstream's answer;
// - the web app Worker (client `webapp`) signs users in and, on GET /me/api, calls the web API
//   Worker with the user's token for api://webapi/access_as_user.
// Browser -> web app -> web API -> on-behalf-of -> downstream.
//
//   testbed/node_modules/.bin/node --test testbed/e2e/webapi.test.mjs
//
// Tests that call the web API themselves get users' tokens straight from the provider
// (lib/testbed.mjs userAccessToken), then reset the counters. Sign-ins to the web app use the
// fetch-driven browser (lib/fetch-browser.mjs; the Chromium tests of sign-in are webapp.test.mjs).
// Access tokens live an hour: cached tokens stay usable (MSAL counts a token expired 5 minutes
// early), so a second call within the test is served from the Workers' caches.
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { SignJWT } from 'jose';

import { FetchBrowser } from '../lib/fetch-browser.mjs';
import { readResponse } from '../lib/http.mjs';
import {
  callerToken, clients, credentials, DOWNSTREAM_SCOPE, MFA_CLAIMS_CHALLENGE, startTestbed, userAccessToken,
  WEBAPI_AUDIENCE, WEBAPI_OTHER_SCOPE, webapiAppRole, webapiVars, webappUris, webappVars,
} from '../lib/testbed.mjs';
import { freePort, startWorker } from '../lib/worker.mjs';

/** Room for the first Worker start's Rust build. */
const WORKER_TIMEOUT = { timeout: 360_000 };

let tb;
const persistDirs = [];
/** Worker URLs; the web app's is chosen before the provider starts, which registers it. */
const urls = {};
let webapi;
let webapp;

before(async () => {
  // Only the web app's port must be known before the provider starts (its redirect URI); the
  // web API Worker takes a port when it starts, which leaves less time for another process to
  // take it.
  const webappPort = await freePort();
  urls.webapp = `http://127.0.0.1:${webappPort}`;
  const app = webappUris(urls.webapp);
  tb = await startTestbed({
    webappRedirectUris: [app.redirectUri], webappPostLogoutRedirectUris: [app.postLogoutRedirectUri],
  });
  // One after the other: the first start may build the Worker.
  webapi = await startWorker({ vars: webapiVars(tb), persistTo: await persistDir() });
  urls.webapi = webapi.url;
  webapp = await startWorker({
    vars: webappVars(tb, { workerUrl: urls.webapp, webApiUrl: urls.webapi }),
    persistTo: await persistDir(),
    port: webappPort,
  });
}, WORKER_TIMEOUT);

after(async () => {
  await webapp?.stop();
  await webapi?.stop();
  await tb?.stop();
  await Promise.all(persistDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function persistDir() {
  const dir = await mkdtemp(path.join(tmpdir(), 'edge-token-webapi-kv-'));
  persistDirs.push(dir);
  return dir;
}

/** GET /api/profile at the web API Worker with `authorization` (a header value, or none). */
async function profile(authorization) {
  const headers = authorization === undefined ? {} : { authorization };
  return readResponse(await fetch(`${urls.webapi}/api/profile`, { headers }));
}

const bearer = (token) => `Bearer ${token}`;

/** The auth-params of a `WWW-Authenticate: Bearer ...` value (quoted-string values unescaped). */
function challengeParams(header) {
  assert.match(header ?? '', /^Bearer(\s|$)/, `WWW-Authenticate: ${header}`);
  const params = {};
  for (const [, name, quoted, token] of header.slice('Bearer'.length).matchAll(/([\w-]+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g)) {
    params[name] = quoted === undefined ? token : quoted.replace(/\\(.)/g, '$1');
  }
  return params;
}

/** 401 invalid_token with an error_description, RFC 6750 §3. */
function assertInvalidToken(result, what) {
  assert.equal(result.status, 401, `${what}: ${result.text}`);
  const params = challengeParams(result.headers.get('www-authenticate'));
  assert.equal(params.error, 'invalid_token', what);
  assert.ok(params.error_description, `${what}: error_description`);
  assert.equal(result.json?.error, 'invalid_token', what);
}

/** The claims JSON text a challenge's base64 `claims` carries (standard alphabet, padded). */
function decodedClaims(params) {
  assert.match(params.claims ?? '', /^[A-Za-z0-9+/]+={0,2}$/, `claims="${params.claims}"`);
  return Buffer.from(params.claims, 'base64').toString('utf8');
}

/** The downstream's answer, relayed: alice's (or `user`'s) delegated token via on-behalf-of. */
function assertDownstreamAnswer(result, user) {
  assert.equal(result.status, 200, result.text);
  assert.match(result.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(result.json?.ok, true, result.text);
  const { claims } = result.json;
  assert.equal(claims.sub, user);
  assert.equal(claims.aud, 'api://downstream');
  assert.equal(claims.azp, 'webapi');
  assert.equal(claims.client_id, 'webapi');
  assert.equal(claims.scp, 'user.read');
  assert.equal(claims.iss, tb.issuer);
  return claims;
}

/** Tokens for the web API, got before a test resets the counters. */
async function webapiToken(user, scope) {
  return (await userAccessToken(tb, { user, ...(scope ? { scope } : {}) })).accessToken;
}

describe('web API Worker: GET /api/profile', () => {
  it('answers no Authorization with a bare Bearer challenge (no error code) and missing_token', async () => {
    await tb.reset();
    const result = await profile(undefined);
    assert.equal(result.status, 401, result.text);
    const header = result.headers.get('www-authenticate');
    assert.match(header ?? '', /^Bearer\b/);
    assert.doesNotMatch(header, /error=/);
    assert.equal(result.json?.error, 'missing_token');
    assert.equal((await tb.stats()).token_requests, 0);
  });

  it('refuses malformed Authorization headers with invalid_token, asking the provider nothing', async () => {
    await tb.reset();
    const token = await webapiToken('alice');
    await tb.reset();
    const cases = {
      'Bearer alone': 'Bearer',
      'Basic scheme': 'Basic eHl6OnBhc3N3b3Jk',
      'two tokens': `Bearer ${token} ${token}`,
      '20 KB token': `Bearer ${'A'.repeat(20 * 1024)}`,
      'not b64token': 'Bearer not,a;token',
      'non-JWT garbage': 'Bearer garbage-that-is-no-jwt',
      'three parts, not base64url JSON': 'Bearer aaa.bbb.ccc',
    };
    for (const [what, authorization] of Object.entries(cases)) assertInvalidToken(await profile(authorization), what);
    assert.equal((await tb.stats()).token_requests, 0);
    assert.equal((await tb.downstreamStats()).requests, 0);
  });

  it('refuses a valid token for another audience, and a foreign-signed one, before any on-behalf-of request', async () => {
    await tb.reset();
    const downstreamToken = await webapiToken('alice', DOWNSTREAM_SCOPE);
    const foreign = await new SignJWT({ sub: 'alice', scp: 'access_as_user', azp: 'webapp' })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' })
      .setIssuer(tb.issuer)
      .setAudience(WEBAPI_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(createPrivateKey(credentials.unrelatedKeyPem));
    await tb.reset();
    assertInvalidToken(await profile(bearer(downstreamToken)), 'api://downstream token');
    assertInvalidToken(await profile(bearer(foreign)), 'foreign-signed token');
    const stats = await tb.stats();
    assert.equal(stats.by_grant.on_behalf_of, undefined, JSON.stringify(stats.by_grant));
    assert.equal((await tb.downstreamStats()).requests, 0);
  });

  // An expired token is not tested here: the Worker allows 300 s of clock skew on `exp`, so a
  // token would have to be more than five minutes past its expiry (the validation of exp is
  // unit-tested in Rust; the provider's expiry in testbed.test.mjs).

  it('answers 403 insufficient_scope to a web API token with neither access_as_user nor the app role (delegated or app-only)', async () => {
    await tb.reset();
    const reportsOnly = await webapiToken('alice', WEBAPI_OTHER_SCOPE);
    const appOnly = await fetch(tb.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clients.secretPost.clientId,
        client_secret: clients.secretPost.secret,
        scope: `${WEBAPI_AUDIENCE}/.default`,
      }),
    }).then((response) => response.json());
    await tb.reset();
    for (const [what, token] of [['scp reports.read', reportsOnly], ['app-only token', appOnly.access_token]]) {
      const result = await profile(bearer(token));
      assert.equal(result.status, 403, `${what}: ${result.text}`);
      const params = challengeParams(result.headers.get('www-authenticate'));
      assert.equal(params.error, 'insufficient_scope', what);
      assert.deepEqual(params.scope.split(' ').sort(), ['access_as_user', webapiAppRole].sort(), what);
    }
    assert.equal((await tb.stats()).token_requests, 0);
  });

  it('calls the downstream on behalf of alice, then serves her second call from memory', async () => {
    const token = await webapiToken('alice');
    await tb.reset();
    const first = await profile(bearer(token));
    assertDownstreamAnswer(first, 'alice');
    assert.equal(first.headers.get('x-edge-token-source'), 'provider');

    const second = await profile(bearer(token));
    assertDownstreamAnswer(second, 'alice');
    assert.equal(second.headers.get('x-edge-token-source'), 'memory');
    assert.equal(second.json.claims.jti, first.json.claims.jti, 'the same downstream token');

    const stats = await tb.stats();
    assert.deepEqual(stats.by_grant_outcome, { 'on_behalf_of:200': 1 });
    assert.deepEqual(stats.by_client, { webapi: 1 });
    assert.deepEqual(stats.obo_subjects, { alice: 1 });
    assert.equal(stats.obo_with_claims, 0);
    assert.equal(stats.obo_with_capabilities, 1, 'CLIENT_CAPABILITIES=cp1 is declared');
    assert.deepEqual(await tb.downstreamStats(), { requests: 2, authorized: 2 });
  });

  it('refuses alice\'s token altered after a good call with it (signature or payload), then still serves her token', async () => {
    const token = await webapiToken('alice');
    await tb.reset();
    assertDownstreamAnswer(await profile(bearer(token)), 'alice');
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const asBob = Buffer.from(JSON.stringify({ ...claims, sub: 'bob' })).toString('base64url');
    const altered = {
      'signature altered': `${header}.${payload}.${signature.slice(0, -4)}AAAA`,
      'payload altered, signature kept': `${header}.${asBob}.${signature}`,
    };
    for (const [what, forged] of Object.entries(altered)) {
      assertInvalidToken(await profile(bearer(forged)), what);
    }
    assertDownstreamAnswer(await profile(bearer(token)), 'alice');
    // No on-behalf-of request for an altered token (at most alice's own, once).
    const { obo_subjects: subjects } = await tb.stats();
    assert.deepEqual(Object.keys(subjects), Object.keys(subjects).length ? ['alice'] : [], JSON.stringify(subjects));
    assert.ok((subjects.alice ?? 0) <= 1, JSON.stringify(subjects));
  });

  it('an app-only caller holding the app role reaches the downstream with the web API\'s own app token: no on-behalf-of', async () => {
    const caller = await callerToken(tb, { caller: 'webapiCaller', resource: WEBAPI_AUDIENCE });
    assert.equal(caller.claims.idtyp, 'app');
    assert.deepEqual(caller.claims.roles, [webapiAppRole]);
    assert.equal(caller.claims.scp, undefined);
    await tb.reset();
    const first = await profile(caller.authorization);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('x-edge-token-source'), 'provider');
    const { claims } = first.json;
    assert.equal(claims.aud, 'api://downstream');
    assert.equal(claims.azp, 'webapi');
    assert.equal(claims.sub, 'webapi', 'the web API\'s own identity, not the caller\'s');
    assert.equal(claims.idtyp, 'app');
    assert.equal(claims.scp, undefined);

    const second = await profile(caller.authorization);
    assert.equal(second.status, 200, second.text);
    assert.equal(second.headers.get('x-edge-token-source'), 'memory');
    const stats = await tb.stats();
    assert.deepEqual(stats.by_grant_outcome, { 'client_credentials:200': 1 });
    assert.deepEqual(stats.by_client, { webapi: 1 });
    assert.deepEqual(stats.obo_subjects, {});
  });

  it('two users get two on-behalf-of tokens, each with their own sub', async () => {
    const aliceToken = await webapiToken('alice');
    const bobToken = await webapiToken('bob');
    await tb.reset();
    const alice = assertDownstreamAnswer(await profile(bearer(aliceToken)), 'alice');
    const bob = assertDownstreamAnswer(await profile(bearer(bobToken)), 'bob');
    assert.notEqual(alice.jti, bob.jti);
    const stats = await tb.stats();
    assert.deepEqual(stats.by_grant_outcome, { 'on_behalf_of:200': 2 });
    assert.deepEqual(stats.obo_subjects, { alice: 1, bob: 1 });
  });

  it('carol (MFA required): 401 with the provider\'s claims challenge, interaction_required', async () => {
    const token = await webapiToken('carol');
    await tb.reset();
    const result = await profile(bearer(token));
    assert.equal(result.status, 401, result.text);
    const params = challengeParams(result.headers.get('www-authenticate'));
    assert.equal(params.error, 'insufficient_claims');
    assert.deepEqual(JSON.parse(decodedClaims(params)), JSON.parse(MFA_CLAIMS_CHALLENGE));
    assert.equal(result.json?.error, 'interaction_required', result.text);
    assert.ok(!result.text.includes(token), 'the token is not echoed');

    const stats = await tb.stats();
    assert.deepEqual(stats.by_grant_outcome, { 'on_behalf_of:400': 1 });
    assert.deepEqual(stats.obo_subjects, { carol: 1 });
    assert.equal((await tb.downstreamStats()).requests, 0);
  });

  it('CAE: a downstream claims challenge gets a fresh token with the claims, and one retry succeeds', async () => {
    const token = await webapiToken('alice'); // a new incoming token: nothing cached for it
    await tb.reset();
    await tb.armClaimsChallenge({ sub: 'alice' });
    const result = await profile(bearer(token));
    assertDownstreamAnswer(result, 'alice');

    const stats = await tb.stats();
    assert.deepEqual(stats.by_grant_outcome, { 'on_behalf_of:200': 2 }, 'the first token, then one with the claims');
    assert.equal(stats.obo_with_claims, 1);
    assert.deepEqual(await tb.downstreamStats(), { requests: 2, authorized: 1, challenges: 1 });
  });

  it('CAE: a second challenge on the retry is passed to the caller; no loop', async () => {
    const token = await webapiToken('bob');
    await tb.reset();
    await tb.armClaimsChallenge({ sub: 'bob' });
    await tb.armClaimsChallenge({ sub: 'bob' });
    const result = await profile(bearer(token));
    assert.equal(result.status, 401, result.text);
    const params = challengeParams(result.headers.get('www-authenticate'));
    assert.equal(params.error, 'insufficient_claims');

    const stats = await tb.stats();
    assert.deepEqual(stats.by_grant_outcome, { 'on_behalf_of:200': 2 }, 'exactly one retry');
    assert.equal(stats.obo_with_claims, 1);
    assert.deepEqual(await tb.downstreamStats(), { requests: 2, authorized: 0, challenges: 2 });

    // Nothing armed any more: the next call goes through.
    assertDownstreamAnswer(await profile(bearer(token)), 'bob');
  });
});

describe('web app Worker: GET /me/api (browser -> web app -> web API -> on-behalf-of -> downstream)', () => {
  /** Signs `user` in to the web app with a fetch-driven browser; returns the browser. */
  async function signedIn(user) {
    const browser = new FetchBrowser();
    const landed = await browser.navigate(`${urls.webapp}/auth/sign-in?returnTo=%2Fme&login_hint=${user}`, {
      stayOn: [urls.webapp, tb.issuer],
    });
    assert.equal(landed.status, 200, `${landed.url}: ${landed.text.slice(0, 300)}`);
    assert.equal(landed.url, `${urls.webapp}/me`);
    assert.equal(JSON.parse(landed.text).sub, user);
    return browser;
  }

  const meApi = async (browser) => {
    const answer = await browser.request(`${urls.webapp}/me/api`);
    let json;
    try {
      json = JSON.parse(answer.text);
    } catch {
      json = undefined;
    }
    return { ...answer, json };
  };

  it('answers 401 not_signed_in without a session', async () => {
    const result = await meApi(new FetchBrowser());
    assert.equal(result.status, 401, result.text);
    assert.equal(result.json?.error, 'not_signed_in');
  });

  it('returns the web API\'s answer: the downstream saw alice, through webapi', async () => {
    const browser = await signedIn('alice');
    await tb.reset();
    const result = await meApi(browser);
    assert.equal(result.status, 200, result.text);
    assert.ok(result.headers.get('x-edge-token-source'), 'x-edge-token-source');
    assert.equal(result.json?.ok, true, result.text);
    assert.equal(result.json.claims.sub, 'alice');
    assert.equal(result.json.claims.azp, 'webapi');
    assert.equal(result.json.claims.aud, 'api://downstream');

    const stats = await tb.stats();
    assert.equal(stats.by_grant_outcome['on_behalf_of:200'], 1, JSON.stringify(stats.by_grant_outcome));
    assert.deepEqual(stats.obo_subjects, { alice: 1 });
    assert.equal(stats.refresh_token_reuse, 0);
    for (const outcome of Object.keys(stats.by_grant_outcome)) assert.match(outcome, /:200$/);

    // Again: the web app's token for the web API and the web API's token are both cached.
    const again = await meApi(browser);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.claims.jti, result.json.claims.jti);
    assert.equal((await tb.stats()).by_grant_outcome['on_behalf_of:200'], 1);
  });

  it('carol: the web app retries once with the claims, then answers 401 interaction_required with them', async () => {
    const browser = await signedIn('carol');
    await tb.reset();
    const result = await meApi(browser);
    assert.equal(result.status, 401, result.text);
    assert.equal(result.location, undefined, 'no redirect');
    assert.equal(result.json?.error, 'interaction_required', result.text);
    assert.deepEqual(JSON.parse(result.json.claims), JSON.parse(MFA_CLAIMS_CHALLENGE));

    const stats = await tb.stats();
    assert.equal(stats.by_grant_outcome['on_behalf_of:400'], 2, JSON.stringify(stats.by_grant_outcome));
    assert.deepEqual(stats.obo_subjects, { carol: 2 });
    assert.equal((await tb.downstreamStats()).requests, 0);
  });
});
