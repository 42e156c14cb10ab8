import { describe, expect, it } from 'vitest';
import { AccessPolicy } from './access-policy.js';
import type { TargetSpec } from '../spec/traffic-target.js';

const rule = (op: 'write' | 'read', channels: string[], subjects: TargetSpec['subjects']): TargetSpec => ({
  name: 'r',
  op,
  channels,
  subjects,
  origin: 't',
});

describe('AccessPolicy', () => {
  const channels = ['radar_front', 'cam_front', 'ego'];
  const subjects = { sources: ['radar-ecu', 'camera-ecu', 'rogue'], stages: ['tracker', 'camera-fusion'] };

  it('with no rules everything is open', () => {
    const p = new AccessPolicy([], channels, subjects);
    expect(p.allows('write', 2, 0)).toBe(true);
    expect(p.allows('read', 1, 0)).toBe(true);
  });

  it('a listed channel takes its listed writers only; a listed writer writes only its channels', () => {
    const p = new AccessPolicy(
      [rule('write', ['radar_front'], [{ source: 'radar-ecu' }])],
      channels,
      subjects,
    );
    const w = (s: string) => p.subjectIndex('write', s);
    expect(p.allows('write', w('source:radar-ecu'), 0)).toBe(true);
    // Another producer on the radar's channel: refused.
    expect(p.allows('write', w('source:rogue'), 0)).toBe(false);
    expect(p.allows('write', w('external'), 0)).toBe(false);
    // The radar ECU claiming the camera's id: refused; the camera's own ECU is unlisted: open.
    expect(p.allows('write', w('source:radar-ecu'), 1)).toBe(false);
    expect(p.allows('write', w('source:camera-ecu'), 1)).toBe(true);
  });

  it('read rules restrict stages the same way', () => {
    const p = new AccessPolicy(
      [rule('read', ['cam_front'], [{ stage: 'camera-fusion' }])],
      channels,
      subjects,
    );
    const r = (s: string) => p.subjectIndex('read', s);
    expect(p.allows('read', r('stage:camera-fusion'), 1)).toBe(true);
    expect(p.allows('read', r('stage:tracker'), 1)).toBe(false);
    expect(p.allows('read', r('stage:tracker'), 0)).toBe(true);
    expect(p.allows('read', r('stage:camera-fusion'), 0)).toBe(false);
  });
});
