// Test-only client credentials shared by the provider (which registers them) and the tests
// (which hand them to the Worker). The PEM files live in testbed/credentials/ (see its README).
import { X509Certificate, createPrivateKey, hash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { SignJWT } from 'jose';

import { CREDENTIALS_DIR } from './paths.mjs';

const readPem = (file) => readFileSync(path.join(CREDENTIALS_DIR, file), 'utf8');

/** PEM text of the test key and certificates, exactly as stored. */
export const credentials = {
  /** Certificate registered for clients `daemon-cert` and `webapp-cert`. */
  certificatePem: readPem('daemon-cert.pem'),
  /** Its RSA private key, PKCS#8 (`BEGIN PRIVATE KEY`). */
  privateKeyPem: readPem('daemon-key.pem'),
  /** The same key, PKCS#1 (`BEGIN RSA PRIVATE KEY`). */
  privateKeyPkcs1Pem: readPem('daemon-key-pkcs1.pem'),
  /** A second certificate for the same key that no client registers: its thumbprint must be refused. */
  otherCertificatePem: readPem('other-cert.pem'),
  /** Another RSA key, matching no certificate here. */
  unrelatedKeyPem: readPem('unrelated-key.pem'),
};

/** The clients the provider knows, with what each needs to authenticate. */
export const clients = {
  secretPost: { clientId: 'daemon-secret', secret: 'daemon-secret-value-0123456789' },
  secretBasic: { clientId: 'daemon-secret-basic', secret: 'daemon-basic-secret-value-0123456789' },
  certificate: { clientId: 'daemon-cert' },
  /** Web app (authorization code + PKCE, refresh tokens) with a secret sent in the body. */
  webapp: { clientId: 'webapp', secret: 'webapp-secret-value-0123456789' },
  /** Web app registered with the daemon's certificate (`private_key_jwt`, like `daemon-cert`). */
  webappCertificate: { clientId: 'webapp-cert' },
  /**
   * The web API's own registration (App ID URI `api://webapi`): it validates users' tokens for
   * `api://webapi` and exchanges them on-behalf-of for downstream tokens; secret in the body
   * or by Basic.
   */
  webapi: { clientId: 'webapi', secret: 'webapi-secret-value-0123456789', appIdUri: 'api://webapi' },
  /**
   * A caller of the daemon's `GET /daemon/call` (client credentials, secret in the body): its
   * app-only tokens for the daemon's API carry the app role `daemonApi.callerRole`.
   */
  daemonCaller: { clientId: 'daemon-caller', secret: 'daemon-caller-secret-value-0123456789' },
  /** Another caller of the daemon, assigned only `daemonApi.otherRole`: refused with 403. */
  daemonCallerWithoutRole: {
    clientId: 'daemon-caller-norole', secret: 'daemon-caller-norole-secret-value-0123456789',
  },
  /**
   * A caller of the web API as an app (client credentials, secret in the body): its tokens for
   * `api://webapi/.default` carry the app role `webapiAppRole` (and no `scp`).
   */
  webapiCaller: { clientId: 'webapi-caller', secret: 'webapi-caller-secret-value-0123456789' },
};

/** The app role of the web API (`api://webapi`) assigned to `clients.webapiCaller`. */
export const webapiAppRole = 'Profiles.Read.All';

/**
 * Two Entra-like tenants served by the provider beside its root issuer (see lib/tenants.mjs):
 * issuer `{provider}/{id}/v2.0`. A tenant issues client credentials tokens to a client only once
 * its admin consented (GET `{provider}/{tenant}/v2.0/adminconsent`).
 */
export const tenants = {
  a: { id: '6f1c0d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5a', domain: 'tenant-a.example' },
  b: { id: '7a2d1e3f-4b5c-4d6e-9f0a-1b2c3d4e5f6b', domain: 'tenant-b.example' },
};

/** Each tenant's administrator, who may grant admin consent there (`login_hint` = `username`). */
export const tenantAdmins = {
  a: { username: `admin@${tenants.a.domain}`, name: 'Tenant A Admin', tenant: tenants.a.id },
  b: { username: `admin@${tenants.b.domain}`, name: 'Tenant B Admin', tenant: tenants.b.id },
};

/**
 * The daemon's own API, as an Entra app registration exposes it: App ID URI (the `aud` of
 * callers' tokens, DAEMON_API_AUDIENCE), no delegated scopes, and app roles assigned to
 * client applications (the `roles` claim of their client credentials tokens).
 */
export const daemonApi = {
  appIdUri: 'api://daemon',
  /** The role a caller needs (DAEMON_CALLER_ROLES). */
  callerRole: 'Daemon.Call',
  /** A role of the same API that does not let its holder call the daemon. */
  otherRole: 'Reports.Read',
  /** Client id -> the app roles assigned to it. */
  assignments: {
    [clients.daemonCaller.clientId]: ['Daemon.Call'],
    [clients.daemonCallerWithoutRole.clientId]: ['Reports.Read'],
  },
};

/**
 * A redirect URI the provider registers for the web app clients beside the configured ones, for
 * the test bed's own sign-ins (lib/testbed.mjs `userAccessToken`): nothing listens there (port 9,
 * discard); only the provider's Location header is read.
 */
export const TOKEN_HELPER_REDIRECT_URI = 'http://127.0.0.1:9/testbed/token-helper';

/**
 * A certificate's DER bytes, public key (a KeyObject) and thumbprints as JOSE headers carry
 * them (base64url, no padding): `x5t#S256` is SHA-256 of the DER, `x5t` the legacy SHA-1 one.
 */
export function describeCertificate(pem) {
  const certificate = new X509Certificate(pem);
  const der = certificate.raw;
  return {
    der,
    publicKey: certificate.publicKey,
    x5tS256: hash('sha256', der, 'base64url'),
    x5t: hash('sha1', der, 'base64url'),
  };
}

/** A client assertion as edge-token builds one (like MSAL): thumbprint header, no kid. */
export function signAssertion({
  tokenEndpoint, header, keyPem = credentials.privateKeyPem, clientId = clients.certificate.clientId,
}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ typ: 'JWT', ...header })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(tokenEndpoint)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 600)
    .sign(createPrivateKey(keyPem)); // node parses both PKCS#8 and PKCS#1
}
