/**
 * What the main thread hands a stage thread at start (workerData) and the messages between them.
 * Everything that moves per frame goes through shared memory (the pool, the scheduler block);
 * messages carry control, results for taps, and closed-loop commands.
 */
import type { MessagePort } from 'node:worker_threads';
import type { SensorConfig } from '../wire/rig.js';
import type { PrefetchSpec } from '../smi/spec/scheduler-spec.js';
import type { CurveSpec, PlanningSpec } from '../smi/spec/pipeline-spec.js';
import type { SchedulerBlockShape } from './scheduler-block.js';
import type { DivergenceReport } from '../smi/divergence/divergence.js';
import type { LidarClustererConfig } from '../fusion/lidar-clusterer.js';

/** Kinds of pool channel a stage reads. */
export type InputKind = 'ego' | 'radar' | 'objects' | 'camera' | 'lidar' | 'boxes';

/** One input channel of a thread's stages. */
export interface InputChannelInfo {
  /** Pool channel index. */
  channel: number;
  name: string;
  kind: InputKind;
  /** The sensor the data is from (for boxes: their lidar). */
  sensorIndex: number;
  access: 'sequential' | 'latest';
  /** Nominal rate, Hz (the source sensor's). */
  rateHz: number;
  /** Written by an external producer: the consumer admits each message with ingest's checks. */
  external: boolean;
  /** Index of the stage that consumes it. */
  stage: number;
}

/** One stage as a thread runs it. */
export interface StageInfo {
  /** Global stage index (row in the scheduler block's counters). */
  index: number;
  name: string;
  type: string;
  classRank: number;
  budgetNs: number;
}

/** Common to every stage thread. */
export interface StageThreadData {
  poolSab: SharedArrayBuffer;
  blockSab: SharedArrayBuffer;
  blockShape: SchedulerBlockShape;
  ingestCountersSab: SharedArrayBuffer;
  /** This thread's doorbell / timers / sample ring index in the block. */
  thread: number;
  /** The doorbell index the main thread sleeps on for progress (whenIdle). */
  mainDoorbell: number;
  sensors: SensorConfig[];
  inputs: InputChannelInfo[];
  stages: StageInfo[];
  deterministic: boolean;
  shedding: boolean;
  prefetch: PrefetchSpec;
  /** The thread's class rank and SCHED_FIFO priority (thread-priority.ts), or undefined to leave it. */
  priority?: { rank: number; realtime: number };
  logLevel: string;
  ingestLimits: { maxFutureMs: number; maxAgeMs: number };
  /**
   * Reader entry to bind per input (same order as `inputs`), handed over from a thread that died
   * (SlotPool.handOverReader); absent: open fresh readers.
   */
  readerEntries?: number[];
  /** Honour 'inject-fault' messages (tests and the failover bench only). */
  faultInjection?: boolean;
}

export interface TrackerThreadData extends StageThreadData {
  mode: 'stages' | 'trigger-cycles' | 'sync-window';
  maxTracks: number;
  /** The tracker stage's params (src/smi/spec/stage-params.ts TRACKER_PARAMS) over its defaults. */
  trackerParams: Record<string, unknown>;
  /** The planner's parameters (spec.planning). */
  planning: PlanningSpec;
  reorderWindowNs: number;
  /** Trigger-cycle baseline: channels whose commits cut a cycle, and the longest wait. */
  triggerChannels: number[];
  triggerMaxWaitNs: number;
  /** Stage indices (global) of the planner. */
  plannerStage: number;
  /** The output ring (OutputRing) the main thread publishes out/tracks and out/plan from. */
  outputRingSab: SharedArrayBuffer;
  /** The tracker's checkpoint in shared memory (TrackerStateBlock), written after each output. */
  stateSab: SharedArrayBuffer;
  /** Start from the checkpoint (a replacement thread) instead of an empty tracker. */
  resume: boolean;
  /**
   * A hot standby: attach, then wait for an 'activate' message with the data to run under (the
   * current generation's), so that a replacement starts without loading anything.
   */
  standby: boolean;
  /** Post each plan's command to the main thread (closed-loop simulation). */
  postPlans: boolean;
  /** The spec generation the thread starts under (the controller counts from 1). */
  generation: number;
  /** The TrafficSplit of the tracker or the planner, if any. */
  split: SplitRuntime | undefined;
}

/** A TrafficSplit as the tracker thread runs it (src/smi/spec/traffic-split.ts SplitSpec). */
export interface SplitRuntime {
  name: string;
  stageType: 'tracker' | 'planner';
  mode: 'canary' | 'shadow';
  primaryVersion: string;
  altVersion: string;
  /** Share of outputs the alternative makes, % (0 for a shadow). */
  altWeight: number;
  /** The alternative's stage params over the primary stage's. */
  altParams: Record<string, unknown>;
}

/** What the controller changes on a running tracker thread (applied between two frames). */
export interface TrackerReconfigure {
  type: 'reconfigure';
  generation: number;
  /** New budget and class of each of this thread's stages (global stage index). */
  stages: { index: number; budgetNs: number; classRank: number }[];
  trackerParams: Record<string, unknown>;
  planning: PlanningSpec;
  split: SplitRuntime | undefined;
}

/** Per split: outputs made by each version and the divergence so far (tracker thread → main). */
export interface SplitReport {
  name: string;
  mode: 'canary' | 'shadow';
  versions: [string, string];
  /** Output frames each version made (the primary's first). */
  routed: [number, number];
  divergence: DivergenceReport;
}

export interface LidarThreadData extends StageThreadData {
  /** Lidar sensors this thread ingests from ZeroMQ / the simulator (sensor indices). */
  ingestSensors: number[];
  /** ZeroMQ endpoints to subscribe to `sensor/lidar/` on (empty: none). */
  zmq: { endpoints: string[]; bind: boolean; curve?: CurveSpec } | undefined;
  /** Boxes output channel per lidar input channel (pool channel indices, same order as inputs). */
  boxesChannels: number[];
  /** The tracker thread's doorbell, rung after each boxes commit. */
  trackerDoorbell: number;
  /** The lidar-extraction stage's params (LIDAR_EXTRACTION_PARAMS) over the clusterer's defaults. */
  clustererParams: Partial<LidarClustererConfig>;
}

/** main → stage thread */
export type ToStageThread =
  | { type: 'stop' }
  /** A standby tracker thread takes over: run under `data` (its reader entries handed over). */
  | { type: 'activate'; data: TrackerThreadData }
  /** Fault injection (honoured only with `faultInjection`): throw out of the loop mid-frame. */
  | { type: 'inject-fault'; fault: 'throw' }
  /** A port the simulator (or replay) sends this thread's wire frames on. */
  | { type: 'frames'; port: MessagePort }
  | TrackerReconfigure
  /** The lidar-extraction stage's new params and budget (lidar thread). */
  | {
      type: 'reconfigure-lidar';
      generation: number;
      stages: { index: number; budgetNs: number; classRank: number }[];
      clustererParams: Partial<LidarClustererConfig>;
    };

/** stage thread → main */
export type FromStageThread =
  | {
      type: 'ready';
      zmqEndpoints?: string[];
      priority: string;
      /** The reader entry bound per input (for a handover if this thread dies). */
      readers: { channel: number; entry: number }[];
      /** A replacement: what it resumed from (undefined: started empty). */
      resumed?: ResumedFrom;
    }
  /** A standby thread is attached and waits for 'activate'. */
  | { type: 'standby' }
  /** The thread failed after it was ready and is exiting (its readers are left for a handover). */
  | { type: 'failed'; stage: string; message: string }
  | { type: 'plan'; targetAccel: number; decision: string }
  | { type: 'error'; stage: string; message: string }
  /**
   * A generation was applied (wall-clock ms, performance.timeOrigin + now(): the same clock on
   * every thread) and the first frame handled under it finished (undefined: none yet).
   */
  | {
      type: 'generation';
      generation: number;
      appliedAtMs: number;
      firstFrameAtMs: number | undefined;
      error?: string;
    }
  | { type: 'split'; report: SplitReport | undefined }
  | { type: 'stopped' };

/** A frame posted on a `frames` port: wire parts and when they were received. */
export interface PortedFrame {
  parts: Uint8Array[];
  /** When the sender had it (default: when this thread takes it off the port). */
  receivedNs?: bigint;
  /** The clock stamps are checked against (replay at a drive's clock); default receivedNs. */
  clockNs?: bigint;
}

/** What a replacement tracker thread resumed from (its 'ready' message). */
export interface ResumedFrom {
  /** Checkpoints the block held (saves by every thread so far); 0: none, started empty. */
  saves: number;
  /** Tracks in the restored state (confirmed and tentative). */
  tracks: number;
  /** The next track id the restored table gives out. */
  nextTrackId: number;
  /** How old the checkpoint was when restored, ms. */
  ageMs: number;
}
