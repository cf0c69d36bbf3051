// Tests of the test bed itself, without the Worker: the provider issues what the Worker will
// ask for, refuses what it must refuse (as Entra would), and the downstream accepts exactly the
// provider's tokens. Also checks the process helpers leave nothing running.
//
//   testbed/node_modules/.bin/node --test testbed/e2e/testbed.test.mjs
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { decodeJwt, SignJWT } from 'jose';

import { startProcess } from '../lib/processes.mjs';
import { FetchBrowser, formsOf } from '../lib/fetch-browser.mjs';
import {
  callerToken, clients, credentials, DAEMON_API_AUDIENCE, DAEMON_CALLER_ROLE, daemonApi,
  describeCertificate, DOWNSTREAM_SCOPE as SCOPE, signAssertion, startTestbed, tenantAdmins,
  TOKEN_HELPER_REDIRECT_URI, WEBAPI_AUDIENCE, webapiAppRole,
} from '../lib/testbed.mjs';

const cert = describeCertificate(credentials.certificatePem);
const otherCert = describeCertificate(credentials.otherCertificatePem);

/** POSTs a form to the token endpoint; `basic` = [user, password] for HTTP Basic. */
async function tokenRequest(tokenEndpoint, form, { basic } = {}) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${Buffer.from(basic.map(encodeURIComponent).join(':')).toString('base64')}`;
  const response = await fetch(tokenEndpoint, { method: 'POST', headers, body: new URLSearchParams(form) });
  return { status: response.status, body: await response.json() };
}

function assertionForm(assertion, extra = {}) {
  return {
    grant_type: 'client_credentials',
    scope: SCOPE,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
    ...extra,
  };
}

async function callDownstream(url, token) {
  const response = await fetch(`${url}/resource`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: response.status, headers: response.headers, body: await response.json() };
}

describe('provider and downstream', () => {
  let tb;
  before(async () => { tb = await startTestbed(); });
  after(() => tb?.stop());

  it('publishes discovery for an issuer without trailing slash', async () => {
    assert.match(tb.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    const discovery = await (await fetch(`${tb.issuer}/.well-known/openid-configuration`)).json();
    assert.equal(discovery.issuer, tb.issuer);
    assert.equal(discovery.token_endpoint, `${tb.issuer}/token`);
    assert.equal(discovery.jwks_uri, `${tb.issuer}/jwks`);
    assert.ok(discovery.grant_types_supported.includes('client_credentials'));
    assert.deepEqual(discovery.token_endpoint_auth_signing_alg_values_supported, ['PS256', 'RS256']);
  });

  it('issues a JWT for api://downstream to a client_secret_post client, which the downstream accepts', async () => {
    await tb.reset();
    const { status, body } = await tokenRequest(tb.tokenEndpoint, {
      grant_type: 'client_credentials',
      client_id: clients.secretPost.clientId,
      client_secret: clients.secretPost.secret,
      scope: SCOPE,
    });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 3600);
    const claims = decodeJwt(body.access_token);
    assert.equal(claims.sub, 'daemon-secret');
    assert.equal(claims.aud, 'api://downstream');
    assert.equal(claims.iss, tb.issuer);
    assert.equal(claims.exp - claims.iat, 3600);

    const api = await callDownstream(tb.downstreamUrl, body.access_token);
    assert.equal(api.status, 200);
    assert.equal(api.body.ok, true);
    assert.equal(api.body.claims.sub, 'daemon-secret');

    // Discovery and key set fetches are counted too (the downstream API's own, here).
    const {
      discovery_requests: discovery, jwks_requests: jwks, by_tenant: byTenant, admin_consents: adminConsents, ...stats
    } = await tb.stats();
    assert.deepEqual(Object.values(byTenant).map((counts) => counts.token_requests), [0, 0], 'root requests are not a tenant\'s');
    assert.deepEqual(Object.values(adminConsents), [0, 0]);
    assert.ok(Number.isInteger(discovery) && Number.isInteger(jwks), 'document fetch counters');
    assert.deepEqual(stats, {
      token_requests: 1,
      by_client: { 'daemon-secret': 1 },
      by_grant: { client_credentials: 1 },
      by_auth: { client_secret_post: 1 },
      by_assertion_alg: {},
      by_grant_outcome: { 'client_credentials:200': 1 },
      refresh_token_reuse: 0,
      assertion_reuse: 0,
      sign_ins: {},
      end_sessions: 0,
      obo_subjects: {},
      obo_with_claims: 0,
      obo_with_capabilities: 0,
      consent_prompts: 0,
      consent_prompts_by_user: {},
    });
    assert.deepEqual(await tb.downstreamStats(), { requests: 1, authorized: 1 });
  });

  it('accepts client_secret_basic and counts the client from the Authorization header', async () => {
    await tb.reset();
    const { status, body } = await tokenRequest(
      tb.tokenEndpoint,
      { grant_type: 'client_credentials', scope: SCOPE },
      { basic: [clients.secretBasic.clientId, clients.secretBasic.secret] },
    );
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(decodeJwt(body.access_token).sub, 'daemon-secret-basic');
    const stats = await tb.stats();
    assert.deepEqual(stats.by_client, { 'daemon-secret-basic': 1 });
    assert.deepEqual(stats.by_auth, { client_secret_basic: 1 });
  });

  it('refuses a wrong secret with invalid_client, and still counts the request', async () => {
    await tb.reset();
    const { status, body } = await tokenRequest(tb.tokenEndpoint, {
      grant_type: 'client_credentials',
      client_id: clients.secretPost.clientId,
      client_secret: 'not-the-secret',
      scope: SCOPE,
    });
    assert.equal(status, 401);
    assert.equal(body.error, 'invalid_client');
    assert.equal((await tb.stats()).token_requests, 1);
  });

  it('refuses an unknown resource with invalid_target', async () => {
    const { status, body } = await tokenRequest(tb.tokenEndpoint, {
      grant_type: 'client_credentials',
      client_id: clients.secretPost.clientId,
      client_secret: clients.secretPost.secret,
      scope: 'api://elsewhere/.default',
    });
    assert.equal(status, 400);
    assert.equal(body.error, 'invalid_target');
  });

  it('accepts a PS256 assertion naming the registered certificate by x5t#S256', async () => {
    await tb.reset();
    const assertion = await signAssertion({
      tokenEndpoint: tb.tokenEndpoint,
      header: { alg: 'PS256', 'x5t#S256': cert.x5tS256 },
    });
    const form = assertionForm(assertion, { client_id: 'daemon-cert' });
    const { status, body } = await tokenRequest(tb.tokenEndpoint, form);
    assert.equal(status, 200, JSON.stringify(body));
    const claims = decodeJwt(body.access_token);
    assert.equal(claims.sub, 'daemon-cert');
    assert.equal(claims.aud, 'api://downstream');

    const api = await callDownstream(tb.downstreamUrl, body.access_token);
    assert.equal(api.status, 200);
    assert.equal(api.body.claims.sub, 'daemon-cert');

    const stats = await tb.stats();
    assert.deepEqual(stats.by_client, { 'daemon-cert': 1 });
    assert.deepEqual(stats.by_auth, { private_key_jwt: 1 });
    assert.deepEqual(stats.by_assertion_alg, { PS256: 1 });
  });

  it('accepts an RS256 assertion naming the certificate by x5t (SHA-1), PKCS#1 key, no client_id', async () => {
    const assertion = await signAssertion({
      tokenEndpoint: tb.tokenEndpoint,
      header: { alg: 'RS256', x5t: cert.x5t },
      keyPem: credentials.privateKeyPkcs1Pem,
    });
    const { status, body } = await tokenRequest(tb.tokenEndpoint, assertionForm(assertion));
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(decodeJwt(body.access_token).sub, 'daemon-cert');
  });

  it('refuses an assertion naming an unregistered certificate, though its key is the registered one', async () => {
    for (const header of [
      { alg: 'PS256', 'x5t#S256': otherCert.x5tS256 },
      { alg: 'RS256', x5t: otherCert.x5t },
      { alg: 'PS256', 'x5t#S256': cert.x5tS256, x5t: otherCert.x5t },
    ]) {
      const assertion = await signAssertion({ tokenEndpoint: tb.tokenEndpoint, header });
      const form = assertionForm(assertion, { client_id: 'daemon-cert' });
    const { status, body } = await tokenRequest(tb.tokenEndpoint, form);
      assert.equal(status, 401, JSON.stringify(header));
      assert.deepEqual(body, {
        error: 'invalid_client',
        error_description: 'certificate thumbprint not registered for client',
      });
    }
  });

  it('refuses a certificate registered for another client', async () => {
    const assertion = await signAssertion({
      tokenEndpoint: tb.tokenEndpoint,
      header: { alg: 'PS256', 'x5t#S256': cert.x5tS256 },
      clientId: clients.secretPost.clientId,
    });
    const { status, body } = await tokenRequest(tb.tokenEndpoint, assertionForm(assertion));
    assert.equal(status, 401);
    assert.equal(body.error_description, 'certificate thumbprint not registered for client');
  });

  it('refuses an assertion whose header names neither certificate nor key', async () => {
    const assertion = await signAssertion({ tokenEndpoint: tb.tokenEndpoint, header: { alg: 'PS256' } });
    const { status, body } = await tokenRequest(tb.tokenEndpoint, assertionForm(assertion));
    assert.equal(status, 401);
    assert.equal(body.error, 'invalid_client');
  });

  it('leaves the rest to oidc-provider: wrong signing key, wrong audience', async () => {
    const header = { alg: 'PS256', 'x5t#S256': cert.x5tS256 };
    const cases = {
      'wrong key': await signAssertion({ tokenEndpoint: tb.tokenEndpoint, header, keyPem: credentials.unrelatedKeyPem }),
      'wrong audience': await signAssertion({ tokenEndpoint: 'https://login.example/token', header }),
    };
    for (const [name, assertion] of Object.entries(cases)) {
      const { status, body } = await tokenRequest(tb.tokenEndpoint, assertionForm(assertion));
      assert.equal(status, 401, name);
      assert.equal(body.error, 'invalid_client', name);
    }
  });

  it('accepts an assertion again within its lifetime, as Entra does (MSAL reuses one), and counts it', async () => {
    await tb.reset();
    const header = { alg: 'PS256', 'x5t#S256': cert.x5tS256 };
    const assertion = await signAssertion({ tokenEndpoint: tb.tokenEndpoint, header });
    for (let i = 0; i < 2; i += 1) {
      const { status, body } = await tokenRequest(tb.tokenEndpoint, assertionForm(assertion));
      assert.equal(status, 200, JSON.stringify(body));
    }
    const stats = await tb.stats();
    assert.equal(stats.assertion_reuse, 1);
    assert.deepEqual(stats.by_grant_outcome, { 'client_credentials:200': 2 });
  });

  it('downstream refuses a missing, malformed or foreign token with 401 invalid_token', async () => {
    await tb.reset();
    const foreign = await new SignJWT({ sub: 'daemon-secret' })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(tb.issuer)
      .setAudience('api://downstream')
      .setExpirationTime('5m')
      .sign(createPrivateKey(credentials.unrelatedKeyPem));
    for (const token of [undefined, 'not-a-jwt', foreign]) {
      const api = await callDownstream(tb.downstreamUrl, token);
      assert.equal(api.status, 401);
      assert.equal(api.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
      assert.deepEqual(api.body, { ok: false, error: 'invalid_token' });
    }
    assert.deepEqual(await tb.downstreamStats(), { requests: 3, authorized: 0 });
  });

  it('issues app-only tokens for the daemon\'s API with the roles assigned to the caller', async () => {
    await tb.reset();
    const allowed = await callerToken(tb);
    assert.equal(allowed.authorization, `Bearer ${allowed.accessToken}`);
    assert.equal(allowed.claims.aud, DAEMON_API_AUDIENCE);
    assert.equal(allowed.claims.iss, tb.issuer);
    assert.equal(allowed.claims.sub, clients.daemonCaller.clientId);
    assert.equal(allowed.claims.azp, clients.daemonCaller.clientId);
    assert.deepEqual(allowed.claims.roles, [DAEMON_CALLER_ROLE]);
    assert.equal(allowed.claims.scp, undefined, 'app-only: no delegated scopes');

    const other = await callerToken(tb, { caller: 'withoutRole' });
    assert.equal(other.claims.aud, DAEMON_API_AUDIENCE);
    assert.deepEqual(other.claims.roles, [daemonApi.otherRole]);

    // Roles are per resource and per client: none in a downstream token, none for a daemon client.
    const downstream = await callerToken(tb, { resource: 'api://downstream' });
    assert.equal(downstream.claims.roles, undefined);
    const { status, body } = await tokenRequest(tb.tokenEndpoint, {
      grant_type: 'client_credentials', scope: `${DAEMON_API_AUDIENCE}/.default`,
      client_id: clients.secretPost.clientId, client_secret: clients.secretPost.secret,
    });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(decodeJwt(body.access_token).roles, undefined);
    assert.equal((await tb.stats()).token_requests, 4);
  });

  it('issues app-only tokens with idtyp app: webapi-caller holds its role on the web API, webapi may call the downstream', async () => {
    const caller = await tokenRequest(tb.tokenEndpoint, {
      grant_type: 'client_credentials', scope: `${WEBAPI_AUDIENCE}/.default`,
      client_id: clients.webapiCaller.clientId, client_secret: clients.webapiCaller.secret,
    });
    assert.equal(caller.status, 200, JSON.stringify(caller.body));
    const claims = decodeJwt(caller.body.access_token);
    assert.equal(claims.aud, WEBAPI_AUDIENCE);
    assert.equal(claims.iss, tb.issuer);
    assert.equal(claims.sub, clients.webapiCaller.clientId);
    assert.equal(claims.azp, clients.webapiCaller.clientId);
    assert.deepEqual(claims.roles, [webapiAppRole]);
    assert.equal(webapiAppRole, 'Profiles.Read.All');
    assert.equal(claims.idtyp, 'app');
    assert.equal(claims.scp, undefined, 'app-only: no delegated scopes');
    assert.equal(claims.tid, undefined, 'the root issuer is no tenant');

    const webapi = await tokenRequest(tb.tokenEndpoint, {
      grant_type: 'client_credentials', scope: SCOPE,
      client_id: clients.webapi.clientId, client_secret: clients.webapi.secret,
    });
    assert.equal(webapi.status, 200, JSON.stringify(webapi.body));
    const webapiClaims = decodeJwt(webapi.body.access_token);
    assert.equal(webapiClaims.aud, 'api://downstream');
    assert.equal(webapiClaims.sub, clients.webapi.clientId);
    assert.equal(webapiClaims.idtyp, 'app');
    assert.equal(webapiClaims.roles, undefined);
    assert.equal((await callDownstream(tb.downstreamUrl, webapi.body.access_token)).status, 200);
  });

  it('reset zeroes the counters', async () => {
    await tb.reset();
    assert.equal((await tb.stats()).token_requests, 0);
    assert.deepEqual(await tb.downstreamStats(), { requests: 0, authorized: 0 });
  });
});

describe('Entra-like tenants and admin consent', () => {
  const REDIRECT = 'http://127.0.0.1:9/admin-consent';
  let tb;
  before(async () => { tb = await startTestbed({ adminConsentRedirectUris: [REDIRECT] }); });
  after(() => tb?.stop());

  const secretForm = (client, scope = SCOPE) => ({
    grant_type: 'client_credentials', scope, client_id: client.clientId, client_secret: client.secret,
  });
  /** GET of the admin consent endpoint, no redirect followed. */
  async function adminConsent(tenantSegment, params) {
    const url = new URL(`${tb.issuer}/${tenantSegment}/v2.0/adminconsent`);
    url.search = new URLSearchParams(params);
    const response = await fetch(url, { redirect: 'manual' });
    return { status: response.status, location: response.headers.get('location'), text: await response.text() };
  }
  const consentParams = (clientId, extra = {}) => ({
    client_id: clientId, redirect_uri: REDIRECT, scope: SCOPE, state: 'st-123', ...extra,
  });
  const expectedSuccess = (tenantId, scope = SCOPE, state = 'st-123') => (
    `${REDIRECT}?${new URLSearchParams({ admin_consent: 'True', tenant: tenantId, scope, state })}`
  );
  const expectedCancel = (state = 'st-123') => (
    `${REDIRECT}?error=access_denied&error_description=AADSTS65004%3A+User+declined+to+consent+to+access+the+app.&state=${state}`
  );

  it('publishes each tenant\'s discovery document with Entra\'s v2 layout; the root issuer is unchanged', async () => {
    assert.notEqual(tb.tenants.a.id, tb.tenants.b.id);
    for (const tenant of Object.values(tb.tenants)) {
      const base = `${tb.issuer}/${tenant.id}`;
      const discovery = await (await fetch(`${base}/v2.0/.well-known/openid-configuration`)).json();
      assert.equal(discovery.issuer, `${base}/v2.0`);
      assert.equal(discovery.issuer, tenant.issuer);
      assert.equal(discovery.token_endpoint, `${base}/oauth2/v2.0/token`);
      assert.equal(discovery.authorization_endpoint, `${base}/oauth2/v2.0/authorize`);
      assert.equal(discovery.jwks_uri, `${base}/discovery/v2.0/keys`);
      assert.ok(discovery.grant_types_supported.includes('client_credentials'));
      const keys = await (await fetch(discovery.jwks_uri)).json();
      assert.equal(keys.keys.length, 1);
      // The tenant's domain names it too.
      const byDomain = await (await fetch(`${tb.issuer}/${tenant.domain}/v2.0/.well-known/openid-configuration`)).json();
      assert.equal(byDomain.issuer, tenant.issuer);
    }
    const root = await (await fetch(`${tb.issuer}/.well-known/openid-configuration`)).json();
    assert.equal(root.issuer, tb.issuer);
    assert.equal(root.token_endpoint, `${tb.issuer}/token`);
  });

  it('refuses a client the tenant\'s admin has not consented to, in Entra\'s shape, and counts it', async () => {
    await tb.resetTenants();
    await tb.reset();
    const { status, body } = await tokenRequest(tb.tenants.a.tokenEndpoint, secretForm(clients.secretPost));
    assert.equal(status, 400);
    assert.equal(body.error, 'invalid_client');
    assert.deepEqual(body.error_codes, [7000229]);
    assert.match(body.error_description, /^AADSTS7000229: The client application daemon-secret is missing service principal in the tenant/);
    for (const name of ['timestamp', 'trace_id', 'correlation_id', 'error_uri']) assert.ok(body[name], name);
    assert.equal(body.access_token, undefined);

    const stats = await tb.stats();
    assert.equal(stats.token_requests, 0, 'not counted at the root issuer');
    assert.deepEqual(stats.by_tenant[tb.tenants.a.id], {
      token_requests: 1,
      by_client: { 'daemon-secret': 1 },
      by_grant_outcome: { 'client_credentials:400': 1 },
      missing_consent: 1,
    });
    assert.equal(stats.by_tenant[tb.tenants.b.id].token_requests, 0);
  });

  it('admin consent by login_hint redirects Entra\'s way; then the tenant issues tokens the downstream accepts', async () => {
    await tb.resetTenants();
    await tb.reset();
    const { a, b } = tb.tenants;
    const consent = await adminConsent(a.id, consentParams(clients.secretPost.clientId, { login_hint: tenantAdmins.a.username }));
    assert.equal(consent.status, 302, consent.text);
    assert.equal(consent.location, expectedSuccess(a.id));

    const { status, body } = await tokenRequest(a.tokenEndpoint, secretForm(clients.secretPost));
    assert.equal(status, 200, JSON.stringify(body));
    const claims = decodeJwt(body.access_token);
    assert.equal(claims.iss, a.issuer);
    assert.equal(claims.tid, a.id);
    assert.equal(claims.aud, 'api://downstream');
    assert.equal(claims.azp, clients.secretPost.clientId);
    assert.equal(claims.appid, clients.secretPost.clientId);
    assert.equal(claims.idtyp, 'app');
    assert.match(claims.oid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(claims.sub, claims.oid);
    assert.equal(claims.scp, undefined);

    const api = await callDownstream(tb.downstreamUrl, body.access_token);
    assert.equal(api.status, 200, JSON.stringify(api.body));
    assert.equal(api.body.claims.iss, a.issuer);
    assert.equal(api.body.claims.tid, a.id);

    // Consent in tenant A is not consent in tenant B.
    const inB = await tokenRequest(b.tokenEndpoint, secretForm(clients.secretPost));
    assert.equal(inB.status, 400);
    assert.deepEqual(inB.body.error_codes, [7000229]);
    // Nor consent for another client in tenant A.
    assert.equal((await tokenRequest(a.tokenEndpoint, secretForm(clients.secretBasic))).status, 400);

    // Tenant B's admin consents there: its service principal differs from tenant A's.
    const inBConsent = await adminConsent(b.domain, consentParams(clients.secretPost.clientId, { login_hint: tenantAdmins.b.username }));
    assert.equal(inBConsent.location, expectedSuccess(b.id));
    const fromB = await tokenRequest(b.tokenEndpoint, secretForm(clients.secretPost));
    assert.equal(fromB.status, 200, JSON.stringify(fromB.body));
    const claimsB = decodeJwt(fromB.body.access_token);
    assert.equal(claimsB.iss, b.issuer);
    assert.equal(claimsB.tid, b.id);
    assert.notEqual(claimsB.oid, claims.oid);
    assert.equal((await callDownstream(tb.downstreamUrl, fromB.body.access_token)).body.claims.tid, b.id);

    const stats = await tb.stats();
    assert.deepEqual(stats.admin_consents, { [a.id]: 1, [b.id]: 1 });
    assert.deepEqual(stats.by_tenant[a.id].by_grant_outcome, { 'client_credentials:200': 1, 'client_credentials:400': 1 });
    assert.equal(stats.by_tenant[a.id].missing_consent, 1);
    assert.deepEqual(stats.by_tenant[b.id].by_grant_outcome, { 'client_credentials:200': 1, 'client_credentials:400': 1 });

    // The counters reset; the consents stay until POST /__testbed/tenants/reset.
    await tb.reset();
    const zeroed = await tb.stats();
    assert.deepEqual(zeroed.admin_consents, { [a.id]: 0, [b.id]: 0 });
    assert.equal(zeroed.by_tenant[a.id].token_requests, 0);
    assert.equal((await tokenRequest(a.tokenEndpoint, secretForm(clients.secretPost))).status, 200);
    await tb.resetTenants();
    assert.equal((await tokenRequest(a.tokenEndpoint, secretForm(clients.secretPost))).status, 400);
  });

  it('authenticates tenant clients as the root issuer does: Basic, certificate thumbprint, app roles', async () => {
    await tb.resetTenants();
    const { a } = tb.tenants;
    for (const client of [clients.secretBasic, clients.certificate, clients.webapiCaller, clients.daemonCaller]) {
      const consent = await adminConsent('organizations', consentParams(client.clientId, { login_hint: tenantAdmins.a.username }));
      assert.equal(consent.location, expectedSuccess(a.id), client.clientId);
    }
    const basic = await tokenRequest(
      a.tokenEndpoint,
      { grant_type: 'client_credentials', scope: SCOPE },
      { basic: [clients.secretBasic.clientId, 'wrong-secret'] },
    );
    assert.equal(basic.status, 401);
    assert.equal(basic.body.error, 'invalid_client');

    const assertion = await signAssertion({ tokenEndpoint: a.tokenEndpoint, header: { alg: 'PS256', 'x5t#S256': cert.x5tS256 } });
    const byCertificate = await tokenRequest(a.tokenEndpoint, assertionForm(assertion));
    assert.equal(byCertificate.status, 200, JSON.stringify(byCertificate.body));
    assert.equal(decodeJwt(byCertificate.body.access_token).tid, a.id);
    const otherAssertion = await signAssertion({ tokenEndpoint: a.tokenEndpoint, header: { alg: 'PS256', 'x5t#S256': otherCert.x5tS256 } });
    const refused = await tokenRequest(a.tokenEndpoint, assertionForm(otherAssertion));
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error_description, 'certificate thumbprint not registered for client');
    const rootAudience = await signAssertion({ tokenEndpoint: tb.tokenEndpoint, header: { alg: 'PS256', 'x5t#S256': cert.x5tS256 } });
    assert.equal((await tokenRequest(a.tokenEndpoint, assertionForm(rootAudience))).status, 401, 'aud must be the tenant\'s');

    const webapiCaller = await tokenRequest(a.tokenEndpoint, secretForm(clients.webapiCaller, `${WEBAPI_AUDIENCE}/.default`));
    assert.equal(webapiCaller.status, 200, JSON.stringify(webapiCaller.body));
    const callerClaims = decodeJwt(webapiCaller.body.access_token);
    assert.deepEqual(callerClaims.roles, [webapiAppRole]);
    assert.equal(callerClaims.scp, undefined);
    const daemonCaller = await tokenRequest(a.tokenEndpoint, secretForm(clients.daemonCaller, `${DAEMON_API_AUDIENCE}/.default`));
    assert.deepEqual(decodeJwt(daemonCaller.body.access_token).roles, [DAEMON_CALLER_ROLE]);
  });

  it('cancel redirects with access_denied, by flag or by the page\'s form', async () => {
    await tb.resetTenants();
    const { a } = tb.tenants;
    const flagged = await adminConsent(a.id, consentParams(clients.secretPost.clientId, {
      login_hint: tenantAdmins.a.username, testbed_cancel: '1',
    }));
    assert.equal(flagged.status, 302);
    assert.equal(flagged.location, expectedCancel());

    const browser = new FetchBrowser();
    const url = `${a.adminConsentUrl}?${new URLSearchParams(consentParams(clients.secretPost.clientId, { state: 'st-page' }))}`;
    const shown = await browser.navigate(url, { stayOn: tb.issuer });
    assert.equal(shown.status, 200);
    assert.match(shown.text, /Permissions requested/);
    const [form] = formsOf(shown.text, shown.url);
    assert.equal(form.method, 'POST');
    const canceled = await browser.navigate(form.action, {
      stayOn: tb.issuer, method: 'POST', form: new URLSearchParams([...form.fields, ['action', 'cancel']]),
    });
    assert.equal(canceled.leftTo, expectedCancel('st-page'));
    assert.equal((await tokenRequest(a.tokenEndpoint, secretForm(clients.secretPost))).status, 400, 'no consent');

    // The same page accepts for the admin picked.
    const accepted = await browser.navigate(form.action, {
      stayOn: tb.issuer,
      method: 'POST',
      form: new URLSearchParams([...form.fields, ['admin', tenantAdmins.a.username], ['action', 'accept']]),
    });
    assert.equal(accepted.leftTo, expectedSuccess(a.id, SCOPE, 'st-page'));
    assert.equal((await tokenRequest(a.tokenEndpoint, secretForm(clients.secretPost))).status, 200);
    const stranger = await browser.navigate(form.action, {
      stayOn: tb.issuer, method: 'POST', form: new URLSearchParams([...form.fields, ['admin', 'mallory@example'], ['action', 'accept']]),
    });
    assert.equal(stranger.status, 400);
    assert.match(stranger.text, /Unknown administrator: mallory@example/);
  });

  it('refuses without redirecting: unregistered redirect_uri, unknown client, another tenant\'s admin, common', async () => {
    await tb.resetTenants();
    const { a } = tb.tenants;
    const hint = { login_hint: tenantAdmins.a.username };
    const cases = [
      [a.id, consentParams(clients.secretPost.clientId, { ...hint, redirect_uri: 'http://127.0.0.1:9/elsewhere' }), /AADSTS50011/],
      [a.id, consentParams(clients.secretPost.clientId, { ...hint, redirect_uri: `${REDIRECT}/` }), /AADSTS50011/],
      [a.id, consentParams('no-such-client', hint), /AADSTS700016/],
      [a.id, consentParams(clients.webapp.clientId, hint), /AADSTS700016/],
      [a.id, consentParams(clients.secretPost.clientId, { login_hint: tenantAdmins.b.username }), /AADSTS50020/],
      ['common', consentParams(clients.secretPost.clientId, hint), /AADSTS90061/],
      ['unknown.example', consentParams(clients.secretPost.clientId, hint), /AADSTS90002/],
    ];
    for (const [segment, params, message] of cases) {
      const answer = await adminConsent(segment, params);
      assert.equal(answer.status, 400, `${segment} ${JSON.stringify(params)}`);
      assert.equal(answer.location, null);
      assert.match(answer.text, message);
    }
    // The test bed's own redirect URI is registered too.
    const helper = await adminConsent(a.id, consentParams(clients.secretPost.clientId, { ...hint, redirect_uri: TOKEN_HELPER_REDIRECT_URI }));
    assert.ok(helper.location.startsWith(`${TOKEN_HELPER_REDIRECT_URI}?admin_consent=True&tenant=${a.id}&`));
    assert.deepEqual((await tb.stats()).admin_consents[tb.tenants.b.id], 0);
  });
});

describe('short-lived tokens', () => {
  let tb;
  before(async () => { tb = await startTestbed({ accessTokenTtl: 1 }); });
  after(() => tb?.stop());

  it('ACCESS_TOKEN_TTL sets the lifetime, and the downstream refuses an expired token', async () => {
    const { body } = await tokenRequest(tb.tokenEndpoint, {
      grant_type: 'client_credentials',
      client_id: clients.secretPost.clientId,
      client_secret: clients.secretPost.secret,
      scope: SCOPE,
    });
    assert.equal(body.expires_in, 1);
    await sleep(2_100);
    assert.equal((await callDownstream(tb.downstreamUrl, body.access_token)).status, 401);
  });
});

describe('process helpers', () => {
  const groupGone = (pid) => {
    try {
      process.kill(-pid, 0);
      return false;
    } catch (err) {
      return err.code === 'ESRCH';
    }
  };

  it('report an early exit with the log tail', async () => {
    await assert.rejects(
      startProcess({
        name: 'early-exit',
        command: process.execPath,
        args: ['-e', 'console.log("about to fail"); process.exit(3)'],
        readyLine: /^never$/m,
      }),
      /exited \(code 3\)[\s\S]*about to fail/,
    );
  });

  it('stop a process that is never ready, with its children, at the deadline', async () => {
    let pid;
    await assert.rejects(
      startProcess({
        name: 'never-ready',
        command: process.execPath,
        // A child that ignores SIGTERM in the same group: only the SIGKILL escalation ends it.
        args: ['-e', `
          require('node:child_process').spawn(process.execPath,
            ['-e', 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)'], { stdio: 'inherit' });
          console.log('pid', process.pid);
          setInterval(() => {}, 1000);`],
        readyLine: /^ready$/m,
        timeoutMs: 1_000,
      }).catch((err) => {
        pid = Number(/^pid (\d+)$/m.exec(err.message)?.[1]);
        throw err;
      }),
      /not ready after 1 s/,
    );
    assert.ok(pid > 0);
    assert.ok(groupGone(pid), 'the whole process group is gone');
  });
});
