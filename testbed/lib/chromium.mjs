// Headless Chromium for the end-to-end tests (Debian's, driven by playwright-core), kept on this
// machine: it runs with a proxy on a closed local port for everything but loopback (Chromium
// never proxies loopback), so a request elsewhere, even by redirect, fails at once; each context
// records such requests and JavaScript dialogs in `context.unexpected`.
//
// Chromium treats http://127.0.0.1 and http://localhost as potentially trustworthy: it keeps
// `Secure` and `__Host-` cookies from them, so the Workers under test run on plain http.
import { chromium } from 'playwright-core';

import { freePort } from './worker.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** One browser flow: a few redirects through the provider and the app. */
export const NAVIGATION_TIMEOUT_MS = 30_000;
/** Waiting for an element of a page already loaded. */
export const ELEMENT_TIMEOUT_MS = 5_000;

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Launches headless Chromium that can reach loopback only. */
export async function launchChromium() {
  const deadProxy = await freePort();
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [`--proxy-server=http://127.0.0.1:${deadProxy}`],
  });
}

/**
 * A new context of `browser` (fresh cookies) with the tests' timeouts; requests elsewhere than
 * loopback and dialogs are recorded in `context.unexpected` (dialogs are dismissed).
 */
export async function newContext(browser) {
  const context = await browser.newContext();
  context.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT_MS);
  context.setDefaultTimeout(ELEMENT_TIMEOUT_MS);
  context.unexpected = [];
  context.on('request', (request) => {
    const url = new URL(request.url());
    if (/^(https?|wss?):$/.test(url.protocol) && !LOOPBACK.has(url.hostname)) context.unexpected.push(url.href);
  });
  context.on('dialog', (dialog) => {
    context.unexpected.push(`dialog: ${dialog.message()}`);
    return dialog.dismiss();
  });
  return context;
}

/** Closes `context` and fails when it went anywhere but loopback or opened a dialog. */
export async function closeContext(context) {
  await context.close();
  if (context.unexpected.length > 0) {
    throw new Error(`requests left 127.0.0.1, or a dialog opened: ${context.unexpected.join(', ')}`);
  }
}
