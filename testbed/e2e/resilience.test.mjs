// Resilience end to end: the daemon Worker (GET /daemon/call, client secret) under wrangler dev
// talks to the provider through the fault-injecting proxy (fault-proxy.mjs; the provider's
// issuer is the proxy's URL, so discovery, the token endpoint and the downstream's key fetches
// all go through it). The proxy answers the token endpoint as a failing or throttling Entra
// would, and counts what reached it; the tests assert what the Worker answered and how many
// token requests it sent (README "Behaviour worth knowing", src/throttle.rs):
// - a 429 or a 5xx with Retry-After throttles that exact request for the isolate (fail fast, no
//   network call); a 5xx without Retry-After or a transport failure is retried once after ~1 s;
// - an unexpired cached token is served (`stale`) while the provider fails or throttles;
// - HTTP_TIMEOUT_MS cuts a hanging token endpoint;
// - `refresh_in` makes a cached token refresh in the background (`ctx.waitUntil`);
// - every token request carries MSAL's telemetry headers.
// Access tokens live ACCESS_TOKEN_TTL = 330 s: 30 s fresh, then 300 s inside the early-expiry
// margin (expired for the cache, still valid for the downstream). Each case has its own
// Worker (its own isolate: empty memory cache and throttle table) on an empty KV directory.
//
//   testbed/node_modules/.bin/node --test testbed/e2e/resilience.test.mjs
//
// About 3 minutes, two of them the outage case (two 60 s outages).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { startFaultProxy } from '../lib/fault-proxy.mjs';
import { readResponse } from '../lib/http.mjs';
import { daemonVars, startTestbed } from '../lib/testbed.mjs';
import { startWorker } from '../lib/worker.mjs';
import { eventually } from '../lib/eventually.mjs';

/** Room for the first start's Rust build. */
const TIMEOUT = { timeout: 360_000 };
const ACCESS_TOKEN_TTL = 330;
const TOKEN_PATH = '/token';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The contract's retry delay: 1000 ms plus up to 250 ms of jitter. */
const RETRY_DELAY_MS = 1000;

let tb;
const persistDirs = [];

before(async () => { tb = await startTestbed({ behindProxy: true, accessTokenTtl: ACCESS_TOKEN_TTL }); });
after(async () => {
  await tb?.stop();
  await Promise.all(persistDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/**
 * The daemon's settings. These tests are about the provider failing, and count every token
 * request that reaches the proxy: the route is opened with the unsafe local-demo opt-out
 * (DAEMON_PUBLIC) so that no caller token needs fetching; caller authentication has its own
 * tests (daemon.test.mjs, runtimes.test.mjs).
 */
const daemonSettings = (overrides = {}) => ({
  ...daemonVars(tb, 'secretPost', { public: true }), AUTHORITY_KIND: 'oidc', ...overrides,
});

/**
 * Runs `fn(worker)` against a new Worker (new isolate, empty KV) started with `vars`, the test
 * bed and proxy reset first; always stops the Worker.
 */
async function withWorker(vars, fn) {
  await tb.reset();
  const persistTo = await mkdtemp(path.join(tmpdir(), 'edge-token-kv-'));
  persistDirs.push(persistTo);
  const worker = await startWorker({ vars, persistTo });
  try {
    return await fn(worker);
  } finally {
    await worker.stop();
  }
}

/** GET /daemon/call: status, token source, parsed body, and how long it took. */
async function callDaemon(worker) {
  const started = Date.now();
  const { status, headers, text, json } = await readResponse(await fetch(`${worker.url}/daemon/call`));
  return {
    status,
    source: headers.get('x-edge-token-source'),
    retryAfter: headers.get('retry-after'),
    text,
    json,
    at: started,
    ms: Date.now() - started,
  };
}

/** The downstream accepted the call: returns the token's `jti`. */
function assertCalled(result, source) {
  assert.equal(result.status, 200, result.text);
  assert.equal(result.json?.ok, true, result.text);
  assert.equal(result.json.claims.sub, 'daemon-secret');
  assert.equal(result.json.claims.iss, tb.issuer);
  if (source) assert.equal(result.source, source, `x-edge-token-source of ${result.text}`);
  return result.json.claims.jti;
}

/** The Worker refused to send the request: 429 `throttled` with `retry_after` in [1, max]. */
function assertThrottled(result, maxSecs) {
  assert.equal(result.status, 429, result.text);
  assert.equal(result.json?.error, 'throttled', result.text);
  assert.ok(Number.isInteger(result.json.retry_after), result.text);
  assert.ok(result.json.retry_after >= 1 && result.json.retry_after <= maxSecs, `retry_after ${result.json.retry_after} not in [1, ${maxSecs}]`);
  assert.equal(result.retryAfter, String(result.json.retry_after), 'Retry-After header (RFC 6585 §4)');
}

/** The proxy's 429 relayed: the provider's error code, its HTTP status, no secret text. */
function assertRelayed429(result) {
  assert.equal(result.status, 502, result.text);
  assert.equal(result.json?.error, 'temporarily_unavailable', result.text);
  assert.equal(result.json.provider_status, 429, result.text);
  assert.deepEqual(result.json.error_codes, [90055], result.text);
}

/** The token requests that reached the proxy, oldest first. */
const tokenRequests = () => tb.proxy.requests(TOKEN_PATH);


describe('the fault-injecting proxy (no Worker)', () => {
  let echo;
  let proxy;
  /** What the echo server received last. */
  let received;
  before(async () => {
    // Answers every request with a token-response-shaped JSON echo of what it received.
    echo = http.createServer(async (req, res) => {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      received = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      const body = JSON.stringify({ access_token: 'x', token_type: 'Bearer', expires_in: 3600 });
      res.writeHead(req.url.startsWith('/fail') ? 400 : 200, { 'content-type': 'application/json', 'x-echo': 'yes' });
      res.end(body);
    });
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    proxy = await startFaultProxy({ target: `http://127.0.0.1:${echo.address().port}` });
  });
  after(async () => {
    await proxy?.stop();
    echo?.close();
  });

  const send = (requestPath, init = {}) => fetch(`${proxy.url}${requestPath}`, { signal: AbortSignal.timeout(3_000), ...init });

  it('forwards method, path, query, headers and body verbatim, and counts by path and outcome', async () => {
    await proxy.reset();
    const response = await send('/token?a=1&b=%2F', {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'client-request-id': 'abc', authorization: 'Basic c2VjcmV0' }, body: 'grant_type=client_credentials&scope=x',
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-echo'), 'yes');
    assert.deepEqual(await response.json(), { access_token: 'x', token_type: 'Bearer', expires_in: 3600 });
    assert.equal(received.method, 'POST');
    assert.equal(received.url, '/token?a=1&b=%2F');
    assert.equal(received.body, 'grant_type=client_credentials&scope=x');
    assert.equal(received.headers['client-request-id'], 'abc');
    assert.equal(received.headers.authorization, 'Basic c2VjcmV0');
    assert.equal(received.headers.host, new URL(proxy.url).host, 'Host as the client sent it');
    const stats = await proxy.stats();
    assert.equal(stats.requests, 1);
    assert.deepEqual(stats.by_path, { '/token': { forwarded: 1 } });
    assert.equal(stats.log[0].status, 200);
    assert.equal(stats.log[0].headers.authorization, '(redacted)');
  });

  it('answers each fault as configured, per path, for `times` requests', async () => {
    await proxy.reset();
    const date = 'Wed, 21 Oct 2026 07:28:00 GMT';
    await proxy.setFaults({
      '/throttle': { type: 'throttle', retryAfter: '20' },
      '/throttle-date': { type: 'throttle', retryAfter: date },
      '/unavailable': { type: 'unavailable' },
      '/unavailable-ra': { type: 'unavailable', retryAfter: 30 },
      '/html': { type: 'html' },
      '/drop': { type: 'drop' },
      '/hang': { type: 'hang' },
      '/delay': { type: 'delay', ms: 300 },
      '/refresh': { type: 'refresh_in', seconds: 7 },
      '/fail': { type: 'refresh_in', seconds: 7 },
      '/status': { type: 'status', status: 500, headers: { 'content-type': 'text/plain' }, body: 'boom' },
      '/once': { type: 'throttle', times: 1 },
      '*': { type: 'unavailable' },
    });

    let response = await send('/throttle', { method: 'POST', headers: { 'client-request-id': 'corr-1' }, body: 'x' });
    assert.equal(response.status, 429);
    assert.equal(response.headers.get('retry-after'), '20');
    const body = await response.json();
    assert.equal(body.error, 'temporarily_unavailable');
    assert.deepEqual(body.error_codes, [90055]);
    assert.equal(body.correlation_id, 'corr-1');
    assert.match(body.error_description, /^AADSTS90055: .*Trace ID: .*Correlation ID: corr-1 Timestamp: /);
    assert.equal((await send('/throttle-date')).headers.get('retry-after'), date);

    response = await send('/unavailable');
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), null);
    assert.match(response.headers.get('content-type'), /^text\/html/);
    assert.match(await response.text(), /Service Unavailable/);
    assert.equal((await send('/unavailable-ra')).headers.get('retry-after'), '30');

    response = await send('/html');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^text\/html/);
    assert.match(await response.text(), /^<!DOCTYPE html>/);

    await assert.rejects(send('/drop'), /fetch failed/);
    await assert.rejects(fetch(`${proxy.url}/hang`, { signal: AbortSignal.timeout(500) }), { name: 'TimeoutError' });

    let started = Date.now();
    response = await send('/delay');
    assert.equal(response.status, 200);
    assert.ok(Date.now() - started >= 290, 'delayed');
    await response.body.cancel();

    assert.equal((await (await send('/refresh')).json()).refresh_in, 7);
    assert.equal((await (await send('/fail')).json()).refresh_in, undefined, 'only successful token responses');

    response = await send('/status');
    assert.equal(response.status, 500);
    assert.equal(await response.text(), 'boom');

    assert.equal((await send('/once')).status, 429);
    response = await send('/once');
    assert.equal(response.status, 503, 'after `times`, the `*` fault');
    await response.body.cancel();
    assert.equal((await send('/other')).status, 503);

    await proxy.setFaults({});
    response = await send('/other');
    assert.equal(response.status, 200, 'no faults: forwarded');
    await response.body.cancel();

    const stats = await proxy.stats();
    assert.deepEqual(stats.by_path['/once'], { throttle: 1, unavailable: 1 });
    assert.deepEqual(stats.by_path['/other'], { unavailable: 1, forwarded: 1 });
    assert.deepEqual(stats.by_path['/hang'], { hang: 1 });
    assert.deepEqual(stats.by_path['/drop'], { drop: 1 });
    assert.equal(stats.log.find((entry) => entry.path === '/drop').status, undefined);
    assert.equal(stats.log.find((entry) => entry.path === '/throttle').status, 429);
  });

  it('refuses malformed faults and unknown control paths', async () => {
    for (const faults of [{ '/token': { type: 'nope' } }, { '/token': { type: 'delay' } }, { '/token': { type: 'throttle', times: 0 } }, []]) {
      await assert.rejects(proxy.setFaults(faults), /answered 400/);
    }
    assert.equal((await send('/__proxy/nope')).status, 404);
    const response = await send('/__proxy/target', { method: 'POST', body: JSON.stringify({ url: 'http://example.com' }) });
    assert.equal(response.status, 400, 'only 127.0.0.1');
  });
});

describe('resilience: the daemon Worker behind the fault-injecting proxy', () => {
  it('proactive refresh at refresh_in: served from memory, refreshed in the background; MSAL headers on every token request', TIMEOUT, async () => {
    await withWorker(daemonSettings(), async (worker) => {
      // The provider's answer gains refresh_in: 3 (Entra sends it; oidc-provider does not): long
      // enough that the first call (a cold app on a busy machine) ends before it is due.
      await tb.proxy.setFaults({ [TOKEN_PATH]: { type: 'refresh_in', seconds: 3 } });
      const first = await callDaemon(worker);
      const firstJti = assertCalled(first, 'provider');
      assert.equal((await tokenRequests()).length, 1);

      // The next token comes without refresh_in: 330 s (< 2 h, no half-life refresh), so the
      // background refresh below happens exactly once.
      await tb.proxy.setFaults({});
      // refresh_on = requested_at + 3 s (whole seconds); jitter only brings it forward.
      await sleep(4_100);
      const second = await callDaemon(worker);
      assert.equal(assertCalled(second, 'memory'), firstJti, 'the cached token answers at once');
      const refreshed = await eventually(async () => (await tokenRequests()).length >= 2, 5_000);
      assert.ok(refreshed, 'the background refresh reached the provider within 5 s');
      // Let the Worker store what the provider answered.
      await eventually(async () => (await tokenRequests())[1]?.status === 200, 2_000);
      await sleep(300);

      const third = await callDaemon(worker);
      const thirdJti = assertCalled(third, 'memory');
      assert.notEqual(thirdJti, firstJti, 'the refreshed token is used');
      const requests = await tokenRequests();
      assert.equal(requests.length, 2, 'one refresh, no more');
      assert.deepEqual(requests.map((entry) => entry.status), [200, 200]);
      assert.equal((await tb.stats()).token_requests, 2);

      // MSAL's telemetry headers, on the foreground request and the background refresh alike.
      for (const { headers } of requests) {
        assert.match(headers['client-request-id'] ?? '', GUID);
        assert.equal(headers['return-client-request-id'], 'true');
        assert.equal(headers['x-client-sku'], 'edge-token');
        assert.match(headers['x-client-ver'] ?? '', /^\d+\.\d+\.\d+/);
        assert.equal(headers['x-ms-lib-capability'], 'retry-after, h429');
      }
      assert.notEqual(requests[0].headers['client-request-id'], requests[1].headers['client-request-id'], 'a new client-request-id per request');
    });
  });

  it('429 storm on a cold cache: one token request per throttle window, everything else fails fast', TIMEOUT, async () => {
    await withWorker(daemonSettings(), async (worker) => {
      await tb.proxy.setFaults({ [TOKEN_PATH]: { type: 'throttle', retryAfter: '20' } });

      // 10 concurrent cold calls share one token request (single-flight): they get its answer,
      // the provider's 429 relayed, or (arriving after it) the throttle.
      const concurrent = await Promise.all(Array.from({ length: 10 }, () => callDaemon(worker)));
      for (const result of concurrent) {
        if (result.status === 502) assertRelayed429(result);
        else assertThrottled(result, 20);
      }
      assert.ok(concurrent.some((result) => result.status === 502), 'the leader relays the provider\'s 429');
      let requests = await tokenRequests();
      assert.equal(requests.length, 1, 'one token request for 10 concurrent calls');
      assert.equal(requests[0].status, 429);
      const windowStart = requests[0].at;

      for (let i = 0; i < 10; i += 1) assertThrottled(await callDaemon(worker), 20);
      assert.equal((await tokenRequests()).length, 1, 'no token request while throttled');
      assert.ok(Date.now() - windowStart < 20_000, 'the storm stayed inside the window');

      // After the window (whole seconds on the Worker's clock: +1 s), exactly one more request.
      await sleep(windowStart + 21_000 - Date.now());
      assertRelayed429(await callDaemon(worker));
      assertThrottled(await callDaemon(worker), 20);
      requests = await tokenRequests();
      assert.equal(requests.length, 2, 'one request per window');
      assert.ok(requests[1].at - requests[0].at >= 20_000, `second request ${requests[1].at - requests[0].at} ms after the first`);
      assert.equal((await tb.stats()).token_requests, 0, 'nothing reached the provider');
      assert.equal((await tb.downstreamStats()).requests, 0);
    });
  });

  it('failures on a cold cache: a hang is cut at HTTP_TIMEOUT_MS, HTML and dropped connections are errors, then the next call works', TIMEOUT, async () => {
    await withWorker(daemonSettings({ HTTP_TIMEOUT_MS: '1000' }), async (worker) => {
      // Hang: two attempts of 1 s each, ~1-1.25 s apart -> 504 timeout.
      await tb.proxy.setFaults({ [TOKEN_PATH]: { type: 'hang' } });
      const hung = await callDaemon(worker);
      assert.equal(hung.status, 504, hung.text);
      assert.equal(hung.json?.error, 'timeout', hung.text);
      assert.ok(hung.ms < 10_000, `answered after ${hung.ms} ms`);
      let requests = await tokenRequests();
      assert.equal(requests.length, 2, 'the first attempt and one retry');
      assert.deepEqual(requests.map((entry) => entry.outcome), ['hang', 'hang']);
      const gap = requests[1].at - requests[0].at;
      assert.ok(gap >= 1_000 + RETRY_DELAY_MS - 100, `retry ${gap} ms after the first attempt (timeout + delay)`);
      assert.notEqual(requests[0].headers['client-request-id'], requests[1].headers['client-request-id']);
      console.log(`# hang: 504 after ${hung.ms} ms, retry ${gap} ms after the first attempt`);

      // HTML with 200 where JSON was expected: not retryable (not a 5xx), 502 invalid_response.
      await tb.reset();
      await tb.proxy.setFaults({ [TOKEN_PATH]: { type: 'html' } });
      const html = await callDaemon(worker);
      assert.equal(html.status, 502, html.text);
      assert.equal(html.json?.error, 'invalid_response', html.text);
      assert.equal((await tokenRequests()).length, 1);

      // Dropped connection: a transport failure, retried once, then 502 network_error.
      await tb.reset();
      await tb.proxy.setFaults({ [TOKEN_PATH]: { type: 'drop' } });
      const dropped = await callDaemon(worker);
      assert.equal(dropped.status, 502, dropped.text);
      assert.equal(dropped.json?.error, 'network_error', dropped.text);
      requests = await tokenRequests();
      assert.equal(requests.length, 2, 'the first attempt and one retry');
      assert.ok(requests[1].at - requests[0].at >= RETRY_DELAY_MS - 100, `retry ${requests[1].at - requests[0].at} ms later`);

      // None of these throttled the request: with the faults gone, the next call works.
      await tb.reset();
      assertCalled(await callDaemon(worker), 'provider');
      assert.equal((await tokenRequests()).length, 1);
      assert.equal((await tb.stats()).token_requests, 1);
    });
  });

  it('a 5xx without Retry-After is retried once, then the request rests for a minute (MSAL HttpStatusProvider)', TIMEOUT, async () => {
    await withWorker(daemonSettings(), async (worker) => {
      // 503 with an HTML page and no Retry-After: retried once, then 502 invalid_response.
      await tb.proxy.setFaults({ [TOKEN_PATH]: { type: 'unavailable' } });
      const unavailable = await callDaemon(worker);
      assert.equal(unavailable.status, 502, unavailable.text);
      assert.equal(unavailable.json?.error, 'invalid_response', unavailable.text);
      const requests = await tokenRequests();
      assert.equal(requests.length, 2, 'the first attempt and one retry');
      assert.ok(requests[1].at - requests[0].at >= RETRY_DELAY_MS - 100, `retry ${requests[1].at - requests[0].at} ms later`);

      // The provider is back, but the request is throttled for 60 s: no third and fourth request
      // per call during an outage.
      await tb.proxy.setFaults({});
      assertThrottled(await callDaemon(worker), 60);
      assert.equal((await tokenRequests()).length, 2, 'nothing sent while throttled');
      assert.equal((await tb.stats()).token_requests, 0);
    });
  });

  it('429 with an HTTP-date Retry-After throttles until that date', TIMEOUT, async () => {
    await withWorker(daemonSettings(), async (worker) => {
      // A date 4 s ahead (HTTP-dates have whole seconds).
      const until = Math.ceil(Date.now() / 1000) * 1000 + 4_000;
      await tb.proxy.setFaults({ [TOKEN_PATH]: { type: 'throttle', retryAfter: new Date(until).toUTCString() } });
      assertRelayed429(await callDaemon(worker));
      assertThrottled(await callDaemon(worker), 5);
      assert.equal((await tokenRequests()).length, 1);

      await tb.proxy.setFaults({});
      await sleep(until + 1_100 - Date.now());
      assertCalled(await callDaemon(worker), 'provider');
      assert.equal((await tokenRequests()).length, 2);
    });
  });

  it('60 s outages: the cached token keeps being served, with bounded token requests; then a new token', TIMEOUT, async () => {
    const OUTAGE_MS = 60_000;
    const INTERVAL_MS = 5_000;
    const THROTTLE_SECS = 30;

    /**
     * Calls /daemon/call every INTERVAL_MS for OUTAGE_MS; each call must succeed with the first
     * token. Returns, per call, its result and how many token requests it caused.
     */
    async function outage(worker, jti) {
      const calls = [];
      const start = Date.now();
      for (let next = start; next < start + OUTAGE_MS; next += INTERVAL_MS) {
        await sleep(next - Date.now());
        const before = (await tokenRequests()).length;
        const result = await callDaemon(worker);
        const requests = (await tokenRequests()).length - before;
        assert.equal(assertCalled(result), jti, `call at +${result.at - start} ms: the cached token`);
        calls.push({ ...result, requests });
      }
      return calls;
    }

    await withWorker(daemonSettings(), async (worker) => {
      const first = await callDaemon(worker);
      const jti = assertCalled(first, 'provider');
      const issuedAt = first.json.claims.iat * 1000;
      assert.equal((await tokenRequests()).length, 1);

      // Outage 1: 503 + HTML, no Retry-After. Fresh (first 30 s): memory, no request. Inside
      // the expiry margin: the first call tries the provider, retries once, then serves the
      // token; the request then rests for 60 s (MSAL's HttpStatusProvider), so the next calls
      // serve the token without a request.
      await tb.proxy.setFaults({ [TOKEN_PATH]: { type: 'unavailable' } });
      const calls = await outage(worker, jti);
      const summary = calls.map((call) => `+${Math.round((call.at - issuedAt) / 1000)}s ${call.source}/${call.requests}`);
      console.log(`# outage without Retry-After: ${summary.join(' ')}`);
      for (const call of calls) {
        assert.ok(['memory', 'stale'].includes(call.source), `source ${call.source}`);
        if (call.source === 'memory') assert.equal(call.requests, 0, 'a fresh token needs no request');
        // Whole seconds on both sides: allow 2 s around the 30 s boundary.
        if (call.at < issuedAt + 28_000) assert.equal(call.source, 'memory');
        if (call.at > issuedAt + 32_000) assert.equal(call.source, 'stale');
      }
      const firstStale = calls.findIndex((call) => call.source === 'stale');
      assert.ok(firstStale > 0, 'memory first, then stale');
      assert.ok(calls.slice(firstStale).every((call) => call.source === 'stale'));
      assert.equal(calls[firstStale].requests, 2, 'one request and one retry, then the stale token');
      const restEnds = calls[firstStale].at + 59_000;
      for (const call of calls.slice(firstStale + 1).filter((c) => c.at < restEnds)) {
        assert.equal(call.requests, 0, `call at +${Math.round((call.at - issuedAt) / 1000)}s: no request while the failed request rests`);
      }
      assert.equal((await tb.stats()).token_requests, 1, 'no failing request reached the provider');
      // Outage 2 starts once that rest is over.
      await sleep(calls[firstStale].at + 61_000 - Date.now());

      // Outage 2: 503 + Retry-After: 30. One request throttles for 30 s: no retry, and no
      // request at all until the window ends; every call serves the stale token.
      const outage2Start = Date.now();
      await tb.proxy.setFaults({ [TOKEN_PATH]: { type: 'unavailable', retryAfter: String(THROTTLE_SECS) } });
      const throttledCalls = await outage(worker, jti);
      const throttledRequests = (await tokenRequests()).filter((entry) => entry.at >= outage2Start);
      console.log(`# outage with Retry-After: ${THROTTLE_SECS}: ${throttledCalls.map((call) => `${call.source}/${call.requests}`).join(' ')}; requests at +${throttledRequests.map((entry) => Math.round((entry.at - outage2Start) / 1000)).join('s, +')}s`);
      for (const call of throttledCalls) {
        assert.equal(call.source, 'stale');
        assert.ok(call.requests <= 1, 'no retry of a 5xx with Retry-After');
      }
      assert.equal(throttledCalls[0].requests, 1, 'the first call of the outage asks once');
      assert.ok(throttledRequests.length >= 2 && throttledRequests.length <= Math.ceil(OUTAGE_MS / 1000 / THROTTLE_SECS),
        `${throttledRequests.length} token requests in ${OUTAGE_MS / 1000} s`);
      for (let i = 1; i < throttledRequests.length; i += 1) {
        const gap = throttledRequests[i].at - throttledRequests[i - 1].at;
        // The window ends on a whole second of the Worker's clock: up to 1 s early here.
        assert.ok(gap >= (THROTTLE_SECS - 1) * 1000, `token requests ${gap} ms apart`);
      }

      // The provider is back, but the last window still holds: calls fail fast to the cached
      // token without a request; after the window, a new token.
      await tb.proxy.setFaults({});
      const windowEnd = throttledRequests.at(-1).at + THROTTLE_SECS * 1000;
      if (Date.now() < windowEnd - 1_500) {
        const held = await callDaemon(worker);
        assert.equal(assertCalled(held, 'stale'), jti);
        assert.equal((await tokenRequests()).filter((entry) => entry.at >= outage2Start).length, throttledRequests.length);
      }
      await sleep(windowEnd + 1_100 - Date.now());
      const recovered = await callDaemon(worker);
      assert.notEqual(assertCalled(recovered, 'provider'), jti, 'a new token after the outage');
      assert.equal((await tb.stats()).token_requests, 2);
    });
  });
});
