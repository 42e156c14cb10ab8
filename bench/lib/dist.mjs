// Where the bench finds the compiled service (dist/, built by `npm run build`).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const dist = (p) => resolve(BENCH_DIR, '../dist', p);
