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

/** Below this speed (m/s) the ego is at a standstill and an intervention ends. */
const STANDSTILL_SPEED = 0.05;

/** AEB stages: none, forward collision warning, partial braking, full braking. */
export const AebStage = { none: 0, warn: 1, partial: 2, full: 3 } as const;

/**
 * Staged autonomous emergency braking as production systems do it: a warning first, then
 * partial braking, then full braking, by time to collision; each braking stage is brought
 * forward when the deceleration needed to avoid the object exceeds what the stage before can
 * give. Once braking, it holds its stage while the same object is still in the way, down to
 * standstill (no release in the middle of an intervention).
 */
export class Aeb {
  /** Stage of the last update. */
  stage: number = AebStage.none;
  private lastThreatId = -1;

  constructor(private readonly cfg: Readonly<PlannerConfig>) {}

  /**
   * Updates the stage for the most urgent threat (`threatId` -1 for none) and returns the
   * commanded acceleration of the stage (0 below partial braking).
   */
  update(egoSpeed: number, threatId: number, ttc: number, needDecel: number): number {
    const c = this.cfg;
    const braking = this.stage >= AebStage.partial && threatId >= 0 && threatId === this.lastThreatId;
    let stage: number = AebStage.none;
    // Activation needs some speed; an intervention under way continues down to standstill.
    const active = egoSpeed >= c.aebMinSpeed || (braking && egoSpeed > STANDSTILL_SPEED);
    if (threatId >= 0 && ttc < Infinity && active) {
      if (ttc < c.ttcWarnS) stage = AebStage.warn;
      // Partial braking by TTC, or earlier when avoiding needs more than ACC's comfort braking.
      if (ttc < c.ttcPartialS || (stage === AebStage.warn && needDecel > c.partialBrakeRequiredDecel)) {
        stage = AebStage.partial;
      }
      if (ttc < c.ttcFullS || (stage === AebStage.partial && needDecel > c.fullBrakeRequiredDecel)) {
        stage = AebStage.full;
      }
      // Hold an intervention while the same object is still in the way (no release mid-stop).
      if (braking && stage < this.stage) stage = this.stage;
    }
    this.stage = stage;
    this.lastThreatId = stage === AebStage.none ? -1 : threatId;
    return stage === AebStage.full ? c.fullBrakeAccel : stage === AebStage.partial ? c.partialBrakeAccel : 0;
  }

  reset(): void {
    this.stage = AebStage.none;
    this.lastThreatId = -1;
  }
}
