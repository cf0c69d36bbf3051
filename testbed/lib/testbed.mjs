// Starts the identity provider and the downstream API in the background and hands back how to
// reach, inspect and stop them; the Worker settings for each scenario; a user's access token
// straight from the provider, for tests that call a web API themselves; and a caller's app-only
// token for the daemon's protected GET /daemon/call.
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';

import { decodeJwt } from 'jose';

import {
  clients, credentials, daemonApi, describeCertificate, signAssertion, tenants, TOKEN_HELPER_REDIRECT_URI,
  webapiAppRole,
} from './credentials.mjs';
import { startFaultProxy } from './fault-proxy.mjs';
import { FetchBrowser } from './fetch-browser.mjs';
import { startProcess } from './processes.mjs';
import { TESTBED_DIR } from './paths.mjs';

export {
  clients, credentials, daemonApi, describeCertificate, signAssertion, tenantAdmins, tenants,
  TOKEN_HELPER_REDIRECT_URI, webapiAppRole,
} from './credentials.mjs';
export { MFA_CLAIMS_CHALLENGE, users, userClaims } from './users.mjs';

/** What the Worker asks the provider for: the downstream API, Entra style. */
export const DOWNSTREAM_SCOPE = 'api://downstream/.default';
/** The downstream API's delegated scope, what the web API asks for on behalf of its users. */
export const DOWNSTREAM_USER_SCOPE = 'api://downstream/user.read';
/** The web API's App ID URI (the `aud` of its tokens) and its delegated scope. */
export const WEBAPI_AUDIENCE = clients.webapi.appIdUri;
export const WEBAPI_SCOPE = `${WEBAPI_AUDIENCE}/access_as_user`;
/** A delegated scope of the web API other than access_as_user (its tokens lack the required scope). */
export const WEBAPI_OTHER_SCOPE = `${WEBAPI_AUDIENCE}/reports.read`;
/** The daemon's API: the `aud` of its callers' tokens (DAEMON_API_AUDIENCE). */
export const DAEMON_API_AUDIENCE = daemonApi.appIdUri;
/** The app role a caller of /daemon/call needs (DAEMON_CALLER_ROLES). */
export const DAEMON_CALLER_ROLE = daemonApi.callerRole;

async function getJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return response.json();
}

async function post(url, json) {
  const response = await fetch(url, json === undefined ? { method: 'POST' } : {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}: ${text.slice(0, 300)}`);
}

/** The web app's redirect URIs when the Worker serves at `workerUrl` (no trailing slash). */
export function webappUris(workerUrl) {
  return {
    redirectUri: `${workerUrl}/auth/callback`,
    postLogoutRedirectUri: `${workerUrl}/`,
    frontchannelLogoutUri: `${workerUrl}/auth/frontchannel-logout`,
    backchannelLogoutUri: `${workerUrl}/auth/backchannel-logout`,
  };
}

/** A new COOKIE_KEY for the Worker: 32 random bytes, base64url without padding. */
export function newCookieKey() {
  return randomBytes(32).toString('base64url');
}

/** `WEBAPP_*` settings for the provider; unset ones keep the provider's defaults. */
function webappEnv({ webappRedirectUris, webappPostLogoutRedirectUris, webappLogoutUris = {} }) {
  return {
    ...(webappLogoutUris.frontchannel ? { WEBAPP_FRONTCHANNEL_LOGOUT_URI: webappLogoutUris.frontchannel } : {}),
    ...(webappLogoutUris.backchannel ? { WEBAPP_BACKCHANNEL_LOGOUT_URI: webappLogoutUris.backchannel } : {}),
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
 * With `behindProxy`, fault-proxy.mjs starts first and the provider behind it believes its
 * issuer is the proxy's URL (PROVIDER_ISSUER): `issuer` and every endpoint are then the
 * proxy's, the downstream fetches discovery and keys through it, `proxy` is its handle (see
 * lib/fault-proxy.mjs) and `providerUrl` the provider's own address. `stats` and `reset` go
 * to the provider directly (the proxy does not count them); `reset` also resets the proxy.
 *
 * The provider's Entra-like tenants (lib/tenants.mjs) are served too: `tenants` maps each key
 * of lib/credentials.mjs `tenants` ('a', 'b') to its id, domain, issuer and endpoints, and the
 * downstream accepts their tokens. Admin consent may redirect to exactly
 * `adminConsentRedirectUris` (ADMIN_CONSENT_REDIRECT_URIS; TOKEN_HELPER_REDIRECT_URI always);
 * `resetTenants()` forgets every admin consent.
 *
 * `consent: 'per-scope'` (CONSENT_MODE) makes users consent to API scopes one request at a
 * time, on a consent page, as Entra asks for dynamically requested scopes (lib/consent.mjs);
 * by default a sign-in consents to every API the client is configured for.
 *
 * `webappLogoutUris` ({ frontchannel, backchannel }, URLs, see webappUris) registers the web
 * app clients' front-channel and back-channel logout URIs (lib/logout-channels.mjs); default
 * none.
 *
 * `tokenSigningAlg` 'ES256' makes the provider sign ID tokens and the web API's and daemon's
 * access tokens with a P-256 key (TOKEN_SIGNING_ALG, see provider.mjs); default RS256.
 *
 * @returns {Promise<{issuer: string, tokenEndpoint: string, authorizationEndpoint: string,
 *   endSessionEndpoint: string, jwksUri: string, downstreamUrl: string, providerUrl: string,
 *   proxy?: Awaited<ReturnType<typeof startFaultProxy>>,
 *   stats: () => Promise<object>, issuedTokens: () => Promise<string[]>, downstreamStats: () => Promise<object>,
 *   armClaimsChallenge: (options?: {claims?: string, sub?: string}) => Promise<void>,
 *   tenants: Record<string, {id: string, domain: string, issuer: string, discoveryUrl: string,
 *     tokenEndpoint: string, authorizationEndpoint: string, adminConsentUrl: string}>,
 *   resetTenants: () => Promise<void>,
 *   reset: () => Promise<void>, stop: () => Promise<void>}>}
 */
export async function startTestbed({
  providerPort = 0, downstreamPort = 0, accessTokenTtl, webappRedirectUris, webappPostLogoutRedirectUris,
  behindProxy = false, adminConsentRedirectUris, consent, webappLogoutUris, tokenSigningAlg,
} = {}) {
  const proxy = behindProxy ? await startFaultProxy() : undefined;
  let provider;
  try {
    provider = await startProcess({
      name: 'provider',
      command: process.execPath,
      args: [path.join(TESTBED_DIR, 'provider.mjs')],
      env: {
        ...process.env,
        PROVIDER_PORT: String(providerPort),
        ...(accessTokenTtl === undefined ? {} : { ACCESS_TOKEN_TTL: String(accessTokenTtl) }),
        ...(proxy ? { PROVIDER_ISSUER: proxy.url } : {}),
        ...webappEnv({ webappRedirectUris, webappPostLogoutRedirectUris, webappLogoutUris }),
        ...(adminConsentRedirectUris ? { ADMIN_CONSENT_REDIRECT_URIS: adminConsentRedirectUris.join(' ') } : {}),
        ...(consent ? { CONSENT_MODE: consent } : {}),
        ...(tokenSigningAlg ? { TOKEN_SIGNING_ALG: tokenSigningAlg } : {}),
      },
      readyLine: proxy
        ? /^provider listening (\S+)$[\s\S]*^provider ready (\S+)$/m
        : /^provider ready (\S+)$/m,
    });
    if (proxy) await proxy.setTarget(provider.readyMatch[1]);
  } catch (err) {
    await proxy?.stop();
    throw err;
  }
  const issuer = proxy ? provider.readyMatch[2] : provider.readyMatch[1];
  const providerUrl = provider.readyMatch[1];
  /** The tenants as the provider serves them under the issuer's base URL (see lib/tenants.mjs). */
  const tenantsServed = Object.fromEntries(Object.entries(tenants).map(([key, { id, domain }]) => [key, {
    id,
    domain,
    issuer: `${issuer}/${id}/v2.0`,
    discoveryUrl: `${issuer}/${id}/v2.0/.well-known/openid-configuration`,
    tokenEndpoint: `${issuer}/${id}/oauth2/v2.0/token`,
    authorizationEndpoint: `${issuer}/${id}/oauth2/v2.0/authorize`,
    adminConsentUrl: `${issuer}/${id}/v2.0/adminconsent`,
  }]));

  let downstream;
  try {
    downstream = await startProcess({
      name: 'downstream',
      command: process.execPath,
      args: [path.join(TESTBED_DIR, 'downstream.mjs')],
      env: {
        ...process.env,
        DOWNSTREAM_PORT: String(downstreamPort),
        ISSUER: issuer,
        ISSUERS: Object.values(tenantsServed).map((tenant) => tenant.issuer).join(' '),
      },
      readyLine: /^downstream ready (\S+)$/m,
    });
  } catch (err) {
    await Promise.all([provider.stop(), proxy?.stop()]);
    throw err;
  }
  const downstreamUrl = downstream.readyMatch[1];
  const stop = async () => {
    await Promise.all([downstream.stop(), provider.stop(), proxy?.stop()]);
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
    /** The provider's own address (behind a proxy, not the issuer). */
    providerUrl,
    /** The fault-injecting proxy in front of the provider (behindProxy only). */
    proxy,
    /** The provider's token request counts (see provider.mjs). */
    stats: () => getJson(`${providerUrl}/__testbed/stats`),
    /** Every access, refresh and ID token the provider issued (see provider.mjs). */
    issuedTokens: async () => (await getJson(`${providerUrl}/__testbed/issued`)).tokens,
    /** Every back-channel logout token the provider sent, oldest first (lib/logout-channels.mjs). */
    logoutTokens: async () => (await getJson(`${providerUrl}/__testbed/logout-tokens`)).tokens,
    /** The downstream's request counts (see downstream.mjs). */
    downstreamStats: () => getJson(`${downstreamUrl}/__testbed/stats`),
    /**
     * Arms a one-shot claims challenge at the downstream (see downstream.mjs): its next request
     * that would be authorized (with `sub`'s token, when given) gets 401 insufficient_claims.
     * `claims`: JSON text; default Entra's CAE `{"access_token":{"nbf":...}}`. Each call arms one more.
     */
    armClaimsChallenge: ({ claims, sub } = {}) => post(`${downstreamUrl}/__testbed/claims-challenge`, { claims, sub }),
    /** The provider's Entra-like tenants, by key ('a', 'b'): id, domain, issuer, endpoints. */
    tenants: tenantsServed,
    /** Forgets every tenant's admin consents (POST /__testbed/tenants/reset). */
    resetTenants: () => post(`${providerUrl}/__testbed/tenants/reset`),
    /** Zeroes both counters and disarms the downstream's challenges (and resets the proxy). */
    reset: async () => {
      await Promise.all([
        post(`${providerUrl}/__testbed/reset`), post(`${downstreamUrl}/__testbed/reset`), proxy?.reset(),
      ]);
    },
    stop,
  };
}

/**
 * Worker settings for the daemon flow against a started test bed, authenticating as one of the
 * provider's clients: 'secretPost', 'secretBasic' or 'certificate' (PS256, PKCS#8 key).
 * GET /daemon/call is protected: callers need an app-only token for DAEMON_API_AUDIENCE with
 * the role DAEMON_CALLER_ROLE (see callerToken).
 *
 * @param {object} [options]
 * @param {boolean} [options.public] DAEMON_PUBLIC=true and no caller policy: anyone may call
 *   (unsafe; for tests of other things, such as provider outages). Both together are a
 *   configuration error.
 * @param {string} [options.tokenCacheKey] TOKEN_CACHE_KEY (seals the shared token cache);
 *   default a new random one: give the same one to Workers that share KV state.
 */
export function daemonVars(testbed, client, { public: open = false, tokenCacheKey = newCookieKey() } = {}) {
  const base = {
    AUTHORITY: testbed.issuer,
    DOWNSTREAM_URL: `${testbed.downstreamUrl}/api/whoami`,
    DOWNSTREAM_SCOPES: DOWNSTREAM_SCOPE,
    TOKEN_CACHE_KEY: tokenCacheKey,
    ...(open
      ? { DAEMON_PUBLIC: 'true' }
      : { DAEMON_API_AUDIENCE: DAEMON_API_AUDIENCE, DAEMON_CALLER_ROLES: DAEMON_CALLER_ROLE }),
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
 * @param {string} [options.webApiUrl] The web API Worker's URL (no trailing slash): GET /me/api
 *   then calls its /api/profile (WEB_API_URL) with a token for `webApiScopes` (WEB_API_SCOPES).
 * @param {string} [options.webApiScopes] Default WEBAPI_SCOPE (api://webapi/access_as_user).
 */
export function webappVars(testbed, {
  workerUrl, client = 'webapp', cookieKey = newCookieKey(), responseMode, webApiUrl, webApiScopes = WEBAPI_SCOPE,
} = {}) {
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
    ...(webApiUrl ? { WEB_API_URL: `${webApiUrl}/api/profile`, WEB_API_SCOPES: webApiScopes } : {}),
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

/**
 * Worker settings for the web API (GET /api/profile: validates the caller's token for
 * `api://webapi` with scope `access_as_user` or the app role `webapiAppRole`, then calls the
 * downstream on the caller's behalf through the on-behalf-of grant, or, for an app-only caller,
 * with its own app token) against a started test bed. Client `webapi`, secret in the body;
 * declares the `cp1` capability (claims challenges).
 *
 * @param {object} [options]
 * @param {string} [options.downstreamScopes] API_DOWNSTREAM_SCOPES; default api://downstream/user.read.
 * @param {string} [options.requiredScope] API_REQUIRED_SCOPE; default access_as_user.
 * @param {string} [options.requiredRoles] API_REQUIRED_ROLES; default `webapiAppRole`.
 * @param {string} [options.capabilities] CLIENT_CAPABILITIES; default cp1 (undefined: left out).
 */
export function webapiVars(testbed, {
  downstreamScopes = DOWNSTREAM_USER_SCOPE, requiredScope = 'access_as_user', requiredRoles = webapiAppRole,
  capabilities = 'cp1',
} = {}) {
  return {
    AUTHORITY: testbed.issuer,
    AUTHORITY_KIND: 'oidc',
    CLIENT_ID: clients.webapi.clientId,
    CLIENT_SECRET: clients.webapi.secret,
    TOKEN_CACHE_KEY: newCookieKey(),
    API_AUDIENCE: WEBAPI_AUDIENCE,
    API_REQUIRED_SCOPE: requiredScope,
    API_REQUIRED_ROLES: requiredRoles,
    API_DOWNSTREAM_URL: `${testbed.downstreamUrl}/api/whoami`,
    API_DOWNSTREAM_SCOPES: downstreamScopes,
    CLIENT_CAPABILITIES: capabilities,
  };
}

/**
 * An app-only access token for the daemon's API (`api://daemon`) straight from the provider,
 * as a caller of GET /daemon/call gets it (client credentials, secret in the body), and the
 * Authorization header value to send it with. Asked at the provider's own address (not through
 * a fault proxy); the provider counts the request in its stats, so take the token before
 * `testbed.reset()`.
 *
 * @param {object} testbed A started test bed (startTestbed).
 * @param {object} [options]
 * @param {'caller' | 'withoutRole' | 'webapiCaller'} [options.caller] 'caller' (default) holds
 *   DAEMON_CALLER_ROLE; 'withoutRole' holds only another role of the API (the daemon answers 403);
 *   'webapiCaller' holds `webapiAppRole` on the web API (with `resource: WEBAPI_AUDIENCE`).
 * @param {string} [options.resource] The API the token is for; default DAEMON_API_AUDIENCE
 *   (another one gives a token the daemon refuses with 401).
 * @returns {Promise<{accessToken: string, authorization: string, claims: object}>} `claims`:
 *   the token's, decoded (not verified).
 */
export async function callerToken(testbed, { caller = 'caller', resource = DAEMON_API_AUDIENCE } = {}) {
  const client = {
    caller: clients.daemonCaller, withoutRole: clients.daemonCallerWithoutRole, webapiCaller: clients.webapiCaller,
  }[caller];
  if (!client) throw new Error(`callerToken: unknown caller ${caller}`);
  const accessToken = await clientCredentialsToken(testbed, client, `${resource}/.default`);
  return {
    accessToken,
    authorization: `Bearer ${accessToken}`,
    claims: decodeJwt(accessToken),
  };
}

/**
 * An app token straight from the test bed's provider: the client credentials grant (RFC 6749
 * §4.4) for `client` (one of `clients` with a secret, sent in the body) and `scope`.
 *
 * @param {object} testbed A started test bed (startTestbed).
 * @param {{clientId: string, secret: string}} client
 * @param {string} scope E.g. DOWNSTREAM_SCOPE.
 * @returns {Promise<string>} The access token (a JWS).
 */
export async function clientCredentialsToken(testbed, client, scope) {
  const tokenUrl = new URL(new URL(testbed.tokenEndpoint).pathname, testbed.providerUrl);
  const response = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope,
      client_id: client.clientId,
      client_secret: client.secret,
    }),
  });
  const body = await response.json();
  if (response.status !== 200) {
    throw new Error(`client credentials: ${client.clientId} got ${response.status} ${body.error}: ${body.error_description}`);
  }
  return body.access_token;
}

/** Client authentication for a web app client's token request: its secret, or a PS256 assertion. */
async function webappClientAuth(testbed, clientId) {
  if (clientId === clients.webapp.clientId) {
    return { client_id: clientId, client_secret: clients.webapp.secret };
  }
  if (clientId === clients.webappCertificate.clientId) {
    return {
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await signAssertion({
        tokenEndpoint: testbed.tokenEndpoint,
        clientId,
        header: { alg: 'PS256', 'x5t#S256': describeCertificate(credentials.certificatePem).x5tS256 },
      }),
    };
  }
  throw new Error(`userAccessToken: unknown web app client ${clientId}`);
}

/**
 * A user's tokens straight from the provider, as a web app client gets them: authorization code
 * with PKCE S256 through a fetch-driven browser (lib/fetch-browser.mjs; `login_hint` signs the
 * user in with no page), redirected to TOKEN_HELPER_REDIRECT_URI, which the provider registers
 * for the web app clients. For tests that call the web API Worker with a token themselves.
 * The provider counts the sign-in and the code redemption in its stats: reset afterwards.
 *
 * @param {object} testbed A started test bed (startTestbed).
 * @param {object} options
 * @param {string} options.user A test user (username or email).
 * @param {string} [options.scope] Default WEBAPI_SCOPE; `openid profile offline_access` are added.
 * @param {'webapp' | 'webapp-cert'} [options.clientId] Default webapp.
 * @returns {Promise<{accessToken: string, claims: object, refreshToken?: string, idToken?: string,
 *   expiresIn: number, scope: string}>} `claims`: the access token's, decoded (not verified).
 */
export async function userAccessToken(testbed, { user, scope = WEBAPI_SCOPE, clientId = clients.webapp.clientId } = {}) {
  if (!user) throw new Error('userAccessToken: give user');
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const url = new URL(testbed.authorizationEndpoint);
  url.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: TOKEN_HELPER_REDIRECT_URI,
    scope: `openid profile offline_access ${scope}`,
    state,
    nonce: randomBytes(16).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    login_hint: user,
  });
  const landed = await new FetchBrowser().navigate(url.href, { stayOn: testbed.issuer });
  if (!landed.leftTo?.startsWith(`${TOKEN_HELPER_REDIRECT_URI}?`)) {
    throw new Error(`userAccessToken: sign-in of ${user} ended at ${landed.url} with ${landed.status}: ${landed.text.slice(0, 300)}`);
  }
  const answer = new URL(landed.leftTo).searchParams;
  if (answer.get('state') !== state || !answer.get('code')) {
    throw new Error(`userAccessToken: no code for ${user}: error=${answer.get('error')} ${answer.get('error_description') ?? ''}`);
  }

  const response = await fetch(testbed.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: answer.get('code'),
      redirect_uri: TOKEN_HELPER_REDIRECT_URI,
      code_verifier: verifier,
      ...(await webappClientAuth(testbed, clientId)),
    }),
  });
  const body = await response.json();
  if (response.status !== 200) {
    throw new Error(`userAccessToken: code redemption for ${user} answered ${response.status} ${body.error}: ${body.error_description}`);
  }
  return {
    accessToken: body.access_token,
    claims: decodeJwt(body.access_token),
    refreshToken: body.refresh_token,
    idToken: body.id_token,
    expiresIn: body.expires_in,
    scope: body.scope,
  };
}
