import type { SensorKind } from './layouts.js';
import type { Mount } from './mount.js';

/** One physical sensor: identity, rate, mounting and coverage. Same shape as a spec's `sensors[]`. */
export interface SensorConfig {
  id: string;
  kind: SensorKind;
  /** Nominal output rate, Hz. */
  rateHz: number;
  mount: Mount;
  /** Horizontal field of view, degrees (360 for a spinning lidar). */
  fovDeg: number;
  /** Maximum range, m. */
  rangeM: number;
}

const deg = Math.PI / 180;

/**
 * The built-in sensor rig of the simulated vehicle (a mid-size car, 4.7 m x 1.9 m, origin at the
 * rear axle): one 64-beam roof lidar, five radars (front long-range and four corners), six cameras
 * around the car, and odometry.
 */
export const DEFAULT_RIG: readonly SensorConfig[] = [
  {
    id: 'lidar_top',
    kind: 'lidar',
    rateHz: 10,
    mount: { x: 1.3, y: 0, z: 1.9, yaw: 0 },
    fovDeg: 360,
    rangeM: 120,
  },
  {
    id: 'radar_front',
    kind: 'radar',
    rateHz: 20,
    mount: { x: 3.7, y: 0, z: 0.5, yaw: 0 },
    fovDeg: 20,
    rangeM: 200,
  },
  {
    id: 'radar_fl',
    kind: 'radar',
    rateHz: 20,
    mount: { x: 3.5, y: 0.8, z: 0.5, yaw: 45 * deg },
    fovDeg: 150,
    rangeM: 80,
  },
  {
    id: 'radar_fr',
    kind: 'radar',
    rateHz: 20,
    mount: { x: 3.5, y: -0.8, z: 0.5, yaw: -45 * deg },
    fovDeg: 150,
    rangeM: 80,
  },
  {
    id: 'radar_rl',
    kind: 'radar',
    rateHz: 20,
    mount: { x: -0.9, y: 0.8, z: 0.5, yaw: 135 * deg },
    fovDeg: 150,
    rangeM: 80,
  },
  {
    id: 'radar_rr',
    kind: 'radar',
    rateHz: 20,
    mount: { x: -0.9, y: -0.8, z: 0.5, yaw: -135 * deg },
    fovDeg: 150,
    rangeM: 80,
  },
  {
    id: 'cam_front',
    kind: 'camera',
    rateHz: 30,
    mount: { x: 2.0, y: 0, z: 1.4, yaw: 0 },
    fovDeg: 60,
    rangeM: 150,
  },
  {
    id: 'cam_front_left',
    kind: 'camera',
    rateHz: 30,
    mount: { x: 1.8, y: 0.9, z: 1.2, yaw: 60 * deg },
    fovDeg: 90,
    rangeM: 60,
  },
  {
    id: 'cam_front_right',
    kind: 'camera',
    rateHz: 30,
    mount: { x: 1.8, y: -0.9, z: 1.2, yaw: -60 * deg },
    fovDeg: 90,
    rangeM: 60,
  },
  {
    id: 'cam_rear_left',
    kind: 'camera',
    rateHz: 30,
    mount: { x: 0.5, y: 0.9, z: 1.2, yaw: 150 * deg },
    fovDeg: 90,
    rangeM: 60,
  },
  {
    id: 'cam_rear_right',
    kind: 'camera',
    rateHz: 30,
    mount: { x: 0.5, y: -0.9, z: 1.2, yaw: -150 * deg },
    fovDeg: 90,
    rangeM: 60,
  },
  {
    id: 'cam_rear',
    kind: 'camera',
    rateHz: 30,
    mount: { x: -1.0, y: 0, z: 1.3, yaw: 180 * deg },
    fovDeg: 60,
    rangeM: 80,
  },
  { id: 'ego', kind: 'ego', rateHz: 100, mount: { x: 0, y: 0, z: 0, yaw: 0 }, fovDeg: 0, rangeM: 0 },
];

/**
 * A 3D object detector running on the roof lidar's scans (objects kind, 10 Hz, all around):
 * the simulator gives it a detector-like error model (src/sim/object-list.ts).
 */
export const OBJECT_LIST_SENSOR: SensorConfig = {
  id: 'objects_top',
  kind: 'objects',
  rateHz: 10,
  mount: { x: 1.3, y: 0, z: 1.9, yaw: 0 },
  fovDeg: 360,
  rangeM: 100,
};

/** The built-in rig with the object detector added (before odometry): the simulated suite's rig. */
export const DETECTOR_RIG: readonly SensorConfig[] = [
  ...DEFAULT_RIG.filter((s) => s.kind !== 'ego'),
  OBJECT_LIST_SENSOR,
  ...DEFAULT_RIG.filter((s) => s.kind === 'ego'),
];
