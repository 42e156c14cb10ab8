import { describe, expect, it } from 'vitest';
import { parsePipelineSpec, parseSpecSet } from './pipeline-spec.js';
import { FileValidationError } from '../../schema/yaml-file.js';
import { DEFAULT_TRACKER_CONFIG } from '../../fusion/tracker-config.js';
import { DEFAULT_LIDAR_CLUSTERER_CONFIG } from '../../fusion/lidar-clusterer.js';
import { LIDAR_EXTRACTION_PARAMS, TRACKER_PARAMS, paramsSchemaOf } from './stage-params.js';
import { validate } from '../../schema/schema.js';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { specJsonSchema, specJsonSchemaText } from './spec-json-schema.js';

const API = 'apiVersion: smi-fusion.dev/v1alpha1\n';
const pipeline = `${API}kind: Pipeline\nmetadata:\n  name: t\nspec:\n  stages:\n    - name: tracker\n      params: { gateChi2Dim2: 9.5 }\n`;
const split = (body: string): string => `${API}kind: TrafficSplit\nmetadata:\n  name: s\nspec:\n${body}`;
const canary = split(
  '  stage: tracker\n  mode: canary\n  backends:\n    - { version: v1, weight: 90 }\n    - { version: v2, weight: 10, params: { gateChi2Dim2: 14 } }\n',
);

function issuesOf(texts: { text: string; file: string }[]): string[] {
  try {
    parseSpecSet(texts);
  } catch (err) {
    expect(err).toBeInstanceOf(FileValidationError);
    return (err as Error).message.split('\n');
  }
  throw new Error('expected a validation error');
}
const one = (text: string): string[] => issuesOf([{ text, file: 'p.yaml' }]);

describe('stage parameters in the spec', () => {
  it('carries tracker, lidar and planner params to their stages; planner params override spec.planning', () => {
    const spec = parsePipelineSpec(
      `${API}kind: Pipeline\nmetadata: { name: t }\nspec:\n  planning: { cruiseSpeedMps: 20, timeGapS: 2 }\n  stages:\n    - name: tracker\n      params: { gateChi2Dim2: 9.5, existenceHitGain: { radar: 0.25 }, radarReference: center }\n    - name: lidar-extraction\n      params: { minClusterPoints: 8 }\n    - name: planner\n      params: { cruiseSpeedMps: 25 }\n`,
      'p.yaml',
    );
    const stage = (n: string) => spec.stages.find((s) => s.name === n)!;
    expect(stage('tracker').params).toEqual({
      gateChi2Dim2: 9.5,
      existenceHitGain: { radar: 0.25 },
      radarReference: 'center',
    });
    expect(stage('lidar-extraction').params).toEqual({ minClusterPoints: 8 });
    expect(spec.planning.cruiseSpeedMps).toBe(25);
    expect(spec.planning.timeGapS).toBe(2);
  });

  it('refuses an unknown or out-of-range param with file, line, path and what is allowed', () => {
    const lines = one(
      `${API}kind: Pipeline\nmetadata: { name: t }\nspec:\n  stages:\n    - name: tracker\n      params:\n        gateChi2Dim2: -1\n        gateChi2: 3\n    - name: recorder\n      params: { x: 1 }\n`,
    );
    expect(lines).toContain(
      'p.yaml:8: spec.stages[0].params.gateChi2Dim2: -1 is not allowed; expected a number >= 0 and <= 1000',
    );
    expect(lines.find((l) => l.includes('params.gateChi2:'))).toMatch(
      /^p\.yaml:9: .*unknown field; allowed fields here: jerkPsd, /,
    );
    expect(lines.find((l) => l.includes('stages[1].params'))).toMatch(/a 'recorder' stage has no parameters/);
  });

  it('every default of the tracker and the clusterer lies in its documented range', () => {
    for (const [table, defaults, type] of [
      [TRACKER_PARAMS, DEFAULT_TRACKER_CONFIG, 'tracker'],
      [LIDAR_EXTRACTION_PARAMS, DEFAULT_LIDAR_CLUSTERER_CONFIG, 'lidar-extraction'],
    ] as const) {
      const values: Record<string, unknown> = {};
      for (const key of Object.keys(table)) {
        expect(key in defaults, `${type}.${key} has a default`).toBe(true);
        values[key] = structuredClone((defaults as Record<string, unknown>)[key]);
      }
      expect(validate(values, paramsSchemaOf(type)!)).toEqual([]);
    }
  });
});

describe('TrafficSplit', () => {
  it('resolves a canary across files of one set', () => {
    const spec = parseSpecSet([
      { text: pipeline, file: 'pipeline.yaml' },
      { text: canary, file: 'split.yaml' },
    ]);
    expect(spec.splits).toEqual([
      {
        name: 's',
        stage: 'tracker',
        stageType: 'tracker',
        mode: 'canary',
        primary: { version: 'v1', weight: 90 },
        alternative: { version: 'v2', weight: 10, params: { gateChi2Dim2: 14 } },
        origin: 'split.yaml',
      },
    ]);
  });

  it('resolves a shadow in a multi-document file', () => {
    const spec = parsePipelineSpec(
      `${pipeline}---\n${split('  stage: planner\n  mode: shadow\n  backends:\n    - { version: v1 }\n    - { version: aeb-late, params: { ttcFullS: 0.7 } }\n')}`,
      'p.yaml',
    );
    expect(spec.splits[0]).toMatchObject({
      mode: 'shadow',
      stageType: 'planner',
      alternative: { weight: 0 },
    });
  });

  it('refuses conflicts: weights that do not sum to 100, negative ones, unknown stages, two splits on one stage', () => {
    const bad = (body: string) => one(`${pipeline}---\n${split(body)}`);
    expect(
      bad(
        '  stage: tracker\n  mode: canary\n  backends:\n    - { version: a, weight: 80 }\n    - { version: b, weight: 10 }\n',
      ),
    ).toContain('p.yaml:18 (document 2): spec.backends: weights sum to 90; they must sum to 100');
    expect(
      bad(
        '  stage: tracker\n  mode: canary\n  backends:\n    - { version: a, weight: 110 }\n    - { version: b, weight: -10 }\n',
      ).join('\n'),
    ).toMatch(/spec\.backends\[1\]\.weight: -10 is not allowed; expected an integer >= 0 and <= 100/);
    expect(
      bad('  stage: trackr\n  mode: shadow\n  backends:\n    - { version: a }\n    - { version: b }\n').join(
        '\n',
      ),
    ).toMatch(/spec\.stage: no stage 'trackr'; stages: lidar-extraction, tracker, /);
    expect(
      bad(
        '  stage: tracker\n  mode: shadow\n  backends:\n    - { version: a, weight: 50 }\n    - { version: b }\n',
      ).join('\n'),
    ).toMatch(/weights are for mode canary/);
    const twice = issuesOf([
      { text: pipeline, file: 'pipeline.yaml' },
      { text: canary, file: 'a.yaml' },
      { text: canary, file: 'b.yaml' },
    ]);
    expect(twice.join('\n')).toMatch(
      /^b\.yaml:6: spec\.stage: stage 'tracker' is already split by 's' \(a\.yaml\); one split per stage$/m,
    );
  });
});

describe('TrafficTarget', () => {
  const target = (body: string) => `${API}kind: TrafficTarget\nmetadata:\n  name: r\nspec:\n${body}`;
  it('resolves rules over named sources, external producers and stages', () => {
    const spec = parsePipelineSpec(
      `${API}kind: Pipeline\nmetadata: { name: t }\nspec:\n  sources:\n    - { type: zmq, name: radar-ecu, endpoints: [tcp://127.0.0.1:5555] }\n---\n${target('  op: write\n  channels: [radar_front]\n  subjects: [{ source: radar-ecu }, { external: true }]\n')}---\n${target('  op: read\n  channels: [radar_front]\n  subjects: [{ stage: tracker }]\n')}`,
      'p.yaml',
    );
    expect(spec.targets.map((t) => [t.op, t.channels, t.subjects])).toEqual([
      ['write', ['radar_front'], [{ source: 'radar-ecu' }, { external: true }]],
      ['read', ['radar_front'], [{ stage: 'tracker' }]],
    ]);
  });

  it('refuses an unknown channel, source or stage and a subject of the wrong op', () => {
    const lines = one(
      `${pipeline}---\n${target('  op: write\n  channels: [radar_front, nope]\n  subjects: [{ source: ghost }, { stage: tracker }]\n')}`,
    ).join('\n');
    expect(lines).toMatch(/spec\.channels\[1\]: no channel 'nope'; channels: lidar_top, /);
    expect(lines).toMatch(/spec\.subjects\[0\]\.source: no source 'ghost'; sources: simulator-0/);
    expect(lines).toMatch(/spec\.subjects\[1\]\.stage: a stage is a subject of op read/);
  });
});

describe('bad YAML input', () => {
  it('caps alias expansion (a billion-laughs document is refused, not expanded)', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const next = String.fromCharCode(97 + i);
      bomb.push(
        `${next}: &${next} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`,
      );
    }
    const started = Date.now();
    const lines = one(`${bomb.join('\n')}\n`);
    expect(lines.join('\n')).toMatch(/alias/i);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('quotes a 1 MB value cut short', () => {
    const huge = 'x'.repeat(1 << 20);
    const lines = one(`${API}kind: Pipeline\nmetadata:\n  name: ${huge}\n`);
    expect(lines.join('\n').length).toBeLessThan(1000);
    expect(lines.find((l) => l.includes('metadata.name'))).toMatch(
      /metadata\.name: "x{80}… \(1048576 characters\)" is not allowed/,
    );
  });

  it('refuses duplicate keys with their line', () => {
    expect(one(`${API}kind: Pipeline\nmetadata:\n  name: a\n  name: b\n`)[0]).toMatch(
      /^p\.yaml:5: .*unique/i,
    );
  });

  it('refuses a file cut off mid-write', () => {
    const cut = pipeline.slice(0, pipeline.indexOf('params') + 9);
    expect(one(cut).join('\n')).toMatch(/p\.yaml:\d+/);
  });
});

describe('pipelines/schema.json', () => {
  const dir = fileURLToPath(new URL('../../../pipelines/', import.meta.url));
  it('is the schema the loader validates with (regenerate with npm run schema)', () => {
    expect(readFileSync(join(dir, 'schema.json'), 'utf8')).toBe(specJsonSchemaText());
  });

  it('accepts every shipped spec and refuses an unknown field, as the loader does', () => {
    const check = new Ajv2020({ allErrors: true, strict: false }).compile(specJsonSchema());
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) {
      const doc = parse(readFileSync(join(dir, f), 'utf8')) as unknown;
      expect(check(doc), `${f}: ${JSON.stringify(check.errors)}`).toBe(true);
    }
    const bad = parse(`${pipeline}  extra: 1\n`) as unknown;
    expect(check(bad)).toBe(false);
    const badParam = parse(pipeline.replace('gateChi2Dim2: 9.5', 'gateChi2Dim2: -9.5')) as unknown;
    expect(check(badParam)).toBe(false);
  });

  it('the shipped split examples load beside the simulated pipeline', () => {
    for (const f of ['tracker-canary.yaml', 'planner-shadow.yaml']) {
      const spec = parseSpecSet(
        ['simulated.yaml', f].map((name) => ({ text: readFileSync(join(dir, name), 'utf8'), file: name })),
      );
      expect(spec.splits).toHaveLength(1);
    }
  });
});
