/**
 * Ground-truth record written by `DriveSimulator.groundTruth` (Float32, 13 per actor):
 * gtId (1-based index in the scenario's actors), classId (ObjectClass), x, y, z of the box
 * centre (m), yaw (rad), vx, vy (m/s over ground), ax, ay (m/s², longitudinal acceleration
 * along the path), length, width, height (m). Frame: `odom` (default) or `base_link`; in
 * base_link velocities are over ground expressed in base_link axes, as in TRACKS_LAYOUT.
 */
export const GT = {
  id: 0,
  classId: 1,
  x: 2,
  y: 3,
  z: 4,
  yaw: 5,
  vx: 6,
  vy: 7,
  ax: 8,
  ay: 9,
  length: 10,
  width: 11,
  height: 12,
  stride: 13,
} as const;
