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

/** Like sensorFrame, from a typed array of records already laid out (no per-value copy). */
export function sensorFrameFrom(
  kind: SensorKind,
  sensorId: string,
  seq: number,
  stampNs: bigint,
  payload: Float32Array | Float64Array,
): Buffer[] {
  const layout = LAYOUTS[kind];
  const count = payload.byteLength / layout.stride;
  return [
    Buffer.from(sensorTopic(kind, sensorId)),
    Buffer.from(encodeHeader(makeSensorHeader(kind, sensorId, seq, stampNs, count))),
    Buffer.from(payload.buffer.slice(payload.byteOffset, payload.byteOffset + payload.byteLength)),
  ];
}

/**
 * A lidar scan of `count` points in the sensor frame (mounted `height` m up): ground returns on
 * rings from 4 to 60 m, and the rear, sides and roof of a car-sized box whose rear face is `carX`
 * m ahead, `carY` m to the left.
 */
export function lidarScanPoints(count: number, carX = 25, carY = 0, height = 1.9): Float32Array {
  const pts = new Float32Array(count * 4);
  const onCar = Math.min(count, 3000);
  let seed = 12345;
  const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < count; i++) {
    const o = i * 4;
    if (i < onCar) {
      // Rear face (x = carX), both sides and the roof of a 4.5 x 1.8 x 1.5 box.
      const face = i % 4;
      const u = rnd();
      const v = rnd();
      pts[o] = face === 0 ? carX : carX + 4.5 * u;
      pts[o + 1] =
        face === 0
          ? carY - 0.9 + 1.8 * u
          : face === 3
            ? carY - 0.9 + 1.8 * v
            : carY + (face === 1 ? 0.9 : -0.9);
      pts[o + 2] = face === 3 ? 1.5 - height : 0.2 + 1.3 * v - height;
    } else {
      const r = 4 + 56 * rnd();
      const a = 2 * Math.PI * rnd();
      pts[o] = r * Math.cos(a);
      pts[o + 1] = r * Math.sin(a);
      pts[o + 2] = -height + 0.02 * (rnd() - 0.5);
    }
    pts[o + 3] = 0.5;
  }
  return pts;
}
