import { describe, expect, it } from 'vitest';
import {
  AEB_STAGES,
  EGO,
  ObjectClass,
  PLAN_DECISIONS,
  PLAN_LAYOUT,
  PLAN_POINT,
  PLAN_REASONS,
  TRACK,
  TRACK_QUALITY,
} from '../wire/layouts.js';
import { planOutput } from './plan-output.js';
import { checkPlannerConfig } from './planner-config.js';
import { DEFAULT_PLANNER_CONFIG, Planner, createPlanResult, type PlanResult } from './planner.js';
import {
  CAR,
  FRONT,
  PED,
  carAtGap,
  ego,
  plan,
  planOnce,
  trajectory,
  type TrackSpec,
} from './planner.test-helpers.js';

const C = DEFAULT_PLANNER_CONFIG;

describe('Planner: what it trusts', () => {
  // A pedestrian 3 m right of the path, 20 m ahead, walking toward it at 1.4 m/s: with the ego
  // at 10 m/s they would meet.
  const walker = (over: Partial<TrackSpec> = {}): TrackSpec => ({
    id: 4,
    ...PED,
    x: FRONT + 20,
    y: -3,
    vy: 1.4,
    ...over,
  });

  it("uses a crossing pedestrian's lateral velocity only when the track is old and certain enough", () => {
    const trusted = planOnce(new Planner(), [walker()], 10);
    expect(trusted.leadId).toBe(4);
    expect(trusted.threatId).toBe(4);
    expect(trusted.ttc).toBeGreaterThan(0);
    // Too young: the velocity of a new track is mostly its prior.
    const young = planOnce(new Planner(), [walker({ age: 0.2 })], 10);
    expect(young.leadId).toBe(-1);
    expect(young.threatId).toBe(-1);
    expect(young.ttc).toBe(-1);
    expect(young.targetAccel).toBeGreaterThanOrEqual(0);
    // Too uncertain: 1.4 m/s is under 2.5 standard deviations of 1 m/s.
    const uncertain = planOnce(new Planner(), [walker({ velStd: 1 })], 10);
    expect(uncertain.leadId).toBe(-1);
    expect(uncertain.threatId).toBe(-1);
    // Just certain enough: 1.4 > 2.5 × 0.5.
    expect(planOnce(new Planner(), [walker({ velStd: 0.5 })], 10).threatId).toBe(4);
  });

  it('needs a classified road user the lidar has seen before it believes sideways motion', () => {
    expect(planOnce(new Planner(), [walker({ classId: ObjectClass.unknown })], 10).threatId).toBe(-1);
    // Camera and radar only (the lidar never saw it): a monocular range error moves it sideways.
    const cameraOnly = walker({ seenLength: 0, seenWidth: 0 });
    expect(planOnce(new Planner(), [cameraOnly], 10).threatId).toBe(-1);
    // A rig without a lidar can say so.
    expect(planOnce(new Planner({ lateralTrustNeedsLidar: false }), [cameraOnly], 10).threatId).toBe(4);
  });

  it('predicts a crossing with the extents the lidar has seen, not a box turned across by its velocity', () => {
    // A car parked 4.6 m left of the path, 9.7 m ahead of the bumper, seen by the lidar only at
    // a corner (0.8 × 1.3 m): its box centre slides toward the road as the ego passes, which the
    // track takes for 1.4 m/s of lateral motion and turns the 4.5 m box across the path.
    const parked: TrackSpec = {
      id: 8,
      ...CAR,
      length: 4.5,
      width: 1.8,
      x: FRONT + 9.7,
      y: 4.6,
      vx: 0.7,
      vy: -1.4,
      yaw: -1.38,
      velStd: 0.55,
      seenLength: 0.8,
      seenWidth: 1.3,
    };
    const aebOnly = () => new Planner({ accEnabled: false });
    expect(planOnce(aebOnly(), [parked], 11).aebStage).toBe(0);
    // Had the lidar seen the whole box across the path, the same motion would be a threat.
    const wide = planOnce(aebOnly(), [{ ...parked, seenLength: 4.5, seenWidth: 1.8 }], 11);
    expect(wide.threatId).toBe(8);
    expect(wide.aebStage).toBeGreaterThan(0);
  });

  it('neither follows nor brakes for an unclassified object standing still; does once it moves', () => {
    const standing = { id: 5, classId: ObjectClass.unknown, x: carAtGap(8), y: 0.3, length: 4, width: 0.4 };
    const still = planOnce(new Planner(), [standing], 14);
    expect(still.leadId).toBe(-1);
    expect(still.threatId).toBe(-1);
    expect(still.decision).toBe('cruise');
    const moving = planOnce(new Planner({ accEnabled: false }), [{ ...standing, vx: 5 }], 14);
    expect(moving.leadId).toBe(5);
    expect(moving.threatId).toBe(5);
    expect(moving.aebStage).toBeGreaterThanOrEqual(AEB_STAGES.indexOf('partial'));
  });

  it('judges the corridor by the extents the lidar has seen, not the typical size filled in', () => {
    // A car stopped at the corridor's edge: its box (1.85 m wide) reaches in, what the lidar saw
    // of it (0.3 m) does not.
    const edge = { id: 6, ...CAR, x: carAtGap(12), y: -1.9 };
    expect(planOnce(new Planner({ accEnabled: false }), [edge], 10).threatId).toBe(6);
    const seen = planOnce(new Planner({ accEnabled: false }), [{ ...edge, seenWidth: 0.3 }], 10);
    expect(seen.threatId).toBe(-1);
    expect(seen.aebStage).toBe(0);
  });

  it('lets an object walking out of the corridor go when it clears it before the ego arrives', () => {
    // A pedestrian on the path's centre line walking right at 1.5 m/s, 10 m ahead of a 5 m/s ego:
    // it clears the corridor (1.15 m + 0.25 m) in 0.93 s, the ego arrives in 2 s.
    const leaving = { id: 7, ...PED, x: FRONT + 10.25, y: -0.01, vy: -1.5 };
    const p = planOnce(new Planner({ accEnabled: false }), [leaving], 5);
    expect(p.threatId).toBe(-1);
    expect(p.aebStage).toBe(0);
    // Standing there it is a threat.
    expect(planOnce(new Planner({ accEnabled: false }), [{ ...leaving, vy: 0 }], 5).threatId).toBe(7);
  });
});

describe('Planner: AEB stages and the command', () => {
  const stopped = { id: 3, ...CAR, x: carAtGap(8), y: 0 };

  it('holds AEB through a brief loss of its threat, then lets go after aebHoldS', () => {
    const planner = new Planner({ accEnabled: false });
    const e = ego(12);
    let p = plan(planner, [stopped], e, 0);
    expect(p.aebStage).toBe(AEB_STAGES.indexOf('full'));
    for (let t = 0.05; t < 0.5; t += 0.05) p = plan(planner, [stopped], e, t);
    expect(p.targetAccel).toBe(C.fullBrakeAccel);
    // The track is gone (a missed detection): the stage and its object are held.
    for (let t = 0.5; t <= 0.5 + C.aebHoldS - 0.01; t += 0.05) {
      p = plan(planner, [], e, t);
      expect(p.aebStage).toBe(AEB_STAGES.indexOf('full'));
      expect(p.reason).toBe('aeb_hold');
      expect(p.threatId).toBe(3);
      expect(p.ttc).toBe(-1);
      expect(p.targetAccel).toBe(C.fullBrakeAccel);
    }
    p = plan(planner, [], e, 0.5 + C.aebHoldS + 0.05);
    expect(p.aebStage).toBe(0);
    expect(p.threatId).toBe(-1);
    // The command lets go at the brake's rate, not at once.
    expect(p.targetAccel).toBeCloseTo(C.fullBrakeAccel + C.aebJerkMax * 0.1, 6);
  });

  it('keeps braking for the same object while it closes, even when another is more urgent for a moment', () => {
    const planner = new Planner({ accEnabled: false });
    const e = ego(12);
    plan(planner, [stopped], e, 0);
    const p = plan(planner, [stopped, { id: 9, ...CAR, x: carAtGap(6), y: 0 }], e, 0.05);
    expect(p.aebStage).toBe(AEB_STAGES.indexOf('full'));
    expect([3, 9]).toContain(p.threatId);
  });

  it('releases once the object is no longer closing (the ego has matched its speed)', () => {
    const planner = new Planner({ accEnabled: false });
    plan(planner, [{ ...stopped, vx: 2 }], ego(12), 0);
    const p = plan(planner, [{ ...stopped, vx: 12 }], ego(12), 0.05);
    expect(p.aebStage).toBe(0);
    expect(p.reason).toBe('acc_off');
  });

  it('reports no TTC when the closing speed is not meaningfully positive', () => {
    const lead = (vx: number): TrackSpec => ({ id: 2, ...CAR, x: carAtGap(30), y: 0, vx });
    // 0.1 m/s closing would be a TTC of 300 s: not a collision course.
    expect(planOnce(new Planner(), [lead(19.9)], 20).ttc).toBe(-1);
    expect(planOnce(new Planner(), [lead(19)], 20).ttc).toBeCloseTo(30, 3);
    // A braking lead closes in even at equal speed now (enhanced TTC).
    const braking = planOnce(new Planner({ accEnabled: false }), [{ ...lead(20), ax: -6 }], 20);
    expect(braking.ttc).toBeGreaterThan(0);
    expect(braking.ttc).toBeLessThan(4);
  });

  it('limits the rate of change of the command: comfort jerk for ACC, the brake rate for AEB', () => {
    const planner = new Planner();
    const dt = 0.05;
    let prev = plan(planner, [], ego(20), 0).targetAccel;
    // A stopped car appears 60 m ahead at 20 m/s: ACC brakes, then AEB.
    for (let k = 1; k < 80; k++) {
      const p = plan(planner, [{ id: 1, ...CAR, x: carAtGap(60 - 20 * k * dt), y: 0 }], ego(20), k * dt);
      const step = Math.abs(p.targetAccel - prev);
      const limit = (p.aebStage >= 2 || prev < -C.accMaxDecel ? C.aebJerkMax : C.accJerkMax) * dt;
      expect(step).toBeLessThanOrEqual(limit + 1e-9);
      prev = p.targetAccel;
    }
  });
});

describe('Planner: implausible odometry', () => {
  it('publishes no plan, with the reason, for an absurd ego speed; and finite, bounded values', () => {
    for (const speed of [1e39, -1e39, NaN, Infinity, 1e6]) {
      const p = plan(new Planner(), [{ id: 1, ...CAR, x: carAtGap(20), y: 0 }], ego(speed), 0);
      expect(p.decision).toBe('none');
      expect(p.reason).toBe('ego_invalid');
      expect(p.pointCount).toBe(0);
      expect(p.targetAccel).toBe(0);
      expect(p.ttc).toBe(-1);
      expect(p.gap).toBe(-1);
    }
    const badYawRate = ego(15);
    badYawRate[EGO.yawRate] = 1e39;
    expect(plan(new Planner(), [], badYawRate, 0).reason).toBe('ego_invalid');
  });

  it('plans on the last plausible record for egoTimeoutS, then stops planning', () => {
    const planner = new Planner();
    const traj = new Float32Array(64 * PLAN_POINT.stride);
    const out = createPlanResult();
    const run = (rec: Float64Array, tS: number): PlanResult => {
      planner.plan(
        {
          tracks: new Float32Array(0),
          quality: new Float32Array(0),
          count: 0,
          ego: rec,
          stampNs: BigInt(Math.round(tS * 1e9)),
        },
        out,
        traj,
      );
      return out;
    };
    run(ego(20), 0);
    const stale = run(ego(1e39), 0.1);
    expect(stale.reason).toBe('ego_stale');
    expect(stale.decision).toBe('cruise');
    expect(stale.pointCount).toBeGreaterThan(0);
    for (let i = 0; i < stale.pointCount * PLAN_POINT.stride; i++)
      expect(Number.isFinite(traj[i]!)).toBe(true);
    expect(traj[(stale.pointCount - 1) * PLAN_POINT.stride + PLAN_POINT.v]).toBeLessThan(
      C.cruiseSpeedMps + 0.01,
    );
    const invalid = run(ego(1e39), 0.1 + C.egoTimeoutS + 0.05);
    expect(invalid.reason).toBe('ego_invalid');
    expect(invalid.decision).toBe('none');
    expect(invalid.pointCount).toBe(0);
  });
});

/** mulberry32: a small seeded generator, so that a failing case can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('Planner: property — any input gives finite commands within limits', () => {
  it('holds its invariants over 4000 cycles of random, corrupt and contradictory input', () => {
    const random = rng(8);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const extreme = [NaN, Infinity, -Infinity, 1e39, -1e39, 3.4e38, -0, 1e-45, 0];
    // Plausible most of the time, extreme sometimes.
    const value = (lo: number, hi: number): number =>
      random() < 0.08 ? pick(extreme) : lo + (hi - lo) * random();
    const maxTracks = 16;
    const tracks = new Float32Array(maxTracks * TRACK.stride);
    const quality = new Float32Array(maxTracks * TRACK_QUALITY.stride);
    const egoRec = new Float64Array(EGO.stride);
    const traj = new Float32Array(64 * PLAN_POINT.stride);
    const out = createPlanResult();
    for (const accEnabled of [true, false]) {
      const planner = new Planner({ accEnabled });
      let stamp = 1_000_000_000n;
      let prevAccel = 0;
      let prevStamp = -1n;
      let prevAeb = false;
      let prevThreat = -1;
      for (let cycle = 0; cycle < 2000; cycle++) {
        const count = Math.floor(random() * (maxTracks + 1));
        const ids: number[] = [];
        for (let i = 0; i < count; i++) {
          const o = i * TRACK.stride;
          const id = Math.floor(random() * 40);
          ids.push(Math.fround(id));
          tracks[o + TRACK.id] = random() < 0.02 ? NaN : id;
          tracks[o + TRACK.classId] = Math.floor(value(0, 5));
          tracks[o + TRACK.x] = value(-30, 150);
          tracks[o + TRACK.y] = value(-10, 10);
          tracks[o + TRACK.vx] = value(-40, 40);
          tracks[o + TRACK.vy] = value(-5, 5);
          tracks[o + TRACK.ax] = value(-12, 5);
          tracks[o + TRACK.ay] = value(-3, 3);
          tracks[o + TRACK.length] = value(-1, 20); // negative: contradictory
          tracks[o + TRACK.width] = value(-1, 4);
          tracks[o + TRACK.yaw] = value(-4, 4);
          tracks[o + TRACK.existence] = value(-0.5, 1.5);
          const q = i * TRACK_QUALITY.stride;
          for (let k = 0; k < TRACK_QUALITY.stride; k++) quality[q + k] = value(-0.1, 3);
        }
        egoRec[EGO.x] = value(-1e3, 1e3);
        egoRec[EGO.y] = value(-1e3, 1e3);
        egoRec[EGO.yaw] = value(-4, 4);
        egoRec[EGO.speed] = value(-2, 75);
        egoRec[EGO.yawRate] = value(-2, 2);
        egoRec[EGO.accel] = value(-12, 6);
        // Stamps mostly advance by up to 0.2 s, sometimes stand still or jump back (a replay loop).
        const r = random();
        stamp =
          r < 0.02 ? stamp - 5_000_000_000n : r < 0.05 ? stamp : stamp + BigInt(Math.floor(random() * 2e8));
        planner.plan({ tracks, quality, count, ego: egoRec, stampNs: stamp }, out, traj);

        const where = `cycle ${cycle} (accEnabled ${accEnabled})`;
        expect(Number.isFinite(out.targetAccel), where).toBe(true);
        expect(out.targetAccel, where).toBeGreaterThanOrEqual(C.fullBrakeAccel);
        expect(out.targetAccel, where).toBeLessThanOrEqual(C.accMaxAccel);
        expect(out.ttc === -1 || (Number.isFinite(out.ttc) && out.ttc >= 0), where).toBe(true);
        expect(out.gap === -1 || Number.isFinite(out.gap), where).toBe(true);
        expect(Number.isFinite(out.requiredDecel) && out.requiredDecel >= 0, where).toBe(true);
        expect(PLAN_DECISIONS, where).toContain(out.decision);
        expect(PLAN_REASONS, where).toContain(out.reason);
        expect(Number.isInteger(out.aebStage) && out.aebStage >= 0 && out.aebStage <= 3, where).toBe(true);
        expect(out.leadId === -1 || ids.includes(out.leadId), where).toBe(true);
        // The threat is in this cycle's list, or the one AEB holds on to from before.
        expect(out.threatId === -1 || ids.includes(out.threatId) || out.threatId === prevThreat, where).toBe(
          true,
        );
        prevThreat = out.aebStage > 0 ? out.threatId : -1;
        // Contradictions: no AEB without a threat, no trajectory without a plan.
        if (out.aebStage >= 2) expect(['aeb', 'none'], where).toContain(out.decision);
        if (out.decision === 'aeb') expect(out.aebStage, where).toBeGreaterThanOrEqual(2);
        if (out.decision === 'none') expect(out.pointCount, where).toBe(0);
        expect(out.pointCount).toBeLessThanOrEqual(64);
        for (let i = 0; i < out.pointCount; i++) {
          const o = i * PLAN_POINT.stride;
          for (let k = 0; k < PLAN_POINT.stride; k++) expect(Number.isFinite(traj[o + k]!), where).toBe(true);
          expect(traj[o + PLAN_POINT.v]!, where).toBeGreaterThanOrEqual(0);
          expect(traj[o + PLAN_POINT.v]!, where).toBeLessThanOrEqual(C.maxEgoSpeedMps + 1e-3);
          expect(Math.hypot(traj[o + PLAN_POINT.x]!, traj[o + PLAN_POINT.y]!), where).toBeLessThanOrEqual(
            C.maxEgoSpeedMps * C.trajectoryHorizonS + 1,
          );
        }
        // Jerk: between plans at most 1 s apart, the command moves at most jerk × dt.
        const dt = Number(stamp - prevStamp) / 1e9;
        if (prevStamp >= 0n && dt >= 0 && dt <= 1) {
          const jerk =
            prevAeb || out.aebStage >= 2 || prevAccel < -C.accMaxDecel ? C.aebJerkMax : C.accJerkMax;
          expect(Math.abs(out.targetAccel - prevAccel), where).toBeLessThanOrEqual(jerk * dt + 1e-9);
        }
        prevAccel = out.targetAccel;
        prevStamp = stamp;
        prevAeb = out.aebStage >= 2;
      }
    }
  });
});

describe('planOutput', () => {
  it('maps the result onto the out/plan header fields and views the trajectory as the payload', () => {
    const out = plan(
      new Planner({ accEnabled: false }),
      [{ id: 3, ...CAR, x: carAtGap(8), y: 0 }],
      ego(12),
      0,
    );
    const traj = trajectory;
    const { header, payload } = planOutput(out, traj);
    expect(header).toEqual({
      frame: 'base_link',
      fields: PLAN_LAYOUT.fields,
      stride: PLAN_LAYOUT.stride,
      count: out.pointCount,
      decision: 'aeb',
      leadId: 3,
      targetAccel: out.targetAccel,
      ttc: out.ttc,
      aebStage: 'full',
      threatId: 3,
      gap: out.gap,
      requiredDecel: out.requiredDecel,
      reason: 'aeb_ttc',
    });
    expect(out.gap).toBeCloseTo(8, 4);
    expect(out.ttc).toBeCloseTo(8 / 12, 4);
    expect(out.requiredDecel).toBeCloseTo((12 * 12) / (2 * 8), 4);
    expect(payload.byteLength).toBe(out.pointCount * PLAN_LAYOUT.stride);
    expect(payload.buffer).toBe(traj.buffer);
  });
});

describe('checkPlannerConfig', () => {
  it('names a parameter out of range and a broken relation between parameters', () => {
    expect(() => new Planner({ accJerkMax: NaN })).toThrow(
      /accJerkMax: NaN is not allowed; expected a number in \[0.5, 20\]/,
    );
    expect(() => new Planner({ ttcFullS: 2 })).toThrow(/ttcFullS \(2\) < ttcPartialS \(1.6\)/);
    expect(() => checkPlannerConfig({ ...C, fullBrakeAccel: -3 })).toThrow(/full braking \(-3\)/);
    expect(() => checkPlannerConfig(C)).not.toThrow();
  });
});
