import type { PlannerConfig } from './planner-config.js';

/**
 * Adaptive cruise control: hold the set speed, or follow a lead at a time gap. The command is
 * the lower of the cruise and the following law, within comfort limits; emergencies are AEB's.
 *
 * Following law: a = kGap (gap - desired) + kRel (vLead - v) + lead braking, with
 * desired = standstill gap + time gap · v, and never more than the constant deceleration that
 * matches the lead's speed at the standstill gap (so closing fast on a slow lead brakes early
 * enough instead of waiting for the gap error).
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
   * `leadSpeed` with `leadAccel`, combined with cruising.
   */
  follow(speed: number, gap: number, leadSpeed: number, leadAccel: number): number {
    const c = this.cfg;
    const vLead = leadSpeed > 0 ? leadSpeed : 0;
    if (speed < 0.1 && vLead < c.leadStoppedSpeed && gap < c.standstillGapM + 1) {
      // Stopped behind a stopped lead: hold.
      return -c.standstillHoldDecel;
    }
    const desired = c.standstillGapM + c.timeGapS * speed;
    let a = c.gapGain * (gap - desired) + c.relativeSpeedGain * (vLead - speed);
    if (leadAccel < -c.leadDecelDeadband) a += leadAccel;
    if (speed > vLead) {
      const room = gap - c.standstillGapM;
      const kinematic = -((speed - vLead) * (speed - vLead)) / (2 * (room > 0.5 ? room : 0.5));
      if (kinematic < a) a = kinematic;
    }
    const follow = clamp(a, -c.accMaxDecel, c.accMaxAccel);
    const cruise = this.cruise(speed);
    return follow < cruise ? follow : cruise;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
