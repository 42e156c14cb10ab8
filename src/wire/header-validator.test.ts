import { describe, expect, it } from 'vitest';
import { decodeHeader, encodeHeader, parseSensorTopic } from './codec.js';
import { emptySensorHeader, makeSensorHeader, validateSensorHeader } from './header-validator.js';

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
