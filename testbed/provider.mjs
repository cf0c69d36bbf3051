// A real OpenID Provider (panva's oidc-provider) for edge-token's tests and demo.
//
// It issues JWT access tokens for two resources, the downstream API `api://downstream` and the
// web API `api://webapi`, asked for the way Microsoft Entra clients (MSAL) ask:
// `scope=api://downstream/.default` (or `api://downstream/user.read`,
// `api://webapi/access_as_user`) and no `resource` parameter. Every access token carries, beside
// `sub`, `scope`, `client_id`, Entra's `azp` (the client that asked) and, for a user, `scp`
// (the short names of the delegated scopes granted: `user.read`, `access_as_user`; `.default`
// stands for all of the resource's delegated scopes).
// - Daemons (client credentials): tokens with `sub` = the client id and Entra's optional claim
//   `idtyp: 'app'`. A third resource, the daemon's own API `api://daemon` (no delegated scopes;
//   `scope=api://daemon/.default`), has app roles: client credentials tokens for it carry
//   Entra's `roles` claim with the roles assigned to the client (lib/credentials.mjs
//   `daemonApi`: `daemon-caller` holds `Daemon.Call`, `daemon-caller-norole` only
//   `Reports.Read`), for callers of `/daemon/call`. Likewise `webapi-caller` holds
//   `Profiles.Read.All` (`webapiAppRole`) on `api://webapi` (`roles`, no `scp`); the web API
//   client `webapi` itself may get client credentials tokens for `api://downstream`.
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
// - Tenants (lib/tenants.mjs, which documents them): two Entra-like tenants
//   (lib/credentials.mjs `tenants`) on the same port, issuer `{base}/{tid}/v2.0`, token endpoint
//   `{base}/{tid}/oauth2/v2.0/token` (client credentials, after the tenant admin's consent;
//   before it, 400 invalid_client AADSTS7000229), tokens with `tid`, `appid`, `oid`; and the v2
//   admin consent endpoint `GET {base}/{tenant}/v2.0/adminconsent`. Resources, clients, claims
//   and oidc-provider's configuration are shared with the root issuer (lib/provider-config.mjs).
//
// Beside the standard endpoints it serves test controls: GET /__testbed/stats counts token
// requests (on-behalf-of ones too) and sign-ins, and, per tenant id, `by_tenant` (`token_requests`,
// `by_client`, `by_grant_outcome`, `missing_consent`) and `admin_consents` (consents granted);
// POST /__testbed/reset zeroes the counts (consents stay); POST /__testbed/tenants/reset
// forgets every tenant's admin consents; GET /__testbed/issued lists every access, refresh and
// ID token the token endpoints (root and tenants) issued (the last 10,000; not reset), for tests
// that check no token is stored readable; GET /__testbed/logout-tokens lists the back-channel
// logout tokens it sent (lib/logout-channels.mjs, which also serves front-channel logout).
//
// Env: PROVIDER_PORT (default 9400, 0 = any free port), ACCESS_TOKEN_TTL (seconds, default 3600;
// every access token), CONSENT_MODE (`configured`, the default: a sign-in consents to every API
// the client is configured for; `per-scope`: users consent to API scopes one request at a time
// on a consent page, and a refresh for a scope not consented to is refused with Entra's
// consent_required, see lib/consent.mjs; stats `consent_prompts`, `consent_prompts_by_user`), WEBAPP_REDIRECT_URIS and WEBAPP_POST_LOGOUT_REDIRECT_URIS (space-separated;
// default the Worker on 127.0.0.1:8787: `/auth/callback` and `/`; the test bed's own
// TOKEN_HELPER_REDIRECT_URI is registered too), ADMIN_CONSENT_REDIRECT_URIS (space-separated;
// where admin consent may return, for every client; default
// http://127.0.0.1:8787/admin-consent/callback, and TOKEN_HELPER_REDIRECT_URI), PROVIDER_ISSUER (the public issuer URL when the
// provider sits behind a proxy, e.g. fault-proxy.mjs; default its own http://127.0.0.1:<port>;
// the tenants' issuers are under it too), WEBAPP_FRONTCHANNEL_LOGOUT_URI and
// WEBAPP_BACKCHANNEL_LOGOUT_URI (the web app clients' logout notifications; default none),
// TOKEN_SIGNING_ALG (`RS256` default, or `ES256`: ID
// tokens and access tokens for the web API and the daemon's API are signed with a P-256 key
// published beside the RSA one, which still signs the downstream's tokens).
// Listens on 127.0.0.1 only; prints `provider ready <issuer>` once listening (behind a proxy,
// `provider listening <own url>` first).
import { once } from 'node:events';
import http from 'node:http';

import { jwtVerify } from 'jose';
import Provider from 'oidc-provider';

import { integerFromEnv, listFromEnv } from './lib/env.mjs';
import { rememberRequest, unconsentedRefresh } from './lib/consent.mjs';
import { interactionRoutes } from './lib/interactions.mjs';
import {
  acceptAssertionReuse, answerEntraError, API_PERMISSIONS, APP_ID_URIS, AUTHORIZATION_PATH, bump, configuration,
  describeTokenRequest, JWT_BEARER, newSigningKeys, OBO_GRANT_NAME, readBody, RESOURCES,
  resourceScopes, resourceServerInfo, resourcesFromScope, thumbprintRefusal, TOKEN_PATH, tokenSigningAlg,
} from './lib/provider-config.mjs';
import { frontChannelLogout, sentLogoutTokens } from './lib/logout-channels.mjs';
import { createTenants } from './lib/tenants.mjs';
import { isUser, MFA_CLAIMS_CHALLENGE, mfaRequired } from './lib/users.mjs';

const port = integerFromEnv('PROVIDER_PORT', 9400);
const adminConsentRedirectUris = listFromEnv('ADMIN_CONSENT_REDIRECT_URIS', ['http://127.0.0.1:8787/admin-consent/callback']);
/** The tenants' issuers (lib/tenants.mjs), created once the server's URL is known. */
let tenants;

// --- token request statistics -----------------------------------------------------------

/**
 * Token requests are counted when they arrive (by client, grant, client authentication,
 * assertion alg) and when answered (`by_grant_outcome`: "grant:status"); the on-behalf-of grant
 * is counted as `on_behalf_of`. Also counted: refresh tokens presented again after use
 * (`refresh_token_reuse`), client assertions presented again within their lifetime and
 * accepted, as on Entra (`assertion_reuse`, see acceptAssertionReuse), sign-ins by user, completed RP-initiated logouts, on-behalf-of
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
    assertion_reuse: 0,
    sign_ins: {},
    end_sessions: 0,
    obo_subjects: {},
    obo_with_claims: 0,
    obo_with_capabilities: 0,
    discovery_requests: 0,
    jwks_requests: 0,
    consent_prompts: 0,
    consent_prompts_by_user: {},
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


function countTokenRequest({ clientId, grant, auth, assertionAlg }) {
  stats.token_requests += 1;
  bump(stats.by_client, clientId);
  bump(stats.by_grant, grant);
  bump(stats.by_auth, auth);
  if (assertionAlg) bump(stats.by_assertion_alg, assertionAlg);
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
  rememberRequest(query);
  addConfiguredApiScopes(query);
  if (query.toString() !== before) ctx.querystring = query.toString();
}

/** Test controls and the token endpoint's counting and thumbprint gate, ahead of oidc-provider. */
async function testbedMiddleware(ctx, next) {
  if (ctx.path === '/__testbed/stats' && ctx.method === 'GET') {
    ctx.body = { ...stats, ...tenants.stats() };
    return;
  }
  if (ctx.path === '/__testbed/tenants/reset' && ctx.method === 'POST') {
    tenants.resetConsents();
    ctx.status = 204;
    return;
  }
  if (ctx.path === '/__testbed/issued' && ctx.method === 'GET') {
    ctx.body = { tokens: issued };
    return;
  }
  if (ctx.path === '/__testbed/logout-tokens' && ctx.method === 'GET') {
    ctx.body = { tokens: sentLogoutTokens };
    return;
  }
  if (ctx.path === '/__testbed/reset' && ctx.method === 'POST') {
    stats = emptyStats();
    tenants.resetStats();
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
  const unconsented = request.grant === 'refresh_token'
    ? await unconsentedRefresh(provider, params.get('refresh_token'), params.get('scope'))
    : [];
  if (refusal) {
    ctx.status = 401;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: 'invalid_client', error_description: refusal };
  } else if (unconsented.length > 0) {
    // CONSENT_MODE=per-scope (lib/consent.mjs): Entra's answer for scopes never consented to.
    answerEntraError(ctx, {
      error: 'invalid_grant',
      code: 65001,
      description: `The user or administrator has not consented to use the application with ID '${request.clientId}'. Send an interactive authorization request for this user and resource.`,
      extra: { suberror: 'consent_required' },
      issuer: provider.issuer,
    });
    ctx.set('Cache-Control', 'no-store');
  } else {
    await next();
    if (ctx.status === 200) recordIssued(ctx.body);
  }
  bump(stats.by_grant_outcome, `${request.grant}:${ctx.status}`);
  const outcome = refusal ? `${ctx.status} (${refusal})` : ctx.status;
  console.log(`token request client=${request.clientId} grant=${request.grant} auth=${request.auth} -> ${outcome}`);
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
function onBehalfOfGrant(publicKeys) {
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
      ({ payload: claims } = await jwtVerify(params.assertion, ({ alg }) => publicKeys[alg], {
        issuer: ctx.oidc.provider.issuer, algorithms: [tokenSigningAlg], typ: 'at+jwt',
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

tenants = await createTenants({ baseUrl: issuer, adminConsentRedirectUris, onIssued: recordIssued });
const { signingJwks, publicKeys } = await newSigningKeys();
const provider = new Provider(issuer, configuration(signingJwks));
acceptAssertionReuse(provider, () => { stats.assertion_reuse += 1; });
// `claims` (a claims challenge to satisfy) and MSAL's `client_info` are accepted and ignored.
provider.registerGrantType(JWT_BEARER, onBehalfOfGrant(publicKeys), ['assertion', 'requested_token_use', 'scope', 'claims', 'client_info']);
provider.use(testbedMiddleware);
provider.use(frontChannelLogout(provider));
provider.use(interactionRoutes(provider, {
  onSignIn: (username) => bump(stats.sign_ins, username),
  onConsentPrompt: (username) => {
    stats.consent_prompts += 1;
    bump(stats.consent_prompts_by_user, username);
  },
}));
// oidc-provider keeps why a client failed out of the response; the log is where to look.
provider.on('grant.error', (ctx, err) => {
  if (err.error_detail === 'refresh token already used') stats.refresh_token_reuse += 1;
  console.log(`token error ${err.error}: ${err.error_description}${err.error_detail ? ` (${err.error_detail})` : ''}`);
});
provider.on('authorization.error', (ctx, err) => {
  console.log(`authorization error ${err.error}: ${err.error_description}${err.error_detail ? ` (${err.error_detail})` : ''}`);
});
provider.on('end_session.success', () => { stats.end_sessions += 1; });
provider.on('backchannel.success', (ctx, client) => console.log(`back-channel logout: ${client.clientId} -> 200`));
provider.on('backchannel.error', (ctx, err, client) => console.log(`back-channel logout: ${client.clientId} failed: ${err.message}`));
provider.on('server_error', (ctx, err) => console.error('server error', err));
const root = provider.callback();
server.on('request', (req, res) => tenants.handle(req, res) || root(req, res));

console.log(`provider ready ${issuer}`);
