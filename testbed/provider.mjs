// A real OpenID Provider (panva's oidc-provider) for edge-token's tests and demo.
//
// It issues JWT access tokens for one resource, `api://downstream`, asked for the way
// Microsoft Entra clients (MSAL) ask: `scope=api://downstream/.default` (or
// `api://downstream/user.read`) and no `resource` parameter.
// - Daemons (client credentials): tokens with `sub` = the client id.
// - Web apps (authorization code with PKCE S256, required): users sign in (see
//   lib/interactions.mjs: a `login_hint` naming a test user needs no page), consent is automatic,
//   and the code gives an ID token (`name`, `preferred_username`, `email`, `nonce`), a delegated
//   access token for `api://downstream` (`sub` = the user) and, when `offline_access` is asked
//   for, a refresh token. Refresh tokens rotate on every use; a used one is refused and its
//   whole grant revoked. RP-initiated logout needs no click and returns to the registered
//   post-logout URI.
// Clients authenticate with a secret (post or basic) or with a certificate-bound
// `private_key_jwt` assertion, which, as on Entra, names its certificate by thumbprint
// (`x5t#S256` or `x5t`) instead of `kid`.
//
// Beside the standard endpoints it serves test controls: GET /__testbed/stats counts token
// requests and sign-ins, POST /__testbed/reset zeroes the counts.
//
// Env: PROVIDER_PORT (default 9400, 0 = any free port), ACCESS_TOKEN_TTL (seconds, default 3600;
// every access token), WEBAPP_REDIRECT_URIS and WEBAPP_POST_LOGOUT_REDIRECT_URIS (space-separated;
// default the Worker on 127.0.0.1:8787: `/auth/callback` and `/`).
// Listens on 127.0.0.1 only; prints `provider ready <issuer>` once listening.
import { once } from 'node:events';
import http from 'node:http';

import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import Provider, { errors } from 'oidc-provider';

import { clients, credentials, describeCertificate } from './lib/credentials.mjs';
import { integerFromEnv, listFromEnv } from './lib/env.mjs';
import {
  interactionRoutes, interactionsPolicy, logoutSource, postLogoutSuccessSource, renderError,
} from './lib/interactions.mjs';
import { isUser, userClaims } from './lib/users.mjs';

const TOKEN_PATH = '/token';
const AUTHORIZATION_PATH = '/authorize';
const RESOURCE = 'api://downstream';
/** The resource's scopes: Entra's `.default` (everything consented) and one delegated scope. */
const RESOURCE_SCOPES = [`${RESOURCE}/.default`, `${RESOURCE}/user.read`];
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
  redirect_uris: webappRedirectUris,
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
 * assertion alg) and when answered (`by_grant_outcome`: "grant:status"). Also counted: refresh
 * tokens presented again after use (`refresh_token_reuse`), sign-ins by user, and completed
 * RP-initiated logouts.
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
  };
}
let stats = emptyStats();
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
  return { clientId: clientId ?? '(unknown)', grant: params.get('grant_type') ?? '(none)', auth, assertionAlg };
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
 * `api://downstream/user.read`) asks for resource `{resource}`. Returns the distinct resources.
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

/** oidc-provider's account model over the test users: account id = `sub` = username. */
function findAccount(ctx, sub) {
  if (!isUser(sub)) return undefined;
  return { accountId: sub, claims: () => userClaims(sub) };
}

async function configuration() {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig' };

  return {
    clients: clientMetadata,
    jwks: { keys: [signingKey] },
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
    renderError,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      resourceIndicators: {
        enabled: true,
        // Zero resources leaves oidc-provider's default (an opaque token, no audience); two or
        // more it refuses with invalid_target.
        defaultResource(ctx) {
          const resources = resourcesFromScope(ctx.oidc.params.scope);
          return resources.length === 1 ? resources[0] : resources;
        },
        // JWT access tokens carry sub = the user's account id, or the client id for client
        // credentials (models/formats/jwt.js: `sub: accountId || clientId`).
        getResourceServerInfo(ctx, resource) {
          if (resource !== RESOURCE) throw new errors.InvalidTarget();
          return {
            audience: RESOURCE,
            scope: RESOURCE_SCOPES.join(' '),
            accessTokenFormat: 'jwt',
            accessTokenTTL: accessTokenTtl,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
        // Code and refresh token requests name no `resource` (MSAL sends none): their access
        // token is for the resource the authorization request asked for, not for userinfo.
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
function keepOfflineAccess(ctx) {
  const query = new URLSearchParams(ctx.querystring);
  if (query.getAll('prompt').length > 1 || query.getAll('scope').length !== 1) return;
  const prompts = (query.get('prompt') ?? '').split(' ').filter(Boolean);
  if (!query.get('scope').split(' ').includes('offline_access')) return;
  if (prompts.includes('consent') || prompts.includes('none')) return;
  query.set('prompt', [...prompts, 'consent'].join(' '));
  ctx.querystring = query.toString();
}

/** Test controls and the token endpoint's counting and thumbprint gate, ahead of oidc-provider. */
async function testbedMiddleware(ctx, next) {
  if (ctx.path === '/__testbed/stats' && ctx.method === 'GET') {
    ctx.body = stats;
    return;
  }
  if (ctx.path === '/__testbed/reset' && ctx.method === 'POST') {
    stats = emptyStats();
    ctx.status = 204;
    return;
  }
  if (ctx.path === AUTHORIZATION_PATH && ctx.method === 'GET') keepOfflineAccess(ctx);
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

  const assertion = params.get('client_assertion');
  const refusal = assertion && thumbprintRefusal(assertion, params.get('client_id') ?? undefined);
  if (refusal) {
    ctx.status = 401;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: 'invalid_client', error_description: refusal };
  } else {
    await next();
  }
  bump(stats.by_grant_outcome, `${request.grant}:${ctx.status}`);
  const outcome = refusal ? `${ctx.status} (${refusal})` : ctx.status;
  console.log(`token request client=${request.clientId} grant=${request.grant} auth=${request.auth} -> ${outcome}`);
}

const server = http.createServer();
server.listen(port, '127.0.0.1');
await once(server, 'listening');
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, await configuration());
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
