import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
const dir = mkdtempSync(join(tmpdir(), 'smi-closed-loop-'));

describe('smi-fusion simulate --closed-loop', () => {
  it('runs one case and reports its outcome as JSON', () => {
    const args = [
      'simulate',
      'CCRb-6-12',
      '--closed-loop',
      '--aeb-only',
      '--format',
      'json',
      '--duration',
      '6',
    ];
    const a = run(...args);
    expect(a.status, a.stderr).toBe(0);
    const report = JSON.parse(a.stdout) as {
      actuationDelayMs: number;
      summary: string;
      runs: { id: string; mode: string; targetMet: boolean; outcome: Record<string, unknown> }[];
    };
    expect(report.actuationDelayMs).toBe(100);
    expect(report.summary).toBe('targets: 1 of 1 runs met');
    expect(report.runs).toHaveLength(1);
    const r = report.runs[0]!;
    expect(r).toMatchObject({ id: 'CCRb-6-12', mode: 'aeb-only', targetMet: true });
    expect(r.outcome).toMatchObject({ collision: false, falseAeb: 0, falseBrake: 0, noPlans: 0 });
    for (const key of [
      'minGapM',
      'minTtcS',
      'peakDecel',
      'peakJerk',
      'warningTtcS',
      'aebOnsetS',
      'aebMarginS',
    ])
      expect(typeof r.outcome[key], key).toBe('number');
  });

  it('sweeps selected cases in both modes into a table, and writes the report in Markdown', () => {
    const file = join(dir, 'sweep.md');
    const r = run(
      'simulate',
      '--closed-loop',
      '--sweep',
      '--only',
      'CCRs-20',
      '--duration',
      '6',
      '--format',
      'markdown',
      '--report',
      file,
    );
    expect(r.status, r.stderr).toBe(0);
    const md = readFileSync(file, 'utf8');
    expect(md).toBe(r.stdout);
    expect(md).toMatch(/^\| case \| mode \| collision \| min gap m \|/);
    expect(md).toMatch(/\n\| CCRs-20 \| acc \| no \| [\d.]+ \|/);
    expect(md).toMatch(/\n\| CCRs-20 \| aeb-only \| no \| [\d.]+ \|/);
    expect(md).toContain('targets: 2 of 2 runs met');
    expect(r.stderr).toMatch(/\[1\/2\] CCRs-20 acc: met/);
  });

  it('refuses flags that do not fit, naming them', () => {
    const noLoop = run('simulate', '--sweep');
    expect(noLoop.status).toBe(2);
    expect(noLoop.stderr).toContain('smi-fusion simulate: --sweep needs --closed-loop');
    const withOut = run('simulate', 'cut-in', '--closed-loop', '--out', join(dir, 'x.mcap'));
    expect(withOut.status).toBe(2);
    expect(withOut.stderr).toContain('--closed-loop writes no drive');
    const both = run('simulate', 'cut-in', '--closed-loop', '--sweep');
    expect(both.status).toBe(2);
    expect(both.stderr).toContain('choose cases with --only');
    const none = run('simulate', '--closed-loop', '--sweep', '--only', 'XYZ');
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('--only XYZ selects no case');
    const unknown = run('simulate', 'nowhere', '--closed-loop');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/scenario 'nowhere'/);
    const format = run('simulate', 'cut-in', '--closed-loop', '--format', 'xml');
    expect(format.status).toBe(2);
    expect(format.stderr).toContain("--format: 'xml' is not allowed; expected one of table, markdown, json");
  });
});
