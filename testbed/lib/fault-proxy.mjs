// Starts fault-proxy.mjs in the background and drives it through its control API (see that
// file for the faults, the stats and the log).
import path from 'node:path';

import { TESTBED_DIR } from './paths.mjs';
import { startProcess } from './processes.mjs';

async function control(url, method, json) {
  const response = await fetch(url, json === undefined ? { method } : {
    method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(json),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/**
 * Starts the fault-injecting proxy on 127.0.0.1 (port 0: any free port) in front of `target`
 * (or of nothing yet: give it later with setTarget, e.g. once the provider that names the proxy
 * as its issuer is listening).
 *
 * @param {object} [options]
 * @param {string} [options.target] Where to forward, e.g. http://127.0.0.1:9400.
 * @param {number} [options.port] Default 0.
 * @returns {Promise<{url: string, logFile: string,
 *   setTarget: (url: string) => Promise<void>,
 *   setFaults: (faults: Record<string, object>) => Promise<void>,
 *   stats: () => Promise<{requests: number, by_path: Record<string, Record<string, number>>,
 *     log: Array<{at: number, method: string, path: string, outcome: string, status?: number,
 *     headers: Record<string, string>}>}>,
 *   requests: (path: string) => Promise<Array<object>>,
 *   reset: () => Promise<void>, stop: () => Promise<void>}>}
 */
export async function startFaultProxy({ target, port = 0 } = {}) {
  const proxy = await startProcess({
    name: 'fault-proxy',
    command: process.execPath,
    args: [path.join(TESTBED_DIR, 'fault-proxy.mjs')],
    env: {
      ...process.env,
      FAULT_PROXY_PORT: String(port),
      ...(target ? { FAULT_PROXY_TARGET: target } : {}),
    },
    readyLine: /^fault-proxy ready (\S+)$/m,
  });
  const url = proxy.readyMatch[1];
  const stats = () => control(`${url}/__proxy/stats`, 'GET');
  return {
    url,
    logFile: proxy.logFile,
    /** Where to forward from now on. */
    setTarget: async (targetUrl) => { await control(`${url}/__proxy/target`, 'POST', { url: targetUrl }); },
    /** Replaces every fault: `{"/token": {type: 'throttle', retryAfter: '20'}}`; `{}` clears. */
    setFaults: async (faults) => { await control(`${url}/__proxy/faults`, 'POST', faults); },
    stats,
    /** The log entries (oldest first) of requests to `path`, e.g. '/token'. */
    requests: async (requestPath) => (await stats()).log.filter((entry) => entry.path === requestPath),
    /** Clears faults and counts, ends hanging requests. */
    reset: async () => { await control(`${url}/__proxy/reset`, 'POST'); },
    stop: () => proxy.stop(),
  };
}
