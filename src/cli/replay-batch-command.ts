/** `smi-fusion replay-batch DRIVES --out DIR`: many drives, in parallel worker processes. */
import { fork, type ChildProcess } from 'node:child_process';

import { availableParallelism, hostname } from 'node:os';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DriveListError, resolveDrives, type DriveRef } from '../fleet/drive-list.js';
import { ShardError, parseShard, selectShard, shardFromEnv, type Shard } from '../fleet/shard.js';
import { DRIVE_REPORT_FORMAT, REPORT_SUFFIX, type DriveReport } from '../fleet/drive-report.js';
import { BATCH_FORMAT, batchFileName, type BatchSummary } from '../fleet/batch-summary.js';
import { loadPipelineSpec } from '../smi/spec/pipeline-spec.js';
import type { CommandSpec, FlagValues } from './flags.js';
import { candidateDigest as digestOfCandidate, readCandidate } from './batch-candidate.js';
import { writeReportFile, type BatchJob, type BatchJobDone } from './batch-worker.js';
import { BatchProgress } from './batch-progress.js';
import { packageVersion } from './package-version.js';

/** Exit code when nothing could run (bad flags, no drives, bad shard, bad spec). */
export const BATCH_SETUP_EXIT = 100;
/** Failed drives are counted in the exit code up to this. */
const MAX_FAILURE_EXIT = 99;

export const REPLAY_BATCH_COMMAND: CommandSpec = {
  name: 'replay-batch',
  summary: 'Replay many drives in parallel (optionally against a candidate), one JSON report per drive.',
  usage:
    'smi-fusion replay-batch DRIVES --out DIR [--jobs N] [--shard I/N | --shards N] [--candidate FILE] [--pipeline FILE]',
  positionals: {
    name: 'DRIVES',
    min: 1,
    max: 1,
    doc: "a directory (every .mcap below it), a glob ('drives/**/*.mcap', quoted), or a text file listing drives",
  },
  flags: [
    { name: 'out', type: 'string', valueName: 'DIR', doc: 'where the reports go (created; required)' },
    {
      name: 'jobs',
      type: 'int',
      min: 1,
      max: 256,
      valueName: 'N',
      doc: 'worker processes (default: the core count)',
    },
    {
      name: 'shard',
      type: 'string',
      valueName: 'I/N',
      doc: 'replay only shard I of N (0-based) of the sorted drive list',
    },
    {
      name: 'shards',
      type: 'int',
      min: 1,
      max: 1_000_000,
      valueName: 'N',
      doc: 'N shards, this one JOB_COMPLETION_INDEX (a Kubernetes Indexed Job sets it)',
    },
    {
      name: 'candidate',
      type: 'string',
      valueName: 'FILE',
      doc: 'a Pipeline spec to run beside the primary on every drive; reports hold the divergence',
    },
    {
      name: 'pipeline',
      type: 'string',
      valueName: 'FILE',
      doc: "the primary's spec (default: the pipeline recorded in each drive)",
    },
    {
      name: 'timeout',
      type: 'number',
      min: 0.01,
      valueName: 'S',
      doc: 'a drive that takes longer fails as timeout and its worker is replaced (default 1800)',
    },
  ],
  notes:
    'Each drive runs at --speed max (deterministic) in a worker process: the outputs and their digest, plan\n' +
    'decisions, latencies on this host, tracking scores where the drive has ground truth, and for a simulated\n' +
    "drive its scenario's closed-loop outcome go to DIR/<drive>.report.json; DIR/batch-I-of-N.json sums up the\n" +
    'shard. A drive that cannot be read or replayed gets a report saying where and why, and the batch goes on.\n' +
    'Exit code: 0 when every drive replayed, else the number of failed drives (at most 99); 100 when nothing\n' +
    'could run (bad flags, an empty drive list, a shard outside 0..N-1, an invalid spec). Merge the reports\n' +
    "of every shard with 'smi-fusion report merge DIR...'.",
  usageExit: BATCH_SETUP_EXIT,
};

const WORKER = fileURLToPath(new URL('./batch-worker.js', import.meta.url));
const DEFAULT_TIMEOUT_S = 1800;

/** Where a drive's report goes: its name with `.mcap` replaced, `..` segments made harmless. */
export function reportPathFor(out: string, name: string): string {
  const safe = name
    .replace(/\.mcap$/, '')
    .split('/')
    .map((s) => (s === '..' || s === '.' || s === '' ? '_' : s))
    .join('/');
  return join(out, `${safe}${REPORT_SUFFIX}`);
}

interface Slot {
  child: ChildProcess;
  job?: { drive: DriveRef; reportPath: string; timer: NodeJS.Timeout };
}

/** `smi-fusion replay-batch`: returns the exit code. */
export async function replayBatchCommand(flags: FlagValues, positionals: readonly string[]): Promise<number> {
  const prefix = 'smi-fusion replay-batch';
  const fail = (msg: string): number => {
    process.stderr.write(`${prefix}: ${msg}\n`);
    return BATCH_SETUP_EXIT;
  };
  if (flags.out === undefined) return fail('--out DIR is required (where the reports go)');
  if (flags.shard !== undefined && flags.shards !== undefined)
    return fail('--shard I/N and --shards N are alternatives: give one');
  let shard: Shard;
  try {
    shard =
      flags.shard !== undefined
        ? parseShard(String(flags.shard))
        : flags.shards !== undefined
          ? shardFromEnv(Number(flags.shards))
          : { index: 0, count: 1 };
  } catch (err) {
    if (err instanceof ShardError) return fail(err.message);
    throw err;
  }
  let all: DriveRef[];
  try {
    all = resolveDrives(positionals[0]!).drives;
  } catch (err) {
    if (err instanceof DriveListError) return fail(err.message);
    throw err;
  }
  const drives = selectShard(all, shard);
  const candidateFile = flags.candidate !== undefined ? resolve(String(flags.candidate)) : undefined;
  const pipelineFile = flags.pipeline !== undefined ? resolve(String(flags.pipeline)) : undefined;
  let candidateDigest: string | undefined;
  for (const [flag, file] of [
    ['--pipeline', pipelineFile],
    ['--candidate', candidateFile],
  ] as const) {
    if (file === undefined) continue;
    try {
      if (flag === '--candidate') candidateDigest = digestOfCandidate(readCandidate(file));
      else loadPipelineSpec(file);
    } catch (err) {
      return fail(`${flag}: invalid spec\n${(err as Error).message}`);
    }
  }
  const out = resolve(String(flags.out));
  try {
    mkdirSync(out, { recursive: true });
  } catch (err) {
    return fail(`--out ${out}: ${(err as Error).message}`);
  }
  const jobs = Math.min(
    flags.jobs !== undefined ? Number(flags.jobs) : availableParallelism(),
    Math.max(1, drives.length),
  );
  const timeoutMs = 1000 * (flags.timeout !== undefined ? Number(flags.timeout) : DEFAULT_TIMEOUT_S);
  const ver = packageVersion();
  const options: BatchJob['options'] = { version: ver, pipelineFile, candidateFile };
  const progress = new BatchProgress(drives.length, process.stderr);
  const started = process.hrtime.bigint();
  const failures: { name: string; why: string }[] = [];
  const queue = [...drives];
  const slots: Slot[] = [];

  await new Promise<void>((finished) => {
    let running = 0;
    const record = (name: string, ok: boolean, why?: string) => {
      if (!ok) failures.push({ name, why: why ?? 'failed' });
      progress.done(ok);
    };
    const next = (slot: Slot) => {
      const drive = queue.shift();
      if (!drive) {
        slot.job = undefined;
        slot.child.disconnect();
        if (--running === 0) finished();
        return;
      }
      const reportPath = reportPathFor(out, drive.name);
      const timer = setTimeout(() => {
        // The drive ran too long: its report says so and a fresh worker takes the rest.
        lost(slot, `timeout: no result after ${timeoutMs / 1000} s (--timeout)`, 'timeout');
      }, timeoutMs);
      slot.job = { drive, reportPath, timer };
      const msg: BatchJob = { type: 'drive', drive, reportPath, options };
      slot.child.send(msg);
    };
    /** The worker died or hung with a drive: write that drive's failure, replace the worker. */
    const lost = (slot: Slot, why: string, where: string) => {
      const job = slot.job;
      slot.job = undefined;
      slot.child.removeAllListeners();
      slot.child.kill('SIGKILL');
      if (job) {
        clearTimeout(job.timer);
        const report: DriveReport = {
          format: DRIVE_REPORT_FORMAT,
          version: ver,
          drive: { name: job.drive.name, path: job.drive.path, bytes: null },
          host: { hostname: hostname(), cpus: availableParallelism(), node: process.version },
          startedAt: new Date().toISOString(),
          wallSeconds: 0,
          ok: false,
          failure: { where, why },
        };
        writeReportFile(job.reportPath, report);
        record(job.drive.name, false, `${where}: ${why}`);
      }
      start(slot);
      next(slot);
    };
    const start = (slot: Slot) => {
      const child = fork(WORKER, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      slot.child = child;
      child.on('message', (m: BatchJobDone) => {
        if (m?.type !== 'done' || !slot.job) return;
        clearTimeout(slot.job.timer);
        record(m.name, m.ok, m.why);
        next(slot);
      });
      child.on('exit', (code, signal) => {
        if (slot.job)
          lost(slot, `worker process exited (${signal ?? `code ${code}`}) during the replay`, 'worker');
      });
    };
    if (drives.length === 0) {
      finished();
      return;
    }
    for (let i = 0; i < jobs; i++) {
      const slot = { child: undefined as unknown as ChildProcess } as Slot;
      slots.push(slot);
      running++;
      start(slot);
      next(slot);
    }
  });
  progress.finish();
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const summary: BatchSummary = {
    format: BATCH_FORMAT,
    version: ver,
    shard,
    drivesInList: all.length,
    drives: drives.map((d) => d.name),
    failed: failures,
    jobs,
    wallSeconds,
    drivesPerHour: wallSeconds > 0 ? (3600 * drives.length) / wallSeconds : 0,
    candidate: candidateDigest ?? null,
  };
  writeReportFile(join(out, batchFileName(shard)), summary);
  process.stdout.write(
    `replay-batch: shard ${shard.index}/${shard.count}: ${drives.length} of ${all.length} drives, ${drives.length - failures.length} replayed, ${failures.length} failed, ${wallSeconds.toFixed(1)} s (${summary.drivesPerHour.toFixed(1)} drives/h, ${jobs} jobs); reports in ${out}\n`,
  );
  for (const f of failures) process.stdout.write(`  FAILED ${f.name}: ${f.why.split('\n')[0]}\n`);
  return Math.min(failures.length, MAX_FAILURE_EXIT);
}
