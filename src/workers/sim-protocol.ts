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
  /**
   * Lidar scenes go here, to the lidar caster (lidar-cast-worker.ts), instead of being cast on the
   * simulator's thread; `lidarPort` is then the caster's, not this worker's.
   */
  casterPort?: MessagePort;
}

export interface LidarCastWorkerData {
  scenarioFile: string;
  rig: readonly SensorConfig[];
  seed?: number;
  /** Where the simulator sends CastRequests (and the caster answers `flushed`). */
  scenes: MessagePort;
  /** The lidar thread's port; without it scans go to the parent as SimEvent frames. */
  out?: MessagePort;
}

/** Simulator ⇄ lidar caster. */
export type CastRequest =
  | { type: 'scene'; sensorIndex: number; seq: number; stampNs: bigint; scene: Float64Array }
  /** The drive restarts: fresh lidar models (noise streams from the start). */
  | { type: 'loop' }
  /** The drive ended: cast what came before, close the lidar port, answer `flushed`. */
  | { type: 'flush' }
  | { type: 'flushed' };

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
