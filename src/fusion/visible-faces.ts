import { S, type TrackTable } from './track-table.js';

/**
 * Whether a face shows at a grazing angle hangs on the heading: a 2° error moves the sensor's
 * side of a face by 1.7 m at 50 m. Face visibility is therefore graded over a band of the
 * track's heading uncertainty times the distance plus its position uncertainty.
 */
const MIN_HEADING_STD = 0.005;
const MAX_HEADING_STD = 0.04;
const MIN_POSITION_STD = 0.05;
const MAX_POSITION_STD = 0.5;
/**
 * The mean weights ramp over MEAN_BANDS bands around the face plane (a biased mean costs more
 * than a wide spread), while faces up to SPREAD_BANDS short of showing count for the spread.
 */
const MEAN_BANDS = 0.5;
const SPREAD_BANDS = 2;

/**
 * Heading uncertainty of a track, rad: for a moving object its heading follows the velocity,
 * so it is the cross-track velocity uncertainty over the speed; otherwise the upper bound.
 */
export function headingStd(t: TrackTable, slot: number): number {
  const o = slot * S.dim;
  const vx = t.state[o + S.vx]!;
  const vy = t.state[o + S.vy]!;
  const v2 = vx * vx + vy * vy;
  if (v2 < 4) return MAX_HEADING_STD;
  // Variance across the velocity direction: (v⊥ᵀ P v⊥) / |v|² with v⊥ = (-vy, vx).
  const across = t.varianceAlong(slot, S.vx, S.vy, -vy, vx) / v2;
  const std = Math.sqrt(Math.max(across, 0) / v2);
  return std < MIN_HEADING_STD ? MIN_HEADING_STD : std > MAX_HEADING_STD ? MAX_HEADING_STD : std;
}

/**
 * The faces of a track's box that a sensor sees: of the four, at most one end (front/back) and
 * one side face the sensor, each clipped to the sensor's field of view (a near object may stick
 * out of it). Returns from such a sensor (radar scatterers) spread uniformly over them.
 *
 * Each face has a *mean weight*, its clipped length graded by how surely it faces the sensor,
 * and a *spread weight*, its clipped length if it may face the sensor at all. The mean of the
 * returns uses the first, their spread the second, so that uncertainty about which faces show
 * widens the noise instead of biasing it.
 */
export class VisibleFaces {
  /** Clipped faces in odom: end face (x0, y0, x1, y1), then side face. */
  readonly seg = new Float64Array(8);
  /** Mean weights of the end and side face. */
  readonly meanWeight = new Float64Array(2);
  /** Spread weights of the end and side face. */
  readonly spreadWeight = new Float64Array(2);
  /** Centroid of the returns, odom. */
  meanX = 0;
  meanY = 0;
  /** Covariance of the returns' positions about the centroid (xx, xy, yy). */
  covXX = 0;
  covXY = 0;
  covYY = 0;

  /**
   * Computes the faces of `slot` seen from (sx, sy), boresight `sensorYaw`, half-angle
   * `halfFov`. Returns false when no face shows inside the view (the sensor is inside the box,
   * or the box is out of view).
   */
  compute(t: TrackTable, slot: number, sx: number, sy: number, sensorYaw: number, halfFov: number): boolean {
    const o = slot * S.dim;
    const cx = t.state[o + S.x]!;
    const cy = t.state[o + S.y]!;
    const c = Math.cos(t.yaw[slot]!);
    const s = Math.sin(t.yaw[slot]!);
    const hl = 0.5 * t.length[slot]!;
    const hw = 0.5 * t.width[slot]!;
    const dx = sx - cx;
    const dy = sy - cy;
    // Sensor position in the box frame.
    const lx = c * dx + s * dy;
    const ly = -s * dx + c * dy;
    const ax = Math.abs(lx);
    const ay = Math.abs(ly);
    // The end face (along box y) at x = ±hl shows when the sensor is beyond it; the side face
    // (along box x) at y = ±hw likewise. Margins in bands of uncertainty along each normal.
    const headStd = headingStd(t, slot);
    const alongVar = t.varianceAlong(slot, S.x, S.y, c, s);
    const acrossVar = t.varianceAlong(slot, S.x, S.y, -s, c);
    const endMargin = (ax - hl) / (clampStd(Math.sqrt(Math.max(alongVar, 0))) + headStd * ay);
    const sideMargin = (ay - hw) / (clampStd(Math.sqrt(Math.max(acrossVar, 0))) + headStd * ax);
    const fx = lx >= 0 ? hl : -hl;
    const fy = ly >= 0 ? hw : -hw;
    const f = this.seg;
    f[0] = cx + c * fx + s * hw;
    f[1] = cy + s * fx - c * hw;
    f[2] = cx + c * fx - s * hw;
    f[3] = cy + s * fx + c * hw;
    f[4] = cx - c * hl - s * fy;
    f[5] = cy - s * hl + c * fy;
    f[6] = cx + c * hl - s * fy;
    f[7] = cy + s * hl + c * fy;
    clipToFov(f, 0, sx, sy, sensorYaw, halfFov);
    clipToFov(f, 4, sx, sy, sensorYaw, halfFov);
    const endLen = Math.hypot(f[2]! - f[0]!, f[3]! - f[1]!);
    const sideLen = Math.hypot(f[6]! - f[4]!, f[7]! - f[5]!);
    const wEnd = endLen * ramp(endMargin / MEAN_BANDS);
    const wSide = sideLen * ramp(sideMargin / MEAN_BANDS);
    this.meanWeight[0] = wEnd;
    this.meanWeight[1] = wSide;
    this.spreadWeight[0] = endMargin > -SPREAD_BANDS ? endLen : 0;
    this.spreadWeight[1] = sideMargin > -SPREAD_BANDS ? sideLen : 0;
    const total = wEnd + wSide;
    if (!(total > 1e-6)) return false;
    const emx = 0.5 * (f[0]! + f[2]!);
    const emy = 0.5 * (f[1]! + f[3]!);
    const smx = 0.5 * (f[4]! + f[6]!);
    const smy = 0.5 * (f[5]! + f[7]!);
    const mx = (wEnd * emx + wSide * smx) / total;
    const my = (wEnd * emy + wSide * smy) / total;
    this.meanX = mx;
    this.meanY = my;
    // Second moments of the uniform distribution over each face, about the mean.
    let cxx = 0;
    let cxy = 0;
    let cyy = 0;
    const vTotal = this.spreadWeight[0]! + this.spreadWeight[1]!;
    for (let k = 0; k < 2; k++) {
      const v = this.spreadWeight[k]!;
      if (v === 0) continue;
      const ux = f[4 * k + 2]! - f[4 * k]!;
      const uy = f[4 * k + 3]! - f[4 * k + 1]!;
      const ex = 0.5 * (f[4 * k]! + f[4 * k + 2]!) - mx;
      const ey = 0.5 * (f[4 * k + 1]! + f[4 * k + 3]!) - my;
      cxx += v * (ex * ex + (ux * ux) / 12);
      cxy += v * (ex * ey + (ux * uy) / 12);
      cyy += v * (ey * ey + (uy * uy) / 12);
    }
    this.covXX = vTotal > 0 ? cxx / vTotal : 0;
    this.covXY = vTotal > 0 ? cxy / vTotal : 0;
    this.covYY = vTotal > 0 ? cyy / vTotal : 0;
    return true;
  }
}

/**
 * Clips the segment f[i..i+4) = (x0, y0, x1, y1) to the sector of half-angle `half` around
 * `yaw` seen from (sx, sy), in place; an empty result collapses it to a point. Sectors of 90°
 * half-angle or more are left alone (the half-plane form does not hold there).
 */
function clipToFov(f: Float64Array, i: number, sx: number, sy: number, yaw: number, half: number): void {
  if (!(half < Math.PI / 2 - 1e-6)) return;
  const x0 = f[i]! - sx;
  const y0 = f[i + 1]! - sy;
  const x1 = f[i + 2]! - sx;
  const y1 = f[i + 3]! - sy;
  let u0 = 0;
  let u1 = 1;
  // Inside: right of the left edge (at yaw + half) and left of the right edge (yaw - half).
  for (let k = 0; k < 2; k++) {
    const a = k === 0 ? yaw + half : yaw - half;
    const sign = k === 0 ? -1 : 1;
    const bx = Math.cos(a);
    const by = Math.sin(a);
    const g0 = sign * (bx * y0 - by * x0);
    const g1 = sign * (bx * y1 - by * x1);
    if (g0 < 0 && g1 < 0) {
      u1 = u0;
      break;
    }
    if (g0 < 0) u0 = Math.max(u0, g0 / (g0 - g1));
    else if (g1 < 0) u1 = Math.min(u1, g0 / (g0 - g1));
  }
  if (u1 < u0) u1 = u0;
  const px = x0 + (x1 - x0) * u0;
  const py = y0 + (y1 - y0) * u0;
  const qx = x0 + (x1 - x0) * u1;
  const qy = y0 + (y1 - y0) * u1;
  f[i] = sx + px;
  f[i + 1] = sy + py;
  f[i + 2] = sx + qx;
  f[i + 3] = sy + qy;
}

function clampStd(v: number): number {
  return v < MIN_POSITION_STD ? MIN_POSITION_STD : v > MAX_POSITION_STD ? MAX_POSITION_STD : v;
}

/** 0 below -1, 1 above +1, linear between: the visible share of a face at a graded margin. */
function ramp(u: number): number {
  return u <= -1 ? 0 : u >= 1 ? 1 : 0.5 + 0.5 * u;
}
