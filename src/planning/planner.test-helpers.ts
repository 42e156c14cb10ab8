/** Track lists and plans for the planner's tests. */
import { EGO, ObjectClass, PLAN_POINT, TRACK, TRACK_QUALITY } from '../wire/layouts.js';
import { createPlanResult, type Planner, type PlanResult } from './planner.js';

export interface TrackSpec {
  id: number;
  classId?: number;
  x: number;
  y: number;
  vx?: number;
  vy?: number;
  ax?: number;
  length?: number;
  width?: number;
  yaw?: number;
  existence?: number;
  /** Track age, s (default 5: a mature track). */
  age?: number;
  /** Velocity standard deviation, m/s, both axes (default 0.1). */
  velStd?: number;
  /** Extents the lidar has seen (default: the box; 0 = never seen). */
  seenLength?: number;
  seenWidth?: number;
}

export const CAR = { classId: ObjectClass.car, length: 4.6, width: 1.85 };
export const PED = { classId: ObjectClass.pedestrian, length: 0.5, width: 0.5 };
/** Ego geometry as configured: front bumper 3.7 m ahead of base_link. */
export const FRONT = 3.7;

export function tracks(specs: readonly TrackSpec[]): Float32Array {
  const out = new Float32Array(Math.max(1, specs.length) * TRACK.stride);
  specs.forEach((t, i) => {
    const o = i * TRACK.stride;
    out[o + TRACK.id] = t.id;
    out[o + TRACK.classId] = t.classId ?? ObjectClass.car;
    out[o + TRACK.x] = t.x;
    out[o + TRACK.y] = t.y;
    out[o + TRACK.vx] = t.vx ?? 0;
    out[o + TRACK.vy] = t.vy ?? 0;
    out[o + TRACK.ax] = t.ax ?? 0;
    out[o + TRACK.ay] = 0;
    out[o + TRACK.length] = t.length ?? 4.6;
    out[o + TRACK.width] = t.width ?? 1.85;
    out[o + TRACK.yaw] = t.yaw ?? 0;
    out[o + TRACK.existence] = t.existence ?? 1;
  });
  return out;
}

/** TRACK_QUALITY records for the same specs. */
export function qualities(specs: readonly TrackSpec[]): Float32Array {
  const out = new Float32Array(Math.max(1, specs.length) * TRACK_QUALITY.stride);
  specs.forEach((t, i) => {
    const o = i * TRACK_QUALITY.stride;
    const pv = 0.1 * 0.1;
    const vv = (t.velStd ?? 0.1) ** 2;
    out[o + TRACK_QUALITY.age] = t.age ?? 5;
    out[o + TRACK_QUALITY.pxx] = pv;
    out[o + TRACK_QUALITY.pyy] = pv;
    out[o + TRACK_QUALITY.vxx] = vv;
    out[o + TRACK_QUALITY.vyy] = vv;
    out[o + TRACK_QUALITY.seenLength] = t.seenLength ?? t.length ?? 4.6;
    out[o + TRACK_QUALITY.seenWidth] = t.seenWidth ?? t.width ?? 1.85;
  });
  return out;
}

export function ego(speed: number, yawRate = 0, accel = 0): Float64Array {
  const e = new Float64Array(EGO.stride);
  e[EGO.speed] = speed;
  e[EGO.yawRate] = yawRate;
  e[EGO.accel] = accel;
  return e;
}

export const trajectory = new Float32Array(64 * PLAN_POINT.stride);

/** Plans on `specs` at stamp `tS` (s). */
export function plan(
  planner: Planner,
  specs: readonly TrackSpec[],
  egoRec: Float64Array,
  tS: number,
  out: PlanResult = createPlanResult(),
): PlanResult {
  planner.plan(
    {
      tracks: tracks(specs),
      quality: qualities(specs),
      count: specs.length,
      ego: egoRec,
      stampNs: BigInt(Math.round(tS * 1e9)),
    },
    out,
    trajectory,
  );
  return out;
}

/**
 * The plan for a situation held for 2 s from a fresh start (41 plans 50 ms apart), so that the
 * jerk-limited command has settled on what the planner wants.
 */
export function planOnce(
  planner: Planner,
  specs: readonly TrackSpec[],
  egoSpeed: number,
  yawRate = 0,
): PlanResult {
  planner.reset();
  const e = ego(egoSpeed, yawRate);
  plan(planner, specs, e, 0);
  for (let k = 1; k <= 40; k++) plan(planner, specs, e, k * 0.05);
  return plan(planner, specs, e, 2.05);
}

/** Centre x of a car whose rear is `gap` m ahead of the ego's front bumper. */
export const carAtGap = (gap: number, length = 4.6): number => FRONT + gap + length / 2;
