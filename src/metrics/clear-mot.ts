/**
 * CLEAR MOT (Bernardin & Stiefelhagen 2008) with the KITTI tracking devkit's conventions:
 * per frame, an optimal one-to-one matching of tracks to true objects (largest total similarity
 * among pairs over the threshold); ignored true objects and ignorable tracks are left out of
 * every count; an identity switch is counted when a true object is matched to another track
 * than in its previous appearance, where it was matched too (an object found again after a
 * miss under a new id is a fragmentation, not a switch).
 */
import { maxWeightAssignment } from './assignment.js';
import { isMatch, similarity, type MatchRule, type MotFrame, type MotSequence } from './mot-data.js';

/** The counts of CLEAR MOT (summed over sequences). */
export interface ClearMotCounts {
  /** True objects scored (not ignored), matched, missed; tracks that matched nothing. */
  gt: number;
  tp: number;
  fn: number;
  fp: number;
  idsw: number;
  /** Times a true trajectory resumes being tracked after having been tracked and lost. */
  frag: number;
  /** True trajectories tracked over > 80 %, 20–80 %, < 20 % of their scored frames. */
  mt: number;
  pt: number;
  ml: number;
}

export interface ClearMot extends ClearMotCounts {
  /** 1 − (FN + FP + IDSW) / GT. */
  mota: number;
  /** Mean similarity of matched pairs (3D IoU, or 1 − distance / threshold). */
  motp: number;
  recall: number;
  precision: number;
}

/** Per-frame matching: for each track of the frame, the index of its true object or -1. */
export function matchFrame(rule: MatchRule, frame: MotFrame): { trackToGt: Int32Array; sims: Float64Array } {
  const weights = frame.tracks.map((t) =>
    frame.gt.map((g) => {
      const s = similarity(rule, g.box, t.box);
      return isMatch(rule, s) ? s : 0;
    }),
  );
  const trackToGt = maxWeightAssignment(weights, frame.gt.length);
  const sims = new Float64Array(frame.tracks.length);
  for (let k = 0; k < trackToGt.length; k++) if (trackToGt[k]! >= 0) sims[k] = weights[k]![trackToGt[k]!]!;
  return { trackToGt, sims };
}

/** Raw counts and the similarity sum of matches; `clearMot` turns them into ratios. */
type Counts = ClearMotCounts & { simSum: number };

/**
 * CLEAR MOT over sequences (counts summed, as KITTI does). `minScore` leaves out tracks
 * scoring below it (sAMOTA's sweep); tracks are kept by default.
 */
export function clearMot(sequences: readonly MotSequence[], rule: MatchRule, minScore = -Infinity): ClearMot {
  const c: Counts = { gt: 0, tp: 0, fn: 0, fp: 0, idsw: 0, frag: 0, mt: 0, pt: 0, ml: 0, simSum: 0 };
  for (const seq of sequences) countSequence(seq, rule, minScore, c);
  const { simSum: _simSum, ...counts } = c;
  return {
    ...counts,
    mota: c.gt > 0 ? 1 - (c.fn + c.fp + c.idsw) / c.gt : 0,
    motp: c.tp > 0 ? c.simSum / c.tp : 0,
    recall: c.gt > 0 ? c.tp / c.gt : 0,
    precision: c.tp + c.fp > 0 ? c.tp / (c.tp + c.fp) : 0,
  };
}

/** Per true trajectory: its appearances' matched track id (-1 = missed) and whether scored. */
interface Trajectory {
  matched: number[];
  ignored: boolean[];
}

function countSequence(seq: MotSequence, rule: MatchRule, minScore: number, c: Counts): void {
  const trajectories = new Map<number, Trajectory>();
  for (const raw of seq.frames) {
    const frame =
      minScore === -Infinity ? raw : { gt: raw.gt, tracks: raw.tracks.filter((t) => t.score >= minScore) };
    const { trackToGt, sims } = matchFrame(rule, frame);
    const gtToTrack = new Int32Array(frame.gt.length).fill(-1);
    for (let k = 0; k < frame.tracks.length; k++) {
      const g = trackToGt[k]!;
      if (g >= 0) {
        gtToTrack[g] = k;
        if (!frame.gt[g]!.ignored) {
          c.tp++;
          c.simSum += sims[k]!;
        }
      } else if (!frame.tracks[k]!.ignorable) {
        c.fp++;
      }
    }
    for (let g = 0; g < frame.gt.length; g++) {
      const obj = frame.gt[g]!;
      if (!obj.ignored) {
        c.gt++;
        if (gtToTrack[g]! < 0) c.fn++;
      }
      let tr = trajectories.get(obj.id);
      if (!tr) {
        tr = { matched: [], ignored: [] };
        trajectories.set(obj.id, tr);
      }
      tr.matched.push(gtToTrack[g]! >= 0 ? frame.tracks[gtToTrack[g]!]!.id : -1);
      tr.ignored.push(obj.ignored);
    }
  }
  for (const tr of trajectories.values()) {
    let scored = 0;
    let tracked = 0;
    let everTracked = false;
    for (let f = 0; f < tr.matched.length; f++) {
      if (tr.ignored[f]) continue;
      scored++;
      const cur = tr.matched[f]!;
      const prev = f > 0 && !tr.ignored[f - 1] ? tr.matched[f - 1]! : -1;
      if (cur >= 0 && prev >= 0 && cur !== prev) c.idsw++;
      if (cur >= 0 && f > 0 && prev < 0 && everTracked && !tr.ignored[f - 1]) c.frag++;
      if (cur >= 0) {
        tracked++;
        everTracked = true;
      }
    }
    if (scored === 0) continue;
    const ratio = tracked / scored;
    if (ratio > 0.8) c.mt++;
    else if (ratio < 0.2) c.ml++;
    else c.pt++;
  }
}
