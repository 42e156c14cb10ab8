/**
 * Scenario files: Kubernetes-style YAML (`apiVersion: smi-fusion.dev/v1alpha1`, `kind: Scenario`),
 * validated with the shared schema validator, then checked for values that are well-formed but
 * impossible (a lane outside the road, an actor inside the ego at t=0, ...). Every problem
 * becomes a `FileValidationError` naming the file, the line, the path and what is allowed.
 * The field reference is in README.md beside this file.
 */
import { DEFAULT_RIG } from '../wire/rig.js';
import { arr, bool, int, num, obj, opt, req, str, type Schema } from '../schema/schema.js';
import {
  FileValidationError,
  parseYamlDocuments,
  readTextFile,
  validateDocument,
  type FileIssue,
  type ParsedDocument,
} from '../schema/yaml-file.js';
import { ACTOR_CLASSES, ACTOR_CLASS_INFO, EGO_BOX, type ActorClass } from './actor-classes.js';
import { SpeedProfile } from './motion.js';
import { Road } from './road.js';
import type { MotionStep, Scenario, ScenarioActor } from './scenario-types.js';
import { ActorTrajectory, POSE } from './trajectory.js';
import { boxesOverlap } from './geometry.js';

export type * from './scenario-types.js';

export const SCENARIO_API_VERSION = 'smi-fusion.dev/v1alpha1';

const speed = num({ min: 0, max: 70 });
const time = num({ min: 0 });
const positive = (max: number): Schema => num({ min: 0, exclusiveMin: true, max });

const brakeStep = obj({
  at: req(time),
  decel: req(positive(12)),
  to: opt(speed, 0),
});
const speedChangeStep = obj({
  at: req(time),
  to: req(speed),
  rate: req(positive(10)),
});
const laneChangeStep = obj({
  at: req(time),
  toLane: req(int({ min: 0 })),
  duration: opt(positive(20), 3),
});
const crossStep = obj({
  at: req(time),
  speed: req(positive(12)),
  to: opt(str({ enum: ['left', 'right'] })),
  distance: opt(positive(100)),
});

const ACTOR_STEP_KINDS = ['brake', 'speedChange', 'laneChange', 'cross'] as const;
const EGO_STEP_KINDS = ['brake', 'speedChange'] as const;

/** The schema of a scenario document (field reference: README.md). */
export const SCENARIO_SCHEMA: Schema = obj({
  apiVersion: req(str({ enum: [SCENARIO_API_VERSION] })),
  kind: req(str({ enum: ['Scenario'] })),
  metadata: req(
    obj({
      name: req(
        str({ pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, patternDoc: 'lower-case letters, digits and -' }),
      ),
      description: opt(str(), ''),
    }),
  ),
  spec: req(
    obj({
      seed: opt(int({ min: 0, max: 0xffffffff }), 1),
      duration: req(positive(600)),
      road: opt(
        obj({
          lanes: opt(int({ min: 1, max: 8 }), 3),
          laneWidth: opt(num({ min: 2.5, max: 5 }), 3.5),
          curvature: opt(num({ min: -0.02, max: 0.02 }), 0),
        }),
        { lanes: 3, laneWidth: 3.5, curvature: 0 },
      ),
      ego: req(
        obj({
          lane: opt(int({ min: 0 }), 0),
          offset: opt(num({ min: -1.5, max: 1.5 }), 0),
          speed: req(speed),
          motion: opt(arr(obj({ brake: opt(brakeStep), speedChange: opt(speedChangeStep) })), []),
        }),
      ),
      actors: opt(
        arr(
          obj({
            id: req(
              str({
                pattern: /^[A-Za-z][A-Za-z0-9_-]*$/,
                patternDoc: 'a letter, then letters, digits, _ or -',
              }),
            ),
            class: req(str({ enum: ACTOR_CLASSES })),
            lane: opt(int({ min: 0 })),
            side: opt(str({ enum: ['left', 'right'] })),
            offset: opt(num({ min: -20, max: 20 }), 0),
            s: opt(num({ min: -2000, max: 5000 })),
            gap: opt(num({ min: 0, max: 5000 })),
            speed: opt(speed, 0),
            oncoming: opt(bool(), false),
            size: opt(
              obj({
                length: opt(positive(25)),
                width: opt(positive(4)),
                height: opt(positive(5)),
              }),
            ),
            motion: opt(
              arr(
                obj({
                  brake: opt(brakeStep),
                  speedChange: opt(speedChangeStep),
                  laneChange: opt(laneChangeStep),
                  cross: opt(crossStep),
                }),
              ),
              [],
            ),
          }),
        ),
        [],
      ),
      dropouts: opt(
        arr(
          obj({
            sensor: req(str()),
            from: req(time),
            to: req(positive(600)),
          }),
        ),
        [],
      ),
    }),
  ),
});

/** Options of the scenario loader. */
export interface ScenarioLoadOptions {
  /** Sensor ids a dropout may name; defaults to the ids of DEFAULT_RIG. */
  sensorIds?: readonly string[];
}

/** Reads and validates a scenario file; throws FileValidationError on any problem. */
export function loadScenarioFile(path: string, options: ScenarioLoadOptions = {}): Scenario {
  const { text, issues } = readTextFile(path);
  if (text === undefined) throw new FileValidationError(issues);
  return parseScenario(text, path, options);
}

/**
 * Parses and validates scenario YAML. `fileName` is only used in error messages and
 * `Scenario.file`. Throws FileValidationError listing every problem found.
 */
export function parseScenario(text: string, fileName: string, options: ScenarioLoadOptions = {}): Scenario {
  const { docs, issues } = parseYamlDocuments(text, fileName);
  if (issues.length > 0) throw new FileValidationError(issues);
  if (docs.length !== 1) {
    throw new FileValidationError([
      {
        file: fileName,
        doc: 0,
        path: '(document)',
        message: `has ${docs.length} documents; expected exactly 1`,
      },
    ]);
  }
  const doc = docs[0]!;
  const schemaIssues = validateDocument(doc, SCENARIO_SCHEMA, fileName);
  if (schemaIssues.length > 0) throw new FileValidationError(schemaIssues);
  const checker = new Checker(doc, fileName);
  const scenario = build(
    doc.value as RawDocument,
    fileName,
    options.sensorIds ?? DEFAULT_RIG.map((s) => s.id),
    checker,
  );
  if (checker.issues.length > 0) throw new FileValidationError(checker.issues);
  return scenario;
}

// ---- shape of a document that passed the schema (defaults filled in) ----

interface RawBrake {
  at: number;
  decel: number;
  to: number;
}
interface RawSpeedChange {
  at: number;
  to: number;
  rate: number;
}
interface RawLaneChange {
  at: number;
  toLane: number;
  duration: number;
}
interface RawCross {
  at: number;
  speed: number;
  to?: 'left' | 'right';
  distance?: number;
}
interface RawStep {
  brake?: RawBrake;
  speedChange?: RawSpeedChange;
  laneChange?: RawLaneChange;
  cross?: RawCross;
}
interface RawActor {
  id: string;
  class: ActorClass;
  lane?: number;
  side?: 'left' | 'right';
  offset: number;
  s?: number;
  gap?: number;
  speed: number;
  oncoming: boolean;
  size?: { length?: number; width?: number; height?: number };
  motion: RawStep[];
}
interface RawDocument {
  metadata: { name: string; description: string };
  spec: {
    seed: number;
    duration: number;
    road: { lanes: number; laneWidth: number; curvature: number };
    ego: { lane: number; offset: number; speed: number; motion: RawStep[] };
    actors: RawActor[];
    dropouts: { sensor: string; from: number; to: number }[];
  };
}

/** Collects semantic issues with the line of their path. */
class Checker {
  readonly issues: FileIssue[] = [];
  constructor(
    private readonly doc: ParsedDocument,
    private readonly file: string,
  ) {}
  add(path: string, message: string): void {
    this.issues.push({ file: this.file, doc: this.doc.index, line: this.doc.lineOf(path), path, message });
  }
}

/** Gap kept between the road edge and a box placed with `side`, m. */
const SIDE_CLEARANCE = 0.3;

function build(raw: RawDocument, file: string, sensorIds: readonly string[], ck: Checker): Scenario {
  const spec = raw.spec;
  const road = new Road(spec.road.lanes, spec.road.laneWidth, spec.road.curvature);
  const laneRange = `an integer from 0 to ${road.lanes - 1} (spec.road.lanes is ${road.lanes}; lane 0 is the rightmost)`;
  const checkLane = (lane: number, path: string): void => {
    if (lane >= road.lanes) ck.add(path, `lane ${lane} is outside the road; expected ${laneRange}`);
  };

  checkLane(spec.ego.lane, 'spec.ego.lane');
  const egoMotion = steps(spec.ego.motion, 'spec.ego.motion', EGO_STEP_KINDS, spec.duration, ck);
  checkSpeedSteps(spec.ego.speed, egoMotion.steps, egoMotion.paths, ck);

  const actors: ScenarioActor[] = [];
  const seen = new Map<string, number>();
  const unplaced = new Set<number>();
  spec.actors.forEach((a, i) => {
    const path = `spec.actors[${i}]`;
    const prev = seen.get(a.id);
    if (prev !== undefined)
      ck.add(
        `${path}.id`,
        `duplicate actor id ${JSON.stringify(a.id)} (also spec.actors[${prev}]); ids must be unique`,
      );
    seen.set(a.id, i);
    const info = ACTOR_CLASS_INFO[a.class];
    const length = a.size?.length ?? info.length;
    const width = a.size?.width ?? info.width;
    const height = a.size?.height ?? info.height;

    // An actor whose position is ambiguous is left out of the overlap checks (its error says why).
    let placed = true;
    let d = 0;
    if ((a.lane === undefined) === (a.side === undefined)) {
      ck.add(
        path,
        `${a.lane === undefined ? 'neither' : 'both'} lane and side given; expected exactly one of lane, side`,
      );
      placed = false;
    } else if (a.lane !== undefined) {
      checkLane(a.lane, `${path}.lane`);
      d = road.laneCentre(Math.min(a.lane, road.lanes - 1)) + a.offset;
    } else {
      const out = road.halfWidth + SIDE_CLEARANCE + width / 2;
      d = (a.side === 'left' ? out : -out) + a.offset;
    }

    let s = 0;
    if ((a.s === undefined) === (a.gap === undefined)) {
      ck.add(
        path,
        `${a.s === undefined ? 'neither' : 'both'} s and gap given; expected exactly one of s, gap`,
      );
      placed = false;
    } else {
      s = a.s ?? EGO_BOX.front + a.gap! + length / 2;
    }

    const motion = steps(a.motion, `${path}.motion`, ACTOR_STEP_KINDS, spec.duration, ck);
    checkSpeedSteps(a.speed, motion.steps, motion.paths, ck);
    let lateralEnd = 0;
    let dNow = d;
    motion.steps.forEach((m, j) => {
      const p = motion.paths[j]!;
      if (m.kind === 'laneChange') checkLane(m.toLane, `${p}.toLane`);
      if (m.kind !== 'laneChange' && m.kind !== 'cross') return;
      if (m.at < lateralEnd) {
        ck.add(
          `${p}.at`,
          `starts before the previous lane change or crossing ends; expected a time >= ${round(lateralEnd)}`,
        );
      }
      if (m.kind === 'cross') {
        // Defaults: walk toward the road centre, to the mirror position on the other side.
        const raw = motion.raws[j]!.cross!;
        m.to = raw.to ?? (dNow < 0 ? 'left' : dNow > 0 ? 'right' : 'left');
        const toward = m.to === 'left' ? 1 : -1;
        m.distance =
          raw.distance ?? (dNow * toward < 0 ? 2 * Math.abs(dNow) : road.halfWidth + 1 - dNow * toward);
        lateralEnd = m.at + m.distance / m.speed;
        dNow += toward * m.distance;
      } else {
        lateralEnd = m.at + m.duration;
        dNow = road.laneCentre(Math.min(m.toLane, road.lanes - 1));
      }
    });

    if (!placed) unplaced.add(i);
    actors.push({
      id: a.id,
      gtId: i + 1,
      class: a.class,
      classId: info.classId,
      length,
      width,
      height,
      s,
      d,
      speed: a.speed,
      oncoming: a.oncoming,
      motion: motion.steps,
    });
  });

  checkOverlaps(actors, unplaced, road, spec.ego.lane, spec.ego.offset, ck);

  spec.dropouts.forEach((dr, i) => {
    const path = `spec.dropouts[${i}]`;
    if (!sensorIds.includes(dr.sensor)) {
      ck.add(
        `${path}.sensor`,
        `unknown sensor ${JSON.stringify(dr.sensor)}; expected one of ${sensorIds.join(', ')}`,
      );
    }
    if (dr.from >= spec.duration)
      ck.add(`${path}.from`, `${dr.from} is not allowed; expected a time < spec.duration (${spec.duration})`);
    if (dr.to <= dr.from || dr.to > spec.duration) {
      ck.add(
        `${path}.to`,
        `${dr.to} is not allowed; expected a time > from (${dr.from}) and <= spec.duration (${spec.duration})`,
      );
    }
  });

  return {
    name: raw.metadata.name,
    description: raw.metadata.description,
    file,
    seed: spec.seed,
    duration: spec.duration,
    road: { ...spec.road },
    ego: { lane: spec.ego.lane, offset: spec.ego.offset, speed: spec.ego.speed, motion: egoMotion.steps },
    actors,
    dropouts: spec.dropouts.map((dr) => ({ ...dr })),
  };
}

/** Converts raw motion steps; each must hold exactly one allowed kind, in time order, before the end. */
function steps(
  raw: readonly RawStep[],
  path: string,
  kinds: readonly (keyof RawStep)[],
  duration: number,
  ck: Checker,
): { steps: MotionStep[]; paths: string[]; raws: RawStep[] } {
  const out: MotionStep[] = [];
  const paths: string[] = [];
  const raws: RawStep[] = [];
  let last = 0;
  raw.forEach((r, j) => {
    const present = kinds.filter((k) => r[k] !== undefined);
    if (present.length !== 1) {
      ck.add(
        `${path}[${j}]`,
        `has ${present.length === 0 ? 'no step' : present.join(' and ')}; expected exactly one of ${kinds.join(', ')}`,
      );
      return;
    }
    const kind = present[0]!;
    const p = `${path}[${j}].${kind}`;
    let step: MotionStep;
    if (r.brake) step = { kind: 'brake', at: r.brake.at, to: r.brake.to, rate: r.brake.decel };
    else if (r.speedChange)
      step = { kind: 'speedChange', at: r.speedChange.at, to: r.speedChange.to, rate: r.speedChange.rate };
    else if (r.laneChange)
      step = {
        kind: 'laneChange',
        at: r.laneChange.at,
        toLane: r.laneChange.toLane,
        duration: r.laneChange.duration,
      };
    else step = { kind: 'cross', at: r.cross!.at, speed: r.cross!.speed, to: 'left', distance: 0 };
    if (step.at < last)
      ck.add(
        `${p}.at`,
        `${step.at} is out of order; steps must be in time order, expected a time >= ${last}`,
      );
    if (step.at >= duration)
      ck.add(`${p}.at`, `${step.at} is not allowed; expected a time < spec.duration (${duration})`);
    last = Math.max(last, step.at);
    out.push(step);
    paths.push(p);
    raws.push(r);
  });
  return { steps: out, paths, raws };
}

/** A brake must brake: its target must not exceed the speed it starts from. */
function checkSpeedSteps(
  v0: number,
  list: readonly MotionStep[],
  paths: readonly string[],
  ck: Checker,
): void {
  const events = [];
  for (let j = 0; j < list.length; j++) {
    const m = list[j]!;
    if (m.kind !== 'brake' && m.kind !== 'speedChange') continue;
    if (m.kind === 'brake') {
      const v = new SpeedProfile(v0, events).speedAt(m.at);
      if (m.to > v + 1e-9) {
        ck.add(
          `${paths[j]!}.to`,
          `${m.to} m/s is above the speed at ${m.at} s (${round(v)} m/s); expected a speed <= ${round(v)} (use speedChange to speed up)`,
        );
      }
    }
    events.push({ at: m.at, to: m.to, rate: m.rate });
  }
}

/** No actor may start inside the ego or inside another actor. */
function checkOverlaps(
  actors: readonly ScenarioActor[],
  unplaced: ReadonlySet<number>,
  road: Road,
  egoLane: number,
  egoOffset: number,
  ck: Checker,
): void {
  const pose = new Float64Array(POSE.stride);
  const boxes: (number[] | undefined)[] = [];
  const egoD = road.laneCentre(Math.min(egoLane, road.lanes - 1)) + egoOffset;
  // The ego starts at s = 0 where the road heads along +x, so its box is axis-aligned.
  const ego = [
    (EGO_BOX.front + EGO_BOX.rear) / 2,
    egoD,
    0,
    EGO_BOX.front - EGO_BOX.rear,
    2 * EGO_BOX.halfWidth,
  ];
  actors.forEach((a, i) => {
    if (unplaced.has(i)) {
      boxes.push(undefined);
      return;
    }
    new ActorTrajectory(a, road).pose(0, pose);
    const box = [pose[POSE.x]!, pose[POSE.y]!, pose[POSE.yaw]!, a.length, a.width];
    if (boxesOverlap(box, ego)) {
      ck.add(
        `spec.actors[${i}]`,
        `actor ${JSON.stringify(a.id)} overlaps the ego vehicle at t=0 (ego box: x ${EGO_BOX.rear}..${EGO_BOX.front} m from its rear axle, ${2 * EGO_BOX.halfWidth} m wide, in lane ${egoLane}); expected a box clear of it (move it with s, gap, lane or side)`,
      );
    }
    boxes.forEach((other, j) => {
      if (other && boxesOverlap(box, other)) {
        ck.add(
          `spec.actors[${i}]`,
          `actor ${JSON.stringify(a.id)} overlaps actor ${JSON.stringify(actors[j]!.id)} (spec.actors[${j}]) at t=0; expected boxes clear of each other`,
        );
      }
    });
    boxes.push(box);
  });
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
