// A downstream API protected by the provider's access tokens: the service the Worker calls.
//
// Every path requires `Authorization: Bearer <jwt>`, verified with jose against the provider's
// published keys (issuer, audience, RS256, expiry). It answers 200 with the verified claims, so
// tests can see exactly which token arrived, or 401 `invalid_token`.
//
// Test controls: GET /__testbed/stats -> {"requests", "authorized"}, POST /__testbed/reset.
//
// Env: DOWNSTREAM_PORT (default 9500, 0 = any free port), ISSUER (default http://127.0.0.1:9400),
// AUDIENCE (default api://downstream). Listens on 127.0.0.1 only; prints
// `downstream ready <url>` once listening.
import { once } from 'node:events';
import http from 'node:http';

import { createRemoteJWKSet, jwtVerify } from 'jose';

import { integerFromEnv } from './lib/env.mjs';

const port = integerFromEnv('DOWNSTREAM_PORT', 9500);
const issuer = process.env.ISSUER || 'http://127.0.0.1:9400';
const audience = process.env.AUDIENCE || 'api://downstream';

let stats = { requests: 0, authorized: 0 };

/** Finds the provider's key set through discovery. */
async function discoverKeys() {
  const response = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`discovery at ${issuer} answered ${response.status}`);
  const { jwks_uri: jwksUri } = await response.json();
  return createRemoteJWKSet(new URL(jwksUri));
}

/**
 * The key set, discovered on first use so that the downstream can start before the provider.
 * A failed discovery is forgotten and tried again on the next request.
 */
let keySet;
function providerKeys() {
  keySet ??= discoverKeys().catch((err) => {
    keySet = undefined;
    throw err;
  });
  return keySet;
}

function sendJson(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
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

  let keys;
  try {
    keys = await providerKeys();
  } catch (err) {
    // Not the token's fault: say the service is unavailable rather than blame the caller.
    console.log(`${req.method} ${req.url} -> 503 (${err.message})`);
    sendJson(res, 503, { ok: false, error: 'issuer_unavailable' });
    return;
  }

  try {
    const { payload } = await jwtVerify(bearer[1], keys, { issuer, audience, algorithms: ['RS256'] });
    stats.authorized += 1;
    console.log(`${req.method} ${req.url} -> 200 (sub=${payload.sub})`);
    sendJson(res, 200, { ok: true, claims: payload });
  } catch (err) {
    refuse(req, res, `${err.code ?? err.name}: ${err.message}`);
  }
}

const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://downstream');
  if (pathname === '/__testbed/stats' && req.method === 'GET') {
    sendJson(res, 200, stats);
  } else if (pathname === '/__testbed/reset' && req.method === 'POST') {
    stats = { requests: 0, authorized: 0 };
    res.writeHead(204).end();
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
