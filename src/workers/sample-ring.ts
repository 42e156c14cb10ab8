/**
 * Latency samples from a stage thread to the main thread, which turns them into Prometheus
 * histograms and the status/bench histograms (prom-client lives on one thread). Single producer,
 * single consumer, over shared memory: the producer never waits; when the ring is full a sample is
 * dropped and counted.
 *
 * Layout at `offset`: Int32 × 4 [head (written), tail (read), dropped, -], then `capacity`
 * entries of 4 × Float64: metric, stage, value (ns), extra.
 */
const CTL = { head: 0, tail: 1, dropped: 2, words: 4 } as const;
const ENTRY = 4;

export interface Sample {
  metric: number;
  stage: number;
  valueNs: number;
  extra: number;
}

export class SampleRing {
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
  static over(sab: SharedArrayBuffer, offset: number, capacity: number): SampleRing {
    if (offset % 8 !== 0 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(
        `SampleRing: offset ${offset} must be 8-aligned, capacity ${capacity} a power of two`,
      );
    }
    return new SampleRing(sab, offset, capacity);
  }

  /** Producer: adds a sample; false (counted) when full. */
  push(metric: number, stage: number, valueNs: number, extra = 0): boolean {
    const head = Atomics.load(this.ctl, CTL.head);
    const tail = Atomics.load(this.ctl, CTL.tail);
    if (((head - tail) | 0) >= this.capacity) {
      Atomics.add(this.ctl, CTL.dropped, 1);
      return false;
    }
    const o = (head & (this.capacity - 1)) * ENTRY;
    this.data[o] = metric;
    this.data[o + 1] = stage;
    this.data[o + 2] = valueNs;
    this.data[o + 3] = extra;
    Atomics.store(this.ctl, CTL.head, (head + 1) | 0);
    return true;
  }

  /** Consumer: hands every pending sample to `sink` (the object is reused); returns how many. */
  drain(sink: (s: Sample) => void, out: Sample = { metric: 0, stage: 0, valueNs: 0, extra: 0 }): number {
    const head = Atomics.load(this.ctl, CTL.head);
    let tail = Atomics.load(this.ctl, CTL.tail);
    let n = 0;
    while (tail !== head) {
      const o = (tail & (this.capacity - 1)) * ENTRY;
      out.metric = this.data[o]!;
      out.stage = this.data[o + 1]!;
      out.valueNs = this.data[o + 2]!;
      out.extra = this.data[o + 3]!;
      sink(out);
      tail = (tail + 1) | 0;
      n++;
    }
    Atomics.store(this.ctl, CTL.tail, tail);
    return n;
  }

  /** Samples dropped because the consumer did not keep up. */
  get dropped(): number {
    return Atomics.load(this.ctl, CTL.dropped);
  }
}
