/**
 * Smart-camera model: the object list a camera ECU reports. Each actor's 3D box is projected
 * through a pinhole of the camera's horizontal FOV onto a 1920×1080 image; the detection
 * carries its class (occasionally wrong), a confidence, the clipped 2D box with pixel noise,
 * the bearing of the box centre and a coarse monocular range (to the nearest point of the
 * footprint) whose noise grows with range. Objects may be missed; occlusion is not modelled.
 */
import { CAMERA, ObjectClass } from '../wire/layouts.js';
import type { SensorConfig } from '../wire/rig.js';
import { INFO_BY_CLASS_ID } from './actor-classes.js';
import type { Prng } from './prng.js';
import type { World } from './world.js';

export const IMAGE_WIDTH = 1920;
export const IMAGE_HEIGHT = 1080;

/**
 * Pinhole intrinsics of a simulated camera from its horizontal field of view: square pixels, the
 * principal point at the image centre, u to the right and v down from the top-left corner.
 */
export function cameraIntrinsics(fovDeg: number): {
  width: number;
  height: number;
  focalPx: number;
  cx: number;
  cy: number;
} {
  return {
    width: IMAGE_WIDTH,
    height: IMAGE_HEIGHT,
    focalPx: IMAGE_WIDTH / 2 / Math.tan((fovDeg * Math.PI) / 360),
    cx: IMAGE_WIDTH / 2,
    cy: IMAGE_HEIGHT / 2,
  };
}

export interface CameraParams {
  /** Pixel noise of box edges, 1σ: fixed part (px) plus a fraction of the box size. */
  pixelSigma: number;
  pixelSigmaRel: number;
  /** Monocular range noise, 1σ, as a fraction of range, plus a floor in m. */
  rangeSigmaRel: number;
  rangeSigmaMin: number;
  /** Misclassification probability (to the look-alike class), and to `unknown`. */
  confusion: number;
  unknownRate: number;
  /** Detection probability close by; falls quadratically to pdFar at the camera's range. */
  pdNear: number;
  pdFar: number;
  /** Objects smaller than this on screen (height, px) are not reported. */
  minHeightPx: number;
  /** Objects with less than this fraction of their box inside the image are not reported. */
  minVisibleFraction: number;
  maxObjects: number;
}

export const DEFAULT_CAMERA: CameraParams = {
  pixelSigma: 1.5,
  pixelSigmaRel: 0.02,
  rangeSigmaRel: 0.06,
  rangeSigmaMin: 0.1,
  confusion: 0.03,
  unknownRate: 0.01,
  pdNear: 0.97,
  pdFar: 0.6,
  minHeightPx: 10,
  minVisibleFraction: 0.3,
  maxObjects: 64,
};

/** The class a detector confuses each class with: car↔truck, pedestrian↔cyclist. */
const LOOK_ALIKE = [
  ObjectClass.unknown,
  ObjectClass.truck,
  ObjectClass.car,
  ObjectClass.cyclist,
  ObjectClass.pedestrian,
];

/** Corners nearer than this in depth are pushed out to it, so boxes cut by the image plane project far off-screen. */
const NEAR_DEPTH = 0.2;

export class CameraModel {
  /** Output records (classId, confidence, u0, v0, u1, v1, bearing, range); the first `count` are valid. */
  readonly records: Float32Array;
  readonly bytes: Uint8Array;
  /** Focal length in pixels (square pixels). */
  readonly focal: number;
  private readonly pose = new Float64Array(5);

  constructor(
    readonly config: SensorConfig,
    private readonly rng: Prng,
    private readonly ideal = false,
    readonly params: CameraParams = DEFAULT_CAMERA,
  ) {
    this.records = new Float32Array(params.maxObjects * CAMERA.stride);
    this.bytes = new Uint8Array(this.records.buffer);
    this.focal = cameraIntrinsics(config.fovDeg).focalPx;
  }

  /** Produces one object list of the world at its current time; returns the number of objects. */
  scan(world: World): number {
    const p = this.params;
    const rng = this.rng;
    const ideal = this.ideal;
    const f = this.focal;
    const cu = IMAGE_WIDTH / 2;
    const cv = IMAGE_HEIGHT / 2;
    const rangeMax = this.config.rangeM;
    const mountZ = this.config.mount.z;
    const pose = this.pose;
    world.sensorPose(this.config.mount, pose);
    const px = pose[0]!;
    const py = pose[1]!;
    const psi = pose[2]!;
    const cps = Math.cos(psi);
    const sps = Math.sin(psi);
    const out = this.records;
    let n = 0;
    for (let i = 0; i < world.count && n < p.maxObjects; i++) {
      const dxw = world.x[i]! - px;
      const dyw = world.y[i]! - py;
      const cx = cps * dxw + sps * dyw;
      const cy = -sps * dxw + cps * dyw;
      if (cx < 0.5) continue; // centre behind or at the lens
      if (!INFO_BY_CLASS_ID[world.classId[i]!]!.cameraReports) continue;
      const hl = world.length[i]! / 2;
      const hw = world.width[i]! / 2;
      const height = world.height[i]!;
      const yaw = world.yaw[i]! - psi;
      const c = Math.cos(yaw);
      const s = Math.sin(yaw);
      // Range to the nearest footprint point (what a monocular estimator recovers from the box bottom).
      const lx = c * cx + s * cy;
      const ly = -s * cx + c * cy;
      const gx = Math.max(0, Math.abs(lx) - hl);
      const gy = Math.max(0, Math.abs(ly) - hw);
      const range = Math.hypot(gx, gy);
      if (range > rangeMax) continue;
      // Project the 8 corners: u grows to the right (−y), v grows downward (−z).
      let u0 = Infinity;
      let u1 = -Infinity;
      let v0 = Infinity;
      let v1 = -Infinity;
      for (let q = 0; q < 4; q++) {
        const sx = q & 1 ? hl : -hl;
        const sy = q & 2 ? hw : -hw;
        const depth = Math.max(NEAR_DEPTH, cx + c * sx - s * sy);
        const lat = cy + s * sx + c * sy;
        const u = cu - (f * lat) / depth;
        const vTop = cv - (f * (height - mountZ)) / depth;
        const vBottom = cv + (f * mountZ) / depth;
        if (u < u0) u0 = u;
        if (u > u1) u1 = u;
        if (vTop < v0) v0 = vTop;
        if (vBottom > v1) v1 = vBottom;
      }
      const fullArea = (u1 - u0) * (v1 - v0);
      const cu0 = Math.max(0, u0);
      const cu1 = Math.min(IMAGE_WIDTH, u1);
      const cv0 = Math.max(0, v0);
      const cv1 = Math.min(IMAGE_HEIGHT, v1);
      if (cu1 - cu0 < 2 || cv1 - cv0 < p.minHeightPx) continue;
      const visibleFraction = ((cu1 - cu0) * (cv1 - cv0)) / fullArea;
      if (visibleFraction < p.minVisibleFraction) continue;
      const rel = range / rangeMax;
      let classId = world.classId[i]!;
      let confidence = 0.95 - 0.35 * rel - 0.3 * (1 - visibleFraction);
      let b0 = cu0;
      let b1 = cu1;
      let b2 = cv0;
      let b3 = cv1;
      let estRange = range;
      if (!ideal) {
        const pd = (p.pdNear - (p.pdNear - p.pdFar) * rel * rel) * (visibleFraction < 0.6 ? 0.8 : 1);
        if (!rng.chance(pd)) continue;
        const r = rng.uniform();
        if (r < p.unknownRate) classId = ObjectClass.unknown;
        else if (r < p.unknownRate + p.confusion) classId = LOOK_ALIKE[classId] ?? ObjectClass.unknown;
        confidence += 0.03 * rng.gauss();
        const su = p.pixelSigma + p.pixelSigmaRel * (cu1 - cu0);
        const sv = p.pixelSigma + p.pixelSigmaRel * (cv1 - cv0);
        b0 += su * rng.gauss();
        b1 += su * rng.gauss();
        b2 += sv * rng.gauss();
        b3 += sv * rng.gauss();
        estRange = Math.max(0.5, range + (p.rangeSigmaMin + p.rangeSigmaRel * range) * rng.gauss());
      }
      // Keep the noisy box ordered and inside the image.
      const lo = clamp(Math.min(b0, b1), 0, IMAGE_WIDTH);
      const hi = clamp(Math.max(b0, b1), 0, IMAGE_WIDTH);
      const top = clamp(Math.min(b2, b3), 0, IMAGE_HEIGHT);
      const bottom = clamp(Math.max(b2, b3), 0, IMAGE_HEIGHT);
      const o = n * CAMERA.stride;
      out[o + CAMERA.classId] = classId;
      out[o + CAMERA.confidence] = clamp(confidence, 0.05, 0.99);
      out[o + CAMERA.u0] = lo;
      out[o + CAMERA.v0] = top;
      out[o + CAMERA.u1] = hi;
      out[o + CAMERA.v1] = bottom;
      out[o + CAMERA.bearing] = Math.atan((cu - (lo + hi) / 2) / f);
      out[o + CAMERA.range] = estRange;
      n++;
    }
    return n;
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
