import { describe, expect, it } from 'vitest';
import { openPool } from './index.js';

const channels = [{ name: 'radar_front', slotCount: 4, slotBytes: 64, readerCount: 1 }];

describe('openPool', () => {
  it('auto: a shared-memory segment on the native ring when the addon loads', () => {
    const { pool, fallback } = openPool(channels, {
      segment: `/smi-open-${process.pid}`,
      implementation: 'auto',
    });
    expect(fallback).toBeUndefined();
    expect([pool.implementation, pool.shm, pool.segment]).toEqual([
      'native',
      true,
      `/smi-open-${process.pid}`,
    ]);
    pool.close();
  });

  it('auto falls back to the in-process JS ring and says why', () => {
    const { pool, fallback } = openPool(channels, { segment: 'no-slash', implementation: 'auto' });
    expect([pool.implementation, pool.shm]).toEqual(['js', false]);
    expect(fallback).toMatch(/pool segment 'no-slash': name must be/);
  });

  it('js is always the in-process ring; native insists on shared memory', () => {
    expect(openPool(channels, { segment: '/x', implementation: 'js' }).pool.describe()).toBe(
      'js-ring (Atomics) over an in-process SharedArrayBuffer',
    );
    expect(() => openPool(channels, { segment: 'bad', implementation: 'native' })).toThrow(/name must be/);
  });
});
