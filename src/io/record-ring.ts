/**
 * The recorder's bounded queue: a single-producer, single-consumer byte ring in a
 * SharedArrayBuffer. The service's thread (producer) copies each message in once and never
 * waits: when the ring is full the message is dropped and the caller counts it. The recorder
 * worker (consumer) hands each record's bytes to the MCAP writer in place, then frees them.
 *
 * Record layout (8-byte aligned, little-endian):
 *   u32 recordBytes (incl. padding; WRAP = skip to the ring start)  u32 topicBytes
 *   i64 logTimeNs                                                   u32 dataBytes  u32 reserved
 *   topic bytes (UTF-8) | data bytes (the stored wire message, mcap-wire-message.ts) | padding
 */
import { wireMessageBytes, writeWireMessage } from './mcap-wire-message.js';
import { waitAsync } from '../pool/wait-async.js';

const CTL_WRITE = 0;
const CTL_READ = 1;
/** Bumped by the producer after each write; the consumer waits on it. */
const CTL_SIGNAL = 2;
const CTL_INTS = 4;
const CTL_BYTES = CTL_INTS * 4;
const RECORD_HEAD = 24;
const WRAP = 0xffffffff;

const align8 = (n: number): number => (n + 7) & ~7;
const utf8 = new TextEncoder();

/** One record as the consumer sees it; views into the ring, valid until `release()`. */
export interface RingRecord {
  topic: string;
  logTimeNs: bigint;
  /** The stored wire message, ready for the MCAP writer. */
  data: Uint8Array;
}

/** Producer and consumer ends over the same SharedArrayBuffer. */
export class RecordRing {
  readonly sab: SharedArrayBuffer;
  private readonly ctl: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly u32: Uint32Array;
  private readonly i64: BigInt64Array;
  private readonly capacity: number;
  private readonly topicCache = new Map<string, Uint8Array>();
  private readonly decoder = new TextDecoder();
  /** Consumer: where the record handed out by `next()` ends. */
  private pendingRead = -1;

  private constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.ctl = new Int32Array(sab, 0, CTL_INTS);
    this.capacity = sab.byteLength - CTL_BYTES;
    this.bytes = new Uint8Array(sab, CTL_BYTES, this.capacity);
    this.u32 = new Uint32Array(sab, CTL_BYTES, this.capacity >> 2);
    this.i64 = new BigInt64Array(sab, CTL_BYTES, this.capacity >> 3);
  }

  /** A new ring holding up to `capacityBytes` of records (rounded up to 8). */
  static create(capacityBytes: number): RecordRing {
    if (!(capacityBytes >= 4096))
      throw new RangeError(`record ring: capacity ${capacityBytes} is below 4096 bytes`);
    return new RecordRing(new SharedArrayBuffer(CTL_BYTES + align8(capacityBytes)));
  }

  /** The other end of a ring created elsewhere (e.g. in the recorder worker). */
  static attach(sab: SharedArrayBuffer): RecordRing {
    return new RecordRing(sab);
  }

  /** Largest record the ring accepts: half its capacity, so one huge message cannot starve the rest. */
  get maxRecordBytes(): number {
    return this.capacity >> 1;
  }

  /** Bytes in use (approximate while the other side runs). */
  get usedBytes(): number {
    const w = Atomics.load(this.ctl, CTL_WRITE);
    const r = Atomics.load(this.ctl, CTL_READ);
    return w >= r ? w - r : this.capacity - r + w;
  }

  /**
   * Producer: copies `[header, payload?]` for `topic` into the ring as one record. Returns false
   * (nothing written) when the ring has no room; never blocks.
   */
  push(topic: string, logTimeNs: bigint, header: Uint8Array, payload: Uint8Array | undefined): boolean {
    let t = this.topicCache.get(topic);
    if (!t) {
      t = utf8.encode(topic);
      if (this.topicCache.size < 1024) this.topicCache.set(topic, t);
    }
    const dataBytes = wireMessageBytes(header, payload);
    const need = align8(RECORD_HEAD + t.byteLength + dataBytes);
    if (need > this.maxRecordBytes) return false;
    const cap = this.capacity;
    let w = this.ctl[CTL_WRITE]!;
    const r = Atomics.load(this.ctl, CTL_READ);
    // w === r means empty, so the writer never catches up with the reader exactly.
    if (w >= r) {
      const fitsAtEnd = w + need < cap || (w + need === cap && r > 0);
      if (!fitsAtEnd) {
        if (need >= r) return false;
        if (cap - w >= 4) this.u32[w >> 2] = WRAP;
        w = 0;
      }
    } else if (w + need >= r) {
      return false;
    }
    const q = w >> 2;
    this.u32[q] = need;
    this.u32[q + 1] = t.byteLength;
    this.i64[(w >> 3) + 1] = logTimeNs;
    this.u32[q + 4] = dataBytes;
    this.u32[q + 5] = 0;
    let o = w + RECORD_HEAD;
    this.bytes.set(t, o);
    o += t.byteLength;
    writeWireMessage(this.bytes, o, header, payload);
    const next = w + need;
    Atomics.store(this.ctl, CTL_WRITE, next === cap ? 0 : next);
    Atomics.add(this.ctl, CTL_SIGNAL, 1);
    Atomics.notify(this.ctl, CTL_SIGNAL);
    return true;
  }

  /** Consumer: the oldest record, or undefined when empty. Call `release()` when done with it. */
  next(): RingRecord | undefined {
    let r = this.ctl[CTL_READ]!;
    const w = Atomics.load(this.ctl, CTL_WRITE);
    if (r === w) return undefined;
    if (this.capacity - r < 4 || this.u32[r >> 2] === WRAP) {
      r = 0;
      Atomics.store(this.ctl, CTL_READ, 0);
      if (w === 0) return undefined;
    }
    const q = r >> 2;
    const size = this.u32[q]!;
    const topicBytes = this.u32[q + 1]!;
    const logTimeNs = this.i64[(r >> 3) + 1]!;
    const dataBytes = this.u32[q + 4]!;
    const t0 = r + RECORD_HEAD;
    const topic = this.decoder.decode(this.bytes.subarray(t0, t0 + topicBytes));
    const data = this.bytes.subarray(t0 + topicBytes, t0 + topicBytes + dataBytes);
    this.pendingRead = r + size === this.capacity ? 0 : r + size;
    return { topic, logTimeNs, data };
  }

  /** Consumer: frees the record returned by the last `next()`. */
  release(): void {
    if (this.pendingRead < 0) return;
    Atomics.store(this.ctl, CTL_READ, this.pendingRead);
    this.pendingRead = -1;
  }

  /** Consumer: the producer's signal counter, to wait on while the ring is empty. */
  get signal(): number {
    return Atomics.load(this.ctl, CTL_SIGNAL);
  }

  /** Consumer: resolves when the producer has written since `seen`, or after `timeoutMs`. */
  async waitForData(seen: number, timeoutMs: number): Promise<void> {
    const res = waitAsync(this.ctl, CTL_SIGNAL, seen, timeoutMs);
    if (res.async) await res.value;
  }
}
