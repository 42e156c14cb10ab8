/**
 * How a candidate's outputs differ from the primary's on the same drive, offline: frames are
 * paired by measurement stamp (the last track list published for each stamp, and the plan made
 * for it) and compared by the control plane's DivergenceAccumulator, the same comparison a
 * TrafficSplit shadow gets live. Added here: frames only one side published, and which plan
 * decisions disagree, when.
 */
import { DivergenceAccumulator, type DivergenceReport } from '../smi/divergence/divergence.js';
import { TRACK } from '../wire/layouts.js';

/** Records (TRACKS_LAYOUT) published for the measurement at `stampNs`. */
export interface StampedTrackList {
  stampNs: bigint;
  values: Float32Array;
}

/** A plan's decision and target acceleration (m/s²) for the measurement at `stampNs`. */
export interface StampedDecision {
  stampNs: bigint;
  decision: string;
  targetAccel: number;
}

export interface RunOutputs {
  trackLists: readonly StampedTrackList[];
  plans: readonly StampedDecision[];
}

export interface PlanDisagreement {
  /** Seconds from the first compared stamp. */
  atS: number;
  primary: string;
  candidate: string;
}

export interface OutputDivergence {
  /** Stamps with a track list on only one side (both sides: `compared.frames`). */
  framesOnlyPrimary: number;
  framesOnlyCandidate: number;
  /** Frames of both, compared: matched tracks, tracks one side has, plan decisions. */
  compared: DivergenceReport;
  /** `primary→candidate` decision pairs that disagree and how often. */
  decisionPairs: Record<string, number>;
  /** The first disagreements, in stamp order. */
  firstDisagreements: PlanDisagreement[];
}

const FIRST_DISAGREEMENTS = 10;

/** The last entry per stamp (of lists valid at one instant, the last holds every measurement of it). */
function lastPerStamp<T extends { stampNs: bigint }>(items: readonly T[]): Map<bigint, T> {
  const m = new Map<bigint, T>();
  for (const x of items) m.set(x.stampNs, x);
  return m;
}

/** Compares a candidate's outputs with the primary's (see the module comment). */
export function compareOutputs(primary: RunOutputs, candidate: RunOutputs): OutputDivergence {
  const a = lastPerStamp(primary.trackLists);
  const b = lastPerStamp(candidate.trackLists);
  const pa = lastPerStamp(primary.plans);
  const pb = lastPerStamp(candidate.plans);
  const stamps = [...a.keys()].filter((s) => b.has(s)).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const acc = new DivergenceAccumulator();
  const decisionPairs: Record<string, number> = {};
  const firstDisagreements: PlanDisagreement[] = [];
  const t0 = stamps[0] ?? 0n;
  for (const s of stamps) {
    const la = a.get(s)!.values;
    const lb = b.get(s)!.values;
    const x = pa.get(s);
    const y = pb.get(s);
    acc.add(
      { tracks: la, count: la.length / TRACK.stride },
      { tracks: lb, count: lb.length / TRACK.stride },
      x && y ? x : undefined,
      x && y ? y : undefined,
    );
    if (x && y && x.decision !== y.decision) {
      const key = `${x.decision}→${y.decision}`;
      decisionPairs[key] = (decisionPairs[key] ?? 0) + 1;
      if (firstDisagreements.length < FIRST_DISAGREEMENTS)
        firstDisagreements.push({ atS: Number(s - t0) / 1e9, primary: x.decision, candidate: y.decision });
    }
  }
  let framesOnlyPrimary = 0;
  for (const s of a.keys()) if (!b.has(s)) framesOnlyPrimary++;
  let framesOnlyCandidate = 0;
  for (const s of b.keys()) if (!a.has(s)) framesOnlyCandidate++;
  return {
    framesOnlyPrimary,
    framesOnlyCandidate,
    compared: acc.report(),
    decisionPairs,
    firstDisagreements,
  };
}
