import { ObjectClass, TRACK, TRACK_QUALITY } from '../wire/layouts.js';
import { requiredDecel, timeToCollision } from './aeb.js';
import type { EgoPath } from './ego-path.js';
import type { PlannerConfig } from './planner-config.js';

/**
 * Depth of the ego's front zone, m: contact there is what longitudinal braking can avoid;
 * objects alongside (behind it) are left to other functions.
 */
const FRONT_ZONE_M = 0.5;
/** The lidar has seen an object when the extents it has seen add up to this (m). */
const MIN_SEEN_EXTENT_M = 0.15;
/** Box dimensions beyond this are implausible for a road user (m). */
const MAX_BOX_M = 30;
/** Accelerations beyond this are implausible (m/s²); the track is used without its acceleration. */
const MAX_TRACK_ACCEL = 50;

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

/** An object AEB reacts to, with its time to collision and the deceleration that avoids it. */
export class Threat {
  index = -1;
  id = -1;
  /** Time to collision, s (Infinity for none or not closing). */
  ttc = Infinity;
  /** Deceleration the ego needs to avoid it, m/s². */
  needDecel = 0;
  /** Whether it is in the ego's collision corridor now (not only predicted to enter it). */
  inCorridor = false;

  clear(): void {
    this.index = -1;
    this.id = -1;
    this.ttc = Infinity;
    this.needDecel = 0;
    this.inCorridor = false;
  }
}

/** What the selector skipped in the last call. */
export interface SelectionStats {
  /** Records with a non-finite or implausible field (position, speed, box, existence). */
  implausible: number;
  /** Records whose lateral velocity was not trusted (too young or too uncertain). */
  lateralUntrusted: number;
}

/**
 * Picks the ACC lead and the AEB threat from a track list in base_link.
 *
 * Tracks are put in path coordinates (arc length s, lateral offset d) of the ego's predicted
 * path. The lead is the nearest object ahead whose centre is within the lane half-width of the
 * path, or that moves toward the lane and, at constant velocity, enters it within the cut-in
 * horizon while still ahead of the ego. The threat is the object with the smallest time to
 * collision: analytically (with its braking) for objects already in the ego's collision
 * corridor and closing (unless moving out of it, they clear it first), by stepping a constant-velocity prediction for objects moving into it
 * (a pedestrian stepping out), the ego holding its speed in both cases.
 *
 * What to trust: records with a non-finite or implausible field are skipped. A track's lateral
 * velocity (which alone makes an object outside the lane a cut-in or a crossing) is used only
 * for a road user the camera has classified and the lidar has seen (`lateralTrustNeedsLidar`;
 * camera range errors move a camera-only track sideways), once the track is `trustMinAgeS` old, and when it
 * exceeds `trustLateralSigmas` standard deviations of its estimate across the path (from the
 * track covariance): a newly started track's velocity is mostly its prior, and the centre of a
 * guard rail's track slides along it. An object the camera has not classified as a road user
 * and that moves slower than `unclassifiedMinSpeedMps` (roadside structure, clutter) is neither
 * an ACC lead nor an AEB threat; a faster one is an AEB threat once its track is `trustMinAgeS`
 * old. Across the corridor AEB uses the extents the lidar has seen, where it has seen them.
 */
export class LeadSelector {
  readonly stats: SelectionStats = { implausible: 0, lateralUntrusted: 0 };

  constructor(private readonly cfg: Readonly<PlannerConfig>) {}

  /**
   * `tracks` holds `count` TRACKS_LAYOUT records, `quality` their TRACK_QUALITY records. Fills
   * `lead` and `threat`, and `held` with the time to collision of the track whose id is
   * `heldId` (the AEB intervention's object; held.id -1 when it is not in the list).
   */
  select(
    tracks: Float32Array,
    quality: Float32Array,
    count: number,
    egoSpeed: number,
    path: EgoPath,
    lead: Lead,
    threat: Threat,
    heldId: number,
    held: Threat,
  ): void {
    const c = this.cfg;
    lead.index = -1;
    lead.id = -1;
    lead.gap = Infinity;
    lead.speed = 0;
    lead.accel = 0;
    lead.entering = false;
    threat.clear();
    held.clear();
    this.stats.implausible = 0;
    this.stats.lateralUntrusted = 0;
    const corridorHalf = c.egoHalfWidthM + c.corridorMarginM;
    const maxRange2 = c.maxTrackRangeM * c.maxTrackRangeM;
    const maxSpeed2 = c.maxTrackSpeedMps * c.maxTrackSpeedMps;

    for (let i = 0; i < count; i++) {
      const o = i * TRACK.stride;
      const id = tracks[o + TRACK.id]!;
      const x = tracks[o + TRACK.x]!;
      const y = tracks[o + TRACK.y]!;
      const vx = tracks[o + TRACK.vx]!;
      const vy = tracks[o + TRACK.vy]!;
      const len = tracks[o + TRACK.length]!;
      const wid = tracks[o + TRACK.width]!;
      const yaw = tracks[o + TRACK.yaw]!;
      const existence = tracks[o + TRACK.existence]!;
      // Comparisons written so that NaN fails them: a corrupt record is skipped here.
      if (
        !(existence >= 0 && existence <= 1) ||
        !(x * x + y * y <= maxRange2) ||
        !(vx * vx + vy * vy <= maxSpeed2) ||
        !(len > 0 && len <= MAX_BOX_M && wid > 0 && wid <= MAX_BOX_M) ||
        !Number.isFinite(yaw) ||
        !Number.isFinite(id)
      ) {
        this.stats.implausible++;
        continue;
      }
      if (!(existence >= c.minExistence)) continue;
      const q = i * TRACK_QUALITY.stride;
      const age = quality[q + TRACK_QUALITY.age]!;
      const cls = tracks[o + TRACK.classId]!;
      // A road user the camera has classified; anything else (a guard rail, a sign, clutter) is
      // believed only as far as the lidar and radar can show it.
      const roadUser = cls >= ObjectClass.car && cls <= ObjectClass.cyclist;
      const slowUnclassified = !roadUser && vx * vx + vy * vy < c.unclassifiedMinSpeedMps ** 2;
      path.toPath(x, y);
      const s = path.s;
      const d = path.d;
      const h = path.heading(s);
      const ch = Math.cos(h);
      const sh = Math.sin(h);
      const vAlong = vx * ch + vy * sh;
      let vAcross = -vx * sh + vy * ch;
      const ax = tracks[o + TRACK.ax]!;
      const ay = tracks[o + TRACK.ay]!;
      const aAlongRaw =
        Math.abs(ax) <= MAX_TRACK_ACCEL && Math.abs(ay) <= MAX_TRACK_ACCEL ? ax * ch + ay * sh : 0;
      const aAlong = aAlongRaw < -c.leadDecelDeadband ? aAlongRaw : 0;
      // Footprint along and across the path.
      const rel = yaw - h;
      const cr = Math.abs(Math.cos(rel));
      const sr = Math.abs(Math.sin(rel));
      const halfAlong = 0.5 * (cr * len + sr * wid);
      // Across the corridor AEB counts what the lidar has seen of the box where it has seen it,
      // not the class's typical size filled in (a guard rail is not 1.5 m wide), both in the
      // corridor and for a predicted crossing: a parked car seen at a corner, whose box the
      // track turns across the road as its centre slides with the viewing angle, is not 4.5 m
      // wide across the path.
      const seenL = quality[q + TRACK_QUALITY.seenLength]!;
      const seenW = quality[q + TRACK_QUALITY.seenWidth]!;
      const lenSeen = seenL > 0 && seenL < len ? seenL : len;
      const widSeen = seenW > 0 && seenW < wid ? seenW : wid;
      const halfAcrossSeen = 0.5 * (sr * lenSeen + cr * widSeen);
      const lidarSeen = seenL + seenW >= MIN_SEEN_EXTENT_M;
      if (
        vAcross !== 0 &&
        !(
          roadUser &&
          (lidarSeen || !c.lateralTrustNeedsLidar) &&
          this.lateralTrusted(quality, i, vAcross, ch, sh)
        )
      ) {
        vAcross = 0;
        this.stats.lateralUntrusted++;
      }
      const gap = s - halfAlong - c.egoFrontM;
      // Only objects ahead of the front bumper can be followed or hit head-on; one beside the
      // ego (rear behind the bumper) is neither a lead nor a case for longitudinal braking.
      if (gap < -FRONT_ZONE_M) continue;

      // Lead: in the lane now, or entering it soon while still ahead; an unclassified object
      // only when it moves (ACC does not stop for what may be roadside structure).
      let isLead = !slowUnclassified && Math.abs(d) < c.laneHalfWidthM;
      let entering = false;
      if (!isLead && !slowUnclassified && d * vAcross < 0 && Math.abs(vAcross) >= c.cutInMinLateralSpeed) {
        const tEnter = (Math.abs(d) - c.laneHalfWidthM) / Math.abs(vAcross);
        if (tEnter <= c.cutInHorizonS && s + vAlong * tEnter + halfAlong > c.egoFrontM + egoSpeed * tEnter) {
          isLead = true;
          entering = true;
        }
      }
      if (isLead && gap < lead.gap) {
        lead.index = i;
        lead.id = id;
        lead.gap = gap;
        lead.speed = vAlong;
        lead.accel = aAlong;
        lead.entering = entering;
      }

      // Threat: time to collision, for objects in the corridor that close in (or brake), and
      // for objects moving into it.
      // AEB brakes for classified road users, and for unclassified objects that move and whose
      // track is old enough; not for unclassified standing ones (guard rails, signs, clutter:
      // the classic phantom-braking targets), as production systems do.
      if (!(existence >= c.aebMinExistence) || slowUnclassified || (!roadUser && !(age >= c.trustMinAgeS)))
        continue;
      let ttc = Infinity;
      let need = 0;
      const inCorridor = Math.abs(d) < corridorHalf + halfAcrossSeen;
      if (inCorridor) {
        if (egoSpeed - vAlong >= c.minClosingSpeedMps || aAlong < 0) {
          ttc = timeToCollision(gap, egoSpeed, vAlong, aAlong);
          need = requiredDecel(gap, egoSpeed, vAlong, aAlong);
          // An object walking or driving out of the corridor that clears it first is no threat.
          if (d * vAcross > 0 && Math.abs(vAcross) >= c.cutInMinLateralSpeed) {
            const tClear = (corridorHalf + halfAcrossSeen - Math.abs(d)) / Math.abs(vAcross);
            if (tClear < ttc) {
              ttc = Infinity;
              need = 0;
            }
          }
        }
      } else if (d * vAcross < 0) {
        ttc = this.predictedCollision(s, d, vAlong, vAcross, halfAlong, halfAcrossSeen, egoSpeed);
        if (ttc < Infinity) need = requiredDecel(gap, egoSpeed, 0, 0);
      }
      if (ttc < threat.ttc) {
        threat.index = i;
        threat.id = id;
        threat.ttc = ttc;
        threat.needDecel = need;
        threat.inCorridor = inCorridor;
      }
      if (id === heldId && heldId >= 0) {
        held.index = i;
        held.id = id;
        held.ttc = ttc;
        held.needDecel = need;
        held.inCorridor = inCorridor;
      }
    }
  }

  /**
   * Whether track i's velocity across the path (vAcross, path heading cos ch, sin sh) can be
   * believed: old enough, and outside `trustLateralSigmas` of its standard deviation.
   */
  private lateralTrusted(quality: Float32Array, i: number, vAcross: number, ch: number, sh: number): boolean {
    const c = this.cfg;
    const q = i * TRACK_QUALITY.stride;
    if (!(quality[q + TRACK_QUALITY.age]! >= c.trustMinAgeS)) return false;
    // Variance along the unit vector across the path, u = (-sin h, cos h): uᵀ V u.
    const variance =
      sh * sh * quality[q + TRACK_QUALITY.vxx]! -
      2 * sh * ch * quality[q + TRACK_QUALITY.vxy]! +
      ch * ch * quality[q + TRACK_QUALITY.vyy]!;
    if (!(variance >= 0 && variance < Infinity)) return false;
    const k = c.trustLateralSigmas;
    return vAcross * vAcross > k * k * variance;
  }

  /**
   * First time the object, moving at constant velocity in path coordinates, is at the ego's
   * front (where braking can avoid it) inside the collision corridor, the ego holding its speed;
   * Infinity if not within the collision horizon. Both conditions hold on one interval of time
   * each (the motions are linear), so this is their intersection, exactly.
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
    const c = this.cfg;
    // Across: |d + vAcross t| < corridor half width + the object's half extent.
    const w = c.egoHalfWidthM + c.corridorMarginM + halfAcross;
    const [a0, a1] = linearWithin(d, vAcross, -w, w);
    // Along: the object's footprint overlaps the ego's front zone [front - zone, front]:
    // -halfAlong - zone < r(t) < halfAlong, r = s - front + (vAlong - egoSpeed) t.
    const [b0, b1] = linearWithin(s - c.egoFrontM, vAlong - egoSpeed, -halfAlong - FRONT_ZONE_M, halfAlong);
    const t0 = Math.max(a0, b0, 0);
    const t1 = Math.min(a1, b1, c.collisionHorizonS);
    return t0 < t1 ? t0 : Infinity;
  }
}

/** The times at which x0 + v t lies strictly between lo and hi: an interval [t0, t1] (empty if t0 >= t1). */
function linearWithin(x0: number, v: number, lo: number, hi: number): [number, number] {
  if (v === 0) return x0 > lo && x0 < hi ? [-Infinity, Infinity] : [Infinity, -Infinity];
  const ta = (lo - x0) / v;
  const tb = (hi - x0) / v;
  return ta < tb ? [ta, tb] : [tb, ta];
}
