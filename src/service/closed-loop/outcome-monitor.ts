/**
 * Outcomes of one closed-loop run, computed from the simulator's ground truth (never from the
 * planner's own view): collision, gaps, TTC, braking, warning time, AEB onset against the last
 * possible brake point, and false activations. Pure and deterministic: it only reads the
 * simulator's state at the times it is handed.
 */
import { EgoPath } from '../../planning/ego-path.js';
import type { PlannerConfig } from '../../planning/planner-config.js';
import { EGO_BOX, GT, type DriveSimulator } from '../../sim/index.js';
import { AEB_STAGES, EGO, type PlanDecision, type PlanReason } from '../../wire/layouts.js';

/** One plan as the loop applied it. */
export interface PlanCycle {
  /** Stamp of the plan (the triggering measurement's capture), s of scenario time. */
  tS: number;
  decision: PlanDecision;
  /** 0..3 (AEB_STAGES). */
  aebStage: number;
  targetAccel: number;
  ttc: number;
  leadId: number;
  threatId: number;
  reason: PlanReason;
}

/** A brake, AEB or warning that started (or escalated) without a real threat (see OutcomeMonitor). */
export interface FalseActivation {
  kind: 'aeb' | 'brake' | 'warning';
  /** Start of the episode, s. */
  tS: number;
  /** The command when it started, m/s². */
  accel: number;
  reason: PlanReason;
}

export interface RunOutcome {
  collision: boolean;
  /** Ego speed at impact, km/h; null without a collision. */
  impactSpeedKmh: number | null;
  /** Closing speed at impact (ego minus object, along the ego's heading), km/h. */
  impactRelativeSpeedKmh: number | null;
  /** Share of the ego's width overlapping the object at impact, 0..1. */
  impactOverlap: number | null;
  /** Scenario id of the object hit. */
  collisionActor: string | null;
  collisionS: number | null;
  /** Smallest bumper-to-bumper gap to an object ahead overlapping the ego's width on its path, m. */
  minGapM: number | null;
  /** Smallest time to collision with such an object (ego and object at constant speed), s. */
  minTtcS: number | null;
  /** Strongest deceleration of the ego (true acceleration), m/s² (positive). */
  peakDecel: number;
  /** Largest rate of change of the command between consecutive plans, m/s³. */
  peakJerk: number;
  /**
   * First forward collision warning (AEB stage warning or above), s; and the true time to
   * contact then (the ego holding its speed, the actors on their scripts).
   */
  firstWarningS: number | null;
  warningTtcS: number | null;
  /** First AEB braking (stage partial or full), s. */
  aebOnsetS: number | null;
  /**
   * At AEB onset, how long the ego could still have held its speed and avoided every contact
   * by braking at fullBrakeAccel (the last possible brake point, after onset), s; 0 when it was
   * already too late; null when there was no AEB or the ego was on no collision course.
   */
  aebMarginS: number | null;
  falseAeb: number;
  falseBrake: number;
  falseWarning: number;
  falseActivations: FalseActivation[];
  /** Ego speed at the end of the run, m/s. */
  finalSpeed: number;
  plans: number;
  /** Plans with decision `none`. */
  noPlans: number;
}

/** Lateral margin of the corridor in which an object is a real threat, m. */
const THREAT_MARGIN_M = 0.5;
/** How far ahead a real threat is looked for (the actors' scripted future), s, and the step. */
const THREAT_STEP_S = 0.1;
const THREAT_STEPS = 41;
/** A command below this (m/s²) is a brake command for the false-activation count. */
export const BRAKE_COMMAND_ACCEL = -1;
/** Step of the last-brake-point search's motion prediction, s, and its horizon. */
const LPB_STEP_S = 0.01;
const LPB_HORIZON_S = 6;
const LPB_STEPS = Math.round(LPB_HORIZON_S / LPB_STEP_S) + 1;
/** Activation severities, in order. */
const SEVERITY = { warning: 1, brake: 2, aeb: 3 } as const;
/** Ego speed below which it stands still (m/s). */
const STANDSTILL_SPEED = 0.1;
/** Closing speed below which no TTC is computed (m/s), as the planner. */
const MIN_CLOSING = 0.5;

/** Ground-truth actors in the ego's path coordinates at one instant. */
interface PathActors {
  n: number;
  s: Float64Array;
  d: Float64Array;
  vAlong: Float64Array;
  vAcross: Float64Array;
  aAlong: Float64Array;
  halfAlong: Float64Array;
  halfAcross: Float64Array;
}

/**
 * Watches a closed-loop run. Call `sample` at every odometry message, `plan` at every plan,
 * `collided` once at the first contact, and `finish` at the end.
 *
 * A real threat, for the false-activation counts, is judged from ground truth at the plan's
 * time, over 4 s, the ego holding its speed along its true path (its yaw rate / speed), the
 * actors either on their scripted future or at their present velocity (braking ones braking to
 * a stop; what could be known then): for AEB braking and warnings, an object the ego would
 * touch (within 0.5 m of its width); for brake commands below -1 m/s², an object in that
 * corridor that the ego would come closer to than the ACC's desired gap (standstill gap + time
 * gap × ego speed). An activation episode (consecutive plans with a warning, a brake command
 * or AEB) is judged when it starts and each time it escalates; holding the brake at standstill
 * is not an activation.
 */
export class OutcomeMonitor {
  private readonly gt: Float32Array;
  private readonly ego = new Float64Array(EGO.stride);
  private readonly path = new EgoPath();
  private readonly actors: PathActors;
  private readonly out: RunOutcome = {
    collision: false,
    impactSpeedKmh: null,
    impactRelativeSpeedKmh: null,
    impactOverlap: null,
    collisionActor: null,
    collisionS: null,
    minGapM: null,
    minTtcS: null,
    peakDecel: 0,
    peakJerk: 0,
    firstWarningS: null,
    warningTtcS: null,
    aebOnsetS: null,
    aebMarginS: null,
    falseAeb: 0,
    falseBrake: 0,
    falseWarning: 0,
    falseActivations: [],
    finalSpeed: 0,
    plans: 0,
    noPlans: 0,
  };
  private lastPlanS = -Infinity;
  private lastAccel = 0;
  /** Severity of the activation episode under way (0: none). */
  private episodeLevel = 0;
  private readonly threatTable = emptyFuture();
  private readonly lpbTable = emptyFuture();

  constructor(
    private readonly sim: DriveSimulator,
    private readonly cfg: Readonly<PlannerConfig>,
  ) {
    const n = sim.actorCount;
    this.gt = new Float32Array(Math.max(1, n) * GT.stride);
    const f = (): Float64Array => new Float64Array(n);
    this.actors = {
      n: 0,
      s: f(),
      d: f(),
      vAlong: f(),
      vAcross: f(),
      aAlong: f(),
      halfAlong: f(),
      halfAcross: f(),
    };
  }

  /** Ground truth now: minimum gap and TTC, peak deceleration. */
  sample(): void {
    const a = this.load();
    const v = this.ego[EGO.speed]!;
    const decel = -this.ego[EGO.accel]!;
    if (decel > this.out.peakDecel) this.out.peakDecel = decel;
    for (let i = 0; i < a.n; i++) {
      if (Math.abs(a.d[i]!) >= EGO_BOX.halfWidth + a.halfAcross[i]!) continue;
      const gap = a.s[i]! - a.halfAlong[i]! - EGO_BOX.front;
      if (a.s[i]! + a.halfAlong[i]! < EGO_BOX.rear) continue; // behind the ego
      if (this.out.minGapM === null || gap < this.out.minGapM) this.out.minGapM = gap;
      const closing = v - a.vAlong[i]!;
      if (closing >= MIN_CLOSING && gap > 0) {
        const ttc = gap / closing;
        if (this.out.minTtcS === null || ttc < this.out.minTtcS) this.out.minTtcS = ttc;
      }
    }
  }

  /** A plan the loop applies: warning and AEB times, jerk, false activations. */
  plan(p: Readonly<PlanCycle>): void {
    const o = this.out;
    o.plans++;
    if (p.decision === 'none') o.noPlans++;
    if (p.tS > this.lastPlanS) {
      const jerk = Math.abs(p.targetAccel - this.lastAccel) / (p.tS - this.lastPlanS);
      if (jerk > o.peakJerk) o.peakJerk = jerk;
    }
    this.lastPlanS = p.tS;
    this.lastAccel = p.targetAccel;
    const aeb = p.aebStage >= AEB_STAGES.indexOf('partial');
    const level = aeb
      ? SEVERITY.aeb
      : p.targetAccel < BRAKE_COMMAND_ACCEL
        ? SEVERITY.brake
        : p.aebStage >= AEB_STAGES.indexOf('warning')
          ? SEVERITY.warning
          : 0;
    // Holding the brake at standstill is not an activation.
    this.sim.egoState(this.ego);
    if (level === 0 || (level === SEVERITY.brake && this.ego[EGO.speed]! < STANDSTILL_SPEED)) {
      this.episodeLevel = 0;
      return;
    }
    const a = this.load();
    if (level >= SEVERITY.warning && p.aebStage >= 1 && o.firstWarningS === null) {
      o.firstWarningS = p.tS;
      o.warningTtcS = this.timeToContact();
    }
    if (aeb && o.aebOnsetS === null) {
      o.aebOnsetS = p.tS;
      o.aebMarginS = this.lastBrakePoint();
    }
    // An episode is judged when it starts and when it escalates (warning, brake, AEB); its
    // continuation (an AEB held to standstill, the release ramp) is part of it.
    if (level <= this.episodeLevel) return;
    this.episodeLevel = level;
    const kind = level === SEVERITY.aeb ? 'aeb' : level === SEVERITY.brake ? 'brake' : 'warning';
    if (this.threatWithin(a, kind === 'brake')) return;
    o.falseActivations.push({ kind, tS: p.tS, accel: p.targetAccel, reason: p.reason });
    if (kind === 'aeb') o.falseAeb++;
    else if (kind === 'brake') o.falseBrake++;
    else o.falseWarning++;
  }

  /** The first contact, at the simulator's current time. */
  collided(): void {
    const c = this.sim.collision;
    if (!c || this.out.collision) return;
    const o = this.out;
    o.collision = true;
    o.collisionActor = c.actorId;
    o.collisionS = Number(c.tNs) / 1e9;
    this.sim.egoState(this.ego);
    const v = this.ego[EGO.speed]!;
    this.sim.groundTruth(this.gt, 'base_link');
    const g = c.actorIndex * GT.stride;
    const yaw = this.gt[g + GT.yaw]!;
    const halfY =
      0.5 *
      (Math.abs(Math.sin(yaw)) * this.gt[g + GT.length]! + Math.abs(Math.cos(yaw)) * this.gt[g + GT.width]!);
    const y = this.gt[g + GT.y]!;
    const overlap = Math.min(EGO_BOX.halfWidth, y + halfY) - Math.max(-EGO_BOX.halfWidth, y - halfY);
    o.impactSpeedKmh = v * 3.6;
    o.impactRelativeSpeedKmh = (v - this.gt[g + GT.vx]!) * 3.6;
    o.impactOverlap = Math.max(0, Math.min(1, overlap / (2 * EGO_BOX.halfWidth)));
  }

  finish(): RunOutcome {
    this.sim.egoState(this.ego);
    this.out.finalSpeed = this.ego[EGO.speed]!;
    return this.out;
  }

  /** Loads ego state and ground truth, and puts the actors in the ego's path coordinates. */
  private load(): PathActors {
    const sim = this.sim;
    sim.egoState(this.ego);
    const n = sim.groundTruth(this.gt, 'base_link');
    const v = this.ego[EGO.speed]!;
    this.path.setFromMotion(v, this.ego[EGO.yawRate]!, this.cfg.minSpeedForCurvature, this.cfg.maxCurvature);
    const a = this.actors;
    a.n = n;
    for (let i = 0; i < n; i++) {
      const g = i * GT.stride;
      this.path.toPath(this.gt[g + GT.x]!, this.gt[g + GT.y]!);
      const h = this.path.heading(this.path.s);
      const ch = Math.cos(h);
      const sh = Math.sin(h);
      const vx = this.gt[g + GT.vx]!;
      const vy = this.gt[g + GT.vy]!;
      const rel = this.gt[g + GT.yaw]! - h;
      const len = this.gt[g + GT.length]!;
      const wid = this.gt[g + GT.width]!;
      a.s[i] = this.path.s;
      a.d[i] = this.path.d;
      a.vAlong[i] = vx * ch + vy * sh;
      a.vAcross[i] = -vx * sh + vy * ch;
      a.aAlong[i] = this.gt[g + GT.ax]! * ch + this.gt[g + GT.ay]! * sh;
      a.halfAlong[i] = 0.5 * (Math.abs(Math.cos(rel)) * len + Math.abs(Math.sin(rel)) * wid);
      a.halfAcross[i] = 0.5 * (Math.abs(Math.sin(rel)) * len + Math.abs(Math.cos(rel)) * wid);
    }
    return a;
  }

  /** Time until the ego, holding its speed, touches an actor on its script; null if not within 6 s. */
  private timeToContact(): number | null {
    const v = this.ego[EGO.speed]!;
    const f = this.future(LPB_STEP_S, LPB_STEPS, this.lpbTable);
    for (let k = 0; k < f.steps; k++) {
      const se = v * k * LPB_STEP_S;
      for (let i = 0; i < f.n; i++) {
        const j = k * f.n + i;
        if (Math.abs(f.d[j]!) >= EGO_BOX.halfWidth + f.halfAcross[j]!) continue;
        const s = f.s[j]!;
        if (s - f.halfAlong[j]! < se + EGO_BOX.front && s + f.halfAlong[j]! > se + EGO_BOX.rear) {
          return k * LPB_STEP_S;
        }
      }
    }
    return null;
  }

  /**
   * Actors' scripted future from now, `steps` samples `stepS` apart, in the ego's current path
   * coordinates (station, offset, half extents along and across), into `f` (k * n + i).
   */
  private future(stepS: number, steps: number, f: FutureTable): FutureTable {
    const n = this.sim.actorCount;
    if (f.s.length < steps * n) {
      f.s = new Float64Array(steps * n);
      f.d = new Float64Array(steps * n);
      f.halfAlong = new Float64Array(steps * n);
      f.halfAcross = new Float64Array(steps * n);
    }
    f.n = n;
    f.steps = steps;
    for (let k = 0; k < steps; k++) {
      this.sim.futureGroundTruth(this.gt, k * stepS);
      for (let i = 0; i < n; i++) {
        const g = i * GT.stride;
        this.path.toPath(this.gt[g + GT.x]!, this.gt[g + GT.y]!);
        const rel = this.gt[g + GT.yaw]! - this.path.heading(this.path.s);
        const len = this.gt[g + GT.length]!;
        const wid = this.gt[g + GT.width]!;
        const j = k * n + i;
        f.s[j] = this.path.s;
        f.d[j] = this.path.d;
        f.halfAlong[j] = 0.5 * (Math.abs(Math.cos(rel)) * len + Math.abs(Math.sin(rel)) * wid);
        f.halfAcross[j] = 0.5 * (Math.abs(Math.sin(rel)) * len + Math.abs(Math.cos(rel)) * wid);
      }
    }
    return f;
  }

  /**
   * Whether some object is a real threat (see the class comment): on the actors' scripted
   * future, or on their present motion (constant velocity, braking to a stop) — what the system
   * could know then — against the ego holding its speed along its path. `forBrake` asks for an
   * object closer than the ACC's desired gap, otherwise for one the ego would touch.
   */
  private threatWithin(a: PathActors, forBrake: boolean): boolean {
    const v = this.ego[EGO.speed]!;
    const limit = forBrake ? this.cfg.standstillGapM + this.cfg.timeGapS * v : THREAT_MARGIN_M;
    const f = this.future(THREAT_STEP_S, THREAT_STEPS, this.threatTable);
    for (let i = 0; i < f.n; i++) {
      // Objects beside or behind the ego now are not what longitudinal control acts on.
      if (f.s[i]! + f.halfAlong[i]! < EGO_BOX.front - 0.5) continue;
      for (let k = 0; k < f.steps; k++) {
        const t = k * THREAT_STEP_S;
        const se = EGO_BOX.front + v * t;
        const j = k * f.n + i;
        if (
          Math.abs(f.d[j]!) < EGO_BOX.halfWidth + f.halfAcross[j]! + THREAT_MARGIN_M &&
          f.s[j]! - f.halfAlong[j]! - se < limit
        )
          return true;
        if (
          Math.abs(a.d[i]! + a.vAcross[i]! * t) < EGO_BOX.halfWidth + a.halfAcross[i]! + THREAT_MARGIN_M &&
          constantMotionStation(a, i, t) - a.halfAlong[i]! - se < limit
        )
          return true;
      }
    }
    return false;
  }

  /**
   * Latest time after now at which full braking (fullBrakeAccel) still avoids every object, the
   * ego holding its speed until then (the actors on their scripts); 0 when even braking now
   * does not; null when holding the speed touches nothing within the horizon. Bisection on the
   * braking time.
   */
  private lastBrakePoint(): number | null {
    const v = this.ego[EGO.speed]!;
    const decel = -this.cfg.fullBrakeAccel;
    const f = this.future(LPB_STEP_S, LPB_STEPS, this.lpbTable);
    if (this.avoids(f, v, decel, LPB_HORIZON_S)) return null;
    if (!this.avoids(f, v, decel, 0)) return 0;
    let lo = 0;
    let hi = LPB_HORIZON_S;
    for (let k = 0; k < 14; k++) {
      const mid = 0.5 * (lo + hi);
      if (this.avoids(f, v, decel, mid)) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  /** Whether the ego, at speed v until tBrake then braking at decel to a stop, touches nothing. */
  private avoids(f: FutureTable, v: number, decel: number, tBrake: number): boolean {
    for (let k = 0; k < f.steps; k++) {
      const t = k * LPB_STEP_S;
      const tb = Math.min(t, tBrake);
      const tr = Math.min(Math.max(0, t - tBrake), v / decel);
      const se = v * tb + v * tr - 0.5 * decel * tr * tr;
      for (let i = 0; i < f.n; i++) {
        const j = k * f.n + i;
        if (Math.abs(f.d[j]!) >= EGO_BOX.halfWidth + f.halfAcross[j]!) continue;
        const s = f.s[j]!;
        if (s - f.halfAlong[j]! < se + EGO_BOX.front && s + f.halfAlong[j]! > se + EGO_BOX.rear) return false;
      }
    }
    return true;
  }
}

/** Actors' future in path coordinates (see OutcomeMonitor.future). */
interface FutureTable {
  n: number;
  steps: number;
  s: Float64Array;
  d: Float64Array;
  halfAlong: Float64Array;
  halfAcross: Float64Array;
}

function emptyFuture(): FutureTable {
  const z = new Float64Array(0);
  return { n: 0, steps: 0, s: z, d: z, halfAlong: z, halfAcross: z };
}

/** Station of actor i after t s at its present speed, braking to a stop if it brakes. */
function constantMotionStation(a: PathActors, i: number, t: number): number {
  const v = a.vAlong[i]!;
  const acc = a.aAlong[i]!;
  if (acc < 0 && v > 0) {
    const tt = Math.min(t, v / -acc);
    return a.s[i]! + v * tt + 0.5 * acc * tt * tt;
  }
  return a.s[i]! + v * t;
}
