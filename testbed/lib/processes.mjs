// Background processes for the test bed: each runs in its own process group with its output in
// a log file under testbed/.logs/, is waited for with a bounded readiness loop, and is stopped by
// signalling its whole group (wrangler's workerd and build children go with it). Everything
// started is recorded, so a failing test or script still stops it all.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { LOG_DIR } from './paths.mjs';

const POLL_MS = 200;
const STOP_GRACE_MS = 5_000;
const LOG_TAIL_LINES = 40;

/** Processes started and not yet stopped. */
const running = new Set();
let logSequence = 0;

/** True while any process of group `pgid` exists. */
function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if (err.code !== 'ESRCH') throw err;
  }
}

async function waitForGroupExit(pgid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pgid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/** The last lines of a log file, for error messages. */
function logTail(logFile, lines = LOG_TAIL_LINES) {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function isHttpReady(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * Starts `command args` in the background and waits until it is ready: until its output has a
 * line matching `readyLine` (a RegExp; the match is returned as `readyMatch`) and/or until
 * `readyUrl` answers 200, checking every `pollMs`. Fails with the log's tail if it exits or is
 * not ready within `timeoutMs`, having stopped it.
 *
 * @returns {Promise<{name: string, pid: number, logFile: string, readyMatch?: RegExpMatchArray,
 *   stop: () => Promise<void>}>}
 */
export async function startProcess({
  name, command, args = [], cwd, env = process.env, readyLine, readyUrl, timeoutMs = 30_000,
  pollMs = POLL_MS,
}) {
  if (!readyLine && !readyUrl) throw new Error(`${name}: give readyLine or readyUrl`);
  registerExitHandlers();
  mkdirSync(LOG_DIR, { recursive: true });
  logSequence += 1;
  const logFile = path.join(LOG_DIR, `${name}-${process.pid}-${logSequence}.log`);
  const logFd = openSync(logFile, 'w');

  // detached: the child leads a new process group, so one signal reaches all its descendants.
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  let exitStatus;
  child.on('exit', (code, signal) => { exitStatus = signal ?? `code ${code}`; });
  const spawnError = new Promise((resolve) => { child.on('error', resolve); });

  let stopping;
  const managed = {
    name,
    pid: child.pid,
    logFile,
    readyMatch: undefined,
    /**
     * SIGTERM to the group, SIGKILL after a grace period; resolves when the group is gone.
     * Stays in `running` until then, so the exit handler still sees a stop in progress.
     */
    stop() {
      stopping ??= (async () => {
        signalGroup(managed.pid, 'SIGTERM');
        if (!(await waitForGroupExit(managed.pid, STOP_GRACE_MS))) {
          signalGroup(managed.pid, 'SIGKILL');
          await waitForGroupExit(managed.pid, STOP_GRACE_MS);
        }
        running.delete(managed);
      })();
      return stopping;
    },
  };

  if (child.pid === undefined) {
    throw new Error(`${name}: could not start ${command}: ${(await spawnError).message}`);
  }
  running.add(managed);

  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (exitStatus !== undefined) throw new Error(`${name} exited (${exitStatus}) before it was ready`);
      if (readyLine && !managed.readyMatch) {
        managed.readyMatch = readFileSync(logFile, 'utf8').match(readyLine) ?? undefined;
      }
      const lineSeen = !readyLine || managed.readyMatch !== undefined;
      if (lineSeen && (!readyUrl || await isHttpReady(readyUrl))) return managed;
      if (Date.now() >= deadline) throw new Error(`${name} not ready after ${timeoutMs / 1000} s`);
      await sleep(pollMs);
    }
  } catch (err) {
    await managed.stop();
    err.message += `\n--- ${logFile} (tail) ---\n${logTail(logFile)}`;
    throw err;
  }
}

/** Stops every process still running. */
export async function stopAll() {
  await Promise.all([...running].map((managed) => managed.stop()));
}

let exitHandlersRegistered = false;
/**
 * Last-resort cleanup: on exit (only synchronous work is possible there) kill what is left;
 * on SIGINT/SIGTERM stop everything properly, then exit as the signal would have.
 */
function registerExitHandlers() {
  if (exitHandlersRegistered) return;
  exitHandlersRegistered = true;
  process.on('exit', () => {
    for (const managed of running) signalGroup(managed.pid, 'SIGKILL');
  });
  for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15]]) {
    process.once(signal, () => {
      stopAll().finally(() => process.exit(128 + number));
    });
  }
}
