// A signed-in session refreshed by two isolates at the same moment, against a provider that
// rotates refresh tokens and revokes the whole grant when a used one comes back (RFC 9700
// §4.14.2; the test bed's provider does both, and counts `refresh_token_reuse`).
//
// Two front Workers (each its own `wrangler dev`, its own isolate and its own local KV, like two
// locations) hold the same session record: alice signs in through the first, whose KV is then
// copied for the second (as KV replication would). Both call the downstream API at once; access
// tokens live 60 s, which the Worker counts as expired, so both must redeem the refresh token.
// - With the token coordinator (its own `wrangler dev`, bound through the local dev registry):
//   exactly one `refresh_token` grant, no reuse, both answers 200 with the same token, and the
//   session keeps working on both fronts, whose KV copies now differ.
// - Without it (the same fronts, no binding): both present the same refresh token, the provider
//   sees the reuse and revokes the grant, and the session is lost. This is the failure the
//   coordinator exists for, shown here so the first run proves something.
// Afterwards, nothing the provider issued (access, refresh, ID tokens) is readable in any
// persisted state: the fronts' KV and the coordinator's Durable Object storage.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { FetchBrowser } from '../lib/fetch-browser.mjs';
import { startTestbed, webappUris, webappVars } from '../lib/testbed.mjs';
import { buildWorker, freePort, startWorker, workerConfig } from '../lib/worker.mjs';

const TIMEOUT = { timeout: 600_000 };
const COORDINATOR = 'edge-token-session-coordinator-test';
/** Access tokens the Worker always counts as expired: every call redeems the refresh token. */
const ACCESS_TOKEN_TTL = 60;

let tb;
let xdg;
let frontUrl;
let frontPort;
const dirs = [];
const configs = {};

before(async () => {
  await buildWorker();
  frontPort = await freePort();
  frontUrl = `http://127.0.0.1:${frontPort}`;
  const app = webappUris(frontUrl);
  tb = await startTestbed({
    accessTokenTtl: ACCESS_TOKEN_TTL,
    webappRedirectUris: [app.redirectUri],
    webappPostLogoutRedirectUris: [app.postLogoutRedirectUri],
  });
  xdg = await newDir('edge-token-registry-');
  configs.coordinator = await workerConfig({ name: COORDINATOR, kv: false, coordinator: 'self' });
  for (const n of [1, 2]) {
    configs[`front-${n}`] = await workerConfig({ name: `edge-token-session-front-${n}`, coordinator: COORDINATOR });
    configs[`plain-${n}`] = await workerConfig({ name: `edge-token-session-plain-${n}` });
  }
}, { timeout: 900_000 });

after(async () => {
  await tb?.stop();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function newDir(prefix) {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

const start = (config, vars, persistTo, port) => startWorker({
  vars, persistTo, port, config, env: { XDG_CONFIG_HOME: xdg },
});

/** GET /me/call through `url` with the browser's session cookie. */
async function meCall(browser, url) {
  const answer = await browser.request(`${url}/me/call`);
  let json;
  try {
    json = JSON.parse(answer.text);
  } catch {
    json = undefined;
  }
  return { status: answer.status, text: answer.text, json, source: answer.headers.get('x-edge-token-source') };
}

/**
 * Alice signed in through front 1, both fronts holding her session record, then two
 * simultaneous /me/call (one per front) and one more call on each front afterwards. Returns
 * the answers, the provider's counts of each phase and every persisted folder.
 */
async function twoFrontsRefreshOneSession({ coordinated }) {
  const vars = webappVars(tb, { workerUrl: frontUrl });
  const names = coordinated ? ['front-1', 'front-2'] : ['plain-1', 'plain-2'];
  const [dirA, dirB] = [await newDir('edge-token-session-a-'), await newDir('edge-token-session-b-')];
  const coordinatorDir = coordinated ? await newDir('edge-token-session-coordinator-') : undefined;
  const workers = [];
  try {
    if (coordinated) workers.push(await start(configs.coordinator, vars, coordinatorDir));
    const browser = new FetchBrowser();
    const signingIn = await start(configs[names[0]], vars, dirA, frontPort);
    try {
      const landed = await browser.navigate(`${frontUrl}/auth/sign-in?returnTo=%2Fme&login_hint=alice`, {
        stayOn: [frontUrl, tb.issuer],
      });
      assert.equal(landed.status, 200, `${landed.url}: ${landed.text.slice(0, 300)}`);
      assert.equal(JSON.parse(landed.text).sub, 'alice');
    } finally {
      await signingIn.stop();
    }
    // The session record reaches the second location.
    await cp(dirA, dirB, { recursive: true });
    const fronts = [
      await start(configs[names[0]], vars, dirA, frontPort),
      await start(configs[names[1]], vars, dirB),
    ];
    workers.push(...fronts);

    await tb.reset();
    const together = await Promise.all(fronts.map((front) => meCall(browser, front.url)));
    const concurrent = await tb.stats();
    await tb.reset();
    const afterwards = [];
    for (const front of fronts) afterwards.push(await meCall(browser, front.url));
    const later = await tb.stats();
    return { together, concurrent, afterwards, later, dirs: [dirA, dirB, coordinatorDir].filter(Boolean) };
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
  }
}

/** Every file under `dirs`, as latin1 text. */
async function persistedTexts(dirs) {
  const texts = [];
  for (const dir of dirs) {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    for (const entry of entries.filter((e) => e.isFile())) {
      texts.push({ file: path.join(entry.parentPath, entry.name), text: await readFile(path.join(entry.parentPath, entry.name), 'latin1') });
    }
  }
  return texts;
}

describe('two fronts refresh one signed-in session at the same moment (rotation with reuse detection)', () => {
  it('with the token coordinator: one refresh_token grant, no reuse, both 200, the session still works; nothing issued is readable at rest', TIMEOUT, async () => {
    const run = await twoFrontsRefreshOneSession({ coordinated: true });
    for (const answer of run.together) assert.equal(answer.status, 200, answer.text);
    console.log(`# together: sources ${run.together.map((a) => a.source)}; grants ${JSON.stringify(run.concurrent.by_grant_outcome)}`);
    assert.deepEqual(run.concurrent.by_grant_outcome, { 'refresh_token:200': 1 });
    assert.equal(run.concurrent.refresh_token_reuse, 0);
    const [first, second] = run.together.map((answer) => answer.json.claims);
    assert.equal(first.sub, 'alice');
    assert.equal(first.jti, second.jti, 'both fronts were served the one redemption\'s token');

    // Afterwards the fronts' KV copies differ (each stored what it was answered), yet both go
    // on: the coordinator holds the current refresh token.
    for (const answer of run.afterwards) assert.equal(answer.status, 200, answer.text);
    assert.equal(run.later.refresh_token_reuse, 0);
    assert.ok((run.later.by_grant_outcome['refresh_token:200'] ?? 0) <= 2, JSON.stringify(run.later.by_grant_outcome));
    assert.deepEqual(Object.keys(run.later.by_grant_outcome).filter((outcome) => !outcome.endsWith(':200')), []);

    // Sealed at rest: no token the provider issued appears in any persisted file (KV of both
    // fronts, the coordinator's Durable Object storage).
    const issued = await tb.issuedTokens();
    assert.ok(issued.length >= 6, `tokens issued: ${issued.length}`);
    const texts = await persistedTexts(run.dirs);
    assert.ok(texts.some(({ file }) => file.includes(`${path.sep}do${path.sep}`)), 'the coordinator stored its record');
    for (const { file, text } of texts) {
      for (const token of issued) assert.ok(!text.includes(token), `an issued token is readable in ${file}`);
    }
  });

  it('without the coordinator the same refresh makes the provider see a reuse and revoke the grant', TIMEOUT, async () => {
    const run = await twoFrontsRefreshOneSession({ coordinated: false });
    console.log(`# together: statuses ${run.together.map((a) => a.status)}; grants ${JSON.stringify(run.concurrent.by_grant_outcome)}, reuse ${run.concurrent.refresh_token_reuse}`);
    assert.equal(run.concurrent.by_grant.refresh_token, 2, 'each front redeemed the same refresh token');
    assert.equal(run.concurrent.refresh_token_reuse, 1, 'the provider saw the reuse');
    assert.ok(run.together.some((answer) => answer.status !== 200), 'one front could not refresh');
    // The grant is revoked: neither front can refresh any more.
    for (const answer of run.afterwards) assert.notEqual(answer.status, 200, answer.text);
  });
});
