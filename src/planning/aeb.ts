import type { PlannerConfig } from './planner-config.js';

/**
 * Time until the ego, holding its speed, reaches an object ahead on its path: `gap` m from the
 * ego's front to the object's rear, the object moving along the path at `vObj` with
 * acceleration `aObj` (only braking counts, and a braking object stops rather than reverses).
 * Infinity when it never does. With aObj = 0 this is the classic gap / closing speed; with a
 * braking lead it is the enhanced TTC that Euro NCAP's CCRb needs.
 */
export function timeToCollision(gap: number, vEgo: number, vObj: number, aObj: number): number {
  if (gap <= 0) return 0;
  const a = aObj < 0 ? aObj : 0;
  if (a < 0 && vObj > 0) {
    const tStop = vObj / -a;
    // While the object brakes: gap + (vObj - vEgo) t + a t² / 2 = 0.
    const qa = 0.5 * a;
    const qb = vObj - vEgo;
    const disc = qb * qb - 4 * qa * gap;
    const sq = Math.sqrt(disc);
    const r1 = (-qb + sq) / (2 * qa);
    const r2 = (-qb - sq) / (2 * qa);
    const t = r1 > 0 && (r1 < r2 || r2 <= 0) ? r1 : r2;
    if (t > 0 && t <= tStop) return t;
    // After it stops: the ego covers the gap plus the object's stopping distance.
    if (vEgo <= 0) return Infinity;
    return (gap + (vObj * vObj) / (-2 * a)) / vEgo;
  }
  const closing = vEgo - vObj;
  return closing > 0 ? gap / closing : Infinity;
}

/**
 * Constant deceleration (positive, m/s²) the ego needs from now to avoid hitting the object:
 * to match its speed within the gap, or, if it is braking to a stop, to stop behind where it
 * stops, whichever is more.
 */
export function requiredDecel(gap: number, vEgo: number, vObj: number, aObj: number): number {
  const g = gap > 0.1 ? gap : 0.1;
  let need = 0;
  if (vEgo > vObj) need = ((vEgo - vObj) * (vEgo - vObj)) / (2 * g);
  if (aObj < 0 && vObj > 0 && vEgo > 0) {
    const stopAt = g + (vObj * vObj) / (-2 * aObj);
    const toStop = (vEgo * vEgo) / (2 * stopAt);
    if (toStop > need) need = toStop;
  }
  return need;
}

/** Braking this much (m/s²) beyond what avoiding needs counts as covering the threat. */
export const AEB_COVERED_MARGIN = 0.5;

/** Below this speed (m/s) the ego is at a standstill and an intervention ends. */
const STANDSTILL_SPEED = 0.05;

/** AEB stages: none, forward collision warning, partial braking, full braking (AEB_STAGES on the wire). */
export const AebStage = { none: 0, warn: 1, partial: 2, full: 3 } as const;

/** What can set the AEB stage of an update. */
export const AEB_CAUSES = ['none', 'ttc', 'required_decel', 'hold'] as const;

/** What set the AEB stage of the last update. */
export type AebCause = (typeof AEB_CAUSES)[number];

/** The object an intervention brakes for, as the lead selector found it this cycle. */
export interface AebTarget {
  /** Track id, or -1 for none (for the held threat: not in this cycle's tracks). */
  id: number;
  /** Time to collision, s (Infinity when not closing). */
  ttc: number;
  /** Deceleration needed to avoid it, m/s². */
  needDecel: number;
  /** In the collision corridor now (a TTC of Infinity then means: no longer closing). */
  inCorridor: boolean;
}

/**
 * Staged autonomous emergency braking as production systems do it: a warning first, then
 * partial braking, then full braking, by time to collision; each braking stage is brought
 * forward when the deceleration needed to avoid the object exceeds what the stage before can
 * give. Once braking, it keeps its stage while the same object is still closing, down to
 * standstill (no release in the middle of an intervention), and through a loss of that object
 * of up to `aebHoldS` (a missed detection, a track restarted under a new id, a crossing that
 * the prediction loses for a moment). It releases when the object is in the corridor but no
 * longer closing (the ego has matched its speed).
 */
export class Aeb {
  /** Stage of the last update. */
  stage: number = AebStage.none;
  /** Why the stage is what it is. */
  cause: AebCause = 'none';
  /** Track id the stage is for (the intervention's threat while braking), or -1. */
  threatId = -1;
  /** Deceleration needed to avoid that object, m/s² (0 without one). */
  needDecel = 0;
  /** Scenario/stamp time the intervention's threat was last seen, s. */
  private lastSeenS = -Infinity;
  /** Last time a warning was due, s. */
  private warnedS = -Infinity;

  constructor(private readonly cfg: Readonly<PlannerConfig>) {}

  /**
   * Updates the stage at time `tS` (s) for the most urgent threat of this cycle and for the
   * intervention's own threat (`held`, id -1 when it is not among this cycle's tracks; pass
   * `undefined` for egoSpeed when the ego state is unknown). Returns the stage's command:
   * partialBrakeAccel, fullBrakeAccel or 0. `egoDecel` is how hard the ego is being braked
   * already (m/s², positive; the planner passes its last command): a warning or partial braking
   * that this covers (by AEB_COVERED_MARGIN) does not start, so that ACC's sufficient braking
   * is not interrupted by one.
   */
  update(
    tS: number,
    egoSpeed: number | undefined,
    egoDecel: number,
    threat: AebTarget,
    held: AebTarget,
  ): number {
    const c = this.cfg;
    const braking = this.stage >= AebStage.partial;
    // Activation needs some speed; an intervention under way continues down to standstill.
    const active =
      egoSpeed === undefined
        ? braking
        : egoSpeed >= c.aebMinSpeed || (braking && egoSpeed > STANDSTILL_SPEED);
    let stage: number = AebStage.none;
    let cause: AebCause = 'none';
    let id = -1;
    let need = 0;
    if (active && egoSpeed !== undefined) {
      stage = this.stageFor(threat.ttc, threat.needDecel, braking ? 0 : egoDecel);
      cause = this.lastCause;
      id = stage === AebStage.none ? -1 : threat.id;
      need = threat.needDecel;
    }
    if (active && braking) {
      // The intervention's object still counts while it is on a collision course or in the
      // corridor; one predicted to cross that no longer is (lateral estimates are noisy) is
      // held on to like a lost one.
      if (held.id >= 0 && egoSpeed !== undefined && (held.ttc < Infinity || held.inCorridor)) {
        this.lastSeenS = tS;
        let s2 = this.stageFor(held.ttc, held.needDecel, 0);
        let c2 = this.lastCause;
        // Hold the intervention while its object is still closing (no release mid-stop).
        if (held.ttc < Infinity && s2 < this.stage) {
          s2 = this.stage;
          c2 = 'hold';
        }
        if (s2 >= stage && s2 > AebStage.none) {
          stage = s2;
          cause = c2;
          id = held.id;
          need = held.needDecel;
        }
      } else if (tS - this.lastSeenS <= c.aebHoldS && this.stage > stage) {
        stage = this.stage;
        cause = 'hold';
        id = this.threatId;
        need = this.needDecel;
      }
    }
    // A warning lasts at least aebHoldS while its object is still there (no flicker at the
    // threshold).
    if (stage === AebStage.warn) this.warnedS = tS;
    else if (
      stage === AebStage.none &&
      this.stage === AebStage.warn &&
      active &&
      threat.id === this.threatId &&
      tS - this.warnedS < c.aebHoldS
    ) {
      stage = AebStage.warn;
      cause = 'hold';
      id = threat.id;
      need = threat.needDecel;
    }
    if (stage >= AebStage.partial && (!braking || id !== this.threatId)) this.lastSeenS = tS;
    this.stage = stage;
    this.cause = cause;
    this.threatId = stage === AebStage.none ? -1 : id;
    this.needDecel = stage === AebStage.none ? 0 : need;
    return stage === AebStage.full ? c.fullBrakeAccel : stage === AebStage.partial ? c.partialBrakeAccel : 0;
  }

  private lastCause: AebCause = 'none';

  /** Stage for a time to collision and required deceleration; sets lastCause. */
  private stageFor(ttc: number, needDecel: number, egoDecel: number): number {
    const c = this.cfg;
    this.lastCause = 'none';
    if (!(ttc < Infinity)) return AebStage.none;
    // Already braking hard enough: only the last-moment full braking stage applies.
    if (egoDecel >= needDecel + AEB_COVERED_MARGIN && ttc >= c.ttcFullS) return AebStage.none;
    let stage: number = AebStage.none;
    if (ttc < c.ttcWarnS) {
      stage = AebStage.warn;
      this.lastCause = 'ttc';
    }
    // Partial braking by TTC, or earlier when avoiding needs more than ACC's comfort braking.
    if (ttc < c.ttcPartialS) {
      stage = AebStage.partial;
      this.lastCause = 'ttc';
    } else if (stage === AebStage.warn && needDecel > c.partialBrakeRequiredDecel) {
      stage = AebStage.partial;
      this.lastCause = 'required_decel';
    }
    if (ttc < c.ttcFullS) {
      stage = AebStage.full;
      this.lastCause = 'ttc';
    } else if (stage === AebStage.partial && needDecel > c.fullBrakeRequiredDecel) {
      stage = AebStage.full;
      this.lastCause = 'required_decel';
    }
    return stage;
  }

  reset(): void {
    this.stage = AebStage.none;
    this.cause = 'none';
    this.threatId = -1;
    this.needDecel = 0;
    this.lastSeenS = -Infinity;
    this.warnedS = -Infinity;
  }
}
