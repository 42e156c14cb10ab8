/**
 * Object-list sensor model: what a 3D object detector (a lidar network such as PointRCNN or
 * CenterPoint, or a fusion ECU) reports. Each actor in range and field of view is detected
 * with a probability that falls with range and occlusion; its box centre carries noise that
 * grows with range (more along the line of sight than across it), its heading flips by 180°
 * now and then, its size is noisy, its class is sometimes confused, and its score falls with
 * range and occlusion. Low-score false positives appear at random places. Scores follow the
 * statistics of PointRCNN's Car detections on KITTI (as log-odds: true objects around 9 close by,
 * lower with range and occlusion, false positives around 1; the wire carries 1 / (1 + e^−s)).
 * The reported covariance is the model's own noise (what a calibrated detector would report).
 */
import { OBJECT, ObjectClass } from '../wire/layouts.js';
import type { SensorConfig } from '../wire/rig.js';
import type { Prng } from './prng.js';
import { wrapAngle } from './trajectory.js';
import type { World } from './world.js';

export interface ObjectListParams {
  /** Centre noise 1σ across the line of sight: a floor plus a fraction of the range (m, m/m). */
  positionSigma: number;
  positionSigmaPerM: number;
  /** Along the line of sight the noise is this many times larger (depth is harder than bearing). */
  alongRangeFactor: number;
  /** Heading noise 1σ, rad, and the probability of a 180° flip. */
  yawSigma: number;
  flipRate: number;
  /** Size noise 1σ as a fraction of each dimension. */
  sizeSigmaRel: number;
  /** Detection probability close by; falls quadratically to pdFar at the sensor's range. */
  pdNear: number;
  pdFar: number;
  /** An actor hidden behind nearer ones for more than this fraction of its angular width is missed. */
  maxOccludedFraction: number;
  /** Misclassification probability (to the look-alike class), and to `unknown`. */
  confusion: number;
  unknownRate: number;
  /**
   * Score log-odds of a true detection: mean close by, its fall to the sensor's range and with
   * full occlusion, and spread (1σ); of a false positive: mean and spread. Mean number of false
   * positives per scan.
   */
  scoreNear: number;
  scoreFallAtRange: number;
  scoreFallOccluded: number;
  scoreSigma: number;
  falsePositiveScore: number;
  falsePositiveScoreSigma: number;
  falsePositivesPerScan: number;
  maxObjects: number;
}

export const DEFAULT_OBJECT_LIST: ObjectListParams = {
  positionSigma: 0.08,
  positionSigmaPerM: 0.003,
  alongRangeFactor: 1.5,
  yawSigma: 0.04,
  flipRate: 0.03,
  sizeSigmaRel: 0.04,
  pdNear: 0.97,
  pdFar: 0.7,
  maxOccludedFraction: 0.7,
  confusion: 0.02,
  unknownRate: 0.01,
  scoreNear: 9,
  scoreFallAtRange: 6,
  scoreFallOccluded: 3,
  scoreSigma: 2,
  falsePositiveScore: 1,
  falsePositiveScoreSigma: 1.5,
  falsePositivesPerScan: 0.5,
  maxObjects: 128,
};

const LOOK_ALIKE = [
  ObjectClass.unknown,
  ObjectClass.truck,
  ObjectClass.car,
  ObjectClass.cyclist,
  ObjectClass.pedestrian,
];

/** Most actors considered for occlusion per scan (scenarios hold a handful). */
const MAX_ACTORS = 256;

export class ObjectListModel {
  /** Output records (OBJECTS_LAYOUT); the first `count` are valid. */
  readonly records: Float32Array;
  readonly bytes: Uint8Array;
  private readonly pose = new Float64Array(5);
  private readonly range = new Float64Array(MAX_ACTORS);
  private readonly bearing = new Float64Array(MAX_ACTORS);
  /** Bearings of each actor's footprint edges from the sensor, relative to its centre's. */
  private readonly angleLo = new Float64Array(MAX_ACTORS);
  private readonly angleHi = new Float64Array(MAX_ACTORS);

  constructor(
    readonly config: SensorConfig,
    private readonly rng: Prng,
    private readonly ideal = false,
    readonly params: ObjectListParams = DEFAULT_OBJECT_LIST,
  ) {
    this.records = new Float32Array(params.maxObjects * OBJECT.stride);
    this.bytes = new Uint8Array(this.records.buffer);
  }

  /** Produces one object list of the world at its current time; returns the number of objects. */
  scan(world: World): number {
    const p = this.params;
    const rng = this.rng;
    const pose = this.pose;
    world.sensorPose(this.config.mount, pose);
    const px = pose[0]!;
    const py = pose[1]!;
    const psi = pose[2]!;
    const cps = Math.cos(psi);
    const sps = Math.sin(psi);
    const rangeMax = this.config.rangeM;
    const halfFov = (this.config.fovDeg * Math.PI) / 360;
    const n = Math.min(world.count, MAX_ACTORS);
    for (let i = 0; i < n; i++) {
      const dx = world.x[i]! - px;
      const dy = world.y[i]! - py;
      this.range[i] = Math.hypot(dx, dy);
      const b = Math.atan2(-sps * dx + cps * dy, cps * dx + sps * dy);
      this.bearing[i] = b;
      // The angle the footprint subtends: its corners' bearings about the centre's.
      const c = Math.cos(world.yaw[i]!);
      const s = Math.sin(world.yaw[i]!);
      const hl = 0.5 * world.length[i]!;
      const hw = 0.5 * world.width[i]!;
      let lo = 0;
      let hi = 0;
      for (let k = 0; k < 4; k++) {
        const lx = k & 1 ? hl : -hl;
        const ly = k & 2 ? hw : -hw;
        const cx = dx + c * lx - s * ly;
        const cy = dy + s * lx + c * ly;
        const d = wrapAngle(Math.atan2(-sps * cx + cps * cy, cps * cx + sps * cy) - b);
        if (d < lo) lo = d;
        if (d > hi) hi = d;
      }
      this.angleLo[i] = Math.max(lo, -Math.PI / 2);
      this.angleHi[i] = Math.min(hi, Math.PI / 2);
    }
    const out = this.records;
    let count = 0;
    for (let i = 0; i < n && count < p.maxObjects; i++) {
      const r = this.range[i]!;
      if (r > rangeMax || r < 0.5) continue;
      if (Math.abs(this.bearing[i]!) > halfFov) continue;
      const occluded = this.occludedFraction(i, n);
      if (occluded > p.maxOccludedFraction) continue;
      const rel = r / rangeMax;
      if (!this.ideal) {
        const pd = (p.pdNear - (p.pdNear - p.pdFar) * rel * rel) * (1 - 0.5 * occluded);
        if (!rng.chance(pd)) continue;
      }
      const dxw = world.x[i]! - px;
      const dyw = world.y[i]! - py;
      let x = cps * dxw + sps * dyw;
      let y = -sps * dxw + cps * dyw;
      let yaw = wrapAngle(world.yaw[i]! - psi);
      let length = world.length[i]!;
      let width = world.width[i]!;
      let height = world.height[i]!;
      let classId = world.classId[i]!;
      let score = p.scoreNear - p.scoreFallAtRange * rel - p.scoreFallOccluded * occluded;
      const sAcross = p.positionSigma + p.positionSigmaPerM * r;
      const sAlong = p.alongRangeFactor * sAcross;
      // Line of sight in the sensor frame.
      const ux = x / r;
      const uy = y / r;
      if (!this.ideal) {
        const ea = sAlong * rng.gauss();
        const ec = sAcross * rng.gauss();
        x += ea * ux - ec * uy;
        y += ea * uy + ec * ux;
        yaw = wrapAngle(yaw + p.yawSigma * rng.gauss() + (rng.chance(p.flipRate) ? Math.PI : 0));
        length *= 1 + p.sizeSigmaRel * rng.gauss();
        width *= 1 + p.sizeSigmaRel * rng.gauss();
        height *= 1 + p.sizeSigmaRel * rng.gauss();
        const u = rng.uniform();
        if (u < p.unknownRate) classId = ObjectClass.unknown;
        else if (u < p.unknownRate + p.confusion) classId = LOOK_ALIKE[classId] ?? ObjectClass.unknown;
        score += p.scoreSigma * rng.gauss();
      }
      const o = count * OBJECT.stride;
      out[o + OBJECT.x] = x;
      out[o + OBJECT.y] = y;
      out[o + OBJECT.z] = 0.5 * world.height[i]! - this.config.mount.z;
      out[o + OBJECT.length] = Math.max(0.1, length);
      out[o + OBJECT.width] = Math.max(0.1, width);
      out[o + OBJECT.height] = Math.max(0.1, height);
      out[o + OBJECT.yaw] = yaw;
      out[o + OBJECT.classId] = classId;
      out[o + OBJECT.score] = 1 / (1 + Math.exp(-score));
      out[o + OBJECT.vx] = 0;
      out[o + OBJECT.vy] = 0;
      const a2 = sAlong * sAlong;
      const c2 = sAcross * sAcross;
      out[o + OBJECT.varX] = a2 * ux * ux + c2 * uy * uy;
      out[o + OBJECT.varY] = a2 * uy * uy + c2 * ux * ux;
      out[o + OBJECT.covXY] = (a2 - c2) * ux * uy;
      out[o + OBJECT.varYaw] = p.yawSigma * p.yawSigma;
      out[o + OBJECT.varV] = 0;
      count++;
    }
    if (!this.ideal) count = this.falsePositives(count, rangeMax, halfFov);
    return count;
  }

  /** Fraction of actor i's angular width hidden behind the nearer actor that hides most of it (0..1). */
  private occludedFraction(i: number, n: number): number {
    const lo = this.angleLo[i]!;
    const hi = this.angleHi[i]!;
    let hidden = 0;
    for (let j = 0; j < n; j++) {
      if (j === i || this.range[j]! >= this.range[i]!) continue;
      // Actor j's span in bearings relative to actor i's centre.
      const d = wrapAngle(this.bearing[j]! - this.bearing[i]!);
      const a = Math.max(lo, d + this.angleLo[j]!);
      const b = Math.min(hi, d + this.angleHi[j]!);
      if (b > a) hidden = Math.max(hidden, b - a);
    }
    return hidden / Math.max(hi - lo, 1e-9);
  }

  /** Appends Poisson-many false positives with low scores; returns the new count. */
  private falsePositives(count: number, rangeMax: number, halfFov: number): number {
    const p = this.params;
    const rng = this.rng;
    const k = rng.poisson(p.falsePositivesPerScan);
    const out = this.records;
    for (let f = 0; f < k && count < p.maxObjects; f++) {
      // Like a lidar detector's, false positives come from clutter close by (kerbs, bushes, poles).
      const r = rng.range(3, Math.min(35, 0.6 * rangeMax));
      const b = rng.range(-halfFov, halfFov);
      const car = rng.chance(0.7);
      const o = count * OBJECT.stride;
      out[o + OBJECT.x] = r * Math.cos(b);
      out[o + OBJECT.y] = r * Math.sin(b);
      out[o + OBJECT.z] = (car ? 0.75 : 0.9) - this.config.mount.z;
      out[o + OBJECT.length] = car ? rng.range(3.5, 4.8) : rng.range(0.4, 0.8);
      out[o + OBJECT.width] = car ? rng.range(1.5, 1.9) : rng.range(0.4, 0.8);
      out[o + OBJECT.height] = car ? 1.5 : 1.8;
      out[o + OBJECT.yaw] = rng.range(-Math.PI, Math.PI);
      out[o + OBJECT.classId] = car ? ObjectClass.car : ObjectClass.pedestrian;
      out[o + OBJECT.score] =
        1 / (1 + Math.exp(-(p.falsePositiveScore + p.falsePositiveScoreSigma * rng.gauss())));
      out[o + OBJECT.vx] = 0;
      out[o + OBJECT.vy] = 0;
      const s = p.positionSigma + p.positionSigmaPerM * r;
      out[o + OBJECT.varX] = s * s;
      out[o + OBJECT.covXY] = 0;
      out[o + OBJECT.varY] = s * s;
      out[o + OBJECT.varYaw] = p.yawSigma * p.yawSigma;
      out[o + OBJECT.varV] = 0;
      count++;
    }
    return count;
  }
}
