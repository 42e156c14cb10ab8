import { LAYOUTS, type SensorKind } from '../wire/layouts.js';
import type { MultiSensorTracker } from './multi-sensor-tracker.js';

/**
 * Fuses one measurement into the tracker by its sensor's kind: ego odometry, a lidar scan
 * (clustered here), a radar scan or a camera object list. `f32` and `f64` view the same payload
 * (whichever the kind's layout uses is read), `bytes` is its length. The service's fusion worker
 * and the in-process closed loop both call this, so they fuse identically.
 */
export function fuseMeasurement(
  tracker: MultiSensorTracker,
  kind: SensorKind,
  sensorIndex: number,
  f32: Float32Array,
  f64: Float64Array,
  bytes: number,
  stampNs: bigint,
): void {
  const count = bytes / LAYOUTS[kind].stride;
  switch (kind) {
    case 'ego':
      tracker.ingestEgo(f64, stampNs);
      break;
    case 'lidar':
      tracker.ingestLidar(sensorIndex, f32, count, stampNs);
      break;
    case 'radar':
      tracker.ingestRadar(sensorIndex, f32, count, stampNs);
      break;
    case 'camera':
      tracker.ingestCamera(sensorIndex, f32, count, stampNs);
      break;
  }
}
