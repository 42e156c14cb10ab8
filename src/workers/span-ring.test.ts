import { describe, expect, it } from 'vitest';
import { SPAN, SpanRing, type Span } from './span-ring.js';
import { SchedulerBlock } from './scheduler-block.js';

describe('SpanRing', () => {
  it('carries spans in order with exact nanosecond times, counts what a full ring drops, and wraps', () => {
    const ring = SpanRing.over(new SharedArrayBuffer(SpanRing.bytesFor(4)), 0, 4);
    const base = 8_123_456_789_012_345; // ~94 days of CLOCK_MONOTONIC: still exact as a double
    for (let i = 0; i < 6; i++) ring.push(SPAN.run, 2, i, base + i, base + i + 1000, base - i);
    expect(ring.dropped).toBe(2);
    const got: Span[] = [];
    expect(ring.drain((s) => got.push({ ...s }))).toBe(4);
    expect(got.map((s) => s.channel)).toEqual([0, 1, 2, 3]);
    expect(got[3]).toEqual({
      kind: SPAN.run,
      stage: 2,
      channel: 3,
      startNs: base + 3,
      endNs: base + 1003,
      stampNs: base - 3,
    });
    // room again after the drain, and the ring wraps around its end
    for (let i = 0; i < 3; i++) expect(ring.push(SPAN.handoff, 0, 10 + i, i, i, i)).toBe(true);
    got.length = 0;
    ring.drain((s) => got.push({ ...s }));
    expect(got.map((s) => s.channel)).toEqual([10, 11, 12]);
    expect(() => SpanRing.over(new SharedArrayBuffer(64), 4, 4)).toThrow(/8-aligned/);
  });

  it('is part of the scheduler block only when tracing asks for it', () => {
    const shape = { threads: 3, stages: 4, channels: 5 };
    expect(SchedulerBlock.create(shape).spans).toEqual([]);
    const traced = SchedulerBlock.create({ ...shape, spanCapacity: 8 });
    expect(traced.spans).toHaveLength(3);
    expect(SchedulerBlock.bytesFor({ ...shape, spanCapacity: 8 }) - SchedulerBlock.bytesFor(shape)).toBe(
      3 * SpanRing.bytesFor(8),
    );
    // a worker attaching with the same shape sees the same rings
    const other = SchedulerBlock.attach(traced.sab, { ...shape, spanCapacity: 8 });
    traced.spans[1]!.push(SPAN.publish, 1, 2, 3, 4, 5);
    const seen: number[] = [];
    other.spans[1]!.drain((s) => seen.push(s.kind, s.endNs));
    expect(seen).toEqual([SPAN.publish, 4]);
  });
});
