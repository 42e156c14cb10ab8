import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openIndexed, readAll, tempDir } from '../test-support/drives.js';
import { foxgloveProblems } from '../test-support/foxglove-check.js';
import { TRUTH_TOPIC } from '../io/drive-format.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const dir = tempDir('drives-cli');
const QUIET = ['--no-metrics', '--publish', 'tcp://127.0.0.1:*', '--log-level', 'warn'];
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });

let children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children = [];
});

/** Starts `smi-fusion record` on the simulated drive, writing to `out`. */
function startRecording(out: string): ChildProcess {
  const child = spawn(
    process.execPath,
    // A generous queue: these tests are about stopping cleanly, and the suite runs CPU-heavy
    // files beside them on two cores (a full queue drops, which the drop test covers).
    [
      cli,
      'record',
      '--out',
      out,
      '--outputs',
      '--scenario',
      'cut-in',
      '--status-interval',
      '0',
      '--queue-mb',
      '256',
      // Small chunks reach the disk sooner: on a loaded machine (the recorder is best-effort
      // and sheds first) a few MB of them come in well within the bound below.
      '--chunk-mb',
      '2',
      ...QUIET,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  return child;
}

/** Waits (bounded) until the file has grown past `bytes`: whole chunks are on disk. */
async function grownPast(path: string, bytes: number, child: ChildProcess): Promise<void> {
  const end = Date.now() + 60_000;
  while (!(existsSync(path) && statSync(path).size > bytes)) {
    if (child.exitCode !== null) throw new Error(`recorder exited early with ${child.exitCode}`);
    if (Date.now() > end) throw new Error(`${path} did not grow past ${bytes} bytes within 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Collects the child's output from now on; the returned function waits for its exit, at most
 * 20 s from when it is called (after the signal: how long the recording took to grow depends on
 * the machine's load, how long the stop takes must not).
 */
function exited(
  child: ChildProcess,
): () => Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return () =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('child did not exit within 20 s')), 20_000);
      void exit.then(({ code, signal }) => {
        clearTimeout(timer);
        // Let the pipes drain.
        setImmediate(() => resolve({ code, signal, stdout, stderr }));
      });
    });
}

describe('smi-fusion simulate / replay', () => {
  it('simulates a drive and replays it with a report', () => {
    const out = join(dir, 'cut-in.mcap');
    const sim = run('simulate', 'cut-in', '--out', out, '--duration', '1', '--seed', '7');
    expect(sim.stderr).toBe('');
    expect(sim.status).toBe(0);
    expect(sim.stdout).toMatch(
      /cut-in\.mcap: 1\.0 s of cut-in, 390 sensor messages, 100 ground-truth samples, .* MB/,
    );
    const r = run('replay', out, '--speed', 'max', '--report', ...QUIET);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^replayed 390 messages \(0\.99 s of drive\)/);
    expect(r.stdout).toMatch(/sensor\/lidar\/lidar_top +10 +10 +0 +0/);
    expect(r.stdout).toMatch(/outputs: \d+ track lists, \d+ plans/);
    expect(r.stdout).toMatch(/tracking vs ground truth .*% of true actors tracked, position RMSE [\d.]+ m/);
  });

  it('refuses bad input naming the flag or the file', () => {
    expect(run('simulate', 'cut-in').stderr).toContain('smi-fusion simulate: --out FILE is required');
    const scenario = run('simulate', 'nowhere', '--out', join(dir, 'x.mcap'));
    expect(scenario.status).toBe(2);
    expect(scenario.stderr).toMatch(/scenario 'nowhere': no file/);
    const speed = run('replay', 'x.mcap', '--speed', '3');
    expect(speed.status).toBe(2);
    expect(speed.stderr).toContain("--speed: '3' is not allowed; expected one of 1, 2, max");
    expect(run('replay', join(dir, 'missing.mcap')).stderr).toMatch(/missing\.mcap: no such file/);
  });

  it('plays a truncated or corrupt drive as far as it can, says where it stopped and why, and exits 1', async () => {
    const out = join(dir, 'whole.mcap');
    expect(run('simulate', 'highway-following', '--out', out, '--duration', '1.5').status).toBe(0);
    const bytes = readFileSync(out);
    const half = join(dir, 'half.mcap');
    writeFileSync(half, bytes.subarray(0, bytes.byteLength >> 1));
    const cut = run('replay', half, '--speed', 'max', ...QUIET);
    expect(cut.status).toBe(1);
    expect(cut.stdout).toMatch(/^replayed [1-9]\d* messages/);
    expect(cut.stderr).toMatch(
      new RegExp(
        `half\\.mcap: stopped at byte \\d+ of ${bytes.byteLength >> 1}, after [1-9]\\d* messages .*: the file ends inside a record`,
      ),
    );

    const indexed = await openIndexed(out);
    const chunk = indexed.chunkIndexes[1]!;
    const flipped = Buffer.from(bytes);
    const at = Number(chunk.chunkStartOffset + chunk.chunkLength / 2n);
    for (let i = 0; i < 8; i++) flipped[at + i] = flipped[at + i]! ^ 0xff;
    const bad = join(dir, 'flipped.mcap');
    writeFileSync(bad, flipped);
    const corrupt = run('replay', bad, '--speed', 'max', ...QUIET);
    expect(corrupt.status).toBe(1);
    expect(corrupt.stderr).toMatch(
      new RegExp(
        `flipped\\.mcap: stopped at byte ${chunk.chunkStartOffset} of ${bytes.byteLength}, .*unreadable record at byte ${chunk.chunkStartOffset}: `,
      ),
    );
  });
});

describe('smi-fusion record', () => {
  it('leaves a valid, indexed drive when stopped with SIGTERM', async () => {
    const out = join(dir, 'sigterm.mcap');
    const child = startRecording(out);
    const done = exited(child);
    await grownPast(out, 6 * 1024 * 1024, child);
    child.kill('SIGTERM');
    const { code, stdout, stderr } = await done();
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    const line =
      /sigterm\.mcap: (\d+) messages on 21 channels \((\d+) recorded on 16 raw channels, (\d+) Foxglove views on 5\), .* MB in (\d+) chunks \(largest ([\d.]+) MiB uncompressed\); \d+ dropped/.exec(
        stdout,
      );
    expect(line, stdout).not.toBeNull();
    const indexed = await openIndexed(out);
    // The line counts what the file holds.
    expect(BigInt(line![1]!)).toBe(indexed.statistics!.messageCount);
    expect(Number(line![2]) + Number(line![3])).toBe(Number(line![1]));
    expect(indexed.channelsById.size).toBe(21);
    expect(BigInt(line![4]!)).toBe(BigInt(indexed.chunkIndexes.length));
    const largest = Math.max(...indexed.chunkIndexes.map((c) => Number(c.uncompressedSize)));
    expect(Number(line![5])).toBeCloseTo(largest / 2 ** 20, 2);
    // A chunk closes at the first message past --chunk-mb (2 MB): at most that plus one lidar scan (1.84 MB).
    expect(largest).toBeLessThanOrEqual(2e6 + 64 * 1800 * 16 + 1024);
    const topics = [...indexed.channelsById.values()].map((c) => c.topic);
    expect(topics).toEqual(
      expect.arrayContaining([
        'sensor/lidar/lidar_top',
        'sensor/ego/ego',
        TRUTH_TOPIC,
        'out/tracks',
        'out/plan',
      ]),
    );
    const { result } = await readAll(out);
    expect(result.complete).toBe(true);
    // Every channel of a recording, outputs included, opens in Foxglove without a problem.
    const foxglove = await foxgloveProblems(out);
    expect(foxglove.problems).toEqual([]);
    expect(foxglove.decoded.size).toBe(21);
  }, 120_000);

  it('leaves a drive readable up to its last complete chunk when killed with SIGKILL', async () => {
    const out = join(dir, 'sigkill.mcap');
    const child = startRecording(out);
    const done = exited(child);
    await grownPast(out, 16 * 1024 * 1024, child);
    child.kill('SIGKILL');
    expect((await done()).signal).toBe('SIGKILL');
    await expect(openIndexed(out)).rejects.toThrow();
    const { records, result } = await readAll(out);
    expect(result.complete).toBe(false);
    expect(result.reason).toMatch(/no footer: the recording was cut short/);
    const lidar = records.filter(
      (r) => r.type === 'message' && r.message.channel.topic === 'sensor/lidar/lidar_top',
    );
    expect(lidar.length).toBeGreaterThan(5);
    const replayed = run('replay', out, '--speed', 'max', ...QUIET);
    expect(replayed.status).toBe(1);
    expect(replayed.stdout).toMatch(/^replayed [1-9]\d* messages/);
    expect(replayed.stderr).toMatch(
      /sigkill\.mcap: stopped at byte \d+ of \d+, after [1-9]\d* messages .*cut short/,
    );
  }, 120_000);
});
