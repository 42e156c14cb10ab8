// Runs the vitest suite, then prints one plain line "N passed, N failed" from its JSON report,
// so that a run with no tests (or a crashed reporter) is visible. Exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

const out = 'build/test-results.json';
mkdirSync('build', { recursive: true });
rmSync(out, { force: true });
const args = [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${out}`,
  ...process.argv.slice(2),
];
const run = spawnSync('npx', args, { stdio: 'inherit' });
if (!existsSync(out)) {
  console.log('0 passed, 0 failed (vitest wrote no report)');
  process.exit(run.status || 1);
}
const report = JSON.parse(readFileSync(out, 'utf8'));
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of report.testResults ?? []) {
  const tests = file.assertionResults ?? [];
  for (const t of tests) {
    if (t.status === 'passed') passed++;
    else if (t.status === 'failed') failed++;
    else skipped++;
  }
  // A file that failed to load has no tests to count: count it as one failure.
  if (file.status === 'failed' && !tests.some((t) => t.status === 'failed')) failed++;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(run.status !== 0 || failed > 0 || passed === 0 ? 1 : 0);
