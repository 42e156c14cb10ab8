/**
 * KITTI tracking text formats, parsed with errors that name the file and line:
 * - labels (label_02/<seq>.txt) and tracking results: space-separated `frame trackId type
 *   truncated occluded alpha x1 y1 x2 y2 h w l x y z ry [score]`, rectified camera frame
 *   (x right, y down, z forward; location = bottom centre of the box; ry about the y axis);
 * - detections as AB3DMOT publishes them: comma-separated `frame, type, x1, y1, x2, y2, score,
 *   h, w, l, x, y, z, ry, alpha` (type 1 Pedestrian, 2 Car, 3 Cyclist), or result lines with
 *   track id -1;
 * - calib/<seq>.txt: `P0:`..`P3:` (3×4), `R_rect`/`R0_rect` (3×3), `Tr_velo_cam`/`Tr_velo_to_cam`
 *   and `Tr_imu_velo`/`Tr_imu_to_velo` (3×4);
 * - oxts/<seq>.txt: 30 numbers per frame (lat, lon, alt, roll, pitch, yaw, vn, ve, vf, vl, vu,
 *   ax, ay, az, af, al, au, wx, wy, wz, wf, wl, wu, …).
 */
import { readdirSync } from 'node:fs';

/** One labelled object, result or detection in one frame. */
export interface KittiObject {
  frame: number;
  /** -1 for a detection or a DontCare region. */
  trackId: number;
  /** As written: Car, Van, Truck, Pedestrian, Person_sitting, Cyclist, Tram, Misc, DontCare. */
  type: string;
  /** 0 (not), 1 (partly), 2 (largely truncated); -1 unknown. */
  truncated: number;
  /** 0 (visible), 1 (partly), 2 (largely occluded), 3 (unknown); -1 unknown. */
  occluded: number;
  alpha: number;
  /** Image box, px: left, top, right, bottom. */
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /** Box height, width, length, m. */
  h: number;
  w: number;
  l: number;
  /** Bottom centre of the box in the rectified camera frame, m. */
  x: number;
  y: number;
  z: number;
  /** Rotation about the camera's y axis, rad. */
  ry: number;
  /** Confidence; NaN when the line has none. */
  score: number;
}

/** A file that is not valid KITTI: says which file, which line, and what is wrong. */
export class KittiFormatError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'KittiFormatError';
  }
}

const DETECTION_TYPES: Record<number, string> = { 1: 'Pedestrian', 2: 'Car', 3: 'Cyclist' };

/** The numbers of a line, or an error naming the field that is not one. */
function numbers(fields: readonly string[], names: readonly string[], file: string, line: number): number[] {
  return fields.map((f, i) => {
    const v = Number(f);
    if (f === '' || !Number.isFinite(v)) {
      throw new KittiFormatError(file, line, `${names[i] ?? `field ${i + 1}`} '${f}' is not a finite number`);
    }
    return v;
  });
}

const LABEL_FIELDS = [
  'frame',
  'track id',
  'type',
  'truncated',
  'occluded',
  'alpha',
  'x1',
  'y1',
  'x2',
  'y2',
  'h',
  'w',
  'l',
  'x',
  'y',
  'z',
  'ry',
  'score',
];

function lines(text: string): string[] {
  return text.split(/\r?\n/);
}

/** Parses a label_02 file or a tracking result file (17 fields, or 18 with a score). */
export function parseTrackingFile(text: string, file: string): KittiObject[] {
  const out: KittiObject[] = [];
  lines(text).forEach((raw, i) => {
    const line = i + 1;
    const s = raw.trim();
    if (s === '') return;
    const f = s.split(/\s+/);
    if (f.length !== 17 && f.length !== 18) {
      throw new KittiFormatError(
        file,
        line,
        `${f.length} fields; a KITTI tracking line has 17 (labels) or 18 (results, with score)`,
      );
    }
    const type = f[2]!;
    if (!/^[A-Za-z_]+$/.test(type))
      throw new KittiFormatError(file, line, `type '${type}' is not a KITTI class name`);
    const n = numbers(
      [...f.slice(0, 2), ...f.slice(3)],
      [...LABEL_FIELDS.slice(0, 2), ...LABEL_FIELDS.slice(3)],
      file,
      line,
    );
    const obj = toObject(n[0]!, n[1]!, type, n.slice(2), f.length === 18 ? n[16]! : NaN);
    check(obj, file, line);
    out.push(obj);
  });
  return out;
}

/** [truncated, occluded, alpha, x1, y1, x2, y2, h, w, l, x, y, z, ry] → object. */
function toObject(
  frame: number,
  trackId: number,
  type: string,
  v: readonly number[],
  score: number,
): KittiObject {
  return {
    frame,
    trackId,
    type,
    truncated: v[0]!,
    occluded: v[1]!,
    alpha: v[2]!,
    x1: v[3]!,
    y1: v[4]!,
    x2: v[5]!,
    y2: v[6]!,
    h: v[7]!,
    w: v[8]!,
    l: v[9]!,
    x: v[10]!,
    y: v[11]!,
    z: v[12]!,
    ry: v[13]!,
    score,
  };
}

function check(o: KittiObject, file: string, line: number): void {
  if (!Number.isInteger(o.frame) || o.frame < 0) {
    throw new KittiFormatError(file, line, `frame ${o.frame} is not an integer >= 0`);
  }
  if (!Number.isInteger(o.trackId) || o.trackId < -1) {
    throw new KittiFormatError(file, line, `track id ${o.trackId} is not an integer >= -1`);
  }
  if (o.type === 'DontCare') return;
  if (!(o.h > 0 && o.w > 0 && o.l > 0)) {
    throw new KittiFormatError(file, line, `box size h ${o.h}, w ${o.w}, l ${o.l} must be > 0`);
  }
}

/** Parses a detection file: AB3DMOT's comma-separated lines, or result lines (track id -1). */
export function parseDetectionFile(text: string, file: string): KittiObject[] {
  const first = lines(text).find((l) => l.trim() !== '');
  if (first === undefined) return [];
  if (!first.includes(',')) return parseTrackingFile(text, file);
  const names = [
    'frame',
    'type',
    'x1',
    'y1',
    'x2',
    'y2',
    'score',
    'h',
    'w',
    'l',
    'x',
    'y',
    'z',
    'ry',
    'alpha',
  ];
  const out: KittiObject[] = [];
  lines(text).forEach((raw, i) => {
    const line = i + 1;
    const s = raw.trim();
    if (s === '') return;
    const f = s.split(',').map((x) => x.trim());
    if (f.length !== 15) {
      throw new KittiFormatError(
        file,
        line,
        `${f.length} fields; a detection line has 15 (frame, type, x1, y1, x2, y2, score, h, w, l, x, y, z, ry, alpha)`,
      );
    }
    const n = numbers(f, names, file, line);
    const type = DETECTION_TYPES[n[1]!];
    if (type === undefined) {
      throw new KittiFormatError(file, line, `type ${n[1]} is not 1 (Pedestrian), 2 (Car) or 3 (Cyclist)`);
    }
    const obj = toObject(n[0]!, -1, type, [-1, -1, n[14]!, ...n.slice(2, 6), ...n.slice(7, 14)], n[6]!);
    check(obj, file, line);
    out.push(obj);
  });
  return out;
}

/** Camera calibration of a sequence: P2 projects rectified camera points into image_02. */
export interface KittiCalib {
  /** 3×4, row-major. */
  P2: Float64Array;
  /** 3×3, row-major. */
  R0: Float64Array;
  /** 3×4 velodyne → camera 0, row-major. */
  veloToCam: Float64Array;
  /** 3×4 IMU (oxts) → velodyne, row-major. */
  imuToVelo: Float64Array;
}

export function parseCalibFile(text: string, file: string): KittiCalib {
  const found = new Map<string, { values: number[]; line: number }>();
  lines(text).forEach((raw, i) => {
    const s = raw.trim();
    if (s === '') return;
    const m = /^([A-Za-z0-9_]+):?\s+(.*)$/.exec(s);
    if (!m) throw new KittiFormatError(file, i + 1, `'${s.slice(0, 40)}' is not 'NAME: numbers'`);
    const f = m[2]!.trim().split(/\s+/);
    found.set(m[1]!, { values: numbers(f, [], file, i + 1), line: i + 1 });
  });
  const get = (names: string[], count: number): Float64Array => {
    for (const n of names) {
      const e = found.get(n);
      if (!e) continue;
      if (e.values.length !== count) {
        throw new KittiFormatError(file, e.line, `${n} has ${e.values.length} numbers; expected ${count}`);
      }
      return Float64Array.from(e.values);
    }
    throw new KittiFormatError(file, 0, `no ${names.join(' or ')} entry`);
  };
  return {
    P2: get(['P2'], 12),
    R0: get(['R0_rect', 'R_rect'], 9),
    veloToCam: get(['Tr_velo_to_cam', 'Tr_velo_cam'], 12),
    imuToVelo: get(['Tr_imu_to_velo', 'Tr_imu_velo'], 12),
  };
}

/** One oxts record: the fields the importer uses. */
export interface OxtsRecord {
  lat: number;
  lon: number;
  yaw: number;
  /** Forward speed m/s, yaw rate about the up axis rad/s, forward acceleration m/s². */
  vf: number;
  wu: number;
  af: number;
}

export function parseOxtsFile(text: string, file: string): OxtsRecord[] {
  const out: OxtsRecord[] = [];
  lines(text).forEach((raw, i) => {
    const s = raw.trim();
    if (s === '') return;
    const f = s.split(/\s+/);
    if (f.length < 23) throw new KittiFormatError(file, i + 1, `${f.length} fields; an oxts line has 30`);
    const n = numbers(f.slice(0, 23), [], file, i + 1);
    if (Math.abs(n[0]!) > 90 || Math.abs(n[1]!) > 180) {
      throw new KittiFormatError(file, i + 1, `latitude ${n[0]} / longitude ${n[1]} out of range`);
    }
    out.push({ lat: n[0]!, lon: n[1]!, yaw: n[5]!, vf: n[8]!, wu: n[22]!, af: n[14]! });
  });
  return out;
}

/** One line of a KITTI tracking result file (what `formatTrackingLine` writes). */
export function formatTrackingLine(o: KittiObject): string {
  const f = (v: number, d = 6): string => v.toFixed(d);
  return [
    o.frame,
    o.trackId,
    o.type,
    o.truncated,
    o.occluded,
    f(o.alpha),
    f(o.x1, 2),
    f(o.y1, 2),
    f(o.x2, 2),
    f(o.y2, 2),
    f(o.h),
    f(o.w),
    f(o.l),
    f(o.x),
    f(o.y),
    f(o.z),
    f(o.ry),
    f(o.score),
  ].join(' ');
}

/** Sequence names: the comma-separated `list`, or else every `<name>.txt` in `dir`, sorted. */
export function sequenceNames(list: string | undefined, dir: string): string[] {
  if (list !== undefined) {
    return list
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  }
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .map((f) => f.slice(0, -4))
    .sort();
}
