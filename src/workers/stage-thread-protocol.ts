/**
 * What the main thread hands a stage thread at start (workerData) and the messages between them.
 * Everything that moves per frame goes through shared memory (the pool, the scheduler block);
 * messages carry control, results for taps, and closed-loop commands.
 */
import type { MessagePort } from 'node:worker_threads';
import type { SensorConfig } from '../wire/rig.js';
import type { PrefetchSpec } from '../smi/spec/scheduler-spec.js';
import type { PlanningSpec } from '../smi/spec/pipeline-spec.js';
import type { SchedulerBlockShape } from './scheduler-block.js';

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
}

export interface TrackerThreadData extends StageThreadData {
  mode: 'stages' | 'trigger-cycles' | 'sync-window';
  maxTracks: number;
  /** The planner's parameters (spec.planning). */
  planning: PlanningSpec;
  reorderWindowNs: number;
  /** Trigger-cycle baseline: channels whose commits cut a cycle, and the longest wait. */
  triggerChannels: number[];
  triggerMaxWaitNs: number;
  /** Stage indices (global) of the planner. */
  plannerStage: number;
  /** ZeroMQ PUB endpoint for out/tracks and out/plan. */
  publish: string;
  /** Post every published message to the main thread too (recording, reports). */
  postOutputs: boolean;
  /** Post each plan's command to the main thread (closed-loop simulation). */
  postPlans: boolean;
}

export interface LidarThreadData extends StageThreadData {
  /** Lidar sensors this thread ingests from ZeroMQ / the simulator (sensor indices). */
  ingestSensors: number[];
  /** ZeroMQ endpoints to subscribe to `sensor/lidar/` on (empty: none). */
  zmq: { endpoints: string[]; bind: boolean } | undefined;
  /** Boxes output channel per lidar input channel (pool channel indices, same order as inputs). */
  boxesChannels: number[];
  /** The tracker thread's doorbell, rung after each boxes commit. */
  trackerDoorbell: number;
}

/** main → stage thread */
export type ToStageThread =
  | { type: 'stop' }
  /** A port the simulator (or replay) sends this thread's wire frames on. */
  | { type: 'frames'; port: MessagePort };

/** stage thread → main */
export type FromStageThread =
  | { type: 'ready'; endpoint?: string; zmqEndpoints?: string[]; priority: string }
  | { type: 'outputs'; parts: Uint8Array[] }
  | { type: 'plan'; targetAccel: number; decision: string }
  | { type: 'error'; stage: string; message: string }
  | { type: 'stopped' };

/** A frame posted on a `frames` port: wire parts and when they were received. */
export interface PortedFrame {
  parts: Uint8Array[];
  /** When the sender had it (default: when this thread takes it off the port). */
  receivedNs?: bigint;
  /** The clock stamps are checked against (replay at a drive's clock); default receivedNs. */
  clockNs?: bigint;
}
