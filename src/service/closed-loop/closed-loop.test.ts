import { afterEach, describe, expect, it, vi } from 'vitest';
import { protocolGrid } from '../../sim/protocol-grid.js';
import { defaultPipelineSpec } from '../../smi/spec/pipeline-spec.js';
import { DEFAULT_ACTUATION_DELAY_MS, runClosedLoop } from './closed-loop-run.js';
import type { PlanCycle } from './outcome-monitor.js';
import {
  ACC_MIN_GAP_M,
  FALSE_ACTIVATION_SCENARIOS,
  caseSelected,
  judge,
  runCase,
  sweepCases,
  type RunMode,
  type SweepCase,
} from './sweep.js';

const spec = defaultPipelineSpec();
const cases = sweepCases(spec.sensors.map((s) => s.id));
const byId = (id: string): SweepCase => {
  const c = cases.find((x) => x.id === id);
  if (!c) throw new Error(`no case ${id}`);
  return c;
};
const DELAY_S = DEFAULT_ACTUATION_DELAY_MS / 1000;
/** Runs a case, for `durationS` of it (tests keep to the part where the action is). */
const run = (id: string, mode: RunMode, durationS?: number) =>
  runCase(byId(id), mode, spec, DELAY_S, undefined, undefined, durationS);

afterEach(() => vi.restoreAllMocks());

describe('closed loop on the scenario clock', () => {
  it('never reads a clock, and gives the same outcome bit for bit on every run', () => {
    const clock = (): never => {
      throw new Error('the closed loop read a clock');
    };
    vi.spyOn(Date, 'now').mockImplementation(clock);
    vi.spyOn(performance, 'now').mockImplementation(clock);
    vi.spyOn(process.hrtime, 'bigint').mockImplementation(clock);
    const c = byId('CCRb-6-12');
    const plans: PlanCycle[] = [];
    const once = (onPlan?: (p: PlanCycle) => void) =>
      runClosedLoop({
        scenario: c.scenario,
        rig: spec.sensors,
        maxTracks: spec.fusion.maxTracks,
        planning: { ...spec.planning, accEnabled: false, cruiseSpeedMps: c.scenario.ego.speed },
        actuationDelayS: DELAY_S,
        durationS: 6,
        onPlan,
      });
    const a = once((p) => plans.push({ ...p }));
    const b = once();
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    // A plan per trigger: radar_front at 20 Hz and lidar_top at 10 Hz over 6 s.
    expect(plans.length).toBeGreaterThan(170);
    expect(a.outcome.plans).toBe(plans.length);
    // AEB alone stops the ego behind the braking car.
    expect(a.outcome.collision).toBe(false);
    expect(a.outcome.aebOnsetS).toBeGreaterThan(3);
    expect(plans.some((p) => p.decision === 'aeb' && p.reason.startsWith('aeb_'))).toBe(true);
    expect(a.outcome.finalSpeed).toBeLessThan(0.05);
  });
});

// A sample of the sweep (the whole sweep is `smi-fusion simulate --closed-loop --sweep`).
describe('closed-loop targets, a sample of the sweep', () => {
  it.each([
    ['CCRs-50', 'aeb-only', 8],
    ['CPNA-25-60', 'aeb-only', 8],
    ['CPFA-50-40', 'aeb-only', 8],
    ['CCRm-80', 'acc', 11],
    ['cut-in-30kmh-30m', 'acc', 10],
  ] as const)('%s (%s) meets its target', (id, mode, durationS) => {
    const r = run(id, mode, durationS);
    const verdict = judge(byId(id), mode, r);
    expect(verdict.targetMet).toBe(true);
    const o = r.outcome;
    expect(o.collision).toBe(false);
    expect(o.peakDecel).toBeLessThanOrEqual(-spec.planning.fullBrakeAccel + 1e-9);
    expect(o.peakJerk).toBeLessThanOrEqual(spec.planning.aebJerkMax + 1e-6);
    expect(o.falseAeb).toBe(0);
    if (mode === 'aeb-only') {
      // AEB braked before the last moment at which full braking still avoids the target.
      expect(o.aebOnsetS).not.toBeNull();
      expect(o.aebMarginS).toBeGreaterThan(0.3);
    } else if (byId(id).carTarget) {
      expect(o.minGapM).toBeGreaterThanOrEqual(ACC_MIN_GAP_M);
    }
  });

  it.each([
    ['car-turning-off', 'acc', 10],
    ['pedestrian-along-kerb', 'aeb-only', 14],
  ] as const)(
    '%s (%s): no false AEB and no brake below -1 m/s² without a real threat',
    (id, mode, durationS) => {
      const o = run(id, mode, durationS).outcome;
      expect(o.falseActivations.filter((f) => f.kind !== 'warning')).toEqual([]);
      expect(o.falseAeb).toBe(0);
      expect(o.falseBrake).toBe(0);
      expect(o.collision).toBe(false);
      expect(o.noPlans).toBe(0);
    },
  );
});

describe('sweep cases', () => {
  it('holds the grid and the false-activation scenarios, and selects by prefix or family', () => {
    expect(cases).toHaveLength(protocolGrid().length + 7);
    expect(cases.filter((c) => caseSelected(c, ['CPNA'])).map((c) => c.id)).toEqual([
      'CPNA-25-20',
      'CPNA-25-30',
      'CPNA-25-40',
      'CPNA-25-50',
      'CPNA-25-60',
    ]);
    expect(cases.filter((c) => caseSelected(c, ['false-activation', 'ccrb-6'])).map((c) => c.id)).toEqual([
      'CCRb-6-12',
      'CCRb-6-40',
      ...FALSE_ACTIVATION_SCENARIOS,
    ]);
    expect(FALSE_ACTIVATION_SCENARIOS).toEqual(
      expect.arrayContaining(['overtaking', 'parked-cars-curve', 'car-turning-off', 'pedestrian-along-kerb']),
    );
  });
});
