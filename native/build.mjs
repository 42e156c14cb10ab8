// Builds the native pool addon (native/build/Release/smi_pool.node) with node-gyp. Run by the
// root package's `install` script, so `npm install` / `npm ci` build it; never fails the install:
// without the addon the service runs the pure-JS ring and says so at start-up.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const strict = process.argv.includes('--strict');

if (process.env.SMI_POOL_SKIP_NATIVE_BUILD === '1') {
  console.log('smi-fusion: native pool addon build skipped (SMI_POOL_SKIP_NATIVE_BUILD=1)');
  process.exit(0);
}

// npm exports the path of its bundled node-gyp to scripts; outside npm, look beside node.
const candidates = [
  process.env.npm_config_node_gyp,
  resolve(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
].filter((p) => p && existsSync(p));
const args = ['rebuild', '--release'];
// Headers of the running node, never a download (the build machine may be offline).
if (!process.env.npm_config_nodedir) {
  const prefix = resolve(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include/node/node.h'))) args.push(`--nodedir=${prefix}`);
}
const [cmd, argv] = candidates.length > 0 ? [process.execPath, [candidates[0], ...args]] : ['node-gyp', args];
const run = spawnSync(cmd, argv, { cwd: here, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
const built = run.status === 0 && existsSync(join(here, 'build/Release/smi_pool.node'));
if (built) {
  console.log('smi-fusion: native pool addon built (native/build/Release/smi_pool.node)');
} else {
  const why = run.error
    ? run.error.message
    : (run.stderr || run.stdout || '').trim().split('\n').slice(-15).join('\n');
  console.warn(`smi-fusion: native pool addon NOT built; the service will use the pure-JS ring.\n${why}`);
}
process.exit(built || !strict ? 0 : 1);
