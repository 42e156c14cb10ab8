import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from './latency-histogram.js';

/** Deterministic log-normal-ish latencies (µs to tens of ms), as a latency tail looks. */
function samples(n: number, seed = 1): number[] {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const g = Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
    out.push(Math.round(Math.exp(12 + 1.5 * g)));
  }
  return out;
}

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

describe('LatencyHistogram', () => {
  for (const bits of [5, 7]) {
    it(`reports p50..p99.9 and max within 2^-${bits} of the exact order statistic`, () => {
      const xs = samples(20_000, bits);
      const h = new LatencyHistogram(bits);
      for (const x of xs) h.record(x);
      const sorted = [...xs].sort((a, b) => a - b);
      for (const q of [0.5, 0.9, 0.99, 0.999]) {
        const exact = exactQuantile(sorted, q);
        const got = h.quantile(q);
        expect(got).toBeGreaterThanOrEqual(exact);
        expect((got - exact) / exact).toBeLessThanOrEqual(2 ** -bits);
      }
      expect(h.max).toBe(sorted[sorted.length - 1]);
      expect(h.min).toBe(sorted[0]);
      expect(h.count).toBe(xs.length);
    });
  }

  it('exports contiguous buckets whose counts add up, and merges histograms of one precision', () => {
    const a = new LatencyHistogram(7);
    const b = new LatencyHistogram(7);
    const xs = samples(5000, 3);
    xs.forEach((x, i) => (i % 2 ? a : b).record(x));
    const buckets = a.buckets();
    expect(buckets.reduce((n, [, , c]) => n + c, 0)).toBe(a.count);
    for (const [lo, hi] of buckets) expect(hi).toBeGreaterThanOrEqual(lo);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]![0]).toBeGreaterThan(buckets[i - 1]![1]);
    const whole = new LatencyHistogram(7);
    for (const x of xs) whole.record(x);
    a.add(b);
    expect(a.count).toBe(whole.count);
    for (const q of [0.5, 0.99, 0.999]) expect(a.quantile(q)).toBe(whole.quantile(q));
    expect(a.max).toBe(whole.max);
    expect(() => a.add(new LatencyHistogram(5))).toThrow(/precision 5 bits into 7/);
  });

  it('is empty until a value is recorded, and counts small values exactly', () => {
    const h = new LatencyHistogram();
    expect(h.quantile(0.5)).toBeNaN();
    expect(h.min).toBeNaN();
    h.record(-4);
    h.record(17);
    expect(h.quantile(0.5)).toBe(0);
    expect(h.quantile(1)).toBe(17);
    expect(() => new LatencyHistogram(0)).toThrow(/subBits 0/);
  });
});
