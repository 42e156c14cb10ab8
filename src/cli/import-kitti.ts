import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KittiFormatError, sequenceNames } from '../io/kitti-format.js';
import { writeKittiDrive, type ScoreMode } from '../io/kitti-drive.js';
import type { FlagValues } from './flags.js';

/** `smi-fusion import kitti-tracking`: returns the exit code. */
export async function importKitti(flags: FlagValues): Promise<number> {
  const prefix = 'smi-fusion import kitti-tracking';
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
