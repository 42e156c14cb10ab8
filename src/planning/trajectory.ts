import { PLAN_POINT } from '../wire/layouts.js';

/**
 * Writes the planned trajectory as PLAN_LAYOUT points (t, x, y, v in base_link) into `out`:
 * the ego starting at `speed`, holding `accel` (stopping rather than reversing, and not
 * accelerating past `maxSpeed`), along an arc of `curvature`, sampled every `step` s from 0 to
 * `horizon` s. Returns the number of points written (limited by out's length).
 */
export function writeTrajectory(
  speed: number,
  accel: number,
  curvature: number,
  maxSpeed: number,
  horizon: number,
  step: number,
  out: Float32Array,
): number {
  const capacity = Math.floor(out.length / PLAN_POINT.stride);
  const points = Math.min(capacity, Math.floor(horizon / step + 1e-9) + 1);
  const v0 = speed > 0 ? speed : 0;
  const cap = maxSpeed > v0 ? maxSpeed : v0;
  // Times at which the speed hits 0 (braking) or the cap (accelerating); constant after.
  const tLimit = accel < 0 ? v0 / -accel : accel > 0 ? (cap - v0) / accel : Infinity;
  for (let i = 0; i < points; i++) {
    const t = i * step;
    let v: number;
    let s: number;
    if (t <= tLimit) {
      v = v0 + accel * t;
      s = v0 * t + 0.5 * accel * t * t;
    } else {
      // Exactly 0 at a stop (v0 + accel · tLimit can round below it).
      const vEnd = accel < 0 ? 0 : cap;
      v = vEnd;
      s = v0 * tLimit + 0.5 * accel * tLimit * tLimit + vEnd * (t - tLimit);
    }
    const o = i * PLAN_POINT.stride;
    out[o + PLAN_POINT.t] = t;
    if (Math.abs(curvature) < 1e-6) {
      out[o + PLAN_POINT.x] = s;
      out[o + PLAN_POINT.y] = 0.5 * curvature * s * s;
    } else {
      const a = curvature * s;
      out[o + PLAN_POINT.x] = Math.sin(a) / curvature;
      out[o + PLAN_POINT.y] = (1 - Math.cos(a)) / curvature;
    }
    out[o + PLAN_POINT.v] = v > 0 ? v : 0;
  }
  return points;
}
