/**
 * The simulated world at the simulator's clock: scripted actors (closed-form trajectories)
 * and the ego vehicle, which follows its scripted speed or, in closed loop, a commanded
 * acceleration. State is kept in typed arrays (one per field, one slot per actor) that the
 * sensor models read directly.
 */
import { GT } from '../wire/ground-truth.js';
import type { Mount } from '../wire/mount.js';
import { EGO_BOX } from './actor-classes.js';
import { SpeedProfile } from './motion.js';
import { Road } from './road.js';
import { boxesOverlap } from './geometry.js';
import type { Scenario, ScenarioActor } from './scenario-types.js';
import { ActorTrajectory, POSE, wrapAngle } from './trajectory.js';
import { sensorPoseOf, takeSnapshot } from './scene-snapshot.js';

export { GT };

/** Physical limits of the ego's longitudinal control, m/s². */
export const EGO_MAX_DECEL = 11;
export const EGO_MAX_ACCEL = 5;
/** Limits used to rejoin the script after a commanded acceleration is released, m/s². */
const REJOIN_DECEL = 3;
const REJOIN_ACCEL = 2;
/** Ego integration grid, ns (1 kHz, like a vehicle dynamics loop). */
const GRID_NS = 1_000_000;

/** First contact between the ego box and an actor box. */
export interface Collision {
  /** 0-based actor index in the scenario. */
  actorIndex: number;
  actorId: string;
  tNs: bigint;
}

export class World {
  readonly road: Road;
  readonly actors: readonly ScenarioActor[];
  readonly count: number;
  /** Actor state in the world frame (the road's frame), one slot per actor. */
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly yaw: Float64Array;
  readonly vx: Float64Array;
  readonly vy: Float64Array;
  readonly ax: Float64Array;
  readonly ay: Float64Array;
  readonly length: Float64Array;
  readonly width: Float64Array;
  readonly height: Float64Array;
  readonly classId: Int32Array;

  /** Ego state: Frenet station and offset, speed, acceleration; world pose and velocity. */
  egoS = 0;
  readonly egoD: number;
  egoV: number;
  egoA = 0;
  egoX = 0;
  egoY = 0;
  egoYaw = 0;
  egoYawRate = 0;
  egoVx = 0;
  egoVy = 0;
  /** World y of the ego's start pose: the odom frame is the world shifted by it. */
  readonly odomOriginY: number;

  /** Simulation time, ns from scenario start. */
  tNs = 0;
  /** First collision of the ego with an actor, if any. */
  collision: Collision | undefined;

  private readonly trajectories: ActorTrajectory[];
  private readonly egoRef: SpeedProfile;
  private accelCommand: number | null = null;
  /** Ego state committed at the last grid point. */
  private gridNs = 0;
  private gridS = 0;
  private gridV: number;
  private gridA = 0;
  private readonly pose = new Float64Array(POSE.stride);
  private readonly refNow = new Float64Array(3);
  private readonly refNext = new Float64Array(3);

  constructor(scenario: Scenario) {
    const road = new Road(scenario.road.lanes, scenario.road.laneWidth, scenario.road.curvature);
    this.road = road;
    this.actors = scenario.actors;
    const n = scenario.actors.length;
    this.count = n;
    this.x = new Float64Array(n);
    this.y = new Float64Array(n);
    this.yaw = new Float64Array(n);
    this.vx = new Float64Array(n);
    this.vy = new Float64Array(n);
    this.ax = new Float64Array(n);
    this.ay = new Float64Array(n);
    this.fx = new Float64Array(n);
    this.fy = new Float64Array(n);
    this.fyaw = new Float64Array(n);
    this.fvx = new Float64Array(n);
    this.fvy = new Float64Array(n);
    this.fax = new Float64Array(n);
    this.fay = new Float64Array(n);
    this.length = Float64Array.from(scenario.actors, (a) => a.length);
    this.width = Float64Array.from(scenario.actors, (a) => a.width);
    this.height = Float64Array.from(scenario.actors, (a) => a.height);
    this.classId = Int32Array.from(scenario.actors, (a) => a.classId);
    this.trajectories = scenario.actors.map((a) => new ActorTrajectory(a, road));
    this.egoD = road.laneCentre(scenario.ego.lane) + scenario.ego.offset;
    this.odomOriginY = this.egoD;
    this.egoV = scenario.ego.speed;
    this.gridV = scenario.ego.speed;
    this.egoRef = new SpeedProfile(
      scenario.ego.speed,
      scenario.ego.motion.flatMap((m) =>
        m.kind === 'brake' || m.kind === 'speedChange' ? [{ at: m.at, to: m.to, rate: m.rate }] : [],
      ),
    );
    this.updateEgoPose();
    this.updateActors();
  }

  /** Commanded ego acceleration (m/s², clamped to the vehicle's limits), or null to follow the script. */
  setAccelCommand(accel: number | null): void {
    if (accel !== null && !Number.isFinite(accel))
      throw new RangeError(`accel command must be finite, got ${accel}`);
    this.accelCommand = accel;
  }

  get accelCommandValue(): number | null {
    return this.accelCommand;
  }

  /** Advances the world to `tNs` (never backwards): integrates the ego, then evaluates the actors. */
  advanceTo(tNs: number): void {
    if (tNs <= this.tNs) return;
    // Commit whole grid steps, then derive the state at tNs from the last grid point without
    // committing it: the ego's path then depends only on the grid and the commands, not on which
    // message times happened to be asked for (so the rig's make-up cannot change it).
    while (this.gridNs + GRID_NS <= tNs) {
      this.egoStep(this.gridNs, GRID_NS * 1e-9, true);
      this.gridNs += GRID_NS;
    }
    if (tNs > this.gridNs) this.egoStep(this.gridNs, (tNs - this.gridNs) * 1e-9, false);
    else {
      this.egoS = this.gridS;
      this.egoV = this.gridV;
      this.egoA = this.gridA;
    }
    this.tNs = tNs;
    this.updateEgoPose();
    this.updateActors();
    this.checkCollision();
  }

  /**
   * What a lidar would see at `tNs` (ahead of now), as a scene snapshot into `out`, without
   * moving the world: actors follow their scripts, the ego its script or the command in force
   * (a command that changes before `tNs` is not foreseen: over a 50 ms lead a 10 m/s² change moves
   * the ego by 1.3 cm). The world's state is restored afterwards, collisions included.
   */
  sceneAhead(tNs: number, out: Float64Array): Float64Array {
    const { tNs: t0, gridNs, gridS, gridV, gridA, egoS, egoV, egoA, collision } = this;
    this.advanceTo(tNs);
    takeSnapshot(this, out);
    Object.assign(this, { tNs: t0, gridNs, gridS, gridV, gridA, egoS, egoV, egoA, collision });
    this.updateEgoPose();
    this.updateActors();
    return out;
  }

  /**
   * Integrates the ego over `dt` s from the grid point at `fromNs` (the acceleration is the one
   * of the whole grid step, so a partial step lies on the same line). Commits to the grid state
   * or only sets the current state.
   */
  private egoStep(fromNs: number, dt: number, commit: boolean): void {
    const t = fromNs * 1e-9;
    const v = this.gridV;
    let a: number;
    if (this.accelCommand === null) {
      // Dead-beat on the scripted speed: exact while on the script, rate-limited when rejoining it.
      const step = GRID_NS * 1e-9;
      this.egoRef.evaluate(t, this.refNow);
      this.egoRef.evaluate(t + step, this.refNext);
      const a0 = this.refNow[2]!;
      const a1 = this.refNext[2]!;
      a = clamp(
        (this.refNext[1]! - v) / step,
        Math.min(-REJOIN_DECEL, a0, a1),
        Math.max(REJOIN_ACCEL, a0, a1),
      );
    } else {
      a = clamp(this.accelCommand, -EGO_MAX_DECEL, EGO_MAX_ACCEL);
    }
    let v1 = v + a * dt;
    let ds: number;
    if (v1 < 0) {
      // Stops within the step and stays stopped: no reversing.
      ds = a < 0 ? (v * v) / (-2 * a) : 0;
      v1 = 0;
      a = -v / dt;
    } else {
      ds = 0.5 * (v + v1) * dt;
    }
    const s1 = this.gridS + ds / (1 - this.road.curvature * this.egoD);
    if (commit) {
      this.gridS = s1;
      this.gridV = v1;
      this.gridA = a;
    }
    this.egoS = s1;
    this.egoV = v1;
    this.egoA = a;
  }

  private updateEgoPose(): void {
    const p = this.pose;
    this.road.toWorld(this.egoS, this.egoD, p);
    this.egoX = p[0]!;
    this.egoY = p[1]!;
    this.egoYaw = wrapAngle(p[2]!);
    const k = this.road.curvature;
    this.egoYawRate = (k * this.egoV) / (1 - k * this.egoD);
    this.egoVx = this.egoV * Math.cos(this.egoYaw);
    this.egoVy = this.egoV * Math.sin(this.egoYaw);
  }

  private updateActors(): void {
    const t = this.tNs * 1e-9;
    const p = this.pose;
    for (let i = 0; i < this.count; i++) {
      this.trajectories[i]!.pose(t, p);
      this.x[i] = p[POSE.x]!;
      this.y[i] = p[POSE.y]!;
      this.yaw[i] = p[POSE.yaw]!;
      this.vx[i] = p[POSE.vx]!;
      this.vy[i] = p[POSE.vy]!;
      this.ax[i] = p[POSE.ax]!;
      this.ay[i] = p[POSE.ay]!;
    }
  }

  private checkCollision(): void {
    if (this.collision) return;
    const c = Math.cos(this.egoYaw);
    const s = Math.sin(this.egoYaw);
    const mid = (EGO_BOX.front + EGO_BOX.rear) / 2;
    const ex = this.egoX + c * mid;
    const ey = this.egoY + s * mid;
    const el = EGO_BOX.front - EGO_BOX.rear;
    const ew = 2 * EGO_BOX.halfWidth;
    for (let i = 0; i < this.count; i++) {
      const dx = this.x[i]! - ex;
      const dy = this.y[i]! - ey;
      const reach = 0.5 * (el + ew + this.length[i]! + this.width[i]!);
      if (dx * dx + dy * dy > reach * reach) continue; // cheap reject before the exact test
      if (
        boxesOverlap(
          [ex, ey, this.egoYaw, el, ew],
          [this.x[i]!, this.y[i]!, this.yaw[i]!, this.length[i]!, this.width[i]!],
        )
      ) {
        this.collision = { actorIndex: i, actorId: this.actors[i]!.id, tNs: BigInt(this.tNs) };
        return;
      }
    }
  }

  /**
   * Pose of a sensor in the world: writes x, y, yaw, then its velocity over ground vx, vy
   * (ego velocity plus yaw rate times the lever arm) into out[0..4].
   */
  sensorPose(mount: Mount, out: Float64Array): void {
    sensorPoseOf(this, mount, out);
  }

  /** Writes ground truth records (see GT) for every actor; returns the count. */
  groundTruth(out: Float32Array, frame: 'odom' | 'base_link'): number {
    return this.writeGroundTruth(out, frame, 0);
  }

  /**
   * Ground truth of every actor `aheadS` s from now on its scripted path (the script does not
   * depend on the ego), in the ego's current base_link frame (GT records); returns the count.
   */
  futureGroundTruth(out: Float32Array, aheadS: number): number {
    const t = this.tNs * 1e-9 + aheadS;
    const p = this.pose;
    for (let i = 0; i < this.count; i++) {
      this.trajectories[i]!.pose(t, p);
      this.fx[i] = p[POSE.x]!;
      this.fy[i] = p[POSE.y]!;
      this.fyaw[i] = p[POSE.yaw]!;
      this.fvx[i] = p[POSE.vx]!;
      this.fvy[i] = p[POSE.vy]!;
      this.fax[i] = p[POSE.ax]!;
      this.fay[i] = p[POSE.ay]!;
    }
    return this.writeGroundTruth(out, 'base_link', 1);
  }

  private readonly fx: Float64Array;
  private readonly fy: Float64Array;
  private readonly fyaw: Float64Array;
  private readonly fvx: Float64Array;
  private readonly fvy: Float64Array;
  private readonly fax: Float64Array;
  private readonly fay: Float64Array;

  /** GT records from the current state (`which` 0) or the future one futureGroundTruth computed (1). */
  private writeGroundTruth(out: Float32Array, frame: 'odom' | 'base_link', which: 0 | 1): number {
    const X = which ? this.fx : this.x;
    const Y = which ? this.fy : this.y;
    const YAW = which ? this.fyaw : this.yaw;
    const VX = which ? this.fvx : this.vx;
    const VY = which ? this.fvy : this.vy;
    const AX = which ? this.fax : this.ax;
    const AY = which ? this.fay : this.ay;
    const n = this.count;
    if (out.length < n * GT.stride) {
      throw new RangeError(
        `ground truth needs ${n * GT.stride} floats (${n} actors x ${GT.stride}), got ${out.length}`,
      );
    }
    const base = frame === 'base_link';
    const c = base ? Math.cos(this.egoYaw) : 1;
    const s = base ? Math.sin(this.egoYaw) : 0;
    const ox = base ? this.egoX : 0;
    const oy = base ? this.egoY : this.odomOriginY;
    const oyaw = base ? this.egoYaw : 0;
    for (let i = 0; i < n; i++) {
      const o = i * GT.stride;
      const dx = X[i]! - ox;
      const dy = Y[i]! - oy;
      out[o + GT.id] = i + 1;
      out[o + GT.classId] = this.classId[i]!;
      out[o + GT.x] = c * dx + s * dy;
      out[o + GT.y] = -s * dx + c * dy;
      out[o + GT.z] = this.height[i]! / 2;
      out[o + GT.yaw] = wrapAngle(YAW[i]! - oyaw);
      out[o + GT.vx] = c * VX[i]! + s * VY[i]!;
      out[o + GT.vy] = -s * VX[i]! + c * VY[i]!;
      out[o + GT.ax] = c * AX[i]! + s * AY[i]!;
      out[o + GT.ay] = -s * AX[i]! + c * AY[i]!;
      out[o + GT.length] = this.length[i]!;
      out[o + GT.width] = this.width[i]!;
      out[o + GT.height] = this.height[i]!;
    }
    return n;
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
