import type { SensorConfig } from '../wire/rig.js';
import { SensorPose, wrapAngle } from './ego-history.js';
import { S, TrackStatus, type TrackTable } from './track-table.js';

/**
 * What every measurement model knows about the scan it prepared: where it was taken (the
 * sensor's pose in odom and the ego's heading at the capture time), what the sensor covers, the
 * odom positions of the measurements kept and how many records were left out. A model keeps one,
 * begins it per scan and keeps its own per-measurement columns beside posX and posY.
 */
export class SensorScan {
  readonly pose = new SensorPose();
  /** Capture time of the scan, s (the tracker's clock); tracks not yet predicted to it are extrapolated. */
  timeS = 0;
  /** Ego heading in odom at the capture time: the direction of the road for new tracks. */
  egoYaw = 0;
  /** Half the sensor's horizontal field of view, rad. */
  halfFov = 0;
  /** The sensor's range, m. */
  maxRange = 0;
  /** Measurements kept. */
  count = 0;
  /** Odom position of each measurement kept, for the Euclidean pre-gate and spawning. */
  posX: Float64Array;
  posY: Float64Array;
  private readonly span = new Float64Array(2);
  /** Records rejected for NaN or impossible values. */
  invalid = 0;
  /** Valid records left out by a filter (too weak, too low, too unsure). */
  filtered = 0;

  constructor(capacity: number) {
    this.posX = new Float64Array(capacity);
    this.posY = new Float64Array(capacity);
  }

  /** Starts a scan of `sensor` taken from `pose` while the ego heads `egoYaw`; nothing kept yet. */
  begin(sensor: SensorConfig, pose: SensorPose, egoYaw: number): void {
    const p = this.pose;
    p.x = pose.x;
    p.y = pose.y;
    p.yaw = pose.yaw;
    p.vx = pose.vx;
    p.vy = pose.vy;
    this.egoYaw = egoYaw;
    this.halfFov = ((sensor.fovDeg / 2) * Math.PI) / 180;
    this.maxRange = sensor.rangeM;
    this.count = 0;
    this.invalid = 0;
    this.filtered = 0;
  }

  /**
   * Makes room for n measurements: when posX and posY are too small they grow (doubling) and the
   * new capacity is returned, for the model to grow its own columns to; otherwise 0.
   */
  reserve(n: number): number {
    if (n <= this.posX.length) return 0;
    let cap = this.posX.length;
    while (cap < n) cap *= 2;
    this.posX = new Float64Array(cap);
    this.posY = new Float64Array(cap);
    return cap;
  }

  /** Distance from the sensor to the centre of track `slot`, m. */
  rangeTo(t: TrackTable, slot: number): number {
    const o = slot * S.dim;
    return Math.hypot(t.state[o + S.x]! - this.pose.x, t.state[o + S.y]! - this.pose.y);
  }

  /**
   * Whether more than `share` of the angle track `slot`'s box subtends from the sensor is
   * hidden behind one nearer confirmed track: a line-of-sight sensor cannot see it, so not
   * seeing it is no evidence of absence.
   */
  occluded(t: TrackTable, slot: number, share: number): boolean {
    const p = this.pose;
    const o = slot * S.dim;
    const dx = t.state[o + S.x]! - p.x;
    const dy = t.state[o + S.y]! - p.y;
    const r = Math.hypot(dx, dy);
    const bearing = Math.atan2(dy, dx);
    const span = this.span;
    angularSpan(t, slot, dx, dy, bearing, span);
    const lo = span[0]!;
    const hi = span[1]!;
    for (let k = 0; k < t.capacity; k++) {
      if (k === slot || t.status[k] !== TrackStatus.confirmed) continue;
      const q = k * S.dim;
      // Tracks this scan did not need are where their velocity takes them.
      const dt = this.timeS - t.timeS[k]!;
      const kx = t.state[q + S.x]! + dt * t.state[q + S.vx]! - p.x;
      const ky = t.state[q + S.y]! + dt * t.state[q + S.vy]! - p.y;
      if (kx * kx + ky * ky >= r * r) continue;
      const kb = Math.atan2(ky, kx);
      angularSpan(t, k, kx, ky, kb, span);
      const d = wrapAngle(kb - bearing);
      const a = Math.max(lo, d + span[0]!);
      const b = Math.min(hi, d + span[1]!);
      if (b - a > share * (hi - lo)) return true;
    }
    return false;
  }

  /**
   * Whether the centre of track `slot` lies well inside the sensor's coverage: from `minRange` out
   * to `rangeShare` of its range, and within `fovShare` of its half field of view.
   */
  covers(t: TrackTable, slot: number, minRange: number, rangeShare: number, fovShare: number): boolean {
    const p = this.pose;
    const o = slot * S.dim;
    const dx = t.state[o + S.x]! - p.x;
    const dy = t.state[o + S.y]! - p.y;
    const r = Math.hypot(dx, dy);
    if (r < minRange || r > rangeShare * this.maxRange) return false;
    return Math.abs(wrapAngle(Math.atan2(dy, dx) - p.yaw)) < fovShare * this.halfFov;
  }
}

/**
 * The bearings of track `slot`'s box corners, seen from a point at offset (-dx, -dy) from its
 * centre, relative to the centre's bearing: smallest into out[0], largest into out[1].
 */
function angularSpan(
  t: TrackTable,
  slot: number,
  dx: number,
  dy: number,
  bearing: number,
  out: Float64Array,
): void {
  const c = Math.cos(t.yaw[slot]!);
  const s = Math.sin(t.yaw[slot]!);
  const hl = 0.5 * t.length[slot]!;
  const hw = 0.5 * t.width[slot]!;
  let lo = 0;
  let hi = 0;
  for (let k = 0; k < 4; k++) {
    const lx = k & 1 ? hl : -hl;
    const ly = k & 2 ? hw : -hw;
    const a = wrapAngle(Math.atan2(dy + s * lx + c * ly, dx + c * lx - s * ly) - bearing);
    if (a < lo) lo = a;
    if (a > hi) hi = a;
  }
  out[0] = lo > -Math.PI / 2 ? lo : -Math.PI / 2;
  out[1] = hi < Math.PI / 2 ? hi : Math.PI / 2;
}
