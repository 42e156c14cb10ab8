import type { MeasurementReference, TrackerConfig } from './tracker-config.js';
import type { Linearization } from './linearization.js';
import type { SensorScan } from './sensor-scan.js';
import { ObjectClass } from '../wire/layouts.js';
import { CLASS_COUNT, CLASS_DIMENSIONS, COV_SIZE, S, type TrackTable } from './track-table.js';
import { wrapAngle } from './ego-history.js';
import { VisibleFaces } from './visible-faces.js';

export type MeasuredKind = 'radar' | 'lidar' | 'camera' | 'objects';

/**
 * One prepared scan of one sensor, as the tracker's association and update steps see it.
 * A model converts its records once per scan (prepare), then answers per (track, measurement)
 * pair with the innovation ν = z - h(x), the Jacobian H (dim×S.dim) and the noise R (dim×dim).
 */
export interface MeasurementBatch {
  readonly kind: MeasuredKind;
  readonly dim: number;
  /** Where the scan was taken, the measurements kept (count, odom positions) and those left out. */
  readonly scan: SensorScan;
  /** Radius of the cheap Euclidean pre-gate for measurement m, m. */
  preGateRadius(m: number): number;
  /** Fills ν, H, R for the pair; false when the pair cannot be compared (degenerate geometry). */
  innovation(t: TrackTable, slot: number, m: number, lin: Linearization): boolean;
  /** Whether the sensor should have seen this track (inside its field of view and range). */
  detectable(t: TrackTable, slot: number): boolean;
  /** Starts a new track in `slot` from measurement m. */
  initialize(t: TrackTable, slot: number, m: number, tS: number): void;
  /** Non-kinematic updates after a successful update with measurement m (shape, class). */
  afterUpdate(t: TrackTable, slot: number, m: number, tS: number): void;
  /**
   * Existence of the track in `slot` after measurement m updated it, when the model has its
   * own rule (a detector's score); undefined = the tracker's per-kind gain.
   */
  existenceOnHit?(t: TrackTable, slot: number, m: number): number;
  /** Whether unassigned measurement m may start a track (e.g. its score is high enough). */
  maySpawn?(m: number): boolean;
  /** Existence of a track that measurement m starts, when the model has its own rule. */
  birthExistence?(m: number): number;
  /**
   * A second update after measurement m updated the track: fills `lin` and returns its dimension
   * (a measured velocity; or a pseudo-measurement such as "a vehicle does not slide sideways
   * relative to its measured heading"), or 0 for none.
   */
  extraUpdate?(t: TrackTable, slot: number, m: number, lin: Linearization): number;
}

/**
 * The point of the track's box that a sensor at (sx, sy) measures (see MeasurementReference),
 * in odom, into out[0..1]. For `visible-faces` the sensor's view (boresight `sensorYaw`,
 * half-angle `halfFov`) clips the faces.
 */
export function referencePoint(
  t: TrackTable,
  slot: number,
  sx: number,
  sy: number,
  mode: MeasurementReference,
  out: Float64Array,
  sensorYaw = 0,
  halfFov = Math.PI,
): void {
  const o = slot * S.dim;
  const cx = t.state[o + S.x]!;
  const cy = t.state[o + S.y]!;
  if (mode === 'center') {
    out[0] = cx;
    out[1] = cy;
    return;
  }
  if (mode === 'visible-faces' && sharedFaces.compute(t, slot, sx, sy, sensorYaw, halfFov)) {
    out[0] = sharedFaces.meanX;
    out[1] = sharedFaces.meanY;
    return;
  }
  nearestOnBox(t, slot, sx, sy, out);
}

/** The point of the track's box nearest to (px, py), into out[0..1]. */
export function nearestOnBox(t: TrackTable, slot: number, px: number, py: number, out: Float64Array): void {
  const o = slot * S.dim;
  const cx = t.state[o + S.x]!;
  const cy = t.state[o + S.y]!;
  const c = Math.cos(t.yaw[slot]!);
  const s = Math.sin(t.yaw[slot]!);
  const hl = 0.5 * t.length[slot]!;
  const hw = 0.5 * t.width[slot]!;
  const dx = px - cx;
  const dy = py - cy;
  let lx = c * dx + s * dy;
  let ly = -s * dx + c * dy;
  lx = lx < -hl ? -hl : lx > hl ? hl : lx;
  ly = ly < -hw ? -hw : ly > hw ? hw : ly;
  out[0] = cx + c * lx - s * ly;
  out[1] = cy + s * lx + c * ly;
}

const sharedFaces = new VisibleFaces();

/**
 * Places the centre of a new track (heading and size already set) on the line of sight (ux, uy)
 * from a sensor at (sx, sy): at `range`, where the sensor measured the box's `reference` point,
 * plus the depth from that point to the centre (0 for `center`). Returns that depth.
 */
export function placeOnSightLine(
  t: TrackTable,
  slot: number,
  reference: MeasurementReference,
  sx: number,
  sy: number,
  ux: number,
  uy: number,
  range: number,
): number {
  const depth =
    reference === 'center' ? 0 : centreDepth(t.yaw[slot]!, t.length[slot]!, t.width[slot]!, ux, uy);
  const r = range + depth;
  const o = slot * S.dim;
  t.state[o + S.x] = sx + r * ux;
  t.state[o + S.y] = sy + r * uy;
  return depth;
}

/**
 * Distance from a box's centre to its boundary along the unit direction (ux, uy), for a box of
 * the given heading and size: how far behind a first echo the centre lies.
 */
function centreDepth(yaw: number, length: number, width: number, ux: number, uy: number): number {
  const c = Math.cos(yaw);
  const s = Math.sin(yaw);
  const al = Math.abs(c * ux + s * uy);
  const aw = Math.abs(-s * ux + c * uy);
  const tl = al > 1e-9 ? (0.5 * length) / al : Infinity;
  const tw = aw > 1e-9 ? (0.5 * width) / aw : Infinity;
  return tl < tw ? tl : tw;
}

/** Recomputes the track's length and width from lidar extents seen so far and its shape class. */
export function refreshDimensions(t: TrackTable, slot: number): void {
  const d = CLASS_DIMENSIONS[t.shapeClass[slot]!] ?? CLASS_DIMENSIONS[0]!;
  // A partial view (a rear face) underestimates; the class's typical size fills in a dimension
  // the lidar has not seen whole.
  const known = t.dimsKnown[slot]!;
  let len = Math.max(t.seenLength[slot]!, known & 1 ? d.min[0] : d.typical[0]);
  let wid = Math.max(t.seenWidth[slot]!, known & 2 ? d.min[1] : d.typical[1]);
  if (len > d.max[0]) len = d.max[0];
  if (wid > d.max[1]) wid = d.max[1];
  t.length[slot] = len;
  t.width[slot] = wid;
}

/** Speed (m/s) above which, and standard deviations of speed by which, an object clearly moves. */
const MOVING_SPEED = 1.5;
const MOVING_SIGMAS = 3;

/**
 * Whether the track clearly moves: fast enough and its speed well outside its uncertainty (a
 * new radar track's velocity across the line of sight is little more than a guess).
 */
export function clearlyMoving(t: TrackTable, slot: number): boolean {
  const o = slot * S.dim;
  const vx = t.state[o + S.vx]!;
  const vy = t.state[o + S.vy]!;
  const v2 = vx * vx + vy * vy;
  if (v2 < MOVING_SPEED * MOVING_SPEED) return false;
  // Variance of the speed: the velocity covariance along the velocity direction.
  const along = t.varianceAlong(slot, S.vx, S.vy, vx, vy) / v2;
  return v2 > MOVING_SIGMAS * MOVING_SIGMAS * along;
}

/** A box heading measured within this long (s) outranks the heading of the velocity. */
const BOX_HEADING_MEMORY_S = 1;

/**
 * Keeps the heading consistent with the velocity once the object clearly moves. A heading
 * measured on the box (a detector's yaw) within the last second is kept, only turned by 180°
 * when the velocity says the object moves the other way (a box's yaw is ambiguous by 180°);
 * otherwise the heading follows the velocity's direction.
 */
export function refreshHeading(t: TrackTable, slot: number, tS: number): void {
  if (!clearlyMoving(t, slot)) return;
  const o = slot * S.dim;
  const vx = t.state[o + S.vx]!;
  const vy = t.state[o + S.vy]!;
  const v2 = vx * vx + vy * vy;
  const course = Math.atan2(vy, vx);
  if (tS - t.yawMeasuredS[slot]! < BOX_HEADING_MEMORY_S) {
    if (Math.abs(wrapAngle(course - t.yaw[slot]!)) > Math.PI / 2)
      t.yaw[slot] = wrapAngle(t.yaw[slot]! + Math.PI);
    return;
  }
  const gain = v2 > 16 ? 0.5 : 0.2;
  t.yaw[slot] = wrapAngle(t.yaw[slot]! + gain * wrapAngle(course - t.yaw[slot]!));
  // Variance of the course: the velocity's variance across its direction over the speed².
  const across = t.varianceAlong(slot, S.vx, S.vy, -vy, vx) / (v2 * v2);
  t.yawVar[slot] = (1 - gain) * t.yawVar[slot]! + gain * across;
}

/**
 * Fuses a measured box heading (rad, odom; ambiguous by 180°) with variance `variance` into the
 * track's heading filter (heading and heading rate): the nearer of the two directions is taken.
 */
export function fuseBoxHeading(t: TrackTable, slot: number, yaw: number, variance: number, tS: number): void {
  let d = wrapAngle(yaw - t.yaw[slot]!);
  if (d > Math.PI / 2) d -= Math.PI;
  else if (d < -Math.PI / 2) d += Math.PI;
  // H = [1 0]: S = Pψψ + R, K = [Pψψ, Pψω] / S.
  const pp = t.yawVar[slot]!;
  const pr = t.headingCov[slot]!;
  const rr = t.headingRateVar[slot]!;
  const s = pp + variance;
  const k0 = pp / s;
  const k1 = pr / s;
  t.yaw[slot] = wrapAngle(t.yaw[slot]! + k0 * d);
  t.headingRate[slot] = t.headingRate[slot]! + k1 * d;
  t.yawVar[slot] = (1 - k0) * pp;
  t.headingCov[slot] = (1 - k0) * pr;
  t.headingRateVar[slot] = rr - k1 * pr;
  t.yawMeasuredS[slot] = tS;
}

/** Starts the heading filter at a measured box heading (variance `variance`) with a rate of 0 (1σ `rateStd`). */
export function startBoxHeading(
  t: TrackTable,
  slot: number,
  yaw: number,
  variance: number,
  rateStd: number,
  tS: number,
): void {
  t.yaw[slot] = yaw;
  t.yawVar[slot] = variance;
  t.headingRate[slot] = 0;
  t.headingRateVar[slot] = rateStd * rateStd;
  t.headingCov[slot] = 0;
  t.yawMeasuredS[slot] = tS;
}

/**
 * Advances the heading over dt: by the heading filter's own rate while box headings come in
 * (with white heading acceleration of intensity `rateAccelPsd`, rad²/s³), else by the track's
 * yaw rate, with a heading random walk of intensity `psd` (rad²/s).
 */
export function predictHeading(
  t: TrackTable,
  slot: number,
  dt: number,
  psd: number,
  rateAccelPsd: number,
  tS: number,
): void {
  const limit = Math.PI * Math.PI;
  if (tS - t.yawMeasuredS[slot]! < BOX_HEADING_MEMORY_S) {
    const pp = t.yawVar[slot]!;
    const pr = t.headingCov[slot]!;
    const rr = t.headingRateVar[slot]!;
    const q = rateAccelPsd;
    t.yaw[slot] = wrapAngle(t.yaw[slot]! + t.headingRate[slot]! * dt);
    t.yawVar[slot] = Math.min(limit, pp + 2 * dt * pr + dt * dt * rr + (q * dt * dt * dt) / 3 + psd * dt);
    t.headingCov[slot] = pr + dt * rr + (q * dt * dt) / 2;
    t.headingRateVar[slot] = rr + q * dt;
    return;
  }
  const o = slot * S.dim;
  const w = t.state[o + S.w]!;
  const pw = t.cov[slot * COV_SIZE + S.w * S.dim + S.w]!;
  t.yaw[slot] = wrapAngle(t.yaw[slot]! + w * dt);
  const v = t.yawVar[slot]! + psd * dt + pw * dt * dt;
  // Never more uncertain than not knowing the direction at all.
  t.yawVar[slot] = v < limit ? v : limit;
}

/**
 * The heading filter's rate as the yaw rate of the track's motion (a vehicle turns as its box
 * does): sets the state's yaw rate and its variance, uncorrelated with the rest.
 */
export function takeHeadingRate(t: TrackTable, slot: number): void {
  const o = slot * S.dim;
  const c = slot * COV_SIZE;
  const n = S.dim;
  t.state[o + S.w] = t.headingRate[slot]!;
  for (let i = 0; i < n; i++) {
    t.cov[c + S.w * n + i] = 0;
    t.cov[c + i * n + S.w] = 0;
  }
  t.cov[c + S.w * n + S.w] = t.headingRateVar[slot]!;
}

/** Evidence decays per classification by this factor; a class needs this much to be taken. */
const CLASS_EVIDENCE_DECAY = 0.9;
const CLASS_EVIDENCE_MIN = 1.5;

/**
 * Adds classification evidence `weight` for class `cls` to the track's decaying per-class
 * evidence; the track takes the strongest class once it is well supported.
 */
export function addClassEvidence(t: TrackTable, slot: number, cls: number, weight: number): void {
  const base = slot * CLASS_COUNT;
  const sc = t.classScore;
  let best = 0;
  for (let k = 0; k < CLASS_COUNT; k++) {
    sc[base + k] = sc[base + k]! * CLASS_EVIDENCE_DECAY;
    if (k === cls) sc[base + k] = sc[base + k]! + weight;
    if (sc[base + k]! > sc[base + best]!) best = k;
  }
  if (sc[base + best]! >= CLASS_EVIDENCE_MIN && best !== t.classId[slot]) {
    t.classId[slot] = best;
    if (best !== ObjectClass.unknown) {
      t.shapeClass[slot] = best;
      refreshDimensions(t, slot);
    }
  }
}

/**
 * Initial uncertainty and velocity of a new track, with the tracker's initial settings: position
 * variances along (ux, uy) and across it, an isotropic acceleration variance, and the road-aligned
 * velocity prior fused with a measured radial speed along (ux, uy), or NaN for none (see
 * initRoadAlignedVelocity).
 */
export function initTrackUncertainty(
  t: TrackTable,
  slot: number,
  cfg: Readonly<TrackerConfig>,
  roadYaw: number,
  ux: number,
  uy: number,
  posAlong: number,
  posAcross: number,
  radial: number,
): void {
  const c = slot * COV_SIZE;
  const P = t.cov;
  P.fill(0, c, c + COV_SIZE);
  setRotatedBlock(P, c, S.x, S.y, ux, uy, posAlong, posAcross);
  const accel = cfg.initialAccelStd ** 2;
  P[c + S.ax * S.dim + S.ax] = accel;
  P[c + S.ay * S.dim + S.ay] = accel;
  P[c + S.w * S.dim + S.w] = cfg.initialYawRateStd ** 2;
  initRoadAlignedVelocity(
    t,
    slot,
    roadYaw,
    cfg.initialVelocityStd,
    cfg.initialLateralVelocityStd,
    ux,
    uy,
    radial,
    1,
  );
}

/**
 * Velocity of a new track: a prior aligned with the road (the ego's heading `roadYaw`), since
 * objects move along the road far more than across it, fused by a Kalman step with a measured
 * radial speed `radial` along the unit line of sight (ux, uy), when there is one (a radar's
 * range rate; pass NaN for none). Overwrites the velocity part of the state and covariance.
 */
function initRoadAlignedVelocity(
  t: TrackTable,
  slot: number,
  roadYaw: number,
  alongStd: number,
  acrossStd: number,
  ux: number,
  uy: number,
  radial: number,
  radialStd: number,
): void {
  const c = Math.cos(roadYaw);
  const s = Math.sin(roadYaw);
  const a2 = alongStd * alongStd;
  const c2 = acrossStd * acrossStd;
  let pxx = a2 * c * c + c2 * s * s;
  let pyy = a2 * s * s + c2 * c * c;
  let pxy = (a2 - c2) * c * s;
  let vx = 0;
  let vy = 0;
  if (Number.isFinite(radial)) {
    // Measurement z = u·v with variance radialStd²: K = P u / (uᵀ P u + r).
    const pux = pxx * ux + pxy * uy;
    const puy = pxy * ux + pyy * uy;
    const sInv = 1 / (ux * pux + uy * puy + radialStd * radialStd);
    const kx = pux * sInv;
    const ky = puy * sInv;
    vx = kx * radial;
    vy = ky * radial;
    const nxx = pxx - kx * pux;
    const nxy = pxy - kx * puy;
    const nyy = pyy - ky * puy;
    pxx = nxx;
    pxy = nxy;
    pyy = nyy;
  }
  const o = slot * S.dim;
  t.state[o + S.vx] = vx;
  t.state[o + S.vy] = vy;
  const cv = slot * COV_SIZE;
  const n = S.dim;
  // Velocity is uncorrelated with position and acceleration at birth.
  for (let i = 0; i < n; i++) {
    t.cov[cv + S.vx * n + i] = 0;
    t.cov[cv + S.vy * n + i] = 0;
    t.cov[cv + i * n + S.vx] = 0;
    t.cov[cv + i * n + S.vy] = 0;
  }
  t.cov[cv + S.vx * n + S.vx] = pxx;
  t.cov[cv + S.vy * n + S.vy] = pyy;
  t.cov[cv + S.vx * n + S.vy] = pxy;
  t.cov[cv + S.vy * n + S.vx] = pxy;
}

/** Writes U diag(along, across) Uᵀ, U = [u, u⊥], into the (i, j) 2×2 block of an S.dim×S.dim matrix. */
function setRotatedBlock(
  P: Float64Array,
  c: number,
  i: number,
  j: number,
  ux: number,
  uy: number,
  along: number,
  across: number,
): void {
  const n = S.dim;
  P[c + i * n + i] = along * ux * ux + across * uy * uy;
  P[c + j * n + j] = along * uy * uy + across * ux * ux;
  const xy = (along - across) * ux * uy;
  P[c + i * n + j] = xy;
  P[c + j * n + i] = xy;
}
