import { COV_SIZE, S, type TrackTable } from './track-table.js';
import type { Linearization } from './linearization.js';

const N = S.dim;
/** Above this speed (m/s) process noise is split along and across the heading. */
const HEADING_FRAME_SPEED = 3;

/**
 * Extended Kalman filter over a TrackTable slot with a constant-acceleration motion model
 * (white-noise jerk, plus an optional random walk on position) in the odom frame. Measurement models supply the innovation ν, the
 * Jacobian H (m×6, row-major) and the noise R (m×m) for m ≤ 3 in a Linearization; the filter owns
 * all scratch memory, so no call allocates.
 */
export class ConstantAccelerationEkf {
  /** ln det S of the last mahalanobis() call, for likelihood-based association costs. */
  logDetS = 0;
  private readonly pht = new Float64Array(N * 3);
  private readonly s = new Float64Array(9);
  private readonly sInv = new Float64Array(9);
  private readonly k = new Float64Array(N * 3);
  private readonly a = new Float64Array(COV_SIZE);
  private readonly ap = new Float64Array(COV_SIZE);

  /**
   * @param jerkPsd white-noise jerk intensity, m²/s⁵ (along the heading for moving objects)
   * @param maxAccel bound on the acceleration estimate, m/s²
   * @param positionPsd extra random walk on position, m²/s
   * @param lateralJerkPsd jerk intensity across the heading of moving objects, m²/s⁵
   */
  constructor(
    private readonly jerkPsd: number,
    private readonly maxAccel: number,
    private readonly positionPsd = 0,
    private readonly lateralJerkPsd = jerkPsd,
  ) {}

  /** Predicts the slot's state and covariance forward by dt >= 0 seconds. */
  predict(t: TrackTable, slot: number, dt: number): void {
    if (!(dt > 0)) return;
    const x = t.state;
    const o = slot * N;
    const h = 0.5 * dt * dt;
    x[o + S.x] = x[o + S.x]! + dt * x[o + S.vx]! + h * x[o + S.ax]!;
    x[o + S.y] = x[o + S.y]! + dt * x[o + S.vy]! + h * x[o + S.ay]!;
    x[o + S.vx] = x[o + S.vx]! + dt * x[o + S.ax]!;
    x[o + S.vy] = x[o + S.vy]! + dt * x[o + S.ay]!;

    const P = t.cov;
    const c = slot * COV_SIZE;
    // P <- F P (rows), in an order that reads only rows not yet updated.
    for (let j = 0; j < N; j++) {
      P[c + S.x * N + j] = P[c + S.x * N + j]! + dt * P[c + S.vx * N + j]! + h * P[c + S.ax * N + j]!;
      P[c + S.y * N + j] = P[c + S.y * N + j]! + dt * P[c + S.vy * N + j]! + h * P[c + S.ay * N + j]!;
      P[c + S.vx * N + j] = P[c + S.vx * N + j]! + dt * P[c + S.ax * N + j]!;
      P[c + S.vy * N + j] = P[c + S.vy * N + j]! + dt * P[c + S.ay * N + j]!;
    }
    // P <- P Fᵀ (columns).
    for (let i = 0; i < N; i++) {
      const r = c + i * N;
      P[r + S.x] = P[r + S.x]! + dt * P[r + S.vx]! + h * P[r + S.ax]!;
      P[r + S.y] = P[r + S.y]! + dt * P[r + S.vy]! + h * P[r + S.ay]!;
      P[r + S.vx] = P[r + S.vx]! + dt * P[r + S.ax]!;
      P[r + S.vy] = P[r + S.vy]! + dt * P[r + S.ay]!;
    }
    // Discrete white-noise jerk, T(dt) per kinematic order pair, with a spatial intensity A:
    // isotropic for slow objects, along/across the heading for moving ones (vehicles jerk far
    // less sideways than along their path).
    const dt2 = dt * dt;
    const dt3 = dt2 * dt;
    const tpp = (dt3 * dt2) / 20;
    const tpv = (dt2 * dt2) / 8;
    const tpa = dt3 / 6;
    const tvv = dt3 / 3;
    const tva = dt2 / 2;
    const taa = dt;
    const vx = x[o + S.vx]!;
    const vy = x[o + S.vy]!;
    const v2 = vx * vx + vy * vy;
    let axx = this.jerkPsd;
    let axy = 0;
    let ayy = this.jerkPsd;
    if (v2 > HEADING_FRAME_SPEED * HEADING_FRAME_SPEED) {
      const ux2 = (vx * vx) / v2;
      const uy2 = (vy * vy) / v2;
      const uxy = (vx * vy) / v2;
      const qa = this.jerkPsd;
      const qc = this.lateralJerkPsd;
      axx = qa * ux2 + qc * uy2;
      ayy = qa * uy2 + qc * ux2;
      axy = (qa - qc) * uxy;
    }
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) {
        const a = i === 0 ? (j === 0 ? axx : axy) : j === 0 ? axy : ayy;
        if (a === 0) continue;
        const pi = S.x + i;
        const vi = S.vx + i;
        const ai = S.ax + i;
        const pj = S.x + j;
        const vj = S.vx + j;
        const aj = S.ax + j;
        P[c + pi * N + pj]! += a * tpp;
        P[c + pi * N + vj]! += a * tpv;
        P[c + vi * N + pj]! += a * tpv;
        P[c + pi * N + aj]! += a * tpa;
        P[c + ai * N + pj]! += a * tpa;
        P[c + vi * N + vj]! += a * tvv;
        P[c + vi * N + aj]! += a * tva;
        P[c + ai * N + vj]! += a * tva;
        P[c + ai * N + aj]! += a * taa;
      }
    }
    P[c + S.x * N + S.x]! += this.positionPsd * dt;
    P[c + S.y * N + S.y]! += this.positionPsd * dt;
  }

  /**
   * Squared Mahalanobis distance νᵀ S⁻¹ ν with S = H P Hᵀ + R; Infinity when S is not positive
   * definite. Leaves S⁻¹ and P Hᵀ in scratch for an update() of the same pair.
   */
  mahalanobis(t: TrackTable, slot: number, m: number, lin: Linearization): number {
    const { nu, H, R } = lin;
    const P = t.cov;
    const c = slot * COV_SIZE;
    const pht = this.pht;
    for (let i = 0; i < N; i++) {
      for (let k = 0; k < m; k++) {
        let sum = 0;
        for (let j = 0; j < N; j++) sum += P[c + i * N + j]! * H[k * N + j]!;
        pht[i * m + k] = sum;
      }
    }
    const s = this.s;
    for (let r = 0; r < m; r++) {
      for (let k = 0; k < m; k++) {
        let sum = R[r * m + k]!;
        for (let j = 0; j < N; j++) sum += H[r * N + j]! * pht[j * m + k]!;
        s[r * m + k] = sum;
      }
    }
    const det = invert(s, m, this.sInv);
    if (!(det > 0) || !Number.isFinite(det)) {
      this.logDetS = Infinity;
      return Infinity;
    }
    this.logDetS = Math.log(det);
    const si = this.sInv;
    let d2 = 0;
    for (let r = 0; r < m; r++) {
      let sum = 0;
      for (let k = 0; k < m; k++) sum += si[r * m + k]! * nu[k]!;
      d2 += nu[r]! * sum;
    }
    return d2;
  }

  /**
   * Kalman update with the Joseph-form covariance (stays symmetric positive semidefinite).
   * Returns false (state untouched) if S is singular.
   */
  update(t: TrackTable, slot: number, m: number, lin: Linearization): boolean {
    if (!Number.isFinite(this.mahalanobis(t, slot, m, lin))) return false;
    const { nu, H, R } = lin;
    const pht = this.pht;
    const si = this.sInv;
    const K = this.k;
    for (let i = 0; i < N; i++) {
      for (let k = 0; k < m; k++) {
        let sum = 0;
        for (let j = 0; j < m; j++) sum += pht[i * m + j]! * si[j * m + k]!;
        K[i * m + k] = sum;
      }
    }
    const x = t.state;
    const o = slot * N;
    for (let i = 0; i < N; i++) {
      let sum = 0;
      for (let k = 0; k < m; k++) sum += K[i * m + k]! * nu[k]!;
      x[o + i] = x[o + i]! + sum;
    }
    // Joseph form: P = (I - K H) P (I - K H)ᵀ + K R Kᵀ.
    const A = this.a;
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        let sum = i === j ? 1 : 0;
        for (let k = 0; k < m; k++) sum -= K[i * m + k]! * H[k * N + j]!;
        A[i * N + j] = sum;
      }
    }
    const P = t.cov;
    const c = slot * COV_SIZE;
    const AP = this.ap;
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        let sum = 0;
        for (let k = 0; k < N; k++) sum += A[i * N + k]! * P[c + k * N + j]!;
        AP[i * N + j] = sum;
      }
    }
    for (let i = 0; i < N; i++) {
      for (let j = i; j < N; j++) {
        let sum = 0;
        for (let k = 0; k < N; k++) sum += AP[i * N + k]! * A[j * N + k]!;
        for (let a = 0; a < m; a++) {
          let kr = 0;
          for (let b = 0; b < m; b++) kr += K[i * m + b]! * R[b * m + a]!;
          sum += kr * K[j * m + a]!;
        }
        P[c + i * N + j] = sum;
        P[c + j * N + i] = sum;
      }
    }
    // A filter fed a bad association can run its acceleration away; physics bounds it.
    const ax = x[o + S.ax]!;
    const ay = x[o + S.ay]!;
    const an = Math.hypot(ax, ay);
    if (an > this.maxAccel) {
      x[o + S.ax] = (ax * this.maxAccel) / an;
      x[o + S.ay] = (ay * this.maxAccel) / an;
    }
    return true;
  }
}

/** Inverse of an m×m matrix (m ≤ 3) into out; returns the determinant (0 if singular). */
export function invert(a: Float64Array, m: number, out: Float64Array): number {
  if (m === 1) {
    const d = a[0]!;
    out[0] = d !== 0 ? 1 / d : 0;
    return d;
  }
  if (m === 2) {
    const d = a[0]! * a[3]! - a[1]! * a[2]!;
    if (d === 0) return 0;
    out[0] = a[3]! / d;
    out[1] = -a[1]! / d;
    out[2] = -a[2]! / d;
    out[3] = a[0]! / d;
    return d;
  }
  const a0 = a[0]!;
  const a1 = a[1]!;
  const a2 = a[2]!;
  const a3 = a[3]!;
  const a4 = a[4]!;
  const a5 = a[5]!;
  const a6 = a[6]!;
  const a7 = a[7]!;
  const a8 = a[8]!;
  const c0 = a4 * a8 - a5 * a7;
  const c1 = a5 * a6 - a3 * a8;
  const c2 = a3 * a7 - a4 * a6;
  const d = a0 * c0 + a1 * c1 + a2 * c2;
  if (d === 0) return 0;
  out[0] = c0 / d;
  out[1] = (a2 * a7 - a1 * a8) / d;
  out[2] = (a1 * a5 - a2 * a4) / d;
  out[3] = c1 / d;
  out[4] = (a0 * a8 - a2 * a6) / d;
  out[5] = (a2 * a3 - a0 * a5) / d;
  out[6] = c2 / d;
  out[7] = (a1 * a6 - a0 * a7) / d;
  out[8] = (a0 * a4 - a1 * a3) / d;
  return d;
}

/** Predicted state of a slot dt seconds ahead, without touching the table (for output). */
export function predictState(t: TrackTable, slot: number, dt: number, out: Float64Array): void {
  const x = t.state;
  const o = slot * N;
  const h = 0.5 * dt * dt;
  out[S.x] = x[o + S.x]! + dt * x[o + S.vx]! + h * x[o + S.ax]!;
  out[S.y] = x[o + S.y]! + dt * x[o + S.vy]! + h * x[o + S.ay]!;
  out[S.vx] = x[o + S.vx]! + dt * x[o + S.ax]!;
  out[S.vy] = x[o + S.vy]! + dt * x[o + S.ay]!;
  out[S.ax] = x[o + S.ax]!;
  out[S.ay] = x[o + S.ay]!;
}
