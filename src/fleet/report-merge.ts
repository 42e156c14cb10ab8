/**
 * `report merge`: the per-drive reports of any number of `replay-batch` shards (directories,
 * searched recursively) folded into one fleet result: totals, every drive ordered worst regression
 * first, the drives that failed and why, and warnings when what was merged does not belong
 * together (different software versions, candidates or shard counts, a shard or a report missing,
 * a drive reported twice).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BATCH_FORMAT, type BatchSummary } from './batch-summary.js';
import {
  DRIVE_REPORT_FORMAT,
  REPORT_SUFFIX,
  regressionScore,
  type DriveReport,
  type Headline,
} from './drive-report.js';

export interface MergedDrive {
  name: string;
  ok: boolean;
  regression: number;
  failure?: { where: string; why: string };
  primary?: Headline;
  candidate?: Headline;
  deltas?: DriveReport['deltas'];
  /** With a candidate: whether both runs published identical outputs. */
  sameOutputs?: boolean;
  planDisagreements?: number;
  plansCompared?: number;
  /** Matched tracks' position difference, RMS (m). */
  positionRmsM?: number;
  tracksOnlyOneSide?: number;
  driveSeconds: number;
  wallSeconds: number;
}

export interface MergedTotals {
  drives: number;
  replayed: number;
  failed: number;
  driveHours: number;
  /** Sum of per-drive wall seconds (all workers). */
  replayWallSeconds: number;
  trackLists: number;
  plans: number;
  decisions: Record<string, number>;
  /** Over drives with ground truth. */
  scoredDrives: number;
  meanMota: number | null;
  meanHota: number | null;
  /** Over scenario drives. */
  scenarioDrives: number;
  collisions: number;
  falseActivations: number;
  candidate?: {
    drivesWithDifferentOutputs: number;
    planDisagreements: number;
    plansCompared: number;
    meanMotaDelta: number | null;
    collisionsAdded: number;
    collisionsRemoved: number;
    falseActivationsDelta: number;
  };
}

export interface MergeResult {
  format: 'smi-fusion/fleet-report@1';
  sources: string[];
  versions: Record<string, number>;
  pipelines: Record<string, number>;
  candidates: Record<string, number>;
  shards: { count: number | null; found: number[]; missing: number[] };
  totals: MergedTotals;
  /** Worst regression first. */
  drives: MergedDrive[];
  failures: { name: string; where: string; why: string }[];
  warnings: string[];
  /** SHA-256 over every replayed drive's name and output digests, in name order. */
  outputsDigest: string;
}

/** Nothing to merge, or a directory that cannot be read. */
export class ReportMergeError extends Error {}

function filesBelow(dir: string, out: string[], depth = 0): void {
  if (depth > 32) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) filesBelow(p, out, depth + 1);
    else if (e.isFile()) out.push(p);
  }
}

const mean = (xs: number[]): number | null =>
  xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;

function count(m: Record<string, number>, k: string): void {
  m[k] = (m[k] ?? 0) + 1;
}

function describe(m: Record<string, number>): string {
  return Object.entries(m)
    .map(([k, n]) => `${k} (${n})`)
    .join(', ');
}

/** Reads every report below `dirs` and merges them. */
export function mergeReports(dirs: readonly string[]): MergeResult {
  const warnings: string[] = [];
  const reports = new Map<string, { r: DriveReport; file: string }>();
  const batches: { b: BatchSummary; file: string }[] = [];
  for (const dir of dirs) {
    let files: string[] = [];
    try {
      if (!statSync(dir).isDirectory()) throw new Error('not a directory');
      filesBelow(dir, files);
    } catch (err) {
      throw new ReportMergeError(`${dir}: cannot read: ${(err as Error).message}`);
    }
    files = files.sort();
    for (const file of files) {
      const isReport = file.endsWith(REPORT_SUFFIX);
      const isBatch = /(^|\/)batch-\d+-of-\d+\.json$/.test(file);
      if (!isReport && !isBatch) continue;
      let doc: { format?: string };
      try {
        doc = JSON.parse(readFileSync(file, 'utf8')) as { format?: string };
      } catch (err) {
        warnings.push(`${file}: not readable JSON (${(err as Error).message}); skipped`);
        continue;
      }
      if (isBatch) {
        if (doc.format !== BATCH_FORMAT) {
          warnings.push(`${file}: format '${String(doc.format)}', expected ${BATCH_FORMAT}; skipped`);
          continue;
        }
        batches.push({ b: doc as BatchSummary, file });
        continue;
      }
      if (doc.format !== DRIVE_REPORT_FORMAT) {
        warnings.push(`${file}: format '${String(doc.format)}', expected ${DRIVE_REPORT_FORMAT}; skipped`);
        continue;
      }
      const r = doc as DriveReport;
      const seen = reports.get(r.drive.name);
      if (seen) {
        const same =
          seen.r.primary?.outputs.tracksDigest === r.primary?.outputs.tracksDigest &&
          seen.r.primary?.outputs.planDigest === r.primary?.outputs.planDigest;
        warnings.push(
          `drive ${r.drive.name} reported twice (${seen.file}, ${file})${same ? ', same outputs' : ', with different outputs'}; kept ${file}`,
        );
      }
      reports.set(r.drive.name, { r, file });
    }
  }
  if (reports.size === 0)
    throw new ReportMergeError(`no drive reports (*${REPORT_SUFFIX}) below ${dirs.join(', ')}`);

  const versions: Record<string, number> = {};
  const pipelines: Record<string, number> = {};
  const candidates: Record<string, number> = {};
  // A drive's own recorded pipeline differs from drive to drive by design; a spec given to the
  // batch (--pipeline) must be the same everywhere.
  const primarySources: Record<string, number> = {};
  const givenPipelines: Record<string, number> = {};
  for (const { r } of reports.values()) {
    count(versions, r.version);
    if (r.primary) {
      const id = `${r.primary.pipeline.name}@${r.primary.pipeline.digest.slice(0, 12)}`;
      count(pipelines, id);
      count(
        primarySources,
        r.primary.pipeline.source === 'recorded' ? 'recorded in each drive' : 'a spec file',
      );
      if (r.primary.pipeline.source !== 'recorded') count(givenPipelines, id);
    }
    if (r.candidate)
      count(
        candidates,
        `${r.candidate.pipeline.name}@${(r.candidateDigest ?? r.candidate.pipeline.digest).slice(0, 12)}`,
      );
  }
  if (Object.keys(versions).length > 1)
    warnings.push(`reports from different smi-fusion versions: ${describe(versions)}`);
  if (Object.keys(candidates).length > 1)
    warnings.push(`reports from different candidates: ${describe(candidates)}`);
  const withCandidate = [...reports.values()].filter(({ r }) => r.candidate).length;
  const replayed = [...reports.values()].filter(({ r }) => r.ok).length;
  if (withCandidate > 0 && withCandidate < replayed)
    warnings.push(`${replayed - withCandidate} of ${replayed} replayed drives have no candidate run`);
  if (Object.keys(primarySources).length > 1)
    warnings.push(`primary pipelines come from different places: ${describe(primarySources)}`);
  if (Object.keys(givenPipelines).length > 1)
    warnings.push(`reports from different primary pipelines (--pipeline): ${describe(givenPipelines)}`);

  // Shard coverage, from the batch summaries.
  const counts = new Set(batches.map(({ b }) => b.shard.count));
  if (counts.size > 1)
    warnings.push(`shards of different batches merged: ${[...counts].map((n) => `of ${n}`).join(', ')}`);
  const shardCount = counts.size === 1 ? [...counts][0]! : null;
  const found = [...new Set(batches.map(({ b }) => b.shard.index))].sort((a, b) => a - b);
  const missing: number[] = [];
  if (shardCount !== null) for (let i = 0; i < shardCount; i++) if (!found.includes(i)) missing.push(i);
  if (missing.length > 0)
    warnings.push(
      `no batch summary from shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${shardCount}: those drives are not in this merge`,
    );
  const failures: MergeResult['failures'] = [];
  for (const { b, file } of batches)
    for (const name of b.drives)
      if (!reports.has(name))
        failures.push({ name, where: 'report', why: `listed in ${file} but no report found` });

  const drives: MergedDrive[] = [];
  const totals: MergedTotals = {
    drives: reports.size + failures.length,
    replayed,
    failed: reports.size - replayed + failures.length,
    driveHours: 0,
    replayWallSeconds: 0,
    trackLists: 0,
    plans: 0,
    decisions: {},
    scoredDrives: 0,
    meanMota: null,
    meanHota: null,
    scenarioDrives: 0,
    collisions: 0,
    falseActivations: 0,
  };
  const motas: number[] = [];
  const hotas: number[] = [];
  const cand = {
    drivesWithDifferentOutputs: 0,
    planDisagreements: 0,
    plansCompared: 0,
    meanMotaDelta: null as number | null,
    collisionsAdded: 0,
    collisionsRemoved: 0,
    falseActivationsDelta: 0,
  };
  const motaDeltas: number[] = [];
  const digest = createHash('sha256');
  for (const name of [...reports.keys()].sort()) {
    const { r } = reports.get(name)!;
    const p = r.primary;
    const driveSeconds = Number((p?.replay as { driveSeconds?: number } | undefined)?.driveSeconds ?? 0);
    const row: MergedDrive = {
      name,
      ok: r.ok,
      regression: regressionScore(r),
      driveSeconds,
      wallSeconds: r.wallSeconds,
    };
    totals.replayWallSeconds += r.wallSeconds;
    if (!r.ok && r.failure) {
      row.failure = r.failure;
      failures.push({ name, ...r.failure });
    }
    if (p && r.ok) {
      digest.update(`${name}\n${p.outputs.tracksDigest}\n${p.outputs.planDigest}\n`);
      row.primary = p.headline;
      totals.driveHours += driveSeconds / 3600;
      totals.trackLists += p.outputs.trackLists;
      totals.plans += p.outputs.plans;
      for (const [d, n] of Object.entries(p.decisions)) totals.decisions[d] = (totals.decisions[d] ?? 0) + n;
      if (p.headline.mota !== null) {
        totals.scoredDrives++;
        motas.push(p.headline.mota);
        if (p.headline.hota !== null) hotas.push(p.headline.hota);
      }
      if (p.headline.collision !== null) {
        totals.scenarioDrives++;
        if (p.headline.collision) totals.collisions++;
        totals.falseActivations += p.headline.falseActivations ?? 0;
      }
    }
    if (r.candidate && r.divergence && r.ok) {
      const c = r.candidate;
      digest.update(`candidate\n${c.outputs.tracksDigest}\n${c.outputs.planDigest}\n`);
      row.candidate = c.headline;
      row.deltas = r.deltas;
      row.sameOutputs =
        c.outputs.tracksDigest === p!.outputs.tracksDigest && c.outputs.planDigest === p!.outputs.planDigest;
      const dv = r.divergence.compared;
      row.planDisagreements = dv.decisionsDiffering;
      row.plansCompared = dv.plans;
      row.positionRmsM = dv.position.rms;
      row.tracksOnlyOneSide = dv.onlyPrimary + dv.onlyOther;
      if (!row.sameOutputs) cand.drivesWithDifferentOutputs++;
      cand.planDisagreements += dv.decisionsDiffering;
      cand.plansCompared += dv.plans;
      if (r.deltas?.mota !== null && r.deltas?.mota !== undefined) motaDeltas.push(r.deltas.mota);
      if (p!.headline.collision === false && c.headline.collision === true) cand.collisionsAdded++;
      if (p!.headline.collision === true && c.headline.collision === false) cand.collisionsRemoved++;
      cand.falseActivationsDelta += r.deltas?.falseActivations ?? 0;
    }
    drives.push(row);
  }
  totals.meanMota = mean(motas);
  totals.meanHota = mean(hotas);
  if (withCandidate > 0) totals.candidate = { ...cand, meanMotaDelta: mean(motaDeltas) };
  drives.sort((a, b) => b.regression - a.regression || (a.name < b.name ? -1 : 1));
  return {
    format: 'smi-fusion/fleet-report@1',
    sources: [...dirs],
    versions,
    pipelines,
    candidates,
    shards: { count: shardCount, found, missing },
    totals,
    drives,
    failures: failures.sort((a, b) => (a.name < b.name ? -1 : 1)),
    warnings,
    outputsDigest: digest.digest('hex'),
  };
}
