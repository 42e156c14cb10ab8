import { TRACK } from '../wire/layouts.js';
import { requiredDecel, timeToCollision } from './aeb.js';
import type { EgoPath } from './ego-path.js';
import type { PlannerConfig } from './planner-config.js';

/**
 * Depth of the ego's front zone, m: contact there is what longitudinal braking can avoid;
 * objects alongside (behind it) are left to other functions.
 */
const FRONT_ZONE_M = 0.5;

/** The object ACC follows, in path terms. */
export class Lead {
  /** Record index in the tracks array, or -1 for none. */
  index = -1;
  id = -1;
  /** Bumper-to-bumper gap along the path, m. */
  gap = Infinity;
  /** Speed and acceleration along the path, over ground. */
  speed = 0;
  accel = 0;
  /** True when the object is not in the lane yet but predicted to enter it (cut-in, crossing). */
  entering = false;
}

/** The object AEB reacts to: the one the ego would hit first. */
export class Threat {
  index = -1;
  id = -1;
  /** Time to collision, s (Infinity for none). */
  ttc = Infinity;
  /** Deceleration the ego needs to avoid it, m/s². */
  needDecel = 0;
}

/**
 * Picks the ACC lead and the AEB threat from a track list in base_link.
 *
 * Tracks are put in path coordinates (arc length s, lateral offset d) of the ego's predicted
 * path. The lead is the nearest object ahead whose centre is within the lane half-width of the
 * path, or that moves toward the lane and, at constant velocity, enters it within the cut-in
 * horizon while still ahead of the ego. The threat is the object with the smallest time to
 * collision: analytically (with its braking) for objects already in the ego's collision
 * corridor, by stepping a constant-velocity prediction for objects moving into it (a
 * pedestrian stepping out), the ego holding its speed in both cases.
 */
export class LeadSelector {
  constructor(private readonly cfg: Readonly<PlannerConfig>) {}

  select(
    tracks: Float32Array,
    count: number,
    egoSpeed: number,
    path: EgoPath,
    lead: Lead,
    threat: Threat,
  ): void {
    const c = this.cfg;
    lead.index = -1;
    lead.id = -1;
    lead.gap = Infinity;
    lead.speed = 0;
    lead.accel = 0;
    lead.entering = false;
    threat.index = -1;
    threat.id = -1;
    threat.ttc = Infinity;
    threat.needDecel = 0;
    const corridorHalf = c.egoHalfWidthM + c.corridorMarginM;

    for (let i = 0; i < count; i++) {
      const o = i * TRACK.stride;
      const x = tracks[o + TRACK.x]!;
      const y = tracks[o + TRACK.y]!;
      const vx = tracks[o + TRACK.vx]!;
      const vy = tracks[o + TRACK.vy]!;
      const existence = tracks[o + TRACK.existence]!;
      // NaN fails both comparisons, so corrupt records are skipped here.
      if (!(existence >= c.minExistence) || !Number.isFinite(x + y + vx + vy)) continue;
      path.toPath(x, y);
      const s = path.s;
      const d = path.d;
      const h = path.heading(s);
      const ch = Math.cos(h);
      const sh = Math.sin(h);
      const vAlong = vx * ch + vy * sh;
      const vAcross = -vx * sh + vy * ch;
      const ax = tracks[o + TRACK.ax]!;
      const ay = tracks[o + TRACK.ay]!;
      const aAlongRaw = Number.isFinite(ax + ay) ? ax * ch + ay * sh : 0;
      const aAlong = aAlongRaw < -c.leadDecelDeadband ? aAlongRaw : 0;
      // Footprint along and across the path.
      const rel = tracks[o + TRACK.yaw]! - h;
      const cr = Math.abs(Math.cos(rel));
      const sr = Math.abs(Math.sin(rel));
      const len = tracks[o + TRACK.length]!;
      const wid = tracks[o + TRACK.width]!;
      const halfAlong = 0.5 * (cr * len + sr * wid) || 0;
      const halfAcross = 0.5 * (sr * len + cr * wid) || 0;
      const gap = s - halfAlong - c.egoFrontM;
      // Only objects ahead of the front bumper can be followed or hit head-on; one beside the
      // ego (rear behind the bumper) is neither a lead nor a case for longitudinal braking.
      if (gap < -FRONT_ZONE_M) continue;

      // Lead: in the lane now, or entering it soon while still ahead.
      let isLead = Math.abs(d) < c.laneHalfWidthM;
      let entering = false;
      if (!isLead && d * vAcross < 0 && Math.abs(vAcross) >= c.cutInMinLateralSpeed) {
        const tEnter = (Math.abs(d) - c.laneHalfWidthM) / Math.abs(vAcross);
        if (tEnter <= c.cutInHorizonS && s + vAlong * tEnter + halfAlong > c.egoFrontM + egoSpeed * tEnter) {
          isLead = true;
          entering = true;
        }
      }
      if (isLead && gap < lead.gap) {
        lead.index = i;
        lead.id = tracks[o + TRACK.id]!;
        lead.gap = gap;
        lead.speed = vAlong;
        lead.accel = aAlong;
        lead.entering = entering;
      }

      // Threat: time to collision.
      if (!(existence >= c.aebMinExistence)) continue;
      let ttc = Infinity;
      let need = 0;
      if (Math.abs(d) < corridorHalf + halfAcross) {
        ttc = timeToCollision(gap, egoSpeed, vAlong, aAlong);
        need = requiredDecel(gap, egoSpeed, vAlong, aAlong);
      } else if (d * vAcross < 0) {
        ttc = this.predictedCollision(s, d, vAlong, vAcross, halfAlong, halfAcross, egoSpeed);
        if (ttc < Infinity) need = requiredDecel(gap, egoSpeed, 0, 0);
      }
      if (ttc < threat.ttc) {
        threat.index = i;
        threat.id = tracks[o + TRACK.id]!;
        threat.ttc = ttc;
        threat.needDecel = need;
      }
    }
  }

  // Motion of the object under prediction, set by predictedCollision (no closure per call).
  private ps = 0;
  private pd = 0;
  private pvAlong = 0;
  private pvAcross = 0;
  private pHalfAlong = 0;
  private pHalfAcross = 0;
  private pEgoSpeed = 0;

  /**
   * First time the object, moving at constant velocity in path coordinates, overlaps the ego
   * holding its speed; Infinity if not within the collision horizon. Stepped, then refined by
   * bisection inside the step where the overlap begins.
   */
  private predictedCollision(
    s: number,
    d: number,
    vAlong: number,
    vAcross: number,
    halfAlong: number,
    halfAcross: number,
    egoSpeed: number,
  ): number {
    this.ps = s;
    this.pd = d;
    this.pvAlong = vAlong;
    this.pvAcross = vAcross;
    this.pHalfAlong = halfAlong;
    this.pHalfAcross = halfAcross;
    this.pEgoSpeed = egoSpeed;
    const step = this.cfg.predictionStepS;
    const horizon = this.cfg.collisionHorizonS + step * 0.5;
    let prev = 0;
    for (let t = step; t <= horizon; t += step) {
      if (this.overlapsAt(t)) {
        let lo = prev;
        let hi = t;
        for (let k = 0; k < 6; k++) {
          const mid = 0.5 * (lo + hi);
          if (this.overlapsAt(mid)) hi = mid;
          else lo = mid;
        }
        return hi;
      }
      prev = t;
    }
    return Infinity;
  }

  /** Whether the predicted object is at the ego's front at time t (where braking can avoid it). */
  private overlapsAt(t: number): boolean {
    const c = this.cfg;
    const so = this.ps + this.pvAlong * t;
    const dObj = this.pd + this.pvAcross * t;
    const se = this.pEgoSpeed * t;
    return (
      Math.abs(dObj) < c.egoHalfWidthM + c.corridorMarginM + this.pHalfAcross &&
      so - this.pHalfAlong < se + c.egoFrontM &&
      so + this.pHalfAlong > se + c.egoFrontM - FRONT_ZONE_M
    );
  }
}
