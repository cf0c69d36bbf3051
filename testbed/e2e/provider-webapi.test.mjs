// Tests of the provider and the downstream as a web API sees them, without the Worker: Entra's
// claims in access tokens (`scp`, `azp`), web app tokens for the web API by refresh token, the
// on-behalf-of grant (success, each refusal in Entra's error shape, carol's claims challenge),
// and the downstream's one-shot claims challenge (continuous access evaluation).
//
//   testbed/node_modules/.bin/node --test testbed/e2e/provider-webapi.test.mjs
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { createRemoteJWKSet, decodeJwt, jwtVerify, SignJWT } from 'jose';

import {
  clients, credentials, DOWNSTREAM_SCOPE, DOWNSTREAM_USER_SCOPE, MFA_CLAIMS_CHALLENGE, startTestbed,
  userAccessToken, WEBAPI_AUDIENCE, WEBAPI_OTHER_SCOPE, WEBAPI_SCOPE,
} from '../lib/testbed.mjs';

const ACCESS_TOKEN_TTL = 120;
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const webapiAuth = { client_id: clients.webapi.clientId, client_secret: clients.webapi.secret };

/** POSTs a form to the token endpoint; `basic` = [user, password] for HTTP Basic. */
async function tokenRequest(tb, form, { basic } = {}) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${Buffer.from(basic.map(encodeURIComponent).join(':')).toString('base64')}`;
  const response = await fetch(tb.tokenEndpoint, { method: 'POST', headers, body: new URLSearchParams(form) });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** An on-behalf-of request as MSAL makes it, by the web API (secret in the body). */
function onBehalfOf(tb, assertion, { scope = DOWNSTREAM_USER_SCOPE, auth = webapiAuth, extra = {}, basic } = {}) {
  const form = {
    grant_type: JWT_BEARER,
    assertion,
    requested_token_use: 'on_behalf_of',
    scope,
    client_info: '1',
    ...(basic ? {} : auth),
    ...extra,
  };
  for (const [name, value] of Object.entries(form)) if (value === undefined) delete form[name];
  return tokenRequest(tb, form, { basic });
}

/** An error answer in Entra's shape, with AADSTS `code`. */
function assertEntraError({ status, body }, expectedStatus, error, code) {
  assert.equal(status, expectedStatus, JSON.stringify(body));
  assert.equal(body.error, error, JSON.stringify(body));
  assert.deepEqual(body.error_codes, [code]);
  assert.match(body.error_description, new RegExp(`^AADSTS${code}: `));
  assert.match(body.error_description, /\r\nTrace ID: [\w-]+\r\nCorrelation ID: [\w-]+\r\nTimestamp: /);
  assert.match(body.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  assert.match(body.trace_id, /^[\da-f-]{36}$/);
  assert.match(body.correlation_id, /^[\w-]+$/);
  assert.equal(body.access_token, undefined);
}

describe('provider: Entra claims, web API tokens, on-behalf-of', () => {
  let tb;
  let keys;
  /** Alice's and bob's tokens for the web API (authorization code, client webapp). */
  const tokens = {};
  before(async () => {
    tb = await startTestbed({ accessTokenTtl: ACCESS_TOKEN_TTL });
    keys = createRemoteJWKSet(new URL(tb.jwksUri));
    for (const user of ['alice', 'bob', 'carol']) tokens[user] = await userAccessToken(tb, { user });
  });
  after(() => tb?.stop());

  const verify = (token, audience) => jwtVerify(token, keys, { issuer: tb.issuer, audience, algorithms: ['RS256'] });

  it('userAccessToken: a web app token for api://webapi with scp access_as_user and azp webapp', async () => {
    const { payload, protectedHeader } = await verify(tokens.alice.accessToken, WEBAPI_AUDIENCE);
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(payload.sub, 'alice');
    assert.equal(payload.aud, 'api://webapi');
    assert.equal(payload.scp, 'access_as_user');
    assert.equal(payload.scope, WEBAPI_SCOPE);
    assert.equal(payload.azp, 'webapp');
    assert.equal(payload.client_id, 'webapp');
    assert.equal(payload.exp - payload.iat, ACCESS_TOKEN_TTL);
    assert.ok(payload.jti);
    assert.equal(tokens.alice.scope, WEBAPI_SCOPE);
    assert.deepEqual(tokens.alice.claims, payload);
    assert.ok(tokens.alice.refreshToken);
  });

  it('puts scp (.default = every delegated scope) and azp in delegated tokens, azp only in app tokens', async () => {
    const delegated = await userAccessToken(tb, { user: 'bob', scope: DOWNSTREAM_SCOPE });
    const { payload } = await verify(delegated.accessToken, 'api://downstream');
    assert.equal(payload.sub, 'bob');
    assert.equal(payload.scope, DOWNSTREAM_SCOPE);
    assert.equal(payload.scp, 'user.read');
    assert.equal(payload.azp, 'webapp');

    const webapiDefault = await userAccessToken(tb, { user: 'bob', scope: 'api://webapi/.default' });
    assert.equal(webapiDefault.claims.scp, 'access_as_user reports.read');

    const other = await userAccessToken(tb, { user: 'bob', scope: WEBAPI_OTHER_SCOPE });
    assert.equal(other.claims.aud, 'api://webapi');
    assert.equal(other.claims.scp, 'reports.read', 'a web API token without access_as_user');

    const app = await tokenRequest(tb, {
      grant_type: 'client_credentials',
      client_id: clients.secretPost.clientId,
      client_secret: clients.secretPost.secret,
      scope: DOWNSTREAM_SCOPE,
    });
    assert.equal(app.status, 200, JSON.stringify(app.body));
    const appClaims = decodeJwt(app.body.access_token);
    assert.equal(appClaims.sub, 'daemon-secret');
    assert.equal(appClaims.azp, 'daemon-secret');
    assert.equal(appClaims.scp, undefined);
  });

  it('web app: a sign-in for api://downstream/user.read also gives api://webapi tokens by refresh token', async () => {
    const signIn = await userAccessToken(tb, { user: 'alice', scope: DOWNSTREAM_USER_SCOPE });
    assert.equal(signIn.claims.aud, 'api://downstream', 'the code gives a token for the API the sign-in named');
    assert.equal(signIn.claims.scp, 'user.read');
    assert.equal(signIn.scope, DOWNSTREAM_USER_SCOPE);

    const refresh = (refreshToken, scope) => tokenRequest(tb, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      ...(scope ? { scope } : {}),
      client_id: clients.webapp.clientId,
      client_secret: clients.webapp.secret,
    });
    const forApi = await refresh(signIn.refreshToken, `${WEBAPI_SCOPE} openid profile offline_access`);
    assert.equal(forApi.status, 200, JSON.stringify(forApi.body));
    assert.equal(forApi.body.scope, WEBAPI_SCOPE);
    const { payload } = await verify(forApi.body.access_token, WEBAPI_AUDIENCE);
    assert.equal(payload.aud, 'api://webapi');
    assert.equal(payload.scp, 'access_as_user');
    assert.equal(payload.sub, 'alice');
    assert.equal(payload.azp, 'webapp');
    assert.ok(forApi.body.refresh_token, 'rotated');
    assert.ok(forApi.body.id_token);

    // The rotated refresh token still gets downstream tokens, and no scope = the first API.
    // (Unlike Entra, downstream's .default is refused: the sign-in asked for user.read only.)
    const forDownstream = await refresh(forApi.body.refresh_token, `${DOWNSTREAM_USER_SCOPE} openid profile offline_access`);
    assert.equal(forDownstream.status, 200, JSON.stringify(forDownstream.body));
    assert.equal(decodeJwt(forDownstream.body.access_token).aud, 'api://downstream');
    const noScope = await refresh(forDownstream.body.refresh_token, undefined);
    assert.equal(noScope.status, 200, JSON.stringify(noScope.body));
    assert.equal(decodeJwt(noScope.body.access_token).aud, 'api://downstream');

    // Both APIs at once is refused, as one token has one audience.
    const both = await refresh(noScope.body.refresh_token, `${WEBAPI_SCOPE} ${DOWNSTREAM_USER_SCOPE}`);
    assert.equal(both.status, 400);
    assert.equal(both.body.error, 'invalid_target');
  });

  it('the certificate web app client (webapp-cert) gets web API tokens too', async () => {
    const { claims } = await userAccessToken(tb, { user: 'alice', clientId: clients.webappCertificate.clientId });
    assert.equal(claims.aud, 'api://webapi');
    assert.equal(claims.azp, 'webapp-cert');
    assert.equal(claims.scp, 'access_as_user');
  });

  it('on-behalf-of: exchanges alice\'s web API token for a downstream token for alice, azp webapi', async () => {
    await tb.reset();
    const { status, headers, body } = await onBehalfOf(tb, tokens.alice.accessToken);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(headers.get('cache-control'), 'no-store');
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.scope, DOWNSTREAM_USER_SCOPE);
    assert.equal(body.expires_in, ACCESS_TOKEN_TTL);
    assert.equal(body.refresh_token, undefined);
    assert.equal(body.id_token, undefined);

    const { payload, protectedHeader } = await verify(body.access_token, 'api://downstream');
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.sub, 'alice');
    assert.equal(payload.aud, 'api://downstream');
    assert.equal(payload.azp, 'webapi');
    assert.equal(payload.client_id, 'webapi');
    assert.equal(payload.scp, 'user.read');
    assert.equal(payload.scope, DOWNSTREAM_USER_SCOPE);
    assert.equal(payload.exp - payload.iat, ACCESS_TOKEN_TTL);

    const api = await fetch(`${tb.downstreamUrl}/api/whoami`, { headers: { authorization: `Bearer ${body.access_token}` } });
    assert.equal(api.status, 200);
    assert.equal((await api.json()).claims.sub, 'alice');

    const stats = await tb.stats();
    assert.deepEqual(stats.by_grant, { on_behalf_of: 1 });
    assert.deepEqual(stats.by_grant_outcome, { 'on_behalf_of:200': 1 });
    assert.deepEqual(stats.by_client, { webapi: 1 });
    assert.deepEqual(stats.by_auth, { client_secret_post: 1 });
    assert.deepEqual(stats.obo_subjects, { alice: 1 });
    assert.equal(stats.obo_with_claims, 0);
  });

  it('on-behalf-of: bob gets bob\'s token; .default, Basic auth and a claims parameter work', async () => {
    await tb.reset();
    const bob = await onBehalfOf(tb, tokens.bob.accessToken, { scope: `${DOWNSTREAM_SCOPE} openid profile offline_access` });
    assert.equal(bob.status, 200, JSON.stringify(bob.body));
    assert.equal(bob.body.scope, DOWNSTREAM_SCOPE);
    const claims = decodeJwt(bob.body.access_token);
    assert.equal(claims.sub, 'bob');
    assert.equal(claims.scp, 'user.read');

    const basic = await onBehalfOf(tb, tokens.alice.accessToken, { basic: [clients.webapi.clientId, clients.webapi.secret] });
    assert.equal(basic.status, 200, JSON.stringify(basic.body));

    const cae = JSON.stringify({ access_token: { nbf: { essential: true, value: '1700000000' } } });
    const withClaims = await onBehalfOf(tb, tokens.alice.accessToken, { extra: { claims: cae } });
    assert.equal(withClaims.status, 200, JSON.stringify(withClaims.body));
    assert.notEqual(withClaims.body.access_token, basic.body.access_token);
    // MSAL's client capabilities (cp1) are counted apart from claims challenges.
    const capabilities = JSON.stringify({ access_token: { xms_cc: { values: ['cp1'] } } });
    const withCapabilities = await onBehalfOf(tb, tokens.alice.accessToken, { extra: { claims: capabilities } });
    assert.equal(withCapabilities.status, 200, JSON.stringify(withCapabilities.body));

    const stats = await tb.stats();
    assert.deepEqual(stats.obo_subjects, { alice: 3, bob: 1 });
    assert.equal(stats.obo_with_claims, 1);
    assert.equal(stats.obo_with_capabilities, 1);
    assert.deepEqual(stats.by_auth, { client_secret_post: 3, client_secret_basic: 1 });
    assert.deepEqual(stats.by_grant_outcome, { 'on_behalf_of:200': 4 });
  });

  it('on-behalf-of: refuses an assertion for another audience (invalid_grant AADSTS50013)', async () => {
    await tb.reset();
    const downstreamToken = await userAccessToken(tb, { user: 'alice', scope: DOWNSTREAM_SCOPE });
    const answer = await onBehalfOf(tb, downstreamToken.accessToken);
    assertEntraError(answer, 400, 'invalid_grant', 50013);
    assert.match(answer.body.error_description, /assertion audience is not this client/);
    assert.match(answer.body.error_description, /'api:\/\/downstream'/);
    const stats = await tb.stats();
    assert.equal(stats.by_grant_outcome['on_behalf_of:400'], 1);
    assert.deepEqual(stats.obo_subjects, {}, 'counted only once the assertion is accepted');
  });

  it('on-behalf-of: refuses garbage, foreign-signed, ID token and app-only assertions (invalid_grant)', async () => {
    const foreign = await new SignJWT({ sub: 'alice', scp: 'access_as_user' })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' })
      .setIssuer(tb.issuer)
      .setAudience(WEBAPI_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(createPrivateKey(credentials.unrelatedKeyPem));
    const appOnly = await tokenRequest(tb, {
      grant_type: 'client_credentials', scope: 'api://webapi/.default', ...webapiAuth,
    });
    assert.equal(appOnly.status, 200, JSON.stringify(appOnly.body));
    assert.equal(decodeJwt(appOnly.body.access_token).aud, 'api://webapi');
    const cases = [
      ['garbage', 'not-a-jwt', 50027],
      ['foreign key', foreign, 50013],
      ['tampered', `${tokens.alice.accessToken.slice(0, -4)}AAAA`, 50013],
      ['ID token', tokens.alice.idToken, 50027],
      ['app-only token', appOnly.body.access_token, 50034],
    ];
    for (const [name, assertion, code] of cases) {
      const answer = await onBehalfOf(tb, assertion);
      assert.equal(answer.body.error, 'invalid_grant', name);
      assertEntraError(answer, 400, 'invalid_grant', code);
    }
  });

  it('on-behalf-of: refuses a missing or wrong requested_token_use, a missing assertion or scope (invalid_request)', async () => {
    const cases = [
      { requested_token_use: undefined },
      { requested_token_use: 'bearer' },
      { assertion: undefined },
      { scope: undefined },
    ];
    for (const extra of cases) {
      const answer = await onBehalfOf(tb, tokens.alice.accessToken, { extra });
      assert.equal(answer.body.error, 'invalid_request', JSON.stringify(extra));
      assertEntraError(answer, 400, 'invalid_request', extra.requested_token_use === 'bearer' ? 9002313 : 900144);
    }
  });

  it('on-behalf-of: refuses an unknown resource, two resources, or one the web API may not call', async () => {
    for (const scope of ['api://elsewhere/.default', `${DOWNSTREAM_SCOPE} ${WEBAPI_SCOPE}`, 'api://downstream/admin']) {
      assertEntraError(await onBehalfOf(tb, tokens.alice.accessToken, { scope }), 400, 'invalid_scope', 70011);
    }
    const own = await onBehalfOf(tb, tokens.alice.accessToken, { scope: WEBAPI_SCOPE });
    assertEntraError(own, 400, 'invalid_grant', 65001);
    assert.equal(own.body.suberror, 'consent_required');
  });

  it('on-behalf-of for carol answers interaction_required with a claims challenge, claims parameter or not', async () => {
    await tb.reset();
    for (const extra of [{}, { claims: MFA_CLAIMS_CHALLENGE }]) {
      const answer = await onBehalfOf(tb, tokens.carol.accessToken, { extra, clientRequestId: undefined });
      assertEntraError(answer, 400, 'interaction_required', 50079);
      assert.equal(answer.body.claims, MFA_CLAIMS_CHALLENGE);
      assert.deepEqual(JSON.parse(answer.body.claims).access_token.capolids.essential, true);
      assert.match(answer.body.error_description, /multi-factor authentication/);
    }
    const stats = await tb.stats();
    assert.deepEqual(stats.obo_subjects, { carol: 2 });
    assert.equal(stats.obo_with_claims, 1);
    assert.deepEqual(stats.by_grant_outcome, { 'on_behalf_of:400': 2 });
  });

  it('carol signs in to the web app normally (login_hint)', async () => {
    assert.equal(tokens.carol.claims.sub, 'carol');
    assert.equal(tokens.carol.claims.scp, 'access_as_user');
  });

  it('on-behalf-of: client authentication as for any grant (invalid_client), and only for the web API', async () => {
    const wrong = await onBehalfOf(tb, tokens.alice.accessToken, { auth: { ...webapiAuth, client_secret: 'not-the-secret' } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'invalid_client');
    const none = await onBehalfOf(tb, tokens.alice.accessToken, { auth: { client_id: clients.webapi.clientId } });
    assert.equal(none.status, 401);
    assert.equal(none.body.error, 'invalid_client');

    // The web app may not use the grant.
    const webapp = await onBehalfOf(tb, tokens.alice.accessToken, {
      auth: { client_id: clients.webapp.clientId, client_secret: clients.webapp.secret },
    });
    assert.equal(webapp.status, 400);
    assert.notEqual(webapp.body.error, undefined);
    assert.equal(webapp.body.access_token, undefined);
  });

  it('passes client-request-id through as correlation_id', async () => {
    const response = await fetch(tb.tokenEndpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'client-request-id': '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
      },
      body: new URLSearchParams({
        grant_type: JWT_BEARER, assertion: tokens.carol.accessToken, requested_token_use: 'on_behalf_of', scope: DOWNSTREAM_USER_SCOPE, ...webapiAuth,
      }),
    });
    const body = await response.json();
    assert.equal(body.correlation_id, '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0');
  });
});

describe('provider: on-behalf-of with an expired assertion', () => {
  let tb;
  before(async () => { tb = await startTestbed({ accessTokenTtl: 1 }); });
  after(() => tb?.stop());

  it('refuses it with invalid_grant AADSTS500133', async () => {
    const { accessToken } = await userAccessToken(tb, { user: 'alice' });
    await sleep(2_100);
    assertEntraError(await onBehalfOf(tb, accessToken), 400, 'invalid_grant', 500133);
  });
});

describe('downstream: one-shot claims challenges (continuous access evaluation)', () => {
  let tb;
  const tokens = {};
  before(async () => {
    tb = await startTestbed();
    for (const user of ['alice', 'bob']) {
      tokens[user] = (await userAccessToken(tb, { user, scope: DOWNSTREAM_SCOPE })).accessToken;
    }
  });
  after(() => tb?.stop());

  async function call(user) {
    const response = await fetch(`${tb.downstreamUrl}/api/whoami`, { headers: { authorization: `Bearer ${tokens[user]}` } });
    return { status: response.status, headers: response.headers, body: await response.json() };
  }

  /** The claims JSON text a 401 insufficient_claims answer carries, base64 decoded. */
  function challengedClaims(answer) {
    assert.equal(answer.status, 401);
    assert.deepEqual(answer.body, { ok: false, error: 'insufficient_claims' });
    const header = answer.headers.get('www-authenticate');
    const match = /^Bearer realm="", authorization_uri="([^"]+)", error="insufficient_claims", claims="([A-Za-z0-9+/]+={0,2})"$/.exec(header);
    assert.ok(match, header);
    assert.equal(match[1], `${tb.issuer}/authorize`);
    assert.equal(match[2].length % 4, 0, 'standard base64 with padding');
    return Buffer.from(match[2], 'base64').toString('utf8');
  }

  it('stats keep their shape until a challenge is armed', async () => {
    await tb.reset();
    assert.equal((await call('alice')).status, 200);
    assert.deepEqual(await tb.downstreamStats(), { requests: 1, authorized: 1 });
  });

  it('answers the next authorized request once with the armed challenge', async () => {
    await tb.reset();
    const claims = JSON.stringify({ access_token: { nbf: { essential: true, value: '1700000000' } } });
    await tb.armClaimsChallenge({ claims });
    assert.deepEqual(await tb.downstreamStats(), { requests: 0, authorized: 0, challenges: 0 });
    assert.equal(challengedClaims(await call('alice')), claims);
    const again = await call('alice');
    assert.equal(again.status, 200);
    assert.equal(again.body.claims.sub, 'alice');
    assert.deepEqual(await tb.downstreamStats(), { requests: 2, authorized: 1, challenges: 1 });
  });

  it('a default challenge is Entra\'s CAE nbf claim; an invalid token is refused before any challenge', async () => {
    await tb.reset();
    await tb.armClaimsChallenge();
    const refused = await fetch(`${tb.downstreamUrl}/api/whoami`, { headers: { authorization: 'Bearer not-a-jwt' } });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
    const claims = JSON.parse(challengedClaims(await call('bob')));
    assert.equal(claims.access_token.nbf.essential, true);
    assert.match(claims.access_token.nbf.value, /^\d+$/);
  });

  it('a challenge for a sub waits for that user\'s token; two armed are answered in turn', async () => {
    await tb.reset();
    await tb.armClaimsChallenge({ claims: '{"access_token":{"x":1}}', sub: 'bob' });
    assert.equal((await call('alice')).status, 200);
    assert.equal(challengedClaims(await call('bob')), '{"access_token":{"x":1}}');
    assert.equal((await call('bob')).status, 200);

    await tb.armClaimsChallenge({ claims: '{"a":1}' });
    await tb.armClaimsChallenge({ claims: '{"a":2}' });
    assert.equal(challengedClaims(await call('alice')), '{"a":1}');
    assert.equal(challengedClaims(await call('alice')), '{"a":2}');
    assert.equal((await call('alice')).status, 200);
    assert.deepEqual(await tb.downstreamStats(), { requests: 6, authorized: 3, challenges: 3 });
  });

  it('refuses a malformed challenge (400), and reset disarms', async () => {
    for (const body of [{ claims: 'not json' }, { claims: { a: 1 } }, { claims: '[1]' }, { sub: 7 }]) {
      await assert.rejects(tb.armClaimsChallenge(body), /answered 400/, JSON.stringify(body));
    }
    const raw = await fetch(`${tb.downstreamUrl}/__testbed/claims-challenge`, { method: 'POST', body: '{' });
    assert.equal(raw.status, 400);
    await tb.armClaimsChallenge();
    await tb.reset();
    assert.equal((await call('alice')).status, 200);
    assert.deepEqual(await tb.downstreamStats(), { requests: 1, authorized: 1 });
  });
});
