/**
 * DriveSimulator: replays a scenario as a time-ordered stream of sensor messages, each one
 * payload in its wire layout (LAYOUTS in src/wire/layouts.ts), in the sensor's own frame.
 *
 * Time is the simulator's own clock (ns from scenario start); nothing reads the wall clock or
 * Math.random, so one scenario and seed give byte-identical payloads on every run. Each sensor
 * draws noise from its own PRNG stream, so removing a sensor from the rig does not change the
 * others' data. The world advances only as messages are taken, which lets a caller close the
 * loop: read messages up to time t, decide, call setEgoAccelCommand, read on.
 */
import { endianness } from 'node:os';
import { LAYOUTS, type SensorKind } from '../wire/layouts.js';
import type { SensorConfig } from '../wire/rig.js';
import { CameraModel } from './camera.js';
import { LidarModel } from './lidar.js';
import { ObjectListModel } from './object-list.js';
import { OdometryModel } from './odometry.js';
import { Prng } from './prng.js';
import { RadarModel } from './radar.js';
import type { Scenario } from './scenario-types.js';
import { GT, World, type Collision } from './world.js';
import { snapshotLength } from './scene-snapshot.js';

/** One sensor message. The simulator reuses the object passed to next(); copy what you keep. */
export interface SimMessage {
  kind: SensorKind;
  sensorIndex: number;
  sensorId: string;
  /** Frame index of this sensor since the start; frames lost in a dropout leave a gap. */
  seq: number;
  /** Scenario time of capture, ns from scenario start. */
  tNs: bigint;
  /** Records in the payload. */
  count: number;
  /** count * stride bytes in the kind's layout; valid until the next call to next(). */
  payload: Uint8Array;
  /**
   * With `castLidarElsewhere`, a lidar message carries no payload (count 0) but the scene to cast
   * it from (scene-snapshot.ts), valid until the next call; undefined otherwise.
   */
  scene?: Float64Array;
}

/** Makes an empty message to pass to `DriveSimulator.next`. */
export function createSimMessage(): SimMessage {
  return {
    kind: 'ego',
    sensorIndex: -1,
    sensorId: '',
    seq: -1,
    tNs: 0n,
    count: 0,
    payload: new Uint8Array(0),
  };
}

export interface DriveSimulatorOptions {
  /** Overrides the scenario's seed. */
  seed?: number;
  /** Noise-free sensors: no noise, misses, clutter or misclassification (for tests and debugging). */
  ideal?: boolean;
  /**
   * Lidar messages carry the scene instead of the scan, for a caster on another thread (the live
   * simulator: casting inline would hold up every message due meanwhile).
   */
  castLidarElsewhere?: boolean;
  /**
   * With castLidarElsewhere: a lidar message is handed out this long before its capture time,
   * with the scene predicted for that time (World.sceneAhead), so that its scan can be cast by
   * then. Default 50 ms.
   */
  lidarLeadNs?: number;
}

interface SensorModel {
  scan(world: World): number;
}

/** The lidar model of a rig sensor as the simulator makes it (the same noise stream anywhere). */
export function lidarModelOf(cfg: SensorConfig, seed: number, ideal = false): LidarModel {
  return new LidarModel(cfg, new Prng(seed >>> 0, streamOf(cfg.id)), ideal);
}

/** PRNG stream of a sensor: FNV-1a of its id, so a sensor's noise does not depend on its place in the rig. */
function streamOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Sensors' first frames are staggered (real sensors are not triggered together) by a multiple
 * of this step picked from the sensor id, ns; the phase is below one period.
 */
const PHASE_STEP_NS = 250_000;

export class DriveSimulator {
  /** Scenario length, ns: messages are produced for capture times in [0, durationNs). */
  readonly durationNs: bigint;
  readonly scenario: Scenario;
  readonly rig: readonly SensorConfig[];
  readonly seed: number;
  private readonly world: World;
  private readonly models: SensorModel[];
  private readonly outputs: Uint8Array[];
  private readonly strides: number[];
  private readonly periodNs: Float64Array;
  private readonly phaseNs: Float64Array;
  /** Next frame index and its capture time (ns, as a double: exact below 2⁵³) per sensor. */
  private readonly tick: Float64Array;
  private readonly dueNs: Float64Array;
  private readonly dropFrom: Float64Array[];
  private readonly dropTo: Float64Array[];
  private readonly duration: number;
  private readonly castLidarElsewhere: boolean;
  private readonly leadNs: Float64Array;
  private readonly scene: Float64Array;

  constructor(scenario: Scenario, rig: readonly SensorConfig[], options: DriveSimulatorOptions = {}) {
    // Payloads are written through typed arrays, which use the host's byte order; the wire is little-endian.
    if (endianness() !== 'LE')
      throw new Error('DriveSimulator writes little-endian payloads and needs a little-endian host');
    this.scenario = scenario;
    this.rig = rig;
    this.seed = (options.seed ?? scenario.seed) >>> 0;
    this.duration = Math.round(scenario.duration * 1e9);
    this.durationNs = BigInt(this.duration);
    this.world = new World(scenario);
    const ideal = options.ideal ?? false;
    this.castLidarElsewhere = options.castLidarElsewhere ?? false;
    const lead = this.castLidarElsewhere ? (options.lidarLeadNs ?? 50_000_000) : 0;
    this.leadNs = Float64Array.from(rig, (c) => (c.kind === 'lidar' ? lead : 0));
    this.scene = new Float64Array(snapshotLength(this.world.count));
    this.models = [];
    this.outputs = [];
    this.strides = [];
    for (const cfg of rig) {
      if (!(cfg.rateHz > 0)) throw new RangeError(`sensor ${cfg.id}: rateHz must be > 0`);
      const rng = new Prng(this.seed, streamOf(cfg.id));
      let model: SensorModel & { bytes: Uint8Array };
      switch (cfg.kind) {
        case 'lidar':
          model = new LidarModel(cfg, rng, ideal);
          break;
        case 'radar':
          model = new RadarModel(cfg, rng, ideal);
          break;
        case 'camera':
          model = new CameraModel(cfg, rng, ideal);
          break;
        case 'objects':
          model = new ObjectListModel(cfg, rng, ideal);
          break;
        case 'ego':
          model = new OdometryModel(rng, ideal);
          break;
      }
      this.models.push(model);
      this.outputs.push(model.bytes);
      this.strides.push(LAYOUTS[cfg.kind].stride);
    }
    const n = rig.length;
    this.periodNs = Float64Array.from(rig, (c) => 1e9 / c.rateHz);
    this.phaseNs = Float64Array.from(
      rig,
      (c, i) => ((streamOf(c.id) % 40) * PHASE_STEP_NS) % Math.round(this.periodNs[i]!),
    );
    this.dropFrom = rig.map((c) =>
      Float64Array.from(
        scenario.dropouts.filter((d) => d.sensor === c.id),
        (d) => Math.round(d.from * 1e9),
      ),
    );
    this.dropTo = rig.map((c) =>
      Float64Array.from(
        scenario.dropouts.filter((d) => d.sensor === c.id),
        (d) => Math.round(d.to * 1e9),
      ),
    );
    this.tick = new Float64Array(n);
    this.dueNs = new Float64Array(n);
    for (let i = 0; i < n; i++) this.schedule(i, 0);
  }

  /** Sets sensor i's next frame to the first at or after frame index k that is not in a dropout. */
  private schedule(i: number, k: number): void {
    const from = this.dropFrom[i]!;
    const to = this.dropTo[i]!;
    for (;;) {
      const t = this.phaseNs[i]! + Math.round(k * this.periodNs[i]!);
      let silent = false;
      for (let w = 0; w < from.length; w++) {
        if (t >= from[w]! && t < to[w]!) {
          silent = true;
          break;
        }
      }
      if (!silent || t >= this.duration) {
        this.tick[i] = k;
        this.dueNs[i] = t;
        return;
      }
      k++;
    }
  }

  /**
   * Index of the sensor due next (lowest rig index on ties), or -1 at the end: by capture time,
   * less the lead of a lidar cast elsewhere.
   */
  private nextSensor(): number {
    let best = -1;
    let bestT = Infinity;
    for (let i = 0; i < this.dueNs.length; i++) {
      const t = this.dueNs[i]!;
      if (t >= this.duration) continue;
      if (t - this.leadNs[i]! < bestT) {
        bestT = t - this.leadNs[i]!;
        best = i;
      }
    }
    return best;
  }

  /** Capture time of the next message, or undefined when the scenario is over. */
  peekNextNs(): bigint | undefined {
    const i = this.nextSensor();
    return i < 0 ? undefined : BigInt(this.dueNs[i]!);
  }

  /**
   * Produces the next message in capture-time order into `out` (ties go to the sensor listed
   * first in the rig). Advances the world to its time first. Returns false at the end.
   */
  next(out: SimMessage): boolean {
    const i = this.nextSensor();
    if (i < 0) return false;
    const t = this.dueNs[i]!;
    const cfg = this.rig[i]!;
    const elsewhere = this.castLidarElsewhere && cfg.kind === 'lidar';
    // A scene handed out ahead is predicted: the world itself stays at the messages' time.
    if (!elsewhere) this.world.advanceTo(t);
    const count = elsewhere ? 0 : this.models[i]!.scan(this.world);
    out.scene = elsewhere ? this.world.sceneAhead(t, this.scene) : undefined;
    out.kind = cfg.kind;
    out.sensorIndex = i;
    out.sensorId = cfg.id;
    out.seq = this.tick[i]!;
    out.tNs = BigInt(t);
    out.count = count;
    out.payload = this.outputs[i]!.subarray(0, count * this.strides[i]!);
    this.schedule(i, this.tick[i]! + 1);
    return true;
  }

  /**
   * Advances the world to `tNs` without producing a message (never backwards, never past the
   * next message's capture time), so that a command can take effect at its own time.
   */
  advanceTo(tNs: bigint): void {
    const next = this.peekNextNs();
    if (next !== undefined && tNs > next) {
      throw new RangeError(`advanceTo(${tNs}): the next message is due at ${next} ns; take it first`);
    }
    this.world.advanceTo(Number(tNs));
  }

  /** Current simulation time (capture time of the last message), ns. */
  get nowNs(): bigint {
    return BigInt(this.world.tNs);
  }

  /** Number of scripted actors (ground-truth records per call). */
  get actorCount(): number {
    return this.world.count;
  }

  /** Scenario ids of the actors, indexed by ground-truth id - 1. */
  get actorIds(): readonly string[] {
    return this.world.actors.map((a) => a.id);
  }

  /**
   * Writes ground truth of every actor at the current simulation time into `out` (GT layout,
   * 13 float32 per actor: id, classId, x, y, z, yaw, vx, vy, ax, ay, length, width, height)
   * and returns the count. Frame `odom` (default; origin at the ego's start pose) or
   * `base_link` (the ego's current pose). Throws RangeError if `out` is too small.
   */
  groundTruth(out: Float32Array, frame: 'odom' | 'base_link' = 'odom'): number {
    return this.world.groundTruth(out, frame);
  }

  /**
   * Ground truth of every actor `aheadS` s from now along its script (actors do not react to
   * the ego), in the ego's current base_link frame: GT records into `out`; returns the count.
   * For judging a situation from what will really happen (closed-loop outcomes).
   */
  futureGroundTruth(out: Float32Array, aheadS: number): number {
    return this.world.futureGroundTruth(out, aheadS);
  }

  /**
   * True ego state at the current time, odom frame: writes x, y, yaw, speed, yawRate, accel
   * (the EGO layout, without noise) into out[0..5].
   */
  egoState(out: Float64Array): void {
    const w = this.world;
    out[0] = w.egoX;
    out[1] = w.egoY - w.odomOriginY;
    out[2] = w.egoYaw;
    out[3] = w.egoV;
    out[4] = w.egoYawRate;
    out[5] = w.egoA;
  }

  /**
   * Closed loop: from the current time on, the ego follows `accel` (m/s², clamped to
   * [-11, 5]; it stops rather than reverses). null returns control to the script, which the
   * ego rejoins at no more than 3 m/s² braking or 2 m/s² accelerating.
   */
  setEgoAccelCommand(accel: number | null): void {
    this.world.setAccelCommand(accel);
  }

  /** First contact between the ego and an actor so far, if any. */
  get collision(): Collision | undefined {
    return this.world.collision;
  }
}

export { GT };
