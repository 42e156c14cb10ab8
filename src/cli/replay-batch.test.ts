/**
 * Fleet replay end to end, with real worker processes and real drives: the fixture drives, a
 * truncated copy and a file that is not a drive; sharded runs (the Kubernetes Job's own entry
 * point, once per JOB_COMPLETION_INDEX) merged against one unsharded run; a candidate.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { fixtureDrive, tempDir } from '../test-support/drives.js';
import type { DriveReport } from '../fleet/drive-report.js';
import type { MergeResult } from '../fleet/report-merge.js';
import { BATCH_SETUP_EXIT } from './replay-batch-command.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const dir = tempDir('replay-batch');
const drives = join(dir, 'drives');
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [cli, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, ...env },
  });
const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;
const merge = (...dirs: string[]): MergeResult => {
  const r = run(['report', 'merge', ...dirs, '--format', 'json']);
  return JSON.parse(r.stdout) as MergeResult;
};

beforeAll(async () => {
  mkdirSync(join(drives, 'day1'), { recursive: true });
  for (const name of ['cut-in', 'highway-following', 'urban-clutter'] as const) {
    const sub = name === 'cut-in' ? 'day1/' : '';
    symlinkSync(await fixtureDrive(name), join(drives, `${sub}${name}.mcap`));
  }
  const whole = readFileSync(await fixtureDrive('cut-in'));
  writeFileSync(join(drives, 'truncated.mcap'), whole.subarray(0, Math.floor(whole.length * 0.3)));
  writeFileSync(join(drives, 'not-a-drive.mcap'), 'hello, I am text\n');
}, 240_000);

describe('replay-batch', () => {
  let unsharded: string;

  it('replays every drive, writes a report per drive, and counts the failures in its exit code', () => {
    unsharded = join(dir, 'all');
    const r = run(['replay-batch', drives, '--out', unsharded, '--jobs', '2']);
    expect(r.stderr).toMatch(/replay-batch: 5\/5 drives, 2 failed/);
    expect(r.status).toBe(2);
    const ok = readJson<DriveReport>(join(unsharded, 'day1/cut-in.report.json'));
    expect(ok.ok).toBe(true);
    // The same digests as the committed reference outputs: a batch replay is the replay.
    const ref = readJson<Record<string, { tracks: string; plan: string; trackLists: number }>>(
      join(root, 'fixtures/reference-outputs.json'),
    )['cut-in']!;
    expect(ok.primary!.outputs.tracksDigest).toBe(ref.tracks);
    expect(ok.primary!.outputs.planDigest).toBe(ref.plan);
    expect(ok.primary!.outputs.trackLists).toBe(ref.trackLists);
    // A simulated drive has truth (tracking scores) and a scenario (closed-loop outcome).
    expect(ok.primary!.headline.mota).not.toBeNull();
    expect(ok.primary!.headline.collision).toBe(false);
    expect(ok.primary!.decisions.follow).toBeGreaterThan(0);
    const truncated = readJson<DriveReport>(join(unsharded, 'truncated.report.json'));
    expect(truncated.ok).toBe(false);
    expect(truncated.failure!.where).toBe('drive');
    expect(truncated.failure!.why).toMatch(/stopped at byte \d+ of \d+/);
    const text = readJson<DriveReport>(join(unsharded, 'not-a-drive.report.json'));
    expect(text.ok).toBe(false);
    expect(text.failure!.where).toBe('drive');
    expect(text.failure!.why).toMatch(/not an MCAP file/);
    const m = merge(unsharded);
    expect(m.totals).toMatchObject({ drives: 5, replayed: 3, failed: 2 });
    // Failed drives rank first, named with where and why.
    expect(m.drives.slice(0, 2).map((d) => d.ok)).toEqual([false, false]);
    expect(m.failures.map((f) => f.name).sort()).toEqual(['not-a-drive.mcap', 'truncated.mcap']);
    expect(m.warnings).toEqual([]);
  }, 300_000);

  it('the Kubernetes manifests are valid objects of the Kubernetes API', () => {
    for (const file of ['replay-job.yaml', 'merge-job.yaml']) {
      const docs = parseAllDocuments(readFileSync(join(root, 'pipelines/k8s', file), 'utf8'));
      for (const d of Array.isArray(docs) ? docs : [docs]) {
        expect(d.errors).toEqual([]);
        const o = d.toJS() as { kind: string };
        const model =
          o.kind === 'Job'
            ? new Job(o as never)
            : o.kind === 'PersistentVolumeClaim'
              ? new PersistentVolumeClaim(o as never)
              : o.kind === 'NetworkPolicy'
                ? new NetworkPolicy(o as never)
                : undefined;
        expect(model, `${file}: ${o.kind}`).toBeDefined();
        expect(() => model!.validate()).not.toThrow();
      }
    }
    // The schema check can fail: a wrong type is refused.
    expect(() => new Job({ spec: { completions: 'four' } } as never).validate()).toThrow();
  });

  it("the Job's entry point, once per JOB_COMPLETION_INDEX, covers every drive once; merged equals unsharded", () => {
    const docs = parseAllDocuments(readFileSync(join(root, 'pipelines/k8s/replay-job.yaml'), 'utf8'));
    const job = (Array.isArray(docs) ? docs : [docs])
      .map((d) => d.toJS() as Job)
      .find((o) => o.kind === 'Job')!;
    const spec = job.spec!;
    expect(spec.completionMode).toBe('Indexed');
    const container = spec.template.spec!.containers[0]!;
    const args = container.args!;
    const n = spec.completions!;
    expect(args[args.indexOf('--shards') + 1]).toBe(String(n));
    // The image's entry point runs the CLI: `node /app/dist/cli/main.js`.
    const containerfile = readFileSync(join(root, 'pipelines/k8s/Containerfile'), 'utf8');
    expect(containerfile).toMatch(/ENTRYPOINT \["node", "\/app\/dist\/cli\/main\.js"\]/);
    expect(containerfile).toMatch(/^USER 1000:1000$/m);
    expect(containerfile).toMatch(/npm ci/);
    const mounts = new Map(container.volumeMounts!.map((v) => [v.mountPath, v.name]));
    expect(mounts.get('/drives')).toBe('drives');
    const sharded = join(dir, 'sharded');
    const local = args.map((a) => (a === '/drives' ? drives : a === '/reports' ? sharded : a));
    let failed = 0;
    for (let i = 0; i < n; i++) {
      const r = run(local, { JOB_COMPLETION_INDEX: String(i) });
      expect(r.stdout).toMatch(new RegExp(`shard ${i}/${n}`));
      failed += r.status!;
    }
    expect(failed).toBe(2);
    const files = readdirSync(sharded).filter((f) => f.startsWith('batch-'));
    expect(files.sort()).toEqual(Array.from({ length: n }, (_, i) => `batch-${i}-of-${n}.json`).sort());
    const a = merge(unsharded);
    const b = merge(sharded);
    expect(b.outputsDigest).toBe(a.outputsDigest);
    expect(b.totals).toEqual({ ...a.totals, replayWallSeconds: b.totals.replayWallSeconds });
    expect(b.drives.map((d) => d.name).sort()).toEqual(a.drives.map((d) => d.name).sort());
    expect(b.shards).toEqual({ count: n, found: [0, 1, 2, 3], missing: [] });
    expect(b.warnings).toEqual([]);
    // A shard's summary missing, a listed drive's report missing: both named.
    const partial = join(dir, 'partial');
    cpSync(sharded, partial, { recursive: true });
    rmSync(join(partial, `batch-${n - 1}-of-${n}.json`));
    rmSync(join(partial, 'highway-following.report.json'));
    const p = merge(partial);
    expect(p.warnings.join('\n')).toMatch(new RegExp(`no batch summary from shard ${n - 1} of ${n}`));
    expect(p.failures).toContainEqual(
      expect.objectContaining({ name: 'highway-following.mcap', where: 'report' }),
    );
  }, 600_000);

  it('refuses a shard outside 0..N-1, an empty drive list and a missing JOB_COMPLETION_INDEX', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty, { recursive: true });
    let r = run(['replay-batch', drives, '--out', join(dir, 'x'), '--shard', '4/4']);
    expect(r.status).toBe(BATCH_SETUP_EXIT);
    expect(r.stderr).toMatch(/shard index 4 is outside 0\.\.3/);
    r = run(['replay-batch', empty, '--out', join(dir, 'x')]);
    expect(r.status).toBe(BATCH_SETUP_EXIT);
    expect(r.stderr).toMatch(/no drives \(no \.mcap file matches\)/);
    r = run(['replay-batch', drives, '--out', join(dir, 'x'), '--shards', '3'], { JOB_COMPLETION_INDEX: '' });
    expect(r.status).toBe(BATCH_SETUP_EXIT);
    expect(r.stderr).toMatch(/JOB_COMPLETION_INDEX '' is not a whole number/);
    r = run(['replay-batch', drives, '--out', join(dir, 'x'), '--jobs', '0']);
    expect(r.status).toBe(BATCH_SETUP_EXIT);
  });

  it('a drive that outlives --timeout fails as timeout; a fresh worker takes the next drive', () => {
    const list = join(dir, 'two.txt');
    writeFileSync(list, 'drives/highway-following.mcap\ndrives/urban-clutter.mcap\n');
    const out = join(dir, 'timeout');
    // 10 ms: less than a service takes to start, so every drive times out, one worker after another.
    const r = run(['replay-batch', list, '--out', out, '--jobs', '1', '--timeout', '0.01']);
    expect(r.status).toBe(2);
    for (const name of ['highway-following', 'urban-clutter']) {
      const rep = readJson<DriveReport>(join(out, `drives/${name}.report.json`));
      expect(rep.failure).toMatchObject({ where: 'timeout' });
    }
    expect(readJson<{ failed: unknown[] }>(join(out, 'batch-0-of-1.json')).failed).toHaveLength(2);
  });

  it('with a candidate: both pipelines per drive, divergence and deltas in the report', () => {
    const cand = join(dir, 'candidate.yaml');
    writeFileSync(
      cand,
      [
        'apiVersion: smi-fusion.dev/v1alpha1',
        'kind: Pipeline',
        'metadata: { name: shorter-gap }',
        'spec:',
        '  planning: { timeGapS: 1.0 }',
        '  fusion: { maxTracks: 8 }',
        '',
      ].join('\n'),
    );
    const list = join(dir, 'list.txt');
    writeFileSync(list, '# one drive\ndrives/highway-following.mcap\n');
    const out = join(dir, 'cand');
    const r = run(['replay-batch', list, '--out', out, '--candidate', cand, '--jobs', '1']);
    expect(r.status).toBe(0);
    const rep = readJson<DriveReport>(join(out, 'drives/highway-following.report.json'));
    expect(rep.candidate!.pipeline.name).toBe('shorter-gap');
    expect(rep.candidate!.outputs.planDigest).not.toBe(rep.primary!.outputs.planDigest);
    const d = rep.divergence!.compared;
    expect(d.frames).toBeGreaterThan(100);
    expect(d.plans).toBeGreaterThan(100);
    // A shorter time gap asks for different accelerations behind the same lead.
    expect(d.targetAccel.max).toBeGreaterThan(0.05);
    expect(rep.deltas!.trackLists).toBe(rep.candidate!.outputs.trackLists - rep.primary!.outputs.trackLists);
    const m = merge(out);
    expect(m.totals.candidate!.drivesWithDifferentOutputs).toBe(1);
    expect(m.candidates).toEqual({ [`shorter-gap@${rep.candidateDigest!.slice(0, 12)}`]: 1 });
    // Merging it with the plain batch mixes runs with and without a candidate: said so.
    const mixed = merge(out, unsharded);
    expect(mixed.warnings.join('\n')).toMatch(/replayed drives have no candidate run/);
    const html = run(['report', 'merge', out, '--format', 'html']).stdout;
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toMatch(/<svg[^>]*>.*highway-following\.mcap/s);
    expect(html).not.toMatch(/<script|<link|src="http/);
  }, 300_000);
});
