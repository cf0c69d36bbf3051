// Tests of the provider as a web app sees it, without the Worker: plain fetch plays the browser
// (lib/fetch-browser.mjs: manual redirects, a cookie jar, self-submitting forms) and the
// relying party (PKCE S256, state, nonce, code redemption, refresh, logout).
// The redirect URI is served by nothing: only the provider's Location header is read.
//
//   testbed/node_modules/.bin/node --test testbed/e2e/provider-webapp.test.mjs
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';

import { FetchBrowser, submitsItself } from '../lib/fetch-browser.mjs';
import {
  clients, credentials, describeCertificate, signAssertion, startTestbed, users, webappUris,
} from '../lib/testbed.mjs';

/** Nothing listens there; the provider only redirects to it. */
const APP = webappUris('http://127.0.0.1:9');
const ACCESS_TOKEN_TTL = 60;
const MSAL_SCOPE = 'openid profile offline_access api://downstream/.default';
/** What the Worker sends with a refresh token, as MSAL does. */
const REFRESH_SCOPE = 'api://downstream/.default openid profile offline_access';

const base64url = (bytes) => Buffer.from(bytes).toString('base64url');

/** A new authorization request with PKCE S256, state and nonce, as edge-token's web app makes. */
function authorizationRequest(tb, {
  clientId = clients.webapp.clientId, scope = MSAL_SCOPE, loginHint, extra = {},
} = {}) {
  const verifier = base64url(randomBytes(32));
  const state = base64url(randomBytes(16));
  const nonce = base64url(randomBytes(16));
  const url = new URL(tb.authorizationEndpoint);
  url.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: APP.redirectUri,
    scope,
    state,
    nonce,
    code_challenge: base64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    ...(loginHint ? { login_hint: loginHint } : {}),
    ...extra,
  });
  return { url: url.href, verifier, state, nonce, clientId };
}

/** The code at the redirect URI, after checking state and issuer (RFC 9207). */
function codeFrom(tb, result, request) {
  assert.ok(result.leftTo, `no redirect to the app: ${result.status} ${result.text.slice(0, 500)}`);
  assert.ok(result.leftTo.startsWith(`${APP.redirectUri}?`), result.leftTo);
  const params = new URL(result.leftTo).searchParams;
  assert.equal(params.get('error'), null, result.leftTo);
  assert.equal(params.get('state'), request.state);
  assert.equal(params.get('iss'), tb.issuer);
  return params.get('code');
}

async function tokenRequest(tb, form) {
  const response = await fetch(tb.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: await response.json() };
}

const webappAuth = { client_id: clients.webapp.clientId, client_secret: clients.webapp.secret };

function redeem(tb, code, request, auth = webappAuth) {
  return tokenRequest(tb, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: APP.redirectUri,
    code_verifier: request.verifier,
    ...auth,
  });
}

function refresh(tb, refreshToken, auth = webappAuth) {
  return tokenRequest(tb, {
    grant_type: 'refresh_token', refresh_token: refreshToken, scope: REFRESH_SCOPE, ...auth,
  });
}

async function callDownstream(tb, token) {
  const response = await fetch(`${tb.downstreamUrl}/api/whoami`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: await response.json() };
}

describe('provider: web app sign-in (authorization code, PKCE, refresh, logout)', () => {
  let tb;
  let keys;
  before(async () => {
    tb = await startTestbed({
      accessTokenTtl: ACCESS_TOKEN_TTL,
      webappRedirectUris: [APP.redirectUri],
      webappPostLogoutRedirectUris: [APP.postLogoutRedirectUri],
    });
    keys = createRemoteJWKSet(new URL(tb.jwksUri));
  });
  after(() => tb?.stop());

  /** login_hint=alice through to the code, in a new browser. */
  async function signedInCode(options = {}) {
    const browser = options.browser ?? new FetchBrowser();
    const request = authorizationRequest(tb, { loginHint: 'alice', ...options });
    const result = await browser.navigate(request.url, { stayOn: tb.issuer });
    return { browser, request, code: codeFrom(tb, result, request) };
  }

  /** A verified access token for api://downstream about `user`, accepted by the downstream. */
  async function assertDownstreamToken(accessToken, user, clientId = clients.webapp.clientId) {
    assert.equal(decodeProtectedHeader(accessToken).alg, 'RS256');
    const { payload } = await jwtVerify(accessToken, keys, { issuer: tb.issuer, audience: 'api://downstream' });
    assert.equal(payload.sub, user);
    assert.equal(payload.client_id, clientId);
    assert.equal(payload.exp - payload.iat, ACCESS_TOKEN_TTL);
    const api = await callDownstream(tb, accessToken);
    assert.equal(api.status, 200, JSON.stringify(api.body));
    assert.equal(api.body.claims.sub, user);
  }

  it('publishes what a web app needs in discovery', async () => {
    const discovery = await (await fetch(`${tb.issuer}/.well-known/openid-configuration`)).json();
    assert.equal(discovery.authorization_endpoint, `${tb.issuer}/authorize`);
    assert.equal(discovery.end_session_endpoint, `${tb.issuer}/session/end`);
    assert.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
    assert.ok(discovery.response_modes_supported.includes('form_post'));
    assert.ok(discovery.grant_types_supported.includes('refresh_token'));
    assert.ok(discovery.scopes_supported.includes('offline_access'));
    assert.ok(discovery.claims_supported.includes('preferred_username'));
    assert.deepEqual(discovery.id_token_signing_alg_values_supported.includes('RS256'), true);
  });

  it('signs alice in by login_hint with no page, redeems the code, refreshes with rotation, refuses reuse', async () => {
    await tb.reset();
    const { request, code } = await signedInCode();
    assert.ok(code);

    const redeemed = await redeem(tb, code, request);
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
    const { body } = redeemed;
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, ACCESS_TOKEN_TTL);
    assert.ok(body.refresh_token, 'offline_access gives a refresh token');
    assert.equal(body.scope, 'api://downstream/.default');

    assert.equal(decodeProtectedHeader(body.id_token).alg, 'RS256');
    const { payload: id } = await jwtVerify(body.id_token, keys, { issuer: tb.issuer, audience: 'webapp' });
    assert.equal(id.sub, 'alice');
    assert.equal(id.name, 'Alice Example');
    assert.equal(id.preferred_username, 'alice@example.test');
    assert.equal(id.email, 'alice@example.test');
    assert.equal(id.nonce, request.nonce);
    await assertDownstreamToken(body.access_token, 'alice');

    // Refresh as the Worker does (MSAL's scope string): a new access token and a new refresh token.
    const first = await refresh(tb, body.refresh_token);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.notEqual(first.body.refresh_token, body.refresh_token, 'rotated');
    assert.notEqual(first.body.access_token, body.access_token);
    assert.equal(first.body.expires_in, ACCESS_TOKEN_TTL);
    await assertDownstreamToken(first.body.access_token, 'alice');
    const { payload: refreshedId } = await jwtVerify(first.body.id_token, keys, { issuer: tb.issuer, audience: 'webapp' });
    assert.equal(refreshedId.sub, 'alice');
    assert.equal(refreshedId.name, 'Alice Example');

    const second = await refresh(tb, first.body.refresh_token);
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.notEqual(second.body.refresh_token, first.body.refresh_token);

    // Reusing a consumed refresh token fails and revokes the grant: the latest one dies too.
    const reuse = await refresh(tb, body.refresh_token);
    assert.equal(reuse.status, 400);
    assert.equal(reuse.body.error, 'invalid_grant');
    const afterRevocation = await refresh(tb, second.body.refresh_token);
    assert.equal(afterRevocation.status, 400);
    assert.equal(afterRevocation.body.error, 'invalid_grant');

    // The code works once (a second redemption would also revoke its grant).
    const again = await redeem(tb, code, request);
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'invalid_grant');

    const stats = await tb.stats();
    assert.deepEqual(stats.by_grant, { authorization_code: 2, refresh_token: 4 });
    assert.deepEqual(stats.by_grant_outcome, {
      'authorization_code:200': 1,
      'authorization_code:400': 1,
      'refresh_token:200': 2,
      'refresh_token:400': 2,
    });
    assert.equal(stats.refresh_token_reuse, 1);
    assert.deepEqual(stats.sign_ins, { alice: 1 });
    assert.deepEqual(stats.by_client, { webapp: 6 });
  });

  it('asks for api://downstream/user.read the same way', async () => {
    const { request, code } = await signedInCode({ scope: 'openid profile offline_access api://downstream/user.read' });
    const { status, body } = await redeem(tb, code, request);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.scope, 'api://downstream/user.read');
    await assertDownstreamToken(body.access_token, 'alice');
  });

  it('refuses a wrong code_verifier', async () => {
    const { request, code } = await signedInCode();
    const { status, body } = await redeem(tb, code, { ...request, verifier: base64url(randomBytes(32)) });
    assert.equal(status, 400);
    assert.equal(body.error, 'invalid_grant');
  });

  it('requires PKCE S256: plain and none are refused at the redirect URI', async () => {
    for (const extra of [
      { code_challenge_method: 'plain', code_challenge: base64url(randomBytes(32)) },
      { code_challenge_method: undefined, code_challenge: undefined },
    ]) {
      const request = authorizationRequest(tb, { loginHint: 'alice' });
      const url = new URL(request.url);
      for (const [name, value] of Object.entries(extra)) {
        if (value === undefined) url.searchParams.delete(name);
        else url.searchParams.set(name, value);
      }
      const result = await new FetchBrowser().navigate(url.href, { stayOn: tb.issuer });
      assert.ok(result.leftTo?.startsWith(`${APP.redirectUri}?`), `${result.status} ${result.text}`);
      const params = new URL(result.leftTo).searchParams;
      assert.equal(params.get('error'), 'invalid_request', JSON.stringify(extra));
      assert.equal(params.get('code'), null);
      assert.equal(params.get('state'), request.state);
    }
  });

  it('refuses an unregistered redirect URI without redirecting', async () => {
    const request = authorizationRequest(tb, { loginHint: 'alice' });
    const url = new URL(request.url);
    url.searchParams.set('redirect_uri', 'http://127.0.0.1:9/elsewhere');
    const result = await new FetchBrowser().navigate(url.href, { stayOn: tb.issuer });
    assert.equal(result.status, 400);
    assert.equal(result.leftTo, undefined);
    assert.match(result.text, /redirect_uri did not match/);
  });

  it('shows an escaped login page without a usable login_hint, then signs in the user picked', async () => {
    const browser = new FetchBrowser();
    const hostile = '<script>alert(1)</script>"';
    const request = authorizationRequest(tb, { loginHint: hostile });
    const page = await browser.navigate(request.url, { stayOn: tb.issuer });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /^text\/html/);
    assert.match(page.url, new RegExp(`^${tb.issuer}/interaction/[\\w-]+$`));
    for (const [username, { name }] of Object.entries(users)) {
      assert.ok(page.text.includes(`id="sign-in-${username}"`), username);
      assert.ok(page.text.includes(name), name);
    }
    assert.ok(!page.text.includes('<script>alert(1)'), 'login_hint reflected unescaped');
    assert.ok(page.text.includes('&lt;script&gt;alert(1)&lt;/script&gt;&quot;'), 'login_hint shown escaped');
    assert.ok(!/https?:\/\/(?!127\.0\.0\.1)/.test(page.text), 'the page loads nothing from elsewhere');

    // An unknown username is refused on the page, escaped.
    const unknown = await browser.navigate(`${page.url}/login`, {
      stayOn: tb.issuer, method: 'POST', form: { username: '<b>mallory</b>' },
    });
    assert.equal(unknown.status, 400);
    assert.ok(unknown.text.includes('Unknown user: &lt;b&gt;mallory&lt;/b&gt;'));

    const result = await browser.navigate(`${page.url}/login`, {
      stayOn: tb.issuer, method: 'POST', form: { username: 'bob' },
    });
    const code = codeFrom(tb, result, request);
    const { status, body } = await redeem(tb, code, request);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(decodeJwt(body.id_token).name, 'Bob Example');
    await assertDownstreamToken(body.access_token, 'bob');
  });

  it('cancel on the login page answers access_denied at the redirect URI', async () => {
    const browser = new FetchBrowser();
    const request = authorizationRequest(tb);
    const page = await browser.navigate(request.url, { stayOn: tb.issuer });
    assert.equal(page.status, 200);
    const result = await browser.navigate(`${page.url}/login`, { stayOn: tb.issuer, method: 'POST', form: { cancel: '1' } });
    assert.ok(result.leftTo?.startsWith(`${APP.redirectUri}?`), result.text);
    const params = new URL(result.leftTo).searchParams;
    assert.equal(params.get('error'), 'access_denied');
    assert.equal(params.get('state'), request.state);
  });

  it('takes a login_hint as username or email address, in any case', async () => {
    for (const loginHint of ['bob@example.test', 'Bob@Example.TEST', 'BOB']) {
      const { request, code } = await signedInCode({ loginHint });
      const { body } = await redeem(tb, code, request);
      assert.equal(decodeJwt(body.id_token).sub, 'bob', loginHint);
    }
  });

  it('keeps the provider session: a second request needs no hint; another hint switches user', async () => {
    const browser = new FetchBrowser();
    await signedInCode({ browser });

    const silent = authorizationRequest(tb);
    const code = codeFrom(tb, await browser.navigate(silent.url, { stayOn: tb.issuer }), silent);
    assert.equal(decodeJwt((await redeem(tb, code, silent)).body.id_token).sub, 'alice');

    const bob = await signedInCode({ browser, loginHint: 'bob' });
    const { body } = await redeem(tb, bob.code, bob.request);
    assert.equal(decodeJwt(body.id_token).sub, 'bob');
  });

  it('issues a refresh token with prompt=login or prompt=select_account too', async () => {
    for (const prompt of ['login', 'select_account']) {
      const { request, code } = await signedInCode({ extra: { prompt } });
      const { status, body } = await redeem(tb, code, request);
      assert.equal(status, 200, JSON.stringify(body));
      assert.ok(body.refresh_token, prompt);
      assert.equal((await refresh(tb, body.refresh_token)).status, 200, prompt);
    }
  });

  it('prompt=none without a provider session answers login_required', async () => {
    const request = authorizationRequest(tb, { loginHint: 'alice', extra: { prompt: 'none' } });
    const result = await new FetchBrowser().navigate(request.url, { stayOn: tb.issuer });
    assert.equal(new URL(result.leftTo).searchParams.get('error'), 'login_required');
  });

  it('response_mode=form_post posts the code to the redirect URI', async () => {
    const request = authorizationRequest(tb, { loginHint: 'alice', extra: { response_mode: 'form_post' } });
    const result = await new FetchBrowser().navigate(request.url, { stayOn: tb.issuer });
    assert.equal(result.postedTo, APP.redirectUri, result.text);
    assert.equal(result.form.get('state'), request.state);
    assert.equal(result.form.get('iss'), tb.issuer);
    const { status } = await redeem(tb, result.form.get('code'), request);
    assert.equal(status, 200);
  });

  it('the certificate client (webapp-cert) redeems and refreshes with a PS256 assertion', async () => {
    const clientId = clients.webappCertificate.clientId;
    const assertionAuth = async () => ({
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await signAssertion({
        tokenEndpoint: tb.tokenEndpoint,
        clientId,
        header: { alg: 'PS256', 'x5t#S256': describeCertificate(credentials.certificatePem).x5tS256 },
      }),
    });
    await tb.reset();
    const { request, code } = await signedInCode({ clientId });
    const { status, body } = await redeem(tb, code, request, await assertionAuth());
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(decodeJwt(body.id_token).aud, clientId);
    await assertDownstreamToken(body.access_token, 'alice', clientId);
    assert.equal((await refresh(tb, body.refresh_token, await assertionAuth())).status, 200);

    // The secret client's credentials do not redeem the certificate client's code.
    const other = await signedInCode({ clientId });
    assert.equal((await redeem(tb, other.code, other.request)).status, 400);

    const stats = await tb.stats();
    assert.deepEqual(stats.by_auth, { private_key_jwt: 2, client_secret_post: 1 });
    assert.deepEqual(stats.by_assertion_alg, { PS256: 2 });
  });

  it('RP-initiated logout needs no click, returns to the post-logout URI and ends the provider session', async () => {
    await tb.reset();
    const { browser, request, code } = await signedInCode();
    const { body } = await redeem(tb, code, request);

    const logout = new URL(tb.endSessionEndpoint);
    logout.search = new URLSearchParams({
      id_token_hint: body.id_token,
      post_logout_redirect_uri: APP.postLogoutRedirectUri,
      client_id: clients.webapp.clientId,
      state: 'after-logout',
    });
    // The confirmation page submits itself (and has a button for browsers without JavaScript).
    const confirmation = await browser.request(logout.href);
    assert.equal(confirmation.status, 200);
    assert.ok(submitsItself(confirmation.text));
    assert.ok(confirmation.text.includes('id="sign-out"'));
    assert.ok(!/https?:\/\/(?!127\.0\.0\.1)/.test(confirmation.text), 'the page loads nothing from elsewhere');

    const result = await browser.navigate(logout.href, { stayOn: tb.issuer });
    assert.equal(result.leftTo, `${APP.postLogoutRedirectUri}?state=after-logout`);
    assert.equal((await tb.stats()).end_sessions, 1);

    // The provider session is gone: a new request shows the login page.
    const next = await browser.navigate(authorizationRequest(tb).url, { stayOn: tb.issuer });
    assert.equal(next.status, 200);
    assert.match(next.url, /\/interaction\//);
    // An offline_access grant outlives the provider session (oidc-provider's persistsLogout, as
    // on Entra): signing out is also for the web app to forget its refresh token.
    assert.equal((await refresh(tb, body.refresh_token)).status, 200);
  });

  it('refuses an unregistered post-logout redirect URI', async () => {
    const { request, code } = await signedInCode();
    const { body } = await redeem(tb, code, request);
    const logout = new URL(tb.endSessionEndpoint);
    logout.search = new URLSearchParams({
      id_token_hint: body.id_token, post_logout_redirect_uri: 'http://127.0.0.1:9/elsewhere',
    });
    const result = await new FetchBrowser().navigate(logout.href, { stayOn: tb.issuer });
    assert.equal(result.status, 400);
    assert.equal(result.leftTo, undefined);
  });
});
