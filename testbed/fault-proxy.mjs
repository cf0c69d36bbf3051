// A fault-injecting HTTP proxy for the resilience tests: it sits in front of the provider (the
// provider's issuer is the proxy's URL, see PROVIDER_ISSUER in provider.mjs), forwards every
// request verbatim (method, path and query, headers including Host, body) and, per request
// path, can answer instead as a failing or throttling identity provider would.
//
// Faults, by exact path (`/token`) or `*` (every path without one of its own):
//   {"type": "throttle", "retryAfter": "20"}        429, Retry-After (delta seconds or an
//                                                   HTTP-date; left out when absent), Entra-shaped
//                                                   JSON error body (temporarily_unavailable)
//   {"type": "unavailable", "retryAfter": "30"}     503 with an HTML error page (IIS's), and
//                                                   Retry-After when given
//   {"type": "delay", "ms": 2000}                   waits, then forwards
//   {"type": "hang"}                                never answers (the client gives up)
//   {"type": "html"}                                200 text/html page instead of JSON
//   {"type": "drop"}                                destroys the connection without an answer
//   {"type": "refresh_in", "seconds": 1}            forwards and adds `refresh_in` (Entra sends
//                                                   it, oidc-provider does not) to 200 JSON
//                                                   answers that carry an access_token
//   {"type": "status", "status": 500, "headers": {...}, "body": "..."}  any canned answer
// `throttle` and `unavailable` also take `body` (text) to replace the canned body. Every fault
// takes `times` (apply to the next N requests, then forward as usual).
//
// Control API (never forwarded, never counted):
//   POST /__proxy/faults  JSON {"<path>": fault, ...}: replaces every fault ({} clears them)
//   GET  /__proxy/stats   {"requests", "by_path": {"<path>": {"<outcome>": n}}, "log": [...]}:
//                         outcome = `forwarded` or the fault type; `log` has one entry per
//                         request (last 1000): {at (ms since epoch), method, path, outcome,
//                         status (as answered; none for hang and drop), headers (as received,
//                         `authorization` redacted)}
//   POST /__proxy/target  JSON {"url": "http://127.0.0.1:port"}: where to forward
//   POST /__proxy/reset   clears faults and counts, and ends hanging requests
//
// Env: FAULT_PROXY_PORT (default 0 = any free port), FAULT_PROXY_TARGET (where to forward; may
// instead be set later with POST /__proxy/target, so the proxy can start before the provider
// that names it as its issuer; until then forwarded requests get 502). Node built-ins only.
// Listens on 127.0.0.1 only; prints `fault-proxy ready <url>` once listening.
import { once } from 'node:events';
import http from 'node:http';

import { integerFromEnv } from './lib/env.mjs';

const CONTROL_PREFIX = '/__proxy/';
const CONTROL_BODY_LIMIT = 64 * 1024;
const LOG_LIMIT = 1000;
const FAULT_TYPES = new Set(['throttle', 'unavailable', 'delay', 'hang', 'html', 'drop', 'refresh_in', 'status']);

/** IIS's 503 page, as Entra's front ends answer during an outage. */
const UNAVAILABLE_HTML = '<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\n'
  + '<body><h2>Service Unavailable</h2><p>HTTP Error 503. The service is unavailable.</p></body></html>\n';
/** A sign-in page or captive portal answering 200 where JSON was expected. */
const HTML_200 = '<!DOCTYPE html>\n<html><head><title>Sign in to your account</title></head>\n'
  + '<body><p>Please wait while we sign you in.</p></body></html>\n';

const port = integerFromEnv('FAULT_PROXY_PORT', 0);
let target = process.env.FAULT_PROXY_TARGET ? new URL(process.env.FAULT_PROXY_TARGET) : undefined;

/** path -> fault (with `remaining` when limited by `times`). */
let faults = new Map();
let stats = emptyStats();
/** Requests held open by `hang`, ended by reset. */
const hanging = new Set();

function emptyStats() {
  return { requests: 0, by_path: {}, log: [] };
}

/** An Entra-shaped error body (error_codes, trace and correlation ids, timestamp). */
function entraThrottleBody(req) {
  const now = new Date();
  const traceId = crypto.randomUUID();
  const correlationId = req.headers['client-request-id'] || crypto.randomUUID();
  const timestamp = now.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return JSON.stringify({
    error: 'temporarily_unavailable',
    error_description: `AADSTS90055: There are too many incoming requests. Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [90055],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: 'https://login.microsoftonline.com/error?code=90055',
  });
}

function validateFault(path, fault) {
  if (typeof fault !== 'object' || fault === null || !FAULT_TYPES.has(fault.type)) {
    throw new Error(`fault for ${path}: type must be one of ${[...FAULT_TYPES].join(', ')}`);
  }
  if (fault.times !== undefined && !(Number.isInteger(fault.times) && fault.times > 0)) {
    throw new Error(`fault for ${path}: times must be a positive integer`);
  }
  if (fault.type === 'delay' && !(Number.isInteger(fault.ms) && fault.ms >= 0)) {
    throw new Error(`fault for ${path}: delay needs ms`);
  }
  if (fault.type === 'refresh_in' && !(Number.isInteger(fault.seconds) && fault.seconds >= 0)) {
    throw new Error(`fault for ${path}: refresh_in needs seconds`);
  }
  if (fault.type === 'status' && !(Number.isInteger(fault.status) && fault.status >= 200 && fault.status <= 599)) {
    throw new Error(`fault for ${path}: status needs status (200-599)`);
  }
  if (fault.retryAfter !== undefined && typeof fault.retryAfter !== 'string' && typeof fault.retryAfter !== 'number') {
    throw new Error(`fault for ${path}: retryAfter must be a string or number`);
  }
}

/** The fault for `path` (exact, else `*`), counting down `times`; undefined: forward as usual. */
function takeFault(path) {
  const key = faults.has(path) ? path : '*';
  const fault = faults.get(key);
  if (!fault) return undefined;
  if (fault.remaining !== undefined) {
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults.delete(key);
  }
  return fault;
}

function record(req, path, outcome) {
  stats.requests += 1;
  const byPath = (stats.by_path[path] ??= {});
  byPath[outcome] = (byPath[outcome] ?? 0) + 1;
  const headers = { ...req.headers };
  if (headers.authorization) headers.authorization = '(redacted)';
  const entry = { at: Date.now(), method: req.method, path, outcome, headers };
  stats.log.push(entry);
  if (stats.log.length > LOG_LIMIT) stats.log.shift();
  return entry;
}

function answer(res, entry, status, headers, body) {
  entry.status = status;
  res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function readBody(req, limit = Infinity) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Adds `refresh_in` to a successful JSON token response; other bodies stay as they are. */
function withRefreshIn(status, headers, body, seconds) {
  if (status !== 200 || !String(headers['content-type'] ?? '').includes('json')) return body;
  let json;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return body;
  }
  if (typeof json !== 'object' || json === null || typeof json.access_token !== 'string') return body;
  return Buffer.from(JSON.stringify({ ...json, refresh_in: seconds }));
}

/** Forwards `req` to the target; `transform(status, headers, body)` may rewrite a buffered body. */
async function forward(req, res, entry, transform) {
  const body = await readBody(req);
  if (!target) {
    answer(res, entry, 502, { 'content-type': 'text/plain' }, 'fault-proxy: no target set\n');
    return;
  }
  const upstream = http.request({
    host: target.hostname,
    port: target.port,
    method: req.method,
    path: req.url,
    headers: req.headers,
  });
  upstream.on('response', async (upstreamRes) => {
    try {
      const upstreamBody = await readBody(upstreamRes);
      const headers = { ...upstreamRes.headers };
      const out = transform ? transform(upstreamRes.statusCode, headers, upstreamBody) : upstreamBody;
      delete headers['transfer-encoding'];
      headers['content-length'] = String(out.length);
      entry.status = upstreamRes.statusCode;
      res.writeHead(upstreamRes.statusCode, headers);
      res.end(out);
    } catch {
      res.destroy();
    }
  });
  upstream.on('error', () => {
    if (!res.headersSent) answer(res, entry, 502, { 'content-type': 'text/plain' }, 'fault-proxy: upstream failed\n');
    else res.destroy();
  });
  upstream.end(body);
}

async function handleFault(req, res, path, fault) {
  const entry = record(req, path, fault.type);
  const retryAfter = fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) };
  switch (fault.type) {
    case 'throttle':
      await readBody(req);
      answer(res, entry, 429, { 'content-type': 'application/json; charset=utf-8', ...retryAfter }, fault.body ?? entraThrottleBody(req));
      return;
    case 'unavailable':
      await readBody(req);
      answer(res, entry, 503, { 'content-type': 'text/html', ...retryAfter }, fault.body ?? UNAVAILABLE_HTML);
      return;
    case 'html':
      await readBody(req);
      answer(res, entry, 200, { 'content-type': 'text/html; charset=utf-8' }, fault.body ?? HTML_200);
      return;
    case 'status':
      await readBody(req);
      answer(res, entry, fault.status, fault.headers ?? {}, fault.body ?? '');
      return;
    case 'drop':
      req.socket.destroy();
      return;
    case 'hang':
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      req.resume();
      return;
    case 'delay':
      await new Promise((resolve) => { setTimeout(resolve, fault.ms); });
      if (res.destroyed) return;
      await forward(req, res, entry);
      return;
    case 'refresh_in':
      await forward(req, res, entry, (status, headers, body) => withRefreshIn(status, headers, body, fault.seconds));
      return;
    default:
      throw new Error(`unknown fault ${fault.type}`);
  }
}

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function handleControl(req, res, path) {
  const parseBody = async () => JSON.parse((await readBody(req, CONTROL_BODY_LIMIT)).toString('utf8') || '{}');
  try {
    if (path === '/__proxy/stats' && req.method === 'GET') {
      sendJson(res, 200, stats);
    } else if (path === '/__proxy/faults' && req.method === 'POST') {
      const body = await parseBody();
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('faults: a JSON object');
      for (const [key, fault] of Object.entries(body)) validateFault(key, fault);
      faults = new Map(Object.entries(body).map(([key, fault]) => [key, { ...fault, remaining: fault.times }]));
      console.log(`faults: ${JSON.stringify(body)}`);
      sendJson(res, 200, { ok: true });
    } else if (path === '/__proxy/target' && req.method === 'POST') {
      const { url } = await parseBody();
      const parsed = new URL(url);
      if (parsed.protocol !== 'http:' || parsed.hostname !== '127.0.0.1') throw new Error('target: http://127.0.0.1 only');
      target = parsed;
      console.log(`target: ${target.origin}`);
      sendJson(res, 200, { ok: true });
    } else if (path === '/__proxy/reset' && req.method === 'POST') {
      faults = new Map();
      stats = emptyStats();
      for (const held of hanging) held.destroy();
      hanging.clear();
      sendJson(res, 200, { ok: true });
    } else {
      sendJson(res, 404, { error: 'not_found' });
    }
  } catch (err) {
    sendJson(res, 400, { error: 'bad_request', error_description: err.message });
  }
}

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, 'http://proxy.invalid').pathname;
  try {
    if (path.startsWith(CONTROL_PREFIX)) {
      await handleControl(req, res, path);
      return;
    }
    const fault = takeFault(path);
    if (fault) {
      console.log(`${req.method} ${path} -> ${fault.type}`);
      await handleFault(req, res, path, fault);
    } else {
      await forward(req, res, record(req, path, 'forwarded'));
    }
  } catch (err) {
    console.error(`${req.method} ${path}: ${err.message}`);
    if (!res.headersSent && !res.destroyed) sendJson(res, 500, { error: 'proxy_error' });
    else res.destroy();
  }
});
// Hanging requests are ended by reset or by the client; nothing else times them out.
server.requestTimeout = 0;
server.listen(port, '127.0.0.1');
await once(server, 'listening');
console.log(`fault-proxy ready http://127.0.0.1:${server.address().port}`);
