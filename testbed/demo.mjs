// Demo: the Worker acquires tokens at the edge, for itself and for signed-in users.
//
// Starts the local OpenID Provider and the downstream API, then:
// 1. the daemon: a Worker (wrangler dev; client `daemon-cert`, PS256 assertion) serves
//    /daemon/call only to callers with an app-only token for its API (api://daemon) holding the
//    role Daemon.Call: a call without one is refused (401, no token request); then the caller
//    `daemon-caller` calls it twice; the provider sees one token request from the Worker (the
//    second call is served from cache);
// 2. the web app: a Worker on a fixed port (client `webapp`, a cookie key made for this run)
//    signs alice in (login_hint, no page), shows /me and calls the downstream as her (/me/call);
// 3. the web API chain: a second Worker, the web API (client `webapi`, port 8788), validates
//    the web app's token for api://webapi and calls the downstream on alice's behalf
//    (on-behalf-of): the web app's /me/api runs browser -> web app -> web API -> OBO ->
//    downstream.
// It prints what each step got. Run in a terminal, it then waits for a person to sign in by
// hand in a browser (user alice or bob) until Enter is pressed (Ctrl-C works too); otherwise it
// stops everything at once.
// Exits non-zero if anything went wrong.
//
//   testbed/node_modules/.bin/node testbed/demo.mjs
//
// Env: DEMO_WEBAPP_PORT (default 8787) and DEMO_WEBAPI_PORT (default 8788), the web app and web
// API Workers' ports.
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { integerFromEnv } from './lib/env.mjs';
import { FetchBrowser } from './lib/fetch-browser.mjs';
import { stopAll } from './lib/processes.mjs';
import {
  callerToken, daemonVars, newCookieKey, startTestbed, webapiVars, webappUris, webappVars,
} from './lib/testbed.mjs';
import { startWorker } from './lib/worker.mjs';

const webappUrl = `http://127.0.0.1:${integerFromEnv('DEMO_WEBAPP_PORT', 8787)}`;
const webapiUrl = `http://127.0.0.1:${integerFromEnv('DEMO_WEBAPI_PORT', 8788)}`;

/** Signs alice in through the Worker with plain fetch, as a browser would; returns /me. */
async function signInAlice(browser, tb) {
  const landed = await browser.navigate(`${webappUrl}/auth/sign-in?returnTo=%2Fme&login_hint=alice`, {
    stayOn: [webappUrl, tb.issuer],
  });
  if (landed.status !== 200 || landed.url !== `${webappUrl}/me`) {
    throw new Error(`sign-in ended at ${landed.url} with ${landed.status}: ${landed.text.slice(0, 300)}`);
  }
  return landed;
}

const persistDirs = [];
async function persistDir() {
  const dir = await mkdtemp(path.join(tmpdir(), 'edge-token-demo-'));
  persistDirs.push(dir);
  return dir;
}

let failed = false;
try {
  const { redirectUri, postLogoutRedirectUri } = webappUris(webappUrl);
  const tb = await startTestbed({
    webappRedirectUris: [redirectUri], webappPostLogoutRedirectUris: [postLogoutRedirectUri],
  });
  console.log(`identity provider  ${tb.issuer}  (oidc-provider; clients daemon-cert, daemon-caller, webapp and webapi, users alice, bob and carol)`);
  console.log(`downstream API     ${tb.downstreamUrl}  (accepts only the provider's tokens for api://downstream)`);

  console.log('\n== daemon: app-only token, certificate credential ==');
  console.log('starting the Worker with wrangler dev (the first start builds it)...');
  const daemon = await startWorker({ vars: daemonVars(tb, 'certificate'), persistTo: await persistDir() });
  console.log(`Worker             ${daemon.url}  (callers need a token for api://daemon with role Daemon.Call)`);
  const anonymous = await fetch(`${daemon.url}/daemon/call`);
  console.log(`\nGET /daemon/call without a token -> ${anonymous.status} (WWW-Authenticate: ${anonymous.headers.get('www-authenticate')})\n${await anonymous.text()}`);
  if (anonymous.status !== 401) failed = true;
  // The caller's own token request is not the Worker's: counts start after it.
  const caller = await callerToken(tb);
  await tb.reset();
  console.log(`\ncaller daemon-caller: app-only token for ${caller.claims.aud}, roles ${JSON.stringify(caller.claims.roles)}`);
  for (const attempt of [1, 2]) {
    const response = await fetch(`${daemon.url}/daemon/call`, { headers: { authorization: caller.authorization } });
    const body = await response.text();
    console.log(`\nGET /daemon/call #${attempt} (Authorization: Bearer <caller token>) -> ${response.status}\n${body}`);
    if (response.status !== 200) failed = true;
  }
  const { token_requests: tokenRequests } = await tb.stats();
  console.log(`\ntoken requests the Worker made: ${tokenRequests} (expected 1)`);
  if (tokenRequests !== 1) failed = true;
  await daemon.stop();

  console.log('\n== web app: users sign in, the Worker calls the API for them ==');
  await tb.reset();
  // The web API Worker first: the web app's /me/api calls it.
  const webapi = await startWorker({ vars: webapiVars(tb), persistTo: await persistDir(), port: Number(new URL(webapiUrl).port) });
  const vars = webappVars(tb, { workerUrl: webappUrl, cookieKey: newCookieKey(), webApiUrl: webapiUrl });
  const webapp = await startWorker({ vars, persistTo: await persistDir(), port: Number(new URL(webappUrl).port) });
  console.log(`Worker (web app)   ${webapp.url}`);
  console.log(`Worker (web API)   ${webapi.url}  (client webapi; accepts tokens for api://webapi with scope access_as_user)`);
  const browser = new FetchBrowser();
  const me = await signInAlice(browser, tb);
  console.log(`\nsigned in alice (login_hint, no page): GET /me -> ${me.status}\n${me.text}`);
  const call = await browser.request(`${webappUrl}/me/call`);
  console.log(`\nGET /me/call -> ${call.status}\n${call.text}`);
  if (call.status !== 200) failed = true;

  console.log('\n== web API: the web app calls a web API, which calls the downstream on behalf of alice ==');
  const api = await browser.request(`${webappUrl}/me/api`);
  console.log(`GET /me/api -> ${api.status} (x-edge-token-source: ${api.headers.get('x-edge-token-source')})\n${api.text}`);
  let downstreamClaims;
  try {
    downstreamClaims = JSON.parse(api.text).claims;
  } catch { /* reported below */ }
  console.log('\nweb API chain: browser -> web app -> web API -> OBO -> downstream');
  console.log(`the downstream saw sub=${downstreamClaims?.sub} azp=${downstreamClaims?.azp} (expected alice, webapi)`);
  if (api.status !== 200 || downstreamClaims?.sub !== 'alice' || downstreamClaims?.azp !== 'webapi') failed = true;
  const stats = await tb.stats();
  console.log(`\ntoken requests seen by the provider: ${JSON.stringify(stats.by_grant_outcome)}`);

  if (process.stdin.isTTY && !failed) {
    console.log(`\nOpen ${webappUrl}/ and sign in (user alice, bob, or carol whose web API calls need MFA), then ${webappUrl}/me/api. Press Enter to stop everything.`);
    process.stdin.resume();
    await once(process.stdin, 'data');
    process.stdin.pause();
  } else {
    console.log(`\nOpen ${webappUrl}/ and sign in (user alice, bob or carol), then ${webappUrl}/me/api: run the demo in a terminal to keep it running.`);
  }
} catch (err) {
  console.error(err);
  failed = true;
} finally {
  await stopAll();
  await Promise.all(persistDirs.map((dir) => rm(dir, { recursive: true, force: true })));
}
console.log(failed ? '\ndemo FAILED' : '\ndemo OK');
process.exitCode = failed ? 1 : 0;
