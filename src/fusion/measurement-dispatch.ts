import { LAYOUTS, type SensorKind } from '../wire/layouts.js';
import type { MultiSensorTracker } from './multi-sensor-tracker.js';

/**
 * Fuses one measurement into the tracker by its sensor's kind: ego odometry, a lidar scan
 * (clustered here), a radar scan, a camera object list or a 3D object list. `f32` and `f64` view
 * the same payload (whichever the kind's layout uses is read), `bytes` is its length. The
 * in-process closed loop calls this; the service's tracker thread dispatches the same way from
 * the slots it holds.
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
    case 'objects':
      tracker.ingestObjects(sensorIndex, f32, count, stampNs);
      break;
  }
}
