import { readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { FileValidationError } from '../schema/yaml-file.js';
import { ObjectClass } from '../wire/layouts.js';
import { loadScenarioFile, parseScenario } from './scenario.js';
import { SCENARIO_DIR, scenarioFrom, scenarioText } from './sim.test-helpers.js';

const SHIPPED = [
  'highway-following',
  'cut-in',
  'stopped-vehicle',
  'lead-braking',
  'pedestrian-crossing',
  'urban-clutter',
  'sensor-dropout',
  'overtaking',
  'parked-cars-curve',
  'car-turning-off',
  'pedestrian-along-kerb',
];

/** Parses `spec` and returns the validation error it must raise. */
function errorOf(spec: string): FileValidationError {
  try {
    parseScenario(scenarioText(spec), 'bad.yaml');
  } catch (err) {
    if (err instanceof FileValidationError) return err;
    throw err;
  }
  throw new Error('expected a FileValidationError');
}

const base = `
duration: 10
road: { lanes: 2, laneWidth: 3.5 }
ego: { lane: 0, speed: 10 }
`;

describe('scenario files', () => {
  it('ships every named scenario, each loading with a duration of 10-30 s', () => {
    const files = readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.yaml'));
    expect(files.map((f) => f.replace(/\.yaml$/, '')).sort()).toEqual([...SHIPPED].sort());
    for (const name of SHIPPED) {
      const s = loadScenarioFile(join(SCENARIO_DIR, `${name}.yaml`));
      expect(s.name).toBe(name);
      expect(s.duration).toBeGreaterThanOrEqual(10);
      expect(s.duration).toBeLessThanOrEqual(30);
    }
  });

  it('resolves defaults: class sizes, gap to centre station, lane to lateral offset, crossing direction', () => {
    const s = scenarioFrom(`
duration: 10
ego: { lane: 1, speed: 10 }
actors:
  - { id: lead, class: car, lane: 1, gap: 20, speed: 10 }
  - id: ped
    class: pedestrian
    side: right
    s: 40
    motion: [{ cross: { at: 1, speed: 1.4 } }]
`);
    expect(s.seed).toBe(1);
    expect(s.road).toEqual({ lanes: 3, laneWidth: 3.5, curvature: 0 });
    const [lead, ped] = s.actors;
    expect(lead).toMatchObject({ gtId: 1, classId: ObjectClass.car, length: 4.6, width: 1.85, d: 0 });
    expect(lead!.s).toBeCloseTo(3.7 + 20 + 2.3);
    expect(ped!.d).toBeCloseTo(-(5.25 + 0.3 + 0.3));
    expect(ped!.motion[0]).toMatchObject({ kind: 'cross', to: 'left' });
    expect((ped!.motion[0] as { distance: number }).distance).toBeCloseTo(2 * 5.85);
  });

  it('loads from a file and reports an unreadable one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenario-'));
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, scenarioText(base));
    expect(loadScenarioFile(file).file).toBe(file);
    expect(() => loadScenarioFile(join(dir, 'missing.yaml'))).toThrow(
      /missing\.yaml: \(file\): cannot read \(ENOENT\)/,
    );
  });
});

describe('scenario validation errors name the file, line, path and what is allowed', () => {
  it('refuses an unknown field', () => {
    const e = errorOf(`${base}weather: rain\n`);
    expect(e.message).toBe(
      'bad.yaml:9: spec.weather: unknown field; allowed fields here: seed, duration, road, ego, actors, dropouts',
    );
  });

  it('refuses a negative speed', () => {
    const e = errorOf(`${base}actors:\n  - { id: a, class: car, lane: 1, s: 30, speed: -3 }\n`);
    expect(e.message).toBe(
      'bad.yaml:10: spec.actors[0].speed: -3 is not allowed; expected a number >= 0 and <= 70',
    );
  });

  it('refuses a zero duration', () => {
    const e = errorOf(`duration: 0\nego: { speed: 10 }\n`);
    expect(e.message).toBe('bad.yaml:6: spec.duration: 0 is not allowed; expected a number > 0 and <= 600');
  });

  it('refuses an actor overlapping the ego box at t=0', () => {
    const e = errorOf(`${base}actors:\n  - { id: rammer, class: car, lane: 0, s: 4 }\n`);
    expect(e.issues).toHaveLength(1);
    expect(e.message).toMatch(
      /^bad\.yaml:10: spec\.actors\[0\]: actor "rammer" overlaps the ego vehicle at t=0 .*expected a box clear of it/,
    );
  });

  it('refuses actors overlapping each other at t=0', () => {
    const e = errorOf(
      `${base}actors:\n  - { id: a, class: car, lane: 1, s: 30 }\n  - { id: b, class: car, lane: 1, s: 32 }\n`,
    );
    expect(e.message).toMatch(
      /^bad\.yaml:11: spec\.actors\[1\]: actor "b" overlaps actor "a" \(spec\.actors\[0\]\)/,
    );
  });

  it('refuses a lane outside the road, for the ego, an actor and a lane change', () => {
    const e = errorOf(`
duration: 10
road: { lanes: 2 }
ego: { lane: 2, speed: 10 }
actors:
  - id: a
    class: car
    lane: 5
    s: 30
    motion:
      - laneChange: { at: 1, toLane: 3 }
`);
    const lines = e.message.split('\n');
    expect(lines).toEqual([
      'bad.yaml:8: spec.ego.lane: lane 2 is outside the road; expected an integer from 0 to 1 (spec.road.lanes is 2; lane 0 is the rightmost)',
      'bad.yaml:12: spec.actors[0].lane: lane 5 is outside the road; expected an integer from 0 to 1 (spec.road.lanes is 2; lane 0 is the rightmost)',
      'bad.yaml:15: spec.actors[0].motion[0].laneChange.toLane: lane 3 is outside the road; expected an integer from 0 to 1 (spec.road.lanes is 2; lane 0 is the rightmost)',
    ]);
  });

  it('refuses a dropout naming an unknown sensor, or an empty window', () => {
    const e = errorOf(
      `${base}dropouts:\n  - { sensor: radar_back, from: 2, to: 4 }\n  - { sensor: lidar_top, from: 5, to: 5 }\n`,
    );
    const [unknown, empty] = e.message.split('\n');
    expect(unknown).toMatch(
      /^bad\.yaml:10: spec\.dropouts\[0\]\.sensor: unknown sensor "radar_back"; expected one of lidar_top, radar_front, .*, ego$/,
    );
    expect(empty).toBe(
      'bad.yaml:11: spec.dropouts[1].to: 5 is not allowed; expected a time > from (5) and <= spec.duration (10)',
    );
  });

  it('checks dropout sensors against the rig it is given', () => {
    const text = scenarioText(`${base}dropouts:\n  - { sensor: radar_back, from: 2, to: 4 }\n`);
    expect(parseScenario(text, 'x.yaml', { sensorIds: ['radar_back'] }).dropouts).toEqual([
      { sensor: 'radar_back', from: 2, to: 4 },
    ]);
  });

  it('needs exactly one of lane/side and of s/gap', () => {
    const e = errorOf(`${base}actors:\n  - { id: a, class: car, lane: 1, side: left, s: 30, gap: 3 }\n`);
    expect(e.message.split('\n')).toEqual([
      'bad.yaml:10: spec.actors[0]: both lane and side given; expected exactly one of lane, side',
      'bad.yaml:10: spec.actors[0]: both s and gap given; expected exactly one of s, gap',
    ]);
  });

  it('refuses impossible motion: a brake to a higher speed, steps out of order, overlapping lane moves, two kinds in one step', () => {
    // One actor with every impossible step; the two cases differ only in the ego.
    const withEgo = (ego: string): string => `
duration: 10
road: { lanes: 3 }
ego: ${ego}
actors:
  - id: a
    class: car
    lane: 1
    s: 40
    speed: 10
    motion:
      - brake: { at: 2, decel: 3, to: 15 }
      - laneChange: { at: 3, toLane: 2, duration: 3 }
      - laneChange: { at: 4, toLane: 1 }
      - speedChange: { at: 1, to: 12, rate: 1 }
      - { brake: { at: 8, decel: 2 }, cross: { at: 8, speed: 1 } }
`;
    const e = errorOf(withEgo('{ lane: 0, speed: 10, motion: [{ laneChange: { at: 1, toLane: 1 } }] }'));
    expect(e.message.split('\n')).toEqual([
      'bad.yaml:8: spec.ego.motion[0].laneChange: unknown field; allowed fields here: brake, speedChange',
    ]);
    const e2 = errorOf(withEgo('{ lane: 0, speed: 10 }'));
    expect(e2.message.split('\n')).toEqual([
      'bad.yaml:19: spec.actors[0].motion[3].speedChange.at: 1 is out of order; steps must be in time order, expected a time >= 4',
      'bad.yaml:20: spec.actors[0].motion[4]: has brake and cross; expected exactly one of brake, speedChange, laneChange, cross',
      'bad.yaml:16: spec.actors[0].motion[0].brake.to: 15 m/s is above the speed at 2 s (10 m/s); expected a speed <= 10 (use speedChange to speed up)',
      'bad.yaml:18: spec.actors[0].motion[2].laneChange.at: starts before the previous lane change or crossing ends; expected a time >= 6',
    ]);
  });

  it('refuses a wrong kind, apiVersion or name, and a file that is not one YAML document', () => {
    const text = scenarioText(base)
      .replace('kind: Scenario', 'kind: Pipeline')
      .replace('name: test', 'name: Bad_Name');
    expect(() => parseScenario(text, 'k.yaml')).toThrow(
      /k\.yaml:2: kind: "Pipeline" is not allowed; expected one of Scenario\nk\.yaml:4: metadata\.name: "Bad_Name" is not allowed; expected a string: lower-case letters, digits and -/,
    );
    expect(() => parseScenario(`${scenarioText(base)}---\n${scenarioText(base)}`, 'two.yaml')).toThrow(
      'two.yaml: (document): has 2 documents; expected exactly 1',
    );
    expect(() => parseScenario('spec: [unclosed', 'syntax.yaml')).toThrow(FileValidationError);
  });
});
