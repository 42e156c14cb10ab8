/**
 * Spinning-lidar model: a 64-beam, 1800-column scan ray-cast against the actors' oriented
 * boxes and the flat ground, nearest hit wins (so occlusion falls out of the geometry).
 *
 * Speed comes from culling: each box covers a narrow interval of azimuth columns, so a column
 * tests only the boxes whose interval holds it (most columns test none and only compute the
 * ground hit). Everything runs on preallocated typed arrays; the scan is a snapshot at the
 * capture time (no rolling-shutter motion distortion) and the ego body is not modelled, as if
 * the driver had already cropped self-hits.
 */
import { LIDAR } from '../wire/layouts.js';
import type { SensorConfig } from '../wire/rig.js';
import { INFO_BY_CLASS_ID } from './actor-classes.js';
import type { Prng } from './prng.js';
import type { LidarScene } from './scene-snapshot.js';

export interface LidarParams {
  beams: number;
  columns: number;
  /** Elevation of the top and bottom beams, degrees (beams spaced evenly between). */
  elevationMaxDeg: number;
  elevationMinDeg: number;
  /** Range noise, 1σ, m. */
  rangeSigma: number;
  /** Intensity noise, 1σ. */
  intensitySigma: number;
  /** Returns closer than this are dropped, m. */
  minRange: number;
}

/** An HDL-64E-like head: 64 beams from +2° to -24.8°, 0.2° azimuth steps, 2 cm range noise. */
export const DEFAULT_LIDAR: LidarParams = {
  beams: 64,
  columns: 1800,
  elevationMaxDeg: 2,
  elevationMinDeg: -24.8,
  rangeSigma: 0.02,
  intensitySigma: 0.02,
  minRange: 1,
};

/** Ground reflectivity: asphalt, paint of lane markings, verge beyond the road edge. */
const ASPHALT = 0.08;
const MARKING = 0.6;
const VERGE = 0.15;
const MARKING_HALF_WIDTH = 0.075;
/** Dashed lane lines: 3 m of paint every 12 m. */
const DASH = 3;
const DASH_PERIOD = 12;

export class LidarModel {
  /** Output records (x, y, z, intensity) in the sensor frame; the first `count` are valid. */
  readonly points: Float32Array;
  readonly bytes: Uint8Array;
  private readonly cosA: Float64Array;
  private readonly sinA: Float64Array;
  private readonly cosE: Float64Array;
  private readonly sinE: Float64Array;
  private readonly groundT: Float64Array;
  private readonly colStart: Int32Array;
  private readonly colFill: Int32Array;
  private colItems = new Int32Array(4096);
  // Per-box scratch, in box-local coordinates (grown on demand, reused every scan).
  private boxCap = 0;
  private ox = new Float64Array(0);
  private oy = new Float64Array(0);
  private oz = new Float64Array(0);
  private bc = new Float64Array(0);
  private bs = new Float64Array(0);
  private hx = new Float64Array(0);
  private hy = new Float64Array(0);
  private hz = new Float64Array(0);
  private refl = new Float64Array(0);
  private j0 = new Int32Array(0);
  private j1 = new Int32Array(0);
  private ux = new Float64Array(0);
  private uy = new Float64Array(0);
  private readonly sensorPose = new Float64Array(5);
  private readonly clip = new RayBoxClip();
  private readonly dAz: number;

  constructor(
    readonly config: SensorConfig,
    private readonly rng: Prng,
    private readonly ideal = false,
    readonly params: LidarParams = DEFAULT_LIDAR,
  ) {
    const { beams, columns } = params;
    this.points = new Float32Array(beams * columns * LIDAR.stride);
    this.bytes = new Uint8Array(this.points.buffer);
    this.dAz = (2 * Math.PI) / columns;
    this.cosA = new Float64Array(columns);
    this.sinA = new Float64Array(columns);
    // Column j looks at azimuth -π + (j + ½)Δ: the scan starts behind the car and turns counter-clockwise.
    for (let j = 0; j < columns; j++) {
      const a = -Math.PI + (j + 0.5) * this.dAz;
      this.cosA[j] = Math.cos(a);
      this.sinA[j] = Math.sin(a);
    }
    this.cosE = new Float64Array(beams);
    this.sinE = new Float64Array(beams);
    this.groundT = new Float64Array(beams);
    const step = beams > 1 ? (params.elevationMaxDeg - params.elevationMinDeg) / (beams - 1) : 0;
    const h = config.mount.z;
    for (let i = 0; i < beams; i++) {
      const e = ((params.elevationMaxDeg - i * step) * Math.PI) / 180;
      this.cosE[i] = Math.cos(e);
      this.sinE[i] = Math.sin(e);
      // The ground is flat and the mount height fixed, so each beam meets it at a fixed range.
      this.groundT[i] = this.sinE[i]! < 0 ? h / -this.sinE[i]! : Infinity;
    }
    this.colStart = new Int32Array(columns + 1);
    this.colFill = new Int32Array(columns);
  }

  private ensureBoxes(n: number): void {
    if (n <= this.boxCap) return;
    const cap = Math.max(16, 2 * n);
    this.ox = new Float64Array(cap);
    this.oy = new Float64Array(cap);
    this.oz = new Float64Array(cap);
    this.bc = new Float64Array(cap);
    this.bs = new Float64Array(cap);
    this.hx = new Float64Array(cap);
    this.hy = new Float64Array(cap);
    this.hz = new Float64Array(cap);
    this.refl = new Float64Array(cap);
    this.j0 = new Int32Array(cap);
    this.j1 = new Int32Array(cap);
    this.ux = new Float64Array(cap);
    this.uy = new Float64Array(cap);
    this.boxCap = cap;
  }

  /** Produces one scan of the world at its current time; returns the number of points. */
  scan(world: LidarScene): number {
    const { beams, columns, rangeSigma, intensitySigma, minRange } = this.params;
    const rangeMax = this.config.rangeM;
    const mountZ = this.config.mount.z;
    const sp = this.sensorPose;
    world.sensorPose(this.config.mount, sp);
    const px = sp[0]!;
    const py = sp[1]!;
    const psi = sp[2]!;
    const cps = Math.cos(psi);
    const sps = Math.sin(psi);
    const nBoxes = this.prepareBoxes(world, px, py, psi, rangeMax, mountZ);
    this.bucketColumns(nBoxes, columns);

    const rng = this.rng;
    const noisy = !this.ideal;
    const pts = this.points;
    const { cosA, sinA, cosE, sinE, groundT, colStart, colItems } = this;
    const { ox, oy, oz, bc, bs, hx, hy, hz, refl, ux, uy } = this;
    const clip = this.clip;
    const road = world.road;
    const halfRoad = road.halfWidth;
    const laneW = road.laneWidth;
    const lanes = road.lanes;
    let n = 0;
    for (let j = 0; j < columns; j++) {
      const ca = cosA[j]!;
      const sa = sinA[j]!;
      const c0 = colStart[j]!;
      const nc = colStart[j + 1]! - c0;
      // Horizontal ray direction in each candidate box's frame; the beam's elevation scales it below.
      for (let k = 0; k < nc; k++) {
        const b = colItems[c0 + k]!;
        ux[k] = ca * bc[b]! + sa * bs[b]!;
        uy[k] = sa * bc[b]! - ca * bs[b]!;
      }
      for (let i = 0; i < beams; i++) {
        const ce = cosE[i]!;
        const se = sinE[i]!;
        let tBest = groundT[i]!;
        let hitBox = -1;
        let cosInc = 0;
        for (let k = 0; k < nc; k++) {
          const b = colItems[c0 + k]!;
          // Slab test in the box frame: x and y, then (only if they overlap) z.
          clip.reset();
          if (!clip.slab(ux[k]! * ce, ox[b]!, hx[b]!) || !clip.slab(uy[k]! * ce, oy[b]!, hy[b]!)) continue;
          if (clip.tNear > clip.tFar) continue;
          if (!clip.slab(se, oz[b]!, hz[b]!)) continue;
          const tNear = clip.tNear;
          if (tNear > clip.tFar || tNear <= 0 || tNear >= tBest) continue;
          tBest = tNear;
          hitBox = b;
          cosInc = clip.entry < 0 ? -clip.entry : clip.entry;
        }
        if (tBest > rangeMax || tBest < minRange) continue;
        const r = noisy ? tBest + rangeSigma * rng.gauss() : tBest;
        const hx0 = r * ce * ca;
        const hy0 = r * ce * sa;
        let intensity: number;
        if (hitBox >= 0) {
          intensity = refl[hitBox]! * (0.3 + 0.7 * cosInc);
        } else {
          // Ground: find the lateral offset on the road to paint lane markings.
          const wx = px + cps * hx0 - sps * hy0;
          const wy = py + sps * hx0 + cps * hy0;
          const d = road.lateralOf(wx, wy);
          const m = Math.round((d + halfRoad) / laneW);
          if (d < -halfRoad - MARKING_HALF_WIDTH || d > halfRoad + MARKING_HALF_WIDTH) {
            intensity = VERGE;
          } else if (Math.abs(d + halfRoad - m * laneW) < MARKING_HALF_WIDTH) {
            if (m === 0 || m === lanes)
              intensity = MARKING; // solid road edges
            else {
              const s = road.stationOf(wx, wy);
              const phase = s - DASH_PERIOD * Math.floor(s / DASH_PERIOD);
              intensity = phase < DASH ? MARKING : ASPHALT;
            }
          } else intensity = ASPHALT;
        }
        if (noisy) intensity += intensitySigma * rng.gauss();
        const o = n * 4;
        pts[o] = hx0;
        pts[o + 1] = hy0;
        pts[o + 2] = r * se;
        pts[o + 3] = intensity < 0 ? 0 : intensity > 1 ? 1 : intensity;
        n++;
      }
    }
    return n;
  }

  /** Puts every actor in range into box-local scratch arrays with its column interval; returns the count. */
  private prepareBoxes(
    world: LidarScene,
    px: number,
    py: number,
    psi: number,
    rangeMax: number,
    mountZ: number,
  ): number {
    this.ensureBoxes(world.count);
    const cps = Math.cos(psi);
    const sps = Math.sin(psi);
    const columns = this.params.columns;
    let nb = 0;
    for (let i = 0; i < world.count; i++) {
      const dxw = world.x[i]! - px;
      const dyw = world.y[i]! - py;
      const cx = cps * dxw + sps * dyw;
      const cy = -sps * dxw + cps * dyw;
      const hl = world.length[i]! / 2;
      const hw = world.width[i]! / 2;
      const hh = world.height[i]! / 2;
      if (Math.hypot(cx, cy) - Math.hypot(hl, hw) > rangeMax) continue;
      const yaw = world.yaw[i]! - psi;
      const c = Math.cos(yaw);
      const s = Math.sin(yaw);
      // The sensor origin in the box frame: R(-yaw) (0 - centre).
      const lx = -(c * cx + s * cy);
      const ly = -(-s * cx + c * cy);
      this.ox[nb] = lx;
      this.oy[nb] = ly;
      this.oz[nb] = mountZ - hh; // box centre is at height hh above ground; sensor at mountZ
      this.bc[nb] = c;
      this.bs[nb] = s;
      this.hx[nb] = hl;
      this.hy[nb] = hw;
      this.hz[nb] = hh;
      this.refl[nb] = INFO_BY_CLASS_ID[world.classId[i]!]!.reflectivity;
      if (Math.abs(lx) <= hl && Math.abs(ly) <= hw) {
        this.j0[nb] = 0;
        this.j1[nb] = columns - 1;
      } else {
        // Azimuth interval spanned by the footprint's corners, around the centre's azimuth.
        const ac = Math.atan2(cy, cx);
        let lo = Infinity;
        let hi = -Infinity;
        for (let q = 0; q < 4; q++) {
          const sx = q & 1 ? hl : -hl;
          const sy = q & 2 ? hw : -hw;
          const qx = cx + c * sx - s * sy;
          const qy = cy + s * sx + c * sy;
          let rel = Math.atan2(qy, qx) - ac;
          if (rel > Math.PI) rel -= 2 * Math.PI;
          else if (rel < -Math.PI) rel += 2 * Math.PI;
          if (rel < lo) lo = rel;
          if (rel > hi) hi = rel;
        }
        // One column of margin each side covers rays that graze a corner.
        let j0 = Math.floor((ac + lo + Math.PI) / this.dAz) - 1;
        let j1 = Math.floor((ac + hi + Math.PI) / this.dAz) + 1;
        if (j1 - j0 >= columns) {
          j0 = 0;
          j1 = columns - 1;
        }
        this.j0[nb] = j0;
        this.j1[nb] = j1;
      }
      nb++;
    }
    return nb;
  }

  /** Builds per-column candidate lists (counting sort: count, prefix-sum, fill). */
  private bucketColumns(nb: number, columns: number): void {
    const start = this.colStart;
    const fill = this.colFill;
    start.fill(0);
    let total = 0;
    for (let b = 0; b < nb; b++) {
      for (let j = this.j0[b]!; j <= this.j1[b]!; j++) start[wrap(j, columns) + 1]!++;
      total += this.j1[b]! - this.j0[b]! + 1;
    }
    for (let j = 0; j < columns; j++) start[j + 1]! += start[j]!;
    if (this.colItems.length < total) this.colItems = new Int32Array(2 * total);
    fill.set(start.subarray(0, columns));
    for (let b = 0; b < nb; b++) {
      for (let j = this.j0[b]!; j <= this.j1[b]!; j++) this.colItems[fill[wrap(j, columns)]!++] = b;
    }
    // The per-candidate direction scratch must hold the busiest column.
    let most = 0;
    for (let j = 0; j < columns; j++) most = Math.max(most, start[j + 1]! - start[j]!);
    if (this.ux.length < most) {
      this.ux = new Float64Array(most);
      this.uy = new Float64Array(most);
    }
  }
}

/**
 * Slab-method clip of a ray against a box centred at the origin of its own frame, one axis at a
 * time: the ray's parameter interval [tNear, tFar] inside every slab clipped so far, and the ray's
 * direction component along the normal of the face it enters by (the cosine of incidence).
 */
class RayBoxClip {
  tNear = -Infinity;
  tFar = Infinity;
  /** Direction component along the axis whose slab set tNear. */
  entry = 0;

  reset(): void {
    this.tNear = -Infinity;
    this.tFar = Infinity;
    this.entry = 0;
  }

  /**
   * Clips to the slab |o + t d| <= e of one axis: d the ray's direction component, o its origin's
   * coordinate, e the box's half extent. False when the ray runs parallel to the slab outside it.
   */
  slab(d: number, o: number, e: number): boolean {
    if (d > 1e-12 || d < -1e-12) {
      const inv = 1 / d;
      let t1 = (-e - o) * inv;
      let t2 = (e - o) * inv;
      if (t1 > t2) {
        const tmp = t1;
        t1 = t2;
        t2 = tmp;
      }
      if (t1 > this.tNear) {
        this.tNear = t1;
        this.entry = d;
      }
      if (t2 < this.tFar) this.tFar = t2;
      return true;
    }
    return !(o < -e || o > e);
  }
}

function wrap(j: number, n: number): number {
  return j < 0 ? j + n : j >= n ? j - n : j;
}
