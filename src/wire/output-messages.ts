/**
 * The multipart messages the service publishes on `out/tracks` and `out/plan` (README, "Outputs").
 * Each call makes new buffers: ZeroMQ may send them without copying, so none is reused.
 */
import { encodeHeader, outputTopic } from './codec.js';
import { WIRE_VERSION, type PlanHeader, type TracksHeader } from './header.js';
import { PLAN_LAYOUT, TRACKS_LAYOUT } from './layouts.js';

const TRACKS_TOPIC = Buffer.from(outputTopic('tracks'));
const PLAN_TOPIC = Buffer.from(outputTopic('plan'));

/** `[out/tracks, header, payload]`: `count` TRACKS_LAYOUT records from `tracks` (copied). */
export function tracksMessage(
  seq: number,
  stampNs: bigint,
  publishedNs: bigint,
  tracks: Float32Array,
  count: number,
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
  };
  const bytes = count * TRACKS_LAYOUT.stride;
  return [
    Buffer.from(TRACKS_TOPIC),
    Buffer.from(encodeHeader(header)),
    Buffer.from(new Uint8Array(tracks.buffer, tracks.byteOffset, bytes).slice()),
  ];
}

/** The plan's own header fields (decision, lead, command, ...): everything but the envelope. */
export type PlanFields = Omit<
  PlanHeader,
  'v' | 'kind' | 'seq' | 'stampNs' | 'frame' | 'fields' | 'stride' | 'count' | 'publishedNs'
>;

/** `[out/plan, header, payload]`: the plan's fields and `points` PLAN_LAYOUT trajectory points (copied). */
export function planMessage(
  seq: number,
  stampNs: bigint,
  publishedNs: bigint,
  fields: PlanFields,
  trajectory: Float32Array,
  points: number,
): Buffer[] {
  const header: PlanHeader = {
    v: WIRE_VERSION,
    kind: 'plan',
    seq,
    stampNs,
    frame: 'base_link',
    fields: PLAN_LAYOUT.fields,
    stride: PLAN_LAYOUT.stride,
    count: points,
    ...fields,
    publishedNs,
  };
  const bytes = points * PLAN_LAYOUT.stride;
  return [
    Buffer.from(PLAN_TOPIC),
    Buffer.from(encodeHeader(header)),
    Buffer.from(new Uint8Array(trajectory.buffer, trajectory.byteOffset, bytes).slice()),
  ];
}
