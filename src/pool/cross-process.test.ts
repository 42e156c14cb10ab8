/**
 * Cross-process tests: a C driver (native/examples/lidar_driver.c, built here with gcc) opens the
 * service's segment by name and publishes lidar frames, dies mid-write, or dies holding slots.
 * The service side runs both rings over the segment.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { emptyDescriptor, SlotPool, type PoolImplementation } from './slot-pool.js';
import { buildLidarDriver } from '../test-support/c-driver.js';

let driver = '';
const POINTS = 1000;

beforeAll(() => {
  driver = buildLidarDriver();
});

const children: ChildProcess[] = [];
const pools: SlotPool[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const p of pools.splice(0)) p.close();
});

let n = 0;
function makePool(implementation: PoolImplementation, slotCount: number, readerCount: number): SlotPool {
  const pool = SlotPool.createNative(
    `/smi-xproc-${process.pid}-${n++}`,
    [
      { name: 'radar_front', slotCount: 4, slotBytes: 64, readerCount: 0 },
      { name: 'lidar_top', slotCount, slotBytes: POINTS * 16, readerCount },
    ],
    { implementation },
  );
  pools.push(pool);
  return pool;
}

/** Runs the driver; `line(prefix)` resolves with the first stdout line starting with it. */
function run(args: string[]) {
  const child = spawn(driver, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  const waiters: { prefix: string; resolve: (l: string) => void }[] = [];
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    for (const w of waiters.slice()) {
      const l = out.split('\n').find((x) => x.startsWith(w.prefix));
      if (l) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    stderr: () => err,
    line: (prefix: string) =>
      new Promise<string>((resolve, reject) => {
        const l = out.split('\n').find((x) => x.startsWith(prefix));
        if (l) return resolve(l);
        waiters.push({ prefix, resolve });
        void exited.then((code) => reject(new Error(`driver exited (${code}) before '${prefix}': ${err}`)));
      }),
  };
}

/** True when a frame holds exactly what the driver writes for `seq`. */
function frameOk(pool: SlotPool, slot: number, seq: number, length: number): boolean {
  if (length !== POINTS * 16) return false;
  const f = new Float32Array(pool.sab, pool.slotOffset(1, slot), POINTS * 4);
  for (let i = 0; i < POINTS; i++) {
    if (
      f[i * 4] !== Math.fround(seq + 0.5 * i) ||
      f[i * 4 + 1] !== i ||
      f[i * 4 + 2] !== -1.5 ||
      f[i * 4 + 3] !== (seq * 31 + i) % 256
    ) {
      return false;
    }
  }
  return true;
}

describe.each(['native', 'js'] as const)('cross-process, service on the %s ring', (impl) => {
  it('a C driver publishes lidar frames that the pool reads in order, awaited without polling', async () => {
    const pool = makePool(impl, 4, 1);
    const reader = pool.reader(1);
    const frames = 300;
    const d = run(['publish', pool.segment!, 'lidar_top', String(frames), String(POINTS)]);
    const seen: number[] = [];
    let bad = 0;
    const desc = emptyDescriptor();
    while (seen.length < frames) {
      // The main thread awaits the commit word (futex via the addon); 4 slots make the driver
      // wait for our releases (sequential backpressure) as often as not.
      if (!(await reader.waitAsync(10_000))) throw new Error(`no frame after ${seen.length}: ${d.stderr()}`);
      while (reader.next(desc)) {
        if (!frameOk(pool, desc.slot, desc.seq, desc.length) || desc.producerId !== 42) bad++;
        seen.push(desc.seq);
        reader.release(desc.slot);
      }
    }
    expect(await d.exited).toBe(0);
    expect(bad).toBe(0);
    expect(seen).toEqual(Array.from({ length: frames }, (_, i) => i + 1));
    expect(pool.slotsInUse(1)).toBe(0);
    expect(pool.stats(1)).toMatchObject({ commits: frames, droppedFull: 0, writerPid: 0 });
  });

  it('a producer SIGKILLed between write and commit never exposes the slot, which is reclaimed', async () => {
    const pool = makePool(impl, 4, 1);
    const reader = pool.reader(1);
    const d = run(['die-mid-write', pool.segment!, 'lidar_top', String(POINTS)]);
    const slot = Number((await d.line('WROTE ')).split(' ')[1]);
    expect(pool.slotsInUse(1)).toBe(1);
    expect(pool.stats(1).writerPid).toBe(d.child.pid);
    d.child.kill('SIGKILL');
    await d.exited;
    expect(reader.backlog()).toBe(0);
    expect(pool.reclaim()).toEqual({ readers: 0, slots: 1, writers: 1 });
    expect(pool.slotsInUse(1)).toBe(0);
    expect(pool.stats(1)).toMatchObject({ deadWriters: 1, reclaimedSlots: 1, writerPid: 0 });
    // The role is free: a new writer publishes, and only its frame is ever read.
    const w = pool.writer(1, 1);
    const s = w.loan();
    expect(s).toBeGreaterThanOrEqual(0);
    w.slotF32(s).fill(7, 0, 4);
    w.commit(s, 16, 1, 1n, 1n);
    const desc = emptyDescriptor();
    expect(reader.next(desc)).toBe(true);
    expect([desc.seq, desc.producerId]).toEqual([1, 1]);
    expect(reader.next(desc)).toBe(false);
    expect(slot).toBeGreaterThanOrEqual(0);
  });

  it('a reader process killed while holding slots gives them back (on reclaim, or when a loan finds the channel full)', async () => {
    const pool = makePool(impl, 3, 0);
    const d = run(['hold', pool.segment!, 'lidar_top', '3']);
    await d.line('READER ');
    const w = pool.writer(1);
    for (let seq = 1; seq <= 3; seq++) {
      const s = w.loan();
      w.commit(s, 16, seq, 1n, 1n);
    }
    await d.line('HELD ');
    expect(pool.slotsInUse(1)).toBe(3);
    d.child.kill('SIGKILL');
    await d.exited;
    // Nobody calls reclaim(): the writer's loan finds every slot held and reclaims the dead reader.
    expect(w.loan()).toBeGreaterThanOrEqual(0);
    expect(pool.stats(1)).toMatchObject({ reclaimedReaders: 1, reclaimedSlots: 3, droppedFull: 0 });
    expect(pool.slotsInUse(1)).toBe(1);
  });
});
