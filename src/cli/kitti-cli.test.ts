import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../test-support/drives.js';
import { writeKittiSequence } from '../test-support/kitti-files.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const dir = tempDir('kitti-cli');
const QUIET = ['--no-metrics', '--publish', 'tcp://127.0.0.1:*', '--log-level', 'warn'];
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });

describe('smi-fusion import kitti-tracking / replay --export-tracks kitti / evaluate', () => {
  it('imports, tracks through the service, exports KITTI results and scores them by the Car rules', () => {
    const files = writeKittiSequence(dir, '0101');
    writeKittiSequence(dir, '0102');
    const drives = join(dir, 'drives');
    const imp = run(
      'import',
      'kitti-tracking',
      '--detections',
      files.detections,
      '--calib',
      files.calib,
      '--labels',
      files.labels,
      '--out',
      drives,
    );
    expect(imp.stderr).toBe('');
    expect(imp.status).toBe(0);
    expect(imp.stdout).toMatch(
      /0101\.mcap: 30 frames, 84 detections \(scores: logit\), 55 scored labels, 60 ignored/,
    );
    expect(imp.stdout).toMatch(/0102\.mcap: 30 frames/);
    const results = join(dir, 'results');
    const json = join(dir, 'report.json');
    const rep = run(
      'replay',
      join(drives, '0101.mcap'),
      '--speed',
      'max',
      '--report',
      '--report-json',
      json,
      '--export-tracks',
      'kitti',
      results,
      ...QUIET,
    );
    expect(rep.status, rep.stderr).toBe(0);
    expect(rep.stdout).toMatch(/sensor\/objects\/kitti_objects +30 +30 +0 +0/);
    expect(rep.stdout).toMatch(/tracking scores \(3D IoU >= 0\.25, every true object, 30 track lists\)/);
    expect(rep.stdout).toMatch(/exported \d+ track lines to .*results\/0101\.txt/);
    const report = JSON.parse(readFileSync(json, 'utf8')) as {
      scores: { overall: { clear: { mota: number; gt: number; idsw: number } } };
    };
    expect(report.scores.overall.clear.gt).toBe(55);
    expect(report.scores.overall.clear.idsw).toBe(0);
    // Confirmation takes a second detection, so each car's first frame is a miss: 2 of 55.
    expect(report.scores.overall.clear.mota).toBeGreaterThan(0.9);
    const ev = run(
      'evaluate',
      'kitti-tracking',
      '--labels',
      files.labels,
      '--results',
      results,
      '--json',
      join(dir, 'ev.json'),
    );
    expect(ev.status, ev.stderr).toBe(0);
    expect(ev.stdout).toMatch(/KITTI tracking, Car, 3D IoU >= 0\.25, every output counted; sequences 0101/);
    const all = (
      JSON.parse(readFileSync(join(dir, 'ev.json'), 'utf8')) as {
        all: { clear: { mota: number; fp: number; fn: number } };
      }
    ).all;
    // The replay's own scores of the drive are the evaluator's of the exported file.
    expect(all.clear.mota).toBeCloseTo(report.scores.overall.clear.mota, 9);
    expect(all.clear.fp).toBe(0);
    expect(all.clear.fn).toBeLessThanOrEqual(3);
  });

  it('refuses bad input naming the flag or the file and line', () => {
    const files = writeKittiSequence(dir, '0103');
    expect(run('import', 'nuscenes', '--out', dir).stderr).toMatch(
      /format 'nuscenes' is not supported; allowed: ros2, kitti-tracking/,
    );
    const noCalib = run('import', 'kitti-tracking', '--detections', files.detections, '--out', dir);
    expect(noCalib.status).toBe(2);
    expect(noCalib.stderr).toMatch(/--calib DIR is required/);
    writeFileSync(join(files.calib, '0103.txt'), 'P2: 1 2\n');
    const bad = run(
      'import',
      'kitti-tracking',
      '--detections',
      files.detections,
      '--calib',
      files.calib,
      '--sequences',
      '0103',
      '--out',
      join(dir, 'x'),
    );
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`${join(files.calib, '0103.txt')}:1: P2 has 2 numbers; expected 12`);
    const ev = run('evaluate', 'kitti-tracking', '--labels', files.labels, '--results', join(dir, 'nowhere'));
    expect(ev.status).toBe(2);
    expect(ev.stderr).toMatch(/--results .*nowhere: no such directory/);
    const flag = run('replay', join(dir, 'drives', '0101.mcap'), '--export-tracks', 'kitti');
    expect(flag.status).toBe(2);
    expect(flag.stderr).toMatch(/--export-tracks kitti needs a DIR after it/);
  });

  it('runs a pipeline with only an object-list sensor and odometry: simulate, replay, scores', () => {
    const out = join(dir, 'object-list.mcap');
    const sim = run(
      'simulate',
      'cut-in',
      '--pipeline',
      join(root, 'pipelines/object-list.yaml'),
      '--out',
      out,
      '--duration',
      '6',
    );
    expect(sim.status, sim.stderr).toBe(0);
    expect(sim.stdout).toMatch(/6\.0 s of cut-in, 660 sensor messages/);
    const json = join(dir, 'object-list.json');
    const rep = run(
      'replay',
      out,
      '--speed',
      'max',
      '--report',
      '--report-json',
      json,
      '--match',
      'distance',
      ...QUIET,
    );
    expect(rep.status, rep.stderr).toBe(0);
    expect(rep.stdout).toMatch(/sensor\/objects\/objects_top +60 +60 +0 +0/);
    const scores = (
      JSON.parse(readFileSync(json, 'utf8')) as {
        scores: { overall: { clear: { mota: number; idsw: number } } };
      }
    ).scores.overall.clear;
    expect(scores.mota).toBeGreaterThan(0.75);
    expect(scores.idsw).toBe(0);
  });
});
