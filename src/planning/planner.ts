import { EGO, TRACK, type PlanDecision } from '../wire/layouts.js';
import { AccController } from './acc-controller.js';
import { Aeb, AebStage } from './aeb.js';
import { EgoPath } from './ego-path.js';
import { Lead, LeadSelector, Threat } from './lead-selector.js';
import { DEFAULT_PLANNER_CONFIG, type PlannerConfig } from './planner-config.js';
import { writeTrajectory } from './trajectory.js';

export type { PlannerConfig } from './planner-config.js';
export { DEFAULT_PLANNER_CONFIG } from './planner-config.js';

/** Result of one planning cycle; the caller owns the object and the planner fills it in. */
export interface PlanResult {
  decision: PlanDecision;
  /** Track id of the ACC lead, or -1. */
  leadId: number;
  /** Commanded longitudinal acceleration, m/s² (negative brakes). */
  targetAccel: number;
  /** Time to collision with the most urgent object in the ego's way, s; -1 when none is closing. */
  ttc: number;
  /** PLAN_LAYOUT points written into the trajectory array. */
  pointCount: number;
  /** AEB stage 0..3 (none, warning, partial, full braking); optional for callers' objects. */
  aebStage?: number;
  /** Track id of that most urgent object, or -1. */
  threatId?: number;
  /** Bumper-to-bumper gap to the lead along the path, m; -1 without a lead. */
  leadGap?: number;
}

/**
 * Longitudinal planner: lead selection on the predicted path, ACC (time gap, set speed,
 * comfort limits), staged AEB, and a short trajectory under the commanded acceleration.
 *
 * Decisions: `cruise` (no lead), `follow` (ACC on a lead), `brake` (ACC braking harder than
 * brakeDecisionAccel, or the lead is stopped), `aeb` (partial or full emergency braking).
 * With accEnabled false the planner commands 0 unless AEB brakes, and reports follow/cruise.
 * The planner keeps only the AEB stage between calls; nothing allocates per call.
 */
export class Planner {
  readonly config: Readonly<PlannerConfig>;
  private readonly path = new EgoPath();
  private readonly selector: LeadSelector;
  private readonly acc: AccController;
  private readonly aeb: Aeb;
  private readonly lead = new Lead();
  private readonly threat = new Threat();

  constructor(config: Partial<PlannerConfig> = {}) {
    this.config = { ...DEFAULT_PLANNER_CONFIG, ...config };
    const c = this.config;
    if (!(c.ttcFullS < c.ttcPartialS && c.ttcPartialS < c.ttcWarnS)) {
      throw new Error(
        `Planner: need ttcFullS (${c.ttcFullS}) < ttcPartialS (${c.ttcPartialS}) < ttcWarnS (${c.ttcWarnS})`,
      );
    }
    if (!(c.trajectoryStepS > 0 && c.trajectoryHorizonS >= 0)) {
      throw new Error(
        `Planner: bad trajectory horizon ${c.trajectoryHorizonS} s / step ${c.trajectoryStepS} s`,
      );
    }
    this.selector = new LeadSelector(this.config);
    this.acc = new AccController(this.config);
    this.aeb = new Aeb(this.config);
  }

  /**
   * Plans one cycle. `tracks` holds `trackCount` TRACKS_LAYOUT records (base_link), `ego` one
   * EGO_LAYOUT record. Writes the result into `out` and PLAN_LAYOUT points into `trajectory`.
   */
  plan(
    tracks: Float32Array,
    trackCount: number,
    ego: Float64Array,
    out: PlanResult,
    trajectory: Float32Array,
  ): void {
    if (!Number.isInteger(trackCount) || trackCount < 0 || trackCount * TRACK.stride > tracks.length) {
      throw new Error(
        `Planner: trackCount ${trackCount} exceeds the view's ${Math.floor(tracks.length / TRACK.stride)} records`,
      );
    }
    const c = this.config;
    const rawSpeed = ego[EGO.speed]!;
    const speed = Number.isFinite(rawSpeed) && rawSpeed > 0 ? rawSpeed : 0;
    this.path.setFromMotion(speed, ego[EGO.yawRate]!, c.minSpeedForCurvature, c.maxCurvature);
    const lead = this.lead;
    const threat = this.threat;
    this.selector.select(tracks, trackCount, speed, this.path, lead, threat);

    let accel = 0;
    let decision: PlanDecision = lead.index >= 0 ? 'follow' : 'cruise';
    if (c.accEnabled) {
      accel =
        lead.index >= 0 ? this.acc.follow(speed, lead.gap, lead.speed, lead.accel) : this.acc.cruise(speed);
      if (lead.index >= 0 && (accel < c.brakeDecisionAccel || lead.speed < c.leadStoppedSpeed))
        decision = 'brake';
    }
    const aebAccel = this.aeb.update(speed, threat.id, threat.ttc, threat.needDecel);
    if (this.aeb.stage >= AebStage.partial) {
      decision = 'aeb';
      if (aebAccel < accel) accel = aebAccel;
    }

    out.decision = decision;
    out.leadId = lead.id;
    out.targetAccel = accel;
    out.ttc = threat.ttc < Infinity ? threat.ttc : -1;
    out.aebStage = this.aeb.stage;
    out.threatId = threat.id;
    out.leadGap = lead.index >= 0 ? lead.gap : -1;
    out.pointCount = writeTrajectory(
      speed,
      accel,
      this.path.curvature,
      c.accEnabled ? Math.max(c.cruiseSpeedMps, speed) : speed,
      c.trajectoryHorizonS,
      c.trajectoryStepS,
      trajectory,
    );
  }

  /** Forgets the AEB stage (e.g. after a replay jump). */
  reset(): void {
    this.aeb.reset();
  }
}
