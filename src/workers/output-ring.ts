/**
 * The tracker thread's published messages on their way to the main thread's PUB socket: a
 * single-producer single-consumer ring of multipart messages over shared memory.
 *
 * Why not a socket on the tracker thread: zeromq.js aborts the whole process when a worker that
 * has a send or receive in flight is terminated or dies (zeromq.js issue #411), so a stage thread
 * that can be lost and replaced must own no socket. A message is visible only once whole (the
 * head moves after its bytes are written), so a writer killed mid-message leaves nothing torn,
 * and its replacement appends after the last whole message.
 *
 * Layout: Int32 × 8 control [head, tail, dropped, wake, -, -, -, -] (head and tail are
 * byte positions, wrapping at 2^31 multiples of capacity), then `capacity` bytes. A record is
 * [u32 bytes, u32 parts, u32 length × parts, part bytes...] padded to 8; a record with parts = 0 is
 * padding to the end of the ring.
 */
import { waitAsync } from '../pool/wait-async.js';
const CTL = { head: 0, tail: 1, dropped: 2, wake: 3, words: 8 } as const;
const MAX_PARTS = 8;

export class OutputRing {
  private readonly ctl: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly words: Uint32Array;
  private readonly mask: number;

  private constructor(
    readonly sab: SharedArrayBuffer,
    readonly capacity: number,
  ) {
    this.ctl = new Int32Array(sab, 0, CTL.words);
    this.bytes = new Uint8Array(sab, CTL.words * 4, capacity);
    this.words = new Uint32Array(sab, CTL.words * 4, capacity >> 2);
    this.mask = capacity - 1;
  }

  /** A ring of `capacity` bytes (a power of two, at least 4 KiB). */
  static create(capacity = 1 << 20): OutputRing {
    if (capacity < 4096 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`output ring: capacity ${capacity} must be a power of two >= 4096`);
    }
    return new OutputRing(new SharedArrayBuffer(CTL.words * 4 + capacity), capacity);
  }

  static attach(sab: SharedArrayBuffer): OutputRing {
    return new OutputRing(sab, sab.byteLength - CTL.words * 4);
  }

  /**
   * Producer: appends one message; false (counted in `dropped`) when it does not fit in what the
   * consumer has not yet taken. No allocation.
   */
  write(parts: readonly Uint8Array[]): boolean {
    const n = parts.length;
    if (n === 0 || n > MAX_PARTS) throw new RangeError(`output ring: ${n} parts (1..${MAX_PARTS})`);
    let size = 8 + 4 * n;
    for (let i = 0; i < n; i++) size += parts[i]!.byteLength;
    size = (size + 7) & ~7;
    const head = Atomics.load(this.ctl, CTL.head);
    const tail = Atomics.load(this.ctl, CTL.tail);
    const at = head & this.mask;
    // A record is never split: what is left before the end is padding when it does not fit.
    const pad = at + size > this.capacity ? this.capacity - at : 0;
    if (size + pad > this.capacity - ((head - tail) | 0)) {
      Atomics.add(this.ctl, CTL.dropped, 1);
      return false;
    }
    if (pad > 0) {
      this.words[at >> 2] = pad;
      this.words[(at >> 2) + 1] = 0;
    }
    const start = pad > 0 ? 0 : at;
    this.words[start >> 2] = size;
    this.words[(start >> 2) + 1] = n;
    let o = start + 8 + 4 * n;
    for (let i = 0; i < n; i++) {
      const p = parts[i]!;
      this.words[(start >> 2) + 2 + i] = p.byteLength;
      this.bytes.set(p, o);
      o += p.byteLength;
    }
    Atomics.store(this.ctl, CTL.head, (head + pad + size) | 0);
    Atomics.add(this.ctl, CTL.wake, 1);
    Atomics.notify(this.ctl, CTL.wake);
    return true;
  }

  /**
   * Consumer: calls `take` with each whole message (fresh Buffers: the ring's bytes are reused
   * once read); returns how many.
   */
  drain(take: (parts: Buffer[]) => void): number {
    const head = Atomics.load(this.ctl, CTL.head);
    let tail = Atomics.load(this.ctl, CTL.tail);
    let n = 0;
    while (tail !== head) {
      const at = tail & this.mask;
      const size = this.words[at >> 2]!;
      const count = this.words[(at >> 2) + 1]!;
      if (count > 0) {
        const parts: Buffer[] = [];
        let o = at + 8 + 4 * count;
        for (let i = 0; i < count; i++) {
          const len = this.words[(at >> 2) + 2 + i]!;
          // A Buffer of its own (not a slice of Node's shared pool): taps keep `.buffer`.
          const part = Buffer.allocUnsafeSlow(len);
          part.set(this.bytes.subarray(o, o + len));
          parts.push(part);
          o += len;
        }
        take(parts);
        n++;
      }
      tail = (tail + size) | 0;
      Atomics.store(this.ctl, CTL.tail, tail);
    }
    return n;
  }

  /** Resolves when a message may be waiting (or after `timeoutMs`). */
  async waitAsync(timeoutMs: number): Promise<void> {
    const seen = Atomics.load(this.ctl, CTL.wake);
    if (Atomics.load(this.ctl, CTL.head) !== Atomics.load(this.ctl, CTL.tail)) return;
    const r = waitAsync(this.ctl, CTL.wake, seen, timeoutMs);
    if (r.async) await r.value;
  }

  /** Wakes a consumer waiting in waitAsync (it is stopping). */
  wake(): void {
    Atomics.add(this.ctl, CTL.wake, 1);
    Atomics.notify(this.ctl, CTL.wake);
  }

  /** Messages that waited here and were not taken yet. */
  get pending(): boolean {
    return Atomics.load(this.ctl, CTL.head) !== Atomics.load(this.ctl, CTL.tail);
  }

  /** Messages refused because the consumer fell behind by a whole ring. */
  get dropped(): number {
    return Atomics.load(this.ctl, CTL.dropped);
  }
}
