import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { tempDir } from '../test-support/drives.js';
import { DEFAULT_RIG } from '../wire/rig.js';
import { parsePipelineSpec } from '../smi/spec/pipeline-spec.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const dir = tempDir('rig-cli');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });

interface RigSensor {
  id: string;
  kind: string;
  rateHz: number;
  mount: { x: number; y: number; z: number; yawDeg: number };
  fovDeg: number;
  rangeM: number;
  camera?: { focalPx: number; cx: number; cy: number; imageWidth: number };
}

describe('smi-fusion rig', () => {
  it('prints the built-in rig as YAML in spec units, with camera intrinsics, that a spec can take back', () => {
    const r = run('rig');
    expect(r.status, r.stderr).toBe(0);
    const doc = parse(r.stdout) as { sensors: RigSensor[]; ego: { frontM: number } };
    expect(doc.sensors.map((s) => s.id)).toEqual(DEFAULT_RIG.map((s) => s.id));
    const fl = doc.sensors.find((s) => s.id === 'radar_fl')!;
    expect(fl.mount).toEqual({ x: 3.5, y: 0.8, z: 0.5, yawDeg: 45 });
    const cam = doc.sensors.find((s) => s.id === 'cam_front')!;
    expect(cam.camera).toMatchObject({ imageWidth: 1920, cx: 960, cy: 540 });
    expect(cam.camera!.focalPx).toBeCloseTo(960 / Math.tan(Math.PI / 6), 2);
    expect(doc.sensors.find((s) => s.id === 'cam_front_left')!.camera!.focalPx).toBeCloseTo(960, 2);
    expect(doc.ego.frontM).toBe(3.7);
    // The printed sensors are valid spec sensors: the same rig comes back.
    const sensors = doc.sensors.map(({ id, kind, rateHz, mount, fovDeg, rangeM }) => ({
      id,
      kind,
      rateHz,
      mount,
      fovDeg,
      rangeM,
    }));
    const spec = parsePipelineSpec(
      stringify({
        apiVersion: 'smi-fusion.dev/v1alpha1',
        kind: 'Pipeline',
        metadata: { name: 'back' },
        spec: { sensors },
      }),
      'back.yaml',
    );
    spec.sensors.forEach((s, i) => {
      expect(s.id).toBe(DEFAULT_RIG[i]!.id);
      expect(s.mount.yaw).toBeCloseTo(DEFAULT_RIG[i]!.mount.yaw, 9);
    });
  });

  it('prints the rig of --pipeline, and refuses a bad spec naming the file', () => {
    const good = join(dir, 'two.yaml');
    writeFileSync(
      good,
      `apiVersion: smi-fusion.dev/v1alpha1
kind: Pipeline
metadata: { name: two }
spec:
  sensors:
    - { id: radar_front, kind: radar, rateHz: 20, mount: { x: 3.7, z: 0.5, yawDeg: -10 }, fovDeg: 20, rangeM: 200 }
    - { id: ego, kind: ego, rateHz: 100 }
`,
    );
    const r = run('rig', '--pipeline', good);
    expect(r.status, r.stderr).toBe(0);
    const doc = parse(r.stdout) as { pipeline: string; sensors: RigSensor[] };
    expect(doc.pipeline).toBe('two');
    expect(doc.sensors.map((s) => [s.id, s.mount.yawDeg])).toEqual([
      ['radar_front', -10],
      ['ego', 0],
    ]);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'apiVersion: smi-fusion.dev/v1alpha1\nkind: Pipeline\nmetadata: { name: b }\nspec: { sensors: [{ id: x, kind: sonar, rateHz: 1 }] }\n',
    );
    const b = run('rig', '--pipeline', bad);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/bad\.yaml:4: spec\.sensors\[0\]\.kind/);
  });
});
