import { describe, expect, it } from 'vitest';
import { EGO, PLAN_POINT, type PlanDecision } from '../wire/layouts.js';
import { requiredDecel, timeToCollision } from './aeb.js';
import { Planner, createPlanResult } from './planner.js';
import {
  CAR,
  FRONT,
  PED,
  carAtGap,
  ego,
  plan,
  planOnce,
  qualities,
  trajectory,
  tracks,
  type TrackSpec,
} from './planner.test-helpers.js';
import { writeTrajectory } from './trajectory.js';

interface Actor {
  id: number;
  spec: Omit<TrackSpec, 'x' | 'y' | 'vx' | 'vy' | 'id'>;
  x: number;
  y: number;
  vx: number;
  vy: number;
  ax?: number;
}

interface LoopLog {
  t: number;
  decision: PlanDecision;
  accel: number;
  ttc: number;
  stage: number;
  gap: number;
  speed: number;
}

/**
 * Closed loop on a straight road with perfect perception: actors move at constant velocity
 * (a braking actor stops), the ego takes the commanded acceleration at once. Returns the log
 * and the smallest bumper gap to actor 0 (negative: collision).
 */
function closedLoop(
  planner: Planner,
  egoSpeed: number,
  actors: Actor[],
  durationS: number,
  dt = 0.01,
): { log: LoopLog[]; minClearance: number; egoSpeed: number } {
  let ex = 0;
  let v = egoSpeed;
  const log: LoopLog[] = [];
  let minClearance = Infinity;
  const out = createPlanResult();
  const egoRec = new Float64Array(EGO.stride);
  for (let step = 0; step * dt <= durationS + 1e-9; step++) {
    const t = step * dt;
    const specs = actors.map((a) => ({
      ...a.spec,
      id: a.id,
      x: a.x - ex,
      y: a.y,
      vx: a.vx,
      vy: a.vy,
      ax: a.ax ?? 0,
    }));
    egoRec[EGO.speed] = v;
    plan(planner, specs, egoRec, t, out);
    const a0 = actors[0]!;
    const halfLen = (a0.spec.length ?? 4.6) / 2;
    const halfWid = (a0.spec.width ?? 1.85) / 2;
    // Clearance between boxes (ego: -1 .. 3.7 along, ±0.95 across).
    const along = a0.x - ex - halfLen - FRONT;
    const across = Math.abs(a0.y) - halfWid - 0.95;
    const clearance = across > 0 ? Infinity : along;
    minClearance = Math.min(minClearance, clearance);
    log.push({
      t,
      decision: out.decision,
      accel: out.targetAccel,
      ttc: out.ttc,
      stage: out.aebStage,
      gap: along,
      speed: v,
    });
    v = Math.max(0, v + out.targetAccel * dt);
    ex += v * dt;
    for (const a of actors) {
      const ax = a.ax ?? 0;
      if (ax !== 0) {
        const nv = a.vx + ax * dt;
        a.vx = a.vx > 0 && nv <= 0 ? 0 : nv;
        if (a.vx === 0) a.ax = 0;
      }
      a.x += a.vx * dt;
      a.y += a.vy * dt;
    }
  }
  return { log, minClearance, egoSpeed: v };
}

describe('timeToCollision / requiredDecel', () => {
  it('is gap over closing speed for a constant-speed or stopped object', () => {
    expect(timeToCollision(30, 15, 5, 0)).toBeCloseTo(3, 9);
    expect(timeToCollision(30, 15, 0, 0)).toBeCloseTo(2, 9);
    expect(timeToCollision(30, 10, 15, 0)).toBe(Infinity);
    expect(requiredDecel(20, 10, 0, 0)).toBeCloseTo(2.5, 9);
  });
  it('accounts for a braking lead, before and after it stops (CCRb)', () => {
    // 50 km/h both, 12 m, lead at -6 m/s²: contact after sqrt(2·12/6) = 2 s, before it stops (2.3 s).
    expect(timeToCollision(12, 13.89, 13.89, -6)).toBeCloseTo(2, 6);
    // Slower ego: the lead stops first (at 16.1 m), so the ego covers 12 + 16.1 m at 5 m/s.
    expect(timeToCollision(12, 5, 13.89, -6)).toBeCloseTo((12 + (13.89 * 13.89) / 12) / 5, 6);
    // To stop behind where the lead stops: 13.89² / (2 (12 + 16.08)) = 3.44 m/s².
    expect(requiredDecel(12, 13.89, 13.89, -6)).toBeCloseTo(
      (13.89 * 13.89) / (2 * (12 + (13.89 * 13.89) / 12)),
      6,
    );
  });
});

describe('Planner', () => {
  it('cruises toward the set speed without a lead, and plans a 3 s trajectory at 0.1 s', () => {
    const planner = new Planner({ cruiseSpeedMps: 25 });
    const out = planOnce(planner, [], 20);
    expect(out.decision).toBe('cruise');
    expect(out.leadId).toBe(-1);
    expect(out.ttc).toBe(-1);
    expect(out.targetAccel).toBeCloseTo(2, 9); // 0.5 · (25 - 20) limited to the comfort 2 m/s²
    expect(out.pointCount).toBe(31);
    for (let i = 0; i < out.pointCount; i++) {
      const o = i * PLAN_POINT.stride;
      expect(trajectory[o + PLAN_POINT.t]).toBeCloseTo(0.1 * i, 5);
      expect(trajectory[o + PLAN_POINT.y]).toBe(0);
      // Accelerates at 2 m/s² until the set speed (after 2.5 s), then holds it.
      expect(trajectory[o + PLAN_POINT.v]).toBeCloseTo(Math.min(25, 20 + 2 * 0.1 * i), 4);
    }
    expect(trajectory[30 * PLAN_POINT.stride + PLAN_POINT.x]).toBeCloseTo(
      20 * 2.5 + 0.5 * 2 * 2.5 * 2.5 + 25 * 0.5,
      3,
    );
  });

  it('follows a lead at the time gap with no correction needed', () => {
    const planner = new Planner({ cruiseSpeedMps: 30 });
    // Desired gap at 20 m/s: 4 m + 1.8 s · 20 m/s = 40 m.
    const out = planOnce(planner, [{ id: 7, ...CAR, x: carAtGap(40), y: 0.2, vx: 20 }], 20);
    expect(out.decision).toBe('follow');
    expect(out.leadId).toBe(7);
    expect(out.gap).toBeCloseTo(40, 4);
    expect(Math.abs(out.targetAccel)).toBeLessThan(0.01);
    expect(out.ttc).toBe(-1);
    expect(out.aebStage).toBe(0);
  });

  it('closes in on a slower lead and settles at the time gap within comfort limits', () => {
    const planner = new Planner({ cruiseSpeedMps: 30 });
    const { log } = closedLoop(
      planner,
      25,
      [{ id: 1, spec: CAR, x: carAtGap(80), y: 0, vx: 20, vy: 0 }],
      40,
      0.05,
    );
    const last = log[log.length - 1]!;
    expect(last.decision).toBe('follow');
    expect(Math.abs(last.gap - (4 + 1.8 * 20))).toBeLessThan(1);
    expect(Math.abs(last.speed - 20)).toBeLessThan(0.2);
    for (const l of log) {
      expect(l.accel).toBeGreaterThanOrEqual(-3.5);
      expect(l.accel).toBeLessThanOrEqual(2);
      expect(l.decision).not.toBe('aeb');
    }
  });

  it('stages AEB on a stopped car ahead by TTC (CCRs, 50 km/h, ACC off)', () => {
    const v = 13.89;
    const at = (gap: number): PlanResult =>
      planOnce(new Planner({ accEnabled: false }), [{ id: 3, ...CAR, x: carAtGap(gap), y: 0 }], v);
    const far = at(40);
    expect(far.ttc).toBeCloseTo(40 / v, 4);
    expect(far.aebStage).toBe(0);
    expect(far.decision).toBe('follow');
    const warn = at(30);
    expect(warn.ttc).toBeCloseTo(30 / v, 4);
    expect(warn.aebStage).toBe(1);
    expect(warn.targetAccel).toBe(0);
    const partial = at(20);
    expect(partial.ttc).toBeCloseTo(20 / v, 4);
    expect(partial.decision).toBe('aeb');
    expect(partial.aebStage).toBe(2);
    expect(partial.targetAccel).toBe(-4);
    const full = at(10);
    expect(full.ttc).toBeCloseTo(10 / v, 4);
    expect(full.decision).toBe('aeb');
    expect(full.targetAccel).toBe(-9);
    // With ACC on, a stopped lead is a reason to brake well before AEB.
    const acc = planOnce(new Planner(), [{ id: 3, ...CAR, x: carAtGap(40), y: 0 }], v);
    expect(acc.decision).toBe('brake');
    expect(acc.leadId).toBe(3);
    expect(acc.targetAccel).toBeLessThan(-2);
  });

  it('avoids a stopped car in closed loop: warning, partial then full braking, to standstill', () => {
    const run = closedLoop(
      new Planner({ accEnabled: false }),
      13.89,
      [{ id: 1, spec: CAR, x: carAtGap(60), y: 0, vx: 0, vy: 0 }],
      8,
    );
    const firstWarn = run.log.find((l) => l.stage === 1)!;
    expect(firstWarn.ttc).toBeLessThan(2.6);
    expect(firstWarn.ttc).toBeGreaterThan(2.55);
    // Partial braking comes when avoiding needs more than 4 m/s² (13.89² / (2 · 24 m)), at TTC
    // 1.73 s, a little before the 1.6 s TTC threshold.
    const firstAeb = run.log.find((l) => l.decision === 'aeb')!;
    expect(firstAeb.stage).toBe(2);
    // The brake builds up at the AEB jerk limit: -4 m/s² within 4 / 30 s.
    const atPartial = run.log.find((l) => l.accel === -4)!;
    expect(atPartial.t - firstAeb.t).toBeLessThan(4 / 30 + 0.011);
    expect(atPartial.t - firstAeb.t).toBeGreaterThan(4 / 30 - 0.011);
    expect(firstAeb.ttc).toBeGreaterThan(1.6);
    expect(firstAeb.ttc).toBeLessThan(1.75);
    expect(firstAeb.t).toBeGreaterThan(firstWarn.t);
    const firstFull = run.log.find((l) => l.accel === -9)!;
    expect(firstFull.t).toBeGreaterThan(firstAeb.t);
    // Braking holds to standstill.
    expect(run.egoSpeed).toBeLessThan(0.05);
    expect(run.log[run.log.length - 1]!.gap).toBeGreaterThan(0.3);
    expect(run.minClearance).toBeGreaterThan(0.3);
    // With ACC on the same approach ends at the standstill gap without any AEB.
    const acc = closedLoop(
      new Planner(),
      13.89,
      [{ id: 1, spec: CAR, x: carAtGap(60), y: 0, vx: 0, vy: 0 }],
      20,
    );
    expect(acc.log.some((l) => l.decision === 'aeb')).toBe(false);
    expect(acc.egoSpeed).toBe(0);
    expect(acc.minClearance).toBeGreaterThan(3);
    expect(acc.minClearance).toBeLessThan(5);
  });

  it('avoids a lead braking hard at 12 m (CCRb-like, ACC off)', () => {
    const run = closedLoop(
      new Planner({ accEnabled: false }),
      13.89,
      [{ id: 1, spec: CAR, x: carAtGap(12), y: 0, vx: 13.89, vy: 0, ax: -6 }],
      6,
    );
    expect(run.log.some((l) => l.decision === 'aeb')).toBe(true);
    expect(run.minClearance).toBeGreaterThan(0);
    expect(run.egoSpeed).toBeLessThan(0.05);
  });

  it('brakes for a pedestrian about to cross into the path (CPNA-like) and avoids hitting it', () => {
    // 30 km/h; an adult walks in from the right at 1.4 m/s, timed to reach the ego's centre line
    // when the ego's front would reach it.
    const v = 8.33;
    const tMeet = 4 / 1.4;
    const ped = (): Actor => ({ id: 9, spec: PED, x: FRONT + v * tMeet + 0.25, y: -4, vx: 0, vy: 1.4 });
    const p0 = ped();
    const out = planOnce(new Planner(), [{ id: 9, ...PED, x: p0.x, y: p0.y, vy: 1.4 }], v);
    expect(out.leadId).toBe(9);
    expect(['brake', 'aeb']).toContain(out.decision);
    expect(out.targetAccel).toBeLessThan(-1);
    expect(out.ttc).toBeGreaterThan(tMeet - 0.1);
    expect(out.ttc).toBeLessThan(tMeet + 0.05);
    // The driver does not react (ACC off): AEB alone must avoid the pedestrian.
    const run = closedLoop(new Planner({ accEnabled: false }), v, [ped()], 6);
    expect(run.log.some((l) => l.decision === 'aeb')).toBe(true);
    expect(run.minClearance).toBeGreaterThan(0);
  });

  it('brakes for a crossing pedestrian without dropping out and back in (aeb, brake, aeb)', () => {
    // CPNA-25-like at 20-60 km/h: walking at 5 km/h from 4 m right of the path into 25 % of
    // the ego's width; AEB alone.
    for (const kmh of [20, 30, 40, 50, 60]) {
      const v = kmh / 3.6;
      const walk = 5 / 3.6;
      const toImpact = 4 - 0.95 + 0.25 * 1.9;
      const tMeet = toImpact / walk;
      const run = closedLoop(
        new Planner({ accEnabled: false }),
        v,
        [{ id: 9, spec: PED, x: FRONT + v * tMeet + 0.25, y: -4, vx: 0, vy: walk }],
        tMeet + 2,
      );
      const first = run.log.findIndex((l) => l.decision === 'aeb');
      expect(first, `${kmh} km/h`).toBeGreaterThan(0);
      // Once AEB lets go (standstill, or the pedestrian has walked clear) it does not come back.
      const released = run.log.findIndex((l, i) => i > first && l.decision !== 'aeb');
      if (released > 0) {
        const again = run.log.findIndex((l, i) => i > released && l.decision === 'aeb');
        expect(again, `${kmh} km/h: AEB off at ${run.log[released]!.t} s, on again`).toBe(-1);
      }
      expect(run.minClearance, `${kmh} km/h`).toBeGreaterThan(0);
    }
  });

  it('ignores leads out of the path: adjacent lane, pedestrians walking along, and on a bend', () => {
    const planner = new Planner();
    const adjacent = planOnce(planner, [{ id: 2, ...CAR, x: carAtGap(15), y: 3.5 }], 20);
    expect(adjacent.decision).toBe('cruise');
    expect(adjacent.leadId).toBe(-1);
    expect(adjacent.ttc).toBe(-1);
    expect(adjacent.aebStage).toBe(0);
    const walker = planOnce(planner, [{ id: 4, ...PED, x: 12, y: -3, vx: 1.4 }], 10);
    expect(walker.decision).toBe('cruise');
    expect(walker.ttc).toBe(-1);
    // Left bend of radius 100 m (yaw rate 0.2 rad/s at 20 m/s): the car 40 m along the bend is
    // the lead, the car straight ahead is off the path.
    const k = 0.01;
    const onBend = { id: 5, ...CAR, x: Math.sin(0.4) / k, y: (1 - Math.cos(0.4)) / k, yaw: 0.4, vx: 15 };
    const straightAhead = { id: 6, ...CAR, x: 40, y: 0, vx: 15 };
    const bend = planOnce(planner, [straightAhead, onBend], 20, 0.2);
    expect(bend.leadId).toBe(5);
    expect(bend.gap).toBeCloseTo(40 - 2.3 - FRONT, 1);
    expect(trajectory[30 * PLAN_POINT.stride + PLAN_POINT.y]).toBeGreaterThan(5);
  });

  it('takes a car cutting in from the next lane as the lead before it arrives', () => {
    const out = planOnce(new Planner(), [{ id: 8, ...CAR, x: carAtGap(20), y: 3.5, vx: 18, vy: -1.2 }], 20);
    expect(out.leadId).toBe(8);
    expect(out.gap).toBeCloseTo(20, 4);
    expect(out.targetAccel).toBeLessThan(0);
    // The same car holding its lane is not a lead.
    const stay = planOnce(new Planner(), [{ id: 8, ...CAR, x: carAtGap(20), y: 3.5, vx: 18 }], 20);
    expect(stay.leadId).toBe(-1);
  });

  it('skips NaN and low-existence records, rejects a count beyond the view, and is deterministic', () => {
    const specs: TrackSpec[] = [
      { id: 1, ...CAR, x: NaN, y: 0 },
      { id: 2, ...CAR, x: carAtGap(10), y: 0, existence: 0.2 },
      { id: 3, ...CAR, x: carAtGap(30), y: 0, vx: 10 },
    ];
    const input = {
      tracks: tracks(specs),
      quality: qualities(specs),
      count: 3,
      ego: ego(15),
      stampNs: 1_000_000n,
    };
    const a = createPlanResult();
    const b = createPlanResult();
    const trajA = new Float32Array(31 * PLAN_POINT.stride);
    const trajB = new Float32Array(31 * PLAN_POINT.stride);
    const planner = new Planner();
    planner.plan(input, a, trajA);
    expect(a.leadId).toBe(3);
    expect(a.tracksImplausible).toBe(1);
    new Planner().plan(input, b, trajB);
    expect(b).toEqual(a);
    expect(Buffer.from(trajB.buffer).equals(Buffer.from(trajA.buffer))).toBe(true);
    expect(() => planner.plan({ ...input, count: 4 }, a, trajA)).toThrow(
      /count 4 exceeds the views' 3 track and 3 quality records/,
    );
  });
});

describe('writeTrajectory', () => {
  it('stops rather than reverses under braking, and limits points to the output', () => {
    const out = new Float32Array(31 * PLAN_POINT.stride);
    const n = writeTrajectory(10, -5, 0, 10, 3, 0.1, out);
    expect(n).toBe(31);
    const at = (i: number, f: number): number => out[i * PLAN_POINT.stride + f]!;
    expect(at(20, PLAN_POINT.v)).toBeCloseTo(0, 6); // stopped after 2 s
    expect(at(30, PLAN_POINT.v)).toBe(0);
    expect(at(20, PLAN_POINT.x)).toBeCloseTo(10, 5); // 10² / (2·5)
    expect(at(30, PLAN_POINT.x)).toBeCloseTo(10, 5);
    expect(writeTrajectory(10, 0, 0, 10, 3, 0.1, new Float32Array(5 * PLAN_POINT.stride))).toBe(5);
  });
});
