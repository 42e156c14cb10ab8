import { describe, expect, it } from 'vitest';
import { decodeHeader, encodeHeader, parseSensorTopic } from './codec.js';
import { emptySensorHeader, makeSensorHeader, validateSensorHeader } from './header-validator.js';
import { HeaderDecodeError, decodeSensorHeader } from './header-decoder.js';

const good = () => ({ ...makeSensorHeader('lidar', 'lidar_top', 7, 123_456_789_012_345n, 100) });

function check(raw: unknown, kind: 'lidar' | 'radar' | 'camera' | 'ego' = 'lidar', id = 'lidar_top') {
  const out = emptySensorHeader();
  return { rejection: validateSensorHeader(raw, kind, id, out), out };
}

describe('header codec', () => {
  it('round-trips a header with a 64-bit stamp exactly', () => {
    const stamp = 2n ** 62n + 12345n;
    const bytes = encodeHeader({ ...good(), stampNs: stamp });
    const { rejection, out } = check(decodeHeader(bytes));
    expect(rejection).toBeUndefined();
    expect(out.stampNs).toBe(stamp);
    expect(out.count).toBe(100);
    expect(out.seq).toBe(7);
  });

  it('refuses oversized headers before decoding', () => {
    expect(() => decodeHeader(new Uint8Array(5000))).toThrow(/4096/);
  });

  it('parses sensor topics and refuses others', () => {
    expect(parseSensorTopic('sensor/radar/radar_fl')).toEqual({ kind: 'radar', sensorId: 'radar_fl' });
    expect(parseSensorTopic('sensor/sonar/s1')).toBeUndefined();
    expect(parseSensorTopic('out/tracks')).toBeUndefined();
    expect(parseSensorTopic('sensor/lidar/')).toBeUndefined();
    expect(parseSensorTopic('sensor/lidar/a b')).toBeUndefined();
  });
});

describe('validateSensorHeader', () => {
  it('accepts stamps sent as safe integers and fills defaults', () => {
    const { rejection, out } = check({ ...good(), stampNs: 1_000_000 });
    expect(rejection).toBeUndefined();
    expect(out.stampNs).toBe(1_000_000n);
    expect(out.frame).toBe('lidar_top');
  });

  it.each([
    ['not a map', [1, 2], 'malformed_header'],
    ['missing seq', { ...good(), seq: undefined }, 'missing_field'],
    ['wrong version', { ...good(), v: 2 }, 'bad_version'],
    ['kind differs from topic', { ...good(), kind: 'radar' }, 'topic_mismatch'],
    ['sensorId differs from topic', { ...good(), sensorId: 'other' }, 'topic_mismatch'],
    ['seq is a string', { ...good(), seq: '7' }, 'bad_type'],
    ['seq negative', { ...good(), seq: -1 }, 'bad_type'],
    ['stamp is a float', { ...good(), stampNs: 1.5 }, 'bad_type'],
    ['stamp negative', { ...good(), stampNs: -5n }, 'bad_type'],
    ['fields differ', { ...good(), fields: ['x', 'y', 'z'] }, 'bad_layout'],
    ['fields not strings', { ...good(), fields: [1, 2, 3, 4] }, 'bad_type'],
    ['stride differs', { ...good(), stride: 12 }, 'bad_layout'],
    ['count absurd', { ...good(), count: 1e12 }, 'bad_type'],
    ['frame wrong', { ...good(), frame: 'base_link' }, 'bad_layout'],
  ])('rejects %s as %s', (_name, raw, reason) => {
    const { rejection } = check(raw);
    expect(rejection?.reason).toBe(reason);
    expect(rejection?.detail.length).toBeGreaterThan(10);
  });

  it('requires exactly one ego record', () => {
    const raw = { ...makeSensorHeader('ego', 'ego', 1, 10n, 2) };
    expect(check(raw, 'ego', 'ego').rejection?.reason).toBe('bad_layout');
  });
});

/** msgpack bytes of one integer in a chosen encoding (what different encoders write). */
function int(value: number, encoding: string): number[] {
  const b = Buffer.alloc(9);
  switch (encoding) {
    case 'fixint':
      return [value];
    case 'uint8':
      return [0xcc, value];
    case 'uint16':
      b.writeUInt16BE(value, 1);
      return [0xcd, ...b.subarray(1, 3)];
    case 'uint32':
      b.writeUInt32BE(value, 1);
      return [0xce, ...b.subarray(1, 5)];
    case 'uint64':
      b.writeBigUInt64BE(BigInt(value), 1);
      return [0xcf, ...b.subarray(1, 9)];
    case 'int8':
      return [0xd0, value];
    case 'int16':
      b.writeInt16BE(value, 1);
      return [0xd1, ...b.subarray(1, 3)];
    case 'int32':
      b.writeInt32BE(value, 1);
      return [0xd2, ...b.subarray(1, 5)];
    case 'int64':
      b.writeBigInt64BE(BigInt(value), 1);
      return [0xd3, ...b.subarray(1, 9)];
    case 'float32':
      b.writeFloatBE(value, 1);
      return [0xca, ...b.subarray(1, 5)];
    case 'float64':
      b.writeDoubleBE(value, 1);
      return [0xcb, ...b.subarray(1, 9)];
  }
  throw new Error(encoding);
}

const str = (s: string): number[] => [0xa0 | s.length, ...Buffer.from(s)];

/** A lidar header map with each integer field written in the encoding `enc[field]` (default fixint-ish). */
function headerBytes(enc: Partial<Record<'v' | 'seq' | 'stampNs' | 'stride' | 'count', string>>): Uint8Array {
  const ints = { v: 1, seq: 7, stampNs: 100, stride: 16, count: 2 };
  const out: number[] = [0x88];
  for (const [k, v] of Object.entries(ints))
    out.push(...str(k), ...int(v, enc[k as keyof typeof ints] ?? 'fixint'));
  out.push(...str('kind'), ...str('lidar'), ...str('sensorId'), ...str('lidar_top'));
  out.push(...str('fields'), 0x94, ...str('x'), ...str('y'), ...str('z'), ...str('intensity'));
  return Uint8Array.from(out);
}

describe('decodeSensorHeader (the strict ingest decoder)', () => {
  const fields = ['v', 'seq', 'stampNs', 'stride', 'count'] as const;
  const ints = ['fixint', 'uint8', 'uint16', 'uint32', 'uint64', 'int8', 'int16', 'int32', 'int64'];

  it.each(fields.flatMap((f) => ints.map((e) => [f, e] as const)))(
    'accepts integer field %s in every msgpack integer encoding (%s)',
    (field, encoding) => {
      const { rejection, out } = check(decodeSensorHeader(headerBytes({ [field]: encoding })));
      expect(rejection).toBeUndefined();
      expect([out.v, out.seq, out.stampNs, out.stride, out.count]).toEqual([1, 7, 100n, 16, 2]);
    },
  );

  it.each(fields.flatMap((f) => ['float32', 'float64'].map((e) => [f, e] as const)))(
    'refuses an integral float in integer field %s (%s) as bad_type, naming the field',
    (field, encoding) => {
      const { rejection } = check(decodeSensorHeader(headerBytes({ [field]: encoding })));
      expect(rejection?.reason).toBe('bad_type');
      expect(rejection?.detail).toContain(`'${field}'`);
      expect(rejection?.detail).toContain('(a float)');
    },
  );

  it('keeps a stamp beyond 2^53 exact, as a bigint', () => {
    const stamp = 2n ** 62n + 12345n;
    const { out } = check(decodeSensorHeader(encodeHeader({ ...good(), stampNs: stamp })));
    expect(out.stampNs).toBe(stamp);
  });

  it.each([
    ['more than 4096 bytes', new Uint8Array(5000), /5000 bytes; at most 4096/],
    ['not a map', Uint8Array.of(0x93, 1, 2, 3), /must be a msgpack map/],
    ['trailing bytes', Uint8Array.of(0x80, 0x01), /1 bytes after the header map/],
    ['truncated', Uint8Array.of(0x81, 0xa1, 0x76), /truncated/],
    ['a bin value', Uint8Array.of(0x81, ...str('v'), 0xc4, 1, 0), /0xc4 \(bin, ext or reserved\)/],
    ['an ext value', Uint8Array.of(0x81, ...str('v'), 0xd4, 1, 0), /0xd4/],
    ['a non-string key', Uint8Array.of(0x81, 0x01, 0x01), /map key is not a string/],
    ['a duplicate key', Uint8Array.of(0x82, ...str('v'), 1, ...str('v'), 2), /duplicate key 'v'/],
    ['a 255-byte string', Uint8Array.of(0x81, ...str('v'), 0xd9, 255, ...new Uint8Array(255)), /ok/],
    [
      'a string over 256 bytes',
      Uint8Array.of(0x81, ...str('v'), 0xda, 1, 1, ...new Uint8Array(257)),
      /257 bytes; at most 256/,
    ],
    ['an array over 64 items', Uint8Array.of(0x81, ...str('v'), 0xdc, 0, 65), /65 items; at most 64/],
    ['a map over 64 keys', Uint8Array.of(0xde, 0, 65), /65 keys; at most 64/],
    [
      'nesting deeper than 4',
      Uint8Array.of(0x81, ...str('v'), 0x91, 0x91, 0x91, 0x91, 0x91, 0x90),
      /nesting deeper than 4/,
    ],
    ['invalid UTF-8', Uint8Array.of(0x81, ...str('v'), 0xa2, 0xff, 0xfe), /not UTF-8/],
  ])('refuses %s with the problem and where', (name, bytes, message) => {
    if (name === 'a 255-byte string') {
      // 255 bytes: within the limit, decodes
      expect(decodeSensorHeader(bytes).v).toHaveLength(255);
      return;
    }
    expect(() => decodeSensorHeader(bytes)).toThrow(HeaderDecodeError);
    expect(() => decodeSensorHeader(bytes)).toThrow(message);
  });

  it('treats a __proto__ key as a plain key', () => {
    const h = decodeSensorHeader(Uint8Array.of(0x81, ...str('__proto__'), 0x01));
    expect(Object.keys(h)).toEqual(['__proto__']);
    expect(check(h).rejection?.reason).toBe('missing_field');
  });
});
