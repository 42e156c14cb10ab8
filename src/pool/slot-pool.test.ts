import { afterEach, describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import {
  emptyDescriptor,
  ReaderEvictedError,
  SlotPool,
  TooLargeError,
  type ChannelGeometry,
} from './slot-pool.js';
import { nativeAddon, nativeLoadError } from './native-addon.js';
import { SEG } from './layout.js';

const geometry = (slotCount = 4, readerCount = 1): ChannelGeometry[] => [
  { name: 'lidar_top', slotCount, slotBytes: 1000, readerCount },
  { name: 'radar_front', slotCount: 2, slotBytes: 64, readerCount },
];

let segments = 0;
const opened: SlotPool[] = [];
afterEach(() => {
  for (const p of opened.splice(0)) p.close();
});

/** Both implementations: the pure-JS ring in-process, and the native ring over a shm segment. */
const IMPLEMENTATIONS = {
  js: (channels: ChannelGeometry[]) => SlotPool.create(channels),
  native: (channels: ChannelGeometry[]) => {
    const pool = SlotPool.createNative(`/smi-test-${process.pid}-${segments++}`, channels);
    opened.push(pool);
    return pool;
  },
} as const;

function write(pool: SlotPool, channel: number, seq: number, fill: number): number {
  const w = pool.writer(channel);
  const slot = w.loan();
  if (slot < 0) return slot;
  w.slotF32(slot).fill(fill, 0, 10);
  w.commit(slot, 40, seq, BigInt(1000 + seq), BigInt(2000 + seq));
  return slot;
}

it('the native addon is built and loads (npm install builds it)', () => {
  expect(nativeLoadError()).toBeUndefined();
  expect(nativeAddon()).toBeDefined();
});

describe('layout', () => {
  it('rounds slots to 64 bytes and places channels without overlap', () => {
    const pool = SlotPool.create(geometry());
    const [a, b] = pool.channels;
    expect(a!.slotBytes).toBe(1024);
    expect(a!.dataOffset % 64).toBe(0);
    expect(b!.metaOffset).toBeGreaterThanOrEqual(a!.dataOffset + 4 * 1024);
    expect(pool.sab.byteLength).toBe(b!.dataOffset + 2 * 64);
  });

  it('refuses a bad geometry naming the channel', () => {
    expect(() => SlotPool.create([{ name: 'x', slotCount: 0, slotBytes: 64, readerCount: 1 }])).toThrow(
      "pool channel 'x': slotCount 0",
    );
    expect(() => SlotPool.create([{ name: 'x', slotCount: 2, slotBytes: 64, readerCount: 17 }])).toThrow(
      /readerCount 17/,
    );
  });

  it('attach checks magic, layout version and size, naming both sides', () => {
    const pool = SlotPool.create(geometry());
    expect(SlotPool.attach(pool.sab).channels.map((c) => c.name)).toEqual(['lidar_top', 'radar_front']);
    const copy = new SharedArrayBuffer(pool.sab.byteLength + 64);
    new Uint8Array(copy).set(new Uint8Array(pool.sab));
    expect(() => SlotPool.attach(copy)).toThrow(
      `header says ${pool.sab.byteLength} bytes, the mapping has ${pool.sab.byteLength + 64}`,
    );
    new DataView(pool.sab).setUint32(SEG.version, 99, true);
    expect(() => SlotPool.attach(pool.sab)).toThrow('layout version 99, this build speaks version 3');
    expect(() => SlotPool.attach(new SharedArrayBuffer(128))).toThrow(/bad magic/);
  });
});

describe.each(Object.keys(IMPLEMENTATIONS) as (keyof typeof IMPLEMENTATIONS)[])(
  'SlotPool (%s ring)',
  (impl) => {
    const make = IMPLEMENTATIONS[impl];

    it('hands out descriptors in order (sequential) and frees slots on release', () => {
      const pool = make(geometry());
      expect(pool.implementation).toBe(impl);
      const reader = pool.reader(0);
      const writer = pool.writer(0, 7);
      const slots = [1, 2, 3].map((seq) => {
        const s = writer.loan();
        writer.slotF32(s).fill(seq, 0, 10);
        writer.commit(s, 40, seq, BigInt(seq) * 10n, 5n);
        return s;
      });
      expect(pool.slotsInUse(0)).toBe(3);
      const d = emptyDescriptor();
      const seen: number[] = [];
      while (reader.next(d)) {
        seen.push(d.seq);
        expect(d.stampNs).toBe(BigInt(d.seq) * 10n);
        expect(d.commitNs).toBe(5n);
        expect(d.length).toBe(40);
        expect(d.producerId).toBe(7);
        // The payload is read in place from the slot the writer filled.
        expect(new Float32Array(pool.sab, pool.slotOffset(0, d.slot), 10)[9]).toBe(d.seq);
        pool.release(0, d.slot);
      }
      expect(seen).toEqual([1, 2, 3]);
      expect(new Set(slots).size).toBe(3);
      expect(pool.slotsInUse(0)).toBe(0);
    });

    it('a sequential reader calling latest() skips to the newest, releasing and counting the rest', () => {
      const pool = make(geometry());
      const reader = pool.reader(0);
      for (let seq = 1; seq <= 4; seq++) write(pool, 0, seq, seq);
      const d = emptyDescriptor();
      expect(reader.latest(d)).toBe(true);
      expect(d.seq).toBe(4);
      expect(reader.skipped).toBe(3);
      expect(pool.stats(0).overwritten).toBe(3);
      expect(pool.slotsInUse(0)).toBe(1);
      reader.release(d.slot);
      expect(pool.slotsInUse(0)).toBe(0);
      expect(reader.latest(d)).toBe(false);
    });

    it('latest: the writer never blocks, overwritten messages are counted, the newest is intact', () => {
      const pool = make([{ name: 'cam', slotCount: 3, slotBytes: 64, readerCount: 1, access: 'latest' }]);
      const reader = pool.reader(0);
      expect(reader.access).toBe('latest');
      const w = pool.writer(0);
      const d = emptyDescriptor();
      let held = -1;
      for (let seq = 1; seq <= 100; seq++) {
        const s = w.loan();
        expect(s).toBeGreaterThanOrEqual(0);
        w.slotF32(s)[0] = seq;
        w.commit(s, 4, seq, BigInt(seq), 0n);
        if (seq % 10 === 0) {
          // The reader holds the newest while the writer goes on: still never blocked.
          expect(reader.latest(d)).toBe(true);
          expect(d.seq).toBe(seq);
          expect(new Float32Array(pool.sab, pool.slotOffset(0, d.slot), 1)[0]).toBe(seq);
          if (held >= 0) reader.release(held);
          held = d.slot;
        }
      }
      expect(pool.droppedFull(0)).toBe(0);
      expect(reader.skipped).toBe(90);
      expect(pool.stats(0).overwritten).toBe(90);
      reader.close();
      expect(pool.slotsInUse(0)).toBe(0);
    });

    it('a latest reader reading in order gets what is still there and counts what was overwritten', () => {
      const pool = make([{ name: 'cam', slotCount: 2, slotBytes: 64, readerCount: 0 }]);
      const reader = pool.reader(0, 'latest');
      const w = pool.writer(0);
      for (let seq = 1; seq <= 5; seq++) {
        const s = w.loan();
        w.commit(s, 4, seq, 0n, 0n);
      }
      const d = emptyDescriptor();
      const got: number[] = [];
      while (reader.next(d)) {
        got.push(d.seq);
        reader.release(d.slot);
      }
      // Two slots: only the last two commits can still be there.
      expect(got).toEqual([4, 5]);
      expect(reader.skipped).toBe(3);
    });

    it('refuses a loan when every slot is held, counts it, and recovers after release', () => {
      const pool = make(geometry());
      pool.reader(1);
      expect(write(pool, 1, 1, 1)).toBeGreaterThanOrEqual(0);
      const second = write(pool, 1, 2, 2);
      expect(write(pool, 1, 3, 3)).toBe(-1);
      expect(pool.droppedFull(1)).toBe(1);
      pool.release(1, second);
      expect(write(pool, 1, 4, 4)).toBe(second);
    });

    it('drop-oldest: a full channel frees its oldest unread message for the writer, counted', () => {
      const pool = make([
        { name: 'ego', slotCount: 4, slotBytes: 64, readerCount: 1, whenFull: 'drop-oldest' },
      ]);
      const reader = pool.reader(0);
      for (let seq = 1; seq <= 7; seq++) expect(write(pool, 0, seq, seq)).toBeGreaterThanOrEqual(0);
      expect(pool.stats(0)).toMatchObject({ droppedOldest: 3, droppedFull: 0 });
      const d = emptyDescriptor();
      const seen: number[] = [];
      while (reader.next(d)) {
        // The payload is the message's own, never a newer one written over it.
        expect(pool.writer(0).slotF32(d.slot)[0]).toBe(d.seq);
        seen.push(d.seq);
        reader.release(d.slot);
      }
      expect(seen).toEqual([4, 5, 6, 7]);
      // A slot the reader has taken is never dropped: with all four taken, the newest is refused.
      for (let seq = 8; seq <= 11; seq++) write(pool, 0, seq, seq);
      const held: number[] = [];
      while (reader.next(d)) held.push(d.slot);
      expect(write(pool, 0, 12, 12)).toBe(-1);
      expect(pool.stats(0)).toMatchObject({ droppedOldest: 3, droppedFull: 1 });
      for (const s of held) reader.release(s);
      expect(pool.slotsInUse(0)).toBe(0);
    });

    it('frees a slot only after every reader released it, and refuses a double release', () => {
      const pool = make(geometry(4, 2));
      const a = pool.reader(0);
      const b = pool.reader(0);
      expect([a.entry, b.entry]).toEqual([0, 1]);
      const slot = write(pool, 0, 1, 1);
      const d = emptyDescriptor();
      expect(a.next(d) && b.next(d)).toBe(true);
      a.release(slot);
      expect(pool.slotsInUse(0)).toBe(1);
      expect(() => a.release(slot)).toThrow(/does not hold it/);
      b.release(slot);
      expect(pool.slotsInUse(0)).toBe(0);
      expect(() => pool.release(0, slot)).toThrow(/released more often/);
      expect(pool.slotsInUse(0)).toBe(0);
    });

    it('a reader opened later starts at the next commit; messages before were never held for it', () => {
      const pool = make(geometry(4, 0));
      write(pool, 0, 1, 1);
      expect(pool.slotsInUse(0)).toBe(0);
      const r = pool.reader(0);
      expect(r.backlog()).toBe(0);
      write(pool, 0, 2, 2);
      const d = emptyDescriptor();
      expect(r.next(d)).toBe(true);
      expect(d.seq).toBe(2);
    });

    it('abandoned slots are never published', () => {
      const pool = make(geometry());
      const reader = pool.reader(0);
      const w = pool.writer(0);
      const s = w.loan();
      w.abandon(s);
      expect(reader.next(emptyDescriptor())).toBe(false);
      expect(pool.slotsInUse(0)).toBe(0);
    });

    it('a message larger than the slot is refused and counted, never truncated', () => {
      const pool = make(geometry());
      const reader = pool.reader(0);
      const w = pool.writer(0);
      const s = w.loan();
      expect(() => w.commit(s, 1025, 1, 1n, 1n)).toThrow(TooLargeError);
      expect(pool.stats(0).tooLarge).toBe(1);
      expect(pool.slotsInUse(0)).toBe(0);
      expect(reader.backlog()).toBe(0);
    });

    it('a reader that holds slots without progress past its lease is evicted and its slots come back', () => {
      const pool = make(geometry());
      const reader = pool.reader(0);
      write(pool, 0, 1, 1);
      write(pool, 0, 2, 2);
      const d = emptyDescriptor();
      expect(reader.next(d)).toBe(true);
      expect(pool.reclaim({ leaseMs: 0 })).toEqual({ readers: 0, slots: 0, writers: 0 }); // first sighting
      expect(pool.reclaim({ leaseMs: 0 })).toEqual({ readers: 1, slots: 2, writers: 0 });
      expect(pool.slotsInUse(0)).toBe(0);
      expect(pool.stats(0)).toMatchObject({ reclaimedReaders: 1, reclaimedSlots: 2 });
      expect(() => reader.next(d)).toThrow(ReaderEvictedError);
      // The entry is free again: a new reader gets it.
      expect(pool.reader(0).entry).toBe(0);
    });

    it('one writer per channel across processes, any number of writer objects in this one', () => {
      const pool = make(geometry());
      pool.writer(0).close();
      const w = pool.writer(0);
      expect(pool.stats(0).writerPid).toBe(process.pid);
      w.close();
      expect(pool.stats(0).writerPid).toBe(0);
    });

    it('waitAsync resolves on a commit and on time-out (main thread, no polling)', async () => {
      const pool = make(geometry());
      const reader = pool.reader(0);
      expect(await reader.waitAsync(20)).toBe(false);
      const woke = reader.waitAsync(10_000);
      setTimeout(() => write(pool, 0, 1, 1), 10);
      expect(await woke).toBe(true);
      expect(reader.backlog()).toBe(1);
    });

    it('a worker thread waits for a commit and reads the payload in place, without a copy', async () => {
      const pool = make(geometry());
      const distPool = fileURLToPath(new URL('../../dist/pool/slot-pool.js', import.meta.url));
      // The worker runs the compiled pool (npm test builds first): it blocks on the commit word,
      // sums the payload where it lies, and writes a marker back into the same slot.
      const worker = new Worker(
        `const { workerData, parentPort } = require('node:worker_threads');
       import(${JSON.stringify(distPool)}).then(({ SlotPool, emptyDescriptor }) => {
         const pool = SlotPool.attach(workerData.sab);
         const reader = pool.reader(0);
         parentPort.postMessage({ ready: true, implementation: pool.implementation });
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
      expect(messages[0]).toMatchObject({ implementation: impl });
      expect(result).toMatchObject({ sum: 4950, seq: 42 });
      expect(new Float32Array(pool.sab, pool.slotOffset(0, result.slot as number), 1)[0]).toBe(-1);
    });
  },
);

describe('shared-memory segments', () => {
  it('open by name sees the same bytes; a mismatched shape names both', () => {
    const name = `/smi-test-${process.pid}-open`;
    const pool = SlotPool.createNative(name, geometry());
    opened.push(pool);
    const other = SlotPool.openNative(name, { expect: geometry() });
    write(pool, 0, 1, 5);
    expect(new Float32Array(other.sab, other.slotOffset(0, 0), 1)[0]).toBe(5);
    expect(() => SlotPool.openNative(name, { expect: geometry(8) })).toThrow(
      `pool segment '${name}': holds channels [lidar_top:4x1024, radar_front:2x64], expected [lidar_top:8x1024, radar_front:2x64]`,
    );
  });

  it('a second live creator is refused; a stale segment of this process is replaced', () => {
    const name = `/smi-test-${process.pid}-stale`;
    const first = SlotPool.createNative(name, geometry());
    const second = SlotPool.createNative(name, geometry(8));
    opened.push(first, second);
    expect(SlotPool.openNative(name).channels[0]!.slotCount).toBe(8);
  });

  it('the JS ring and the native ring interoperate on one segment, both ways', () => {
    const name = `/smi-test-${process.pid}-interop`;
    const js = SlotPool.createNative(name, geometry(), { implementation: 'js' });
    opened.push(js);
    const native = SlotPool.openNative(name, { implementation: 'native' });
    expect([js.implementation, native.implementation]).toEqual(['js', 'native']);
    const jsReader = js.reader(0);
    const nativeReader = native.reader(1, 'sequential');
    const d = emptyDescriptor();
    // C writes, JS reads
    write(native, 0, 11, 1.5);
    expect(jsReader.next(d)).toBe(true);
    expect([d.seq, new Float32Array(js.sab, js.slotOffset(0, d.slot), 1)[0]]).toEqual([11, 1.5]);
    jsReader.release(d.slot);
    // JS writes, C reads
    write(js, 1, 12, 2.5);
    expect(nativeReader.next(d)).toBe(true);
    expect([d.seq, d.stampNs, new Float32Array(js.sab, js.slotOffset(1, d.slot), 1)[0]]).toEqual([
      12,
      1012n,
      2.5,
    ]);
    nativeReader.release(d.slot);
    expect(js.slotsInUse(0) + js.slotsInUse(1)).toBe(0);
  });
});
