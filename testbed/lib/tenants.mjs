// Entra-like tenants served by the provider beside its root issuer (the Microsoft identity
// platform's multi-tenant daemon scenario): one oidc-provider instance per tenant of
// lib/credentials.mjs `tenants`, mounted on the same server under `/{tenant id}` (a tenant's
// domain names it too), with Entra's v2 layout:
//   GET  /{tid}/v2.0/.well-known/openid-configuration   issuer `{base}/{tid}/v2.0`
//   POST /{tid}/oauth2/v2.0/token                        client credentials (oidc-provider's
//        client authentication: secret, or private_key_jwt behind the same thumbprint gate as the
//        root issuer's), for the clients that may use that grant at the root issuer
//   GET  /{tid}/discovery/v2.0/keys                      the tenant's own signing key
//   (/{tid}/oauth2/v2.0/authorize is published; no client of a tenant may use it)
// Access tokens: the root issuer's resource servers and claims (lib/provider-config.mjs), plus
// `tid`, `appid`, `idtyp: 'app'`, and `sub` = `oid` = the client's service principal in the
// tenant (a fixed GUID per tenant and client).
//
// Consent: a tenant answers a client's token requests only after the tenant's admin consented
// to the client; before, 400 `invalid_client` AADSTS7000229 (Entra's "missing service principal
// in the tenant"), counted (`missing_consent`). Consents live in memory, per tenant and client;
// nothing is pre-consented.
//
// The v2 admin consent endpoint: GET /{tenant}/v2.0/adminconsent?client_id&redirect_uri&scope&state
// with `{tenant}` a tenant id or domain, or `organizations` (the admin's tenant). `common` is
// refused with an error page: Entra's admin consent takes a tenant or `organizations`, never
// `common`. An unknown client or a `redirect_uri` not in ADMIN_CONSENT_REDIRECT_URIS (or the test
// bed's TOKEN_HELPER_REDIRECT_URI) gets an error page, no redirect. The admin signs in: a
// `login_hint` naming a tenant admin (lib/credentials.mjs `tenantAdmins`) needs no page;
// otherwise a page offers the admins and a field, with Accept and Cancel (a form POSTed back to
// the same path). An admin of another tenant than a named one gets an error page. Accept records
// the consent and redirects to `redirect_uri?admin_consent=True&tenant={tid}&scope={scope as
// sent}&state={state}` (Entra's documented success). Cancel (the form's, or `testbed_cancel=1`
// beside an admin's `login_hint`, for tests without a page) redirects to
// `redirect_uri?error=access_denied&error_description=AADSTS65004: User declined to consent to
// access the app.&state={state}`: `access_denied` is RFC 6749's code for a refused grant and the
// one Entra's authorization endpoints send with AADSTS65004 (its "user declined consent" code);
// the client credentials doc also shows `permission_denied` for the admin canceling, so clients
// should treat any `error` as a refusal. A missing `scope` (after client and redirect URI are
// valid) redirects with `error=invalid_request` (AADSTS900144).
import { hash } from 'node:crypto';

import Provider from 'oidc-provider';

import { tenantAdmins, tenants, TOKEN_HELPER_REDIRECT_URI } from './credentials.mjs';
import { escapeHtml, page } from './interactions.mjs';
import {
  acceptAssertionReuse, answerEntraError, bump, clientMetadata, configuration, describeTokenRequest,
  newSigningKeys, readBody, thumbprintRefusal,
} from './provider-config.mjs';

const ROUTES = {
  token: '/oauth2/v2.0/token',
  authorization: '/oauth2/v2.0/authorize',
  jwks: '/discovery/v2.0/keys',
};
const DISCOVERY = '/.well-known/openid-configuration';
/** The admin consent form: a few short fields. */
const FORM_LIMIT = 8 * 1024;

/** The clients a tenant knows: those allowed client credentials at the root, for that grant only. */
const tenantClients = clientMetadata
  .filter((client) => client.grant_types.includes('client_credentials'))
  .map(({ post_logout_redirect_uris: _ignored, ...client }) => ({
    ...client, grant_types: ['client_credentials'], response_types: [], redirect_uris: [],
  }));
const knownClient = (clientId) => tenantClients.some((client) => client.client_id === clientId);

/** A fixed GUID for the client's service principal in a tenant (its `oid` there). */
function servicePrincipalId(tenantId, clientId) {
  const hex = hash('sha256', `${tenantId}/${clientId}`, 'hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const emptyTenantStats = () => ({
  token_requests: 0, by_client: {}, by_grant_outcome: {}, missing_consent: 0,
});

/** The admins who may consent for `tenant` (a tenants entry, or undefined for `organizations`). */
const eligibleAdmins = (tenant) => Object.values(tenantAdmins).filter((admin) => !tenant || admin.tenant === tenant.id);
const adminNamed = (value) => Object.values(tenantAdmins)
  .find((admin) => admin.username.toLowerCase() === String(value ?? '').trim().toLowerCase());

/**
 * Creates the tenants' issuers under `baseUrl` (the provider's public URL, no trailing slash).
 * Returns `handle(req, res)` (true when it answered: a tenant path or admin consent), `stats()`
 * ({ by_tenant, admin_consents }), `resetStats()` and `resetConsents()`. `onIssued(body)` is told
 * of every successful token response.
 */
export async function createTenants({ baseUrl, adminConsentRedirectUris, onIssued = () => {} }) {
  const registeredRedirects = new Set([...adminConsentRedirectUris, TOKEN_HELPER_REDIRECT_URI]);
  /** tenant id -> client ids its admin consented to. */
  const consents = new Map(Object.values(tenants).map(({ id }) => [id, new Set()]));
  let byTenant = {};
  let adminConsents = {};
  const resetStats = () => {
    byTenant = Object.fromEntries(Object.values(tenants).map(({ id }) => [id, emptyTenantStats()]));
    adminConsents = Object.fromEntries(Object.values(tenants).map(({ id }) => [id, 0]));
  };
  resetStats();

  /** The token endpoint's counting, thumbprint gate and consent gate, ahead of oidc-provider. */
  const tokenMiddleware = (tenant) => async function tenantToken(ctx, next) {
    if (ctx.path !== ROUTES.token || ctx.method !== 'POST') {
      await next();
      return;
    }
    const counts = byTenant[tenant.id];
    const raw = await readBody(ctx.req);
    ctx.request.body = raw;
    const params = new URLSearchParams(ctx.is('application/x-www-form-urlencoded') ? raw : '');
    const request = describeTokenRequest(params, ctx.get('authorization'));
    counts.token_requests += 1;
    bump(counts.by_client, request.clientId);
    const assertion = params.get('client_assertion');
    const refusal = assertion && thumbprintRefusal(assertion, params.get('client_id') ?? undefined);
    let outcome;
    if (request.clientId !== '(unknown)' && !consents.get(tenant.id).has(request.clientId)) {
      counts.missing_consent += 1;
      answerEntraError(ctx, {
        error: 'invalid_client',
        code: 7000229,
        description: `The client application ${request.clientId} is missing service principal in the tenant ${tenant.id}.`,
        issuer: tenant.issuer,
      });
      ctx.set('Cache-Control', 'no-store');
      outcome = `${ctx.status} (no admin consent)`;
    } else if (refusal) {
      ctx.status = 401;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: 'invalid_client', error_description: refusal };
      outcome = `${ctx.status} (${refusal})`;
    } else {
      await next();
      if (ctx.status === 200) onIssued(ctx.body);
      outcome = ctx.status;
    }
    bump(counts.by_grant_outcome, `${request.grant}:${ctx.status}`);
    console.log(`tenant ${tenant.id} token request client=${request.clientId} grant=${request.grant} auth=${request.auth} -> ${outcome}`);
  };

  /** tenant id -> { id, domain, issuer, callback } */
  const issuers = new Map();
  for (const { id, domain } of Object.values(tenants)) {
    const tenant = {
      id, domain, issuer: `${baseUrl}/${id}/v2.0`, servicePrincipalId: (clientId) => servicePrincipalId(id, clientId),
    };
    const { signingJwks } = await newSigningKeys();
    const provider = new Provider(tenant.issuer, configuration(signingJwks, { tenant, clients: tenantClients, routes: ROUTES }));
    // As on Entra (and at the root issuer), a client assertion is accepted again within its lifetime.
    acceptAssertionReuse(provider, (clientId) => console.log(`tenant ${id} client assertion reused by ${clientId}`));
    provider.use(tokenMiddleware(tenant));
    provider.on('grant.error', (ctx, err) => {
      console.log(`tenant ${id} token error ${err.error}: ${err.error_description}${err.error_detail ? ` (${err.error_detail})` : ''}`);
    });
    provider.on('server_error', (ctx, err) => console.error(`tenant ${id} server error`, err));
    issuers.set(id, { ...tenant, callback: provider.callback() });
  }
  const tenantNamed = (segment) => {
    const lower = segment.toLowerCase();
    return [...issuers.values()].find((tenant) => tenant.id === lower || tenant.domain === lower);
  };

  // --- admin consent ----------------------------------------------------------------------

  function answerPage(res, status, title, body) {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(page(title, body));
  }
  const errorPage = (res, status, message) => answerPage(res, status, 'Admin consent error', `<h1>Sorry, but we're having trouble granting admin consent</h1>
<p id="error" role="alert">${escapeHtml(message)}</p>`);

  function redirectTo(res, redirectUri, params) {
    const url = new URL(redirectUri);
    for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== null) url.searchParams.append(name, value);
    res.writeHead(302, { location: url.href, 'cache-control': 'no-store' });
    res.end();
  }

  function consentPage(res, status, { segment, tenant, request, error }) {
    const hidden = ['client_id', 'redirect_uri', 'scope', 'state']
      .filter((name) => request[name] !== null)
      .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(request[name])}">`).join('\n');
    const admins = eligibleAdmins(tenant).map((admin) => (
      `<label><input type="radio" name="admin" value="${escapeHtml(admin.username)}"> ${escapeHtml(admin.name)} (${escapeHtml(admin.username)})</label><br>`
    )).join('\n');
    answerPage(res, status, 'Permissions requested', `
<h1>Permissions requested</h1>
<p><strong>${escapeHtml(request.client_id)}</strong> asks for <code>${escapeHtml(request.scope ?? '')}</code>
${tenant ? `in ${escapeHtml(tenant.domain)}` : 'in your organization'}. Accept on behalf of your organization?</p>
${error ? `<p id="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form id="consent" method="post" action="/${escapeHtml(encodeURIComponent(segment))}/v2.0/adminconsent">
${hidden}
${admins}
<label>Administrator <input id="admin" name="admin" autocomplete="username" value="${escapeHtml(request.login_hint ?? '')}"></label><br>
<button type="submit" id="accept" name="action" value="accept">Accept</button>
<button type="submit" id="cancel" name="action" value="cancel">Cancel</button>
</form>`);
  }

  async function adminConsent(req, res, segment) {
    let request;
    if (req.method === 'GET') {
      request = new URL(req.url, baseUrl).searchParams;
    } else if (req.method === 'POST') {
      const raw = await readBody(req);
      if (raw.length > FORM_LIMIT) throw Object.assign(new Error('form too large'), { status: 413 });
      request = new URLSearchParams(raw);
    } else {
      errorPage(res, 405, 'Method not allowed.');
      return;
    }
    const param = (name) => request.get(name);
    const fields = Object.fromEntries(['client_id', 'redirect_uri', 'scope', 'state', 'login_hint'].map((name) => [name, param(name)]));
    let tenant;
    if (segment.toLowerCase() !== 'organizations') {
      tenant = tenantNamed(segment);
      if (!tenant) {
        errorPage(res, 400, segment.toLowerCase() === 'common'
          ? "AADSTS90061: Admin consent needs a tenant or 'organizations', not 'common'."
          : `AADSTS90002: Tenant '${segment}' not found.`);
        return;
      }
    }
    if (!knownClient(fields.client_id)) {
      errorPage(res, 400, `AADSTS700016: Application with identifier '${fields.client_id ?? ''}' was not found in the directory.`);
      return;
    }
    if (!registeredRedirects.has(fields.redirect_uri)) {
      errorPage(res, 400, `AADSTS50011: The redirect URI '${fields.redirect_uri ?? ''}' specified in the request does not match the redirect URIs configured for the application '${fields.client_id}'.`);
      return;
    }
    const { state } = fields;
    if (!fields.scope) {
      redirectTo(res, fields.redirect_uri, {
        error: 'invalid_request',
        error_description: "AADSTS900144: The request body must contain the following parameter: 'scope'.",
        state,
      });
      return;
    }
    const cancel = () => {
      console.log(`admin consent for ${fields.client_id} in ${segment}: canceled`);
      redirectTo(res, fields.redirect_uri, {
        error: 'access_denied', error_description: 'AADSTS65004: User declined to consent to access the app.', state,
      });
    };
    const submitted = req.method === 'POST';
    if (submitted && param('action') === 'cancel') {
      cancel();
      return;
    }
    const admin = adminNamed(submitted ? param('admin') : fields.login_hint);
    if (!admin) {
      consentPage(res, submitted ? 400 : 200, {
        segment, tenant, request: fields, error: submitted ? `Unknown administrator: ${param('admin') ?? ''}` : undefined,
      });
      return;
    }
    if (tenant && admin.tenant !== tenant.id) {
      errorPage(res, 400, `AADSTS50020: User account '${admin.username}' does not exist in tenant '${tenant.domain}' and cannot grant admin consent there.`);
      return;
    }
    if (!submitted && param('testbed_cancel') === '1') {
      cancel();
      return;
    }
    if (submitted && param('action') !== 'accept') {
      consentPage(res, 400, { segment, tenant, request: fields, error: 'Choose Accept or Cancel.' });
      return;
    }
    consents.get(admin.tenant).add(fields.client_id);
    bump(adminConsents, admin.tenant);
    console.log(`admin consent for ${fields.client_id} in ${admin.tenant} by ${admin.username} (${fields.scope})`);
    redirectTo(res, fields.redirect_uri, {
      admin_consent: 'True', tenant: admin.tenant, scope: fields.scope, state,
    });
  }

  /** Answers a tenant path or the admin consent endpoint; false for anything else. */
  function handle(req, res) {
    const { pathname, search } = new URL(req.url, baseUrl);
    const match = /^\/([^/]+)(\/.*)$/.exec(pathname);
    if (!match) return false;
    const [, rawSegment, rest] = match;
    let segment;
    try {
      segment = decodeURIComponent(rawSegment);
    } catch {
      return false; // not a tenant: the root issuer answers 404
    }
    if (rest === '/v2.0/adminconsent') {
      adminConsent(req, res, segment).catch((err) => {
        console.error('admin consent error', err);
        if (!res.headersSent) errorPage(res, err.status ?? 500, err.status ? err.message : 'Internal error.');
      });
      return true;
    }
    const tenant = tenantNamed(segment);
    if (!tenant) return false;
    const inner = rest === `/v2.0${DISCOVERY}` ? DISCOVERY : rest;
    req.originalUrl = `/${tenant.id}${inner}${search}`;
    req.url = `${inner}${search}`;
    tenant.callback(req, res);
    return true;
  }

  return {
    handle,
    stats: () => ({ by_tenant: byTenant, admin_consents: adminConsents }),
    resetStats,
    resetConsents: () => { for (const set of consents.values()) set.clear(); },
  };
}
