/**
 * Recorder fault with a real process: `record --max-mb` stands for a disk that fills mid-drive.
 * The recording stops with an error, the service goes on fusing and publishing, and the drive
 * stays readable up to its last complete chunk.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readAll, tempDir } from '../test-support/drives.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/cli/main.js');

describe('smi-fusion record on a filling disk (real process)', () => {
  // 62.5 kB chunks: two are on disk when the 150 kB limit is reached, early in the run.
  it('stops recording with a logged error and exit 1, keeps running the pipeline, leaves a readable drive', async () => {
    const dir = tempDir('recorder-faults');
    const out = join(dir, 'full.mcap');
    // Its own segment name: the built-in spec's would collide with other services running beside it.
    const spec = join(dir, 'sim.yaml');
    writeFileSync(
      spec,
      [
        'apiVersion: smi-fusion.dev/v1alpha1',
        'kind: Pipeline',
        'metadata: { name: recorder-faults }',
        'spec:',
        '  sources: [{ type: simulator, scenario: highway-following, loop: true, closedLoop: true }]',
        `  pool: { segment: /smi-recorder-faults-${process.pid} }`,
        '',
      ].join('\n'),
    );
    const child = spawn(
      process.execPath,
      [
        cli,
        'record',
        '--pipeline',
        spec,
        '--out',
        out,
        '--max-mb',
        '0.15',
        '--chunk-mb',
        '0.0625',
        '--compression',
        'none',
        '--duration',
        '8',
        '--status-interval',
        '0.5',
        '--no-metrics',
        '--publish',
        'tcp://127.0.0.1:*',
        '--log-level',
        'warn',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(killer);
    // Exit 1: the recording failed; the service itself ran its whole --duration.
    expect(code, stderr).toBe(1);
    const logs = stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const failedAt = logs.find((l) => l.msg === 'recording failed; the service goes on without it');
    expect(String(failedAt?.error)).toMatch(/size limit of 150000 bytes is reached/);
    // Status lines after the failure still show tracks and plans: the pipeline went on.
    const lines = stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('['));
    expect(lines.length).toBeGreaterThanOrEqual(8);
    expect(lines.at(-1)).toMatch(/tracks [1-9]\d* \| plan (cruise|follow|brake|aeb)/);
    expect(stdout).toContain('recording failed: drive writer: cannot write');
    const { records, result } = await readAll(out);
    expect(result.complete).toBe(false);
    expect(records.filter((r) => r.type === 'message').length).toBeGreaterThan(10);
  }, 90_000);
});
