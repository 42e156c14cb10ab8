// Fleet replay bench: `npm run bench:fleet` (builds and makes the fixture drives first). Replays
// the fixture drives (each linked in --copies times, so that two workers have work to share) with
// `smi-fusion replay-batch` at --jobs 1, at --jobs 2, and at --jobs 2 with a candidate (two
// pipelines per drive), one after the other in this run, and prints drives per hour, the scaling
// from 1 to 2 jobs, and the candidate's overhead. Every batch must replay every drive with the
// same outputs digest (a drive's outputs do not depend on the worker count). Wall-clock figures:
// the load average is printed with them. Writes bench/results/fleet.json.
// Options: --copies N (default 2), --quick (copies 1).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const cli = join(root, 'dist/cli/main.js');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const copies = process.argv.includes('--quick') ? 1 : Number(arg('copies', '2'));
const FIXTURES = ['cut-in', 'highway-following', 'urban-clutter'];

const work = mkdtempSync(join(os.tmpdir(), 'smi-fleet-bench-'));
const drives = join(work, 'drives');
mkdirSync(drives);
for (let c = 0; c < copies; c++)
  for (const f of FIXTURES)
    symlinkSync(join(root, 'fixtures/drives', `${f}.mcap`), join(drives, `${f}-${c}.mcap`));
const candidate = join(work, 'candidate.yaml');
writeFileSync(
  candidate,
  'apiVersion: smi-fusion.dev/v1alpha1\nkind: Pipeline\nmetadata: { name: bench-candidate }\nspec:\n  planning: { timeGapS: 1.2 }\n',
);
const n = copies * FIXTURES.length;

function batch(label, extra) {
  const out = join(work, label);
  const load = os.loadavg()[0];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cli, 'replay-batch', drives, '--out', out, ...extra], {
    encoding: 'utf8',
  });
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${label}: replay-batch exited ${r.status}\n${r.stdout}${r.stderr}`);
  const merged = JSON.parse(
    spawnSync(process.execPath, [cli, 'report', 'merge', out, '--format', 'json'], { encoding: 'utf8' })
      .stdout,
  );
  process.stderr.write(`${label}: ${n} drives in ${wallS.toFixed(1)} s\n`);
  return {
    label,
    drives: n,
    wallS,
    drivesPerHour: (3600 * n) / wallS,
    loadBefore: load,
    replayed: merged.totals.replayed,
    outputsDigest: merged.outputsDigest,
    primaryDigest: primaryDigest(out),
  };
}

/** Digest of the primary outputs only (a candidate batch adds its own to the merged digest). */
function primaryDigest(out) {
  const names = FIXTURES.flatMap((f) => Array.from({ length: copies }, (_, c) => `${f}-${c}`));
  return names
    .map((name) => {
      const r = JSON.parse(readFileSync(join(out, `${name}.report.json`), 'utf8'));
      return `${r.primary.outputs.tracksDigest.slice(0, 16)}${r.primary.outputs.planDigest.slice(0, 16)}`;
    })
    .join('');
}

const rows = [
  batch('jobs-1', ['--jobs', '1']),
  batch('jobs-2', ['--jobs', '2']),
  batch('jobs-2-candidate', ['--jobs', '2', '--candidate', candidate]),
];
const same = rows.every((r) => r.replayed === n && r.primaryDigest === rows[0].primaryDigest);
const scaling = rows[1].drivesPerHour / rows[0].drivesPerHour;
const overhead = rows[2].wallS / rows[1].wallS;
const fmt = (v, d = 1) => v.toFixed(d);
const lines = [
  `fleet replay bench: ${n} drives (${FIXTURES.join(', ')} x ${copies}), ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`,
  '',
  '| batch | wall s | drives/h | load avg before |',
  '|---|---|---|---|',
  ...rows.map((r) => `| ${r.label} | ${fmt(r.wallS)} | ${fmt(r.drivesPerHour)} | ${fmt(r.loadBefore, 2)} |`),
  '',
  `scaling 1 -> 2 jobs: ${fmt(scaling, 2)}x`,
  `candidate overhead (two pipelines per drive, 2 jobs): ${fmt(overhead, 2)}x the wall time`,
  `every batch replayed every drive with the same primary outputs: ${same ? 'yes' : 'NO'}`,
];
process.stdout.write(`${lines.join('\n')}\n`);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(
  join(here, 'results/fleet.json'),
  `${JSON.stringify({ copies, drives: n, rows, scaling, candidateOverhead: overhead, sameOutputs: same }, null, 2)}\n`,
);
rmSync(work, { recursive: true, force: true });
process.exit(same ? 0 : 1);
