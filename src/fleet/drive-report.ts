/**
 * The JSON report `replay-batch` writes per drive (`<name>.report.json`) and `report merge` reads:
 * what the drive is, which software and pipeline replayed it, how each run went (outputs and their
 * digest, plan decisions, latencies on that host, tracking scores where the drive has ground
 * truth, closed-loop outcomes where it is a simulated scenario), and with a candidate the
 * divergence and metric deltas. A headline of a few numbers per run is what merging compares.
 */
import type { OutputDivergence } from './output-divergence.js';

export const DRIVE_REPORT_FORMAT = 'smi-fusion/drive-report@1';
export const REPORT_SUFFIX = '.report.json';

/** The numbers a fleet compares per run; null where the drive cannot give one. */
export interface Headline {
  trackLists: number;
  plans: number;
  /** Tracking scores against the drive's truth (percent). */
  mota: number | null;
  hota: number | null;
  samota: number | null;
  idsw: number | null;
  fp: number | null;
  fn: number | null;
  /** Closed-loop outcomes of the drive's scenario. */
  collision: boolean | null;
  minGapM: number | null;
  minTtcS: number | null;
  peakDecelMps2: number | null;
  falseActivations: number | null;
  /** Latencies on the host that replayed it (ms). */
  trackP99Ms: number | null;
  planP99Ms: number | null;
}

export const HEADLINE_KEYS = [
  'trackLists',
  'plans',
  'mota',
  'hota',
  'samota',
  'idsw',
  'fp',
  'fn',
  'collision',
  'minGapM',
  'minTtcS',
  'peakDecelMps2',
  'falseActivations',
  'trackP99Ms',
  'planP99Ms',
] as const satisfies readonly (keyof Headline)[];

export interface RunReport {
  /** The spec's name, digest, and where it came from: `recorded` (the drive's own) or its file. */
  pipeline: { name: string; digest: string; source: string };
  outputs: { trackLists: number; plans: number; tracksDigest: string; planDigest: string };
  decisions: Record<string, number>;
  headline: Headline;
  /** `replay --report-json` of this run: channels, latencies (ns), accuracy, scores. */
  replay: Record<string, unknown>;
  /** The scenario's closed-loop outcome (RunOutcome), or null when the drive is not a scenario. */
  closedLoop: Record<string, unknown> | null;
  /** Why there is no closed-loop outcome for a scenario drive. */
  closedLoopNote?: string;
  wallSeconds: number;
}

/** Where a drive failed (`drive`, `metadata`, `pipeline`, `candidate`, `replay`, `worker`, `timeout`) and why. */
export interface DriveFailure {
  where: string;
  why: string;
}

export interface DriveReport {
  format: typeof DRIVE_REPORT_FORMAT;
  /** smi-fusion version that wrote it. */
  version: string;
  drive: { name: string; path: string; bytes: number | null };
  host: { hostname: string; cpus: number; node: string };
  startedAt: string;
  wallSeconds: number;
  ok: boolean;
  failure?: DriveFailure;
  primary?: RunReport;
  candidate?: RunReport;
  /** Digest of the candidate file (a whole spec's, or the overlay's): the same across drives. */
  candidateDigest?: string;
  divergence?: OutputDivergence;
  /** candidate − primary per headline number (booleans: 1 when only the candidate has it, −1 the other way). */
  deltas?: Partial<Record<keyof Headline, number | null>>;
}

/** candidate − primary for every headline number both runs have. */
export function headlineDeltas(p: Headline, c: Headline): Partial<Record<keyof Headline, number | null>> {
  const out: Partial<Record<keyof Headline, number | null>> = {};
  for (const k of HEADLINE_KEYS) {
    const a = p[k];
    const b = c[k];
    if (a === null || b === null) out[k] = null;
    else out[k] = Number(b) - Number(a);
  }
  return out;
}

/**
 * How much worse a drive got, for ordering the merged table (higher is worse): a collision only
 * the candidate has outweighs everything, then added false activations, then lost tracking
 * (MOTA points) and plan decisions that disagree (percent of compared plans). Without a candidate,
 * the primary's own collision, false activations and missing MOTA rank it.
 */
export function regressionScore(r: DriveReport): number {
  if (!r.ok) return Infinity;
  const d = r.deltas;
  if (d && r.divergence) {
    const c = r.divergence.compared;
    return (
      1000 * Math.max(0, d.collision ?? 0) +
      100 * Math.max(0, d.falseActivations ?? 0) +
      Math.max(0, -(d.mota ?? 0)) +
      (c.plans > 0 ? (100 * c.decisionsDiffering) / c.plans : 0)
    );
  }
  const h = r.primary?.headline;
  if (!h) return 0;
  return 1000 * (h.collision ? 1 : 0) + 100 * (h.falseActivations ?? 0) + (100 - (h.mota ?? 100));
}
