// Demo: the Worker acquires an app token at the edge with a certificate and calls an API.
//
// Starts the local OpenID Provider, the downstream API and the Worker (wrangler dev; client
// `daemon-cert`, PS256 assertion), calls /daemon/call twice, prints the downstream's answers
// and how many token requests the provider saw (1: the second call is served from cache), then
// stops everything. Exits non-zero if anything went wrong.
//
//   testbed/node_modules/.bin/node testbed/demo.mjs
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { stopAll } from './lib/processes.mjs';
import { daemonVars, startTestbed } from './lib/testbed.mjs';
import { startWorker } from './lib/worker.mjs';

const persistTo = await mkdtemp(path.join(tmpdir(), 'edge-token-demo-'));
let failed = false;
try {
  const tb = await startTestbed();
  console.log(`identity provider  ${tb.issuer}  (oidc-provider; client daemon-cert registered by certificate)`);
  console.log(`downstream API     ${tb.downstreamUrl}  (accepts only the provider's tokens for api://downstream)`);
  console.log('starting the Worker with wrangler dev (the first start builds it)...');
  const worker = await startWorker({ vars: daemonVars(tb, 'certificate'), persistTo });
  console.log(`Worker             ${worker.url}`);

  for (const attempt of [1, 2]) {
    const response = await fetch(`${worker.url}/daemon/call`);
    const body = await response.text();
    console.log(`\nGET /daemon/call #${attempt} -> ${response.status}\n${body}`);
    if (response.status !== 200) failed = true;
  }

  const { token_requests: tokenRequests } = await tb.stats();
  console.log(`\ntoken requests seen by the provider: ${tokenRequests} (expected 1)`);
  if (tokenRequests !== 1) failed = true;
} catch (err) {
  console.error(err);
  failed = true;
} finally {
  await stopAll();
  await rm(persistTo, { recursive: true, force: true });
}
console.log(failed ? '\ndemo FAILED' : '\ndemo OK');
process.exitCode = failed ? 1 : 0;
