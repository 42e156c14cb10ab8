/**
 * Plausibility of a payload's values, per sensor kind, after the layout and the finite check:
 * whether each record says something physically possible. Finite is not plausible: an ego speed
 * of 1e39 m/s is finite in float64 and would make every later computation overflow. Pure and
 * allocation-free on the good path, so ingest can run it in place on a pool slot from any thread.
 */
import { CAMERA, LAYOUTS, OBJECT, OBJECT_CLASS_COUNT, type SensorKind } from './layouts.js';
import type { Rejection } from './reject-reason.js';

/** Limits a record must respect. Chosen far beyond any real sensor so only nonsense is refused. */
export const PLAUSIBLE = {
  /** Largest distance of an object or radar detection from its sensor, m. */
  maxRangeM: 1000,
  /** Largest speed of an object over ground, and largest radar range rate, m/s (540 km/h). */
  maxSpeedMps: 150,
  /** Largest box side, m. */
  maxSizeM: 50,
  /** Largest image coordinate of a camera box, px (an 16k-wide sensor). */
  maxPixel: 16384,
} as const;

/** The physical range of one field: values outside [min, max] are refused as `implausible`. */
export interface FieldRange {
  readonly min: number;
  readonly max: number;
  readonly unit: string;
}

const r = (min: number, max: number, unit = ''): FieldRange => ({ min, max, unit });
const RANGE_M = r(-PLAUSIBLE.maxRangeM, PLAUSIBLE.maxRangeM, 'm');
const SPEED = r(-PLAUSIBLE.maxSpeedMps, PLAUSIBLE.maxSpeedMps, 'm/s');
const SIZE = r(0, PLAUSIBLE.maxSizeM, 'm');
const PIXEL = r(0, PLAUSIBLE.maxPixel, 'px');
const ANGLE = r(-Math.PI, Math.PI, 'rad');
const UNIT = r(0, 1);
/** classId: an integer 0..4 (ObjectClass); a bad one is `bad_class`. */
const CLASS = r(0, OBJECT_CLASS_COUNT - 1);

/**
 * Every numeric field of every sensor kind, in the layout's field order (README, "Plausibility").
 * `classId` is checked as a class (`bad_class`), and two relations on top of the ranges: a camera
 * box's corners in order (`bad_box`), an objects covariance positive semidefinite (`bad_covariance`).
 */
export const FIELD_RANGES: Readonly<Record<SensorKind, readonly FieldRange[]>> = {
  // x, y, z, intensity (normalised 0..1, or an 8- or 16-bit raw value; -1 leaves room for noise)
  lidar: [RANGE_M, RANGE_M, RANGE_M, r(-1, 65535)],
  // range, azimuth, rangeRate, rcs
  radar: [r(0, PLAUSIBLE.maxRangeM, 'm'), ANGLE, SPEED, r(-100, 100, 'dBsm')],
  // classId, confidence, u0, v0, u1, v1, bearing, range
  camera: [CLASS, UNIT, PIXEL, PIXEL, PIXEL, PIXEL, ANGLE, r(0, PLAUSIBLE.maxRangeM, 'm')],
  // x, y, z, length, width, height, yaw, classId, score, vx, vy, varX, covXY, varY, varYaw, varV
  objects: [
    RANGE_M,
    RANGE_M,
    RANGE_M,
    SIZE,
    SIZE,
    SIZE,
    r(-2 * Math.PI, 2 * Math.PI, 'rad'),
    CLASS,
    UNIT,
    SPEED,
    SPEED,
    r(0, 1e6, 'm²'),
    r(-1e6, 1e6, 'm²'),
    r(0, 1e6, 'm²'),
    r(0, 100, 'rad²'),
    r(0, 1e4, '(m/s)²'),
  ],
  // x, y (odom: 10,000 km of drift), yaw (odom, may be unwrapped), speed (reverse to 430 km/h),
  // yawRate (~290°/s), accel (3 g: a crash, not driving)
  ego: [
    r(-1e7, 1e7, 'm'),
    r(-1e7, 1e7, 'm'),
    r(-1e6, 1e6, 'rad'),
    r(-30, 120, 'm/s'),
    r(-5, 5, 'rad/s'),
    r(-30, 30, 'm/s²'),
  ],
};

const reject = (reason: Rejection['reason'], detail: string): Rejection => ({ reason, detail });

const RECORD_NAME: Readonly<Record<SensorKind, string>> = {
  lidar: 'point',
  radar: 'detection',
  camera: 'object',
  objects: 'object',
  ego: 'record',
};

const fmt = (x: number): string =>
  Math.abs(x) >= 1e6 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(3) : `${+x.toFixed(4)}`;

function outside(kind: SensorKind, i: number, field: number, value: number): Rejection {
  const name = LAYOUTS[kind].fields[field]!;
  const range = FIELD_RANGES[kind][field]!;
  if (range === CLASS) {
    return reject(
      'bad_class',
      `${RECORD_NAME[kind]} ${i}: classId ${value} is not an integer 0..${range.max}`,
    );
  }
  const { min, max, unit } = range;
  const u = unit ? ` ${unit}` : '';
  return reject(
    'implausible',
    `${RECORD_NAME[kind]} ${i}: ${name} ${fmt(value)}${u} is outside ${fmt(min)}..${fmt(max)}${u}`,
  );
}

/**
 * Checks `count` records of `kind` in `values` (a view of the payload in the layout's scalar
 * type: f64 for ego, f32 for the rest; already known finite). Returns the first problem found,
 * naming the record, the field, the value and what is allowed, or undefined when every record
 * is plausible.
 */
export function checkPayload(
  kind: SensorKind,
  values: Float32Array | Float64Array,
  count: number,
): Rejection | undefined {
  if (kind === 'lidar') return checkLidar(values, count);
  const ranges = FIELD_RANGES[kind];
  const stride = ranges.length;
  for (let i = 0; i < count; i++) {
    const o = i * stride;
    for (let f = 0; f < stride; f++) {
      const x = values[o + f]!;
      const range = ranges[f]!;
      if (!(x >= range.min && x <= range.max) || (range === CLASS && x !== Math.floor(x))) {
        return outside(kind, i, f, x);
      }
    }
    if (kind === 'objects') {
      const bad = checkObject(values, o, i);
      if (bad) return bad;
    } else if (kind === 'camera') {
      const bad = checkCamera(values, o, i);
      if (bad) return bad;
    }
  }
  return undefined;
}

const LIDAR_FIELDS = LAYOUTS.lidar.fields;
const [LX, LY, LZ, LI] = FIELD_RANGES.lidar as [FieldRange, FieldRange, FieldRange, FieldRange];

/**
 * Lidar scans hold up to a few hundred thousand points: one flat loop over constant bounds that
 * also catches NaN and ±Inf (every comparison with NaN is false), so a scan is read once.
 */
function checkLidar(v: Float32Array | Float64Array, count: number): Rejection | undefined {
  const m = PLAUSIBLE.maxRangeM;
  const minI = LI.min;
  const maxI = LI.max;
  const n = count * 4;
  for (let o = 0; o < n; o += 4) {
    const x = v[o]!;
    const y = v[o + 1]!;
    const z = v[o + 2]!;
    const i = v[o + 3]!;
    if (!(x >= -m && x <= m && y >= -m && y <= m && z >= -m && z <= m && i >= minI && i <= maxI)) {
      for (let f = 0; f < 4; f++) {
        if (!Number.isFinite(v[o + f]!))
          return reject('non_finite', `point ${o / 4}: ${LIDAR_FIELDS[f]} is NaN or Inf`);
      }
      const f = !(x >= LX.min && x <= LX.max)
        ? 0
        : !(y >= LY.min && y <= LY.max)
          ? 1
          : !(z >= LZ.min && z <= LZ.max)
            ? 2
            : 3;
      return outside('lidar', o / 4, f, v[o + f]!);
    }
  }
  return undefined;
}

/** True when the first `n` elements hold no NaN or Inf; x - x is 0 only for finite x. */
function allFinite(values: Float32Array | Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (values[i]! - values[i]! !== 0) return false;
  return true;
}

/**
 * Everything ingest checks in a payload's values: no NaN or ±Inf (`non_finite`), then
 * plausibility (checkPayload). `values` views the payload in its layout's scalar type.
 */
export function checkRecords(
  kind: SensorKind,
  values: Float32Array | Float64Array,
  count: number,
): Rejection | undefined {
  if (kind === 'lidar') return checkLidar(values, count);
  if (!allFinite(values, count * FIELD_RANGES[kind].length)) {
    return reject('non_finite', 'payload holds NaN or Inf');
  }
  return checkPayload(kind, values, count);
}

function checkObject(v: Float32Array | Float64Array, o: number, i: number): Rejection | undefined {
  const at = `object ${i}`;
  const dist = Math.hypot(v[o + OBJECT.x]!, v[o + OBJECT.y]!, v[o + OBJECT.z]!);
  if (dist > PLAUSIBLE.maxRangeM) {
    return reject(
      'implausible',
      `${at}: centre (x, y, z) ${dist.toFixed(0)} m from the sensor is outside 0..${PLAUSIBLE.maxRangeM} m`,
    );
  }
  const varX = v[o + OBJECT.varX]!;
  const varY = v[o + OBJECT.varY]!;
  const cov = v[o + OBJECT.covXY]!;
  if (cov * cov > varX * varY) {
    return reject(
      'bad_covariance',
      `${at}: covXY² must be <= varX·varY (varX ${varX}, covXY ${cov}, varY ${varY})`,
    );
  }
  if (v[o + OBJECT.varV]! > 0) {
    const speed = Math.hypot(v[o + OBJECT.vx]!, v[o + OBJECT.vy]!);
    if (speed > PLAUSIBLE.maxSpeedMps) {
      return reject(
        'implausible',
        `${at}: speed (vx, vy) ${speed.toFixed(1)} m/s is outside 0..${PLAUSIBLE.maxSpeedMps} m/s`,
      );
    }
  }
  return undefined;
}

function checkCamera(v: Float32Array | Float64Array, o: number, i: number): Rejection | undefined {
  const at = `object ${i}`;
  const u0 = v[o + CAMERA.u0]!;
  const v0 = v[o + CAMERA.v0]!;
  const u1 = v[o + CAMERA.u1]!;
  const v1 = v[o + CAMERA.v1]!;
  if (!(u0 <= u1 && v0 <= v1)) {
    return reject(
      'bad_box',
      `${at}: box (${u0}, ${v0})-(${u1}, ${v1}) px must satisfy u0 <= u1 and v0 <= v1`,
    );
  }
  return undefined;
}
