/**
 * Plausibility of a payload's values, per sensor kind, after the layout and the finite check:
 * whether each record says something physically possible. Pure and allocation-free on the good
 * path, so ingest can run it in place on a pool slot from any thread.
 */
import { CAMERA, OBJECT, OBJECT_CLASS_COUNT, RADAR, type SensorKind } from './layouts.js';
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

const reject = (reason: Rejection['reason'], detail: string): Rejection => ({ reason, detail });

const isClass = (c: number): boolean => c >= 0 && c < OBJECT_CLASS_COUNT && c === Math.floor(c);

/**
 * Checks `count` records of `kind` in `values` (an f32 view of the payload; ego and lidar have
 * no per-record rules beyond the finite check). Returns the first problem found, naming the
 * record, the field, the value and what is allowed, or undefined when every record is plausible.
 */
export function checkPayload(kind: SensorKind, values: Float32Array, count: number): Rejection | undefined {
  switch (kind) {
    case 'objects':
      return checkObjects(values, count);
    case 'radar':
      return checkRadar(values, count);
    case 'camera':
      return checkCamera(values, count);
    default:
      return undefined;
  }
}

function checkObjects(v: Float32Array, count: number): Rejection | undefined {
  for (let i = 0; i < count; i++) {
    const o = i * OBJECT.stride;
    const at = `object ${i}`;
    const cls = v[o + OBJECT.classId]!;
    if (!isClass(cls)) {
      return reject('bad_class', `${at}: classId ${cls} is not an integer 0..${OBJECT_CLASS_COUNT - 1}`);
    }
    const score = v[o + OBJECT.score]!;
    if (!(score >= 0 && score <= 1)) return reject('bad_score', `${at}: score ${score} is outside 0..1`);
    for (const [name, k] of [
      ['length', OBJECT.length],
      ['width', OBJECT.width],
      ['height', OBJECT.height],
    ] as const) {
      const s = v[o + k]!;
      if (!(s >= 0 && s <= PLAUSIBLE.maxSizeM)) {
        return reject('bad_size', `${at}: ${name} ${s} m is outside 0..${PLAUSIBLE.maxSizeM} m`);
      }
    }
    const r = Math.hypot(v[o + OBJECT.x]!, v[o + OBJECT.y]!, v[o + OBJECT.z]!);
    if (r > PLAUSIBLE.maxRangeM) {
      return reject(
        'out_of_range',
        `${at}: centre ${r.toFixed(0)} m from the sensor; at most ${PLAUSIBLE.maxRangeM} m`,
      );
    }
    const varX = v[o + OBJECT.varX]!;
    const varY = v[o + OBJECT.varY]!;
    const cov = v[o + OBJECT.covXY]!;
    const varYaw = v[o + OBJECT.varYaw]!;
    const varV = v[o + OBJECT.varV]!;
    if (varX < 0 || varY < 0 || varYaw < 0 || varV < 0 || cov * cov > varX * varY) {
      return reject(
        'bad_covariance',
        `${at}: variances must be >= 0 and covXY² <= varX·varY (varX ${varX}, covXY ${cov}, varY ${varY}, varYaw ${varYaw}, varV ${varV})`,
      );
    }
    if (varV > 0) {
      const speed = Math.hypot(v[o + OBJECT.vx]!, v[o + OBJECT.vy]!);
      if (speed > PLAUSIBLE.maxSpeedMps) {
        return reject(
          'out_of_range',
          `${at}: speed ${speed.toFixed(1)} m/s; at most ${PLAUSIBLE.maxSpeedMps} m/s`,
        );
      }
    }
  }
  return undefined;
}

function checkRadar(v: Float32Array, count: number): Rejection | undefined {
  for (let i = 0; i < count; i++) {
    const o = i * RADAR.stride;
    const range = v[o + RADAR.range]!;
    if (!(range >= 0 && range <= PLAUSIBLE.maxRangeM)) {
      return reject(
        'out_of_range',
        `detection ${i}: range ${range} m is outside 0..${PLAUSIBLE.maxRangeM} m`,
      );
    }
    const az = v[o + RADAR.azimuth]!;
    if (!(Math.abs(az) <= Math.PI)) {
      return reject('out_of_range', `detection ${i}: azimuth ${az} rad is outside -pi..pi`);
    }
    const rr = v[o + RADAR.rangeRate]!;
    if (!(Math.abs(rr) <= PLAUSIBLE.maxSpeedMps)) {
      return reject(
        'out_of_range',
        `detection ${i}: rangeRate ${rr} m/s is outside ±${PLAUSIBLE.maxSpeedMps} m/s`,
      );
    }
  }
  return undefined;
}

function checkCamera(v: Float32Array, count: number): Rejection | undefined {
  for (let i = 0; i < count; i++) {
    const o = i * CAMERA.stride;
    const at = `object ${i}`;
    const cls = v[o + CAMERA.classId]!;
    if (!isClass(cls)) {
      return reject('bad_class', `${at}: classId ${cls} is not an integer 0..${OBJECT_CLASS_COUNT - 1}`);
    }
    const conf = v[o + CAMERA.confidence]!;
    if (!(conf >= 0 && conf <= 1)) return reject('bad_score', `${at}: confidence ${conf} is outside 0..1`);
    const u0 = v[o + CAMERA.u0]!;
    const v0 = v[o + CAMERA.v0]!;
    const u1 = v[o + CAMERA.u1]!;
    const v1 = v[o + CAMERA.v1]!;
    const max = PLAUSIBLE.maxPixel;
    if (!(u0 >= 0 && v0 >= 0 && u0 <= u1 && v0 <= v1 && u1 <= max && v1 <= max)) {
      return reject(
        'bad_box',
        `${at}: box (${u0}, ${v0})-(${u1}, ${v1}) px must satisfy 0 <= u0 <= u1 <= ${max} and 0 <= v0 <= v1 <= ${max}`,
      );
    }
    const bearing = v[o + CAMERA.bearing]!;
    if (!(Math.abs(bearing) <= Math.PI)) {
      return reject('out_of_range', `${at}: bearing ${bearing} rad is outside -pi..pi`);
    }
    const range = v[o + CAMERA.range]!;
    if (!(range >= 0 && range <= PLAUSIBLE.maxRangeM)) {
      return reject('out_of_range', `${at}: range ${range} m is outside 0..${PLAUSIBLE.maxRangeM} m`);
    }
  }
  return undefined;
}
