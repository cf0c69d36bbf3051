// Measures the Worker: wasm size (raw and gzip), the latency of a cold /daemon/call (as a
// caller holding the daemon's app role: the caller's token is validated too; fresh
// Worker, empty KV: discovery, assertion signing, token request, downstream call) and of cached
// calls (50 sequential calls: median and p90); then the web app: one scripted sign-in (sign-in
// redirect, provider, callback with code redemption and ID token validation), and 50 each of
// /me (session read from KV and unsealed) and /me/call (session token, downstream call); then
// the web API: /api/profile with a user's token (bearer validation, on-behalf-of, downstream
// call), cold (fresh Worker: discovery, keys, on-behalf-of), cold on-behalf-of (warm Worker, a
// new user's token) and cached (50 calls with the same token: median and p90).
// Prints the results and writes them to target/measurements.json. Reports numbers only:
// nothing is asserted about timings.
//
//   testbed/node_modules/.bin/node testbed/measure.mjs
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';

import { REPO_ROOT } from './lib/paths.mjs';
import { stopAll } from './lib/processes.mjs';
import { FetchBrowser } from './lib/fetch-browser.mjs';
import {
  callerToken, daemonVars, startTestbed, userAccessToken, webapiVars, webappUris, webappVars,
} from './lib/testbed.mjs';
import { findWorkerWasm } from './lib/wasm.mjs';
import { freePort, startWorker } from './lib/worker.mjs';

const CACHED_SAMPLES = 50;
const OUTPUT = path.join(REPO_ROOT, 'target', 'measurements.json');

/**
 * One /daemon/call as `authorization` (a caller's bearer: the route is protected), timed to the
 * end of the body; fails unless it answers 200.
 */
async function timedCall(url, authorization) {
  const start = performance.now();
  const response = await fetch(`${url}/daemon/call`, { headers: { authorization } });
  const body = await response.text();
  const ms = performance.now() - start;
  if (response.status !== 200) throw new Error(`/daemon/call answered ${response.status}: ${body}`);
  return ms;
}

/** `samples` sequential timed requests of `url` through `browser` (its cookies), ascending. */
async function timedRequests(browser, url, samples) {
  const times = [];
  for (let i = 0; i < samples; i += 1) {
    const start = performance.now();
    const response = await browser.request(url);
    times.push(performance.now() - start);
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${response.text}`);
  }
  return times.sort((a, b) => a - b);
}

/** One /api/profile with `token`, timed to the end of the body; fails unless it answers 200. */
async function timedProfile(url, token) {
  const start = performance.now();
  const response = await fetch(`${url}/api/profile`, { headers: { authorization: `Bearer ${token}` } });
  const body = await response.text();
  const ms = performance.now() - start;
  if (response.status !== 200) throw new Error(`/api/profile answered ${response.status}: ${body}`);
  return { ms, source: response.headers.get('x-edge-token-source') };
}

/** Nearest-rank percentile of ascending `sorted`. */
const percentile = (sorted, p) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
const round = (ms) => Math.round(ms * 10) / 10;

const persistTo = await mkdtemp(path.join(tmpdir(), 'edge-token-measure-'));
try {
  const webappUrl = `http://127.0.0.1:${await freePort()}`;
  const { redirectUri, postLogoutRedirectUri } = webappUris(webappUrl);
  const tb = await startTestbed({
    webappRedirectUris: [redirectUri], webappPostLogoutRedirectUris: [postLogoutRedirectUri],
  });
  const worker = await startWorker({ vars: daemonVars(tb, 'certificate'), persistTo });
  const { authorization } = await callerToken(tb);

  const wasmFile = await findWorkerWasm();
  const wasm = await readFile(wasmFile);

  const coldMs = await timedCall(worker.url, authorization);
  const cached = [];
  for (let i = 0; i < CACHED_SAMPLES; i += 1) cached.push(await timedCall(worker.url, authorization));
  cached.sort((a, b) => a - b);
  await worker.stop();

  const webapp = await startWorker({
    vars: webappVars(tb, { workerUrl: webappUrl }),
    persistTo,
    port: Number(new URL(webappUrl).port),
  });
  const browser = new FetchBrowser();
  const signInStart = performance.now();
  const landed = await browser.navigate(`${webappUrl}/auth/sign-in?returnTo=%2Fme&login_hint=alice`, {
    stayOn: [webappUrl, tb.issuer],
  });
  const signInMs = performance.now() - signInStart;
  if (landed.status !== 200) throw new Error(`sign-in ended at ${landed.url} with ${landed.status}`);
  const me = await timedRequests(browser, `${webappUrl}/me`, CACHED_SAMPLES);
  const meCall = await timedRequests(browser, `${webappUrl}/me/call`, CACHED_SAMPLES);
  const summary = (sorted) => ({
    samples: sorted.length,
    median: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
  });
  await webapp.stop();

  const [alice, bob] = [
    await userAccessToken(tb, { user: 'alice' }),
    await userAccessToken(tb, { user: 'bob' }),
  ];
  const webapi = await startWorker({ vars: webapiVars(tb), persistTo });
  const profileCold = await timedProfile(webapi.url, alice.accessToken);
  const profileColdObo = await timedProfile(webapi.url, bob.accessToken);
  const profileCached = [];
  for (let i = 0; i < CACHED_SAMPLES; i += 1) {
    const { ms, source } = await timedProfile(webapi.url, alice.accessToken);
    if (source !== 'memory') throw new Error(`cached /api/profile served from ${source}`);
    profileCached.push(ms);
  }
  profileCached.sort((a, b) => a - b);
  await webapi.stop();

  const measurements = {
    measured_at: new Date().toISOString(),
    credential: 'certificate, PS256 client assertion',
    wasm: {
      file: path.relative(REPO_ROOT, wasmFile),
      raw_bytes: wasm.length,
      gzip_bytes: gzipSync(wasm, { level: 9 }).length,
      gzip_level: 9,
    },
    cold_call_ms: round(coldMs),
    cached_call_ms: {
      samples: cached.length,
      median: round(percentile(cached, 50)),
      p90: round(percentile(cached, 90)),
    },
    webapp: {
      credential: 'client secret (client_secret_post)',
      sign_in_ms: round(signInMs),
      me_ms: summary(me),
      me_call_ms: summary(meCall),
    },
    webapi: {
      credential: 'client secret (client_secret_post), on-behalf-of',
      profile_cold_ms: round(profileCold.ms),
      profile_cold_obo_ms: round(profileColdObo.ms),
      profile_cached_ms: summary(profileCached),
    },
    environment: { node: process.version, runtime: 'wrangler dev (local workerd)' },
  };
  await mkdir(path.dirname(OUTPUT), { recursive: true });
  await writeFile(OUTPUT, `${JSON.stringify(measurements, null, 2)}\n`);
  console.log(JSON.stringify(measurements, null, 2));
  console.log(`written to ${path.relative(process.cwd(), OUTPUT) || OUTPUT}`);
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await stopAll();
  await rm(persistTo, { recursive: true, force: true });
}
