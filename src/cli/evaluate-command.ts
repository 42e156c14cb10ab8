import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KittiFormatError, sequenceNames } from '../io/kitti-format.js';
import { loadKittiSequence } from '../io/kitti-evaluation.js';
import { evaluateMot, type MatchRule, type MotEvaluation, type MotSequence } from '../metrics/index.js';
import type { CommandSpec, FlagValues } from './flags.js';

export const EVALUATE_COMMAND: CommandSpec = {
  name: 'evaluate',
  summary: 'Score tracking result files against labels: KITTI tracking (CLEAR MOT, HOTA, sAMOTA).',
  usage: 'smi-fusion evaluate kitti-tracking --labels DIR --results DIR [--sequences LIST] [--json FILE]',
  positionals: { name: 'FORMAT', min: 1, max: 1, doc: 'kitti-tracking' },
  flags: [
    { name: 'labels', type: 'string', valueName: 'DIR', doc: 'label_02 files, <seq>.txt (required)' },
    {
      name: 'results',
      type: 'string',
      valueName: 'DIR',
      doc: 'result files, <seq>.txt (e.g. from replay --export-tracks kitti; required)',
    },
    {
      name: 'sequences',
      type: 'string',
      valueName: 'LIST',
      doc: 'comma-separated sequence names (default: every file in --results)',
    },
    {
      name: 'match',
      type: 'enum',
      values: ['iou3d', 'distance'],
      doc: '3D IoU (default, KITTI) or centre distance',
    },
    {
      name: 'match-threshold',
      type: 'number',
      min: 0,
      valueName: 'N',
      doc: 'IoU at least N (default 0.25), or centre distance at most N m (default 2)',
    },
    { name: 'json', type: 'string', valueName: 'FILE', doc: 'also write every figure as JSON' },
  ],
  notes:
    "KITTI's Car rules, as its devkit applies them: Cars with truncation 0 and occlusion <= 2 are\n" +
    'scored; Vans and other Cars are ignored (a track on one is neither true nor false); results that\n' +
    'match nothing are ignored when at most 25 px tall or more than half inside a DontCare box; every\n' +
    'other result line counts. Counts are summed over the sequences; a row per sequence follows.',
};

const pct = (v: number): string => (100 * v).toFixed(2);

function row(name: string, e: MotEvaluation): string {
  const c = e.clear;
  return [
    name.padEnd(10),
    pct(c.mota).padStart(6),
    pct(c.motp).padStart(6),
    pct(e.hota.hota).padStart(6),
    pct(e.hota.detA).padStart(6),
    pct(e.hota.assA).padStart(6),
    pct(e.hota.locA).padStart(6),
    pct(e.samota.samota).padStart(7),
    pct(e.samota.amota).padStart(6),
    String(c.idsw).padStart(5),
    String(c.frag).padStart(5),
    `${c.mt}/${c.pt}/${c.ml}`.padStart(10),
    String(c.fp).padStart(6),
    String(c.fn).padStart(6),
    String(c.gt).padStart(6),
  ].join(' ');
}

/** `smi-fusion evaluate`: returns the exit code. */
export async function evaluateCommand(flags: FlagValues, positionals: readonly string[]): Promise<number> {
  const prefix = 'smi-fusion evaluate';
  if (positionals[0] !== 'kitti-tracking') {
    process.stderr.write(`${prefix}: format '${positionals[0]}' is not supported; allowed: kitti-tracking\n`);
    return 2;
  }
  for (const f of ['labels', 'results'] as const) {
    if (flags[f] === undefined) {
      process.stderr.write(`${prefix}: --${f} DIR is required\n`);
      return 2;
    }
    if (!existsSync(String(flags[f]))) {
      process.stderr.write(`${prefix}: --${f} ${String(flags[f])}: no such directory\n`);
      return 2;
    }
  }
  const match: MatchRule =
    flags.match === 'distance'
      ? {
          kind: 'distance',
          threshold: flags['match-threshold'] === undefined ? 2 : Number(flags['match-threshold']),
        }
      : {
          kind: 'iou3d',
          threshold: flags['match-threshold'] === undefined ? 0.25 : Number(flags['match-threshold']),
        };
  const resultsDir = String(flags.results);
  const names = sequenceNames(
    flags.sequences === undefined ? undefined : String(flags.sequences),
    resultsDir,
  );
  const seqs: MotSequence[] = [];
  try {
    for (const n of names) {
      seqs.push(loadKittiSequence(n, join(String(flags.labels), `${n}.txt`), join(resultsDir, `${n}.txt`)));
    }
  } catch (err) {
    process.stderr.write(
      `${prefix}: ${err instanceof KittiFormatError ? err.message : (err as Error).message}\n`,
    );
    return 1;
  }
  if (seqs.length === 0) {
    process.stderr.write(`${prefix}: no sequences to score in ${resultsDir}\n`);
    return 2;
  }
  const all = evaluateMot(seqs, match);
  const each = seqs.map((s) => [s.name, evaluateMot([s], match)] as const);
  const rule =
    match.kind === 'iou3d' ? `3D IoU >= ${match.threshold}` : `centre distance <= ${match.threshold} m`;
  process.stdout.write(`KITTI tracking, Car, ${rule}, every output counted; sequences ${names.join(' ')}\n`);
  process.stdout.write(
    'sequence     MOTA   MOTP   HOTA   DetA   AssA   LocA  sAMOTA  AMOTA  IDSW  FRAG   MT/PT/ML     FP     FN     GT\n',
  );
  process.stdout.write(`${row('all', all)}\n`);
  for (const [n, e] of each) process.stdout.write(`${row(n, e)}\n`);
  if (flags.json !== undefined) {
    writeFileSync(
      String(flags.json),
      `${JSON.stringify({ all, sequences: Object.fromEntries(each) }, null, 2)}\n`,
    );
  }
  return 0;
}
