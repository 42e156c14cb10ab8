import { LAYOUTS, type SensorKind } from './layouts.js';
import { WIRE_VERSION, type SensorHeader } from './header.js';
import type { Rejection } from './reject-reason.js';
import { WireFloat } from './header-decoder.js';

/** Upper bound on records per message, far above any real sensor (a 128-beam lidar is ~260k points). */
export const MAX_RECORDS = 4_000_000;

function isMap(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !ArrayBuffer.isView(value) &&
    !(value instanceof WireFloat)
  );
}

/** Accepts a msgpack integer decoded as number or bigint; returns undefined when it is not a non-negative integer. */
function toNonNegativeBigInt(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value >= 0n ? value : undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  return undefined;
}

function toNonNegativeInt(value: unknown): number | undefined {
  const n = toInt(value);
  return n !== undefined && n >= 0 ? n : undefined;
}

/** Any integer (number or bigint) as a number, when it is a safe integer. */
function toInt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : undefined;
  }
  return undefined;
}

/** A short description of a bad header value for a rejection detail (bounded length). */
function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.slice(0, 40)}'`;
  if (value instanceof WireFloat) return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'a map';
  return String(value);
}

const reject = (reason: Rejection['reason'], detail: string): Rejection => ({ reason, detail });

/**
 * Checks a decoded header against the topic it arrived on and the kind's layout, filling `out`.
 * Stateless: per-sensor checks (known sensor, stamp order) belong to the ingest stage.
 * Returns a Rejection naming the field and what is allowed, or undefined when the header is good.
 */
export function validateSensorHeader(
  raw: unknown,
  topicKind: SensorKind,
  topicSensorId: string,
  out: SensorHeader,
): Rejection | undefined {
  if (!isMap(raw)) return reject('malformed_header', 'header must be a msgpack map');
  const required = ['v', 'kind', 'sensorId', 'seq', 'stampNs', 'fields', 'stride', 'count'] as const;
  for (const key of required) {
    if (raw[key] === undefined || raw[key] === null) {
      return reject('missing_field', `header field '${key}' is required`);
    }
  }
  // Any integer encoding of the version is the version (a fixed-width uint64 1 is 1); a float is not.
  const v = toInt(raw.v);
  if (v === undefined) {
    return reject('bad_type', `header field 'v' must be an integer; got ${describe(raw.v)}`);
  }
  if (v !== WIRE_VERSION) {
    return reject('bad_version', `header v=${v} is not supported; allowed: ${WIRE_VERSION}`);
  }
  if (typeof raw.kind !== 'string') return reject('bad_type', `header field 'kind' must be a string`);
  if (raw.kind !== topicKind) {
    return reject('topic_mismatch', `header kind '${raw.kind}' differs from topic kind '${topicKind}'`);
  }
  if (typeof raw.sensorId !== 'string') return reject('bad_type', `header field 'sensorId' must be a string`);
  if (raw.sensorId !== topicSensorId) {
    return reject(
      'topic_mismatch',
      `header sensorId '${raw.sensorId}' differs from topic sensor '${topicSensorId}'`,
    );
  }
  const seq = toNonNegativeInt(raw.seq);
  if (seq === undefined) {
    return reject('bad_type', `header field 'seq' must be a non-negative integer; got ${describe(raw.seq)}`);
  }
  const stampNs = toNonNegativeBigInt(raw.stampNs);
  if (stampNs === undefined) {
    return reject(
      'bad_type',
      `header field 'stampNs' must be a non-negative integer (CLOCK_MONOTONIC ns); got ${describe(raw.stampNs)}`,
    );
  }
  const layout = LAYOUTS[topicKind];
  const expectedFrame = topicKind === 'ego' ? 'odom' : topicSensorId;
  const frame = raw.frame ?? expectedFrame;
  if (frame !== expectedFrame) {
    return reject(
      'bad_layout',
      `header frame ${describe(frame)} is not allowed; expected '${expectedFrame}'`,
    );
  }
  const fields = raw.fields;
  if (!Array.isArray(fields) || !fields.every((f) => typeof f === 'string')) {
    return reject('bad_type', `header field 'fields' must be a list of strings`);
  }
  if (fields.length !== layout.fields.length || fields.some((f, i) => f !== layout.fields[i])) {
    return reject(
      'bad_layout',
      `fields [${fields.join(',')}] are not the ${topicKind} layout; expected [${layout.fields.join(',')}]`,
    );
  }
  const stride = toNonNegativeInt(raw.stride);
  if (stride === undefined) {
    return reject(
      'bad_type',
      `header field 'stride' must be a non-negative integer; got ${describe(raw.stride)}`,
    );
  }
  if (stride !== layout.stride) {
    return reject('bad_layout', `stride ${stride} is not the ${topicKind} layout; expected ${layout.stride}`);
  }
  const count = toNonNegativeInt(raw.count);
  if (count === undefined || count > MAX_RECORDS) {
    return reject(
      'bad_type',
      `header field 'count' must be an integer 0..${MAX_RECORDS}; got ${describe(raw.count)}`,
    );
  }
  if (topicKind === 'ego' && count !== 1) {
    return reject('bad_layout', `ego messages carry exactly 1 record; count=${count}`);
  }
  out.v = WIRE_VERSION;
  out.kind = topicKind;
  out.sensorId = topicSensorId;
  out.seq = seq;
  out.stampNs = stampNs;
  out.frame = expectedFrame;
  out.fields = layout.fields;
  out.stride = stride;
  out.count = count;
  return undefined;
}

/** A blank header for callers that reuse one object across messages. */
export function emptySensorHeader(): SensorHeader {
  return { v: 0, kind: 'ego', sensorId: '', seq: 0, stampNs: 0n, frame: '', fields: [], stride: 0, count: 0 };
}

/** Builds a valid header for a sensor message: what drivers, the simulator and tests send. */
export function makeSensorHeader(
  kind: SensorKind,
  sensorId: string,
  seq: number,
  stampNs: bigint,
  count: number,
): SensorHeader {
  const layout = LAYOUTS[kind];
  return {
    v: WIRE_VERSION,
    kind,
    sensorId,
    seq,
    stampNs,
    frame: kind === 'ego' ? 'odom' : sensorId,
    fields: layout.fields,
    stride: layout.stride,
    count,
  };
}
