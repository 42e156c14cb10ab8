import { ReflectiveStateCodec, type StateRecord } from '../pool/reflective-state-codec.js';
import { TypedArrayArena } from '../pool/typed-array-arena.js';
import { EGO, TRACK, TRACK_QUALITY, type PlanDecision, type PlanReason } from '../wire/layouts.js';
import { AccController } from './acc-controller.js';
import { AEB_CAUSES, Aeb, AebStage, type AebTarget } from './aeb.js';
import { CommandLimiter } from './command-limiter.js';
import { EgoPath } from './ego-path.js';
import { Lead, LeadSelector, Threat } from './lead-selector.js';
import { DEFAULT_PLANNER_CONFIG, checkPlannerConfig, type PlannerConfig } from './planner-config.js';
import { writeTrajectory } from './trajectory.js';

export type { PlannerConfig } from './planner-config.js';
export { DEFAULT_PLANNER_CONFIG } from './planner-config.js';

/** What one planning cycle works on. */
export interface PlanInput {
  /** `count` TRACKS_LAYOUT records in base_link at `stampNs`. */
  tracks: Float32Array;
  /** `count` TRACK_QUALITY records, in the same order. */
  quality: Float32Array;
  count: number;
  /** One EGO_LAYOUT record: the newest odometry. */
  ego: Float64Array;
  /** Time the tracks are valid at (the triggering measurement's stamp), ns; non-decreasing. */
  stampNs: bigint;
}

/** Result of one planning cycle; the caller owns the object (`createPlanResult`) and the planner fills it in. */
export interface PlanResult {
  decision: PlanDecision;
  /** Track id of the ACC lead, or -1. */
  leadId: number;
  /** Commanded longitudinal acceleration, m/s² (negative brakes): finite, in [fullBrakeAccel, accMaxAccel]. */
  targetAccel: number;
  /** Time to collision with the threat, s; -1 when nothing is closing. */
  ttc: number;
  /** PLAN_LAYOUT points written into the trajectory array (0 without a plan). */
  pointCount: number;
  /** AEB stage 0..3 (none, warning, partial, full braking; AEB_STAGES). */
  aebStage: number;
  /** Track id of the threat (the AEB stage's object, else the most urgent one), or -1. */
  threatId: number;
  /** Bumper-to-bumper gap to the lead along the path, m; -1 without a lead. */
  gap: number;
  /** Deceleration needed to avoid the threat, m/s² (0 without one). */
  requiredDecel: number;
  reason: PlanReason;
  /** Track records skipped this cycle as non-finite or implausible. */
  tracksImplausible: number;
}

/** A PlanResult to pass to `Planner.plan`. */
export function createPlanResult(): PlanResult {
  return {
    decision: 'none',
    leadId: -1,
    targetAccel: 0,
    ttc: -1,
    pointCount: 0,
    aebStage: 0,
    threatId: -1,
    gap: -1,
    requiredDecel: 0,
    reason: 'ego_invalid',
    tracksImplausible: 0,
  };
}

/** A planner's state between calls in typed arrays (see `Planner.saveSnapshot`). */
export type PlannerSnapshot = StateRecord;

/** Largest ego acceleration (m/s²) believed when seeding the jerk limit. */
const MAX_MEASURED_ACCEL = 20;

/**
 * Longitudinal planner: lead selection on the predicted path, ACC (time gap, set speed,
 * comfort limits), staged AEB, a jerk limit on the command, and a short trajectory under it.
 *
 * Decisions: `cruise` (no lead), `follow` (ACC on a lead), `brake` (ACC braking harder than
 * brakeDecisionAccel, or the lead is stopped), `aeb` (partial or full emergency braking),
 * `none` (no plan: the odometry is implausible; `reason` says so). With accEnabled false the
 * planner commands 0 unless AEB brakes, and reports follow/cruise.
 *
 * Whatever the input, every output is finite and the command stays within
 * [fullBrakeAccel, accMaxAccel]: implausible odometry is replaced by the last plausible record
 * for egoTimeoutS, then there is no plan; implausible track records are skipped (LeadSelector).
 * The planner keeps the AEB state, the last command and the last plausible odometry between
 * calls; nothing allocates per call.
 */
export class Planner {
  readonly config: Readonly<PlannerConfig>;
  private readonly path = new EgoPath();
  private readonly selector: LeadSelector;
  private readonly acc: AccController;
  private readonly aeb: Aeb;
  private readonly limiter = new CommandLimiter();
  private readonly lead = new Lead();
  private readonly threat = new Threat();
  private readonly held = new Threat();
  private readonly noTarget: AebTarget = { id: -1, ttc: Infinity, needDecel: 0, inCorridor: false };
  private epochNs: bigint | undefined;
  private lastStampNs = 0n;
  /** Last plausible odometry: speed, yaw rate, acceleration and its time (s). */
  private egoSpeed = 0;
  private egoYawRate = 0;
  private egoAccel = 0;
  private egoS = -Infinity;
  /** Every field of the planner and its parts but the configuration, for snapshots. */
  private readonly stateCodec: ReflectiveStateCodec;

  constructor(config: Partial<PlannerConfig> = {}) {
    this.config = { ...DEFAULT_PLANNER_CONFIG, ...config };
    checkPlannerConfig(this.config);
    this.selector = new LeadSelector(this.config);
    this.acc = new AccController(this.config);
    this.aeb = new Aeb(this.config);
    // Last: it lists the fields the constructor has made.
    this.stateCodec = new ReflectiveStateCodec(this, 'Planner', {
      skip: [this.config],
      skipPaths: ['stateCodec'],
      hints: {
        epochNs: { optional: 'bigint' },
        'aeb.cause': { enum: AEB_CAUSES },
        'aeb.lastCause': { enum: AEB_CAUSES },
      },
    });
  }

  /** The state's fields and their types, one per line: two planners' snapshots fit each other when these match. */
  get stateLayout(): string {
    return this.stateCodec.description;
  }

  /**
   * Storage for `saveSnapshot`, laid out over `arena` (a region of a SharedArrayBuffer, so that
   * another thread can restore from it; an ordinary one without an arena).
   */
  createSnapshot(arena: TypedArrayArena = TypedArrayArena.measuring('PlannerSnapshot')): PlannerSnapshot {
    return this.stateCodec.createRecord(arena);
  }

  /**
   * Saves the state kept between calls (AEB stage and timers, the limiter's last command, lead
   * and threat, stamps, last plausible odometry: every field of the planner and its parts, found
   * by reflection, but the configuration), so that a fresh planner with the same configuration
   * plans bit for bit as this one from then on after `restoreSnapshot`. No allocation; throws
   * naming a field whose type changed.
   */
  saveSnapshot(s: PlannerSnapshot): void {
    this.stateCodec.save(s);
  }

  /** Takes over the state saved by `saveSnapshot` (by this planner or another). No allocation. */
  restoreSnapshot(s: PlannerSnapshot): void {
    this.stateCodec.restore(s);
  }

  /**
   * Changes parameters of a running planner (a hot reload), checked as at construction (a bad
   * combination throws and changes nothing); its state (lead, AEB stage, command) is kept.
   */
  retune(config: Partial<PlannerConfig>): void {
    const next = { ...this.config, ...config };
    checkPlannerConfig(next);
    // In place: the lead selector, ACC and AEB hold this object.
    Object.assign(this.config as PlannerConfig, config);
  }

  /** Plans one cycle: writes the result into `out` and PLAN_LAYOUT points into `trajectory`. */
  plan(input: PlanInput, out: PlanResult, trajectory: Float32Array): void {
    const { tracks, quality, count } = input;
    if (
      !Number.isInteger(count) ||
      count < 0 ||
      count * TRACK.stride > tracks.length ||
      count * TRACK_QUALITY.stride > quality.length
    ) {
      throw new Error(
        `Planner: count ${count} exceeds the views' ${Math.floor(tracks.length / TRACK.stride)} track and ` +
          `${Math.floor(quality.length / TRACK_QUALITY.stride)} quality records`,
      );
    }
    const c = this.config;
    const tS = this.timeOf(input.stampNs);
    const egoState = this.takeEgo(input.ego, tS);
    const planned = egoState !== 'ego_invalid';
    const speed = this.egoSpeed;

    const lead = this.lead;
    const threat = this.threat;
    const held = this.held;
    if (planned) {
      this.path.setFromMotion(speed, this.egoYawRate, c.minSpeedForCurvature, c.maxCurvature);
      this.selector.select(tracks, quality, count, speed, this.path, lead, threat, this.aeb.threatId, held);
    } else {
      lead.index = -1;
      lead.id = -1;
      threat.clear();
      held.clear();
    }

    let wanted = 0;
    let decision: PlanDecision = lead.index >= 0 ? 'follow' : 'cruise';
    if (c.accEnabled && planned) {
      wanted =
        lead.index >= 0 ? this.acc.follow(speed, lead.gap, lead.speed, lead.accel) : this.acc.cruise(speed);
      if (lead.index >= 0 && (wanted < c.brakeDecisionAccel || lead.speed < c.leadStoppedSpeed))
        decision = 'brake';
    }
    const aeb = this.aeb;
    const aebAccel = aeb.update(
      tS,
      planned ? speed : undefined,
      -this.limiter.last,
      planned ? threat : this.noTarget,
      held,
    );
    const braking = aeb.stage >= AebStage.partial;
    if (braking) {
      decision = 'aeb';
      if (aebAccel < wanted) wanted = aebAccel;
    }
    if (!planned) decision = 'none';
    // Emergency braking builds up (and is let go of) at the brake's rate, the rest at comfort jerk.
    const jerk = braking || this.limiter.last < -c.accMaxDecel ? c.aebJerkMax : c.accJerkMax;
    const accel = this.limiter.apply(tS, wanted, jerk, this.egoAccel, c.fullBrakeAccel, c.accMaxAccel);

    // The reported threat: the AEB stage's object (this cycle's values; none while held through
    // a loss), else the most urgent object.
    const aebObject = aeb.threatId === threat.id ? threat : aeb.threatId === held.id ? held : undefined;
    const ttc = aeb.stage === AebStage.none ? threat.ttc : (aebObject?.ttc ?? Infinity);
    out.decision = decision;
    out.leadId = lead.index >= 0 ? lead.id : -1;
    out.targetAccel = accel;
    out.ttc = ttc < Infinity ? ttc : -1;
    out.aebStage = aeb.stage;
    out.threatId = aeb.stage > AebStage.none ? aeb.threatId : threat.id;
    out.gap = lead.index >= 0 ? lead.gap : -1;
    out.requiredDecel = aeb.stage > AebStage.none ? aeb.needDecel : threat.needDecel;
    out.reason = this.reasonFor(egoState, decision, lead);
    out.tracksImplausible = planned ? this.selector.stats.implausible : 0;
    out.pointCount = planned
      ? writeTrajectory(
          speed,
          accel,
          this.path.curvature,
          c.accEnabled ? Math.max(c.cruiseSpeedMps, speed) : speed,
          c.trajectoryHorizonS,
          c.trajectoryStepS,
          trajectory,
        )
      : 0;
  }

  /** Forgets the AEB state, the last command and the odometry (e.g. after a replay jump). */
  reset(): void {
    this.aeb.reset();
    this.limiter.reset();
    this.epochNs = undefined;
    this.lastStampNs = 0n;
    this.egoS = -Infinity;
  }

  /** Seconds since the first stamp; stamps going backwards (a replay jump) reset the planner. */
  private timeOf(stampNs: bigint): number {
    if (this.epochNs === undefined || stampNs < this.lastStampNs) {
      this.reset();
      this.epochNs = stampNs;
    }
    this.lastStampNs = stampNs;
    return Number(stampNs - this.epochNs!) / 1e9;
  }

  /**
   * Takes the odometry record if plausible (finite, speed in [-1, maxEgoSpeedMps], yaw rate
   * within maxEgoYawRate), else keeps the last plausible one for egoTimeoutS.
   */
  private takeEgo(ego: Float64Array, tS: number): 'ok' | 'ego_stale' | 'ego_invalid' {
    const c = this.config;
    const v = ego.length >= EGO.stride ? ego[EGO.speed]! : NaN;
    const w = ego.length >= EGO.stride ? ego[EGO.yawRate]! : NaN;
    if (v >= -1 && v <= c.maxEgoSpeedMps && Math.abs(w) <= c.maxEgoYawRate) {
      const a = ego[EGO.accel]!;
      this.egoSpeed = v > 0 ? v : 0;
      this.egoYawRate = w;
      this.egoAccel = Math.abs(a) <= MAX_MEASURED_ACCEL ? a : 0;
      this.egoS = tS;
      return 'ok';
    }
    return tS - this.egoS <= c.egoTimeoutS ? 'ego_stale' : 'ego_invalid';
  }

  private reasonFor(
    egoState: 'ok' | 'ego_stale' | 'ego_invalid',
    decision: PlanDecision,
    lead: Lead,
  ): PlanReason {
    if (egoState !== 'ok') return egoState;
    const aeb = this.aeb;
    if (aeb.stage >= AebStage.partial) {
      return aeb.cause === 'hold'
        ? 'aeb_hold'
        : aeb.cause === 'required_decel'
          ? 'aeb_required_decel'
          : 'aeb_ttc';
    }
    if (aeb.stage === AebStage.warn) return 'aeb_warning';
    if (!this.config.accEnabled) return 'acc_off';
    if (lead.index < 0) return 'set_speed';
    if (decision === 'brake' && lead.speed < this.config.leadStoppedSpeed) return 'lead_stopped';
    return lead.entering ? 'lead_entering' : 'lead';
  }
}
