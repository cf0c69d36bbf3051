// The provider's end-user pages: sign-in, consent, sign-out and errors, for oidc-provider
// (whose development pages stay disabled).
//
// - Sign-in: an authorization request whose `login_hint` names a test user (username or email
//   address) signs that user in with no page at all, so tests and scripts need no human.
//   Otherwise a small login page offers the test users (buttons, or a username field).
// - Consent is given automatically, for exactly the scopes and resource the request asked for;
//   with CONSENT_MODE=per-scope (lib/consent.mjs), API scopes the user has not consented to yet
//   are asked on a consent page (accept or decline), as Entra asks.
// - Sign-out (RP-initiated logout): the confirmation form submits itself (a visible button is
//   the fallback without JavaScript) and signs the user out of the provider.
// - No page loads anything from elsewhere: everything stays on 127.0.0.1.
import { interactionPolicy } from 'oidc-provider';

import { missingConsent, PER_SCOPE, perScopeConsentCheck, recordConsent } from './consent.mjs';
import { userFromHint, users } from './users.mjs';

const { Check, Prompt, base } = interactionPolicy;

/** A sign-in form body is a username or a cancel: a few bytes. */
const FORM_LIMIT = 4 * 1024;

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}

/** A minimal HTML page (no script, nothing loaded from elsewhere). */
export function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}button{margin:.25rem 0}</style>
</head>
<body>
${body}
</body>
</html>`;
}

/**
 * oidc-provider's default policy (login, then consent) with two additions:
 * - a requestable `select_account` prompt (Entra accepts `prompt=select_account`), resolved by
 *   the same sign-in step as `login`;
 * - a login check: a `login_hint` naming a test user other than the one signed in asks for a
 *   sign-in, so a second user can sign in from the same browser (oidc-provider then ends the
 *   first user's provider session, revoking that user's grants, before it goes on).
 */
export function interactionsPolicy() {
  const policy = base();
  policy.add(new Prompt({ name: 'select_account', requestable: true }), 0);
  policy.get('login').checks.add(new Check(
    'login_hint_other_account',
    'login_hint names another account than the signed-in one',
    (ctx) => {
      const hinted = userFromHint(ctx.oidc.params.login_hint);
      const current = ctx.oidc.session.accountId;
      return hinted !== undefined && current !== undefined && current !== hinted
        ? Check.REQUEST_PROMPT
        : Check.NO_NEED_TO_PROMPT;
    },
  ));
  if (PER_SCOPE) policy.get('consent').checks.add(perScopeConsentCheck());
  return policy;
}

/** The consent page for `scopes` (API scopes, full names), per-scope mode. */
function consentPage(details, scopes) {
  const action = `/interaction/${encodeURIComponent(details.uid)}/consent`;
  return page('Permissions requested', `
<h1>Permissions requested</h1>
<p><strong>${escapeHtml(details.params.client_id)}</strong> asks to:</p>
<ul id="scopes">${scopes.map((scope) => `<li>${escapeHtml(scope)}</li>`).join('')}</ul>
<form method="post" action="${action}">
<button type="submit" id="consent-accept" name="decision" value="accept">Accept</button>
<button type="submit" id="consent-decline" name="decision" value="decline">Decline</button>
</form>`);
}

function loginPage(details, { error } = {}) {
  const hint = details.params.login_hint;
  const action = `/interaction/${encodeURIComponent(details.uid)}/login`;
  const buttons = Object.entries(users).map(([username, { name }]) => (
    `<button type="submit" id="sign-in-${escapeHtml(username)}" name="username" value="${escapeHtml(username)}">`
    + `Sign in as ${escapeHtml(name)} (${escapeHtml(username)})</button><br>`
  )).join('\n');
  return page('Sign in', `
<h1>Sign in</h1>
<p>to <strong>${escapeHtml(details.params.client_id)}</strong> at the edge-token test provider.</p>
${error ? `<p id="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${action}">
${buttons}
</form>
<form method="post" action="${action}">
<label>Username or email <input id="username" name="username" autocomplete="username" value="${escapeHtml(hint ?? '')}"></label>
<button type="submit" id="sign-in">Sign in</button>
</form>
<form method="post" action="${action}">
<button type="submit" id="cancel" name="cancel" value="1">Cancel</button>
</form>`);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > FORM_LIMIT) throw Object.assign(new Error('form too large'), { status: 413 });
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** The result that signs `username` in, resolving `select_account` too when that was asked. */
function signInResult(details, username) {
  return {
    ...(details.prompt.name === 'select_account' ? { select_account: {} } : {}),
    login: { accountId: username },
  };
}

/** Consent for exactly what is missing: the requested OIDC scopes, claims and resource scopes. */
async function consentResult(provider, details) {
  const { prompt: { details: missing }, params, session } = details;
  const existing = details.grantId && await provider.Grant.find(details.grantId);
  const grant = existing || new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return { consent: { grantId: await grant.save() } };
}

/**
 * Koa middleware for the interaction routes, to `provider.use`:
 *   GET  /interaction/:uid        sign in by login_hint, or show the login page; give consent
 *   POST /interaction/:uid/login  the login page's answer (username=..., or cancel=1)
 * `onSignIn(username)` is told of every sign-in.
 */
export function interactionRoutes(provider, { onSignIn = () => {}, onConsentPrompt = () => {} } = {}) {
  /** Hands the result to oidc-provider and sends the browser back to the authorization flow. */
  async function finish(ctx, result, options) {
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, options);
    ctx.status = 303;
    ctx.redirect(returnTo);
  }

  async function signIn(ctx, details, username) {
    onSignIn(username);
    console.log(`interaction ${details.uid}: ${username} signed in (${details.prompt.name})`);
    await finish(ctx, signInResult(details, username), { mergeWithLastSubmission: false });
  }

  return async function interactions(ctx, next) {
    const match = /^\/interaction\/([^/]+)(\/login|\/consent)?$/.exec(ctx.path);
    if (!match) {
      await next();
      return;
    }
    const [, uid, step] = match;
    const login = step === '/login';
    ctx.set('cache-control', 'no-store');

    let details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
      if (details.uid !== uid) throw new Error('this sign-in page belongs to another request');
    } catch (err) {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = page('Sign-in expired', `<h1>Sign-in expired</h1><p>${escapeHtml(err.message)}</p>
<p>Go back to the application and sign in again.</p>`);
      return;
    }
    const { prompt } = details;

    const unconsented = prompt.name === 'consent'
      ? missingConsent(details.session?.accountId, details.params.client_id, details.params.state)
      : [];
    if (step === '/consent' && ctx.method === 'POST' && unconsented.length > 0) {
      const form = await readForm(ctx.req);
      if (form.get('decision') === 'accept') {
        recordConsent(details.session.accountId, details.params.client_id, unconsented);
        console.log(`interaction ${uid}: consent given for ${unconsented.join(' ')}`);
        await finish(ctx, await consentResult(provider, details), { mergeWithLastSubmission: true });
      } else {
        console.log(`interaction ${uid}: consent declined for ${unconsented.join(' ')}`);
        await finish(ctx, {
          error: 'access_denied',
          error_description: 'The user declined to consent',
        }, { mergeWithLastSubmission: false });
      }
      return;
    }

    if (!step && ctx.method === 'GET') {
      if (unconsented.length > 0) {
        onConsentPrompt(details.session.accountId);
        ctx.type = 'html';
        ctx.body = consentPage(details, unconsented);
      } else if (prompt.name === 'consent') {
        console.log(`interaction ${uid}: consent given (${prompt.reasons.join(', ')})`);
        await finish(ctx, await consentResult(provider, details), { mergeWithLastSubmission: true });
      } else if (userFromHint(details.params.login_hint)) {
        await signIn(ctx, details, userFromHint(details.params.login_hint));
      } else {
        ctx.type = 'html';
        ctx.body = loginPage(details);
      }
      return;
    }

    if (login && ctx.method === 'POST' && prompt.name !== 'consent') {
      const form = await readForm(ctx.req);
      if (form.has('cancel')) {
        await finish(ctx, {
          error: 'access_denied',
          error_description: 'End-User aborted interaction',
        }, { mergeWithLastSubmission: false });
      } else if (userFromHint(form.get('username'))) {
        await signIn(ctx, details, userFromHint(form.get('username')));
      } else {
        ctx.status = 400;
        ctx.type = 'html';
        ctx.body = loginPage(details, { error: `Unknown user: ${form.get('username') ?? ''}` });
      }
      return;
    }

    ctx.status = 405;
    ctx.type = 'html';
    ctx.body = page('Not allowed', '<h1>Not allowed</h1>');
  };
}

/**
 * `features.rpInitiatedLogout.logoutSource`: oidc-provider's confirmation form (it carries the
 * anti-forgery value) asks to sign out of the provider too (`logout=yes`, as the default page's
 * "Yes" button does) and submits itself.
 */
export async function logoutSource(ctx, form) {
  const signOutForm = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>');
  ctx.type = 'html';
  ctx.body = page('Signing out', `
<h1>Signing out</h1>
${signOutForm}
<p>If nothing happens, <button type="submit" id="sign-out" form="op.logoutForm">sign out</button>.</p>
<script>document.getElementById('op.logoutForm').submit();</script>`);
}

/** `features.rpInitiatedLogout.postLogoutSuccessSource`: sign-out without a way back. */
export async function postLogoutSuccessSource(ctx) {
  ctx.type = 'html';
  ctx.body = page('Signed out', '<h1>Signed out</h1><p>You are signed out of the test provider.</p>');
}

/** `renderError`: oidc-provider's error page without its web font. */
export async function renderError(ctx, out) {
  ctx.type = 'html';
  ctx.body = page('Error', `<h1>Something went wrong</h1>
${Object.entries(out).map(([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: ${escapeHtml(value)}</p>`).join('\n')}`);
}
