// A real OpenID Provider (panva's oidc-provider) for edge-token's tests and demo.
//
// It issues JWT access tokens for two resources, the downstream API `api://downstream` and the
// web API `api://webapi`, asked for the way Microsoft Entra clients (MSAL) ask:
// `scope=api://downstream/.default` (or `api://downstream/user.read`,
// `api://webapi/access_as_user`) and no `resource` parameter. Every access token carries, beside
// `sub`, `scope`, `client_id`, Entra's `azp` (the client that asked) and, for a user, `scp`
// (the short names of the delegated scopes granted: `user.read`, `access_as_user`; `.default`
// stands for all of the resource's delegated scopes).
// - Daemons (client credentials): tokens with `sub` = the client id. A third resource, the
//   daemon's own API `api://daemon` (no delegated scopes; `scope=api://daemon/.default`), has
//   app roles: client credentials tokens for it carry Entra's `roles` claim with the roles
//   assigned to the client (lib/credentials.mjs `daemonApi`: `daemon-caller` holds
//   `Daemon.Call`, `daemon-caller-norole` only `Reports.Read`), for callers of `/daemon/call`.
// - Web apps (authorization code with PKCE S256, required): users sign in (see
//   lib/interactions.mjs: a `login_hint` naming a test user needs no page), consent is automatic,
//   and the code gives an ID token (`name`, `preferred_username`, `email`, `nonce`), a delegated
//   access token for `api://downstream` (`sub` = the user) and, when `offline_access` is asked
//   for, a refresh token. Refresh tokens rotate on every use; a used one is refused and its
//   whole grant revoked. RP-initiated logout needs no click and returns to the registered
//   post-logout URI. As on Entra, where a web app's consent covers every API it is configured
//   for, a web app client's sign-in also consents to the other resource's scopes, so its refresh
//   token gets tokens for both APIs.
// - The web API `webapi` (App ID URI `api://webapi`): the on-behalf-of grant
//   (`urn:ietf:params:oauth:grant-type:jwt-bearer`, `requested_token_use=on_behalf_of`)
//   exchanges a user's access token for `api://webapi` for a downstream token for the same user,
//   and answers errors in Entra's shape (`error_codes`, `trace_id`, ...). For `carol`
//   (conditional access requires MFA) it answers `interaction_required` with a claims challenge.
// Clients authenticate with a secret (post or basic) or with a certificate-bound
// `private_key_jwt` assertion, which, as on Entra, names its certificate by thumbprint
// (`x5t#S256` or `x5t`) instead of `kid`.
//
// Beside the standard endpoints it serves test controls: GET /__testbed/stats counts token
// requests (on-behalf-of ones too) and sign-ins, POST /__testbed/reset zeroes the counts,
// GET /__testbed/issued lists every access, refresh and ID token the token endpoint issued
// (the last 10,000; not reset), for tests that check no token is stored readable.
//
// Env: PROVIDER_PORT (default 9400, 0 = any free port), ACCESS_TOKEN_TTL (seconds, default 3600;
// every access token), WEBAPP_REDIRECT_URIS and WEBAPP_POST_LOGOUT_REDIRECT_URIS (space-separated;
// default the Worker on 127.0.0.1:8787: `/auth/callback` and `/`; the test bed's own
// TOKEN_HELPER_REDIRECT_URI is registered too), PROVIDER_ISSUER (the public issuer URL when the
// provider sits behind a proxy, e.g. fault-proxy.mjs; default its own http://127.0.0.1:<port>).
// Listens on 127.0.0.1 only; prints `provider ready <issuer>` once listening (behind a proxy,
// `provider listening <own url>` first).
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';

import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import Provider, { errors } from 'oidc-provider';

import {
  clients, credentials, daemonApi, describeCertificate, TOKEN_HELPER_REDIRECT_URI,
} from './lib/credentials.mjs';
import { integerFromEnv, listFromEnv } from './lib/env.mjs';
import {
  interactionRoutes, interactionsPolicy, logoutSource, postLogoutSuccessSource, renderError,
} from './lib/interactions.mjs';
import { isUser, MFA_CLAIMS_CHALLENGE, mfaRequired, userClaims } from './lib/users.mjs';

const TOKEN_PATH = '/token';
const AUTHORIZATION_PATH = '/authorize';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** What the on-behalf-of grant is counted as in the stats. */
const OBO_GRANT_NAME = 'on_behalf_of';
const DOWNSTREAM = 'api://downstream';
const WEBAPI = clients.webapi.appIdUri;
/**
 * The resources (Entra: APIs, named by App ID URI) and their delegated scopes (short names).
 * A scope `{resource}/{name}` asks for one of them; `{resource}/.default`, as on Entra, for
 * everything consented: here, all of the resource's delegated scopes (`scp` lists them all).
 * `reports.read` exists so that a user token for the web API can lack `access_as_user`.
 */
const RESOURCES = {
  [DOWNSTREAM]: ['user.read'],
  [WEBAPI]: ['access_as_user', 'reports.read'],
  [daemonApi.appIdUri]: [],
};
/** Resource -> client id -> the app roles assigned to that client (Entra "app role assignments"). */
const APP_ROLES = { [daemonApi.appIdUri]: daemonApi.assignments };
/** A resource's scopes as the provider knows them: `.default` and each delegated scope, in full. */
const resourceScopes = (resource) => [`${resource}/.default`, ...RESOURCES[resource].map((name) => `${resource}/${name}`)];
/**
 * The APIs each client is configured (and consented) for, as an Entra app registration's "API
 * permissions": a web app client's sign-in consents to all of them; the web API may ask for
 * these on behalf of a user.
 */
const API_PERMISSIONS = {
  [clients.webapp.clientId]: [DOWNSTREAM, WEBAPI],
  [clients.webappCertificate.clientId]: [DOWNSTREAM, WEBAPI],
  [clients.webapi.clientId]: [DOWNSTREAM],
};
/** Client id -> App ID URI: the audiences of the assertions a client may exchange on-behalf-of. */
const APP_ID_URIS = { [clients.webapi.clientId]: clients.webapi.appIdUri };
/** Same bound as oidc-provider's own body parser. */
const BODY_LIMIT = 56 * 1024;

const port = integerFromEnv('PROVIDER_PORT', 9400);
const accessTokenTtl = integerFromEnv('ACCESS_TOKEN_TTL', 3600);
const webappRedirectUris = listFromEnv('WEBAPP_REDIRECT_URIS', ['http://127.0.0.1:8787/auth/callback']);
const webappPostLogoutRedirectUris = listFromEnv('WEBAPP_POST_LOGOUT_REDIRECT_URIS', ['http://127.0.0.1:8787/']);

/** A certificate's public key as a JWK that also carries the certificate and its thumbprints. */
function certificateJwk(pem) {
  const { der, publicKey, x5tS256, x5t } = describeCertificate(pem);
  return {
    ...publicKey.export({ format: 'jwk' }),
    use: 'sig',
    x5c: [der.toString('base64')],
    'x5t#S256': x5tS256,
    x5t,
  };
}

const daemon = { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] };
const webapp = {
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: [...webappRedirectUris, TOKEN_HELPER_REDIRECT_URI],
  post_logout_redirect_uris: webappPostLogoutRedirectUris,
};
const clientMetadata = [
  {
    ...daemon,
    client_id: clients.secretPost.clientId,
    client_secret: clients.secretPost.secret,
    token_endpoint_auth_method: 'client_secret_post',
  },
  {
    ...daemon,
    client_id: clients.secretBasic.clientId,
    client_secret: clients.secretBasic.secret,
    token_endpoint_auth_method: 'client_secret_basic',
  },
  {
    ...daemon,
    client_id: clients.certificate.clientId,
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [certificateJwk(credentials.certificatePem)] },
  },
  {
    ...webapp,
    client_id: clients.webapp.clientId,
    client_secret: clients.webapp.secret,
    token_endpoint_auth_method: 'client_secret_post',
  },
  {
    ...webapp,
    client_id: clients.webappCertificate.clientId,
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [certificateJwk(credentials.certificatePem)] },
  },
  ...[clients.daemonCaller, clients.daemonCallerWithoutRole].map(({ clientId, secret }) => ({
    ...daemon,
    client_id: clientId,
    client_secret: secret,
    token_endpoint_auth_method: 'client_secret_post',
  })),
  {
    // The web API: on-behalf-of for its users, client credentials for itself. A secret client
    // authenticates in the body or by Basic alike (oidc-provider takes either for both methods).
    client_id: clients.webapi.clientId,
    client_secret: clients.webapi.secret,
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: [JWT_BEARER, 'client_credentials'],
    response_types: [],
    redirect_uris: [],
  },
];

/** client_id -> thumbprints of its registered certificates, by JOSE header name. */
const registeredThumbprints = new Map(clientMetadata.map((client) => {
  const keys = client.jwks?.keys ?? [];
  return [client.client_id, {
    'x5t#S256': new Set(keys.map((key) => key['x5t#S256']).filter(Boolean)),
    x5t: new Set(keys.map((key) => key.x5t).filter(Boolean)),
  }];
}));

/**
 * Entra selects the assertion's certificate by the thumbprint in its header. oidc-provider
 * selects by `kid` only, and would accept any registered key; so, before it runs, a header
 * thumbprint must name a certificate registered for the client. Returns why the assertion is
 * refused, or undefined to let oidc-provider verify it (signature, aud, exp, jti replay).
 */
function thumbprintRefusal(assertion, clientIdParam) {
  let header;
  let claims;
  try {
    header = decodeProtectedHeader(assertion);
    claims = decodeJwt(assertion);
  } catch {
    return undefined; // malformed: oidc-provider answers invalid_request
  }
  const presented = ['x5t#S256', 'x5t'].filter((name) => header[name] !== undefined);
  if (presented.length === 0) {
    return header.kid === undefined
      ? 'client assertion header names no certificate (x5t#S256, x5t) nor key (kid)'
      : undefined;
  }
  const registered = registeredThumbprints.get(clientIdParam ?? claims.iss);
  const allRegistered = presented.every((name) => registered?.[name].has(header[name]));
  return allRegistered ? undefined : 'certificate thumbprint not registered for client';
}

// --- token request statistics -----------------------------------------------------------

/**
 * Token requests are counted when they arrive (by client, grant, client authentication,
 * assertion alg) and when answered (`by_grant_outcome`: "grant:status"); the on-behalf-of grant
 * is counted as `on_behalf_of`. Also counted: refresh tokens presented again after use
 * (`refresh_token_reuse`), sign-ins by user, completed RP-initiated logouts, on-behalf-of
 * requests whose assertion was valid by its user (`obo_subjects`, whatever the outcome), and
 * on-behalf-of requests whose `claims` parameter carries a claims challenge (`obo_with_claims`:
 * anything beside the client capabilities) or declares client capabilities
 * (`obo_with_capabilities`: `access_token.xms_cc`, e.g. MSAL's `cp1`). GETs of the discovery
 * document (`discovery_requests`) and of the key set (`jwks_requests`) are counted too.
 */
function emptyStats() {
  return {
    token_requests: 0,
    by_client: {},
    by_grant: {},
    by_auth: {},
    by_assertion_alg: {},
    by_grant_outcome: {},
    refresh_token_reuse: 0,
    sign_ins: {},
    end_sessions: 0,
    obo_subjects: {},
    obo_with_claims: 0,
    obo_with_capabilities: 0,
    discovery_requests: 0,
    jwks_requests: 0,
  };
}
let stats = emptyStats();

/** Tokens the token endpoint answered with, newest last (see GET /__testbed/issued). */
const issued = [];
const MAX_ISSUED = 10_000;

/** Records the tokens of a successful token response. */
function recordIssued(body) {
  if (!body || typeof body !== 'object') return;
  for (const name of ['access_token', 'refresh_token', 'id_token']) {
    if (typeof body[name] === 'string') issued.push(body[name]);
  }
  issued.splice(0, Math.max(0, issued.length - MAX_ISSUED));
}

/**
 * Counts an on-behalf-of `claims` parameter: client capabilities (`access_token.xms_cc`) and a
 * claims challenge (any other member) separately; unparsable text counts as a challenge.
 */
function countOboClaims(text) {
  let claims;
  try {
    claims = JSON.parse(text);
  } catch {
    stats.obo_with_claims += 1;
    return;
  }
  const { xms_cc: capabilities, ...accessToken } = claims?.access_token ?? {};
  const { access_token: _ignored, ...others } = claims ?? {};
  if (capabilities) stats.obo_with_capabilities += 1;
  if (Object.keys(accessToken).length > 0 || Object.keys(others).length > 0) stats.obo_with_claims += 1;
}
const bump = (counts, key) => { counts[key] = (counts[key] ?? 0) + 1; };

/** Who asks and how, read from the raw request: no outcome is needed to count it. */
function describeTokenRequest(params, authorization) {
  const assertion = params.get('client_assertion');
  const basic = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
  let clientId = params.get('client_id');
  let auth = 'none';
  let assertionAlg;
  if (assertion) {
    auth = 'private_key_jwt';
    try {
      assertionAlg = decodeProtectedHeader(assertion).alg;
      clientId ??= decodeJwt(assertion).iss;
    } catch { /* malformed assertion: counted without client or alg */ }
  } else if (basic) {
    auth = 'client_secret_basic';
    const user = Buffer.from(basic[1], 'base64').toString('utf8').split(':')[0];
    try {
      clientId ??= decodeURIComponent(user.replace(/\+/g, '%20'));
    } catch { /* badly encoded: counted without client */ }
  } else if (params.has('client_secret')) {
    auth = 'client_secret_post';
  }
  const grantType = params.get('grant_type');
  const grant = grantType === JWT_BEARER ? OBO_GRANT_NAME : grantType ?? '(none)';
  return { clientId: clientId ?? '(unknown)', grant, auth, assertionAlg };
}

function countTokenRequest({ clientId, grant, auth, assertionAlg }) {
  stats.token_requests += 1;
  bump(stats.by_client, clientId);
  bump(stats.by_grant, grant);
  bump(stats.by_auth, auth);
  if (assertionAlg) bump(stats.by_assertion_alg, assertionAlg);
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > BODY_LIMIT) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// --- the provider -----------------------------------------------------------------------

/**
 * As on Entra, a scope `{resource}/{name}` (`api://downstream/.default`,
 * `api://downstream/user.read`) asks for resource `{resource}`. Returns the distinct resources,
 * in the order the scope names them.
 */
function resourcesFromScope(scope) {
  const resources = new Set();
  for (const value of (scope ?? '').split(' ')) {
    const authority = value.indexOf('://');
    const slash = value.lastIndexOf('/');
    if (authority > 0 && slash > authority + 2) resources.add(value.slice(0, slash));
  }
  return [...resources];
}

/**
 * Entra's `scp` claim: the short names of the delegated scopes of `resource` in `scope` (full
 * names, space-separated), `.default` standing for all of them. Undefined when there is none.
 */
function shortScopes(resource, scope) {
  const names = new Set();
  for (const value of (scope ?? '').split(' ')) {
    if (!value.startsWith(`${resource}/`)) continue;
    const name = value.slice(resource.length + 1);
    if (name === '.default') RESOURCES[resource].forEach((each) => names.add(each));
    else if (RESOURCES[resource].includes(name)) names.add(name);
  }
  return names.size === 0 ? undefined : [...names].join(' ');
}

/**
 * `formats.customizers.jwt`: Entra's claims in every JWT access token, beside oidc-provider's
 * own: `azp`, the client that asked, and, for a user, `scp`; for an app (client credentials),
 * `roles`: the resource's app roles assigned to the client, when there are any.
 */
function entraAccessTokenClaims(ctx, token, jwt) {
  jwt.payload.azp = token.clientId;
  const resource = token.resourceServer?.identifier();
  if (token.accountId && Object.hasOwn(RESOURCES, resource)) {
    const scp = shortScopes(resource, token.scope);
    if (scp) jwt.payload.scp = scp;
  }
  const assigned = !token.accountId && Object.hasOwn(APP_ROLES, resource) ? APP_ROLES[resource] : {};
  const roles = Object.hasOwn(assigned, token.clientId) ? assigned[token.clientId] : [];
  if (roles.length > 0) jwt.payload.roles = [...roles];
}

/** oidc-provider's account model over the test users: account id = `sub` = username. */
function findAccount(ctx, sub) {
  if (!isUser(sub)) return undefined;
  return { accountId: sub, claims: () => userClaims(sub) };
}

/** What getResourceServerInfo answers for a known resource. */
function resourceServerInfo(resource) {
  return {
    audience: resource,
    scope: resourceScopes(resource).join(' '),
    accessTokenFormat: 'jwt',
    accessTokenTTL: accessTokenTtl,
    jwt: { sign: { alg: 'RS256' } },
  };
}

/** The provider's signing key pair (RS256): the private one as a JWK, the public one to verify assertions. */
async function newSigningKeys() {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { signingJwk: { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig' }, publicKey };
}

function configuration(signingJwk) {
  return {
    clients: clientMetadata,
    jwks: { keys: [signingJwk] },
    routes: { token: TOKEN_PATH, authorization: AUTHORIZATION_PATH },
    clientAuthMethods: ['client_secret_post', 'client_secret_basic', 'private_key_jwt'],
    enabledJWA: { clientAuthSigningAlgValues: ['PS256', 'RS256'] },
    ttl: {
      AccessToken: accessTokenTtl,
      ClientCredentials: accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: 24 * 3600,
      Grant: 14 * 24 * 3600,
      RefreshToken: 14 * 24 * 3600,
    },
    findAccount,
    // The profile scope carries the email too: the web app asks for `openid profile` only.
    claims: {
      acr: null,
      auth_time: null,
      iss: null,
      sid: null,
      openid: ['sub'],
      profile: ['name', 'preferred_username', 'email'],
      email: ['email', 'email_verified'],
    },
    // ID tokens carry the scopes' claims even when an access token comes with them.
    conformIdTokenClaims: false,
    pkce: { required: () => true }, // and oidc-provider supports S256 only: `plain` is refused
    issueRefreshToken: (ctx, client, source) => (
      client.grantTypeAllowed('refresh_token') && source.scopes.has('offline_access')
    ),
    rotateRefreshToken: () => true,
    interactions: { policy: interactionsPolicy(), url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    formats: { customizers: { jwt: entraAccessTokenClaims } },
    renderError,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      resourceIndicators: {
        enabled: true,
        // The resources the scope names. Zero leaves oidc-provider's default (an opaque token,
        // no audience). An authorization request may name several (a web app's sign-in names
        // both APIs, see addConfiguredApiScopes); a token request naming two or more is refused
        // with invalid_target. `oneOf`: a code or refresh token's resources, of which a token
        // request picks the one its scope names, or else the first (the one the sign-in asked
        // for: the code's access token is for it).
        defaultResource(ctx, client, oneOf) {
          const resources = resourcesFromScope(ctx.oidc.params.scope);
          if (oneOf && resources.length === 0) return oneOf[0];
          return resources.length === 1 ? resources[0] : resources;
        },
        // JWT access tokens carry sub = the user's account id, or the client id for client
        // credentials (models/formats/jwt.js: `sub: accountId || clientId`).
        getResourceServerInfo(ctx, resource) {
          if (!Object.hasOwn(RESOURCES, resource)) throw new errors.InvalidTarget();
          return resourceServerInfo(resource);
        },
        // Code and refresh token requests name no `resource` (MSAL sends none): their access
        // token is for the resource the authorization request (or the refresh's scope) asked
        // for, not for userinfo.
        useGrantedResource: () => true,
      },
    },
  };
}

/**
 * oidc-provider drops `offline_access` from an authorization request unless `prompt` includes
 * `consent`; Entra issues a refresh token whenever `offline_access` is asked for. Consent is
 * given automatically here, so asking for it (beside any other prompt but `none`, which must
 * stand alone) changes nothing else. Malformed requests are left for oidc-provider to refuse.
 */
function keepOfflineAccess(query) {
  if (query.getAll('prompt').length > 1 || query.getAll('scope').length !== 1) return;
  const prompts = (query.get('prompt') ?? '').split(' ').filter(Boolean);
  if (!query.get('scope').split(' ').includes('offline_access')) return;
  if (prompts.includes('consent') || prompts.includes('none')) return;
  query.set('prompt', [...prompts, 'consent'].join(' '));
}

/**
 * On Entra, a web app's consent covers every API permission configured for it, and its refresh
 * token then gets tokens for any of those APIs. oidc-provider keeps a refresh token to the
 * scopes and resources its authorization request named; so a sign-in by a web app client that
 * names one of its APIs is made to ask for the other APIs' scopes too (appended: the code's
 * access token stays for the API named first). Consent, automatic, covers them all.
 */
function addConfiguredApiScopes(query) {
  const apis = API_PERMISSIONS[query.get('client_id')];
  if (!apis || query.getAll('client_id').length !== 1 || query.getAll('scope').length !== 1) return;
  const scopes = query.get('scope').split(' ').filter(Boolean);
  const named = resourcesFromScope(query.get('scope'));
  if (named.length === 0) return;
  const more = apis.filter((api) => !named.includes(api)).flatMap(resourceScopes);
  query.set('scope', [...scopes, ...more].join(' '));
}

/** Rewrites an authorization request (GET) before oidc-provider reads it; see the two above. */
function adjustAuthorizationRequest(ctx) {
  const query = new URLSearchParams(ctx.querystring);
  const before = query.toString();
  keepOfflineAccess(query);
  addConfiguredApiScopes(query);
  if (query.toString() !== before) ctx.querystring = query.toString();
}

/** Test controls and the token endpoint's counting and thumbprint gate, ahead of oidc-provider. */
async function testbedMiddleware(ctx, next) {
  if (ctx.path === '/__testbed/stats' && ctx.method === 'GET') {
    ctx.body = stats;
    return;
  }
  if (ctx.path === '/__testbed/issued' && ctx.method === 'GET') {
    ctx.body = { tokens: issued };
    return;
  }
  if (ctx.path === '/__testbed/reset' && ctx.method === 'POST') {
    stats = emptyStats();
    ctx.status = 204;
    return;
  }
  if (ctx.path === AUTHORIZATION_PATH && ctx.method === 'GET') adjustAuthorizationRequest(ctx);
  if (ctx.method === 'GET' && ctx.path.endsWith('/.well-known/openid-configuration')) stats.discovery_requests += 1;
  if (ctx.method === 'GET' && ctx.path.endsWith('/jwks')) stats.jwks_requests += 1;
  if (ctx.path !== TOKEN_PATH || ctx.method !== 'POST') {
    await next();
    return;
  }

  const raw = await readBody(ctx.req);
  // The stream is consumed: oidc-provider reads the body from here instead (it logs a one-time
  // notice about an upstream parser).
  ctx.request.body = raw;
  const params = new URLSearchParams(ctx.is('application/x-www-form-urlencoded') ? raw : '');
  const request = describeTokenRequest(params, ctx.get('authorization'));
  countTokenRequest(request);
  if (request.grant === OBO_GRANT_NAME && params.get('claims')) countOboClaims(params.get('claims'));

  const assertion = params.get('client_assertion');
  const refusal = assertion && thumbprintRefusal(assertion, params.get('client_id') ?? undefined);
  if (refusal) {
    ctx.status = 401;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: 'invalid_client', error_description: refusal };
  } else {
    await next();
    if (ctx.status === 200) recordIssued(ctx.body);
  }
  bump(stats.by_grant_outcome, `${request.grant}:${ctx.status}`);
  const outcome = refusal ? `${ctx.status} (${refusal})` : ctx.status;
  console.log(`token request client=${request.clientId} grant=${request.grant} auth=${request.auth} -> ${outcome}`);
}

// --- on-behalf-of (Entra's OAuth 2.0 On-Behalf-Of flow) ----------------------------------

/** Entra's timestamp format in error responses: `2026-11-21 13:09:24Z`. */
const entraTimestamp = () => new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

/**
 * Answers a token request with an error in Entra's shape: `error`, `error_description`
 * (`AADSTSnnnnn: ...` then trace id, correlation id and timestamp), `error_codes`, `timestamp`,
 * `trace_id`, `correlation_id`, `error_uri`, and `extra` (`suberror`, `claims`). The AADSTS
 * codes are Entra's for the same conditions; the texts are shortened.
 */
function answerEntraError(ctx, { status = 400, error, code, description, extra = {} }) {
  const traceId = randomUUID();
  const correlationId = /^[\w-]{1,64}$/.test(ctx.get('client-request-id')) ? ctx.get('client-request-id') : randomUUID();
  const timestamp = entraTimestamp();
  ctx.status = status;
  ctx.body = {
    error,
    error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `${ctx.oidc.provider.issuer}/error?code=${code}`,
    ...extra,
  };
  console.log(`on-behalf-of refused: ${error} AADSTS${code}${extra.suberror ? ` (${extra.suberror})` : ''}`);
}

const missingParameter = (name) => ({
  error: 'invalid_request',
  code: 900144,
  description: `The request body must contain the following parameter: '${name}'.`,
});

/**
 * Why an assertion's verification failed, as Entra words it: expired (AADSTS500133), bad
 * signature (AADSTS50013), or not a JWT access token of this issuer (AADSTS50027).
 */
function assertionRefusal(err) {
  if (err?.code === 'ERR_JWT_EXPIRED') {
    return {
      error: 'invalid_grant',
      code: 500133,
      description: 'Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token.',
    };
  }
  if (err?.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') {
    return { error: 'invalid_grant', code: 50013, description: 'Assertion failed signature validation.' };
  }
  return { error: 'invalid_grant', code: 50027, description: 'JWT token is invalid or malformed.' };
}

/**
 * The on-behalf-of grant (`urn:ietf:params:oauth:grant-type:jwt-bearer` with
 * `requested_token_use=on_behalf_of`), as Entra implements it. The client has authenticated
 * (oidc-provider did it, as for any grant) and may use the grant. The `assertion` must be an
 * access token (`typ: at+jwt`) of this provider (signature with its own key, `iss`, `exp`)
 * whose `aud` is the calling client (its id or App ID URI: `webapi` <-> `api://webapi`) and
 * whose `sub` is a test user; the `scope` must name one resource the client is configured for.
 * The answer: a JWT access token for that resource, same `sub`, `azp` = the client, `scp`, life
 * ACCESS_TOKEN_TTL; no refresh token. A user whose conditional access requires MFA (carol) gets
 * `interaction_required` with a claims challenge instead, `claims` parameter or not.
 */
function onBehalfOfGrant(verificationKey) {
  return async function onBehalfOf(ctx) {
    const { params, client } = ctx.oidc;
    for (const name of ['requested_token_use', 'assertion', 'scope']) {
      if (!params[name]) {
        answerEntraError(ctx, missingParameter(name));
        return;
      }
    }
    if (params.requested_token_use !== 'on_behalf_of') {
      answerEntraError(ctx, {
        error: 'invalid_request', code: 9002313, description: "Invalid request: requested_token_use must be 'on_behalf_of'.",
      });
      return;
    }

    let claims;
    try {
      ({ payload: claims } = await jwtVerify(params.assertion, verificationKey, {
        issuer: ctx.oidc.provider.issuer, algorithms: ['RS256'], typ: 'at+jwt',
      }));
    } catch (err) {
      answerEntraError(ctx, assertionRefusal(err));
      return;
    }
    const audiences = [claims.aud].flat();
    const expected = [client.clientId, APP_ID_URIS[client.clientId]].filter(Boolean);
    if (!audiences.some((aud) => expected.includes(aud))) {
      answerEntraError(ctx, {
        error: 'invalid_grant',
        code: 50013,
        description: `Assertion audience does not match the Client app presenting the assertion (assertion audience is not this client). The audience in the assertion was '${audiences.join(' ')}' and the expected audience is '${expected.join("' or '")}'.`,
      });
      return;
    }
    if (!isUser(claims.sub)) {
      answerEntraError(ctx, {
        error: 'invalid_grant', code: 50034, description: 'The user account of the assertion does not exist: the assertion must be a user\'s (delegated) access token.',
      });
      return;
    }
    bump(stats.obo_subjects, claims.sub);

    const resources = resourcesFromScope(params.scope);
    const [resource] = resources;
    const requested = params.scope.split(' ').filter((value) => resources.includes(value.slice(0, value.lastIndexOf('/'))));
    if (resources.length !== 1 || !Object.hasOwn(RESOURCES, resource)
      || !requested.every((value) => resourceScopes(resource).includes(value))) {
      answerEntraError(ctx, {
        error: 'invalid_scope', code: 70011, description: "The provided value for the input parameter 'scope' is not valid: it must name scopes of one known resource.",
      });
      return;
    }
    if (!(API_PERMISSIONS[client.clientId] ?? []).includes(resource)) {
      answerEntraError(ctx, {
        error: 'invalid_grant',
        code: 65001,
        description: `The user or administrator has not consented to use the application with ID '${client.clientId}' for resource '${resource}'.`,
        extra: { suberror: 'consent_required' },
      });
      return;
    }
    if (mfaRequired(claims.sub)) {
      answerEntraError(ctx, {
        error: 'interaction_required',
        code: 50079,
        description: `Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access '${resource}'.`,
        extra: { claims: MFA_CLAIMS_CHALLENGE },
      });
      return;
    }

    const scope = requested.join(' ');
    const token = new ctx.oidc.provider.AccessToken({
      accountId: claims.sub, client, scope, gty: OBO_GRANT_NAME,
    });
    token.resourceServer = new ctx.oidc.provider.ResourceServer(resource, resourceServerInfo(resource));
    const accessToken = await token.save();
    console.log(`on-behalf-of: ${client.clientId} for ${claims.sub} -> ${resource} (${scope})`);
    ctx.body = {
      token_type: 'Bearer',
      scope,
      expires_in: token.expiration,
      ext_expires_in: token.expiration,
      access_token: accessToken,
    };
  };
}

const server = http.createServer();
server.listen(port, '127.0.0.1');
await once(server, 'listening');
const ownUrl = `http://127.0.0.1:${server.address().port}`;
const issuer = process.env.PROVIDER_ISSUER || ownUrl;
if (issuer !== ownUrl) console.log(`provider listening ${ownUrl}`);

const { signingJwk, publicKey } = await newSigningKeys();
const provider = new Provider(issuer, configuration(signingJwk));
// `claims` (a claims challenge to satisfy) and MSAL's `client_info` are accepted and ignored.
provider.registerGrantType(JWT_BEARER, onBehalfOfGrant(publicKey), ['assertion', 'requested_token_use', 'scope', 'claims', 'client_info']);
provider.use(testbedMiddleware);
provider.use(interactionRoutes(provider, { onSignIn: (username) => bump(stats.sign_ins, username) }));
// oidc-provider keeps why a client failed out of the response; the log is where to look.
provider.on('grant.error', (ctx, err) => {
  if (err.error_detail === 'refresh token already used') stats.refresh_token_reuse += 1;
  console.log(`token error ${err.error}: ${err.error_description}${err.error_detail ? ` (${err.error_detail})` : ''}`);
});
provider.on('authorization.error', (ctx, err) => {
  console.log(`authorization error ${err.error}: ${err.error_description}${err.error_detail ? ` (${err.error_detail})` : ''}`);
});
provider.on('end_session.success', () => { stats.end_sessions += 1; });
provider.on('server_error', (ctx, err) => console.error('server error', err));
server.on('request', provider.callback());

console.log(`provider ready ${issuer}`);
