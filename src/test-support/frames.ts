/**
 * Builders for wire-format frames used by tests and the bench: what a sensor driver sends.
 * Kept out of the service's import graph (only tests and bench import it).
 */
import { encodeHeader, sensorTopic } from '../wire/codec.js';
import { makeSensorHeader } from '../wire/header-validator.js';
import { LAYOUTS, type SensorKind } from '../wire/layouts.js';

/** A multipart message `[topic, header, payload]` with a valid header for `values`. */
export function sensorFrame(
  kind: SensorKind,
  sensorId: string,
  seq: number,
  stampNs: bigint,
  values: ArrayLike<number>,
  headerOverrides: Record<string, unknown> = {},
): Buffer[] {
  const layout = LAYOUTS[kind];
  const perRecord = layout.stride / (layout.scalar === 'f32' ? 4 : 8);
  const count = Math.floor(values.length / perRecord);
  const payload =
    layout.scalar === 'f32' ? new Float32Array(Array.from(values)) : new Float64Array(Array.from(values));
  return [
    Buffer.from(sensorTopic(kind, sensorId)),
    Buffer.from(
      encodeHeader({ ...makeSensorHeader(kind, sensorId, seq, stampNs, count), ...headerOverrides }),
    ),
    Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
  ];
}

/** One radar detection straight ahead: range m, azimuth 0, closing at `closing` m/s, 10 dBsm. */
export const radarTarget = (range: number, closing = 0): number[] => [range, 0, -closing, 10];

/** One ego odometry record driving straight along odom x at `speed`, at position `x`. */
export const egoRecord = (speed: number, x = 0): number[] => [x, 0, 0, speed, 0, 0];
