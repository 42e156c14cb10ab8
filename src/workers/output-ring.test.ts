/**
 * The output ring between the tracker thread and the main thread's PUB socket: order and bytes
 * kept across wrap-around, a full ring refuses (counted) rather than overwriting, parts come out
 * as Buffers of their own (a tap may keep `.buffer`), and a writer that dies mid-message leaves
 * nothing visible (a real worker thread, terminated while writing).
 */
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { OutputRing } from './output-ring.js';

const message = (i: number): Uint8Array[] =>
  Array.from({ length: 1 + (i % 3) }, (_, k) =>
    new Uint8Array(1 + ((i * 37 + k * 11) % 700)).fill((i + k) & 0xff),
  );

describe('OutputRing', () => {
  it('keeps order and bytes across wrap-around, and refuses (counted) when full', () => {
    // Four messages of up to 2.1 KB each wait between drains: 16 KiB holds them, wrapping often.
    const ring = OutputRing.create(1 << 14);
    const got: Buffer[][] = [];
    let written = 0;
    for (let i = 0; i < 5000; i++) {
      expect(ring.write(message(i))).toBe(true);
      written++;
      if (i % 4 === 3) ring.drain((parts) => got.push(parts));
    }
    ring.drain((parts) => got.push(parts));
    expect(got).toHaveLength(written);
    got.forEach((parts, i) => {
      const want = message(i);
      expect(parts.map((p) => p.length)).toEqual(want.map((p) => p.length));
      parts.forEach((p, k) => {
        expect(p.every((b) => b === want[k]![0])).toBe(true);
        // Its own memory: a Float32Array over `.buffer` sees this part and nothing else.
        expect(p.byteOffset).toBe(0);
        expect(p.buffer.byteLength).toBe(p.length);
      });
    });
    // Full: nothing is overwritten, the refusal is counted, and draining makes room again.
    let refused = 0;
    for (let i = 0; i < 100; i++) if (!ring.write([new Uint8Array(600)])) refused++;
    expect(refused).toBeGreaterThan(50);
    expect(ring.dropped).toBe(refused);
    expect(ring.drain(() => {})).toBe(100 - refused);
    expect(ring.write([new Uint8Array(600)])).toBe(true);
    expect(() => ring.write([])).toThrow(/0 parts/);
  });

  it('a writer terminated mid-message leaves only whole messages', async () => {
    const ring = OutputRing.create(1 << 16);
    const url = new URL('./output-ring.js', import.meta.url).href.replace('/src/', '/dist/');
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       import(${JSON.stringify(url)}).then(({ OutputRing }) => {
         const ring = OutputRing.attach(workerData);
         parentPort.postMessage('go');
         for (let i = 0; ; i++) {
           const n = 1 + (i % 200);
           const part = new Uint8Array(n * 4);
           new Uint32Array(part.buffer).fill(i);
           while (!ring.write([part])) {}
         }
       });`,
      { eval: true, workerData: ring.sab },
    );
    await new Promise((r) => worker.once('message', r));
    let next = 0;
    const check = (parts: Buffer[]) => {
      const words = new Uint32Array(parts[0]!.buffer);
      expect(words.length).toBe(1 + (next % 200));
      expect(words.every((w) => w === next)).toBe(true);
      next++;
    };
    const end = Date.now() + 300;
    while (Date.now() < end) {
      ring.drain(check);
      await new Promise((r) => setImmediate(r));
    }
    await worker.terminate();
    ring.drain(check);
    expect(next).toBeGreaterThan(100);
    expect(ring.pending).toBe(false);
  });
});
