import { COV_SIZE, S, type TrackTable } from './track-table.js';
import type { Linearization } from './linearization.js';
import { MotionModel, turnTransition, type MotionModelId } from './motion-model.js';

const N = S.dim;
/** Columns where each row of the transition Jacobian (motion-model.ts) can be nonzero. */
const F_NONZERO: readonly Int32Array[] = [
  Int32Array.of(S.x, S.vx, S.vy, S.ax, S.ay, S.w),
  Int32Array.of(S.y, S.vx, S.vy, S.ax, S.ay, S.w),
  Int32Array.of(S.vx, S.vy, S.ax, S.ay, S.w),
  Int32Array.of(S.vx, S.vy, S.ax, S.ay, S.w),
  Int32Array.of(S.ax, S.ay, S.w),
  Int32Array.of(S.ax, S.ay, S.w),
  Int32Array.of(S.w),
];
/** Above this speed (m/s) process noise is split along and across the heading. */
const HEADING_FRAME_SPEED = 3;

/** Process noise and limits of the motion models. */
export interface MotionNoise {
  /** White-noise jerk intensity, m²/s⁵, along the heading of moving objects (all directions when slow). */
  jerkPsd: number;
  /** Jerk intensity across the heading of moving objects, m²/s⁵. */
  lateralJerkPsd: number;
  /** Extra random walk on position, m²/s. */
  positionPsd: number;
  /** White-noise acceleration intensity of the constant-velocity model (pedestrians), m²/s³. */
  cvAccelPsd: number;
  /** White-noise yaw acceleration intensity of the turn model, rad²/s³. */
  yawAccelPsd: number;
  /** Bound on the acceleration estimate, m/s². */
  maxAccel: number;
  /** Bounds on the yaw rate: absolute (rad/s), and through the lateral acceleration v·ω (m/s²). */
  maxYawRate: number;
  maxLateralAccel: number;
}

/**
 * Extended Kalman filter over a TrackTable slot in the odom frame, with a motion model per
 * track (motion-model.ts). Measurement models supply the innovation ν, the Jacobian H (m×S.dim,
 * row-major) and the noise R (m×m) for m ≤ 3 in a Linearization; the filter owns all scratch
 * memory, so no call allocates.
 */
export class TrackEkf {
  /** ln det S of the last mahalanobis() call, for likelihood-based association costs. */
  logDetS = 0;
  private readonly pht = new Float64Array(N * 3);
  private readonly s = new Float64Array(9);
  private readonly sInv = new Float64Array(9);
  private readonly k = new Float64Array(N * 3);
  private readonly a = new Float64Array(COV_SIZE);
  private readonly ap = new Float64Array(COV_SIZE);
  private readonly f = new Float64Array(COV_SIZE);
  /** Key (Linearization.key), slot and det S of the pair whose S⁻¹ and P Hᵀ are in scratch. */
  private lastKey = 0;
  private lastSlot = -1;
  private lastDet = 0;

  constructor(private readonly noise: Readonly<MotionNoise>) {}

  /** Predicts the slot's state and covariance forward by dt >= 0 seconds under `model`. */
  predict(t: TrackTable, slot: number, dt: number, model: MotionModelId): void {
    if (!(dt > 0)) return;
    this.lastKey = 0;
    const x = t.state;
    const o = slot * N;
    const P = t.cov;
    const c = slot * COV_SIZE;
    // Pedestrians have no acceleration state and nothing but vehicles turns at a yaw rate.
    if (model === MotionModel.constantVelocity) zeroComponent(x, P, o, c, S.ax, S.ay);
    if (model !== MotionModel.turn) zeroComponent(x, P, o, c, S.w, S.w);
    const F = this.f;
    turnTransition(x, o, dt, F);
    // P <- F P Fᵀ, through the nonzeros of F (the turn couples every block with the yaw rate).
    const FP = this.ap;
    for (let i = 0; i < N; i++) {
      const cols = F_NONZERO[i]!;
      for (let j = 0; j < N; j++) {
        let sum = 0;
        for (let q = 0; q < cols.length; q++) {
          const k = cols[q]!;
          sum += F[i * N + k]! * P[c + k * N + j]!;
        }
        FP[i * N + j] = sum;
      }
    }
    for (let j = 0; j < N; j++) {
      const cols = F_NONZERO[j]!;
      for (let i = 0; i <= j; i++) {
        let sum = 0;
        for (let q = 0; q < cols.length; q++) {
          const k = cols[q]!;
          sum += FP[i * N + k]! * F[j * N + k]!;
        }
        P[c + i * N + j] = sum;
        P[c + j * N + i] = sum;
      }
    }
    const dt2 = dt * dt;
    const dt3 = dt2 * dt;
    const q = this.noise;
    if (model === MotionModel.constantVelocity) {
      // Discrete white-noise acceleration, isotropic.
      const a = q.cvAccelPsd;
      for (let i = 0; i < 2; i++) {
        const pi = S.x + i;
        const vi = S.vx + i;
        P[c + pi * N + pi]! += (a * dt3) / 3;
        P[c + pi * N + vi]! += (a * dt2) / 2;
        P[c + vi * N + pi]! += (a * dt2) / 2;
        P[c + vi * N + vi]! += a * dt;
      }
    } else {
      this.addJerkNoise(x, o, P, c, dt);
    }
    if (model === MotionModel.turn) P[c + S.w * N + S.w]! += q.yawAccelPsd * dt;
    P[c + S.x * N + S.x]! += q.positionPsd * dt;
    P[c + S.y * N + S.y]! += q.positionPsd * dt;
  }

  /**
   * Discrete white-noise jerk, T(dt) per kinematic order pair, with a spatial intensity A:
   * isotropic for slow objects, along/across the heading for moving ones (vehicles jerk far
   * less sideways than along their path).
   */
  private addJerkNoise(x: Float64Array, o: number, P: Float64Array, c: number, dt: number): void {
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
    const q = this.noise;
    let axx = q.jerkPsd;
    let axy = 0;
    let ayy = q.jerkPsd;
    if (v2 > HEADING_FRAME_SPEED * HEADING_FRAME_SPEED) {
      const ux2 = (vx * vx) / v2;
      const uy2 = (vy * vy) / v2;
      const uxy = (vx * vy) / v2;
      const qa = q.jerkPsd;
      const qc = q.lateralJerkPsd;
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
  }

  /**
   * Squared Mahalanobis distance νᵀ S⁻¹ ν with S = H P Hᵀ + R; Infinity when S is not positive
   * definite. Leaves S⁻¹ and P Hᵀ in scratch for an update() of the same pair.
   */
  mahalanobis(t: TrackTable, slot: number, m: number, lin: Linearization): number {
    const { nu, H, R } = lin;
    // Same H and R as the last pair, with the covariance untouched since: S⁻¹ is still valid.
    if (lin.key !== 0 && lin.key === this.lastKey && slot === this.lastSlot && this.lastDet > 0) {
      return this.distance(nu, m);
    }
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
    this.lastKey = lin.key;
    this.lastSlot = slot;
    this.lastDet = det;
    if (!(det > 0) || !Number.isFinite(det)) {
      this.logDetS = Infinity;
      return Infinity;
    }
    this.logDetS = Math.log(det);
    return this.distance(nu, m);
  }

  /** νᵀ S⁻¹ ν with the S⁻¹ in scratch. */
  private distance(nu: Float64Array, m: number): number {
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
    this.lastKey = 0; // P changes below
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
    // Joseph form P = (I - K H) P (I - K H)ᵀ + K R Kᵀ, with the products taken through the
    // m columns of K rather than the 7×7 matrix I - K H: (I - K H) P = P - K (P Hᵀ)ᵀ, then
    // ((I - K H) P)(I - K H)ᵀ = AP - (AP Hᵀ) Kᵀ.
    const P = t.cov;
    const c = slot * COV_SIZE;
    const AP = this.ap;
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        let sum = P[c + i * N + j]!;
        for (let k = 0; k < m; k++) sum -= K[i * m + k]! * pht[j * m + k]!;
        AP[i * N + j] = sum;
      }
    }
    // APHt = AP Hᵀ (N×m), into the scratch `a`; KR = K R (N×m) after it.
    const APHt = this.a;
    const KR = N * 3;
    for (let i = 0; i < N; i++) {
      for (let k = 0; k < m; k++) {
        let sum = 0;
        let kr = 0;
        for (let j = 0; j < N; j++) sum += AP[i * N + j]! * H[k * N + j]!;
        for (let b = 0; b < m; b++) kr += K[i * m + b]! * R[b * m + k]!;
        APHt[i * m + k] = sum;
        APHt[KR + i * m + k] = kr;
      }
    }
    for (let i = 0; i < N; i++) {
      for (let j = i; j < N; j++) {
        // Row i of AP (I - K H)ᵀ at column j, plus (K R Kᵀ)[i][j]; symmetric by construction of
        // the Joseph form, so the upper triangle is mirrored.
        let sum = AP[i * N + j]!;
        for (let k = 0; k < m; k++) sum += (APHt[KR + i * m + k]! - APHt[i * m + k]!) * K[j * m + k]!;
        P[c + i * N + j] = sum;
        P[c + j * N + i] = sum;
      }
    }
    this.bound(x, o);
    return true;
  }

  /** A filter fed a bad association can run its acceleration or turn away; physics bounds them. */
  private bound(x: Float64Array, o: number): void {
    const q = this.noise;
    const ax = x[o + S.ax]!;
    const ay = x[o + S.ay]!;
    const an = Math.hypot(ax, ay);
    if (an > q.maxAccel) {
      x[o + S.ax] = (ax * q.maxAccel) / an;
      x[o + S.ay] = (ay * q.maxAccel) / an;
    }
    const speed = Math.hypot(x[o + S.vx]!, x[o + S.vy]!);
    const wMax = Math.min(q.maxYawRate, q.maxLateralAccel / Math.max(speed, 1e-3));
    const w = x[o + S.w]!;
    if (w > wMax) x[o + S.w] = wMax;
    else if (w < -wMax) x[o + S.w] = -wMax;
  }
}

/** Sets state components i..j (inclusive) and their covariance rows and columns to zero. */
function zeroComponent(x: Float64Array, P: Float64Array, o: number, c: number, i: number, j: number): void {
  for (let k = i; k <= j; k++) {
    x[o + k] = 0;
    for (let m = 0; m < N; m++) {
      P[c + k * N + m] = 0;
      P[c + m * N + k] = 0;
    }
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
