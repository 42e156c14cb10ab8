import { describe, expect, it } from 'vitest';
import { ReadyQueue, emptyReadyFrame, type ReadyFrame } from './ready-queue.js';
import { OVERLOAD, OverloadGovernor, PROBE_AFTER, StageCostModel, admit } from './admission.js';
import { LagDetector, PeriodEstimator } from './period-estimator.js';
import { TriggerCyclePolicy } from './trigger-cycle-policy.js';

const frame = (channel: number, classRank: number, deadlineNs: number, stampNs = 0n): ReadyFrame => ({
  ...emptyReadyFrame(),
  channel,
  classRank,
  deadlineNs,
  stampNs,
});

function drain(q: ReadyQueue): number[] {
  const out = emptyReadyFrame();
  const order: number[] = [];
  while (q.pop(out)) order.push(out.channel);
  return order;
}

describe('ReadyQueue', () => {
  it('runs three frames of one class earliest deadline first, whatever the arrival order', () => {
    const q = new ReadyQueue(8);
    q.push(frame(1, 0, 30e6));
    q.push(frame(2, 0, 10e6));
    q.push(frame(3, 0, 20e6));
    expect(drain(q)).toEqual([2, 3, 1]);
  });

  it('runs a higher class first even when its deadline is later', () => {
    const q = new ReadyQueue(8);
    q.push(frame(10, 3, 1e6)); // best-effort, due soonest
    q.push(frame(11, 2, 2e6)); // normal
    q.push(frame(12, 0, 90e6)); // critical, due last
    q.push(frame(13, 1, 5e6)); // high
    expect(q.peekRank()).toBe(0);
    expect(drain(q)).toEqual([12, 13, 11, 10]);
  });

  it('breaks deadline ties by stamp, then arrival; refuses when full; popLast takes what runs last', () => {
    const q = new ReadyQueue(4);
    q.push(frame(1, 1, 5e6, 200n));
    q.push(frame(2, 1, 5e6, 100n));
    q.push(frame(3, 1, 5e6, 100n));
    q.push(frame(4, 0, 9e6));
    expect(q.push(frame(5, 0, 1e6))).toBe(false);
    const out = emptyReadyFrame();
    expect(q.popLast(out)).toBe(true);
    expect(out.channel).toBe(1);
    expect(q.countOfRank(1)).toBe(2);
    expect(drain(q)).toEqual([4, 2, 3]);
  });

  it('keeps heap order over many random pushes and pops', () => {
    const q = new ReadyQueue(256);
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const out = emptyReadyFrame();
    let last = { rank: -1, deadline: -Infinity };
    for (let round = 0; round < 2000; round++) {
      if (q.size < 200 && rnd() < 0.6) q.push(frame(round, Math.floor(rnd() * 4), Math.floor(rnd() * 1e6)));
      else if (q.pop(out)) {
        // Between pushes the popped sequence is ordered; reset the check after a push.
        last = { rank: out.classRank, deadline: out.deadlineNs };
      }
    }
    last = { rank: -1, deadline: -Infinity };
    while (q.pop(out)) {
      const ok =
        out.classRank > last.rank || (out.classRank === last.rank && out.deadlineNs >= last.deadline);
      expect(ok).toBe(true);
      last = { rank: out.classRank, deadline: out.deadlineNs };
    }
  });
});

describe('admission', () => {
  const base = { nowNs: 0, costNs: 1e6, degradedCostNs: undefined, overload: OVERLOAD.none };
  it('always runs critical frames, even late ones', () => {
    expect(admit({ ...base, classRank: 0, deadlineNs: -1 })).toBe('run');
    expect(admit({ ...base, classRank: 0, deadlineNs: 0, overload: OVERLOAD.degradeHigh })).toBe('run');
  });
  it('sheds a frame that can no longer meet its deadline before it starts, or degrades it when that makes it', () => {
    expect(admit({ ...base, classRank: 2, deadlineNs: 5e5 })).toBe('shed-deadline');
    expect(admit({ ...base, classRank: 1, deadlineNs: 5e5, degradedCostNs: 4e5 })).toBe('degrade');
    expect(admit({ ...base, classRank: 1, deadlineNs: 2e6 })).toBe('run');
  });
  it('sheds by class from the bottom up as overload rises, and degrades high last', () => {
    const at = (overload: number) =>
      [3, 2, 1].map((classRank) =>
        admit({ ...base, classRank, deadlineNs: 1e9, degradedCostNs: 1e5, overload }),
      );
    expect(at(OVERLOAD.none)).toEqual(['run', 'run', 'run']);
    expect(at(OVERLOAD.shedBestEffort)).toEqual(['shed-overload', 'run', 'run']);
    expect(at(OVERLOAD.shedNormal)).toEqual(['shed-overload', 'shed-overload', 'run']);
    expect(at(OVERLOAD.degradeHigh)).toEqual(['shed-overload', 'shed-overload', 'degrade']);
  });
  it('runs a frame at full quality after a streak of deadline sheds or degrades, so a bad estimate heals', () => {
    const late = { ...base, classRank: 2, deadlineNs: 5e5 };
    expect(admit({ ...late, sinceFullRun: PROBE_AFTER - 1 })).toBe('shed-deadline');
    expect(admit({ ...late, sinceFullRun: PROBE_AFTER })).toBe('run');
    const high = { ...late, classRank: 1, degradedCostNs: 4e5 };
    expect(admit({ ...high, sinceFullRun: PROBE_AFTER - 1 })).toBe('degrade');
    expect(admit({ ...high, sinceFullRun: PROBE_AFTER })).toBe('run');
    // A class the overload sheds or degrades stays so.
    expect(admit({ ...late, overload: OVERLOAD.shedNormal, sinceFullRun: 99 })).toBe('shed-overload');
    expect(admit({ ...high, overload: OVERLOAD.degradeHigh, sinceFullRun: 99 })).toBe('degrade');
    const m = new StageCostModel();
    for (let i = 0; i < 3; i++) m.observe(1e6);
    m.noteNotRun();
    m.noteNotRun();
    expect(m.sinceFullRun).toBe(2);
    m.observe(1e6);
    expect(m.sinceFullRun).toBe(0);
  });
});

describe('OverloadGovernor', () => {
  it('raises a step per two windows of thin critical slack, ignores one slow frame, and lowers after calm windows', () => {
    const g = new OverloadGovernor(100, 0.5, 0.25, 3, 0.05);
    let t = 0;
    const windowOf = (ratios: number[]) => {
      for (const r of ratios) g.observe(r * 10, 10);
      t += 100;
      return g.tick(t);
    };
    g.tick(0);
    const fine = Array.from({ length: 40 }, () => 0.1);
    expect(windowOf(fine)).toBe(0);
    // One slow frame among forty (a busy machine's hiccup) is not load.
    expect([windowOf([...fine, 0.8]), windowOf([...fine, 0.8])]).toEqual([0, 0]);
    const loaded = [...fine, 0.6, 0.7, 0.8];
    expect([windowOf(loaded), windowOf(loaded), windowOf(loaded), windowOf(loaded)]).toEqual([0, 1, 1, 2]);
    // A miss makes a window bad by itself.
    expect([windowOf([...fine, 1.2]), windowOf([...fine, 1.5])]).toEqual([2, 3]);
    expect([windowOf(fine), windowOf(fine), windowOf(fine)]).toEqual([3, 3, 2]);
    const between = [...fine, 0.4, 0.3, 0.4]; // 3 of 43 frames above lowerAt: holds
    expect([windowOf(between), windowOf(between), windowOf(between), windowOf(between)]).toEqual([
      2, 2, 2, 2,
    ]);
    // One slow frame per window does not hold it: calm windows lower it step by step.
    const hiccup = [...fine, 0.45];
    expect([1, 2, 3, 4, 5, 6].map(() => windowOf(hiccup))).toEqual([2, 2, 1, 1, 1, 0]);
    expect(g.raises).toBe(3);
  });
});

describe('PeriodEstimator and LagDetector', () => {
  it('learns period and jitter, and predicts the next arrival', () => {
    const p = new PeriodEstimator(10e6);
    let t = 0;
    for (let i = 0; i < 50; i++) p.observe((t += 10e6 + (i % 2 ? 2e5 : -2e5)));
    expect(p.trained).toBe(true);
    expect(Math.abs(p.period - 10e6)).toBeLessThan(1e5);
    expect(p.jitter).toBeGreaterThan(1e5);
    expect(p.jitter).toBeLessThan(3e5);
    expect(Math.abs(p.nextAfter(t + 1e6) - (t + p.period))).toBeLessThan(1);
    expect(p.nextAfter(t + 10 * p.period)).toBe(Infinity); // silent: no prediction
  });

  it("says lagging once when a window's period passes 1.5x the expected, recovered once below 1.2x", () => {
    const lag = new LagDetector(10, 100);
    const events: string[] = [];
    let t = 0;
    const step = (d: number) => {
      const e = lag.observe((t += d));
      if (e) events.push(`${e}@${t}`);
    };
    // Bursty but on time: pairs at one instant, 20 apart (average 10) never lag.
    for (let i = 0; i < 30; i++) step(i % 2 ? 0 : 20);
    expect(events).toEqual([]);
    for (let i = 0; i < 10; i++) step(30); // 300: lagging once its window closes
    for (let i = 0; i < 30; i++) step(10);
    expect(events).toEqual(['lagging@420', 'recovered@720']);
    expect(lag.episodes).toBe(1);
    // A stalled stage lags without completing anything.
    expect(lag.tick(t + 250)).toBe('lagging');
    expect(lag.averagePeriod).toBe(Infinity);
  });
});

describe('TriggerCyclePolicy (baseline)', () => {
  it('cuts at a trigger sensor, at half a channel, or after the longest wait', () => {
    const p = new TriggerCyclePolicy(Uint8Array.from([1, 0]), Int32Array.from([8, 2]), 100);
    p.add(1, 0);
    expect(p.shouldCut(50)).toBe(false);
    expect(p.dueAt()).toBe(100);
    expect(p.shouldCut(100)).toBe(true);
    p.cut();
    p.add(1, 200);
    p.add(1, 201); // half of channel 1's slots
    expect(p.shouldCut(202)).toBe(true);
    p.cut();
    p.add(0, 300);
    expect(p.shouldCut(300)).toBe(true);
  });
});

describe('StageCostModel', () => {
  it('learns a fixed and a per-unit cost, and predicts a larger input from them', () => {
    const m = new StageCostModel();
    expect(m.expected(10)).toBe(0);
    // 1 ms fixed + 20 ns per point, from scans of varying size.
    for (let i = 0; i < 40; i++) {
      const n = 50_000 + (i % 5) * 20_000;
      m.observe(1e6 + 20 * n, n);
    }
    expect(m.expected(260_000)).toBeCloseTo(1e6 + 20 * 260_000, -4);
    expect(m.expected(1)).toBeCloseTo(1e6, -4);
  });

  it('claims nothing before three runs, and does not extrapolate far beyond the sizes it has seen', () => {
    const m = new StageCostModel();
    m.observe(3e6, 1);
    m.observe(3e6, 1);
    expect(m.expected(262_144)).toBe(0);
    m.observe(3e6, 1);
    expect(m.expected(1)).toBeCloseTo(3e6, -3);
    // Three one-point scans say nothing of a 262,144-point one: the mean, not 262,144 x 3 ms.
    expect(m.expected(262_144)).toBeCloseTo(3e6, -3);
  });

  it('does not read a slope into timing noise over scans of nearly the same size', () => {
    const m = new StageCostModel();
    // ~102,700-point scans, 5-7 ms: the noise is not a cost per point.
    [5e6, 7e6, 5.5e6, 6.5e6].forEach((ns, i) => m.observe(ns, 102_700 + 20 * i));
    expect(m.expected(102_746)).toBeGreaterThan(5e6);
    expect(m.expected(102_746)).toBeLessThan(7e6);
  });
});
