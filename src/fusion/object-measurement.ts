import { OBJECT, OBJECT_CLASS_COUNT, ObjectClass } from '../wire/layouts.js';
import type { SensorConfig } from '../wire/rig.js';
import type { Linearization } from './linearization.js';
import { type EgoPose, type SensorPose, wrapAngle } from './ego-history.js';
import {
  addClassEvidence,
  fuseBoxHeading,
  initTrackUncertainty,
  startBoxHeading,
  takeHeadingRate,
  refreshDimensions,
  type MeasurementBatch,
} from './measurement-model.js';
import { MotionModel, motionModelOf } from './motion-model.js';
import { SensorScan } from './sensor-scan.js';
import type { TrackerConfig } from './tracker-config.js';
import { CLASS_DIMENSIONS, COV_SIZE, S, type TrackTable } from './track-table.js';

/** Existence log-odds are kept within ±LOGIT_LIMIT (probability 0.0009 .. 0.9991). */
const LOGIT_LIMIT = 7;
/** Records farther than this from the sensor (m) or with a larger side are refused as impossible. */
const MAX_RANGE_M = 1000;
const MAX_SIZE_M = 50;

const logit = (p: number): number => {
  const q = p < 1e-6 ? 1e-6 : p > 1 - 1e-6 ? 1 - 1e-6 : p;
  return Math.log(q / (1 - q));
};
const sigmoid = (l: number): number => {
  const c = l > LOGIT_LIMIT ? LOGIT_LIMIT : l < -LOGIT_LIMIT ? -LOGIT_LIMIT : l;
  return 1 / (1 + Math.exp(-c));
};

/**
 * Object-list measurement model: a detector's 3D box, z = box centre in odom, H = [I 0], R from
 * the record's covariance or, when it gives none, a range-dependent model (more along the line
 * of sight than across, more along a long box). The box heading, size, height and class update
 * the track outside the filter; a vehicle's velocity is pulled along its measured heading by a
 * pseudo-measurement; a measured velocity is a second update. The detection score drives birth
 * and existence: a confident detection starts a track that is soon confirmed, a low-scoring one
 * lowers the existence of the track it updates.
 */
export class ObjectMeasurements implements MeasurementBatch {
  readonly kind = 'objects' as const;
  readonly dim = 2;
  readonly scan = new SensorScan(64);
  private rxx = new Float64Array(64);
  private rxy = new Float64Array(64);
  private ryy = new Float64Array(64);
  private yaw = new Float64Array(64);
  private yawVar = new Float64Array(64);
  private length = new Float64Array(64);
  private width = new Float64Array(64);
  private height = new Float64Array(64);
  private z = new Float64Array(64);
  private vx = new Float64Array(64);
  private vy = new Float64Array(64);
  private varV = new Float64Array(64);
  private score = new Float64Array(64);
  private range = new Float64Array(64);
  private classId = new Uint8Array(64);

  constructor(private readonly cfg: Readonly<TrackerConfig>) {}

  /** Validates and converts `count` OBJECTS_LAYOUT records (sensor frame) taken from `pose`. */
  prepare(objs: Float32Array, count: number, sensor: SensorConfig, ego: EgoPose, pose: SensorPose): void {
    this.ensure(count);
    const cfg = this.cfg;
    const scan = this.scan;
    scan.begin(sensor, pose, ego.yaw);
    const c = Math.cos(pose.yaw);
    const s = Math.sin(pose.yaw);
    let n = 0;
    for (let i = 0; i < count; i++) {
      const o = i * OBJECT.stride;
      const x = objs[o + OBJECT.x]!;
      const y = objs[o + OBJECT.y]!;
      const z = objs[o + OBJECT.z]!;
      const len = objs[o + OBJECT.length]!;
      const wid = objs[o + OBJECT.width]!;
      const hgt = objs[o + OBJECT.height]!;
      const yaw = objs[o + OBJECT.yaw]!;
      const cls = objs[o + OBJECT.classId]!;
      const score = objs[o + OBJECT.score]!;
      const varX = objs[o + OBJECT.varX]!;
      const covXY = objs[o + OBJECT.covXY]!;
      const varY = objs[o + OBJECT.varY]!;
      const varYaw = objs[o + OBJECT.varYaw]!;
      const varV = objs[o + OBJECT.varV]!;
      const vx = objs[o + OBJECT.vx]!;
      const vy = objs[o + OBJECT.vy]!;
      const r = Math.hypot(x, y);
      // Ingest refuses such records; the tracker is also fed directly, so it checks again.
      if (
        !(r <= MAX_RANGE_M && Math.abs(z) <= MAX_RANGE_M) ||
        !(len >= 0 && len <= MAX_SIZE_M && wid >= 0 && wid <= MAX_SIZE_M && hgt >= 0 && hgt <= MAX_SIZE_M) ||
        !(cls >= 0 && cls < OBJECT_CLASS_COUNT && cls === Math.floor(cls)) ||
        !(score >= 0 && score <= 1) ||
        !Number.isFinite(yaw) ||
        !(varX >= 0 && varY >= 0 && varYaw >= 0 && varV >= 0 && covXY * covXY <= varX * varY) ||
        !(Number.isFinite(vx) && Number.isFinite(vy))
      ) {
        scan.invalid++;
        continue;
      }
      scan.posX[n] = pose.x + c * x - s * y;
      scan.posY[n] = pose.y + s * x + c * y;
      const yawOdom = wrapAngle(pose.yaw + yaw);
      this.yaw[n] = yawOdom;
      this.yawVar[n] = varYaw > 0 ? varYaw : cfg.objectsYawStd ** 2;
      this.length[n] = len;
      this.width[n] = wid;
      this.height[n] = hgt;
      this.z[n] = sensor.mount.z + z;
      this.classId[n] = cls;
      this.score[n] = score;
      this.range[n] = r;
      if (varX + varY > 0) {
        // The record's covariance, turned from sensor axes into odom.
        this.rxx[n] = c * c * varX - 2 * c * s * covXY + s * s * varY;
        this.ryy[n] = s * s * varX + 2 * c * s * covXY + c * c * varY;
        this.rxy[n] = c * s * (varX - varY) + (c * c - s * s) * covXY;
      } else {
        const across = cfg.objectsPositionStd + cfg.objectsPositionStdPerM * r;
        const along = cfg.objectsAlongRangeFactor * across;
        const ux = r > 1e-6 ? (c * x - s * y) / r : 1;
        const uy = r > 1e-6 ? (s * x + c * y) / r : 0;
        const a2 = along * along;
        const c2 = across * across;
        const b2 = (cfg.objectsSizeStd * len) ** 2;
        const bx = Math.cos(yawOdom);
        const by = Math.sin(yawOdom);
        this.rxx[n] = a2 * ux * ux + c2 * uy * uy + b2 * bx * bx;
        this.ryy[n] = a2 * uy * uy + c2 * ux * ux + b2 * by * by;
        this.rxy[n] = (a2 - c2) * ux * uy + b2 * bx * by;
      }
      if (varV > 0) {
        this.vx[n] = c * vx - s * vy;
        this.vy[n] = s * vx + c * vy;
      }
      this.varV[n] = varV;
      n++;
    }
    scan.count = n;
  }

  preGateRadius(m: number): number {
    return 3 + 4 * Math.sqrt(Math.max(this.rxx[m]!, this.ryy[m]!)) + 0.5 * this.length[m]!;
  }

  innovation(t: TrackTable, slot: number, m: number, lin: Linearization): boolean {
    const { nu, H, R } = lin;
    lin.key = 0;
    const o = slot * S.dim;
    nu[0] = this.scan.posX[m]! - t.state[o + S.x]!;
    nu[1] = this.scan.posY[m]! - t.state[o + S.y]!;
    H.fill(0, 0, 2 * S.dim);
    H[S.x] = 1;
    H[S.dim + S.y] = 1;
    R[0] = this.rxx[m]!;
    R[1] = R[2] = this.rxy[m]!;
    R[3] = this.ryy[m]!;
    return true;
  }

  detectable(t: TrackTable, slot: number): boolean {
    return this.scan.covers(t, slot, 0.5, 0.9, 0.95);
  }

  /**
   * A detection's calibrated probability of being true from score log-odds l at range r from the
   * sensor: σ(scale · l + bias + rangeGain · min(r, rangeCap)).
   */
  private calibrated(scoreLogit: number, r: number): number {
    const cfg = this.cfg;
    const range = r < cfg.objectsScoreRangeCap ? r : cfg.objectsScoreRangeCap;
    return sigmoid(
      cfg.objectsScoreScale * scoreLogit + cfg.objectsScoreBias + cfg.objectsScoreRangeGain * range,
    );
  }

  maySpawn(m: number): boolean {
    return this.calibrated(logit(this.score[m]!), this.range[m]!) >= this.cfg.objectsBirthMinProbability;
  }

  birthExistence(m: number): number {
    return this.calibrated(logit(this.score[m]!), this.range[m]!);
  }

  /**
   * The track's detection scores are averaged (as log-odds, with memory objectsScoreMemory) and
   * its existence is their calibrated probability: a track fed by repeated weak detections (a
   * detector's persistent false positive) stays weak, one with a single weak detection among
   * strong ones stays strong.
   */
  existenceOnHit(t: TrackTable, slot: number, m: number): number {
    const l = t.scoreLogit[slot]!;
    t.scoreLogit[slot] = l + this.cfg.objectsScoreMemory * (logit(this.score[m]!) - l);
    return this.calibrated(t.scoreLogit[slot]!, this.range[m]!);
  }

  initialize(t: TrackTable, slot: number, m: number, tS: number): void {
    const cfg = this.cfg;
    const cls = this.classId[m]!;
    t.classId[slot] = cls;
    t.shapeClass[slot] = cls;
    addClassEvidence(t, slot, cls, this.score[m]!);
    const o = slot * S.dim;
    t.state[o + S.x] = this.scan.posX[m]!;
    t.state[o + S.y] = this.scan.posY[m]!;
    startBoxHeading(t, slot, this.yaw[m]!, this.yawVar[m]!, cfg.initialYawRateStd, tS);
    t.scoreLogit[slot] = logit(this.score[m]!);
    this.takeSize(t, slot, m, 1);
    // Vehicles move along their heading, other objects along the road (the ego's heading).
    const vehicle = motionModelOf(cls) === MotionModel.turn;
    const p = this.scan.pose;
    const dx = this.scan.posX[m]! - p.x;
    const dy = this.scan.posY[m]! - p.y;
    const r = Math.hypot(dx, dy);
    const ux = r > 1e-6 ? dx / r : 1;
    const uy = r > 1e-6 ? dy / r : 0;
    initTrackUncertainty(t, slot, cfg, vehicle ? this.yaw[m]! : this.scan.egoYaw, ux, uy, 1, 1, NaN);
    const c = slot * COV_SIZE;
    const n = S.dim;
    t.cov[c + S.x * n + S.x] = this.rxx[m]!;
    t.cov[c + S.y * n + S.y] = this.ryy[m]!;
    t.cov[c + S.x * n + S.y] = t.cov[c + S.y * n + S.x] = this.rxy[m]!;
    if (this.varV[m]! > 0) {
      t.state[o + S.vx] = this.vx[m]!;
      t.state[o + S.vy] = this.vy[m]!;
      t.cov[c + S.vx * n + S.vx] = t.cov[c + S.vy * n + S.vy] = this.varV[m]!;
      t.cov[c + S.vx * n + S.vy] = t.cov[c + S.vy * n + S.vx] = 0;
    }
  }

  afterUpdate(t: TrackTable, slot: number, m: number, tS: number): void {
    fuseBoxHeading(t, slot, this.yaw[m]!, this.yawVar[m]!, tS);
    // A vehicle turns as its box does: the box heading's rate is its yaw rate.
    const cls = t.classId[slot] !== ObjectClass.unknown ? t.classId[slot]! : t.shapeClass[slot]!;
    if (motionModelOf(cls) === MotionModel.turn) takeHeadingRate(t, slot);
    this.takeSize(t, slot, m, this.cfg.objectsSizeGain);
    addClassEvidence(t, slot, this.classId[m]!, this.score[m]!);
  }

  extraUpdate(t: TrackTable, slot: number, m: number, lin: Linearization): number {
    const { nu, H, R } = lin;
    lin.key = 0;
    const o = slot * S.dim;
    const vx = t.state[o + S.vx]!;
    const vy = t.state[o + S.vy]!;
    if (this.varV[m]! > 0) {
      nu[0] = this.vx[m]! - vx;
      nu[1] = this.vy[m]! - vy;
      H.fill(0, 0, 2 * S.dim);
      H[S.vx] = 1;
      H[S.dim + S.vy] = 1;
      R[0] = R[3] = this.varV[m]!;
      R[1] = R[2] = 0;
      return 2;
    }
    const cls = t.classId[slot] !== ObjectClass.unknown ? t.classId[slot]! : t.shapeClass[slot]!;
    const sigma = this.cfg.objectsLateralVelocityStd;
    if (!(sigma > 0) || motionModelOf(cls) !== MotionModel.turn) return 0;
    // Velocity across the measured heading (either direction of the box axis gives the same).
    const nx = -Math.sin(this.yaw[m]!);
    const ny = Math.cos(this.yaw[m]!);
    nu[0] = -(nx * vx + ny * vy);
    H.fill(0, 0, S.dim);
    H[S.vx] = nx;
    H[S.vy] = ny;
    R[0] = sigma * sigma + (vx * vx + vy * vy) * this.yawVar[m]!;
    return 1;
  }

  /** Moves the track's size, height and centre height toward detection m's by `gain` (1 = take it). */
  private takeSize(t: TrackTable, slot: number, m: number, gain: number): void {
    let len = this.length[m]!;
    let wid = this.width[m]!;
    // A box whose axes lie across the track's heading describes the object turned by 90°.
    if (Math.abs(Math.cos(wrapAngle(this.yaw[m]! - t.yaw[slot]!))) < Math.SQRT1_2) {
      const l = len;
      len = wid;
      wid = l;
    }
    if (len > 0 && wid > 0) {
      const first = !(t.dimsKnown[slot]! & 3) || gain >= 1;
      t.seenLength[slot] = first ? len : t.seenLength[slot]! + gain * (len - t.seenLength[slot]!);
      t.seenWidth[slot] = first ? wid : t.seenWidth[slot]! + gain * (wid - t.seenWidth[slot]!);
      t.dimsKnown[slot] = t.dimsKnown[slot]! | 3;
      refreshDimensions(t, slot);
    }
    const h = this.height[m]! > 0 ? this.height[m]! : CLASS_DIMENSIONS[t.shapeClass[slot]!]!.height;
    t.height[slot] = t.height[slot]! + gain * (h - t.height[slot]!);
    t.z[slot] = t.z[slot]! + gain * (this.z[m]! - t.z[slot]!);
  }

  private ensure(n: number): void {
    const cap = this.scan.reserve(n);
    if (cap === 0) return;
    this.rxx = new Float64Array(cap);
    this.rxy = new Float64Array(cap);
    this.ryy = new Float64Array(cap);
    this.yaw = new Float64Array(cap);
    this.yawVar = new Float64Array(cap);
    this.length = new Float64Array(cap);
    this.width = new Float64Array(cap);
    this.height = new Float64Array(cap);
    this.z = new Float64Array(cap);
    this.vx = new Float64Array(cap);
    this.vy = new Float64Array(cap);
    this.varV = new Float64Array(cap);
    this.score = new Float64Array(cap);
    this.range = new Float64Array(cap);
    this.classId = new Uint8Array(cap);
  }
}
