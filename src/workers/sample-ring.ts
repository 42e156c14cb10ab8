/**
 * Latency samples from a stage thread to the main thread, which turns them into Prometheus
 * histograms and the status/bench histograms (prom-client lives on one thread). Single producer,
 * single consumer, over shared memory (EntryRing): the producer never waits; when the ring is
 * full a sample is dropped and counted. An entry is 4 × Float64: metric, stage, value (ns), extra.
 */
import { EntryRing } from './entry-ring.js';

const ENTRY = 4;

export interface Sample {
  metric: number;
  stage: number;
  valueNs: number;
  extra: number;
}

export class SampleRing extends EntryRing {
  private constructor(sab: SharedArrayBuffer, offset: number, capacity: number) {
    super(sab, offset, capacity, ENTRY, 'SampleRing');
  }

  static bytesFor(capacity: number): number {
    return EntryRing.bytesForEntries(capacity, ENTRY);
  }

  /** A ring over `sab` at `offset` (8-byte aligned), `capacity` a power of two. */
  static over(sab: SharedArrayBuffer, offset: number, capacity: number): SampleRing {
    return new SampleRing(sab, offset, capacity);
  }

  /** Producer: adds a sample; false (counted) when full. */
  push(metric: number, stage: number, valueNs: number, extra = 0): boolean {
    const o = this.claim();
    if (o < 0) return false;
    const d = this.data;
    d[o] = metric;
    d[o + 1] = stage;
    d[o + 2] = valueNs;
    d[o + 3] = extra;
    this.publish();
    return true;
  }

  /** Consumer: hands every pending sample to `sink` (the object is reused); returns how many. */
  drain(sink: (s: Sample) => void, out: Sample = { metric: 0, stage: 0, valueNs: 0, extra: 0 }): number {
    const d = this.data;
    return this.consume((o) => {
      out.metric = d[o]!;
      out.stage = d[o + 1]!;
      out.valueNs = d[o + 2]!;
      out.extra = d[o + 3]!;
      sink(out);
    });
  }
}
