// Per-scope user consent, the way Entra asks for it when an app requests scopes dynamically
// (CONSENT_MODE=per-scope; the default, `configured`, is Entra after an administrator granted
// every configured permission: a sign-in consents to everything, see provider.mjs).
//
// - The provider remembers, per user and client, the API scopes the user consented to (by full
//   name, e.g. `api://webapi/access_as_user`; `{resource}/.default` stands for every delegated
//   scope of the resource).
// - An authorization request asking for an API scope the user has not consented to shows a
//   consent page listing exactly those scopes (`#consent-accept`, `#consent-decline`); each
//   page shown is counted (`consent_prompts`, and `consent_prompts_by_user`). Accepting records
//   them; declining answers the app `access_denied`.
// - A refresh token grant for an API scope the user has not consented to is refused as Entra
//   refuses it: 400 `invalid_grant`, AADSTS65001, `suberror: consent_required`, whatever the
//   refresh token's own scopes (on Entra a refresh token serves every consented scope).
//
// provider.mjs still appends the client's other configured APIs' scopes to a sign-in (so
// refresh tokens can reach every API, as Entra's do); what the app itself asked for is
// remembered here by `client_id` and `state`, and only that is offered for consent.
import { interactionPolicy } from 'oidc-provider';

import { resourcesFromScope, RESOURCES } from './provider-config.mjs';

const { Check } = interactionPolicy;

export const PER_SCOPE = process.env.CONSENT_MODE === 'per-scope';

/** `${accountId} ${clientId}` -> Set of consented API scopes. */
const consents = new Map();
/** `${clientId} ${state}` -> the API scopes the app's own authorization request named. */
const requested = new Map();
/** Bound on the remembered requests (old sign-ins are forgotten first). */
const MAX_REQUESTS = 10_000;

/** The API scopes (those naming a known resource) in a scope string. */
export function apiScopes(scope) {
  const resources = new Set(resourcesFromScope(scope).filter((r) => Object.hasOwn(RESOURCES, r)));
  return (scope ?? '').split(' ').filter((value) => resources.has(value.slice(0, value.lastIndexOf('/'))));
}

/** Remembers what the app asked for, before provider.mjs widens the request. */
export function rememberRequest(query) {
  if (!PER_SCOPE) return;
  const state = query.get('state');
  const clientId = query.get('client_id');
  if (!state || !clientId) return;
  requested.set(`${clientId} ${state}`, apiScopes(query.get('scope')));
  if (requested.size > MAX_REQUESTS) requested.delete(requested.keys().next().value);
}

function isConsented(accountId, clientId, scope) {
  const given = consents.get(`${accountId} ${clientId}`) ?? new Set();
  if (given.has(scope)) return true;
  const resource = scope.slice(0, scope.lastIndexOf('/'));
  // `.default`: everything of the resource; a named scope: covered by a consented `.default`.
  if (scope.endsWith('/.default')) return [...given].some((s) => s.startsWith(`${resource}/`));
  return given.has(`${resource}/.default`);
}

/** The API scopes of an authorization request (`clientId`, `state`) `accountId` has not consented to. */
export function missingConsent(accountId, clientId, state) {
  if (!PER_SCOPE || !accountId) return [];
  const wanted = requested.get(`${clientId} ${state}`) ?? [];
  return wanted.filter((scope) => !isConsented(accountId, clientId, scope));
}

/** Records `accountId`'s consent to `scopes` for `clientId`. */
export function recordConsent(accountId, clientId, scopes) {
  const key = `${accountId} ${clientId}`;
  consents.set(key, new Set([...(consents.get(key) ?? []), ...scopes]));
}

/** A check for oidc-provider's consent prompt: API scopes the user has not consented to. */
export function perScopeConsentCheck() {
  return new Check(
    'testbed_scope_consent',
    'the app asks for API scopes the user has not consented to',
    (ctx) => (missingConsent(ctx.oidc.session?.accountId, ctx.oidc.client?.clientId, ctx.oidc.params.state).length > 0
      ? Check.REQUEST_PROMPT
      : Check.NO_NEED_TO_PROMPT),
  );
}

/**
 * For a refresh token grant: the scopes of `scope` the refresh token's user has not consented
 * to, or [] (also when the refresh token is unknown: oidc-provider refuses it then).
 */
export async function unconsentedRefresh(provider, refreshTokenValue, scope) {
  if (!PER_SCOPE || !refreshTokenValue) return [];
  const refreshToken = await provider.RefreshToken.find(refreshTokenValue, { ignoreExpiration: true });
  if (!refreshToken) return [];
  return apiScopes(scope).filter((s) => !isConsented(refreshToken.accountId, refreshToken.clientId, s));
}
