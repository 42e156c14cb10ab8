/**
 * Multi-threaded stress on real worker threads: four producers, seven readers (sequential,
 * latest, and slow sequential ones on a drop-oldest channel), two and a half million messages in all, for the JS ring (in-process), the native ring (shared
 * memory) and both mixed on one segment. Every payload is checked byte for byte by every reader.
 * No timing is asserted.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { SlotPool, type PoolImplementation } from './slot-pool.js';
import type { StressJob, StressResult } from './testing/stress-worker.js';

const workerFile = fileURLToPath(new URL('../../dist/pool/testing/stress-worker.js', import.meta.url));
const pools: SlotPool[] = [];
afterAll(() => pools.forEach((p) => p.close()));

const channels = [
  { name: 'seq_a', slotCount: 16, slotBytes: 512, readerCount: 2 },
  { name: 'seq_b', slotCount: 8, slotBytes: 512, readerCount: 1 },
  { name: 'latest_c', slotCount: 4, slotBytes: 512, readerCount: 0 },
  { name: 'drop_d', slotCount: 4, slotBytes: 512, readerCount: 2, whenFull: 'drop-oldest' as const },
];

function runJob(job: StressJob): Promise<StressResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(workerFile, { workerData: job });
    w.once('message', (m: StressResult) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`${job.role} ${job.channel} exited ${code}`)));
  });
}

const sumTo = (n: number): number => {
  let s = 0;
  for (let i = 1; i <= n; i++) s = (s + i) % 0x7fff_ffff;
  return s;
};

interface Case {
  name: string;
  make: () => SlotPool;
  producers: PoolImplementation;
  readers: PoolImplementation;
  counts: [number, number, number, number];
}

const CASES: Case[] = [
  {
    name: 'js ring, in-process buffer',
    make: () => SlotPool.create(channels),
    producers: 'js',
    readers: 'js',
    counts: [500_000, 250_000, 250_000, 100_000],
  },
  {
    name: 'native ring, shared memory',
    make: () => SlotPool.createNative(`/smi-stress-${process.pid}-native`, channels),
    producers: 'native',
    readers: 'native',
    counts: [500_000, 250_000, 250_000, 100_000],
  },
  {
    name: 'native producers, js readers, one segment',
    make: () => SlotPool.createNative(`/smi-stress-${process.pid}-mixed`, channels),
    producers: 'native',
    readers: 'js',
    counts: [250_000, 125_000, 125_000, 100_000],
  },
];

describe('pool stress on worker threads', () => {
  it('carries two and a half million messages in all', () => {
    const total = CASES.reduce((n, c) => n + c.counts.reduce((a, b) => a + b, 0), 0);
    expect(total).toBeGreaterThanOrEqual(1_000_000);
  });

  it.each(CASES)(
    '$name: no loss in sequential, no torn read in latest, every slot free at the end',
    async (c) => {
      const pool = c.make();
      pools.push(pool);
      const control = new Int32Array(new SharedArrayBuffer(16));
      const job = (role: StressJob['role'], channel: number, neverWait = false): StressJob => ({
        sab: pool.sab,
        implementation: role === 'producer' ? c.producers : c.readers,
        role,
        channel,
        count: c.counts[channel]!,
        control,
        neverWait,
      });
      // Readers first: the sequential ones bind entries reserved at creation, so nothing is missed
      // whatever the start order; latest readers only ever want what is newest anyway.
      const readers = [
        runJob(job('sequential', 0)),
        runJob(job('sequential', 0)),
        runJob(job('sequential', 1)),
        runJob(job('latest', 2)),
        runJob(job('latest', 2)),
        runJob(job('slow-sequential', 3)),
        runJob(job('slow-sequential', 3)),
      ];
      const producers = [
        runJob(job('producer', 0)),
        runJob(job('producer', 1)),
        runJob(job('producer', 2)),
        runJob(job('producer', 3, true)),
      ];
      const results = await Promise.all([...producers, ...readers]);
      const byRole = (role: string, ch: number) => results.filter((r) => r.role === role && r.channel === ch);

      for (const ch of [0, 1]) {
        for (const r of byRole('sequential', ch)) {
          expect(r).toMatchObject({ received: c.counts[ch], bad: 0, orderErrors: 0, skipped: 0 });
          expect(r.checksum).toBe(sumTo(c.counts[ch]!));
        }
      }
      for (const r of byRole('latest', 2)) {
        expect(r.bad).toBe(0);
        expect(r.orderErrors).toBe(0);
        expect(r.received).toBeGreaterThan(0);
        expect(r.received + r.skipped).toBeLessThanOrEqual(c.counts[2]);
      }
      // The latest channel's writer never had to wait.
      expect(byRole('producer', 2)[0]!.loanFailures).toBe(0);
      expect(pool.stats(2).droppedFull).toBe(0);
      expect(pool.stats(2).backpressure).toBe(0);
      // The channel's counters agree with what its readers saw (skips counted, torn reads retried).
      const latest = byRole('latest', 2);
      expect(pool.stats(2).overwritten).toBe(latest.reduce((n, r) => n + r.skipped, 0));
      expect(pool.stats(2).tornRetries).toBe(latest.reduce((n, r) => n + r.tornRetries, 0));
      // Drop-oldest: the writer never fails; slow readers see an increasing subset, intact; what
      // they missed was dropped for them (not overwritten under them).
      expect(byRole('producer', 3)[0]!.loanFailures).toBe(0);
      expect(pool.stats(3).droppedFull).toBe(0);
      expect(pool.stats(3).droppedOldest).toBeGreaterThan(0);
      for (const r of byRole('slow-sequential', 3)) {
        expect(r).toMatchObject({ bad: 0, orderErrors: 0 });
        expect(r.received).toBeGreaterThan(0);
        expect(r.received).toBeLessThanOrEqual(c.counts[3]);
      }
      for (const ch of [0, 1, 2, 3]) {
        expect(pool.slotsInUse(ch)).toBe(0);
        expect(pool.commitCount(ch)).toBe(c.counts[ch]);
      }
    },
  );
});
