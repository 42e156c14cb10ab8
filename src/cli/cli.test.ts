import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 20_000 });

describe('smi-fusion CLI', () => {
  it('prints help for the tool and each command', () => {
    const top = run('--help');
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/Commands:\n {2}run .*\n {2}validate /);
    for (const cmd of ['run', 'validate']) {
      const r = run(cmd, '--help');
      expect(r.status, cmd).toBe(0);
      expect(r.stdout).toContain(`Usage: smi-fusion ${cmd}`);
    }
    expect(run('run', '--help').stdout).toMatch(/--metrics-port PORT +metrics HTTP port/);
  });

  it('exits 2 naming an unknown command, an unknown flag, or a bad value and what is allowed', () => {
    const cmd = run('fly');
    expect(cmd.status).toBe(2);
    expect(cmd.stderr).toContain("smi-fusion: unknown command 'fly'; allowed: run, validate");
    const flag = run('run', '--pipline', 'x.yaml');
    expect(flag.status).toBe(2);
    expect(flag.stderr).toMatch(/^smi-fusion run: unknown flag --pipline; allowed: --pipeline, /);
    const value = run('run', '--metrics-port', 'http');
    expect(value.status).toBe(2);
    expect(value.stderr).toContain(
      "smi-fusion run: --metrics-port: 'http' is not allowed; expected an integer from 0 to 65535",
    );
    const level = run('run', '--log-level=loud');
    expect(level.stderr).toContain(
      "--log-level: 'loud' is not allowed; expected one of fatal, error, warn, info, debug, trace, silent",
    );
    const scenario = run('run', '--scenario', 'no-such-scenario');
    expect(scenario.status).toBe(2);
    expect(scenario.stderr).toMatch(
      /--scenario: scenario 'no-such-scenario': no file .* and no scenario .*no-such-scenario\.yaml/,
    );
  });

  it('validate reports ok for shipped pipelines and file:line: path problems for a bad one', () => {
    const ok = run('validate', 'pipelines/onboard.yaml', 'pipelines/simulated.yaml');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain("pipelines/onboard.yaml: ok (Pipeline 'onboard'");
    const dir = mkdtempSync(join(tmpdir(), 'smi-cli-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'apiVersion: smi-fusion.dev/v1alpha1\nkind: Pipeline\nmetadata: { name: b }\nspec:\n  fusion: { maxTracks: 0 }\n',
    );
    const r = run('validate', bad);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `${bad}:5: spec.fusion.maxTracks: 0 is not allowed; expected an integer >= 1 and <= 1024`,
    );
    const scenarios = run('validate', 'fixtures/scenarios/cut-in.yaml');
    expect(scenarios.status).toBe(0);
    expect(scenarios.stdout).toMatch(/cut-in\.yaml: ok \(Scenario 'cut-in': \d+ s, \d+ actors\)/);
    const badScenario = join(dir, 'scenario.yaml');
    writeFileSync(
      badScenario,
      'apiVersion: smi-fusion.dev/v1alpha1\nkind: Scenario\nmetadata: { name: s }\nspec:\n  duration: 5\n  ego: { speed: -3 }\n',
    );
    const rs = run('validate', badScenario);
    expect(rs.status).toBe(1);
    expect(rs.stderr).toContain(`${badScenario}:6: spec.ego.speed: -3 is not allowed`);
    const runBad = run('run', '--pipeline', bad);
    expect(runBad.status).toBe(2);
    expect(runBad.stderr).toContain('spec.fusion.maxTracks');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'runs the simulated drive and shuts down cleanly on %s within 2 s',
    async (signal) => {
      const child = spawn(
        process.execPath,
        [cli, 'run', '--metrics-port', '0', '--publish', 'tcp://127.0.0.1:*', '--status-interval', '0.5'],
        { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<{ code: number | null; atMs: number }>((resolve) =>
        child.on('exit', (code) => resolve({ code, atMs: performance.now() })),
      );
      // Wait (bounded) until the pipeline has produced tracks and plans.
      const deadline = Date.now() + 30_000;
      while (!/tracks [1-9]\d* \| plan (cruise|follow|brake|aeb)/.test(stdout)) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`no tracks within 30 s:\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const sentAt = performance.now();
      child.kill(signal);
      const { code, atMs } = await exited;
      expect(code).toBe(0);
      expect(atMs - sentAt).toBeLessThan(2000);
      const line = stdout.trim().split('\n').at(-1)!;
      expect(line).toMatch(
        /^\[ *\d+s\] in\/s lidar \d+ radar \d+ camera \d+ ego \d+ \| rejected \d+ dropped \d+ \| tracks \d+ \| plan .* \| e2e p50 \S+ p99 \S+$/,
      );
      const logs = stderr
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logs.find((l) => l.msg === 'stopping')?.why).toBe(signal);
      const stopped = logs.find((l) => l.msg === 'smi-fusion stopped');
      expect(Number(stopped?.cycles)).toBeGreaterThan(0);
    },
    60_000,
  );
});
