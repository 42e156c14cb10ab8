/**
 * Ego odometry: the vehicle's pose in the odom frame (its start pose is the origin) and its
 * speed, yaw rate and longitudinal acceleration, with small white noise (no integrated drift:
 * the pose is the true pose plus noise, so it stays comparable with ground truth).
 */
import { EGO } from '../wire/layouts.js';
import type { Prng } from './prng.js';
import type { World } from './world.js';

export interface OdometryParams {
  /** 1σ noise: position m, yaw rad, speed m/s, yaw rate rad/s, acceleration m/s². */
  positionSigma: number;
  yawSigma: number;
  speedSigma: number;
  yawRateSigma: number;
  accelSigma: number;
}

export const DEFAULT_ODOMETRY: OdometryParams = {
  positionSigma: 0.01,
  yawSigma: 0.0005,
  speedSigma: 0.02,
  yawRateSigma: 0.001,
  accelSigma: 0.05,
};

export class OdometryModel {
  /** One f64 record (x, y, yaw, speed, yawRate, accel). */
  readonly record = new Float64Array(EGO.stride);
  readonly bytes = new Uint8Array(this.record.buffer);

  constructor(
    private readonly rng: Prng,
    private readonly ideal = false,
    readonly params: OdometryParams = DEFAULT_ODOMETRY,
  ) {}

  /** Writes the current odometry record; returns 1 (the record count). */
  scan(world: World): number {
    const r = this.record;
    const p = this.params;
    const y = world.egoY - world.odomOriginY;
    if (this.ideal) {
      r[EGO.x] = world.egoX;
      r[EGO.y] = y;
      r[EGO.yaw] = world.egoYaw;
      r[EGO.speed] = world.egoV;
      r[EGO.yawRate] = world.egoYawRate;
      r[EGO.accel] = world.egoA;
      return 1;
    }
    const g = this.rng;
    r[EGO.x] = world.egoX + p.positionSigma * g.gauss();
    r[EGO.y] = y + p.positionSigma * g.gauss();
    r[EGO.yaw] = world.egoYaw + p.yawSigma * g.gauss();
    // A wheel-speed sensor never reports a negative speed, and reads 0 at standstill.
    r[EGO.speed] = world.egoV > 0 ? Math.max(0, world.egoV + p.speedSigma * g.gauss()) : 0;
    r[EGO.yawRate] = world.egoYawRate + p.yawRateSigma * g.gauss();
    r[EGO.accel] = world.egoA + p.accelSigma * g.gauss();
    return 1;
  }
}
