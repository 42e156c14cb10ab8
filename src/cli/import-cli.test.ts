import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../test-support/drives.js';
import { Ros2BagWriter, cloudMessage, odometryMessage, tfMessage } from '../test-support/ros2-bag.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const dir = tempDir('import-cli');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
const QUIET = ['--no-metrics', '--publish', 'tcp://127.0.0.1:*', '--log-level', 'warn'];
const T0 = 1_700_000_000_000_000_000n;

/** A 2 s bag: a lidar seeing a car-sized block 20 m ahead at 10 Hz, odometry at 50 Hz, static tf. */
async function bag(path: string): Promise<Uint8Array> {
  const b = new Ros2BagWriter();
  await b.topic('/tf_static', 'tf2_msgs/msg/TFMessage');
  await b.topic('/lidar', 'sensor_msgs/msg/PointCloud2');
  await b.topic('/odom', 'nav_msgs/msg/Odometry');
  await b.add(
    '/tf_static',
    tfMessage(T0, 'base_link', 'lidar', [1.3, 0, 1.9], { x: 0, y: 0, z: 0, w: 1 }),
    T0,
  );
  for (let i = 0; i < 100; i++) {
    const t = T0 + BigInt(i) * 20_000_000n;
    await b.add('/odom', odometryMessage(t, i * 0.2, 0, 0, 10, 0), t + 500_000n);
    if (i % 5 === 0) {
      const pts: number[][] = [];
      for (let u = 0; u < 20; u++)
        for (let w = 0; w < 10; w++) pts.push([18.7, -0.9 + w * 0.2, -1.9 + u * 0.07, 100]);
      await b.add('/lidar', cloudMessage(t, 'lidar', pts), t + 2_000_000n);
    }
  }
  return b.save(path);
}

const mapping = (topics: string) => `apiVersion: smi-fusion.dev/v1alpha1
kind: Ros2Import
metadata: { name: cli-bag }
spec:
  topics:
${topics}`;

describe('smi-fusion import ros2', () => {
  it('imports a bag into a drive that replays through the pipeline', async () => {
    const bagPath = join(dir, 'drive.mcap');
    await bag(bagPath);
    const map = join(dir, 'map.yaml');
    writeFileSync(
      map,
      mapping(
        '    - { topic: /lidar, sensor: lidar_top, kind: lidar }\n    - { topic: /odom, sensor: ego, kind: ego }\n',
      ),
    );
    const r = run('import', 'ros2', bagPath, '--map', map);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/drive\.smi\.mcap: 120 messages from .*drive\.mcap \(1\.98 s\)/);
    expect(r.stdout).toContain('lidar_top (lidar) <- /lidar: 20 of 20 converted');
    expect(r.stdout).toContain('ego (ego) <- /odom: 100 of 100 converted');
    expect(r.stdout).toContain('mount of lidar_top (frame lidar): x 1.300 y 0.000 z 1.900 yawDeg 0.00');
    const replay = run('replay', join(dir, 'drive.smi.mcap'), '--speed', 'max', '--report', ...QUIET);
    expect(replay.status, replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(/^replayed 120 messages/);
    expect(replay.stdout).toMatch(/sensor\/lidar\/lidar_top +20 +20 +0 +0/);
    expect(replay.stdout).toMatch(/outputs: [1-9]\d* track lists, [1-9]\d* plans/);
  });

  it('exits 1 naming the topic for a mapped topic the bag lacks, and where it stopped for a cut bag', async () => {
    const bagPath = join(dir, 'whole.mcap');
    const bytes = await bag(bagPath);
    const map = join(dir, 'missing.yaml');
    writeFileSync(
      map,
      mapping(
        '    - { topic: /lidar, sensor: lidar_top, kind: lidar }\n    - { topic: /velodyne_points, sensor: lidar_rear, kind: lidar }\n',
      ),
    );
    const missing = run('import', 'ros2', bagPath, '--map', map, '--out', join(dir, 'm.smi.mcap'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(
      /missing\.yaml: topic '\/velodyne_points' is not in .*whole\.mcap \(its topics: \/lidar, \/odom, \/tf_static\)/,
    );
    expect(missing.stdout).toContain(
      'unmapped: /odom (nav_msgs/msg/Odometry, 100 messages): not in the mapping',
    );

    const cut = join(dir, 'cut.mcap');
    writeFileSync(cut, bytes.subarray(0, bytes.byteLength >> 1));
    const partial = run('import', 'ros2', cut, '--map', map, '--out', join(dir, 'c.smi.mcap'));
    expect(partial.status).toBe(1);
    expect(partial.stderr).toMatch(
      new RegExp(
        `cut\\.mcap: stopped at byte \\d+ of ${bytes.byteLength >> 1}: .*; .*c\\.smi\\.mcap holds what was read before`,
      ),
    );
    expect(partial.stdout).toMatch(/lidar_top \(lidar\) <- \/lidar: [1-9]\d? of [1-9]\d? converted/);
  });

  it('refuses bad input: another format, no --map, an invalid mapping', () => {
    expect(run('import', 'kitti', 'x.mcap', '--map', 'm.yaml').stderr).toContain(
      "format 'kitti' is not supported; allowed: ros2",
    );
    expect(run('import', 'ros2', 'x.mcap').stderr).toContain('--map FILE is required');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, mapping('    - { topic: /lidar, sensor: lidar_top, kind: radar }\n'));
    const bagPath = join(dir, 'any.mcap');
    writeFileSync(bagPath, '');
    const r = run('import', 'ros2', bagPath, '--map', bad);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:6: spec\.topics\[0\]\.kind: .*lidar, ego, objects/);
  });
});
