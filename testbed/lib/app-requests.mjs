// Requests to the web app outside the browser, for what a browser cannot send: a Host header
// naming another address than the one connected to, and a session cookie replayed after the
// browser would have dropped it (so the server's decision is what a test sees).
import http from 'node:http';

/** The web app's session cookie. */
export const SESSION_COOKIE = '__Host-edge-token-session';

/**
 * GET `requestPath` at `appUrl`'s address (an http origin) with the Host header `host`.
 *
 * @returns {Promise<{status: number, headers: import('node:http').IncomingHttpHeaders, text: string}>}
 */
export function getWithHost(appUrl, host, requestPath) {
  const { hostname, port } = new URL(appUrl);
  return new Promise((resolve, reject) => {
    const request = http.get({ host: hostname, port, path: requestPath, headers: { host } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { text += chunk; });
      response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, text }));
    });
    request.on('error', reject);
  });
}

/**
 * GET `requestPath` (default /me) at `appUrl` with the session cookie `value` only: the status
 * and the Set-Cookie lines.
 */
export async function withSessionCookie(appUrl, value, requestPath = '/me') {
  const answer = await fetch(`${appUrl}${requestPath}`, { headers: { cookie: `${SESSION_COOKIE}=${value}` } });
  await answer.body?.cancel();
  return { status: answer.status, setCookie: answer.headers.getSetCookie() };
}

/** Whether `setCookie` (Set-Cookie lines) deletes the session cookie (empty value, Max-Age=0). */
export function deletesSession(setCookie) {
  return setCookie.some((line) => line.startsWith(`${SESSION_COOKIE}=;`) && /;\s*Max-Age=0(;|$)/i.test(line));
}

/** Whether `setCookie` renews the session cookie `value` with Max-Age `seconds`. */
export function renewsSession(setCookie, value, seconds) {
  return setCookie.some((line) => line.startsWith(`${SESSION_COOKIE}=${value};`)
    && new RegExp(`;\\s*Max-Age=${seconds}(;|$)`, 'i').test(line));
}
