// The benchmark's MSAL Node cases (@azure/msal-node 7.x from the test bed's lockfile):
// `acquireTokenByClientCredential` with the token in memory for 1 to 10,000 scopes, and a new
// ConfidentialClientApplication for each cold acquisition (secret; certificate PS256 with
// `thumbprintSha256`, RS256 with the SHA-1 `thumbprint`). The network is a fake module
// (`system.networkClient`) answering from memory: the token endpoint with the same canned
// response as the Rust cases, discovery with the recorded Entra answers.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { X509Certificate } from "node:crypto";

const root = new URL("../", import.meta.url);
const require = createRequire(new URL("testbed/package.json", root));
const { ConfidentialClientApplication } = require("@azure/msal-node");
const msalVersion = require("@azure/msal-node/package.json").version;

const text = (path) => readFileSync(new URL(path, root), "utf8");
const TOKEN_RESPONSE = text("bench/token-response.json");
const INSTANCE_DISCOVERY = text("tests/fixtures/entra/instance_discovery_success.json");
const CERTIFICATE_PEM = text("testbed/credentials/daemon-cert.pem");
const PRIVATE_KEY_PEM = text("testbed/credentials/daemon-key.pem");

// As src/lib.rs.
const AUTHORITY = "https://login.microsoftonline.com/contoso.onmicrosoft.com";
const CLIENT_ID = "00000000-0000-0000-0000-00000000b0b0";
const CLIENT_SECRET = "bench-client-secret";
const COLD_SCOPE = "https://graph.microsoft.com/.default";
export const KEY_COUNTS = [1, 100, 1_000, 10_000];
export const scopeName = (i) => `api://bench-resource-${String(i).padStart(5, "0")}/.default`;
export const spread = (keys) => Array.from({ length: keys }, (_, i) => (i * 7919) % keys);

const OPENID_CONFIGURATION = JSON.stringify({
  issuer: "https://login.microsoftonline.com/{tenantid}/v2.0",
  authorization_endpoint: `${AUTHORITY}/oauth2/v2.0/authorize`,
  token_endpoint: `${AUTHORITY}/oauth2/v2.0/token`,
  end_session_endpoint: `${AUTHORITY}/oauth2/v2.0/logout`,
  jwks_uri: `${AUTHORITY}/discovery/v2.0/keys`,
});

const IMPLEMENTATION = `msal-node`;

/** Monotonic nanoseconds. */
const nowNs = () => Number(process.hrtime.bigint());

/**
 * The Rust `measure` (src/lib.rs) for async operations: `run(n)` performs `n` operations;
 * warm-up doubles `n` until a call takes `roundMs`, then `rounds` timed calls; the median.
 */
export async function measure(settings, run) {
  const target = settings.roundMs * 1e6;
  let iterations = 1;
  for (;;) {
    const start = nowNs();
    await run(iterations);
    const took = nowNs() - start;
    if (took >= target) break;
    const estimate = took > 0 ? Math.ceil((iterations * target) / took * 1.1) : iterations * 16;
    iterations = Math.min(Math.max(estimate, iterations * 2), iterations * 16);
  }
  const perOp = [];
  for (let round = 0; round < Math.max(settings.rounds, 5); round++) {
    const start = nowNs();
    await run(iterations);
    perOp.push((nowNs() - start) / iterations);
  }
  perOp.sort((a, b) => a - b);
  return {
    median_ns: perOp[perOp.length >> 1],
    min_ns: perOp[0],
    max_ns: perOp[perOp.length - 1],
    rounds: perOp.length,
    iterations,
  };
}

/** A row of target/bench.json, as `row` in src/lib.rs. */
export function row(implementation, kase, keys, timing, requestsPerOp, errors) {
  return {
    implementation,
    case: kase,
    keys,
    ns_per_op: timing.median_ns,
    min_ns: timing.min_ns,
    max_ns: timing.max_ns,
    rounds: timing.rounds,
    iterations: timing.iterations,
    requests_per_op: requestsPerOp,
    errors,
  };
}

/** MSAL's network module, answering from memory and counting token requests. */
class FakeNetwork {
  posts = 0;
  gets = 0;
  async sendGetRequestAsync(url) {
    this.gets++;
    const body = url.includes("/discovery/instance") ? INSTANCE_DISCOVERY : OPENID_CONFIGURATION;
    return { headers: { "content-type": "application/json" }, body: JSON.parse(body), status: 200 };
  }
  async sendPostRequestAsync() {
    this.posts++;
    return {
      headers: { "content-type": "application/json" },
      body: JSON.parse(TOKEN_RESPONSE),
      status: 200,
    };
  }
}

const thumbprint = (algorithm) =>
  new X509Certificate(CERTIFICATE_PEM)[algorithm === "sha256" ? "fingerprint256" : "fingerprint"]
    .replaceAll(":", "");

function credentialOf(kind) {
  switch (kind) {
    case "secret":
      return { clientSecret: CLIENT_SECRET };
    case "PS256":
      return { clientCertificate: { thumbprintSha256: thumbprint("sha256"), privateKey: PRIVATE_KEY_PEM } };
    case "RS256":
      return { clientCertificate: { thumbprint: thumbprint("sha1"), privateKey: PRIVATE_KEY_PEM } };
  }
  throw new Error(`unknown credential ${kind}`);
}

const newApp = (network, kind) =>
  new ConfidentialClientApplication({
    auth: { clientId: CLIENT_ID, authority: AUTHORITY, ...credentialOf(kind) },
    system: { networkClient: network },
  });

/**
 * Puts a token for each of `requests` in `app`'s memory cache: the first through the (fake)
 * network, the others as copies of its entry under their own scope, through the cache's own
 * `deserialize`. (Acquiring each in turn would take minutes at 10,000 keys: MSAL scans every
 * cached access token on each lookup.) The hits below then check that no request is sent.
 */
async function fillCache(app, requests) {
  await app.acquireTokenByClientCredential(requests[0]);
  const cache = app.getTokenCache();
  const state = JSON.parse(cache.serialize());
  const [[key, entry]] = Object.entries(state.AccessToken);
  const first = requests[0].scopes[0];
  for (const request of requests.slice(1)) {
    const scope = request.scopes[0];
    state.AccessToken[key.replace(first, scope)] = { ...entry, target: entry.target.replace(first, scope) };
  }
  cache.deserialize(JSON.stringify(state));
}

async function hits(settings, keys) {
  const network = new FakeNetwork();
  const app = newApp(network, "secret");
  const requests = Array.from({ length: keys }, (_, i) => ({ scopes: [scopeName(i)] }));
  await fillCache(app, requests);
  const order = spread(keys);
  let at = 0;
  let ops = 0;
  let errors = 0;
  const before = network.posts;
  const timing = await measure(settings, async (iterations) => {
    for (let i = 0; i < iterations; i++) {
      const request = requests[order[at]];
      at = at + 1 === keys ? 0 : at + 1;
      try {
        const result = await app.acquireTokenByClientCredential(request);
        if (!result?.accessToken) errors++;
      } catch {
        errors++;
      }
    }
    ops += iterations;
  });
  return row(IMPLEMENTATION, "cache hit", keys, timing, (network.posts - before) / ops, errors);
}

const COLD_CASES = [
  ["secret", "cold, client secret"],
  ["PS256", "cold, certificate PS256"],
  ["RS256", "cold, certificate RS256"],
];

async function cold(settings, kind, kase) {
  const network = new FakeNetwork();
  let ops = 0;
  let errors = 0;
  const timing = await measure(settings, async (iterations) => {
    for (let i = 0; i < iterations; i++) {
      try {
        const result = await newApp(network, kind).acquireTokenByClientCredential({ scopes: [COLD_SCOPE] });
        if (!result?.accessToken) errors++;
      } catch (error) {
        if (errors++ === 0) console.error(`  msal-node ${kase}: ${error}`);
      }
    }
    ops += iterations;
  });
  const result = row(IMPLEMENTATION, kase, null, timing, network.posts / ops, errors);
  result.discovery_requests_per_op = network.gets / ops;
  return result;
}

/**
 * Token requests of one app with a certificate (`forceRefresh`, so the token endpoint is asked
 * every time): MSAL Node reuses its signed assertion until its `exp`.
 */
async function certificateMiss(settings, kind) {
  const network = new FakeNetwork();
  const app = newApp(network, kind);
  const kase = `miss, certificate ${kind}, assertion reused`;
  let ops = 0;
  let errors = 0;
  const before = network.posts;
  const timing = await measure(settings, async (iterations) => {
    for (let i = 0; i < iterations; i++) {
      try {
        const result = await app.acquireTokenByClientCredential({ scopes: [COLD_SCOPE], forceRefresh: true });
        if (!result?.accessToken) errors++;
      } catch (error) {
        if (errors++ === 0) console.error(`  msal-node ${kase}: ${error}`);
      }
    }
    ops += iterations;
  });
  return row(IMPLEMENTATION, kase, null, timing, (network.posts - before) / ops, errors);
}

/** Every MSAL Node case, in table order. */
export async function msalSuite(settings) {
  console.error(`  (@azure/msal-node ${msalVersion})`);
  const rows = [];
  for (const keys of KEY_COUNTS) {
    console.error(`  ${IMPLEMENTATION}: cache hit, ${keys} keys`);
    rows.push(await hits(settings, keys));
  }
  for (const [kind, kase] of COLD_CASES) {
    console.error(`  ${IMPLEMENTATION}: ${kase}`);
    rows.push(await cold(settings, kind, kase));
  }
  for (const kind of ["PS256", "RS256"]) {
    console.error(`  ${IMPLEMENTATION}: miss, certificate ${kind}, assertion reused`);
    rows.push(await certificateMiss(settings, kind));
  }
  return { rows, version: msalVersion };
}
