/**
 * What a lidar scan needs of the world at one instant (the ego's pose and velocity, each actor's
 * box and class, the road), copied into one Float64Array so that the scan can be cast on another
 * thread while the simulator goes on: a 115k-point scan takes ~16 ms, and a sensor thread that
 * casts it inline posts everything due meanwhile that much late.
 */
import type { Mount } from '../wire/mount.js';
import type { Road } from './road.js';
import { wrapAngle } from './trajectory.js';

/** The part of World a lidar model reads (World has it; so does SnapshotScene). */
export interface LidarScene {
  readonly road: Road;
  readonly count: number;
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly yaw: Float64Array;
  readonly length: Float64Array;
  readonly width: Float64Array;
  readonly height: Float64Array;
  readonly classId: Int32Array;
  /** The mount's pose and velocity in the world frame: x, y, yaw, vx, vy. */
  sensorPose(mount: Mount, out: Float64Array): void;
}

/** Ego state a sensor pose is made from. */
export interface EgoPose {
  egoX: number;
  egoY: number;
  egoYaw: number;
  egoVx: number;
  egoVy: number;
  egoYawRate: number;
}

/** A mount's pose and velocity in the world frame (x, y, yaw, vx, vy) from the ego's. */
export function sensorPoseOf(ego: EgoPose, mount: Mount, out: Float64Array): void {
  const c = Math.cos(ego.egoYaw);
  const s = Math.sin(ego.egoYaw);
  const rx = c * mount.x - s * mount.y;
  const ry = s * mount.x + c * mount.y;
  out[0] = ego.egoX + rx;
  out[1] = ego.egoY + ry;
  out[2] = wrapAngle(ego.egoYaw + mount.yaw);
  out[3] = ego.egoVx - ego.egoYawRate * ry;
  out[4] = ego.egoVy + ego.egoYawRate * rx;
}

const EGO_FIELDS = 6;
const ACTOR_FIELDS = 7;

/** Floats a snapshot of `actors` actors takes. */
export const snapshotLength = (actors: number): number => EGO_FIELDS + 1 + actors * ACTOR_FIELDS;

/** Copies what a lidar reads of `scene` (and the ego) into `out` (snapshotLength(count) floats). */
export function takeSnapshot(scene: LidarScene & EgoPose, out: Float64Array): Float64Array {
  out[0] = scene.egoX;
  out[1] = scene.egoY;
  out[2] = scene.egoYaw;
  out[3] = scene.egoVx;
  out[4] = scene.egoVy;
  out[5] = scene.egoYawRate;
  const n = scene.count;
  out[EGO_FIELDS] = n;
  let o = EGO_FIELDS + 1;
  for (let i = 0; i < n; i++, o += ACTOR_FIELDS) {
    out[o] = scene.x[i]!;
    out[o + 1] = scene.y[i]!;
    out[o + 2] = scene.yaw[i]!;
    out[o + 3] = scene.length[i]!;
    out[o + 4] = scene.width[i]!;
    out[o + 5] = scene.height[i]!;
    out[o + 6] = scene.classId[i]!;
  }
  return out;
}

/** A LidarScene read back from a snapshot (arrays sized once for the scenario's actors). */
export class SnapshotScene implements LidarScene, EgoPose {
  count = 0;
  egoX = 0;
  egoY = 0;
  egoYaw = 0;
  egoVx = 0;
  egoVy = 0;
  egoYawRate = 0;
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly yaw: Float64Array;
  readonly length: Float64Array;
  readonly width: Float64Array;
  readonly height: Float64Array;
  readonly classId: Int32Array;

  constructor(
    readonly road: Road,
    capacity: number,
  ) {
    this.x = new Float64Array(capacity);
    this.y = new Float64Array(capacity);
    this.yaw = new Float64Array(capacity);
    this.length = new Float64Array(capacity);
    this.width = new Float64Array(capacity);
    this.height = new Float64Array(capacity);
    this.classId = new Int32Array(capacity);
  }

  /** Loads a snapshot; throws RangeError when it holds more actors than the scene was sized for. */
  load(s: Float64Array): this {
    const n = s[EGO_FIELDS]!;
    if (n > this.x.length) throw new RangeError(`snapshot of ${n} actors; the scene holds ${this.x.length}`);
    this.egoX = s[0]!;
    this.egoY = s[1]!;
    this.egoYaw = s[2]!;
    this.egoVx = s[3]!;
    this.egoVy = s[4]!;
    this.egoYawRate = s[5]!;
    this.count = n;
    let o = EGO_FIELDS + 1;
    for (let i = 0; i < n; i++, o += ACTOR_FIELDS) {
      this.x[i] = s[o]!;
      this.y[i] = s[o + 1]!;
      this.yaw[i] = s[o + 2]!;
      this.length[i] = s[o + 3]!;
      this.width[i] = s[o + 4]!;
      this.height[i] = s[o + 5]!;
      this.classId[i] = s[o + 6]!;
    }
    return this;
  }

  sensorPose(mount: Mount, out: Float64Array): void {
    sensorPoseOf(this, mount, out);
  }
}
