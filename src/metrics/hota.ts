/**
 * HOTA (Luiten et al., "HOTA: A Higher Order Metric for Evaluating Multi-Object Tracking",
 * IJCV 2021): detection accuracy DetA, association accuracy AssA and localisation accuracy LocA,
 * each averaged over localisation thresholds α = 0.05, 0.10, …, 0.95; HOTA_α = √(DetA_α·AssA_α).
 * Matching per frame maximises similarity weighted by a global alignment score of each
 * (true id, track id) pair, as the reference implementation does, then keeps pairs with
 * similarity ≥ α. Ignored true objects, tracks matched to them and unmatched ignorable tracks
 * are removed first (CLEAR MOT's matching decides which), as TrackEval's KITTI preprocessing does.
 */
import { maxWeightAssignment } from './assignment.js';
import { matchFrame } from './clear-mot.js';
import { similarity, type MatchRule, type MotFrame, type MotSequence } from './mot-data.js';

export const HOTA_ALPHAS: readonly number[] = Array.from({ length: 19 }, (_, i) => (i + 1) * 0.05);

export interface Hota {
  hota: number;
  detA: number;
  assA: number;
  locA: number;
  detRe: number;
  detPr: number;
  assRe: number;
  assPr: number;
  /** HOTA at each α of HOTA_ALPHAS. */
  perAlpha: number[];
}

/** One frame after preprocessing: true ids, track ids and the similarity matrix (gt × tracks). */
interface Scored {
  gtIds: number[];
  trackIds: number[];
  sim: number[][];
}

/** Removes ignored true objects, tracks matched to them and unmatched ignorable tracks. */
function preprocess(rule: MatchRule, frame: MotFrame): Scored {
  const { trackToGt } = matchFrame(rule, frame);
  const gt = frame.gt.filter((g) => !g.ignored);
  const tracks = frame.tracks.filter((t, k) => {
    const g = trackToGt[k]!;
    return g >= 0 ? !frame.gt[g]!.ignored : !t.ignorable;
  });
  return {
    gtIds: gt.map((g) => g.id),
    trackIds: tracks.map((t) => t.id),
    sim: gt.map((g) => tracks.map((t) => similarity(rule, g.box, t.box))),
  };
}

/** HOTA over sequences: counts per α summed over all of them (each sequence's ids apart). */
export function hota(sequences: readonly MotSequence[], rule: MatchRule): Hota {
  const A = HOTA_ALPHAS.length;
  const tp = new Float64Array(A);
  const fn = new Float64Array(A);
  const fp = new Float64Array(A);
  const locSum = new Float64Array(A);
  const assSum = new Float64Array(A);
  const assReSum = new Float64Array(A);
  const assPrSum = new Float64Array(A);
  for (const seq of sequences) {
    const frames = seq.frames.map((f) => preprocess(rule, f));
    // Pass 1: how much each pair of ids could match over the sequence.
    const gtCount = new Map<number, number>();
    const trCount = new Map<number, number>();
    const potential = new Map<string, number>();
    for (const f of frames) {
      for (const g of f.gtIds) gtCount.set(g, (gtCount.get(g) ?? 0) + 1);
      for (const t of f.trackIds) trCount.set(t, (trCount.get(t) ?? 0) + 1);
      const rowSum = f.sim.map((r) => r.reduce((a, b) => a + b, 0));
      const colSum = f.trackIds.map((_, j) => f.sim.reduce((a, r) => a + r[j]!, 0));
      f.sim.forEach((r, i) =>
        r.forEach((s, j) => {
          if (s <= 0) return;
          const key = `${f.gtIds[i]}|${f.trackIds[j]}`;
          potential.set(key, (potential.get(key) ?? 0) + s / (rowSum[i]! + colSum[j]! - s));
        }),
      );
    }
    const align = (g: number, t: number): number => {
      const p = potential.get(`${g}|${t}`) ?? 0;
      return p > 0 ? p / (gtCount.get(g)! + trCount.get(t)! - p) : 0;
    };
    // Pass 2: match per frame, count per α.
    const matches: Map<string, number>[] = HOTA_ALPHAS.map(() => new Map());
    for (const f of frames) {
      const weights = f.trackIds.map((t, j) => f.gtIds.map((g, i) => align(g, t) * f.sim[i]![j]!));
      const trackToGt = maxWeightAssignment(weights, f.gtIds.length);
      for (let a = 0; a < A; a++) {
        let n = 0;
        for (let j = 0; j < trackToGt.length; j++) {
          const i = trackToGt[j]!;
          if (i < 0) continue;
          const s = f.sim[i]![j]!;
          if (s < HOTA_ALPHAS[a]! - 1e-12) continue;
          n++;
          locSum[a] = locSum[a]! + s;
          const key = `${f.gtIds[i]}|${f.trackIds[j]}`;
          matches[a]!.set(key, (matches[a]!.get(key) ?? 0) + 1);
        }
        tp[a] = tp[a]! + n;
        fn[a] = fn[a]! + f.gtIds.length - n;
        fp[a] = fp[a]! + f.trackIds.length - n;
      }
    }
    // Association: each true positive weighs its pair's association IoU (and recall, precision).
    for (let a = 0; a < A; a++) {
      for (const [key, m] of matches[a]!) {
        const [g, t] = key.split('|').map(Number) as [number, number];
        const gc = gtCount.get(g)!;
        const tc = trCount.get(t)!;
        assSum[a] = assSum[a]! + (m * m) / (gc + tc - m);
        assReSum[a] = assReSum[a]! + (m * m) / gc;
        assPrSum[a] = assPrSum[a]! + (m * m) / tc;
      }
    }
  }
  const perAlpha: number[] = [];
  let hotaSum = 0;
  let detA = 0;
  let assA = 0;
  let locA = 0;
  let detRe = 0;
  let detPr = 0;
  let assRe = 0;
  let assPr = 0;
  for (let a = 0; a < A; a++) {
    const t = tp[a]!;
    const d = t / Math.max(1, t + fn[a]! + fp[a]!);
    const as = assSum[a]! / Math.max(1, t);
    const h = Math.sqrt(d * as);
    perAlpha.push(h);
    hotaSum += h;
    detA += d;
    assA += as;
    // With no true positive at an α, localisation is perfect by convention (as TrackEval).
    locA += t > 0 ? locSum[a]! / t : 1;
    detRe += t / Math.max(1, t + fn[a]!);
    detPr += t / Math.max(1, t + fp[a]!);
    assRe += assReSum[a]! / Math.max(1, t);
    assPr += assPrSum[a]! / Math.max(1, t);
  }
  return {
    hota: hotaSum / A,
    detA: detA / A,
    assA: assA / A,
    locA: locA / A,
    detRe: detRe / A,
    detPr: detPr / A,
    assRe: assRe / A,
    assPr: assPr / A,
    perAlpha,
  };
}
