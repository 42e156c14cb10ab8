import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { defaultPipelineSpec, loadPipelineSpec, parsePipelineSpec } from './pipeline-spec.js';
import { FileValidationError } from '../../schema/yaml-file.js';

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
    expect(onboard.sources).toEqual([{ type: 'zmq', endpoints: ['tcp://127.0.0.1:5555'], bind: false }]);
    expect(onboard.channels.lidar_top).toEqual({
      slots: 8,
      slotBytes: 4194304,
      access: 'sequential',
      producer: 'ingest',
    });
    expect(onboard.fusion.triggers).toEqual(['radar_front', 'lidar_top']);
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
    });
    expect(spec.channels.radar_front).toEqual({
      slots: 4,
      slotBytes: 65536,
      access: 'latest',
      producer: 'ingest',
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
    expect(spec.fusion.triggers).toEqual(['r1']);
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
    expect(issues.join('\n')).toMatch(/spec\.channels\.sonar: 'sonar' is neither a sensor kind/);
    expect(issues.join('\n')).toMatch(/spec\.fusion\.triggers\[0\]: unknown sensor 'nope'/);
  });

  it('refuses other kinds and bad YAML', () => {
    expect(issuesOf('apiVersion: smi-fusion.dev/v1alpha1\nkind: TrafficSplit\n')[0]).toMatch(
      /kind: "TrafficSplit" is not supported; allowed: Pipeline/,
    );
    expect(issuesOf('a: [\n')[0]).toMatch(/^p\.yaml:\d+: \(document\)/);
  });

  it('names an unreadable file', () => {
    expect(() => loadPipelineSpec('/nonexistent/x.yaml')).toThrow(
      '/nonexistent/x.yaml: (file): cannot read (ENOENT)',
    );
  });
});
