// Starts the identity provider and the downstream API in the background and hands back how to
// reach, inspect and stop them; and the Worker settings for each scenario.
import { randomBytes } from 'node:crypto';
import path from 'node:path';

import { clients, credentials } from './credentials.mjs';
import { startProcess } from './processes.mjs';
import { TESTBED_DIR } from './paths.mjs';

export { clients, credentials, describeCertificate, signAssertion } from './credentials.mjs';
export { users, userClaims } from './users.mjs';

/** What the Worker asks the provider for: the downstream API, Entra style. */
export const DOWNSTREAM_SCOPE = 'api://downstream/.default';

async function getJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return response.json();
}

async function post(url) {
  const response = await fetch(url, { method: 'POST' });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}`);
}

/** The web app's redirect URIs when the Worker serves at `workerUrl` (no trailing slash). */
export function webappUris(workerUrl) {
  return { redirectUri: `${workerUrl}/auth/callback`, postLogoutRedirectUri: `${workerUrl}/` };
}

/** A new COOKIE_KEY for the Worker: 32 random bytes, base64url without padding. */
export function newCookieKey() {
  return randomBytes(32).toString('base64url');
}

/** `WEBAPP_*` settings for the provider; unset ones keep the provider's defaults. */
function webappEnv({ webappRedirectUris, webappPostLogoutRedirectUris }) {
  return {
    ...(webappRedirectUris ? { WEBAPP_REDIRECT_URIS: webappRedirectUris.join(' ') } : {}),
    ...(webappPostLogoutRedirectUris
      ? { WEBAPP_POST_LOGOUT_REDIRECT_URIS: webappPostLogoutRedirectUris.join(' ') }
      : {}),
  };
}

/**
 * Starts provider.mjs, then downstream.mjs trusting it. Ports default to 0 (any free port);
 * the real ones are read from the ready lines. The web app clients accept exactly
 * `webappRedirectUris` and `webappPostLogoutRedirectUris` (arrays of URLs; see webappUris),
 * so a test picks its Worker's port before it starts the provider.
 *
 * @returns {Promise<{issuer: string, tokenEndpoint: string, authorizationEndpoint: string,
 *   endSessionEndpoint: string, jwksUri: string, downstreamUrl: string,
 *   stats: () => Promise<object>, downstreamStats: () => Promise<object>,
 *   reset: () => Promise<void>, stop: () => Promise<void>}>}
 */
export async function startTestbed({
  providerPort = 0, downstreamPort = 0, accessTokenTtl, webappRedirectUris, webappPostLogoutRedirectUris,
} = {}) {
  const provider = await startProcess({
    name: 'provider',
    command: process.execPath,
    args: [path.join(TESTBED_DIR, 'provider.mjs')],
    env: {
      ...process.env,
      PROVIDER_PORT: String(providerPort),
      ...(accessTokenTtl === undefined ? {} : { ACCESS_TOKEN_TTL: String(accessTokenTtl) }),
      ...webappEnv({ webappRedirectUris, webappPostLogoutRedirectUris }),
    },
    readyLine: /^provider ready (\S+)$/m,
  });
  const issuer = provider.readyMatch[1];

  let downstream;
  try {
    downstream = await startProcess({
      name: 'downstream',
      command: process.execPath,
      args: [path.join(TESTBED_DIR, 'downstream.mjs')],
      env: { ...process.env, DOWNSTREAM_PORT: String(downstreamPort), ISSUER: issuer },
      readyLine: /^downstream ready (\S+)$/m,
    });
  } catch (err) {
    await provider.stop();
    throw err;
  }
  const downstreamUrl = downstream.readyMatch[1];
  const stop = async () => {
    await Promise.all([downstream.stop(), provider.stop()]);
  };

  let discovery;
  try {
    discovery = await getJson(`${issuer}/.well-known/openid-configuration`);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    issuer,
    /** As discovery publishes it: the `aud` client assertions must carry. */
    tokenEndpoint: discovery.token_endpoint,
    authorizationEndpoint: discovery.authorization_endpoint,
    endSessionEndpoint: discovery.end_session_endpoint,
    jwksUri: discovery.jwks_uri,
    downstreamUrl,
    /** The provider's token request counts (see provider.mjs). */
    stats: () => getJson(`${issuer}/__testbed/stats`),
    /** The downstream's request counts (see downstream.mjs). */
    downstreamStats: () => getJson(`${downstreamUrl}/__testbed/stats`),
    /** Zeroes both counters. */
    reset: async () => {
      await Promise.all([post(`${issuer}/__testbed/reset`), post(`${downstreamUrl}/__testbed/reset`)]);
    },
    stop,
  };
}

/**
 * Worker settings for the daemon flow against a started test bed, authenticating as one of the
 * provider's clients: 'secretPost', 'secretBasic' or 'certificate' (PS256, PKCS#8 key).
 */
export function daemonVars(testbed, client) {
  const base = {
    AUTHORITY: testbed.issuer,
    DOWNSTREAM_URL: `${testbed.downstreamUrl}/api/whoami`,
    DOWNSTREAM_SCOPES: DOWNSTREAM_SCOPE,
  };
  switch (client) {
    case 'secretPost':
      return { ...base, CLIENT_ID: clients.secretPost.clientId, CLIENT_SECRET: clients.secretPost.secret };
    case 'secretBasic':
      return {
        ...base,
        CLIENT_ID: clients.secretBasic.clientId,
        CLIENT_SECRET: clients.secretBasic.secret,
        CLIENT_AUTH_METHOD: 'client_secret_basic',
      };
    case 'certificate':
      return {
        ...base,
        CLIENT_ID: clients.certificate.clientId,
        CLIENT_CERTIFICATE: credentials.certificatePem,
        CLIENT_PRIVATE_KEY: credentials.privateKeyPem,
      };
    default:
      throw new Error(`unknown client ${client}`);
  }
}

/**
 * Worker settings for the web app (users sign in; the Worker calls the downstream for them)
 * against a started test bed whose web app redirect URIs include those of `workerUrl`.
 *
 * @param {object} options
 * @param {string} options.workerUrl Where the Worker serves, e.g. http://127.0.0.1:8787.
 * @param {'webapp' | 'webapp-cert'} [options.client] Secret (default) or certificate (PS256).
 * @param {string} [options.cookieKey] COOKIE_KEY; default: a new random one.
 * @param {'query' | 'form_post'} [options.responseMode] Default: the Worker's (query).
 */
export function webappVars(testbed, { workerUrl, client = 'webapp', cookieKey = newCookieKey(), responseMode } = {}) {
  if (!workerUrl) throw new Error('webappVars: give workerUrl');
  const { redirectUri, postLogoutRedirectUri } = webappUris(workerUrl);
  const base = {
    AUTHORITY: testbed.issuer,
    REDIRECT_URI: redirectUri,
    POST_LOGOUT_REDIRECT_URI: postLogoutRedirectUri,
    COOKIE_KEY: cookieKey,
    DOWNSTREAM_URL: `${testbed.downstreamUrl}/api/whoami`,
    DOWNSTREAM_SCOPES: DOWNSTREAM_SCOPE,
    RESPONSE_MODE: responseMode,
  };
  switch (client) {
    case 'webapp':
      return { ...base, CLIENT_ID: clients.webapp.clientId, CLIENT_SECRET: clients.webapp.secret };
    case 'webapp-cert':
      return {
        ...base,
        CLIENT_ID: clients.webappCertificate.clientId,
        CLIENT_CERTIFICATE: credentials.certificatePem,
        CLIENT_PRIVATE_KEY: credentials.privateKeyPem,
      };
    default:
      throw new Error(`unknown web app client ${client}`);
  }
}
