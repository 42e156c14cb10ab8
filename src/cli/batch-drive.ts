/**
 * One drive of a `replay-batch`: replays it at max speed (deterministic) under the primary
 * pipeline and, when given, the candidate; runs its scenario in closed loop when it is a simulated
 * drive; and returns the drive's report. Never throws for a bad drive: the report says where and
 * why it failed.
 */

import { statSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { hasMcapMagic, readDriveMetadata } from '../io/mcap-drive-reader.js';
import { pipelineFromDrive } from '../io/drive-metadata.js';
import { exportGeometry } from '../io/kitti-export.js';
import { META } from '../io/drive-format.js';
import { loadScenarioFile } from '../sim/index.js';
import { loadPipelineSpec, type PipelineSpec } from '../smi/spec/pipeline-spec.js';
import { createLogger, type Logger } from '../telemetry/logger.js';
import { replayDrive } from '../service/drive-replay.js';
import { OutputDigest } from '../service/output-digest.js';
import { resolveScenarioFile } from '../service/simulator-source.js';
import { DEFAULT_ACTUATION_DELAY_MS } from '../service/closed-loop/closed-loop-run.js';
import type { RunOutcome } from '../service/closed-loop/outcome-monitor.js';
import { runCase } from '../service/closed-loop/sweep.js';
import type { DriveRef } from '../fleet/drive-list.js';
import { compareOutputs, type RunOutputs } from '../fleet/output-divergence.js';
import {
  DRIVE_REPORT_FORMAT,
  headlineDeltas,
  type DriveReport,
  type Headline,
  type RunReport,
} from '../fleet/drive-report.js';
import { ReplayReport } from './replay-report.js';
import type { DriveScores } from './replay-scoring.js';
import { candidateDigest, candidateSpec, readCandidate, specDigest } from './batch-candidate.js';

export interface BatchDriveOptions {
  /** A spec file replacing the pipeline recorded in each drive (--pipeline). */
  pipelineFile?: string;
  /** The candidate's spec file (--candidate). */
  candidateFile?: string;
  version: string;
  log?: Logger;
}

/** A drive-level failure: `where` names the step. */
class DriveStepError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(message);
  }
}

function forReplay(spec: PipelineSpec): PipelineSpec {
  // Its own segment name: a batch's workers, and the onboard service on the same machine, each
  // keep theirs (the name comes from the pipeline's, which drives share).
  const s: PipelineSpec = {
    ...spec,
    sources: [],
    outputs: { ...spec.outputs },
    pool: { ...spec.pool, segment: `/smi-fusion-replay-${process.pid}` },
  };
  s.outputs.publish = 'tcp://127.0.0.1:*';
  s.outputs.metrics = { ...s.outputs.metrics, enabled: false };
  delete s.outputs.foxglove;
  return s;
}

const ms = (ns: unknown): number | null => (typeof ns === 'number' && Number.isFinite(ns) ? ns / 1e6 : null);

function headlineOf(
  replay: Record<string, unknown>,
  scores: DriveScores | undefined,
  loop: RunOutcome | null,
  counts: { trackLists: number; plans: number },
): Headline {
  const c = scores?.overall.clear;
  const lat = replay.latencyNs as { tracks: { p99: number }; plan: { p99: number } };
  return {
    ...counts,
    mota: c ? 100 * c.mota : null,
    hota: scores ? 100 * scores.overall.hota.hota : null,
    samota: scores ? 100 * scores.overall.samota.samota : null,
    idsw: c ? c.idsw : null,
    fp: c ? c.fp : null,
    fn: c ? c.fn : null,
    collision: loop ? loop.collision : null,
    minGapM: loop?.minGapM ?? null,
    minTtcS: loop?.minTtcS ?? null,
    peakDecelMps2: loop ? loop.peakDecel : null,
    falseActivations: loop ? loop.falseAeb + loop.falseBrake : null,
    trackP99Ms: ms(lat.tracks.p99),
    planP99Ms: ms(lat.plan.p99),
  };
}

/** The drive's scenario record, when a simulator made it. */
type ScenarioRecord = Record<string, string> | undefined;

function closedLoop(
  scenario: ScenarioRecord,
  spec: PipelineSpec,
): { outcome: RunOutcome | null; note?: string } {
  if (!scenario) return { outcome: null };
  const name = (scenario.file ?? scenario.name ?? '').replace(/\.ya?ml$/, '');
  let file: string;
  try {
    file = resolveScenarioFile(name);
  } catch (err) {
    return { outcome: null, note: `closed loop not run: ${(err as Error).message}` };
  }
  const loaded = loadScenarioFile(file, { sensorIds: spec.sensors.map((s) => s.id) });
  const seed = scenario.seed !== undefined ? Number(scenario.seed) : undefined;
  const durationS = scenario.durationS !== undefined ? Number(scenario.durationS) : undefined;
  const r = runCase(
    { id: loaded.name, family: 'scenario', carTarget: false, scenario: loaded },
    spec.planning.accEnabled === false ? 'aeb-only' : 'acc',
    spec,
    DEFAULT_ACTUATION_DELAY_MS / 1000,
    undefined,
    seed,
    durationS,
  );
  return { outcome: r.outcome };
}

/** Replays one drive under one spec and summarises the run. */
async function runOnce(
  ref: DriveRef,
  spec: PipelineSpec,
  meta: Record<string, Record<string, string>>,
  log: Logger,
  specSource: string,
): Promise<{ run: RunReport; outputs: RunOutputs; incomplete?: string }> {
  const started = process.hrtime.bigint();
  const report = new ReplayReport({
    match: { kind: 'iou3d', threshold: 0.25 },
    rangeM: meta[META.kitti] ? Infinity : 80,
    name: ref.name.replace(/\.mcap$/, ''),
    camera: meta[META.kitti] ? exportGeometry(meta, ref.path) : undefined,
  });
  const digest = new OutputDigest();
  let result;
  try {
    result = await replayDrive({
      path: ref.path,
      spec: forReplay(spec),
      speed: 'max',
      log,
      onOffered: report.onOffered,
      onRecorded: report.onRecorded,
      outputTap: (parts) => {
        report.onOutput(parts);
        digest.tap(parts);
      },
    });
  } catch (err) {
    throw new DriveStepError('replay', (err as Error).message);
  }
  const replay = report.json(result) as Record<string, unknown>;
  const d = digest.result();
  let loop: { outcome: RunOutcome | null; note?: string };
  try {
    loop = closedLoop(meta[META.scenario], spec);
  } catch (err) {
    loop = { outcome: null, note: `closed loop failed: ${(err as Error).message}` };
  }
  const counts = { trackLists: d.trackLists, plans: d.plans };
  const run: RunReport = {
    pipeline: { name: spec.name, digest: specDigest(spec), source: specSource },
    outputs: { ...counts, tracksDigest: d.tracks, planDigest: d.plan },
    decisions: Object.fromEntries(report.decisions),
    headline: headlineOf(replay, report.scores(), loop.outcome, counts),
    replay,
    closedLoop: loop.outcome as unknown as Record<string, unknown> | null,
    ...(loop.note ? { closedLoopNote: loop.note } : {}),
    wallSeconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
  const incomplete = result.read.complete
    ? undefined
    : `stopped at byte ${result.read.stoppedAtByte} of ${result.read.fileBytes} after ${result.offeredTotal} messages: ${result.read.reason}`;
  return { run, outputs: { trackLists: report.trackLists, plans: report.planList }, incomplete };
}

/** Replays one drive (primary, then candidate) and returns its report. */
export async function runBatchDrive(ref: DriveRef, o: BatchDriveOptions): Promise<DriveReport> {
  const log = o.log ?? createLogger('silent');
  const startedAt = new Date().toISOString();
  const t0 = process.hrtime.bigint();
  const report: DriveReport = {
    format: DRIVE_REPORT_FORMAT,
    version: o.version,
    drive: { name: ref.name, path: ref.path, bytes: null },
    host: { hostname: hostname(), cpus: cpus().length, node: process.version },
    startedAt,
    wallSeconds: 0,
    ok: false,
  };
  try {
    try {
      report.drive.bytes = statSync(ref.path).size;
      if (!hasMcapMagic(ref.path)) throw new Error('not an MCAP file (no MCAP magic at byte 0)');
    } catch (err) {
      throw new DriveStepError('drive', `cannot replay ${ref.path}: ${(err as Error).message}`);
    }
    let meta: Record<string, Record<string, string>>;
    try {
      meta = await readDriveMetadata(ref.path);
    } catch (err) {
      throw new DriveStepError('metadata', `not a readable drive: ${(err as Error).message}`);
    }
    let primary: PipelineSpec;
    try {
      primary = o.pipelineFile ? loadPipelineSpec(o.pipelineFile) : pipelineFromDrive(meta, ref.path);
    } catch (err) {
      throw new DriveStepError('pipeline', (err as Error).message);
    }
    const p = await runOnce(ref, primary, meta, log, o.pipelineFile ?? 'recorded');
    report.primary = p.run;
    if (p.incomplete) throw new DriveStepError('drive', p.incomplete);
    if (o.candidateFile) {
      let cand: PipelineSpec;
      try {
        const file = readCandidate(o.candidateFile);
        report.candidateDigest = candidateDigest(file);
        cand = candidateSpec(file, meta, ref.path, o.pipelineFile);
      } catch (err) {
        throw new DriveStepError('candidate', (err as Error).message);
      }
      const c = await runOnce(ref, cand, meta, log, o.candidateFile);
      report.candidate = c.run;
      report.divergence = compareOutputs(p.outputs, c.outputs);
      report.deltas = headlineDeltas(p.run.headline, c.run.headline);
    }
    report.ok = true;
  } catch (err) {
    report.failure =
      err instanceof DriveStepError
        ? { where: err.where, why: err.message }
        : { where: 'replay', why: (err as Error).stack ?? String(err) };
  }
  report.wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return report;
}
