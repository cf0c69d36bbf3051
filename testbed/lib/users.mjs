// Test users of the local OpenID Provider, shared by the provider (which signs them in) and the
// tests (which check what the ID and access tokens say about them). The account id is the
// username, and it is the `sub` of every token issued for the user.

/**
 * username -> profile. `preferred_username` is the email address, as Entra sends a UPN.
 * `mfaRequired`: a conditional access policy requires MFA for this user before a web API may
 * act on their behalf: the provider answers every on-behalf-of request for them with
 * `interaction_required` and a claims challenge (see provider.mjs). Signing in is not affected.
 */
export const users = {
  alice: { name: 'Alice Example', email: 'alice@example.test' },
  bob: { name: 'Bob Example', email: 'bob@example.test' },
  carol: { name: 'Carol Example', email: 'carol@example.test', mfaRequired: true },
};

/** True when `username` names a test user (and not something on Object.prototype). */
export function isUser(username) {
  return typeof username === 'string' && Object.hasOwn(users, username);
}

/**
 * The username a `login_hint` names: a username, or a user's email address (what Entra's
 * `login_hint` usually is, and what a web app has in `preferred_username`), in any case.
 */
export function userFromHint(hint) {
  if (typeof hint !== 'string') return undefined;
  const wanted = hint.trim().toLowerCase();
  return Object.keys(users).find((username) => username === wanted || users[username].email === wanted);
}

/**
 * The claims challenge (JSON text) the provider answers on-behalf-of requests for those users
 * with, as Entra does when a conditional access policy (by id) requires more of the user.
 */
export const MFA_CLAIMS_CHALLENGE = JSON.stringify({
  access_token: { capolids: { essential: true, values: ['5f3c8a2e-6b1d-4e7f-9a0c-2d4b6e8f1a3c'] } },
});

/** True when on-behalf-of requests for `username` must be refused with a claims challenge. */
export function mfaRequired(username) {
  return isUser(username) && users[username].mfaRequired === true;
}

/** Every claim the provider knows about `username`; oidc-provider keeps those the scopes allow. */
export function userClaims(username) {
  const { name, email } = users[username];
  return { sub: username, name, preferred_username: email, email, email_verified: true };
}
