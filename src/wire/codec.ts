import { Decoder, Encoder } from '@msgpack/msgpack';
import { SENSOR_KINDS, type MessageKind, type SensorKind } from './layouts.js';

/** Headers are small maps; anything bigger is refused before decoding. */
export const MAX_HEADER_BYTES = 4096;

const encoder = new Encoder({ useBigInt64: true, ignoreUndefined: true });
const decoder = new Decoder({
  useBigInt64: true,
  maxStrLength: 256,
  maxArrayLength: 64,
  maxMapLength: 64,
  maxBinLength: 0,
  maxExtLength: 0,
});

/**
 * Encodes a header map. bigint values (stampNs) become msgpack uint64/int64, and so do top-level
 * integers beyond 32 bits (the encoder would write those as float64, which ingest refuses in an
 * integer field).
 */
export function encodeHeader(header: object): Uint8Array {
  let wide: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(header)) {
    if (typeof value === 'number' && Number.isSafeInteger(value) && Math.abs(value) > 0xffffffff) {
      wide ??= { ...header };
      wide[key] = BigInt(value);
    }
  }
  return encoder.encode(wide ?? header);
}

/** Decodes a header; throws on malformed or oversized input (ingest turns that into a rejection). */
export function decodeHeader(bytes: Uint8Array): unknown {
  if (bytes.byteLength > MAX_HEADER_BYTES) {
    throw new RangeError(`header is ${bytes.byteLength} bytes; at most ${MAX_HEADER_BYTES} allowed`);
  }
  return decoder.decode(bytes);
}

export function sensorTopic(kind: SensorKind, sensorId: string): string {
  return `sensor/${kind}/${sensorId}`;
}

export function outputTopic(kind: Extract<MessageKind, 'tracks' | 'plan'>): string {
  return `out/${kind}`;
}

/** Sensor ids: what may appear in a topic and a spec. */
export const SENSOR_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Parses `sensor/<kind>/<sensorId>` without allocating on the common path beyond the
 * returned strings. Returns undefined for any other topic.
 */
export function parseSensorTopic(topic: string): { kind: SensorKind; sensorId: string } | undefined {
  if (!topic.startsWith('sensor/')) return undefined;
  const slash = topic.indexOf('/', 7);
  if (slash < 0) return undefined;
  const kind = topic.slice(7, slash);
  const sensorId = topic.slice(slash + 1);
  if (!(SENSOR_KINDS as readonly string[]).includes(kind) || !SENSOR_ID_PATTERN.test(sensorId))
    return undefined;
  return { kind: kind as SensorKind, sensorId };
}
