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
import {
  callerToken, clients, credentials, DAEMON_API_AUDIENCE, DAEMON_CALLER_ROLE, daemonApi,
  describeCertificate, DOWNSTREAM_SCOPE as SCOPE, signAssertion, startTestbed,
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
    const { discovery_requests: discovery, jwks_requests: jwks, ...stats } = await tb.stats();
    assert.ok(Number.isInteger(discovery) && Number.isInteger(jwks), 'document fetch counters');
    assert.deepEqual(stats, {
      token_requests: 1,
      by_client: { 'daemon-secret': 1 },
      by_grant: { client_credentials: 1 },
      by_auth: { client_secret_post: 1 },
      by_assertion_alg: {},
      by_grant_outcome: { 'client_credentials:200': 1 },
      refresh_token_reuse: 0,
      sign_ins: {},
      end_sessions: 0,
      obo_subjects: {},
      obo_with_claims: 0,
      obo_with_capabilities: 0,
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

  it('leaves the rest to oidc-provider: wrong signing key, wrong audience, replayed jti', async () => {
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

    const once = await signAssertion({ tokenEndpoint: tb.tokenEndpoint, header });
    assert.equal((await tokenRequest(tb.tokenEndpoint, assertionForm(once))).status, 200);
    const replay = await tokenRequest(tb.tokenEndpoint, assertionForm(once));
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error, 'invalid_client');
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

  it('reset zeroes the counters', async () => {
    await tb.reset();
    assert.equal((await tb.stats()).token_requests, 0);
    assert.deepEqual(await tb.downstreamStats(), { requests: 0, authorized: 0 });
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
