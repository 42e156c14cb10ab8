/**
 * The closed loop on the scenario clock: the simulator, the tracker and the planner run in this
 * thread, one message at a time, and the plan's command is fed back to the simulated ego. The
 * same fusion (`fuseMeasurement`, `MultiSensorTracker`) and planning (`Planner`) code as the
 * service, the same rule as the service's scheduler in deterministic replay (every message fused
 * as it comes, in stamp order, and a plan after each); no wall clock, no threads, so a run's
 * outcome is the same, bit for bit, on a busy machine and an idle one.
 */
import { fuseMeasurement } from '../../fusion/measurement-dispatch.js';
import { MultiSensorTracker } from '../../fusion/multi-sensor-tracker.js';
import type { TrackerConfig } from '../../fusion/tracker-config.js';
import { Planner, createPlanResult, type PlannerConfig } from '../../planning/planner.js';
import { DriveSimulator, createSimMessage, type Scenario } from '../../sim/index.js';
import { EGO, PLAN_POINT, TRACK, TRACK_QUALITY } from '../../wire/layouts.js';
import type { SensorConfig } from '../../wire/rig.js';
import { OutcomeMonitor, type PlanCycle, type RunOutcome } from './outcome-monitor.js';

export interface ClosedLoopOptions {
  scenario: Scenario;
  rig: readonly SensorConfig[];
  maxTracks: number;
  /** The tracker stage's parameters (`spec.stages[tracker].params`), over the defaults. */
  tracker?: Readonly<Partial<TrackerConfig>>;
  /** The planner's configuration; `accEnabled: false` is the AEB-only mode. */
  planning: Readonly<PlannerConfig>;
  /** Overrides the scenario's seed. */
  seed?: number;
  /**
   * Scenario time from the triggering measurement's capture to its plan's command taking effect
   * on the simulated ego, s (the pipeline's processing and the actuator's dead time).
   */
  actuationDelayS: number;
  /** Stop after this much scenario time, s (default: the scenario's duration). */
  durationS?: number;
  /**
   * Called with every plan as applied, and the tracks (TRACKS_LAYOUT) and their quality
   * (TRACK_QUALITY) it was made from, `count` records (tests, traces; valid during the call).
   */
  onPlan?: (cycle: Readonly<PlanCycle>, tracks: Float32Array, quality: Float32Array, count: number) => void;
}

export interface ClosedLoopResult {
  scenario: string;
  mode: 'acc' | 'aeb-only';
  seed: number;
  /** Scenario time covered, s (to the first contact, or the end). */
  simulatedS: number;
  outcome: RunOutcome;
}

/**
 * Default capture → command-in-effect time, ms: the pipeline's e2e budget allowance plus an
 * actuator's dead time, a conservative figure (the service's own critical e2e is a few ms).
 */
export const DEFAULT_ACTUATION_DELAY_MS = 100;

/** Longest gap in a command queue: plans in flight within the actuation delay. */
const MAX_IN_FLIGHT = 256;

/**
 * Runs one scenario in closed loop and returns its outcome. With ACC on the plan's command
 * drives the ego from the first plan on. AEB only: the ego follows its script (the driver) until
 * AEB first brakes; from then on the planner's command holds (the driver keeps off the pedals,
 * as in an NCAP AEB test, so a stopped ego stays stopped). The run ends at the first contact.
 */
export function runClosedLoop(o: ClosedLoopOptions): ClosedLoopResult {
  const sim = new DriveSimulator(o.scenario, o.rig, { seed: o.seed });
  const tracker = new MultiSensorTracker(o.rig, { ...o.tracker, maxTracks: o.maxTracks });
  const planner = new Planner(o.planning);
  const monitor = new OutcomeMonitor(sim, planner.config);

  const endNs =
    o.durationS !== undefined
      ? BigInt(Math.round(Math.min(o.durationS, o.scenario.duration) * 1e9))
      : sim.durationNs;
  const delayNs = BigInt(Math.round(o.actuationDelayS * 1e9));

  const tracks = new Float32Array(o.maxTracks * TRACK.stride);
  const quality = new Float32Array(o.maxTracks * TRACK_QUALITY.stride);
  const trajectory = new Float32Array(64 * PLAN_POINT.stride);
  const ego = new Float64Array(EGO.stride);
  const result = createPlanResult();
  const f32 = new Map<ArrayBufferLike, Float32Array>();
  const f64 = new Map<ArrayBufferLike, Float64Array>();
  // Commands in flight: effective time and acceleration (NaN = hand back to the script).
  const dueNs = new BigInt64Array(MAX_IN_FLIGHT);
  const dueAccel = new Float64Array(MAX_IN_FLIGHT);
  let head = 0;
  let tail = 0;
  let engaged = o.planning.accEnabled;
  const msg = createSimMessage();
  const cycle: PlanCycle = {
    tS: 0,
    decision: 'none',
    aebStage: 0,
    targetAccel: 0,
    ttc: -1,
    leadId: -1,
    threatId: -1,
    reason: 'ego_invalid',
  };

  for (;;) {
    const next = sim.peekNextNs();
    if (next === undefined || next >= endNs) break;
    while (head !== tail && dueNs[head % MAX_IN_FLIGHT]! <= next) {
      const k = head % MAX_IN_FLIGHT;
      sim.advanceTo(dueNs[k]!);
      const a = dueAccel[k]!;
      sim.setEgoAccelCommand(Number.isNaN(a) ? null : a);
      head++;
    }
    if (sim.collision) break;
    sim.next(msg);
    if (sim.collision) break;
    const buf = msg.payload.buffer;
    let v32 = f32.get(buf);
    let v64 = f64.get(buf);
    if (!v32 || !v64) {
      v32 = new Float32Array(buf);
      v64 = new Float64Array(buf, 0, buf.byteLength >> 3);
      f32.set(buf, v32);
      f64.set(buf, v64);
    }
    fuseMeasurement(tracker, msg.kind, msg.sensorIndex, v32, v64, msg.payload.byteLength, msg.tNs);
    if (msg.kind === 'ego') {
      ego.set(v64.subarray(0, EGO.stride));
      monitor.sample();
    }
    const count = tracker.writeTracks(msg.tNs, tracks, quality);
    planner.plan({ tracks, quality, count, ego, stampNs: msg.tNs }, result, trajectory);
    if (!engaged && result.targetAccel < 0) engaged = true;
    if (tail - head >= MAX_IN_FLIGHT) throw new Error('closed loop: too many commands in flight');
    dueNs[tail % MAX_IN_FLIGHT] = msg.tNs + delayNs;
    dueAccel[tail % MAX_IN_FLIGHT] = engaged ? result.targetAccel : NaN;
    tail++;
    cycle.tS = Number(msg.tNs) / 1e9;
    cycle.decision = result.decision;
    cycle.aebStage = result.aebStage;
    cycle.targetAccel = result.targetAccel;
    cycle.ttc = result.ttc;
    cycle.leadId = result.leadId;
    cycle.threatId = result.threatId;
    cycle.reason = result.reason;
    monitor.plan(cycle);
    o.onPlan?.(cycle, tracks, quality, count);
  }
  if (sim.collision) monitor.collided();
  return {
    scenario: o.scenario.name,
    mode: o.planning.accEnabled ? 'acc' : 'aeb-only',
    seed: sim.seed,
    simulatedS: Number(sim.nowNs) / 1e9,
    outcome: monitor.finish(),
  };
}
