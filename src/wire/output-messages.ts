/**
 * The multipart messages the service publishes on `out/tracks` and `out/plan` (README, "Outputs").
 * Each call makes new buffers: ZeroMQ may send them without copying, so none is reused.
 */
import { encodeHeader, outputTopic } from './codec.js';
import { WIRE_VERSION, type PlanHeader, type PlanHeaderFields, type TracksHeader } from './header.js';
import { TRACKS_LAYOUT } from './layouts.js';

const TRACKS_TOPIC = Buffer.from(outputTopic('tracks'));
const PLAN_TOPIC = Buffer.from(outputTopic('plan'));

/** `[out/tracks, header, payload]`: `count` TRACKS_LAYOUT records from `tracks` (copied). */
export function tracksMessage(
  seq: number,
  stampNs: bigint,
  publishedNs: bigint,
  tracks: Float32Array,
  count: number,
  /** The stage version that made them, while a TrafficSplit runs (header field `version`). */
  version?: string,
): Buffer[] {
  const header: TracksHeader = {
    v: WIRE_VERSION,
    kind: 'tracks',
    seq,
    stampNs,
    frame: 'base_link',
    fields: TRACKS_LAYOUT.fields,
    stride: TRACKS_LAYOUT.stride,
    count,
    publishedNs,
    ...(version === undefined ? {} : { version }),
  };
  const bytes = count * TRACKS_LAYOUT.stride;
  return [
    Buffer.from(TRACKS_TOPIC),
    Buffer.from(encodeHeader(header)),
    Buffer.from(new Uint8Array(tracks.buffer, tracks.byteOffset, bytes).slice()),
  ];
}

/**
 * `[out/plan, header, payload]`: the plan's own fields (`planOutput` in src/planning makes them
 * from the planner's result) in the envelope, and its trajectory payload (copied).
 */
export function planMessage(
  seq: number,
  stampNs: bigint,
  publishedNs: bigint,
  fields: PlanHeaderFields & { tracksSeq: number; version?: string },
  payload: Uint8Array,
): Buffer[] {
  const header: PlanHeader = { v: WIRE_VERSION, kind: 'plan', seq, stampNs, ...fields, publishedNs };
  return [Buffer.from(PLAN_TOPIC), Buffer.from(encodeHeader(header)), Buffer.from(payload.slice())];
}
