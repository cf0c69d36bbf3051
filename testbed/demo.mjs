// Demo: the Worker acquires tokens at the edge, for itself and for signed-in users.
//
// Starts the local OpenID Provider and the downstream API, then:
// 1. the daemon: a Worker (wrangler dev; client `daemon-cert`, PS256 assertion) calls
//    /daemon/call twice; the provider sees one token request (the second call is served from
//    cache);
// 2. the web app: a Worker on a fixed port (client `webapp`, a cookie key made for this run)
//    signs alice in (login_hint, no page), shows /me and calls the downstream as her (/me/call).
// It prints what each step got. Run in a terminal, it then waits for a person to sign in by
// hand in a browser (user alice or bob) until Enter is pressed (Ctrl-C works too); otherwise it
// stops everything at once.
// Exits non-zero if anything went wrong.
//
//   testbed/node_modules/.bin/node testbed/demo.mjs
//
// Env: DEMO_WEBAPP_PORT (default 8787), the web app Worker's port.
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { integerFromEnv } from './lib/env.mjs';
import { FetchBrowser } from './lib/fetch-browser.mjs';
import { stopAll } from './lib/processes.mjs';
import {
  daemonVars, newCookieKey, startTestbed, webappUris, webappVars,
} from './lib/testbed.mjs';
import { startWorker } from './lib/worker.mjs';

const webappUrl = `http://127.0.0.1:${integerFromEnv('DEMO_WEBAPP_PORT', 8787)}`;

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
  console.log(`identity provider  ${tb.issuer}  (oidc-provider; clients daemon-cert and webapp, users alice and bob)`);
  console.log(`downstream API     ${tb.downstreamUrl}  (accepts only the provider's tokens for api://downstream)`);

  console.log('\n== daemon: app-only token, certificate credential ==');
  console.log('starting the Worker with wrangler dev (the first start builds it)...');
  const daemon = await startWorker({ vars: daemonVars(tb, 'certificate'), persistTo: await persistDir() });
  console.log(`Worker             ${daemon.url}`);
  for (const attempt of [1, 2]) {
    const response = await fetch(`${daemon.url}/daemon/call`);
    const body = await response.text();
    console.log(`\nGET /daemon/call #${attempt} -> ${response.status}\n${body}`);
    if (response.status !== 200) failed = true;
  }
  const { token_requests: tokenRequests } = await tb.stats();
  console.log(`\ntoken requests seen by the provider: ${tokenRequests} (expected 1)`);
  if (tokenRequests !== 1) failed = true;
  await daemon.stop();

  console.log('\n== web app: users sign in, the Worker calls the API for them ==');
  await tb.reset();
  const vars = webappVars(tb, { workerUrl: webappUrl, cookieKey: newCookieKey() });
  const webapp = await startWorker({ vars, persistTo: await persistDir(), port: Number(new URL(webappUrl).port) });
  console.log(`Worker             ${webapp.url}`);
  const browser = new FetchBrowser();
  const me = await signInAlice(browser, tb);
  console.log(`\nsigned in alice (login_hint, no page): GET /me -> ${me.status}\n${me.text}`);
  const call = await browser.request(`${webappUrl}/me/call`);
  console.log(`\nGET /me/call -> ${call.status}\n${call.text}`);
  if (call.status !== 200) failed = true;
  const stats = await tb.stats();
  console.log(`\ntoken requests seen by the provider: ${JSON.stringify(stats.by_grant_outcome)}`);

  if (process.stdin.isTTY && !failed) {
    console.log(`\nOpen ${webappUrl}/ and sign in (user alice or bob). Press Enter to stop everything.`);
    process.stdin.resume();
    await once(process.stdin, 'data');
    process.stdin.pause();
  } else {
    console.log(`\nOpen ${webappUrl}/ and sign in (user alice or bob): run the demo in a terminal to keep it running.`);
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
