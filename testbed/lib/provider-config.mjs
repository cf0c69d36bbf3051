// What the root issuer (provider.mjs) and the tenants' issuers (lib/tenants.mjs) share: the
// resources (Entra APIs) and their scopes and app roles, the client registrations, oidc-provider's
// configuration (resource servers, Entra's access token claims), the certificate thumbprint gate
// of client assertions, how a token request is described for the stats, and Entra's error shape.
import { randomUUID } from 'node:crypto';

import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { errors } from 'oidc-provider';

import {
  clients, credentials, daemonApi, describeCertificate, TOKEN_HELPER_REDIRECT_URI, webapiAppRole,
} from './credentials.mjs';
import { integerFromEnv, listFromEnv } from './env.mjs';
import { interactionsPolicy, logoutSource, postLogoutSuccessSource, renderError } from './interactions.mjs';
import { backchannelLogout, logoutConfiguration, webappLogoutMetadata } from './logout-channels.mjs';
import { isUser, userClaims } from './users.mjs';

export const TOKEN_PATH = '/token';
export const AUTHORIZATION_PATH = '/authorize';
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** What the on-behalf-of grant is counted as in the stats. */
export const OBO_GRANT_NAME = 'on_behalf_of';
export const DOWNSTREAM = 'api://downstream';
export const WEBAPI = clients.webapi.appIdUri;
/**
 * The resources (Entra: APIs, named by App ID URI) and their delegated scopes (short names).
 * A scope `{resource}/{name}` asks for one of them; `{resource}/.default`, as on Entra, for
 * everything consented: here, all of the resource's delegated scopes (`scp` lists them all).
 * `reports.read` exists so that a user token for the web API can lack `access_as_user`.
 */
export const RESOURCES = {
  [DOWNSTREAM]: ['user.read'],
  [WEBAPI]: ['access_as_user', 'reports.read'],
  [daemonApi.appIdUri]: [],
};
/** Resource -> client id -> the app roles assigned to that client (Entra "app role assignments"). */
export const APP_ROLES = {
  [daemonApi.appIdUri]: daemonApi.assignments,
  [WEBAPI]: { [clients.webapiCaller.clientId]: [webapiAppRole] },
};
/** A resource's scopes as the provider knows them: `.default` and each delegated scope, in full. */
export const resourceScopes = (resource) => [`${resource}/.default`, ...RESOURCES[resource].map((name) => `${resource}/${name}`)];
/**
 * The APIs each client is configured (and consented) for, as an Entra app registration's "API
 * permissions": a web app client's sign-in consents to all of them; the web API may ask for
 * these on behalf of a user.
 */
export const API_PERMISSIONS = {
  [clients.webapp.clientId]: [DOWNSTREAM, WEBAPI],
  [clients.webappCertificate.clientId]: [DOWNSTREAM, WEBAPI],
  [clients.webapi.clientId]: [DOWNSTREAM],
};
/** Client id -> App ID URI: the audiences of the assertions a client may exchange on-behalf-of. */
export const APP_ID_URIS = { [clients.webapi.clientId]: clients.webapi.appIdUri };
/** Same bound as oidc-provider's own body parser. */
const BODY_LIMIT = 56 * 1024;

export const accessTokenTtl = integerFromEnv('ACCESS_TOKEN_TTL', 3600);
/**
 * TOKEN_SIGNING_ALG: `RS256` (default) or `ES256` (a P-256 key joins the RSA one in `jwks`), the
 * `alg` of ID tokens and of access tokens for the web API and the daemon's API; the downstream's
 * stay RS256, so with ES256 the key set holds both kinds of keys.
 */
export const tokenSigningAlg = process.env.TOKEN_SIGNING_ALG || 'RS256';
if (!['RS256', 'ES256'].includes(tokenSigningAlg)) throw new Error(`TOKEN_SIGNING_ALG must be RS256 or ES256, got ${tokenSigningAlg}`);
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
  ...webappLogoutMetadata(),
  id_token_signed_response_alg: tokenSigningAlg,
};
export const clientMetadata = [
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
    // A caller of the web API with an app role on it (client credentials for api://webapi).
    ...daemon,
    client_id: clients.webapiCaller.clientId,
    client_secret: clients.webapiCaller.secret,
    token_endpoint_auth_method: 'client_secret_post',
  },
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
export function thumbprintRefusal(assertion, clientIdParam) {
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


/**
 * Makes `provider` accept a client assertion it has seen before, as Entra does, and tells
 * `onReuse(clientId)` each time. oidc-provider keeps the `jti` of every client assertion until
 * its `exp` and refuses one presented again ("client assertion tokens must only be used
 * once"); RFC 7523 §3 lets a server do so ("MAY") but does not require it, and Entra does not:
 * MSAL reuses the assertion it signed from a certificate (msal-node `ClientAssertion.getJwt`
 * until its `exp`; MSAL.NET 4.x while more than 5 minutes are left), and so does edge-token
 * (`CertificateCredential::assertion`: while more than 300 s of its 600 s are left). Everything
 * else about the assertion is still checked: signature, registered thumbprint, `iss`, `aud`,
 * `exp` and `nbf`. oidc-provider checks DPoP proof `jti`s with the same store: no test bed
 * client uses DPoP.
 */
export function acceptAssertionReuse(provider, onReuse = () => {}) {
  const replayDetection = provider.ReplayDetection;
  const firstUse = replayDetection.unique.bind(replayDetection);
  replayDetection.unique = async (clientId, jti, exp) => {
    if (!(await firstUse(clientId, jti, exp))) onReuse(clientId);
    return true;
  };
}


export const bump = (counts, key) => { counts[key] = (counts[key] ?? 0) + 1; };

/** Who asks and how, read from the raw request: no outcome is needed to count it. */
export function describeTokenRequest(params, authorization) {
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

export async function readBody(req) {
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
export function resourcesFromScope(scope) {
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
 * Entra's optional claim `idtyp: 'app'` and `roles`: the resource's app roles assigned to the
 * client, when there are any. A tenant's issuer (`tenant`: { id, servicePrincipalId(clientId) })
 * adds `tid`, `appid` and, for an app, `sub` = `oid` = the client's service principal there.
 */
export const entraAccessTokenClaims = (tenant) => function customizeJwt(ctx, token, jwt) {
  jwt.payload.azp = token.clientId;
  if (!token.accountId) jwt.payload.idtyp = 'app';
  if (tenant) {
    jwt.payload.tid = tenant.id;
    jwt.payload.appid = token.clientId;
    if (!token.accountId) {
      jwt.payload.sub = tenant.servicePrincipalId(token.clientId);
      jwt.payload.oid = jwt.payload.sub;
    }
  }
  const resource = token.resourceServer?.identifier();
  if (token.accountId && Object.hasOwn(RESOURCES, resource)) {
    const scp = shortScopes(resource, token.scope);
    if (scp) jwt.payload.scp = scp;
  }
  const assigned = !token.accountId && Object.hasOwn(APP_ROLES, resource) ? APP_ROLES[resource] : {};
  const roles = Object.hasOwn(assigned, token.clientId) ? assigned[token.clientId] : [];
  if (roles.length > 0) jwt.payload.roles = [...roles];
};

/** oidc-provider's account model over the test users: account id = `sub` = username. */
function findAccount(ctx, sub) {
  if (!isUser(sub)) return undefined;
  return { accountId: sub, claims: () => userClaims(sub) };
}

/** What getResourceServerInfo answers for a known resource. */
export function resourceServerInfo(resource) {
  return {
    audience: resource,
    scope: resourceScopes(resource).join(' '),
    accessTokenFormat: 'jwt',
    accessTokenTTL: accessTokenTtl,
    jwt: { sign: { alg: resource === DOWNSTREAM ? 'RS256' : tokenSigningAlg } },
  };
}

/**
 * The provider's signing keys: RS256 and, with TOKEN_SIGNING_ALG=ES256, ES256 too.
 * `signingJwks`: the private JWKs (oidc-provider's `jwks`); `publicKeys`: alg -> public key,
 * to verify the provider's own tokens (on-behalf-of assertions).
 */
export async function newSigningKeys() {
  const algs = [...new Set(['RS256', tokenSigningAlg])];
  const pairs = await Promise.all(algs.map((alg) => generateKeyPair(alg, { extractable: true })));
  return {
    signingJwks: await Promise.all(pairs.map(async ({ privateKey }, i) => ({ ...(await exportJWK(privateKey)), alg: algs[i], use: 'sig' }))),
    publicKeys: Object.fromEntries(pairs.map(({ publicKey }, i) => [algs[i], publicKey])),
  };
}

/**
 * oidc-provider's configuration: the root issuer's by default; a tenant's issuer gives its
 * `tenant` (for the claims, see entraAccessTokenClaims), its `clients` and `routes`.
 */
export function configuration(signingJwks, {
  tenant, clients: registered = clientMetadata, routes = { token: TOKEN_PATH, authorization: AUTHORIZATION_PATH },
} = {}) {
  return {
    clients: registered,
    jwks: { keys: signingJwks },
    routes,
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
    formats: { customizers: { jwt: entraAccessTokenClaims(tenant) } },
    renderError,
    ...logoutConfiguration,
    features: {
      backchannelLogout,
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

/** Entra's timestamp format in error responses: `2026-11-21 13:09:24Z`. */
const entraTimestamp = () => new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

/**
 * Answers a token request with an error in Entra's shape: `error`, `error_description`
 * (`AADSTSnnnnn: ...` then trace id, correlation id and timestamp), `error_codes`, `timestamp`,
 * `trace_id`, `correlation_id`, `error_uri`, and `extra` (`suberror`, `claims`). The AADSTS
 * codes are Entra's for the same conditions; the texts are shortened.
 */
export function answerEntraError(ctx, {
  status = 400, error, code, description, extra = {}, issuer = ctx.oidc.provider.issuer,
}) {
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
    error_uri: `${issuer}/error?code=${code}`,
    ...extra,
  };
  console.log(`refused: ${error} AADSTS${code}${extra.suberror ? ` (${extra.suberror})` : ''}`);
}

