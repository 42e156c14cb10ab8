import type { Road } from './road.js';
import { LateralProfile, SpeedProfile, type LateralMove, type SpeedEvent } from './motion.js';
import type { ScenarioActor, MotionStep } from './scenario-types.js';

/** Offsets into the pose record written by `ActorTrajectory.pose`. */
export const POSE = {
  x: 0,
  y: 1,
  yaw: 2,
  vx: 3,
  vy: 4,
  ax: 5,
  ay: 6,
  s: 7,
  d: 8,
  speed: 9,
  stride: 10,
} as const;

/** Splits motion steps into the speed events and lateral moves of the closed-form profiles. */
export function compileSteps(
  steps: readonly MotionStep[],
  road: Road,
  d0: number,
): { speed: SpeedEvent[]; lateral: LateralMove[] } {
  const speed: SpeedEvent[] = [];
  const lateral: LateralMove[] = [];
  let d = d0;
  for (const step of steps) {
    switch (step.kind) {
      case 'brake':
      case 'speedChange':
        speed.push({ at: step.at, to: step.to, rate: step.rate });
        break;
      case 'laneChange': {
        const d1 = road.laneCentre(step.toLane) + (d - road.laneCentre(nearestLane(road, d)));
        lateral.push({ t0: step.at, t1: step.at + step.duration, d1, smooth: true });
        d = d1;
        break;
      }
      case 'cross': {
        const d1 = d + (step.to === 'left' ? step.distance : -step.distance);
        lateral.push({ t0: step.at, t1: step.at + step.distance / step.speed, d1, smooth: false });
        d = d1;
        break;
      }
    }
  }
  return { speed, lateral };
}

/** Index of the lane whose centre is nearest to `d` (clamped to the road). */
export function nearestLane(road: Road, d: number): number {
  const i = Math.floor((d + road.halfWidth) / road.laneWidth);
  return Math.min(road.lanes - 1, Math.max(0, i));
}

/**
 * The scripted path of one actor: Frenet motion from its profiles mapped onto the road.
 * Stateless, so the simulator and the scenario checks query it at any time.
 */
export class ActorTrajectory {
  private readonly speed: SpeedProfile;
  private readonly lateral: LateralProfile;
  /** +1 drives along the road, -1 oncoming. */
  private readonly dir: number;
  /** ds/dt per m/s of speed: speeds are over ground in the starting lane, 1 / (1 - k d0). */
  private readonly stretch: number;
  /** Heading relative to the road when standing still, rad. */
  private readonly restYaw: number;
  private readonly scratch = new Float64Array(3);

  constructor(
    readonly actor: ScenarioActor,
    private readonly road: Road,
  ) {
    const { speed, lateral } = compileSteps(actor.motion, road, actor.d);
    this.speed = new SpeedProfile(actor.speed, speed);
    this.lateral = new LateralProfile(actor.d, lateral);
    this.dir = actor.oncoming ? -1 : 1;
    this.stretch = 1 / (1 - road.curvature * actor.d);
    const cross = actor.motion.find((m) => m.kind === 'cross');
    // A pedestrian waiting to cross faces the road; anyone else faces their direction of travel.
    if (cross && cross.kind === 'cross') this.restYaw = cross.to === 'left' ? Math.PI / 2 : -Math.PI / 2;
    else this.restYaw = actor.oncoming ? Math.PI : 0;
  }

  /**
   * Writes the actor's state at time `t` (s) into out (see POSE): world x, y, yaw; world
   * velocity and longitudinal acceleration vectors; Frenet s, d; speed along its path.
   */
  pose(t: number, out: Float64Array): void {
    const sc = this.scratch;
    this.speed.evaluate(t, sc);
    const dist = sc[0]!;
    const v = sc[1]!;
    const a = sc[2]!;
    const s = this.actor.s + this.dir * dist * this.stretch;
    this.lateral.evaluate(t, sc);
    const d = sc[0]!;
    const dDot = sc[1]!;
    this.road.toWorld(s, d, sc);
    const th = sc[2]!;
    const c = Math.cos(th);
    const sn = Math.sin(th);
    // Moving the station by ds moves a point at offset d by (1 - k d) ds.
    const scale = (1 - this.road.curvature * d) * this.stretch;
    const vt = this.dir * v * scale;
    const at = this.dir * a * scale;
    out[POSE.x] = sc[0]!;
    out[POSE.y] = sc[1]!;
    out[POSE.yaw] =
      vt * vt + dDot * dDot > 0.0025 ? wrapAngle(th + Math.atan2(dDot, vt)) : wrapAngle(th + this.restYaw);
    out[POSE.vx] = vt * c - dDot * sn;
    out[POSE.vy] = vt * sn + dDot * c;
    out[POSE.ax] = at * c;
    out[POSE.ay] = at * sn;
    out[POSE.s] = s;
    out[POSE.d] = d;
    out[POSE.speed] = v;
  }
}

/** Wraps an angle into (-π, π]. */
export function wrapAngle(a: number): number {
  if (a > Math.PI || a <= -Math.PI) {
    a = a - 2 * Math.PI * Math.floor((a + Math.PI) / (2 * Math.PI));
    if (a <= -Math.PI) a += 2 * Math.PI;
  }
  return a;
}
