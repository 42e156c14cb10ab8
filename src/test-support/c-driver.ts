/** Builds the example C driver (native/examples/lidar_driver.c) for tests that run it. */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Compiles the driver with gcc against native/include only (as a driver author would) and
 * returns the binary's path. One binary per test process, so parallel test files never race
 * on the same output file.
 */
export function buildLidarDriver(): string {
  const dir = `${root}build/test-bin`;
  mkdirSync(dir, { recursive: true });
  const out = `${dir}/lidar_driver-${process.pid}`;
  execFileSync('gcc', [
    '-O2',
    '-std=gnu11',
    '-Wall',
    '-Wextra',
    '-Werror',
    `-I${root}native/include`,
    `${root}native/examples/lidar_driver.c`,
    '-o',
    out,
  ]);
  return out;
}
