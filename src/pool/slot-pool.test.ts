import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { emptyDescriptor, SlotPool } from './slot-pool.js';
import { SEG } from './layout.js';

const geometry = (slotCount = 4, readerCount = 1) => [
  { name: 'lidar_top', slotCount, slotBytes: 1000, readerCount },
  { name: 'radar_front', slotCount: 2, slotBytes: 64, readerCount },
];

function write(pool: SlotPool, channel: number, seq: number, fill: number): number {
  const w = pool.writer(channel);
  const slot = w.loan();
  if (slot < 0) return slot;
  w.slotF32(slot).fill(fill, 0, 10);
  w.commit(slot, 40, seq, BigInt(1000 + seq), BigInt(2000 + seq));
  return slot;
}

describe('SlotPool', () => {
  it('rounds slots to 64 bytes and places channels without overlap', () => {
    const pool = SlotPool.create(geometry());
    const [a, b] = pool.channels;
    expect(a!.slotBytes).toBe(1024);
    expect(a!.dataOffset % 64).toBe(0);
    expect(b!.stateOffset).toBeGreaterThanOrEqual(a!.dataOffset + 4 * 1024);
    expect(pool.sab.byteLength).toBe(b!.dataOffset + 2 * 64);
  });

  it('hands out descriptors in order (sequential) and frees slots on release', () => {
    const pool = SlotPool.create(geometry());
    const reader = pool.reader(0);
    const writer = pool.writer(0);
    const slots = [1, 2, 3].map((seq) => {
      const s = writer.loan();
      writer.slotF32(s).fill(seq, 0, 10);
      writer.commit(s, 40, seq, BigInt(seq) * 10n, 0n);
      return s;
    });
    expect(pool.slotsInUse(0)).toBe(3);
    const d = emptyDescriptor();
    const seen: number[] = [];
    while (reader.next(d)) {
      seen.push(d.seq);
      expect(d.stampNs).toBe(BigInt(d.seq) * 10n);
      expect(d.length).toBe(40);
      // The payload is read in place from the slot the writer filled.
      expect(new Float32Array(pool.sab, pool.slotOffset(0, d.slot), 10)[9]).toBe(d.seq);
      pool.release(0, d.slot);
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(new Set(slots).size).toBe(3);
    expect(pool.slotsInUse(0)).toBe(0);
  });

  it('latest skips to the newest, releases the skipped and counts them', () => {
    const pool = SlotPool.create(geometry());
    const reader = pool.reader(0);
    for (let seq = 1; seq <= 4; seq++) write(pool, 0, seq, seq);
    const d = emptyDescriptor();
    expect(reader.latest(d)).toBe(true);
    expect(d.seq).toBe(4);
    expect(reader.skipped).toBe(3);
    expect(pool.slotsInUse(0)).toBe(1);
    pool.release(0, d.slot);
    expect(pool.slotsInUse(0)).toBe(0);
    expect(reader.latest(d)).toBe(false);
  });

  it('refuses a loan when every slot is held, counts it, and recovers after release', () => {
    const pool = SlotPool.create(geometry());
    pool.reader(1);
    expect(write(pool, 1, 1, 1)).toBeGreaterThanOrEqual(0);
    const second = write(pool, 1, 2, 2);
    expect(write(pool, 1, 3, 3)).toBe(-1);
    expect(pool.droppedFull(1)).toBe(1);
    pool.release(1, second);
    expect(write(pool, 1, 4, 4)).toBe(second);
  });

  it('frees a slot only after every reader released it, and refuses a double release', () => {
    const pool = SlotPool.create(geometry(4, 2));
    const slot = write(pool, 0, 1, 1);
    pool.release(0, slot);
    expect(pool.slotsInUse(0)).toBe(1);
    pool.release(0, slot);
    expect(pool.slotsInUse(0)).toBe(0);
    expect(() => pool.release(0, slot)).toThrow(/released more often/);
    expect(pool.slotsInUse(0)).toBe(0);
  });

  it('abandoned slots are never published', () => {
    const pool = SlotPool.create(geometry());
    const reader = pool.reader(0);
    const w = pool.writer(0);
    const s = w.loan();
    w.abandon(s);
    expect(reader.next(emptyDescriptor())).toBe(false);
    expect(pool.slotsInUse(0)).toBe(0);
  });

  it('attach checks magic and layout version', () => {
    const pool = SlotPool.create(geometry());
    expect(SlotPool.attach(pool.sab).channels.map((c) => c.name)).toEqual(['lidar_top', 'radar_front']);
    new DataView(pool.sab).setUint32(SEG.version, 99, true);
    expect(() => SlotPool.attach(pool.sab)).toThrow(
      'pool segment: layout version 99, this build speaks version 1',
    );
    expect(() => SlotPool.attach(new SharedArrayBuffer(64))).toThrow(/bad magic/);
  });

  it('a worker thread waits for a commit and reads the payload in place, without a copy', async () => {
    const pool = SlotPool.create(geometry());
    const distPool = fileURLToPath(new URL('../../dist/pool/slot-pool.js', import.meta.url));
    // The worker runs the compiled pool (npm test builds first): it blocks on the commit word,
    // sums the payload where it lies, and writes a marker back into the same slot.
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       import(${JSON.stringify(distPool)}).then(({ SlotPool, emptyDescriptor }) => {
         const pool = SlotPool.attach(workerData.sab);
         const reader = pool.reader(0);
         parentPort.postMessage({ ready: true });
         const d = emptyDescriptor();
         if (!reader.wait(10000) || !reader.next(d)) return parentPort.postMessage({ error: 'no commit' });
         const f = new Float32Array(workerData.sab, pool.slotOffset(0, d.slot), d.length / 4);
         let sum = 0; for (let i = 0; i < f.length; i++) sum += f[i];
         f[0] = -1;
         parentPort.postMessage({ sum, seq: d.seq, slot: d.slot });
       });`,
      { eval: true, workerData: { sab: pool.sab } },
    );
    const messages: Record<string, unknown>[] = [];
    const done = new Promise<Record<string, unknown>>((resolve, reject) => {
      worker.on('message', (m: Record<string, unknown>) => {
        messages.push(m);
        if (m.ready) {
          const w = pool.writer(0);
          const s = w.loan();
          const f = w.slotF32(s);
          for (let i = 0; i < 100; i++) f[i] = i;
          w.commit(s, 400, 42, 1n, 2n);
        } else resolve(m);
      });
      worker.on('error', reject);
    });
    const result = await done;
    await worker.terminate();
    expect(result).toMatchObject({ sum: 4950, seq: 42 });
    expect(new Float32Array(pool.sab, pool.slotOffset(0, result.slot as number), 1)[0]).toBe(-1);
  });
});
