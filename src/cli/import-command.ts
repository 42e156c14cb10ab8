import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KittiFormatError, sequenceNames } from '../io/kitti-format.js';
import { writeKittiDrive, type ScoreMode } from '../io/kitti-drive.js';
import type { CommandSpec, FlagValues } from './flags.js';

export const IMPORT_COMMAND: CommandSpec = {
  name: 'import',
  summary: 'Convert a public data set into drives (MCAP): KITTI tracking.',
  usage:
    'smi-fusion import kitti-tracking --detections DIR --calib DIR [--labels DIR] [--oxts DIR] [--sequences LIST] --out DIR',
  positionals: { name: 'FORMAT', min: 1, max: 1, doc: 'kitti-tracking' },
  flags: [
    {
      name: 'detections',
      type: 'string',
      valueName: 'DIR',
      doc: "detections per sequence, <seq>.txt (AB3DMOT's comma-separated format or KITTI result lines)",
    },
    {
      name: 'calib',
      type: 'string',
      valueName: 'DIR',
      doc: 'calibration per sequence, <seq>.txt (required)',
    },
    {
      name: 'labels',
      type: 'string',
      valueName: 'DIR',
      doc: 'label_02 files, <seq>.txt: ground truth (optional)',
    },
    {
      name: 'oxts',
      type: 'string',
      valueName: 'DIR',
      doc: 'oxts files, <seq>.txt: ego motion (optional; else standing still)',
    },
    {
      name: 'sequences',
      type: 'string',
      valueName: 'LIST',
      doc: 'comma-separated sequence names (default: every file in --detections)',
    },
    {
      name: 'score',
      type: 'enum',
      values: ['auto', 'logit', 'probability'],
      doc: 'detection scores are log-odds (mapped by 1/(1+e^-s)) or 0..1; auto: logit if any is outside 0..1',
    },
    { name: 'out', type: 'string', valueName: 'DIR', doc: 'where to write <seq>.mcap (required)' },
  ],
  notes:
    'One drive per sequence: the detections as an object list (sensor kitti_objects, 10 Hz) in the\n' +
    'rectified camera frame re-axised to x forward, y left, z up, mounted where the calibration puts\n' +
    "the camera; odometry from oxts or standing still; with labels, ground truth under KITTI's Car\n" +
    'rules (truth/actors: Cars within truncation 0 and occlusion 2; truth/ignored: Vans and the rest).\n' +
    'A bad file is an error naming the file and line; exit 2 on bad flags, 1 on bad data.',
};

/** `smi-fusion import`: returns the exit code. */
export async function importCommand(flags: FlagValues, positionals: readonly string[]): Promise<number> {
  const prefix = 'smi-fusion import';
  if (positionals[0] !== 'kitti-tracking') {
    process.stderr.write(`${prefix}: format '${positionals[0]}' is not supported; allowed: kitti-tracking\n`);
    return 2;
  }
  for (const f of ['detections', 'calib', 'out'] as const) {
    if (flags[f] === undefined) {
      process.stderr.write(`${prefix}: --${f} DIR is required\n`);
      return 2;
    }
  }
  for (const f of ['detections', 'calib', 'labels', 'oxts'] as const) {
    if (flags[f] !== undefined && !existsSync(String(flags[f]))) {
      process.stderr.write(`${prefix}: --${f} ${String(flags[f])}: no such directory\n`);
      return 2;
    }
  }
  const detDir = String(flags.detections);
  const names = sequenceNames(flags.sequences === undefined ? undefined : String(flags.sequences), detDir);
  if (names.length === 0) {
    process.stderr.write(`${prefix}: no sequences: ${detDir} holds no <seq>.txt and --sequences is empty\n`);
    return 2;
  }
  const out = String(flags.out);
  mkdirSync(out, { recursive: true });
  const file = (flag: 'labels' | 'oxts', name: string): string | undefined =>
    flags[flag] === undefined ? undefined : join(String(flags[flag]), `${name}.txt`);
  for (const name of names) {
    const drive = join(out, `${name}.mcap`);
    try {
      const r = await writeKittiDrive(
        {
          name,
          detections: join(detDir, `${name}.txt`),
          calib: join(String(flags.calib), `${name}.txt`),
          labels: file('labels', name),
          oxts: file('oxts', name),
        },
        drive,
        { score: (flags.score as ScoreMode | undefined) ?? 'auto' },
      );
      process.stdout.write(
        `${drive}: ${r.frames} frames, ${r.detections} detections (scores: ${r.scoreMode}), ${r.truth} scored labels, ${r.ignored} ignored, ${(r.bytes / 1e6).toFixed(1)} MB\n`,
      );
    } catch (err) {
      const msg = err instanceof KittiFormatError ? err.message : `${drive}: ${(err as Error).message}`;
      process.stderr.write(`${prefix}: ${msg}\n`);
      return 1;
    }
  }
  return 0;
}
