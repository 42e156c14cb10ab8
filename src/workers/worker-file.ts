import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Absolute path of a compiled worker module. Workers always run from `dist/` (Node cannot load
 * TypeScript in a worker thread), so when this module itself runs from `src/` (under vitest) it
 * points at the build output; `npm test` builds first.
 */
export function workerFile(name: string): string {
  const here = fileURLToPath(import.meta.url);
  const dir = dirname(here);
  return here.endsWith('.ts') ? resolve(dir, '../../dist/workers', `${name}.js`) : resolve(dir, `${name}.js`);
}
