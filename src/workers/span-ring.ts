/**
 * Per-frame spans from a stage thread to the main thread, for the bench's `--trace` (Chrome
 * trace events): what a thread did with which frame, from when to when. An EntryRing like
 * SampleRing (full = dropped and counted, no allocation to push), each entry 6 × Float64: kind,
 * stage, channel, startNs, endNs, stampNs (CLOCK_MONOTONIC ns, exact as doubles up to 104 days).
 * Only allocated when tracing is asked for.
 */
import { EntryRing } from './entry-ring.js';

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

export class SpanRing extends EntryRing {
  private constructor(sab: SharedArrayBuffer, offset: number, capacity: number) {
    super(sab, offset, capacity, ENTRY, 'SpanRing');
  }

  static bytesFor(capacity: number): number {
    return EntryRing.bytesForEntries(capacity, ENTRY);
  }

  /** A ring over `sab` at `offset` (8-byte aligned), `capacity` a power of two. */
  static over(sab: SharedArrayBuffer, offset: number, capacity: number): SpanRing {
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
    const o = this.claim();
    if (o < 0) return false;
    const d = this.data;
    d[o] = kind;
    d[o + 1] = stage;
    d[o + 2] = channel;
    d[o + 3] = startNs;
    d[o + 4] = endNs;
    d[o + 5] = stampNs;
    this.publish();
    return true;
  }

  /** Consumer: hands every pending span to `sink` (the object is reused); returns how many. */
  drain(
    sink: (s: Span) => void,
    out: Span = { kind: 0, stage: 0, channel: 0, startNs: 0, endNs: 0, stampNs: 0 },
  ): number {
    const d = this.data;
    return this.consume((o) => {
      out.kind = d[o]!;
      out.stage = d[o + 1]!;
      out.channel = d[o + 2]!;
      out.startNs = d[o + 3]!;
      out.endNs = d[o + 4]!;
      out.stampNs = d[o + 5]!;
      sink(out);
    });
  }
}
