import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtureDrive, tempDir } from '../test-support/drives.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const dir = tempDir('control-cli');

describe('CLI: splits in replay, validate through a pipe', () => {
  it('replay --split FILE --report includes the divergence of a shadow from the primary', async () => {
    const drive = await fixtureDrive('urban-clutter');
    const r = spawnSync(
      process.execPath,
      [
        cli,
        'replay',
        drive,
        '--speed',
        'max',
        '--split',
        join(root, 'pipelines/planner-shadow.yaml'),
        '--report',
        '--no-metrics',
        '--publish',
        'tcp://127.0.0.1:*',
        '--log-level',
        'warn',
      ],
      { cwd: root, encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const plans = Number(/outputs: (\d+) track lists/.exec(r.stdout)![1]);
    expect(plans).toBeGreaterThan(100);
    expect(r.stdout).toContain(
      `TrafficSplit planner-aeb-late-shadow (shadow): v1 made ${plans} output frames (100.0%), aeb-late 0 (0.0%)`,
    );
    expect(r.stdout).toMatch(new RegExp(`divergence of aeb-late from v1 over ${plans} frames: \\d+ differ`));
    // The planner is split: both plan on the same tracks, so no track differs.
    expect(r.stdout).toMatch(/\d+ track pairs matched, 0 tracks only v1 had, 0 only aeb-late/);
    expect(r.stdout).toMatch(/plans: \d+ of \d+ decisions differ/);
  }, 150_000);

  it('validate writes every message when its output is a pipe', () => {
    // 400 bad files, 3 problems each: far more than a pipe buffer holds.
    const files: string[] = [];
    for (let i = 0; i < 400; i++) {
      const f = join(dir, `bad-${i}.yaml`);
      writeFileSync(f, 'apiVersion: v0\nkind: Pipeline\nmetadata: { name: "Not A Name" }\n');
      files.push(f);
    }
    const r = spawnSync(process.execPath, [cli, 'validate', ...files], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines.length).toBe(1200);
    expect(lines.at(-1)).toMatch(/bad-399\.yaml:/);
  }, 60_000);
});
