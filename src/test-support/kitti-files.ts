/**
 * Small hand-made KITTI tracking files for tests (the real data may not be committed): a
 * sequence of cars driving past a standing camera, in label_02, detection (AB3DMOT) and calib
 * formats.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A calib file: KITTI's published P2 and R0, velodyne and IMU axes as on the recording car. */
export const CALIB_TEXT = [
  'P0: 7.215377e+02 0 6.095593e+02 0 0 7.215377e+02 1.728540e+02 0 0 0 1 0',
  'P1: 7.215377e+02 0 6.095593e+02 -3.875744e+02 0 7.215377e+02 1.728540e+02 0 0 0 1 0',
  'P2: 7.215377e+02 0 6.095593e+02 4.485728e+01 0 7.215377e+02 1.728540e+02 2.163791e-01 0 0 1 2.745884e-03',
  'P3: 7.215377e+02 0 6.095593e+02 -3.395242e+02 0 7.215377e+02 1.728540e+02 2.199936e+00 0 0 1 2.729905e-03',
  'R_rect 1 0 0 0 1 0 0 0 1',
  'Tr_velo_cam 0 -1 0 0 0 0 -1 -0.08 1 0 0 -0.27',
  'Tr_imu_velo 1 0 0 -0.81 0 1 0 0.32 0 0 1 -0.8',
].join('\n');

export interface KittiCar {
  trackId: number;
  type?: string;
  /** Camera-frame bottom centre at frame 0 (m) and its motion per frame (m). */
  x: number;
  z: number;
  dz: number;
  /** Frames it is in, [from, to). */
  from: number;
  to: number;
  truncated?: number;
  occluded?: number;
  /** Detection score (raw, log-odds) and frames the detector misses. */
  score?: number;
  missed?: number[];
}

const f = (v: number): string => v.toFixed(4);

/** label_02 lines for the cars (plus one DontCare region per frame). */
export function labelLines(cars: readonly KittiCar[], frames: number): string[] {
  const lines: string[] = [];
  for (let k = 0; k < frames; k++) {
    for (const c of cars) {
      if (k < c.from || k >= c.to) continue;
      const z = c.z + c.dz * k;
      lines.push(
        `${k} ${c.trackId} ${c.type ?? 'Car'} ${c.truncated ?? 0} ${c.occluded ?? 0} -1.57 500 150 700 250 1.5 1.8 4.5 ${f(c.x)} 1.65 ${f(z)} -1.5708`,
      );
    }
    lines.push(`${k} -1 DontCare -1 -1 -10 1100 150 1240 200 -1000 -1000 -1000 -10 -10 -10 -10`);
  }
  return lines;
}

/** Detections (AB3DMOT's comma format) for the cars the detector sees, and any extra lines. */
export function detectionLines(cars: readonly KittiCar[], frames: number): string[] {
  const lines: string[] = [];
  for (let k = 0; k < frames; k++) {
    for (const c of cars) {
      if (k < c.from || k >= c.to || c.missed?.includes(k) || c.type === 'Van') continue;
      const z = c.z + c.dz * k;
      lines.push(`${k},2,500,150,700,250,${c.score ?? 11},1.5,1.8,4.5,${f(c.x)},1.65,${f(z)},-1.5708,-1.57`);
    }
  }
  return lines;
}

/** The cars of the standard test sequence: two scored, one Van, one truncated car. */
export const TEST_CARS: readonly KittiCar[] = [
  { trackId: 0, x: -3, z: 30, dz: -0.5, from: 0, to: 30 },
  { trackId: 1, x: 4, z: 12, dz: 0.3, from: 5, to: 30, missed: [15] },
  { trackId: 2, type: 'Van', x: 0, z: 45, dz: 0, from: 0, to: 30 },
  { trackId: 3, x: -8, z: 8, dz: 0, from: 0, to: 30, truncated: 1 },
];

/** Writes label_02/, calib/ and det/ for sequence `name` under `dir`; returns the three dirs. */
export function writeKittiSequence(
  dir: string,
  name: string,
  cars: readonly KittiCar[] = TEST_CARS,
  frames = 30,
): { labels: string; calib: string; detections: string } {
  const out = { labels: join(dir, 'label_02'), calib: join(dir, 'calib'), detections: join(dir, 'det') };
  for (const d of Object.values(out)) mkdirSync(d, { recursive: true });
  writeFileSync(join(out.labels, `${name}.txt`), `${labelLines(cars, frames).join('\n')}\n`);
  writeFileSync(join(out.calib, `${name}.txt`), `${CALIB_TEXT}\n`);
  writeFileSync(join(out.detections, `${name}.txt`), `${detectionLines(cars, frames).join('\n')}\n`);
  return out;
}
