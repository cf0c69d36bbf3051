// Browser flows of the end-to-end tests against the web app (any runtime) and the local
// provider, in headless Chromium (lib/chromium.mjs): navigating through redirects and pages
// that go on by script, signing in (accepting the provider's consent page when one is
// expected), signing out, and two browser contexts in one provider session.
//
// Pages are HTML on Workers and plain text on Fastly and Spin: read them with `pageText`, which
// gives the same sentences on every runtime.
import { NAVIGATION_TIMEOUT_MS, newContext } from './chromium.mjs';

/** The web app's cookies are named `__Host-edge-token-*`; the provider's are not. */
const APP_COOKIE_PREFIX = '__Host-edge-token-';

/**
 * Runs `go` (which starts a navigation) and waits for a main-frame document (not a redirect)
 * whose URL satisfies `until`, through redirects and pages that go on by script (a `form_post`
 * response, the provider's logout confirmation, its front-channel logout page). Returns that
 * response, loaded.
 *
 * @param {import('playwright-core').Page} page
 * @param {() => Promise<unknown>} go
 * @param {(url: URL) => boolean} until
 */
export async function navigate(page, go, until) {
  const landed = page.waitForResponse((response) => {
    const request = response.request();
    return request.isNavigationRequest()
      && request.frame() === page.mainFrame()
      && !(response.status() >= 300 && response.status() < 400)
      && until(new URL(response.url()));
  }, { timeout: NAVIGATION_TIMEOUT_MS });
  try {
    await go();
  } catch (err) {
    landed.catch(() => {});
    throw err;
  }
  const response = await landed;
  await page.waitForLoadState('load');
  return response;
}

/** Goes to `url` and waits for a document at `origin` (default: `url`'s), or one `until` accepts. */
export function visit(page, url, { origin = new URL(url).origin, until = (u) => u.origin === origin } = {}) {
  return navigate(page, () => page.goto(url, { waitUntil: 'commit' }), until);
}

/**
 * Requests the page makes to exactly `endpoint` (any query), redirects included, in order:
 * their URL, method and form body.
 */
export function recordRequests(page, endpoint) {
  const seen = [];
  page.on('request', (request) => {
    if (request.url().split('?')[0] === endpoint) {
      seen.push({ url: request.url(), method: request.method(), postData: request.postData() });
    }
  });
  return seen;
}

/** The web app's sign-in URL at `appUrl` (an origin) with its query parameters. */
export function signInUrl(appUrl, { returnTo = '/me', loginHint, prompt } = {}) {
  const query = new URLSearchParams({ returnTo });
  if (loginHint) query.set('login_hint', loginHint);
  if (prompt) query.set('prompt', prompt);
  return `${appUrl}/auth/sign-in?${query}`;
}

/** What the page shows (HTML on Workers, plain text on Fastly and Spin). */
export async function pageText(page) {
  return (await page.textContent('body')) ?? '';
}

/** The parsed JSON body of a Playwright response; fails with its text when it is not JSON. */
export async function jsonOf(response) {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`not JSON (${response.status()} ${response.url()}): ${text.slice(0, 500)}`);
  }
}

/** Whether `url` is one of the provider's interaction pages (sign-in, consent). */
const isInteraction = (url, issuer) => url.href.startsWith(`${issuer}/interaction/`);

/**
 * The API scopes listed on the provider's consent page (lib/consent.mjs) `page` shows; fails
 * when `page` is not on one.
 */
export async function listedScopes(page, issuer) {
  if (!isInteraction(new URL(page.url()), issuer) || await page.locator('#scopes').count() === 0) {
    throw new Error(`not on the provider's consent page: ${page.url()}: ${(await pageText(page)).slice(0, 300)}`);
  }
  return page.locator('#scopes li').allTextContents();
}

/**
 * Accepts the consent page `page` is on, which must list exactly `scopes` (in order), and
 * waits for a document `until` accepts. Returns it.
 */
export async function acceptConsent(page, issuer, scopes, until) {
  const listed = await listedScopes(page, issuer);
  if (JSON.stringify(listed) !== JSON.stringify(scopes)) {
    throw new Error(`the consent page lists ${JSON.stringify(listed)}, expected ${JSON.stringify(scopes)}`);
  }
  return navigate(page, () => page.click('#consent-accept'), until);
}

/**
 * Signs `user` in to the web app at `appUrl` (an origin) by login_hint and waits until the
 * browser is back at `appUrl`. With `consent` (API scopes), the provider must show a consent
 * page listing exactly those (CONSENT_MODE=per-scope), which is accepted; without, none may
 * show. Returns the app's response (at `returnTo`, default /me: the user's claims as JSON).
 *
 * @param {import('playwright-core').Page} page
 * @param {string} appUrl
 * @param {string} issuer The provider's issuer (its pages are under it).
 * @param {{user?: string, returnTo?: string, consent?: string[]}} [options]
 */
export async function signIn(page, appUrl, issuer, { user = 'alice', returnTo = '/me', consent } = {}) {
  const atApp = (u) => u.origin === appUrl;
  let response = await visit(page, signInUrl(appUrl, { returnTo, loginHint: user }), {
    until: (u) => atApp(u) || isInteraction(u, issuer),
  });
  if (consent) {
    response = await acceptConsent(page, issuer, consent, atApp);
  }
  if (!atApp(new URL(response.url()))) {
    throw new Error(`the sign-in of ${user} stopped at ${response.url()}: ${(await pageText(page)).slice(0, 300)}`);
  }
  if (response.status() !== 200) {
    throw new Error(`the sign-in of ${user} ended ${response.status()} at ${response.url()}: ${await response.text()}`);
  }
  return response;
}

/** Signs out through the web app (RP-initiated logout) and lands back on the app's `/`. */
export async function signOut(page, appUrl) {
  const home = await navigate(
    page,
    () => page.goto(`${appUrl}/auth/sign-out`, { waitUntil: 'commit' }),
    (u) => u.origin === appUrl && u.pathname === '/',
  );
  if (home.status() !== 200) throw new Error(`sign-out ended ${home.status()} at ${home.url()}`);
  return home;
}

/** GET /me in `page`'s context (its cookies): the status. */
export async function meStatus(page, appUrl) {
  const response = await page.request.get(`${appUrl}/me`);
  return response.status();
}

/** The provider's cookies of context `from` (not the web app's), given to `to`: one provider session. */
export async function shareProviderSession(from, to, issuer) {
  const cookies = (await from.cookies(issuer)).filter((cookie) => !cookie.name.startsWith(APP_COOKIE_PREFIX));
  if (cookies.length === 0) throw new Error('the provider set no session cookies');
  await to.addCookies(cookies);
}

/**
 * Two new contexts of `browser` with `user` signed in to the web app at `appUrl` in ONE
 * provider session: A signs in (accepting `consent` as signIn does), the provider's session
 * cookies are copied into B, B signs in too (no login page; the provider's `sid` for the client
 * is per provider session, so both of the app's sessions carry the same `sid`), then A takes
 * the provider's cookies back from B (the provider renews its session's id when B's sign-in
 * changes it). Both must then answer GET /me with 200. The caller closes both contexts
 * (closeContext).
 *
 * @returns {Promise<{a: import('playwright-core').Page, b: import('playwright-core').Page, sid: string}>}
 */
export async function twoBrowsersOneProviderSession(browser, appUrl, issuer, { user = 'alice', consent } = {}) {
  const a = await (await newContext(browser)).newPage();
  const b = await (await newContext(browser)).newPage();
  try {
    const claimsA = await jsonOf(await signIn(a, appUrl, issuer, { user, consent }));
    await shareProviderSession(a.context(), b.context(), issuer);
    const claimsB = await jsonOf(await signIn(b, appUrl, issuer, { user }));
    await shareProviderSession(b.context(), a.context(), issuer);
    if (!claimsA.sid) throw new Error('the ID token carries no sid');
    if (claimsB.sid !== claimsA.sid) throw new Error(`two provider sessions: sid ${claimsA.sid} and ${claimsB.sid}`);
    for (const page of [a, b]) {
      const status = await meStatus(page, appUrl);
      if (status !== 200) throw new Error(`GET /me answered ${status} after the sign-in`);
    }
    return { a, b, sid: claimsA.sid };
  } catch (err) {
    await Promise.all([a.context().close(), b.context().close()]);
    throw err;
  }
}
