/**
 * Where KITTI's frames sit in smi-fusion's. An imported drive's object-list sensor `kitti_objects`
 * has the rectified reference camera as its frame, re-axised to ISO 8855: x forward = camera z,
 * y left = −camera x, z up = −camera y. Its mount places it in base_link, which sits on the ground
 * below the IMU (the oxts unit): x, y and yaw of the camera in the IMU frame from the calibration,
 * z = KITTI's 1.65 m camera height. Small roll and pitch between camera and IMU are neglected;
 * the export inverts exactly what the import does, so tracks go back to the camera frame unchanged.
 */
import type { Box3 } from '../metrics/box-overlap.js';
import type { Mount } from '../wire/mount.js';
import type { KittiCalib, KittiObject, OxtsRecord } from './kitti-format.js';

/** Height of KITTI's cameras above the ground, m (the recording platform's documentation). */
export const KITTI_CAMERA_HEIGHT_M = 1.65;
/** Nominal image size of image_02, px (it varies by a few pixels between drives). */
export const KITTI_IMAGE_WIDTH = 1242;
export const KITTI_IMAGE_HEIGHT = 375;

/** A box in the objects sensor frame (ISO axes): centre, size, yaw of the length axis. */
export type SensorBox = Box3;

const wrap = (a: number): number => a - 2 * Math.PI * Math.floor((a + Math.PI) / (2 * Math.PI));

/** A KITTI box (camera frame, bottom centre, ry) in the objects sensor frame. */
export function cameraToSensor(o: Pick<KittiObject, 'x' | 'y' | 'z' | 'h' | 'w' | 'l' | 'ry'>): SensorBox {
  return {
    x: o.z,
    y: -o.x,
    z: -(o.y - o.h / 2),
    length: o.l,
    width: o.w,
    height: o.h,
    // The length axis in the camera frame is (cos ry, 0, −sin ry); in ISO axes (−sin ry, −cos ry).
    yaw: wrap(-o.ry - Math.PI / 2),
  };
}

/** The inverse of cameraToSensor: camera-frame location (bottom centre), size and ry. */
export function sensorToCamera(b: SensorBox): {
  x: number;
  y: number;
  z: number;
  h: number;
  w: number;
  l: number;
  ry: number;
} {
  return {
    x: -b.y,
    y: -b.z + b.height / 2,
    z: b.x,
    h: b.height,
    w: b.width,
    l: b.length,
    ry: wrap(-b.yaw - Math.PI / 2),
  };
}

/** KITTI's observation angle of an object at camera location (x, z) with rotation ry. */
export function observationAngle(x: number, z: number, ry: number): number {
  return wrap(ry - Math.atan2(x, z));
}

/** 4×4 row-major from a 3×4 (or 3×3 rotation) matrix. */
function homogeneous(m: Float64Array): Float64Array {
  const out = new Float64Array(16);
  out[15] = 1;
  if (m.length === 9) {
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) out[r * 4 + c] = m[r * 3 + c]!;
  } else {
    for (let i = 0; i < 12; i++) out[i] = m[i]!;
  }
  return out;
}

function multiply(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(16);
  for (let r = 0; r < 4; r++)
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[r * 4 + k]! * b[k * 4 + c]!;
      out[r * 4 + c] = s;
    }
  return out;
}

/** The mount of the ISO-axed rectified camera in base_link (see the module comment). */
export function cameraMount(calib: KittiCalib): Mount {
  // IMU → rectified camera: R0 · Tr_velo_to_cam · Tr_imu_to_velo.
  const T = multiply(
    homogeneous(calib.R0),
    multiply(homogeneous(calib.veloToCam), homogeneous(calib.imuToVelo)),
  );
  // Camera centre in IMU coordinates: −Rᵀ t.
  const cx = -(T[0]! * T[3]! + T[4]! * T[7]! + T[8]! * T[11]!);
  const cy = -(T[1]! * T[3]! + T[5]! * T[7]! + T[9]! * T[11]!);
  // The optical axis (camera z) in IMU coordinates is the third row of R.
  const yaw = Math.atan2(T[9]!, T[8]!);
  return { x: cx, y: cy, z: KITTI_CAMERA_HEIGHT_M, yaw };
}

/**
 * The image box (left, top, right, bottom; px, clipped to the nominal image) of a camera-frame
 * box, or undefined when no part of it is in the image.
 */
export function projectBox(
  P2: Float64Array,
  c: { x: number; y: number; z: number; h: number; w: number; l: number; ry: number },
): [number, number, number, number] | undefined {
  const cr = Math.cos(c.ry);
  const sr = Math.sin(c.ry);
  let u0 = Infinity;
  let v0 = Infinity;
  let u1 = -Infinity;
  let v1 = -Infinity;
  for (let k = 0; k < 8; k++) {
    const lx = (k & 1 ? 0.5 : -0.5) * c.l;
    const lz = (k & 2 ? 0.5 : -0.5) * c.w;
    const ly = k & 4 ? -c.h : 0;
    // Rotation about y: x' = cos·x + sin·z, z' = −sin·x + cos·z.
    const X = c.x + cr * lx + sr * lz;
    const Y = c.y + ly;
    const Z = Math.max(0.1, c.z - sr * lx + cr * lz);
    const p0 = P2[0]! * X + P2[1]! * Y + P2[2]! * Z + P2[3]!;
    const p1 = P2[4]! * X + P2[5]! * Y + P2[6]! * Z + P2[7]!;
    const p2 = P2[8]! * X + P2[9]! * Y + P2[10]! * Z + P2[11]!;
    const u = p0 / p2;
    const v = p1 / p2;
    if (u < u0) u0 = u;
    if (u > u1) u1 = u;
    if (v < v0) v0 = v;
    if (v > v1) v1 = v;
  }
  if (u1 < 0 || u0 > KITTI_IMAGE_WIDTH - 1 || v1 < 0 || v0 > KITTI_IMAGE_HEIGHT - 1) return undefined;
  const clip = (a: number, hi: number): number => (a < 0 ? 0 : a > hi ? hi : a);
  return [
    clip(u0, KITTI_IMAGE_WIDTH - 1),
    clip(v0, KITTI_IMAGE_HEIGHT - 1),
    clip(u1, KITTI_IMAGE_WIDTH - 1),
    clip(v1, KITTI_IMAGE_HEIGHT - 1),
  ];
}

/** Earth radius of the Mercator projection KITTI's devkit uses, m. */
const EARTH_RADIUS_M = 6378137;

/**
 * Ego odometry from oxts records: Mercator east/north relative to the first record (scale from
 * its latitude), heading from the oxts yaw (0 = east, counter-clockwise), forward speed, yaw rate
 * and forward acceleration. EGO_LAYOUT order: x, y, yaw, speed, yawRate, accel.
 */
export function oxtsToEgo(records: readonly OxtsRecord[]): Float64Array[] {
  if (records.length === 0) return [];
  const scale = Math.cos((records[0]!.lat * Math.PI) / 180);
  const mx = (r: OxtsRecord): number => (scale * r.lon * Math.PI * EARTH_RADIUS_M) / 180;
  const my = (r: OxtsRecord): number =>
    scale * EARTH_RADIUS_M * Math.log(Math.tan(((90 + r.lat) * Math.PI) / 360));
  const x0 = mx(records[0]!);
  const y0 = my(records[0]!);
  return records.map((r) => Float64Array.of(mx(r) - x0, my(r) - y0, r.yaw, r.vf, r.wu, r.af));
}

/** Share of image box a's area that lies inside image box b (left, top, right, bottom each). */
export function shareInside(
  ax1: number,
  ay1: number,
  ax2: number,
  ay2: number,
  bx1: number,
  by1: number,
  bx2: number,
  by2: number,
): number {
  const w = Math.min(ax2, bx2) - Math.max(ax1, bx1);
  const h = Math.min(ay2, by2) - Math.max(ay1, by1);
  const area = (ax2 - ax1) * (ay2 - ay1);
  return w > 0 && h > 0 && area > 0 ? (w * h) / area : 0;
}

/**
 * A box in base_link (centre, size, yaw) in a camera mounted at `mount`, in KITTI's camera
 * convention (bottom-centre location, ry): base_link → the ISO-axed camera frame → camera axes.
 */
export function baseLinkToCamera(
  mount: Mount,
  b: SensorBox,
): { x: number; y: number; z: number; h: number; w: number; l: number; ry: number } {
  const c = Math.cos(mount.yaw);
  const s = Math.sin(mount.yaw);
  const dx = b.x - mount.x;
  const dy = b.y - mount.y;
  return sensorToCamera({
    x: c * dx + s * dy,
    y: -s * dx + c * dy,
    z: b.z - mount.z,
    length: b.length,
    width: b.width,
    height: b.height,
    yaw: b.yaw - mount.yaw,
  });
}
