// The token coordinator (a Durable Object, crates/edge-token-cloudflare TokenCoordinator) with
// several isolates, as a deployment runs: the coordinator as its own `wrangler dev`, and three
// front Workers, each its own `wrangler dev` (its own isolate and its own local KV, like three
// locations), bound to it through the local dev registry (../../../shared/TOOLCHAIN.md), against
// the test bed's provider behind the fault-injecting proxy. All run the reference Worker's wasm.
//
// What is asserted: one token request per key for the whole deployment (cold burst and refresh
// ahead of expiry), a provider throttle seen through one front holds for all, the coordinator's
// storage holds no readable token, and without a coordinator (stopped, killed) every front still
// answers by itself, then coordinates again once it is back.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { readResponse } from '../lib/http.mjs';
import { callerToken, daemonVars, newCookieKey, startTestbed } from '../lib/testbed.mjs';
import { buildWorker, startWorker, workerConfig } from '../lib/worker.mjs';
import { eventually } from '../lib/eventually.mjs';

const TIMEOUT = { timeout: 600_000 };
const TOKEN_PATH = '/token';
const COORDINATOR = 'edge-token-coordinator-test';

let tb;
let caller;
let xdg;
const dirs = [];

const configs = {};

before(async () => {
  // The wasm, once (these configurations have no [build] step of their own).
  await buildWorker();
  tb = await startTestbed({ behindProxy: true });
  caller = await callerToken(tb);
  // A dev registry of this file's own: the fronts find the coordinator there, and no other
  // wrangler on the machine interferes.
  xdg = await mkdtemp(path.join(tmpdir(), 'edge-token-registry-'));
  dirs.push(xdg);
  configs.coordinator = await workerConfig({ name: COORDINATOR, kv: false, coordinator: 'self' });
  for (const n of [1, 2, 3, 4]) {
    configs[`front-${n}`] = await workerConfig({ name: `edge-token-front-${n}`, coordinator: COORDINATOR });
  }
  // The same fronts without a coordinator: each isolate on its own.
  for (const n of [1, 2, 3]) configs[`plain-${n}`] = await workerConfig({ name: `edge-token-plain-${n}` });
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

/** The daemon's settings, shared by the coordinator and the fronts (the same registration). */
function settings(client = 'secretPost') {
  return { ...daemonVars(tb, client, { tokenCacheKey: newCookieKey() }), AUTHORITY_KIND: 'oidc' };
}

async function startCoordinator(vars, persistTo) {
  return startWorker({ vars, persistTo, config: configs.coordinator, env: { XDG_CONFIG_HOME: xdg } });
}

async function startFront(n, vars) {
  return startWorker({
    vars, persistTo: await newDir(`edge-token-front-${n}-`), config: configs[`front-${n}`], env: { XDG_CONFIG_HOME: xdg },
  });
}

/** Starts the coordinator and `count` fronts with `vars`, runs `fn`, stops them all. */
async function withDeployment(vars, count, fn) {
  const coordinatorDir = await newDir('edge-token-coordinator-');
  const deployment = { coordinatorDir, coordinator: await startCoordinator(vars, coordinatorDir), fronts: [] };
  try {
    for (let n = 1; n <= count; n += 1) deployment.fronts.push(await startFront(n, vars));
    return await fn(deployment);
  } finally {
    await Promise.all([deployment.coordinator, ...deployment.fronts].map((worker) => worker.stop()));
  }
}

/** GET /daemon/call with the caller's token. */
async function callDaemon(worker) {
  const result = await readResponse(await fetch(`${worker.url}/daemon/call`, {
    headers: { authorization: caller.authorization },
  }));
  return { ...result, source: result.headers.get('x-edge-token-source') };
}

const tokenRequests = async () => (await tb.proxy.requests(TOKEN_PATH)).length;


describe('the token coordinator (a Durable Object) with three front Workers', () => {
  it('300 concurrent cold calls over three fronts make exactly one token request; its storage holds no readable token', TIMEOUT, async () => {
    const vars = settings();
    await withDeployment(vars, 3, async ({ fronts, coordinatorDir }) => {
      await tb.reset();
      const results = await Promise.all(
        Array.from({ length: 300 }, (_, i) => callDaemon(fronts[i % fronts.length])),
      );
      for (const result of results) assert.equal(result.status, 200, result.text);
      const jtis = new Set(results.map((result) => result.json.claims.jti));
      const sources = results.reduce((count, { source }) => ({ ...count, [source]: (count[source] ?? 0) + 1 }), {});
      console.log(`# 300 cold calls: sources ${JSON.stringify(sources)}`);
      assert.equal(jtis.size, 1, 'one token for the whole deployment');
      assert.equal(await tokenRequests(), 1);
      assert.equal((await tb.stats()).token_requests, 1);
      // Each front's first caller got it through the coordinator ('provider' when its answer
      // came from the one provider request, 'coordinator' when it held it); the others from
      // their front's memory.
      assert.deepEqual(Object.keys(sources).filter((source) => !['provider', 'coordinator', 'memory'].includes(source)), []);
      assert.ok((sources.provider ?? 0) + (sources.coordinator ?? 0) >= fronts.length);

      // A fourth front, cold: served by the coordinator, still no token request.
      const late = await startFront(4, vars);
      try {
        const result = await callDaemon(late);
        assert.equal(result.status, 200, result.text);
        assert.equal(result.source, 'coordinator');
        assert.ok(jtis.has(result.json.claims.jti));
      } finally {
        await late.stop();
      }
      assert.equal(await tokenRequests(), 1);

      // At rest in the coordinator's storage: sealed.
      const files = await readdir(path.join(coordinatorDir, 'v3', 'do'), { recursive: true, withFileTypes: true });
      const texts = await Promise.all(files.filter((f) => f.isFile()).map((f) => readFile(path.join(f.parentPath, f.name), 'latin1')));
      assert.ok(texts.length > 0, 'the coordinator stored something');
      const issued = await tb.issuedTokens();
      assert.ok(issued.length > 0);
      for (const text of texts) {
        assert.ok(!text.includes('eyJ'), 'no JWS in the Durable Object storage');
        for (const jti of jtis) assert.ok(!text.includes(jti), 'no token id in the Durable Object storage');
        for (const token of issued) assert.ok(!text.includes(token), 'no issued token in the Durable Object storage');
      }
    });
  });

  it('without the coordinator, the same burst costs one token request per front', TIMEOUT, async () => {
    const vars = settings();
    const fronts = [];
    try {
      for (const n of [1, 2, 3]) {
        fronts.push(await startWorker({
          vars, persistTo: await newDir(`edge-token-plain-${n}-`), config: configs[`plain-${n}`], env: { XDG_CONFIG_HOME: xdg },
        }));
      }
      await tb.reset();
      const results = await Promise.all(
        Array.from({ length: 300 }, (_, i) => callDaemon(fronts[i % fronts.length])),
      );
      for (const result of results) assert.equal(result.status, 200, result.text);
      const requests = await tokenRequests();
      console.log(`# 300 cold calls over 3 fronts without a coordinator: ${requests} token requests`);
      assert.equal(requests, fronts.length, 'single-flight stops at the isolate');
    } finally {
      await Promise.all(fronts.map((front) => front.stop()));
    }
  });

  it('a refresh ahead of expiry happens once for the deployment', TIMEOUT, async () => {
    await withDeployment(settings(), 3, async ({ fronts }) => {
      await tb.reset();
      // The provider's answer gains refresh_in: 2 (Entra sends it; oidc-provider does not).
      await tb.proxy.setFaults({ [TOKEN_PATH]: { type: 'refresh_in', seconds: 2 } });
      for (const front of fronts) assert.equal((await callDaemon(front)).status, 200);
      assert.equal(await tokenRequests(), 1);
      await tb.proxy.setFaults({});
      await sleep(3_100);
      // Every front now holds a token due for refresh: each serves it and refreshes in the
      // background, through the coordinator.
      for (const front of fronts) assert.equal((await callDaemon(front)).status, 200);
      assert.ok(await eventually(async () => (await tokenRequests()) >= 2, 5_000), 'a refresh happened');
      await sleep(1_500);
      assert.equal(await tokenRequests(), 2, 'one refresh for the deployment, not one per front');
    });
  });

  it('a throttle seen through one front holds for every front', TIMEOUT, async () => {
    await withDeployment(settings('secretBasic'), 3, async ({ fronts }) => {
      await tb.reset();
      await tb.proxy.setFaults({ [TOKEN_PATH]: { type: 'throttle', retryAfter: '30' } });
      const first = await callDaemon(fronts[0]);
      assert.equal(first.status, 502, first.text);
      assert.equal(first.json?.provider_status, 429, first.text);
      for (const front of fronts.slice(1)) {
        const throttled = await callDaemon(front);
        assert.equal(throttled.status, 429, throttled.text);
        assert.equal(throttled.json?.error, 'throttled', throttled.text);
      }
      assert.equal(await tokenRequests(), 1, 'no other front asked the provider');
      await tb.proxy.setFaults({});
    });
  });

  it('without its coordinator (stopped, then killed) a front answers by itself; coordination resumes when it is back', TIMEOUT, async () => {
    const vars = settings();
    const coordinatorDir = await newDir('edge-token-coordinator-');
    let coordinator = await startCoordinator(vars, coordinatorDir);
    const started = [coordinator];
    try {
      await tb.reset();
      await coordinator.stop();
      let front = await startFront(1, vars);
      started.push(front);
      let result = await callDaemon(front);
      assert.equal(result.status, 200, result.text);
      assert.equal(result.source, 'provider', 'acquired in the front itself');
      await front.stop();

      // Back: cold fronts coordinate again (the first one's miss makes the coordinator's one
      // request, the next one is served what the coordinator holds).
      coordinator = await startCoordinator(vars, coordinatorDir);
      started.push(coordinator);
      for (const n of [2, 4]) {
        front = await startFront(n, vars);
        started.push(front);
        result = await callDaemon(front);
        assert.equal(result.status, 200, result.text);
        await front.stop();
      }
      assert.equal(result.source, 'coordinator');
      assert.equal(await tokenRequests(), 2, 'one in the lone front, one in the coordinator');

      // Killed (no goodbye to the registry): a cold front still answers.
      coordinator.kill();
      await coordinator.stop();
      front = await startFront(3, vars);
      started.push(front);
      result = await callDaemon(front);
      assert.equal(result.status, 200, result.text);
      assert.notEqual(result.source, 'coordinator');
      console.log(`# coordinator killed: the front answered from ${result.source}`);
    } finally {
      await Promise.all(started.map((worker) => worker.stop()));
    }
  });
});
