/**
 * The simulated tracking suite: a scenario run open loop through the simulator and the tracker
 * in one thread (no service, so it is quick and exact in time), each lidar scan's track list
 * scored against the simulator's ground truth at that instant with CLEAR MOT, HOTA and sAMOTA,
 * plus position and velocity errors of matched vehicles and recall while a sensor is silent.
 */
import { MultiSensorTracker, type TrackerConfig } from '../fusion/multi-sensor-tracker.js';
import { matchFrame } from '../metrics/clear-mot.js';
import {
  evaluateMot,
  trackBox,
  truthBox,
  type MatchRule,
  type MotEvaluation,
  type MotFrame,
} from '../metrics/index.js';
import { createSimMessage, DriveSimulator, GT, loadScenarioFile } from '../sim/index.js';
import { LAYOUTS, ObjectClass, TRACK } from '../wire/layouts.js';
import { DETECTOR_RIG, type SensorConfig } from '../wire/rig.js';
import { resolveScenarioFile } from './simulator-source.js';

export interface SuiteOptions {
  /** Sensors simulated and fused (default: the built-in rig with the object detector). */
  rig?: readonly SensorConfig[];
  seed?: number;
  /** Stop after this much scenario time (default: the scenario's duration, or the first contact). */
  durationS?: number;
  /** True objects within this range (m, base_link) are scored; farther ones are ignored. */
  rangeM?: number;
  /** Match rule (default: centre within 2 m). */
  match?: MatchRule;
  tracker?: Partial<TrackerConfig>;
}

export interface SuiteScores {
  scenario: string;
  seconds: number;
  frames: number;
  match: MatchRule;
  rangeM: number;
  evaluation: MotEvaluation;
  /** Distinct true objects scored, and identity switches per 100 of them. */
  trueTracks: number;
  idswPer100: number;
  /** Over matched vehicles (cars, trucks): RMSE of position (m) and velocity (m/s), samples. */
  vehiclePositionRmse: number;
  vehicleVelocityRmse: number;
  vehicleSamples: number;
  /** Recall of vehicles within range while some sensor is silent (a scenario's dropouts), NaN if none. */
  dropoutRecall: number;
  /** Recall of vehicles within range when no sensor is silent. */
  nominalRecall: number;
  /** Scenario time of the ego's first contact with an actor (the run stops there), s. */
  collisionS?: number;
}

const VEHICLES = new Set<number>([ObjectClass.car, ObjectClass.truck]);

/** Runs and scores one scenario (a name in fixtures/scenarios or a path). */
export function scoreScenario(scenarioName: string, options: SuiteOptions = {}): SuiteScores {
  const rig = options.rig ?? DETECTOR_RIG;
  const rangeM = options.rangeM ?? 60;
  const match = options.match ?? { kind: 'distance', threshold: 2 };
  const scenario = loadScenarioFile(resolveScenarioFile(scenarioName), { sensorIds: rig.map((s) => s.id) });
  const sim = new DriveSimulator(scenario, rig, { seed: options.seed });
  const tracker = new MultiSensorTracker(rig, { maxTracks: 64, ...options.tracker });
  const endNs = BigInt(Math.round(Math.min(options.durationS ?? Infinity, scenario.duration) * 1e9));
  const msg = createSimMessage();
  const out = new Float32Array(64 * TRACK.stride);
  const truth = new Float32Array(Math.max(1, sim.actorCount) * GT.stride);
  const frames: MotFrame[] = [];
  // Per frame: velocities (vx, vy pairs) of its tracks and true objects, and whether a sensor is silent.
  const trackVel: number[][] = [];
  const truthVel: number[][] = [];
  const silent: boolean[] = [];
  let collisionS: number | undefined;
  while (sim.next(msg) && msg.tNs < endNs) {
    if (sim.collision) {
      collisionS = Number(sim.collision.tNs) / 1e9;
      break;
    }
    const { payload } = msg;
    const bytes = msg.count * LAYOUTS[msg.kind].stride;
    if (msg.kind === 'ego') {
      tracker.ingestEgo(new Float64Array(payload.buffer, payload.byteOffset, bytes / 8), msg.tNs);
    } else {
      const view = new Float32Array(payload.buffer, payload.byteOffset, bytes / 4);
      const ingest = {
        lidar: tracker.ingestLidar,
        radar: tracker.ingestRadar,
        camera: tracker.ingestCamera,
        objects: tracker.ingestObjects,
      }[msg.kind];
      ingest.call(tracker, msg.sensorIndex, view, msg.count, msg.tNs);
    }
    if (msg.kind !== 'lidar' && !(msg.kind === 'objects' && !rig.some((s) => s.kind === 'lidar'))) continue;
    const n = tracker.writeTracks(msg.tNs, out);
    const g = sim.groundTruth(truth, 'base_link');
    const frame: MotFrame = { gt: [], tracks: [] };
    const tv: number[] = [];
    const gv: number[] = [];
    for (let a = 0; a < g; a++) {
      const o = a * GT.stride;
      const box = truthBox(truth, o);
      frame.gt.push({
        id: truth[o + GT.id]!,
        classId: truth[o + GT.classId]!,
        box,
        ignored: Math.hypot(box.x, box.y) > rangeM,
      });
      gv.push(truth[o + GT.vx]!, truth[o + GT.vy]!);
    }
    for (let k = 0; k < n; k++) {
      const o = k * TRACK.stride;
      const box = trackBox(out, o);
      frame.tracks.push({
        id: out[o + TRACK.id]!,
        classId: out[o + TRACK.classId]!,
        box,
        score: out[o + TRACK.existence]!,
        ignorable: Math.hypot(box.x, box.y) > rangeM,
      });
      tv.push(out[o + TRACK.vx]!, out[o + TRACK.vy]!);
    }
    frames.push(frame);
    trackVel.push(tv);
    truthVel.push(gv);
    const t = Number(msg.tNs) / 1e9;
    silent.push(scenario.dropouts.some((d) => t >= d.from && t < d.to));
  }
  const evaluation = evaluateMot([{ name: scenario.name, frames }], match);
  const ids = new Set<number>();
  let pos2 = 0;
  let vel2 = 0;
  let samples = 0;
  const recall = { dropout: [0, 0], nominal: [0, 0] };
  frames.forEach((f, i) => {
    const { trackToGt } = matchFrame(match, f);
    const gtMatched = new Set<number>();
    trackToGt.forEach((gi, k) => {
      if (gi < 0) return;
      gtMatched.add(gi);
      const g = f.gt[gi]!;
      if (g.ignored || !VEHICLES.has(g.classId)) return;
      const t = f.tracks[k]!;
      pos2 += (t.box.x - g.box.x) ** 2 + (t.box.y - g.box.y) ** 2;
      vel2 +=
        (trackVel[i]![2 * k]! - truthVel[i]![2 * gi]!) ** 2 +
        (trackVel[i]![2 * k + 1]! - truthVel[i]![2 * gi + 1]!) ** 2;
      samples++;
    });
    f.gt.forEach((g, gi) => {
      if (g.ignored) return;
      ids.add(g.id);
      if (!VEHICLES.has(g.classId)) return;
      const r = silent[i] ? recall.dropout : recall.nominal;
      r[1]!++;
      if (gtMatched.has(gi)) r[0]!++;
    });
  });
  return {
    scenario: scenario.name,
    seconds: frames.length > 0 ? Number(sim.nowNs) / 1e9 : 0,
    frames: frames.length,
    match,
    rangeM,
    evaluation,
    trueTracks: ids.size,
    idswPer100: ids.size > 0 ? (100 * evaluation.clear.idsw) / ids.size : 0,
    vehiclePositionRmse: samples > 0 ? Math.sqrt(pos2 / samples) : NaN,
    vehicleVelocityRmse: samples > 0 ? Math.sqrt(vel2 / samples) : NaN,
    vehicleSamples: samples,
    dropoutRecall: recall.dropout[1]! > 0 ? recall.dropout[0]! / recall.dropout[1]! : NaN,
    nominalRecall: recall.nominal[1]! > 0 ? recall.nominal[0]! / recall.nominal[1]! : NaN,
    collisionS,
  };
}
