import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { defaultPipelineSpec, loadPipelineSpec, parsePipelineSpec } from './pipeline-spec.js';
import { FileValidationError } from '../../schema/yaml-file.js';
import { threadWarnings } from './stage-spec.js';

const pipelinesDir = fileURLToPath(new URL('../../../pipelines/', import.meta.url));

const header = 'apiVersion: smi-fusion.dev/v1alpha1\nkind: Pipeline\nmetadata:\n  name: t\n';

function issuesOf(text: string): string[] {
  try {
    parsePipelineSpec(text, 'p.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(FileValidationError);
    return (err as Error).message.split('\n');
  }
  throw new Error('expected a validation error');
}

describe('pipeline spec', () => {
  it('loads every shipped pipeline', () => {
    const onboard = loadPipelineSpec(`${pipelinesDir}onboard.yaml`);
    expect(onboard.sources).toEqual([
      { type: 'zmq', name: 'zmq-0', endpoints: ['tcp://127.0.0.1:5555'], bind: false, remote: false },
    ]);
    expect(onboard.channels.lidar_top).toEqual({
      slots: 8,
      slotBytes: 4194304,
      access: 'sequential',
      producer: 'ingest',
      whenFull: 'drop-oldest',
    });
    expect(onboard.stages.find((s) => s.name === 'tracker')).toMatchObject({
      class: 'critical',
      budgetMs: 15,
    });
    const sim = loadPipelineSpec(`${pipelinesDir}simulated.yaml`);
    expect(sim.sources[0]).toMatchObject({ type: 'simulator', scenario: 'highway-following', loop: true });
    expect(sim.sensors).toHaveLength(defaultPipelineSpec().sensors.length);
  });

  it('applies channel overrides by kind and then by sensor id', () => {
    const spec = parsePipelineSpec(
      `${header}spec:\n  channels:\n    radar: { slots: 4 }\n    radar_front: { access: latest }\n`,
      'p.yaml',
    );
    expect(spec.channels.radar_fl).toEqual({
      slots: 4,
      slotBytes: 65536,
      access: 'sequential',
      producer: 'ingest',
      whenFull: 'drop-oldest',
    });
    expect(spec.channels.radar_front).toEqual({
      slots: 4,
      slotBytes: 65536,
      access: 'latest',
      producer: 'ingest',
      whenFull: 'drop-oldest',
    });
  });

  it('places the pool in a shared-memory segment named after the pipeline unless told otherwise', () => {
    expect(parsePipelineSpec(`${header}spec: {}\n`, 'p.yaml').pool).toEqual({
      segment: '/smi-fusion-t',
      implementation: 'auto',
    });
    const spec = parsePipelineSpec(
      `${header}spec:\n  pool: { segment: /car-7, implementation: js }\n`,
      'p.yaml',
    );
    expect(spec.pool).toEqual({ segment: '/car-7', implementation: 'js' });
    const issues = issuesOf(`${header}spec:\n  pool: { segment: no-slash, implementation: fast }\n`).join(
      '\n',
    );
    expect(issues).toMatch(/spec\.pool\.segment/);
    expect(issues).toMatch(/spec\.pool\.implementation.*auto, native, js/);
  });

  it('takes an external producer per channel', () => {
    const spec = parsePipelineSpec(
      `${header}spec:\n  channels:\n    lidar_top: { producer: external }\n`,
      'p.yaml',
    );
    expect(spec.channels.lidar_top!.producer).toBe('external');
    expect(spec.channels.radar_front!.producer).toBe('ingest');
  });

  it('converts mounts from degrees', () => {
    const spec = parsePipelineSpec(
      `${header}spec:\n  sensors:\n    - { id: r1, kind: radar, rateHz: 20, mount: { x: 3, yawDeg: 90 } }\n    - { id: e, kind: ego, rateHz: 100 }\n`,
      'p.yaml',
    );
    expect(spec.sensors[0]!.mount).toEqual({ x: 3, y: 0, z: 0, yaw: Math.PI / 2 });
    expect(spec.scheduler.triggerCycles.triggers).toEqual(['r1']);
  });

  it('names file, line, path and what is allowed', () => {
    const issues = issuesOf(
      `${header}spec:\n  sensors:\n    - { id: r1, kind: sonar, rateHz: -1 }\n  outputs:\n    publish: http://x\n  colour: red\n`,
    );
    expect(issues).toContain(
      'p.yaml:7: spec.sensors[0].kind: "sonar" is not allowed; expected one of lidar, radar, camera, objects, ego',
    );
    expect(issues).toContain(
      'p.yaml:7: spec.sensors[0].rateHz: -1 is not allowed; expected a number > 0 and <= 10000',
    );
    expect(
      issues.some((l) => l.startsWith('p.yaml:9: spec.outputs.publish:') && l.includes('ZeroMQ endpoint')),
    ).toBe(true);
    expect(issues.some((l) => l.startsWith('p.yaml:10: spec.colour: unknown field'))).toBe(true);
  });

  it('refuses cross-field mistakes', () => {
    const issues = issuesOf(
      `${header}spec:\n  sources:\n    - { type: zmq, scenario: x }\n  channels:\n    sonar: { slots: 2 }\n  fusion:\n    triggers: [nope]\n`,
    );
    expect(issues.join('\n')).toMatch(/spec\.sources\[0\]\.endpoints: missing/);
    expect(issues.join('\n')).toMatch(/spec\.sources\[0\]\.scenario: not allowed on a zmq source/);
    expect(issues.join('\n')).toMatch(/spec\.channels\.sonar: 'sonar' is neither a channel kind/);
    expect(issues.join('\n')).toMatch(
      /spec\.fusion\.triggers: removed: .*spec\.scheduler\.triggerCycles\.triggers/,
    );
  });

  it('sizes default channels to cover half a second at the sensor rate, dropping the oldest when full', () => {
    const spec = defaultPipelineSpec();
    expect(spec.channels.ego).toMatchObject({ slots: 64, whenFull: 'drop-oldest' }); // 100 Hz
    expect(spec.channels.radar_front).toMatchObject({ slots: 16 }); // 20 Hz
    expect(spec.channels.cam_front).toMatchObject({ slots: 32 }); // 30 Hz
    expect(spec.derivedChannels).toEqual([{ name: 'lidar_top.boxes', kind: 'boxes', source: 'lidar_top' }]);
    expect(spec.channels['lidar_top.boxes']).toMatchObject({ slots: 8, access: 'sequential' });
  });

  it('declares the default stages with their classes, budgets, inputs and placements', () => {
    const byName = Object.fromEntries(defaultPipelineSpec().stages.map((s) => [s.name, s]));
    expect(byName['lidar-extraction']).toMatchObject({
      class: 'high',
      placement: 'dedicated',
      inputs: [{ channel: 'lidar_top', access: 'latest' }],
    });
    expect(byName.tracker!.class).toBe('critical');
    expect(byName.tracker!.inputs.map((i) => i.channel)).toEqual([
      'ego',
      'radar_front',
      'radar_fl',
      'radar_fr',
      'radar_rl',
      'radar_rr',
      'lidar_top.boxes',
    ]);
    expect(byName['camera-fusion']).toMatchObject({ class: 'normal', placement: 'tracker' });
    expect(byName.planner).toMatchObject({ class: 'critical', placement: 'tracker' });
    expect(byName.recorder!.class).toBe('best-effort');
  });

  it('merges spec.stages over the defaults by name', () => {
    const spec = parsePipelineSpec(
      `${header}spec:\n  stages:\n    - { name: tracker, budgetMs: 8 }\n    - { name: camera-fusion, enabled: false }\n`,
      'p.yaml',
    );
    expect(spec.stages.find((s) => s.name === 'tracker')).toMatchObject({ budgetMs: 8, class: 'critical' });
    expect(spec.stages.some((s) => s.name === 'camera-fusion')).toBe(false);
  });

  it('refuses a bad class, a budget out of range, an unknown input channel and a bad placement', () => {
    const issues = issuesOf(
      `${header}spec:\n  stages:\n` +
        `    - { name: tracker, class: urgent }\n` +
        `    - { name: planner, budgetMs: 0 }\n` +
        `    - { name: lidar-extraction, budgetMs: 20000 }\n` +
        `    - { name: camera-fusion, inputs: [{ channel: cam_nope }] }\n`,
    ).join('\n');
    expect(issues).toMatch(
      /p\.yaml:7: spec\.stages\[0\]\.class: "urgent" is not allowed; expected one of critical, high, normal, best-effort/,
    );
    expect(issues).toMatch(
      /p\.yaml:8: spec\.stages\[1\]\.budgetMs: 0 is not allowed; expected a number > 0 and <= 10000/,
    );
    expect(issues).toMatch(/spec\.stages\[2\]\.budgetMs: 20000 is not allowed/);
    const second = issuesOf(
      `${header}spec:\n  stages:\n    - { name: camera-fusion, inputs: [{ channel: cam_nope }] }\n    - { name: tracker, placement: shared }\n`,
    ).join('\n');
    expect(second).toMatch(
      /p\.yaml:7: spec\.stages\[0\]\.inputs\[0\]\.channel: no channel 'cam_nope'; channels: lidar_top, /,
    );
    expect(second).toMatch(/spec\.stages\[1\]\.placement: 'shared' not allowed: the tracker keeps its state/);
  });

  it('warns, naming the numbers, when dedicated threads outnumber the cores', () => {
    const spec = parsePipelineSpec(
      `${header}spec:\n  stages:\n    - { name: visualisation, placement: dedicated }\n`,
      'p.yaml',
    );
    expect(threadWarnings(spec.stages, 4)).toEqual([]);
    expect(threadWarnings(spec.stages, 2)[0]!.message).toMatch(
      /^3 dedicated stage threads \(lidar-extraction, tracker, visualisation\) on a 2-core machine/,
    );
    expect(threadWarnings(defaultPipelineSpec().stages, 2)).toEqual([]);
  });

  it('refuses other kinds and bad YAML', () => {
    expect(issuesOf('apiVersion: smi-fusion.dev/v1alpha1\nkind: TrafficService\n')[0]).toMatch(
      /kind: "TrafficService" is not supported; allowed: Pipeline, TrafficSplit, TrafficTarget/,
    );
    expect(issuesOf('a: [\n')[0]).toMatch(/^p\.yaml:\d+: \(document\)/);
  });

  it('names an unreadable file', () => {
    expect(() => loadPipelineSpec('/nonexistent/x.yaml')).toThrow(
      '/nonexistent/x.yaml: (file): cannot read (ENOENT)',
    );
  });
  it('keeps the stage topology in the sync-window baseline (lidar extraction, boxes) and drops it in trigger cycles', () => {
    const with_ = (mode: string) =>
      parsePipelineSpec(`${header}spec:\n  scheduler: { mode: ${mode} }\n`, 'p.yaml');
    const sync = with_('sync-window');
    expect(sync.scheduler.mode).toBe('sync-window');
    expect(sync.derivedChannels.map((c) => c.kind)).toEqual(['boxes']);
    expect(sync.stages.map((s) => s.name)).toContain('lidar-extraction');
    const cycles = with_('trigger-cycles');
    expect(cycles.derivedChannels).toEqual([]);
    expect(cycles.stages.map((s) => s.name)).not.toContain('lidar-extraction');
    expect(issuesOf(`${header}spec:\n  scheduler: { mode: windowed }\n`).join('\n')).toMatch(/sync-window/);
  });
});
