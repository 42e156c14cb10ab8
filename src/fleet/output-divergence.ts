/**
 * How a candidate's outputs differ from the primary's on the same drive: per frame (the last track
 * list published for each measurement stamp), tracks are paired by nearest centre within a gate;
 * paired tracks give position and velocity differences, unpaired ones are "only primary" or "only
 * candidate"; plans made for the same stamp are compared by decision and target acceleration.
 * Offline and pure: two recorded output sequences in, one summary out.
 */
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

/** Mean, 95th percentile and max of a set of differences. */
export interface DiffStats {
  mean: number;
  p95: number;
  max: number;
}

export interface PlanDisagreement {
  /** Seconds from the first compared stamp. */
  atS: number;
  primary: string;
  candidate: string;
}

export interface OutputDivergence {
  /** Stamps with a track list on both sides, and on one side only. */
  frames: { compared: number; onlyPrimary: number; onlyCandidate: number };
  tracks: {
    /** Paired track-frames and their centre (m) and velocity (m/s) differences. */
    matched: number;
    positionM: DiffStats;
    velocityMps: DiffStats;
    /** Track-frames with no partner within the gate. */
    onlyPrimary: number;
    onlyCandidate: number;
    /** Track ids that never had a partner in any compared frame. */
    primaryIdsNeverMatched: number;
    candidateIdsNeverMatched: number;
  };
  plans: {
    compared: number;
    /** Plans whose decision differs. */
    disagreements: number;
    /** `primary→candidate` decision pairs and how often. */
    byPair: Record<string, number>;
    /** The first disagreements, in stamp order. */
    first: PlanDisagreement[];
    /** |target acceleration difference| over compared plans (m/s²). */
    targetAccelMps2: DiffStats;
  };
}

/** Tracks farther apart than this (m) are different objects. */
export const DIVERGENCE_GATE_M = 2;
const FIRST_DISAGREEMENTS = 10;

function stats(values: number[]): DiffStats {
  if (values.length === 0) return { mean: 0, p95: 0, max: 0 };
  values.sort((a, b) => a - b);
  let sum = 0;
  for (const v of values) sum += v;
  return {
    mean: sum / values.length,
    p95: values[Math.min(values.length - 1, Math.floor(0.95 * values.length))]!,
    max: values[values.length - 1]!,
  };
}

/** The last list per stamp (the one holding every measurement of that instant). */
function lastPerStamp(lists: readonly StampedTrackList[]): Map<bigint, Float32Array> {
  const m = new Map<bigint, Float32Array>();
  for (const l of lists) m.set(l.stampNs, l.values);
  return m;
}

function lastPlanPerStamp(plans: readonly StampedDecision[]): Map<bigint, StampedDecision> {
  const m = new Map<bigint, StampedDecision>();
  for (const p of plans) m.set(p.stampNs, p);
  return m;
}

/** Compares a candidate's outputs with the primary's (see the module comment). */
export function compareOutputs(
  primary: RunOutputs,
  candidate: RunOutputs,
  gateM = DIVERGENCE_GATE_M,
): OutputDivergence {
  const S = TRACK.stride;
  const a = lastPerStamp(primary.trackLists);
  const b = lastPerStamp(candidate.trackLists);
  const pos: number[] = [];
  const vel: number[] = [];
  let compared = 0;
  let onlyA = 0;
  let onlyB = 0;
  const idsA = new Set<number>();
  const idsB = new Set<number>();
  const matchedA = new Set<number>();
  const matchedB = new Set<number>();
  for (const [stamp, va] of a) {
    const vb = b.get(stamp);
    if (!vb) continue;
    compared++;
    const na = va.length / S;
    const nb = vb.length / S;
    const pairs: [number, number, number][] = [];
    for (let i = 0; i < na; i++) {
      idsA.add(va[i * S + TRACK.id]!);
      for (let j = 0; j < nb; j++) {
        const d = Math.hypot(
          va[i * S + TRACK.x]! - vb[j * S + TRACK.x]!,
          va[i * S + TRACK.y]! - vb[j * S + TRACK.y]!,
        );
        if (d <= gateM) pairs.push([d, i, j]);
      }
    }
    for (let j = 0; j < nb; j++) idsB.add(vb[j * S + TRACK.id]!);
    pairs.sort((p, q) => p[0] - q[0]);
    const usedA = new Uint8Array(na);
    const usedB = new Uint8Array(nb);
    let paired = 0;
    for (const [d, i, j] of pairs) {
      if (usedA[i] || usedB[j]) continue;
      usedA[i] = 1;
      usedB[j] = 1;
      paired++;
      pos.push(d);
      vel.push(
        Math.hypot(
          va[i * S + TRACK.vx]! - vb[j * S + TRACK.vx]!,
          va[i * S + TRACK.vy]! - vb[j * S + TRACK.vy]!,
        ),
      );
      matchedA.add(va[i * S + TRACK.id]!);
      matchedB.add(vb[j * S + TRACK.id]!);
    }
    onlyA += na - paired;
    onlyB += nb - paired;
  }
  let framesOnlyA = 0;
  for (const s of a.keys()) if (!b.has(s)) framesOnlyA++;
  let framesOnlyB = 0;
  for (const s of b.keys()) if (!a.has(s)) framesOnlyB++;

  const pa = lastPlanPerStamp(primary.plans);
  const pb = lastPlanPerStamp(candidate.plans);
  const stamps = [...pa.keys()].filter((s) => pb.has(s)).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const byPair: Record<string, number> = {};
  const first: PlanDisagreement[] = [];
  const accel: number[] = [];
  let disagreements = 0;
  const t0 = stamps[0] ?? 0n;
  for (const s of stamps) {
    const x = pa.get(s)!;
    const y = pb.get(s)!;
    const da = Math.abs(x.targetAccel - y.targetAccel);
    if (Number.isFinite(da)) accel.push(da);
    if (x.decision === y.decision) continue;
    disagreements++;
    const key = `${x.decision}→${y.decision}`;
    byPair[key] = (byPair[key] ?? 0) + 1;
    if (first.length < FIRST_DISAGREEMENTS)
      first.push({ atS: Number(s - t0) / 1e9, primary: x.decision, candidate: y.decision });
  }
  return {
    frames: { compared, onlyPrimary: framesOnlyA, onlyCandidate: framesOnlyB },
    tracks: {
      matched: pos.length,
      positionM: stats(pos),
      velocityMps: stats(vel),
      onlyPrimary: onlyA,
      onlyCandidate: onlyB,
      primaryIdsNeverMatched: [...idsA].filter((id) => !matchedA.has(id)).length,
      candidateIdsNeverMatched: [...idsB].filter((id) => !matchedB.has(id)).length,
    },
    plans: {
      compared: stamps.length,
      disagreements,
      byPair,
      first,
      targetAccelMps2: stats(accel),
    },
  };
}
