/**
 * Per-frame spans from a stage thread to the main thread, for the bench's `--trace` (Chrome
 * trace events): what a thread did with which frame, from when to when. Like SampleRing (single
 * producer, single consumer, shared memory, full = dropped and counted, no allocation), but each
 * entry has both ends and the frame's identity. Only allocated when tracing is asked for.
 *
 * Layout at `offset`: Int32 × 4 [head, tail, dropped, -], then `capacity` entries of 6 × Float64:
 * kind, stage, channel, startNs, endNs, stampNs (CLOCK_MONOTONIC ns, exact as doubles up to 104 days).
 */
const CTL = { head: 0, tail: 1, dropped: 2, words: 4 } as const;
const ENTRY = 6;

/** What a span is (its `kind`). */
export const SPAN = {
  /** committed → the consuming thread holds the descriptor. */
  handoff: 0,
  /** the stage's run on the frame. */
  run: 1,
  /** tracks and plan made and published (stage: the planner; channel/stamp: the trigger). */
  publish: 2,
  /** the frame's part in a publish: one per frame fused into it (start/end: the publish's). */
  output: 3,
  /** received → committed in the pool (ingest on a stage thread; stampNs 0: not known there). */
  ingest: 4,
} as const;

export interface Span {
  kind: number;
  stage: number;
  channel: number;
  startNs: number;
  endNs: number;
  stampNs: number;
}

export class SpanRing {
  private readonly ctl: Int32Array;
  private readonly data: Float64Array;

  private constructor(
    sab: SharedArrayBuffer,
    offset: number,
    readonly capacity: number,
  ) {
    this.ctl = new Int32Array(sab, offset, CTL.words);
    this.data = new Float64Array(sab, offset + CTL.words * 4, capacity * ENTRY);
  }

  static bytesFor(capacity: number): number {
    return CTL.words * 4 + capacity * ENTRY * 8;
  }

  /** A ring over `sab` at `offset` (8-byte aligned), `capacity` a power of two. */
  static over(sab: SharedArrayBuffer, offset: number, capacity: number): SpanRing {
    if (offset % 8 !== 0 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(
        `SpanRing: offset ${offset} must be 8-aligned, capacity ${capacity} a power of two`,
      );
    }
    return new SpanRing(sab, offset, capacity);
  }

  /** Producer: adds a span; false (counted) when full. Times as numbers (Number(bigint ns)). */
  push(
    kind: number,
    stage: number,
    channel: number,
    startNs: number,
    endNs: number,
    stampNs: number,
  ): boolean {
    const head = Atomics.load(this.ctl, CTL.head);
    if (((head - Atomics.load(this.ctl, CTL.tail)) | 0) >= this.capacity) {
      Atomics.add(this.ctl, CTL.dropped, 1);
      return false;
    }
    const o = (head & (this.capacity - 1)) * ENTRY;
    const d = this.data;
    d[o] = kind;
    d[o + 1] = stage;
    d[o + 2] = channel;
    d[o + 3] = startNs;
    d[o + 4] = endNs;
    d[o + 5] = stampNs;
    Atomics.store(this.ctl, CTL.head, (head + 1) | 0);
    return true;
  }

  /** Consumer: hands every pending span to `sink` (the object is reused); returns how many. */
  drain(
    sink: (s: Span) => void,
    out: Span = { kind: 0, stage: 0, channel: 0, startNs: 0, endNs: 0, stampNs: 0 },
  ): number {
    const head = Atomics.load(this.ctl, CTL.head);
    let tail = Atomics.load(this.ctl, CTL.tail);
    let n = 0;
    const d = this.data;
    while (tail !== head) {
      const o = (tail & (this.capacity - 1)) * ENTRY;
      out.kind = d[o]!;
      out.stage = d[o + 1]!;
      out.channel = d[o + 2]!;
      out.startNs = d[o + 3]!;
      out.endNs = d[o + 4]!;
      out.stampNs = d[o + 5]!;
      sink(out);
      tail = (tail + 1) | 0;
      n++;
    }
    Atomics.store(this.ctl, CTL.tail, tail);
    return n;
  }

  /** Spans dropped because the consumer did not keep up. */
  get dropped(): number {
    return Atomics.load(this.ctl, CTL.dropped);
  }
}
