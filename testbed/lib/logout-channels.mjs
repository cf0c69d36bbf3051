// The provider's logout notifications to the web app, as Entra sends them when an app
// registration has a front-channel logout URL, and as OpenID Providers do by Back-Channel
// Logout 1.0:
// - Back-channel (oidc-provider's own `backchannelLogout` feature): when a user signs out at
//   the provider, it POSTs a logout token (`logout_token`, with `sid` since the client
//   registers `backchannel_logout_session_required`) to the client's `backchannel_logout_uri`
//   before it answers the sign-out. Every logout token sent is recorded (`sentLogoutTokens`,
//   GET /__testbed/logout-tokens) so that a test can replay one.
// - Front-channel (Front-Channel Logout 1.0): oidc-provider 9 no longer implements it, so the
//   test bed does, as Entra's sign-out page does: the sign-out confirmation's redirect becomes
//   a page that loads the client's `frontchannel_logout_uri?iss=…&sid=…` in an iframe, then
//   goes on to the same place once every iframe has loaded.
// Both are registered on the web app clients only when asked for (WEBAPP_FRONTCHANNEL_LOGOUT_URI,
// WEBAPP_BACKCHANNEL_LOGOUT_URI): other tests' sign-outs notify nobody.

/** Logout tokens the provider POSTed (form body `logout_token`), oldest first. */
export const sentLogoutTokens = [];
const MAX_SENT = 1_000;

/**
 * The web app clients' logout registration from the environment: `backchannel_logout_uri` and
 * `frontchannel_logout_uri`, each with `*_session_required: true` (`iss` and `sid` sent).
 */
export function webappLogoutMetadata(env = process.env) {
  const back = env.WEBAPP_BACKCHANNEL_LOGOUT_URI;
  const front = env.WEBAPP_FRONTCHANNEL_LOGOUT_URI;
  return {
    ...(back ? { backchannel_logout_uri: back, backchannel_logout_session_required: true } : {}),
    ...(front ? { frontchannel_logout_uri: front, frontchannel_logout_session_required: true } : {}),
  };
}

/** oidc-provider's `features.backchannelLogout`. */
export const backchannelLogout = { enabled: true };

/**
 * oidc-provider's configuration for both, beside the feature: the front-channel client
 * metadata (as extra metadata), and `fetch` for its outgoing requests: oidc-provider refuses
 * loopback addresses there (SSRF protection), but the test bed's web app is on 127.0.0.1; and
 * each logout token sent is recorded.
 */
export const logoutConfiguration = {
  extraClientMetadata: { properties: ['frontchannel_logout_uri', 'frontchannel_logout_session_required'] },
  fetch(url, { dispatcher, ...options }) {
    if (options.body instanceof URLSearchParams && options.body.has('logout_token')) {
      sentLogoutTokens.push(options.body.get('logout_token'));
      sentLogoutTokens.splice(0, Math.max(0, sentLogoutTokens.length - MAX_SENT));
    }
    return globalThis.fetch(url, options);
  },
};

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Front-channel logout for `provider`: ID tokens carry `sid` for clients with a front-channel
 * URI too (oidc-provider adds it for back-channel ones only), and a Koa middleware turns the
 * sign-out confirmation's 303 into the page of iframes (see the module comment). Install the
 * middleware with `provider.use`.
 */
export function frontChannelLogout(provider) {
  const { includeSid } = provider.Client.prototype;
  provider.Client.prototype.includeSid = function includeSidForFrontChannel() {
    return includeSid.call(this)
      || Boolean(this.frontchannel_logout_uri && this.frontchannel_logout_session_required);
  };
  return async function frontChannelLogoutPage(ctx, next) {
    await next();
    const session = ctx.oidc?.session;
    if (ctx.method !== 'POST' || !ctx.path.endsWith('/session/end/confirm') || ctx.status !== 303 || !session) return;
    const frames = [];
    for (const clientId of Object.keys(session.authorizations ?? {})) {
      const client = await provider.Client.find(clientId);
      const sid = session.sidFor(clientId);
      if (!client?.frontchannel_logout_uri || !sid) continue;
      const uri = new URL(client.frontchannel_logout_uri);
      uri.searchParams.set('iss', provider.issuer);
      uri.searchParams.set('sid', sid);
      frames.push(uri.href);
    }
    if (frames.length === 0) return;
    const location = ctx.response.get('location');
    ctx.status = 200;
    ctx.remove('location');
    ctx.type = 'html';
    // The handler is defined before the iframes, so that no load event can be missed.
    ctx.body = `<!doctype html><html><head><meta charset="utf-8"><title>Signing out</title>
<script>
let pending = ${frames.length};
function frameLoaded() {
  pending -= 1;
  if (pending === 0) location.replace(document.getElementById('continue').href);
}
</script></head><body>
<p>Signing out of your applications… <a id="continue" href="${escapeHtml(location)}">continue</a></p>
${frames.map((src) => `<iframe class="frontchannel-logout" src="${escapeHtml(src)}" onload="frameLoaded()" style="display:none"></iframe>`).join('\n')}
</body></html>`;
    console.log(`front-channel logout: ${frames.length} iframe(s)`);
  };
}
