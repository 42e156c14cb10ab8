import { ObjectClass } from '../wire/layouts.js';
import type { SensorConfig } from '../wire/rig.js';
import type { Linearization } from './linearization.js';
import { type EgoPose, type SensorPose, wrapAngle } from './ego-history.js';
import { CLUSTER } from './lidar-clusterer.js';
import {
  clearlyMoving,
  initTrackUncertainty,
  refreshDimensions,
  type MeasurementBatch,
} from './measurement-model.js';
import { SensorScan } from './sensor-scan.js';
import type { TrackerConfig } from './tracker-config.js';
import { CLASS_DIMENSIONS, S, type TrackTable } from './track-table.js';

/** A cluster at least this wide or long is taken for a vehicle until a camera says otherwise. */
const VEHICLE_EXTENT_M = 1.4;
/** Fraction of the gap between a larger lidar extent and the seen extent closed per scan. */
const EXTENT_GROWTH = 0.5;
/** Fraction of the gap to a wholly seen extent closed per scan. */
const EXTENT_FOLLOW = 0.3;
/** A face seen at more than ~10° off its plane shows its whole extent. */
const WHOLE_VIEW_SINE = 0.17;
/** A track more than this share hidden behind a nearer one is not expected in a scan. */
const OCCLUDED_SHARE = 0.5;
/** Uncertainty of a shift for unseen extent, relative to the shift. */
const SHIFT_REL_STD = 0.2;

/**
 * Lidar measurement model: z = box centre of a cluster, in odom, with H = [I 0 0].
 * A cluster covers only the faces the lidar sees, so its box is short along hidden sides. Per
 * track, the missing part of the track's size is added on the side away from the sensor (a rear
 * view of a 4.5 m car moves the centre 2.2 m forward), with extra noise along the shifted axis
 * for the uncertainty of the size.
 */
export class LidarMeasurements implements MeasurementBatch {
  readonly kind = 'lidar' as const;
  readonly dim = 2;
  /** The scan; `filtered` counts clusters too low to be objects. */
  readonly scan = new SensorScan(128);
  private yaw = new Float64Array(128);
  private length = new Float64Array(128);
  private width = new Float64Array(128);
  // Results of the last shiftedCentre() call.
  private zx = 0;
  private zy = 0;
  private shiftL = 0;
  private shiftW = 0;
  private extL = 0;
  private extW = 0;

  constructor(private readonly cfg: Readonly<TrackerConfig>) {}

  /**
   * Takes `count` CLUSTER records (base_link at the scan time) and places them in odom with the
   * ego pose of that time.
   */
  prepare(clusters: Float32Array, count: number, sensor: SensorConfig, ego: EgoPose, pose: SensorPose): void {
    this.ensure(count);
    const scan = this.scan;
    scan.begin(sensor, pose, ego.yaw);
    const posX = scan.posX;
    const posY = scan.posY;
    const c = Math.cos(ego.yaw);
    const s = Math.sin(ego.yaw);
    let n = 0;
    for (let i = 0; i < count; i++) {
      const o = i * CLUSTER.stride;
      if (clusters[o + CLUSTER.zMax]! < this.cfg.lidarMinObjectHeight) {
        scan.filtered++;
        continue;
      }
      const bx = clusters[o + CLUSTER.x]!;
      const by = clusters[o + CLUSTER.y]!;
      posX[n] = ego.x + c * bx - s * by;
      posY[n] = ego.y + s * bx + c * by;
      this.yaw[n] = wrapAngle(ego.yaw + clusters[o + CLUSTER.yaw]!);
      this.length[n] = clusters[o + CLUSTER.length]!;
      this.width[n] = clusters[o + CLUSTER.width]!;
      n++;
    }
    scan.count = n;
  }

  preGateRadius(m: number): number {
    return 4 + 0.5 * this.length[m]!;
  }

  /**
   * The cluster's centre corrected for unseen extent, as the track (its heading and size) sees
   * it; sets zx, zy, shiftL, shiftW and the cluster extents along the track's axes.
   */
  private shiftedCentre(t: TrackTable, slot: number, m: number): void {
    const psi = t.yaw[slot]!;
    const d = wrapAngle(this.yaw[m]! - psi);
    const aligned = Math.abs(Math.cos(d)) >= Math.abs(Math.sin(d));
    this.extL = aligned ? this.length[m]! : this.width[m]!;
    this.extW = aligned ? this.width[m]! : this.length[m]!;
    const ux = Math.cos(psi);
    const uy = Math.sin(psi);
    const scan = this.scan;
    const cx = scan.posX[m]!;
    const cy = scan.posY[m]!;
    const dx = cx - scan.pose.x;
    const dy = cy - scan.pose.y;
    const missingL = t.length[slot]! - this.extL;
    const missingW = t.width[slot]! - this.extW;
    this.shiftL = missingL > 0 ? 0.5 * missingL * Math.sign(ux * dx + uy * dy) : 0;
    this.shiftW = missingW > 0 ? 0.5 * missingW * Math.sign(-uy * dx + ux * dy) : 0;
    this.zx = cx + this.shiftL * ux - this.shiftW * uy;
    this.zy = cy + this.shiftL * uy + this.shiftW * ux;
  }

  innovation(t: TrackTable, slot: number, m: number, lin: Linearization): boolean {
    const { nu, H, R } = lin;
    lin.key = 0;
    this.shiftedCentre(t, slot, m);
    const o = slot * S.dim;
    nu[0] = this.zx - t.state[o + S.x]!;
    nu[1] = this.zy - t.state[o + S.y]!;
    H.fill(0, 0, 2 * S.dim);
    H[S.x] = 1;
    H[S.dim + S.y] = 1;
    // σ² I plus, along each shifted axis, the uncertainty of the size that justified the shift
    // (a class's typical length is good to some 10 %).
    const psi = t.yaw[slot]!;
    const ux = Math.cos(psi);
    const uy = Math.sin(psi);
    const base = this.cfg.lidarPositionStd ** 2;
    const a = (SHIFT_REL_STD * this.shiftL) ** 2;
    const b = (SHIFT_REL_STD * this.shiftW) ** 2;
    R[0] = base + a * ux * ux + b * uy * uy;
    R[3] = base + a * uy * uy + b * ux * ux;
    R[1] = R[2] = (a - b) * ux * uy;
    return true;
  }

  detectable(t: TrackTable, slot: number): boolean {
    const r = this.scan.rangeTo(t, slot);
    // Returns thin out with range: a small object yields too few points for a cluster sooner.
    const size = Math.max(t.length[slot]!, t.width[slot]!);
    return (
      r > 3 &&
      r < 0.8 * this.scan.maxRange &&
      r < this.cfg.lidarReliableRangePerMetre * size &&
      !this.scan.occluded(t, slot, OCCLUDED_SHARE)
    );
  }

  initialize(t: TrackTable, slot: number, m: number): void {
    const cfg = this.cfg;
    // Roads run along the ego's heading, so the cluster axis closest to it is taken as the length.
    t.yaw[slot] = wrapAngle(this.roadAlignedYaw(m, CLASS_DIMENSIONS[ObjectClass.truck]!.max[1]));
    const aligned = Math.abs(Math.cos(wrapAngle(this.yaw[m]! - t.yaw[slot]!))) >= Math.SQRT1_2;
    const extL = aligned ? this.length[m]! : this.width[m]!;
    const extW = aligned ? this.width[m]! : this.length[m]!;
    t.seenLength[slot] = extL;
    t.seenWidth[slot] = extW;
    t.shapeClass[slot] = Math.max(extL, extW) >= VEHICLE_EXTENT_M ? ObjectClass.car : ObjectClass.unknown;
    refreshDimensions(t, slot);
    this.shiftedCentre(t, slot, m);
    const o = slot * S.dim;
    t.state[o + S.x] = this.zx;
    t.state[o + S.y] = this.zy;
    const pos = cfg.lidarPositionStd ** 2 + 0.09;
    const ux = Math.cos(t.yaw[slot]!);
    const uy = Math.sin(t.yaw[slot]!);
    const along = pos + this.shiftL * this.shiftL;
    const across = pos + this.shiftW * this.shiftW;
    initTrackUncertainty(t, slot, cfg, this.scan.egoYaw, ux, uy, along, across, NaN);
  }

  afterUpdate(t: TrackTable, slot: number, m: number): void {
    this.shiftedCentre(t, slot, m);
    const max = CLASS_DIMENSIONS[t.shapeClass[slot]!]!.max;
    // A dimension is seen whole when the lidar looks at the face along it from well off its
    // plane (a side face shows the length). Then the extent is the dimension, so follow it
    // both ways; otherwise grow toward larger extents over a few scans (one merged scan must
    // not inflate the box) and never shrink, since a smaller extent is likely a partial view.
    const o = slot * S.dim;
    const c = Math.cos(t.yaw[slot]!);
    const s = Math.sin(t.yaw[slot]!);
    const p = this.scan.pose;
    const dx = p.x - t.state[o + S.x]!;
    const dy = p.y - t.state[o + S.y]!;
    const dist = Math.hypot(dx, dy);
    const lx = Math.abs(c * dx + s * dy);
    const ly = Math.abs(-s * dx + c * dy);
    const lengthWhole = ly - 0.5 * t.width[slot]! > WHOLE_VIEW_SINE * dist;
    const widthWhole = lx - 0.5 * t.length[slot]! > WHOLE_VIEW_SINE * dist;
    if (lengthWhole) {
      t.dimsKnown[slot] = t.dimsKnown[slot]! | 1;
      t.seenLength[slot] = t.seenLength[slot]! + EXTENT_FOLLOW * (this.extL - t.seenLength[slot]!);
    } else if (this.extL > t.seenLength[slot]! && !(t.dimsKnown[slot]! & 1)) {
      t.seenLength[slot] = t.seenLength[slot]! + EXTENT_GROWTH * (this.extL - t.seenLength[slot]!);
    }
    if (widthWhole) {
      t.dimsKnown[slot] = t.dimsKnown[slot]! | 2;
      t.seenWidth[slot] = t.seenWidth[slot]! + EXTENT_FOLLOW * (this.extW - t.seenWidth[slot]!);
    } else if (this.extW > t.seenWidth[slot]! && !(t.dimsKnown[slot]! & 2)) {
      t.seenWidth[slot] = t.seenWidth[slot]! + EXTENT_GROWTH * (this.extW - t.seenWidth[slot]!);
    }
    if (t.seenLength[slot]! > max[0]) t.seenLength[slot] = max[0];
    if (t.seenWidth[slot]! > max[1]) t.seenWidth[slot] = max[1];
    if (t.classId[slot] === ObjectClass.unknown && Math.max(this.extL, this.extW) >= VEHICLE_EXTENT_M) {
      t.shapeClass[slot] = ObjectClass.car;
    }
    refreshDimensions(t, slot);
    // Objects not clearly moving: the heading comes from the box, whose orientation is known
    // only modulo 90° (a rear face alone is a line across the object). Take the orientation
    // nearest the road's direction (the ego's heading) that the extents allow: an extent across
    // it wider than the class permits means the object stands across the road.
    if (!clearlyMoving(t, slot) && this.length[m]! > 1) {
      const target = this.roadAlignedYaw(m, CLASS_DIMENSIONS[t.shapeClass[slot]!]!.max[1]);
      const d = wrapAngle(target - t.yaw[slot]!);
      // The heading of a box is also modulo 180°: turn the shorter way.
      const turn = d > Math.PI / 2 ? d - Math.PI : d < -Math.PI / 2 ? d + Math.PI : d;
      t.yaw[slot] = wrapAngle(t.yaw[slot]! + 0.3 * turn);
    }
  }

  /**
   * Of the cluster's two axes, the one to take as the object's length: the one nearest the
   * ego's heading, unless the extent across it exceeds `maxWidth` (plus slack).
   */
  private roadAlignedYaw(m: number, maxWidth: number): number {
    const q = Math.PI / 2;
    const k = Math.round(wrapAngle(this.yaw[m]! - this.scan.egoYaw) / q);
    const odd = (k & 1) !== 0;
    const across = odd ? this.length[m]! : this.width[m]!;
    const along = this.yaw[m]! - k * q;
    return across > maxWidth + 0.3 ? along + q : along;
  }

  private ensure(n: number): void {
    const cap = this.scan.reserve(n);
    if (cap === 0) return;
    this.yaw = new Float64Array(cap);
    this.length = new Float64Array(cap);
    this.width = new Float64Array(cap);
  }
}
