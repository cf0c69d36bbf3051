// Polling for what happens after a response (writes in ctx.waitUntil, background refreshes).
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `condition()` every `intervalMs` (default 100 ms) until it gives a truthy value or
 * `timeoutMs` has passed; returns its last value.
 *
 * @template T
 * @param {() => T | Promise<T>} condition
 * @param {number} timeoutMs
 * @param {number} [intervalMs]
 * @returns {Promise<T>}
 */
export async function eventually(condition, timeoutMs, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value || Date.now() >= deadline) return value;
    await sleep(intervalMs);
  }
}
