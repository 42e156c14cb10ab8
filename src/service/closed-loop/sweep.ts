/**
 * The closed-loop sweep: the protocol grid (src/sim/protocol-grid.ts) and the false-activation
 * scenarios, each with ACC on and with AEB alone, and each run's outcome checked against the
 * targets of issue 8 (README, "Closed loop").
 */
import { protocolGrid, type ProtocolCase } from '../../sim/protocol-grid.js';
import { loadScenarioFile, type Scenario } from '../../sim/index.js';
import type { PipelineSpec } from '../../smi/spec/pipeline-spec.js';
import type { TrackerConfig } from '../../fusion/tracker-config.js';
import { resolveScenarioFile } from '../simulator-source.js';
import { runClosedLoop, type ClosedLoopResult } from './closed-loop-run.js';

/** Shipped scenarios in which nothing should make the ego brake hard or trigger AEB. */
export const FALSE_ACTIVATION_SCENARIOS = [
  'highway-following',
  'urban-clutter',
  'cut-in',
  'overtaking',
  'parked-cars-curve',
  'car-turning-off',
  'pedestrian-along-kerb',
] as const;

export type RunMode = 'acc' | 'aeb-only';

/** One case of the sweep. */
export interface SweepCase {
  id: string;
  /** Protocol family, `false-activation`, or `scenario` (any other scenario: no target). */
  family: ProtocolCase['family'] | 'false-activation' | 'scenario';
  carTarget: boolean;
  scenario: Scenario;
}

/** A run with its target verdict. */
export interface SweepRow extends ClosedLoopResult {
  id: string;
  family: SweepCase['family'];
  /** null when no target applies to this case and mode. */
  targetMet: boolean | null;
  /** What the target is, or why it was missed. */
  target: string;
}

/** The sweep's cases: the protocol grid, then the false-activation scenarios. */
export function sweepCases(rigSensorIds: readonly string[]): SweepCase[] {
  const cases: SweepCase[] = protocolGrid().map((c) => ({
    id: c.id,
    family: c.family,
    carTarget: c.carTarget,
    scenario: c.scenario,
  }));
  for (const name of FALSE_ACTIVATION_SCENARIOS) {
    cases.push({
      id: name,
      family: 'false-activation',
      carTarget: false,
      scenario: loadScenarioFile(resolveScenarioFile(name), { sensorIds: rigSensorIds }),
    });
  }
  return cases;
}

/** Minimum gap to the car ahead that ACC must keep in every car case, m. */
export const ACC_MIN_GAP_M = 2;
const AEB_TARGET_FAMILIES: ReadonlySet<string> = new Set(['CCRs', 'CCRm', 'CCRb', 'CPNA', 'CPFA']);

/**
 * The targets: AEB alone avoids every CCR, CPNA and CPFA case; with ACC on nothing is hit and
 * every car case keeps at least 2 m; the false-activation scenarios see no false AEB and no
 * brake command below -1 m/s² without a real threat (both modes).
 */
export function judge(
  c: SweepCase,
  mode: RunMode,
  r: ClosedLoopResult,
): Pick<SweepRow, 'targetMet' | 'target'> {
  const o = r.outcome;
  if (c.family === 'scenario') return { targetMet: null, target: '-' };
  if (c.family === 'false-activation') {
    const ok = o.falseAeb === 0 && o.falseBrake === 0 && !o.collision;
    return {
      targetMet: ok,
      target: ok
        ? 'no false AEB or brake'
        : `${o.falseAeb} false AEB, ${o.falseBrake} false brake${o.collision ? ', collision' : ''}`,
    };
  }
  if (mode === 'aeb-only') {
    if (!AEB_TARGET_FAMILIES.has(c.family)) return { targetMet: null, target: '-' };
    return o.collision
      ? { targetMet: false, target: `collision at ${o.impactSpeedKmh!.toFixed(1)} km/h` }
      : { targetMet: true, target: 'no collision' };
  }
  if (o.collision) return { targetMet: false, target: `collision at ${o.impactSpeedKmh!.toFixed(1)} km/h` };
  if (c.carTarget) {
    const gap = o.minGapM ?? Infinity;
    return gap >= ACC_MIN_GAP_M
      ? { targetMet: true, target: `gap >= ${ACC_MIN_GAP_M} m` }
      : { targetMet: false, target: `gap ${gap.toFixed(2)} m < ${ACC_MIN_GAP_M} m` };
  }
  return { targetMet: true, target: 'no collision' };
}

export interface SweepOptions {
  spec: PipelineSpec;
  modes: readonly RunMode[];
  /** Case id prefixes or family names to run (default: all). */
  only?: readonly string[];
  actuationDelayS: number;
  /** ACC set speed; default: each scenario's ego speed. */
  setSpeedMps?: number;
  /** Overrides every scenario's seed. */
  seed?: number;
  /** Stop each run after this much scenario time, s. */
  durationS?: number;
  /** Called after each run (progress). */
  onRow?: (row: SweepRow, index: number, total: number) => void;
}

/** Whether a case is selected by `only` (case id prefix or family, case-insensitive). */
export function caseSelected(c: SweepCase, only: readonly string[] | undefined): boolean {
  if (!only || only.length === 0) return true;
  const id = c.id.toLowerCase();
  return only.some((o) => {
    const k = o.toLowerCase();
    return id.startsWith(k) || c.family.toLowerCase() === k;
  });
}

/** Runs one case in one mode with the spec's rig and planner parameters. */
export function runCase(
  c: SweepCase,
  mode: RunMode,
  spec: PipelineSpec,
  actuationDelayS: number,
  setSpeedMps?: number,
  seed?: number,
  durationS?: number,
): ClosedLoopResult {
  return runClosedLoop({
    seed,
    durationS,
    scenario: c.scenario,
    rig: spec.sensors,
    maxTracks: spec.fusion.maxTracks,
    tracker: spec.stages.find((s) => s.type === 'tracker')?.params as Partial<TrackerConfig> | undefined,
    planning: {
      ...spec.planning,
      accEnabled: mode === 'acc',
      cruiseSpeedMps: setSpeedMps ?? c.scenario.ego.speed,
    },
    actuationDelayS,
  });
}

/** Runs the sweep, one run after the other (each deterministic); returns the rows in order. */
export function runSweep(o: SweepOptions): SweepRow[] {
  const cases = sweepCases(o.spec.sensors.map((s) => s.id)).filter((c) => caseSelected(c, o.only));
  const rows: SweepRow[] = [];
  const total = cases.length * o.modes.length;
  for (const mode of o.modes) {
    for (const c of cases) {
      const r = runCase(c, mode, o.spec, o.actuationDelayS, o.setSpeedMps, o.seed, o.durationS);
      const row: SweepRow = { ...r, id: c.id, family: c.family, ...judge(c, mode, r) };
      rows.push(row);
      o.onRow?.(row, rows.length, total);
    }
  }
  return rows;
}
