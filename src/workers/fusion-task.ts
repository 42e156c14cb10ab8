import type { PlanResult } from '../planning/planner.js';
import type { PlanningSpec } from '../smi/spec/pipeline-spec.js';
import type { SensorConfig } from '../wire/rig.js';

/** Fields per batch entry in `FusionTask.batch`. */
export const BATCH = { sensor: 0, slot: 1, length: 2, stride: 3 } as const;

/**
 * One fusion cycle: measurements already committed in the pool, in stamp order. The worker views
 * each payload in place through the shared segment; nothing is copied.
 */
export interface FusionTask {
  /** The pool segment (shared with the worker, never transferred). */
  sab: SharedArrayBuffer;
  /** Identifies the sensor set; the worker rebuilds its tracker when it changes. */
  configId: number;
  sensors: readonly SensorConfig[];
  maxTracks: number;
  /** Start the tracker from scratch (e.g. a simulated drive looped back to its start). */
  reset: boolean;
  /** BATCH.stride int32 per measurement: sensor (= channel) index, slot, payload bytes. */
  batch: Int32Array;
  /** Capture stamp per measurement, CLOCK_MONOTONIC ns. */
  stamps: BigInt64Array;
  /** Time the output tracks are predicted to: the newest stamp in the batch. */
  outputStampNs: bigint;
}

export interface FusionResult {
  /** When the worker had the descriptors in hand (handoff end). */
  startNs: bigint;
  endNs: bigint;
  count: number;
  /** TRACKS_LAYOUT records, `count` of them. */
  tracks: Float32Array;
  /** TRACK_QUALITY records, one per track, for the planner. */
  quality: Float32Array;
  outOfSequence: number;
  measurementsUsed: number;
}

export interface PlanTask {
  tracks: Float32Array;
  /** TRACK_QUALITY records, one per track. */
  quality: Float32Array;
  count: number;
  /** EGO_LAYOUT record. */
  ego: Float64Array;
  /** Stamp of the plan (the triggering measurement's), ns. */
  stampNs: bigint;
  /** The planner's configuration (spec.planning); the worker rebuilds its planner when it changes. */
  planning: PlanningSpec;
}

export interface PlanTaskResult {
  startNs: bigint;
  endNs: bigint;
  result: PlanResult;
  /** PLAN_LAYOUT points, `result.pointCount` of them. */
  trajectory: Float32Array;
}
