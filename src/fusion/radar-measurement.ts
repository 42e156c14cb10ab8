import { ObjectClass, RADAR } from '../wire/layouts.js';
import type { SensorConfig } from '../wire/rig.js';
import type { Linearization } from './linearization.js';
import { type SensorPose, wrapAngle } from './ego-history.js';
import {
  initTrackUncertainty,
  placeOnSightLine,
  referencePoint,
  refreshDimensions,
  type MeasurementBatch,
} from './measurement-model.js';
import { SensorScan } from './sensor-scan.js';
import { radarNoiseFor, type RadarNoise, type TrackerConfig } from './tracker-config.js';
import { S, type TrackTable } from './track-table.js';
import { VisibleFaces } from './visible-faces.js';

/** Sample points per face for the expected measurement of an extended object. */
const QUADRATURE_POINTS = 8;

/**
 * Radar measurement model: z = [range, azimuth, rangeRate] in the radar's frame.
 * The range rate is the *relative* radial speed (+ receding), so the model predicts it from the
 * track's velocity over ground minus the radar's own velocity over ground (ego speed plus the
 * lever-arm term of the yaw rate); ego motion is compensated inside h(x), not in the data.
 */
export class RadarMeasurements implements MeasurementBatch {
  readonly kind = 'radar' as const;
  readonly dim = 3;
  /** The scan; `filtered` counts detections below the RCS threshold. */
  readonly scan = new SensorScan(64);
  private range = new Float64Array(64);
  private azimuth = new Float64Array(64);
  private rangeRate = new Float64Array(64);
  private rcs = new Float64Array(64);
  private readonly ref = new Float64Array(2);
  private readonly faces = new VisibleFaces();
  private readonly zMean = new Float64Array(3);
  /** Quadrature samples (range, azimuth, range rate) along both faces. */
  private readonly quad = new Float64Array(2 * QUADRATURE_POINTS * 3);
  // Noise of the radar of the current scan.
  private rangeStd = 0;
  private azimuthStd = 0;
  private r2 = 0;
  private az2 = 0;
  private rr2 = 0;
  /** Noise per sensor id, resolved once. */
  private readonly noise = new Map<string, RadarNoise>();
  /**
   * The prediction for one track (expected measurement, H, R, azimuth of the reference point)
   * depends on the track alone, not on the detection: it is kept for the last track asked about,
   * with the state it was computed from, and reused for that track's other detections.
   */
  private readonly cached = {
    slot: -1,
    x: NaN,
    y: NaN,
    vx: NaN,
    vy: NaN,
    yaw: NaN,
    length: NaN,
    width: NaN,
    az: 0,
    key: 0,
  };
  private readonly cachedZ = new Float64Array(3);
  private readonly cachedH = new Float64Array(3 * S.dim);
  private readonly cachedR = new Float64Array(9);

  constructor(private readonly cfg: Readonly<TrackerConfig>) {}

  /** Validates and converts one scan of `count` RADAR_LAYOUT records taken from `pose`. */
  prepare(dets: Float32Array, count: number, sensor: SensorConfig, pose: SensorPose, egoYaw: number): void {
    this.ensure(count);
    const scan = this.scan;
    scan.begin(sensor, pose, egoYaw);
    this.cached.slot = -1;
    let noise = this.noise.get(sensor.id);
    if (!noise) {
      noise = radarNoiseFor(this.cfg, sensor.id, sensor.fovDeg);
      this.noise.set(sensor.id, noise);
    }
    this.rangeStd = noise.rangeStd;
    this.azimuthStd = noise.azimuthStd;
    this.r2 = noise.rangeStd ** 2;
    this.az2 = noise.azimuthStd ** 2;
    this.rr2 = noise.rangeRateStd ** 2;
    const posX = scan.posX;
    const posY = scan.posY;
    let n = 0;
    for (let i = 0; i < count; i++) {
      const o = i * RADAR.stride;
      const r = dets[o + RADAR.range]!;
      const az = dets[o + RADAR.azimuth]!;
      const rr = dets[o + RADAR.rangeRate]!;
      const rcs = dets[o + RADAR.rcs]!;
      // Comparisons are false for NaN, so each line also rejects NaN.
      if (
        !(r > 0.2 && r < 2 * scan.maxRange + 10) ||
        !(az >= -Math.PI && az <= Math.PI) ||
        !(Math.abs(rr) < 150)
      ) {
        scan.invalid++;
        continue;
      }
      if (!(rcs > -1000 && rcs < 1000)) {
        scan.invalid++;
        continue;
      }
      if (rcs < this.cfg.radarMinRcsDbsm) {
        scan.filtered++;
        continue;
      }
      this.range[n] = r;
      this.azimuth[n] = az;
      this.rangeRate[n] = rr;
      this.rcs[n] = rcs;
      const a = pose.yaw + az;
      posX[n] = pose.x + r * Math.cos(a);
      posY[n] = pose.y + r * Math.sin(a);
      n++;
    }
    scan.count = n;
  }

  preGateRadius(m: number): number {
    // Azimuth noise grows across range; 5 m covers echo spread over a car.
    return 5 + 4 * this.azimuthStd * this.range[m]!;
  }

  innovation(t: TrackTable, slot: number, m: number, lin: Linearization): boolean {
    const { nu, H, R } = lin;
    const o = slot * S.dim;
    const c = this.cached;
    if (
      c.slot !== slot ||
      c.x !== t.state[o + S.x] ||
      c.y !== t.state[o + S.y] ||
      c.vx !== t.state[o + S.vx] ||
      c.vy !== t.state[o + S.vy] ||
      c.yaw !== t.yaw[slot] ||
      c.length !== t.length[slot] ||
      c.width !== t.width[slot]
    ) {
      if (!this.predict(t, slot)) {
        c.slot = -1;
        return false;
      }
      c.slot = slot;
      c.x = t.state[o + S.x]!;
      c.y = t.state[o + S.y]!;
      c.vx = t.state[o + S.vx]!;
      c.vy = t.state[o + S.vy]!;
      c.yaw = t.yaw[slot]!;
      c.length = t.length[slot]!;
      c.width = t.width[slot]!;
      c.key = lin.nextKey();
    }
    H.set(this.cachedH);
    R.set(this.cachedR);
    lin.key = c.key;
    const z = this.cachedZ;
    nu[0] = this.range[m]! - z[0]!;
    nu[1] = wrapAngle(this.azimuth[m]! - c.az - z[1]!);
    nu[2] = this.rangeRate[m]! - z[2]!;
    return true;
  }

  /**
   * The expected measurement of track `slot` (into cachedZ, azimuth relative to cached.az), its
   * Jacobian and noise (cachedH, cachedR); false when the geometry is degenerate.
   */
  private predict(t: TrackTable, slot: number): boolean {
    const H = this.cachedH;
    const R = this.cachedR;
    const p = this.scan.pose;
    const o = slot * S.dim;
    const dvx = t.state[o + S.vx]! - p.vx;
    const dvy = t.state[o + S.vy]! - p.vy;
    const faces = this.faces;
    const extended =
      this.cfg.radarReference === 'visible-faces' &&
      faces.compute(t, slot, p.x, p.y, p.yaw, this.scan.halfFov);
    if (extended) {
      this.ref[0] = faces.meanX;
      this.ref[1] = faces.meanY;
    } else {
      referencePoint(t, slot, p.x, p.y, this.cfg.radarReference, this.ref);
    }
    const dx = this.ref[0]! - p.x;
    const dy = this.ref[1]! - p.y;
    const rSq = dx * dx + dy * dy;
    if (rSq < 0.25) return false;
    const r = Math.sqrt(rSq);
    const rr = (dvx * dx + dvy * dy) / r;
    const az = wrapAngle(Math.atan2(dy, dx) - p.yaw);
    // Jacobian at the reference point (the faces move with the centre).
    H.fill(0, 0, 3 * S.dim);
    H[S.x] = dx / r;
    H[S.y] = dy / r;
    H[S.dim + S.x] = -dy / rSq;
    H[S.dim + S.y] = dx / rSq;
    H[2 * S.dim + S.x] = dvx / r - (rr * dx) / rSq;
    H[2 * S.dim + S.y] = dvy / r - (rr * dy) / rSq;
    H[2 * S.dim + S.vx] = dx / r;
    H[2 * S.dim + S.vy] = dy / r;
    R.fill(0, 0, 9);
    const z = this.zMean;
    if (extended) {
      // Expected (range, azimuth, range rate) of returns spread uniformly over the faces, and
      // their spread, by quadrature along each face: exact where a near object makes the
      // measurement strongly nonlinear over its extent (azimuth and line of sight vary).
      this.faceMoments(faces, dvx, dvy, az, z, R);
    } else {
      z[0] = r;
      z[1] = 0;
      z[2] = rr;
    }
    this.cachedZ.set(z);
    this.cached.az = az;
    const model = this.cfg.radarReferenceStd ** 2;
    R[0] = R[0]! + this.r2 + model;
    R[4] = R[4]! + this.az2 + model / rSq;
    R[8] = R[8]! + this.rr2;
    return true;
  }

  /**
   * Mean (z: range, azimuth relative to az0, range rate) over the faces with their mean weights,
   * and the covariance of the same over the faces with their spread weights, into R (3×3).
   */
  private faceMoments(
    faces: VisibleFaces,
    dvx: number,
    dvy: number,
    az0: number,
    z: Float64Array,
    R: Float64Array,
  ): void {
    const p = this.scan.pose;
    const q = this.quad;
    const n = QUADRATURE_POINTS;
    for (let k = 0; k < 2; k++) {
      const x0 = faces.seg[4 * k]! - p.x;
      const y0 = faces.seg[4 * k + 1]! - p.y;
      const ex = faces.seg[4 * k + 2]! - faces.seg[4 * k]!;
      const ey = faces.seg[4 * k + 3]! - faces.seg[4 * k + 1]!;
      for (let i = 0; i < n; i++) {
        const u = (i + 0.5) / n;
        const x = x0 + ex * u;
        const y = y0 + ey * u;
        const rr = Math.hypot(x, y);
        const j = 3 * (k * n + i);
        q[j] = rr;
        q[j + 1] = wrapAngle(Math.atan2(y, x) - p.yaw - az0);
        q[j + 2] = rr > 1e-6 ? (dvx * x + dvy * y) / rr : 0;
      }
    }
    const wm0 = faces.meanWeight[0]! / n;
    const wm1 = faces.meanWeight[1]! / n;
    const wmTotal = (wm0 + wm1) * n;
    z[0] = 0;
    z[1] = 0;
    z[2] = 0;
    for (let k = 0; k < 2 * n; k++) {
      const w = k < n ? wm0 : wm1;
      z[0] = z[0]! + w * q[3 * k]!;
      z[1] = z[1]! + w * q[3 * k + 1]!;
      z[2] = z[2]! + w * q[3 * k + 2]!;
    }
    z[0] = z[0]! / wmTotal;
    z[1] = z[1]! / wmTotal;
    z[2] = z[2]! / wmTotal;
    const ws0 = faces.spreadWeight[0]! / n;
    const ws1 = faces.spreadWeight[1]! / n;
    const wsTotal = (ws0 + ws1) * n;
    if (!(wsTotal > 0)) return;
    for (let k = 0; k < 2 * n; k++) {
      const w = (k < n ? ws0 : ws1) / wsTotal;
      if (w === 0) continue;
      const a0 = q[3 * k]! - z[0]!;
      const a1 = q[3 * k + 1]! - z[1]!;
      const a2 = q[3 * k + 2]! - z[2]!;
      R[0] = R[0]! + w * a0 * a0;
      R[1] = R[1]! + w * a0 * a1;
      R[2] = R[2]! + w * a0 * a2;
      R[4] = R[4]! + w * a1 * a1;
      R[5] = R[5]! + w * a1 * a2;
      R[8] = R[8]! + w * a2 * a2;
    }
    R[3] = R[1]!;
    R[6] = R[2]!;
    R[7] = R[5]!;
  }

  detectable(t: TrackTable, slot: number): boolean {
    // Margins: objects at the edge of coverage are often missed, which is not evidence of absence.
    return this.scan.covers(t, slot, 1, 0.9, 0.85);
  }

  initialize(t: TrackTable, slot: number, m: number): void {
    const p = this.scan.pose;
    const cfg = this.cfg;
    const a = p.yaw + this.azimuth[m]!;
    const ux = Math.cos(a);
    const uy = Math.sin(a);
    // Strong echoes are vehicles far more often than not; size the box accordingly until a
    // camera or lidar says otherwise.
    t.shapeClass[slot] = this.rcs[m]! >= cfg.radarCarRcsDbsm ? ObjectClass.car : ObjectClass.unknown;
    t.yaw[slot] = this.scan.egoYaw;
    refreshDimensions(t, slot);
    const depth = placeOnSightLine(t, slot, cfg.radarReference, p.x, p.y, ux, uy, this.range[m]!);
    const r = this.range[m]! + depth;
    const o = slot * S.dim;
    // Only the radial part of the velocity is measured: ground radial speed = relative + own.
    const vr = this.rangeRate[m]! + p.vx * ux + p.vy * uy;
    t.state[o + S.vx] = vr * ux;
    t.state[o + S.vy] = vr * uy;
    t.state[o + S.ax] = 0;
    t.state[o + S.ay] = 0;
    const across = r * this.azimuthStd;
    const along = this.rangeStd ** 2 + (0.5 * depth) ** 2;
    initTrackUncertainty(t, slot, cfg, this.scan.egoYaw, ux, uy, along, across * across + 0.25, vr);
  }

  afterUpdate(): void {
    // Radar carries no shape or class information the tracker uses.
  }

  private ensure(n: number): void {
    const cap = this.scan.reserve(n);
    if (cap === 0) return;
    this.range = new Float64Array(cap);
    this.azimuth = new Float64Array(cap);
    this.rangeRate = new Float64Array(cap);
    this.rcs = new Float64Array(cap);
  }
}
