import type { AebStageName, OutputKind, PlanDecision, PlanReason, SensorKind } from './layouts.js';

/** Wire format version carried in every header as `v`. */
export const WIRE_VERSION = 1;

/** Header of a sensor message on `sensor/<kind>/<sensorId>`, after decoding and validation. */
export interface SensorHeader {
  v: number;
  kind: SensorKind;
  sensorId: string;
  /** Per-sensor sequence number, strictly increasing. */
  seq: number;
  /** Capture time on the host's CLOCK_MONOTONIC, nanoseconds. */
  stampNs: bigint;
  /** Frame the payload is expressed in: the sensor id (sensor frame) or `odom` for ego. */
  frame: string;
  fields: readonly string[];
  stride: number;
  /** Number of records in the payload; payload bytes = count * stride. */
  count: number;
}

/** Header of `out/tracks`. */
export interface TracksHeader {
  v: number;
  kind: Extract<OutputKind, 'tracks'>;
  seq: number;
  /** Time the tracks are valid at (newest measurement fused), CLOCK_MONOTONIC ns. */
  stampNs: bigint;
  frame: 'base_link';
  fields: readonly string[];
  stride: number;
  count: number;
  /** When the tracks were published, CLOCK_MONOTONIC ns. */
  publishedNs: bigint;
  /** The tracker version that made them; only while a TrafficSplit runs (README, "Traffic splits"). */
  version?: string;
}

/**
 * The plan-specific fields of an `out/plan` header, made from the planner's result by
 * `planOutput` (src/planning/plan-output.ts); the publisher adds the envelope (`PlanHeader`).
 * Distances are along the ego's predicted path from its front bumper (3.7 m ahead of base_link).
 */
export interface PlanHeaderFields {
  frame: 'base_link';
  fields: readonly string[];
  stride: number;
  /** Trajectory points in the payload; 0 when there is no plan (decision `none`). */
  count: number;
  decision: PlanDecision;
  /** Track id of the ACC lead, or -1 for none. */
  leadId: number;
  /** Commanded longitudinal acceleration, m/s² (negative brakes); finite, within the planner's limits. */
  targetAccel: number;
  /** Time to collision with the threat, s; -1 when nothing is closing (closing speed below the threshold). */
  ttc: number;
  /** AEB stage: none, warning, partial or full braking. */
  aebStage: AebStageName;
  /** Track id of the threat (the object the ego would reach first), or -1 for none. */
  threatId: number;
  /** Bumper-to-bumper gap to the lead along the path, m; -1 without a lead. */
  gap: number;
  /** Constant deceleration the ego needs to avoid the threat, m/s² (>= 0; 0 without one). */
  requiredDecel: number;
  reason: PlanReason;
}

/** Header of `out/plan`. */
export interface PlanHeader extends PlanHeaderFields {
  v: number;
  kind: Extract<OutputKind, 'plan'>;
  seq: number;
  /** stampNs of the measurement that triggered this plan. */
  stampNs: bigint;
  /** `seq` of the out/tracks list this plan was computed from. */
  tracksSeq: number;
  publishedNs: bigint;
  /** The version that made it; only while a TrafficSplit runs. */
  version?: string;
}
