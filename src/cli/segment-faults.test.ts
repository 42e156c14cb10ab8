/**
 * Fault tests with real processes on a shared-memory pool: the segment is created mode 0600; a
 * second service on the same segment name fails clearly while the first lives; a SIGKILLed
 * service leaves its segment behind, and the next start detects it as stale and replaces it
 * (never reusing it), then runs and stops cleanly, unlinking the name.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

interface Running {
  child: ChildProcess;
  out: { stdout: string; stderr: string };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(spec: string): Running {
  const child = spawn(
    process.execPath,
    [
      cli,
      'run',
      '--pipeline',
      spec,
      '--no-metrics',
      '--publish',
      'tcp://127.0.0.1:*',
      '--status-interval',
      '0.5',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, out, exited };
}

async function until(what: string, r: Running, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end || r.child.exitCode !== null) {
      throw new Error(`${what}: not within ${ms} ms\n${r.out.stdout}\n${r.out.stderr}`);
    }
    await new Promise((res) => setTimeout(res, 50));
  }
}

const logs = (r: Running) =>
  r.out.stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('shared-memory segment faults (real processes)', () => {
  it('mode 0600, one live owner per name, a SIGKILLed instance’s segment detected as stale and replaced', async () => {
    const name = `smi-fault-${process.pid}`;
    const dir = mkdtempSync(join(tmpdir(), 'smi-segment-'));
    const spec = join(dir, 'native.yaml');
    writeFileSync(
      spec,
      [
        'apiVersion: smi-fusion.dev/v1alpha1',
        'kind: Pipeline',
        'metadata: { name: segment-faults }',
        'spec:',
        '  sources: [{ type: simulator, scenario: highway-following, loop: true }]',
        `  pool: { segment: /${name}, implementation: native }`,
        '',
      ].join('\n'),
    );
    const shm = `/dev/shm/${name}`;

    const first = start(spec);
    await until('first service started', first, () =>
      logs(first).some((l) => l.msg === 'smi-fusion started'),
    );
    expect(existsSync(shm)).toBe(true);
    expect((statSync(shm).mode & 0o777).toString(8)).toBe('600');

    // A second service on the same name, while the first lives: a clear error, the first untouched.
    const second = start(spec);
    const { code } = await second.exited;
    expect(code).not.toBe(0);
    expect(second.out.stderr).toContain(
      `pool segment '/${name}': already exists and its creator (pid ${first.child.pid}) is alive`,
    );
    expect(first.child.exitCode).toBeNull();

    // SIGKILL: no clean-up runs, the segment stays behind.
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(existsSync(shm)).toBe(true);
    const staleInode = statSync(shm).ino;

    // The next start detects the dead creator, replaces the segment, and runs normally.
    const third = start(spec);
    await until('tracks after restart', third, () => /tracks [1-9]\d* \|/.test(third.out.stdout));
    const replaced = logs(third).find((l) =>
      String(l.msg).startsWith('pool: replaced a stale shared-memory segment'),
    );
    expect(replaced?.deadPid).toBe(first.child.pid);
    expect(statSync(shm).ino).not.toBe(staleInode);
    expect((statSync(shm).mode & 0o777).toString(8)).toBe('600');
    third.child.kill('SIGTERM');
    expect((await third.exited).code).toBe(0);
    expect(existsSync(shm)).toBe(false);
  }, 90_000);
});
