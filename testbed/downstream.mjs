// A downstream API protected by the provider's access tokens: the service the Worker calls.
//
// Every path requires `Authorization: Bearer <jwt>`, verified with jose against the provider's
// published keys (issuer, audience, RS256, expiry). Tokens of the extra issuers in ISSUERS (the
// provider's tenants, see lib/tenants.mjs) are accepted too, each verified with its own issuer's
// keys (found through that issuer's discovery). It answers 200 with the verified claims, so
// tests can see exactly which token arrived, or 401 `invalid_token`.
//
// Test controls: GET /__testbed/stats -> {"requests", "authorized"} (and "challenges", see
// below), POST /__testbed/reset (also disarms every challenge).
//
// Continuous access evaluation: POST /__testbed/claims-challenge with JSON
// `{"claims": "<JSON text>", "sub": "alice"}` (both optional; claims default to Entra's CAE
// `{"access_token":{"nbf":{"essential":true,"value":"<now>"}}}`) arms a one-shot challenge: the
// next request that would be authorized (for `sub`'s token, when given) is answered 401
// `WWW-Authenticate: Bearer realm="", authorization_uri="<issuer>/authorize",
// error="insufficient_claims", claims="<base64 of the claims>"` (Entra's shape) instead. Each
// POST arms one more; they are answered in order. Stats then gain `challenges` (challenges
// answered): it appears once a challenge has been armed since the last reset, so the stats of
// tests that never arm one keep their shape.
//
// Env: DOWNSTREAM_PORT (default 9500, 0 = any free port), ISSUER (default http://127.0.0.1:9400),
// AUDIENCE (default api://downstream), ISSUERS (space-separated further trusted issuers; default none). Listens on 127.0.0.1 only; prints
// `downstream ready <url>` once listening.
import { once } from 'node:events';
import http from 'node:http';

import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';

import { integerFromEnv, listFromEnv } from './lib/env.mjs';

const port = integerFromEnv('DOWNSTREAM_PORT', 9500);
const issuer = process.env.ISSUER || 'http://127.0.0.1:9400';
const audience = process.env.AUDIENCE || 'api://downstream';
const trustedIssuers = new Set([issuer, ...listFromEnv('ISSUERS', [])]);

/** A claims-challenge request body is a small JSON object. */
const CONTROL_BODY_LIMIT = 16 * 1024;
/** Bound on armed challenges: a test arms one or two. */
const MAX_ARMED = 16;

const emptyStats = () => ({ requests: 0, authorized: 0 });
let stats = emptyStats();
/** Armed challenges, answered first in first out: { claims: JSON text, sub?: string }. */
let challenges = [];

/** Finds an issuer's key set through discovery. */
async function discoverKeys(from) {
  const response = await fetch(`${from}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`discovery at ${from} answered ${response.status}`);
  const { jwks_uri: jwksUri } = await response.json();
  return createRemoteJWKSet(new URL(jwksUri));
}

/**
 * The key set, discovered on first use so that the downstream can start before the provider.
 * A failed discovery is forgotten and tried again on the next request.
 */
const keySets = new Map();
function providerKeys(from = issuer) {
  if (!keySets.has(from)) {
    keySets.set(from, discoverKeys(from).catch((err) => {
      keySets.delete(from);
      throw err;
    }));
  }
  return keySets.get(from);
}

/** The token's issuer when it is a trusted one other than ISSUER (read unverified: it picks the keys). */
function otherIssuer(token) {
  try {
    const { iss } = decodeJwt(token);
    return iss !== issuer && trustedIssuers.has(iss) ? iss : undefined;
  } catch {
    return undefined; // jwtVerify refuses it below
  }
}

function sendJson(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * Answers an otherwise authorized request with the first armed challenge that applies to the
 * token's `sub`; returns false when none does.
 */
function answerChallenge(req, res, payload) {
  const index = challenges.findIndex((armed) => armed.sub === undefined || armed.sub === payload.sub);
  if (index < 0) return false;
  const [{ claims }] = challenges.splice(index, 1);
  stats.challenges += 1;
  console.log(`${req.method} ${req.url} -> 401 (claims challenge, sub=${payload.sub})`);
  const encoded = Buffer.from(claims, 'utf8').toString('base64');
  sendJson(res, 401, { ok: false, error: 'insufficient_claims' }, {
    'www-authenticate': `Bearer realm="", authorization_uri="${issuer}/authorize", error="insufficient_claims", claims="${encoded}"`,
  });
  return true;
}

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > CONTROL_BODY_LIMIT) throw new Error('body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text.trim() === '' ? {} : JSON.parse(text);
}

/** POST /__testbed/claims-challenge: validates and arms one challenge; 400 when malformed. */
async function armChallenge(req, res) {
  let body;
  try {
    body = await readJson(req);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error('expected a JSON object');
    const now = Math.floor(Date.now() / 1000);
    const claims = body.claims ?? JSON.stringify({ access_token: { nbf: { essential: true, value: String(now) } } });
    if (typeof claims !== 'string') throw new Error('claims must be JSON text (a string)');
    const parsed = JSON.parse(claims);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('claims must be a JSON object');
    if (body.sub !== undefined && typeof body.sub !== 'string') throw new Error('sub must be a string');
    if (challenges.length >= MAX_ARMED) throw new Error(`at most ${MAX_ARMED} challenges armed`);
    challenges.push({ claims, sub: body.sub });
  } catch (err) {
    sendJson(res, 400, { ok: false, error: 'invalid_request', error_description: err.message });
    return;
  }
  stats.challenges ??= 0;
  console.log(`claims challenge armed${body.sub === undefined ? '' : ` for ${body.sub}`} (${challenges.length} armed)`);
  sendJson(res, 200, { ok: true, armed: challenges.length });
}

function refuse(req, res, reason) {
  console.log(`${req.method} ${req.url} -> 401 (${reason})`);
  sendJson(res, 401, { ok: false, error: 'invalid_token' }, {
    'www-authenticate': 'Bearer error="invalid_token"',
  });
}

async function handleApiRequest(req, res) {
  stats.requests += 1;
  const bearer = /^Bearer ([^\s]+)$/i.exec(req.headers.authorization ?? '');
  if (!bearer) {
    refuse(req, res, 'no bearer token');
    return;
  }

  const tokenIssuer = otherIssuer(bearer[1]) ?? issuer;
  let keys;
  try {
    keys = await providerKeys(tokenIssuer);
  } catch (err) {
    // Not the token's fault: say the service is unavailable rather than blame the caller.
    console.log(`${req.method} ${req.url} -> 503 (${err.message})`);
    sendJson(res, 503, { ok: false, error: 'issuer_unavailable' });
    return;
  }

  let payload;
  try {
    ({ payload } = await jwtVerify(bearer[1], keys, { issuer: tokenIssuer, audience, algorithms: ['RS256'] }));
  } catch (err) {
    refuse(req, res, `${err.code ?? err.name}: ${err.message}`);
    return;
  }
  if (!answerChallenge(req, res, payload)) {
    stats.authorized += 1;
    console.log(`${req.method} ${req.url} -> 200 (sub=${payload.sub})`);
    sendJson(res, 200, { ok: true, claims: payload });
  }
}

const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://downstream');
  if (pathname === '/__testbed/stats' && req.method === 'GET') {
    sendJson(res, 200, stats);
  } else if (pathname === '/__testbed/reset' && req.method === 'POST') {
    stats = emptyStats();
    challenges = [];
    res.writeHead(204).end();
  } else if (pathname === '/__testbed/claims-challenge' && req.method === 'POST') {
    armChallenge(req, res).catch((err) => {
      console.error('unexpected error', err);
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'server_error' });
    });
  } else {
    handleApiRequest(req, res).catch((err) => {
      console.error('unexpected error', err);
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'server_error' });
    });
  }
});
server.listen(port, '127.0.0.1');
await once(server, 'listening');

console.log(`downstream ready http://127.0.0.1:${server.address().port}`);
