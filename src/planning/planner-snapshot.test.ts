import { describe, expect, it } from 'vitest';
import { TypedArrayArena } from '../pool/typed-array-arena.js';
import { PLAN_POINT } from '../wire/layouts.js';
import { createPlanResult, Planner, type PlanResult } from './planner.js';
import { CAR, carAtGap, ego, qualities, tracks, type TrackSpec } from './planner.test-helpers.js';

const DT = 0.05;
const CONFIG = { accEnabled: false };

/**
 * A closed loop: the ego at 50 km/h toward a car stopped 40 m ahead (CCRs), its speed and
 * position integrated from the planner's command, so AEB warns, brakes partially, then fully,
 * down to standstill.
 */
interface Loop {
  speed: number;
  x: number;
}

function inputs(loop: Loop, k: number) {
  const specs: TrackSpec[] = [{ id: 7, ...CAR, x: carAtGap(40) - loop.x, y: 0 }];
  return {
    tracks: tracks(specs),
    quality: qualities(specs),
    count: 1,
    ego: ego(loop.speed, 0, 0),
    stampNs: BigInt(Math.round(k * DT * 1e9)),
  };
}

/** One cycle: plans, then moves the ego under the command. */
function step(planner: Planner, loop: Loop, k: number, out: PlanResult, traj: Float32Array): void {
  planner.plan(inputs(loop, k), out, traj);
  loop.x += loop.speed * DT;
  loop.speed = Math.max(0, loop.speed + out.targetAccel * DT);
}

/** A snapshot over a region of a SharedArrayBuffer, as the tracker state block lays it out. */
function sharedSnapshot(p: Planner) {
  const m = TypedArrayArena.measuring();
  p.createSnapshot(m);
  const sab = new SharedArrayBuffer(8 + m.bytesUsed);
  return p.createSnapshot(TypedArrayArena.over(sab, 8, m.bytesUsed));
}

describe('Planner snapshots', () => {
  it('lists every part of the planner that keeps state, and not its configuration', () => {
    const paths = new Planner().stateLayout.split('\n').map((l) => l.split(':')[0]);
    for (const part of [
      'aeb.',
      'limiter.',
      'lead.',
      'threat.',
      'held.',
      'selector.stats.',
      'path.',
      'noTarget.',
    ]) {
      expect(paths.some((p) => p!.startsWith(part))).toBe(true);
    }
    for (const top of ['epochNs', 'lastStampNs', 'egoSpeed', 'egoYawRate', 'egoAccel', 'egoS']) {
      expect(paths).toContain(top);
    }
    expect(paths).toContain('aeb.lastSeenS');
    expect(paths).toContain('limiter.prev');
    expect(paths.some((p) => /config|cfg|stateCodec/.test(p!))).toBe(false);
  });

  it('restored into a fresh planner, equals the original in every field and plans bit for bit as it (AEB under way)', () => {
    const original = new Planner(CONFIG);
    const loop: Loop = { speed: 50 / 3.6, x: 0 };
    const out = createPlanResult();
    const traj = new Float32Array(64 * PLAN_POINT.stride);
    const stages = new Set<number>();
    /** Planners restored along the way, each planning in lockstep with the original since. */
    const restored: { planner: Planner; out: PlanResult; traj: Float32Array }[] = [];
    let compared = 0;
    for (let k = 0; k < 150 && loop.speed > 0; k++) {
      if (k % 6 === 0) {
        const snap = sharedSnapshot(original);
        original.saveSnapshot(snap);
        const fresh = new Planner(CONFIG);
        fresh.restoreSnapshot(snap);
        // Every field of every part (the configuration too) equals the original's.
        expect(fresh).toEqual(original);
        restored.push({ planner: fresh, out: createPlanResult(), traj: new Float32Array(traj.length) });
      }
      const input = inputs(loop, k);
      original.plan(input, out, traj);
      for (const r of restored) {
        r.planner.plan(input, r.out, r.traj);
        expect(r.out).toEqual(out);
        expect(Buffer.from(r.traj.buffer).equals(Buffer.from(traj.buffer))).toBe(true);
        compared++;
      }
      loop.x += loop.speed * DT;
      loop.speed = Math.max(0, loop.speed + out.targetAccel * DT);
      if (out.aebStage > 0) stages.add(out.aebStage);
    }
    // The scenario went through every AEB stage to standstill, with restored planners along.
    expect([...stages].sort()).toEqual([1, 2, 3]);
    expect(loop.speed).toBe(0);
    expect(restored.length).toBeGreaterThan(5);
    expect(compared).toBeGreaterThan(100);
  });

  it('continues as the uninterrupted planner would: the same plans after a restore mid-braking', () => {
    const reference = new Planner(CONFIG);
    const interrupted = new Planner(CONFIG);
    const loopRef: Loop = { speed: 50 / 3.6, x: 0 };
    const loopInt: Loop = { ...loopRef };
    const outRef = createPlanResult();
    const outInt = createPlanResult();
    const trajRef = new Float32Array(64 * PLAN_POINT.stride);
    const trajInt = new Float32Array(64 * PLAN_POINT.stride);
    let current = interrupted;
    const snap = sharedSnapshot(interrupted);
    let replaced = 0;
    for (let k = 0; k < 150; k++) {
      step(reference, loopRef, k, outRef, trajRef);
      step(current, loopInt, k, outInt, trajInt);
      expect(outInt).toEqual(outRef);
      expect(Buffer.from(trajInt.buffer).equals(Buffer.from(trajRef.buffer))).toBe(true);
      // Replace the planner after every 10th cycle, as a supervisor replacing a dead worker would.
      current.saveSnapshot(snap);
      if (k % 10 === 9) {
        current = new Planner(CONFIG);
        current.restoreSnapshot(snap);
        replaced++;
      }
    }
    expect(loopRef.speed).toBe(0);
    expect(replaced).toBe(15);
  });
});
