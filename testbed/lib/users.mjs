// Test users of the local OpenID Provider, shared by the provider (which signs them in) and the
// tests (which check what the ID and access tokens say about them). The account id is the
// username, and it is the `sub` of every token issued for the user.

/** username -> profile. `preferred_username` is the email address, as Entra sends a UPN. */
export const users = {
  alice: { name: 'Alice Example', email: 'alice@example.test' },
  bob: { name: 'Bob Example', email: 'bob@example.test' },
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

/** Every claim the provider knows about `username`; oidc-provider keeps those the scopes allow. */
export function userClaims(username) {
  const { name, email } = users[username];
  return { sub: username, name, preferred_username: email, email, email_verified: true };
}
