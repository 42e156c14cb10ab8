import { requiredDecel } from './aeb.js';
import type { PlannerConfig } from './planner-config.js';

/**
 * Adaptive cruise control: hold the set speed, or follow a lead at a time gap. The command is
 * the lower of the cruise and the following law, within comfort limits; emergencies are AEB's.
 *
 * Following law, on the gap error e = gap - (standstill gap + time gap · vLead) (the gap to
 * have once at the lead's speed) and the closing speed v - vLead:
 * a = kRel (allowed(e) - closing) + the lead's braking, where the closing speed allowed is
 * kGap/kRel · e near the desired gap (the classic linear law kGap e + kRel (vLead - v)), at
 * most sqrt(2 aApproach e) far from it (the speed from which braking at aApproach ends at the
 * desired gap), and an opening speed of at most accOpeningSpeedMps when too close; plus a feed-forward of the deceleration that the approach needs. So the ego keeps
 * its speed while a slow or stopped lead is far, closes in at about accApproachDecel, and
 * settles (comes to a stop behind a stopped lead) in a few seconds, instead of braking gently
 * from afar and crawling the last metres.
 */
export class AccController {
  constructor(private readonly cfg: Readonly<PlannerConfig>) {}

  /** Acceleration toward the set speed alone. */
  cruise(speed: number): number {
    const c = this.cfg;
    return clamp(c.cruiseGain * (c.cruiseSpeedMps - speed), -c.accMaxDecel, c.accMaxAccel);
  }

  /**
   * Acceleration to follow a lead `gap` m ahead (bumper to bumper) moving along the path at
   * `leadSpeed` with `leadAccel` (0 unless it brakes beyond the deadband), combined with cruising.
   */
  follow(speed: number, gap: number, leadSpeed: number, leadAccel: number): number {
    const c = this.cfg;
    const vLead = leadSpeed > 0 ? leadSpeed : 0;
    if (speed < 0.1 && vLead < c.leadStoppedSpeed && gap < c.standstillGapM + 1) {
      // Stopped behind a stopped lead: hold.
      return -c.standstillHoldDecel;
    }
    const e = gap - (c.standstillGapM + c.timeGapS * vLead);
    let a: number;
    if (c.relativeSpeedGain > 0) {
      let allowed = (c.gapGain / c.relativeSpeedGain) * e;
      if (e > 0) {
        const approach = Math.sqrt(2 * c.accApproachDecel * e);
        if (approach < allowed) allowed = approach;
      } else if (allowed < -c.accOpeningSpeedMps) {
        // Too close: fall back at a moderate relative speed rather than brake hard for it.
        allowed = -c.accOpeningSpeedMps;
      }
      a = c.relativeSpeedGain * (allowed - (speed - vLead));
    } else {
      a = c.gapGain * e;
    }
    const braking = leadAccel < -c.leadDecelDeadband ? leadAccel : 0;
    a += braking;
    // Feed-forward of the approach: the constant deceleration that reaches the lead's speed (or
    // stops behind where a braking lead stops) at the standstill gap, faded in below
    // accApproachDecel so that braking starts early and gently instead of waiting for the
    // tracking law to fall behind.
    const need = requiredDecel(gap - c.standstillGapM, speed, vLead, braking);
    if (need > 0) {
      const r = need / c.accApproachDecel;
      const approach = r >= 1 ? -need : -need * r * r;
      if (approach < a) a = approach;
    }
    // Never speed up toward a lead standing still (stop-and-go resumes only when it moves).
    if (vLead < c.leadStoppedSpeed && a > 0) a = 0;
    const follow = clamp(a, -c.accMaxDecel, c.accMaxAccel);
    const cruise = this.cruise(speed);
    return follow < cruise ? follow : cruise;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
