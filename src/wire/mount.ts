/**
 * Extrinsic calibration of a sensor: its pose in base_link (ISO 8855: x forward, y left,
 * z up; origin at the rear axle centre on the ground). Yaw in radians, counter-clockwise.
 */
export interface Mount {
  x: number;
  y: number;
  z: number;
  yaw: number;
}

/** Transforms a point from a sensor frame into base_link, writing into `out[0..1]`. */
export function sensorToBase(mount: Mount, sx: number, sy: number, out: Float64Array): void {
  const c = Math.cos(mount.yaw);
  const s = Math.sin(mount.yaw);
  out[0] = mount.x + c * sx - s * sy;
  out[1] = mount.y + s * sx + c * sy;
}
