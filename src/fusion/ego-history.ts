import {
  TypedArrayArena,
  copyTypedArrays,
  typedArrayFields,
  type ArenaArray,
} from '../pool/typed-array-arena.js';
import { EGO } from '../wire/layouts.js';
import type { Mount } from '../wire/mount.js';

/** Ego pose and motion at one instant, odom frame. */
export class EgoPose {
  x = 0;
  y = 0;
  yaw = 0;
  speed = 0;
  yawRate = 0;
  accel = 0;
}

/** A sensor's pose and velocity over ground at one instant, odom frame. */
export class SensorPose {
  x = 0;
  y = 0;
  yaw = 0;
  vx = 0;
  vy = 0;
}

/** Wraps an angle into [-π, π). */
export function wrapAngle(a: number): number {
  if (a >= -Math.PI && a < Math.PI) return a;
  return a - 2 * Math.PI * Math.floor((a + Math.PI) / (2 * Math.PI));
}

/**
 * Ring buffer of odometry records, so a measurement can be placed with the ego pose at its own
 * capture time: interpolated between records, or extrapolated (constant yaw rate and
 * acceleration) beyond the newest or before the oldest.
 */
export class EgoHistory {
  private readonly t: Float64Array;
  private readonly rec: Float64Array;
  /**
   * [head, count] of the ring: in an array like the records, so that a history laid out in
   * shared memory holds all of its state and `copyFrom` copies it (all zero: empty).
   */
  private readonly ring: Uint32Array;
  /** Every typed-array field, in property order (what copyFrom copies). */
  private readonly arrays: readonly ArenaArray[];

  /**
   * A ring of `capacity` records; its arrays are placed in `arena` (shared memory, e.g. a
   * tracker snapshot), or are ordinary arrays without one.
   */
  constructor(
    readonly capacity = 256,
    arena: TypedArrayArena = TypedArrayArena.measuring('EgoHistory'),
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`EgoHistory: bad capacity ${capacity}`);
    this.t = arena.f64(capacity, 'EgoHistory.t');
    this.rec = arena.f64(capacity * EGO.stride, 'EgoHistory.rec');
    this.ring = arena.u32(2, 'EgoHistory.ring');
    this.arrays = typedArrayFields(this);
  }

  private get head(): number {
    return this.ring[0]!;
  }

  private get count(): number {
    return this.ring[1]!;
  }

  get size(): number {
    return this.count;
  }

  /** Time of the newest record, or -Infinity. */
  get newestS(): number {
    return this.count === 0 ? -Infinity : this.t[(this.head + this.count - 1) % this.capacity]!;
  }

  clear(): void {
    this.ring[0] = 0;
    this.ring[1] = 0;
  }

  /**
   * Makes this history an exact copy of `other` (same capacity): records, times and ring
   * position, every typed-array field found by reflection. No allocation.
   */
  copyFrom(other: EgoHistory): void {
    if (other.capacity !== this.capacity) {
      throw new Error(`EgoHistory.copyFrom: capacity ${other.capacity} into ${this.capacity}`);
    }
    copyTypedArrays(this.arrays, other.arrays, 'EgoHistory.copyFrom');
  }

  /** Appends a record; returns false (and keeps nothing) if it is older than the newest one. */
  push(record: Float64Array, tS: number): boolean {
    const count = this.count;
    if (count > 0 && tS < this.newestS) return false;
    const head = this.head;
    let idx: number;
    if (count < this.capacity) {
      idx = (head + count) % this.capacity;
      this.ring[1] = count + 1;
    } else {
      idx = head;
      this.ring[0] = (head + 1) % this.capacity;
    }
    this.t[idx] = tS;
    const o = idx * EGO.stride;
    for (let i = 0; i < EGO.stride; i++) this.rec[o + i] = record[i]!;
    return true;
  }

  /**
   * Ego pose at tS from the newest record at or before tS, extrapolated to tS (constant yaw rate
   * and acceleration; before the oldest record, back from it). Causal on purpose: a record newer
   * than tS is never used, so a scan fused again after a rewind (out-of-sequence measurements)
   * sees the very pose it saw in stamp order. Returns how far (s) the pose was extrapolated;
   * with no records the pose is the origin at rest.
   */
  poseAt(tS: number, out: EgoPose): number {
    if (this.count === 0) {
      out.x = 0;
      out.y = 0;
      out.yaw = 0;
      out.speed = 0;
      out.yawRate = 0;
      out.accel = 0;
      return 0;
    }
    const cap = this.capacity;
    const newest = (this.head + this.count - 1) % cap;
    if (tS >= this.t[newest]!) {
      const dt = tS - this.t[newest]!;
      this.extrapolate(newest, dt, out);
      return dt;
    }
    const oldest = this.head;
    if (tS <= this.t[oldest]!) {
      const dt = tS - this.t[oldest]!;
      this.extrapolate(oldest, dt, out);
      return -dt;
    }
    // Binary search for the last record at or before tS.
    let lo = 0;
    let hi = this.count - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (this.t[(this.head + mid) % cap]! <= tS) lo = mid;
      else hi = mid;
    }
    const a = (this.head + lo) % cap;
    const dt = tS - this.t[a]!;
    this.extrapolate(a, dt, out);
    return dt;
  }

  private extrapolate(idx: number, dt: number, out: EgoPose): void {
    const o = idx * EGO.stride;
    const r = this.rec;
    const v = r[o + EGO.speed]!;
    const w = r[o + EGO.yawRate]!;
    const a = r[o + EGO.accel]!;
    const yaw = r[o + EGO.yaw]!;
    // Distance along the arc with the heading at mid-interval: second order in dt, exact for
    // straight motion, and valid for negative dt too.
    const s = v * dt + 0.5 * a * dt * dt;
    const mid = yaw + 0.5 * w * dt;
    out.x = r[o + EGO.x]! + s * Math.cos(mid);
    out.y = r[o + EGO.y]! + s * Math.sin(mid);
    out.yaw = wrapAngle(yaw + w * dt);
    out.speed = v + a * dt;
    out.yawRate = w;
    out.accel = a;
  }
}

/** Pose and velocity over ground of a sensor mounted at `mount` on an ego at `ego`. */
export function sensorPoseOf(ego: EgoPose, mount: Mount, out: SensorPose): void {
  const c = Math.cos(ego.yaw);
  const s = Math.sin(ego.yaw);
  const rx = c * mount.x - s * mount.y;
  const ry = s * mount.x + c * mount.y;
  out.x = ego.x + rx;
  out.y = ego.y + ry;
  out.yaw = wrapAngle(ego.yaw + mount.yaw);
  // Lever-arm term: a sensor ahead of the rear axle moves sideways when the car yaws.
  out.vx = ego.speed * c - ego.yawRate * ry;
  out.vy = ego.speed * s + ego.yawRate * rx;
}
