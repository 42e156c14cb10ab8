import { CAMERA } from '../wire/layouts.js';
import type { SensorConfig } from '../wire/rig.js';
import type { Linearization } from './linearization.js';
import { type SensorPose, wrapAngle } from './ego-history.js';
import {
  addClassEvidence,
  initTrackUncertainty,
  placeOnSightLine,
  referencePoint,
  refreshDimensions,
  type MeasurementBatch,
} from './measurement-model.js';
import { SensorScan } from './sensor-scan.js';
import type { TrackerConfig } from './tracker-config.js';
import { CLASS_COUNT, S, type TrackTable } from './track-table.js';

/** Footprint corners nearer than this in depth are pushed out to it (a box cut by the image plane). */
const NEAR_DEPTH = 0.2;

/**
 * Smart-camera measurement model: z = [bearing, range]. The bearing of the image box centre is
 * accurate and refers to the object's centre; the monocular range is coarse (noise grows with
 * range) and refers to the ground contact of the nearest face. Camera objects also carry the
 * class, which drives the track's class and typical size.
 */
export class CameraMeasurements implements MeasurementBatch {
  readonly kind = 'camera' as const;
  readonly dim = 2;
  readonly scan = new SensorScan(32);
  private bearing = new Float64Array(32);
  private range = new Float64Array(32);
  private classId = new Uint8Array(32);
  private confidence = new Float64Array(32);
  private readonly ref = new Float64Array(5);
  private silBearing = 0;
  private silWidth = 0;
  /** How much of a lateral move shows in the clipped box centre (1, ½ or 0 when clipped). */
  private silGain = 1;
  private tanHalfFov = 1;

  constructor(private readonly cfg: Readonly<TrackerConfig>) {}

  /** Validates and converts one frame of `count` CAMERA_LAYOUT records taken from `pose`. */
  prepare(objs: Float32Array, count: number, sensor: SensorConfig, pose: SensorPose, egoYaw: number): void {
    this.ensure(count);
    const scan = this.scan;
    scan.begin(sensor, pose, egoYaw);
    this.tanHalfFov = Math.tan(scan.halfFov);
    const posX = scan.posX;
    const posY = scan.posY;
    let n = 0;
    for (let i = 0; i < count; i++) {
      const o = i * CAMERA.stride;
      const cls = objs[o + CAMERA.classId]!;
      const conf = objs[o + CAMERA.confidence]!;
      const b = objs[o + CAMERA.bearing]!;
      const r = objs[o + CAMERA.range]!;
      if (
        !(cls >= 0 && cls < CLASS_COUNT && cls === Math.floor(cls)) ||
        !(conf >= 0 && conf <= 1) ||
        !(b >= -Math.PI && b <= Math.PI) ||
        !(r > 0.3 && r < 1000)
      ) {
        scan.invalid++;
        continue;
      }
      if (conf < this.cfg.cameraMinConfidence) {
        scan.filtered++;
        continue;
      }
      this.bearing[n] = b;
      this.range[n] = r;
      this.classId[n] = cls;
      this.confidence[n] = conf;
      const a = pose.yaw + b;
      posX[n] = pose.x + r * Math.cos(a);
      posY[n] = pose.y + r * Math.sin(a);
      n++;
    }
    scan.count = n;
  }

  private rangeStd(r: number): number {
    const s = this.cfg.cameraRangeRelStd * r;
    return s > this.cfg.cameraRangeMinStd ? s : this.cfg.cameraRangeMinStd;
  }

  preGateRadius(m: number): number {
    return 3 + 4 * this.rangeStd(this.range[m]!);
  }

  /**
   * Bearing of the centre of the track box's image (the span of its footprint corners' lateral
   * angles), as the camera reports it, and the angular width of that span. Off-axis and near
   * objects differ noticeably from the bearing of the box centre. Sets silBearing, silWidth.
   */
  private silhouette(t: TrackTable, slot: number): void {
    const p = this.scan.pose;
    const o = slot * S.dim;
    const cp = Math.cos(p.yaw);
    const sp = Math.sin(p.yaw);
    const dx = t.state[o + S.x]! - p.x;
    const dy = t.state[o + S.y]! - p.y;
    const depth0 = cp * dx + sp * dy;
    const lat0 = -sp * dx + cp * dy;
    const rel = t.yaw[slot]! - p.yaw;
    const c = Math.cos(rel);
    const s = Math.sin(rel);
    const hl = 0.5 * t.length[slot]!;
    const hw = 0.5 * t.width[slot]!;
    let lo = Infinity;
    let hi = -Infinity;
    for (let q = 0; q < 4; q++) {
      const bx = q & 1 ? hl : -hl;
      const by = q & 2 ? hw : -hw;
      let depth = depth0 + c * bx - s * by;
      if (depth < NEAR_DEPTH) depth = NEAR_DEPTH;
      const tan = (lat0 + s * bx + c * by) / depth;
      if (tan < lo) lo = tan;
      if (tan > hi) hi = tan;
    }
    // The image clips the box, and the reported centre is that of the clipped box.
    const edge = this.tanHalfFov;
    this.silGain = 1;
    if (lo < -edge) {
      lo = -edge;
      this.silGain -= 0.5;
    }
    if (hi > edge) {
      hi = edge;
      this.silGain -= 0.5;
    }
    if (hi < lo) hi = lo;
    this.silBearing = Math.atan(0.5 * (lo + hi));
    this.silWidth = Math.atan(hi) - Math.atan(lo);
  }

  innovation(t: TrackTable, slot: number, m: number, lin: Linearization): boolean {
    const { nu, H, R } = lin;
    lin.key = 0;
    const p = this.scan.pose;
    const o = slot * S.dim;
    const dxc = t.state[o + S.x]! - p.x;
    const dyc = t.state[o + S.y]! - p.y;
    const rcSq = dxc * dxc + dyc * dyc;
    if (rcSq < 0.25) return false;
    referencePoint(t, slot, p.x, p.y, this.cfg.cameraRangeReference, this.ref);
    const dxq = this.ref[0]! - p.x;
    const dyq = this.ref[1]! - p.y;
    const rq = Math.hypot(dxq, dyq);
    if (rq < 0.1) return false;
    this.silhouette(t, slot);
    nu[0] = wrapAngle(this.bearing[m]! - this.silBearing);
    nu[1] = this.range[m]! - rq;
    // The image-box centre moves with the object like its centre's bearing does, less the
    // share an image border holds still.
    H.fill(0, 0, 2 * S.dim);
    H[S.x] = (-this.silGain * dyc) / rcSq;
    H[S.y] = (this.silGain * dxc) / rcSq;
    H[S.dim + S.x] = dxq / rq;
    H[S.dim + S.y] = dyq / rq;
    const rs = this.rangeStd(this.range[m]!);
    // Box edges are noisier for bigger boxes: part of the noise scales with the angular width.
    const bs = this.cfg.cameraBearingStd + this.cfg.cameraBearingRelStd * this.silWidth;
    R[0] = bs * bs;
    R[1] = 0;
    R[2] = 0;
    R[3] = rs * rs;
    return true;
  }

  detectable(t: TrackTable, slot: number): boolean {
    return this.scan.covers(t, slot, 2, 0.8, 0.85);
  }

  initialize(t: TrackTable, slot: number, m: number): void {
    const p = this.scan.pose;
    const cfg = this.cfg;
    const a = p.yaw + this.bearing[m]!;
    const ux = Math.cos(a);
    const uy = Math.sin(a);
    this.addClassEvidence(t, slot, m);
    t.shapeClass[slot] = this.classId[m]!;
    t.yaw[slot] = this.scan.egoYaw;
    refreshDimensions(t, slot);
    const depth = placeOnSightLine(t, slot, cfg.cameraRangeReference, p.x, p.y, ux, uy, this.range[m]!);
    const r = this.range[m]! + depth;
    const rs = this.rangeStd(this.range[m]!);
    const across = r * cfg.cameraBearingStd;
    initTrackUncertainty(t, slot, cfg, this.scan.egoYaw, ux, uy, rs * rs, across * across + 0.1, NaN);
  }

  afterUpdate(t: TrackTable, slot: number, m: number): void {
    this.addClassEvidence(t, slot, m);
  }

  private addClassEvidence(t: TrackTable, slot: number, m: number): void {
    addClassEvidence(t, slot, this.classId[m]!, this.confidence[m]!);
  }

  private ensure(n: number): void {
    const cap = this.scan.reserve(n);
    if (cap === 0) return;
    this.bearing = new Float64Array(cap);
    this.range = new Float64Array(cap);
    this.classId = new Uint8Array(cap);
    this.confidence = new Float64Array(cap);
  }
}
