// Where the Worker's release wasm is, for the measurement scripts.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

import { REPO_ROOT } from './paths.mjs';

const BUILD_DIR = path.join(REPO_ROOT, 'build');

/**
 * The most recently built .wasm under `dir` (default build/, the reference Worker's; worker-build
 * writes e.g. build/index_bg.wasm), leaving out `dir`/.tmp/, worker-build's unoptimized output
 * while it builds.
 */
export async function findWorkerWasm(dir = BUILD_DIR) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const building = path.join(dir, '.tmp');
  const candidates = await Promise.all(entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.wasm'))
    .filter((entry) => entry.parentPath !== building && !entry.parentPath.startsWith(`${building}${path.sep}`))
    .map(async (entry) => {
      const file = path.join(entry.parentPath, entry.name);
      return { file, mtimeMs: (await stat(file)).mtimeMs };
    }));
  if (candidates.length === 0) throw new Error(`no .wasm under ${dir}`);
  return candidates.sort((a, b) => b.mtimeMs - a.mtimeMs)[0].file;
}
