import type { MessagePort } from 'node:worker_threads';
import type { SensorConfig } from '../wire/rig.js';

export interface SimWorkerData {
  scenarioFile: string;
  rig: readonly SensorConfig[];
  seed?: number;
  loop: boolean;
  closedLoop: boolean;
  /** Also post ground truth (base_link) at every ego odometry frame, for recording. */
  groundTruth?: boolean;
  /**
   * Lidar scans go here (the lidar thread, which ingests them) instead of to the parent, so a
   * 1.6 MB scan never passes through the thread that ingests critical messages.
   */
  lidarPort?: MessagePort;
}

/** Parent → simulator worker. */
export type SimControl = { type: 'stop' } | { type: 'accel'; value: number | null };

/** Simulator worker → parent. */
export type SimEvent =
  | { type: 'frame'; parts: [Uint8Array, Uint8Array, Uint8Array] }
  /** Ground truth as a wire-format message on `truth/actors` (see src/io/drive-format.ts). */
  | { type: 'truth'; parts: [Uint8Array, Uint8Array, Uint8Array] }
  | { type: 'loop'; loop: number }
  | { type: 'end' }
  | { type: 'error'; message: string };
