import { describe, it, expect } from 'vitest';
import { Prng } from './prng.js';

describe('Prng (xoshiro128**)', () => {
  it('matches the reference sequence for state (1, 2, 3, 4)', () => {
    const p = Prng.fromState(1, 2, 3, 4);
    expect([p.nextU32(), p.nextU32(), p.nextU32()]).toEqual([11520, 0, 5927040]);
  });

  it('repeats for one seed and differs across seeds and streams', () => {
    const seq = (seed: number, stream = 0): number[] => {
      const p = new Prng(seed, stream);
      return Array.from({ length: 8 }, () => p.nextU32());
    };
    expect(seq(42)).toEqual(seq(42));
    expect(seq(42)).not.toEqual(seq(43));
    expect(seq(42, 0)).not.toEqual(seq(42, 1));
  });

  it('draws uniforms in [0, 1) and standard normals with the right moments', () => {
    const p = new Prng(7);
    let sum = 0;
    let sq = 0;
    let lo = 1;
    let hi = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const u = p.uniform();
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
      const g = p.gauss();
      sum += g;
      sq += g * g;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    expect(Math.abs(sum / n)).toBeLessThan(0.01);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.02);
  });

  it('draws Poisson counts with the requested mean', () => {
    const p = new Prng(9);
    let sum = 0;
    for (let i = 0; i < 20_000; i++) sum += p.poisson(3);
    expect(sum / 20_000).toBeCloseTo(3, 1);
  });
});
