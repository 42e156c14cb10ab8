import type { OutputKind, PlanDecision, SensorKind } from './layouts.js';

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
}

/** Header of `out/plan`. */
export interface PlanHeader {
  v: number;
  kind: Extract<OutputKind, 'plan'>;
  seq: number;
  /** stampNs of the measurement that triggered this plan. */
  stampNs: bigint;
  frame: 'base_link';
  fields: readonly string[];
  stride: number;
  count: number;
  decision: PlanDecision;
  /** Track id of the selected lead vehicle, or -1 for none. */
  leadId: number;
  /** Commanded longitudinal acceleration, m/s² (negative brakes). */
  targetAccel: number;
  /** Time to collision with the lead, s; -1 when not closing. */
  ttc: number;
  /** `seq` of the out/tracks list this plan was computed from. */
  tracksSeq: number;
  publishedNs: bigint;
}
