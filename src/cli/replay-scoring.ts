/**
 * Tracking scores of a replayed drive against its ground truth: each track list (the last
 * published of each stamp) is a frame, paired with the truth sample nearest in time (true boxes moved to the list's time by
 * their velocity); CLEAR MOT, HOTA and sAMOTA (src/metrics) over all classes and per class.
 * True objects beyond `rangeM` are ignored, and so are tracks beyond it that match nothing.
 */
import { GT } from '../wire/ground-truth.js';
import { ObjectClass, TRACK } from '../wire/layouts.js';
import type { Box3 } from '../metrics/box-overlap.js';
import {
  evaluateMot,
  ofClass,
  trackBox,
  truthBox,
  type GtObject,
  type MatchRule,
  type MotEvaluation,
  type MotFrame,
  type MotSequence,
  type TrackerObject,
} from '../metrics/index.js';

/** One sample of records on the drive's clock. */
export interface StampedRecords {
  stampNs: bigint;
  values: Float32Array;
}

export interface DriveScores {
  match: MatchRule;
  rangeM: number;
  frames: number;
  overall: MotEvaluation;
  perClass: Record<string, MotEvaluation>;
}

const CLASS_NAMES = Object.fromEntries(Object.entries(ObjectClass).map(([k, v]) => [v, k])) as Record<
  number,
  string
>;

/** Truth samples more than this far in time from a track list are not paired with it, ns. */
const MAX_PAIRING_NS = 60_000_000n;

function absBig(v: bigint): bigint {
  return v < 0n ? -v : v;
}

/** Index of the sample nearest to `stamp` in a list sorted by stamp, or -1. */
export function nearestIndex(sorted: readonly StampedRecords[], stamp: bigint): number {
  let lo = 0;
  let hi = sorted.length - 1;
  if (hi < 0) return -1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]!.stampNs < stamp) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && absBig(sorted[lo - 1]!.stampNs - stamp) < absBig(sorted[lo]!.stampNs - stamp)) return lo - 1;
  return lo;
}

function truthObjects(
  sample: StampedRecords,
  dtS: number,
  ignored: boolean,
  rangeM: number,
  out: GtObject[],
): void {
  const v = sample.values;
  for (let a = 0; a + GT.stride <= v.length; a += GT.stride) {
    const box = truthBox(v, a, dtS);
    out.push({
      id: v[a + GT.id]!,
      classId: v[a + GT.classId]!,
      box,
      ignored: ignored || Math.hypot(box.x, box.y) > rangeM,
    });
  }
}

/**
 * Where a track stands in the truth's view (a KITTI camera frame: see kittiVisibility): not in
 * it at all, ignorable when it matches nothing, or scored.
 */
export type TrackVisibility = (box: Box3, stampNs: bigint) => 'outside' | 'ignorable' | 'scored';

/**
 * Builds the scored sequence of a drive from its track lists and truth (scored and ignored
 * samples, each sorted by stamp) and evaluates it.
 */
export function scoreDrive(
  name: string,
  trackLists: readonly StampedRecords[],
  truth: readonly StampedRecords[],
  ignoredTruth: readonly StampedRecords[],
  match: MatchRule,
  rangeM: number,
  visibility?: TrackVisibility,
): DriveScores | undefined {
  const frames: MotFrame[] = [];
  for (const list of trackLists) {
    const i = nearestIndex(truth, list.stampNs);
    if (i < 0 || absBig(truth[i]!.stampNs - list.stampNs) > MAX_PAIRING_NS) continue;
    const gt: GtObject[] = [];
    truthObjects(truth[i]!, Number(list.stampNs - truth[i]!.stampNs) / 1e9, false, rangeM, gt);
    const k = nearestIndex(ignoredTruth, list.stampNs);
    if (k >= 0 && absBig(ignoredTruth[k]!.stampNs - list.stampNs) <= MAX_PAIRING_NS) {
      truthObjects(ignoredTruth[k]!, Number(list.stampNs - ignoredTruth[k]!.stampNs) / 1e9, true, rangeM, gt);
    }
    const tracks: TrackerObject[] = [];
    const v = list.values;
    for (let o = 0; o + TRACK.stride <= v.length; o += TRACK.stride) {
      const box = trackBox(v, o);
      const seen = visibility ? visibility(box, list.stampNs) : 'scored';
      if (seen === 'outside') continue;
      tracks.push({
        id: v[o + TRACK.id]!,
        classId: v[o + TRACK.classId]!,
        box,
        score: v[o + TRACK.existence]!,
        ignorable: seen === 'ignorable' || Math.hypot(box.x, box.y) > rangeM,
      });
    }
    frames.push({ gt, tracks });
  }
  if (frames.length === 0) return undefined;
  const seq: MotSequence[] = [{ name, frames }];
  const classes = new Set<number>();
  for (const f of frames) for (const g of f.gt) if (!g.ignored) classes.add(g.classId);
  const perClass: Record<string, MotEvaluation> = {};
  for (const c of [...classes].sort((a, b) => a - b)) {
    perClass[CLASS_NAMES[c] ?? String(c)] = evaluateMot(ofClass(seq, c), match);
  }
  return { match, rangeM, frames: frames.length, overall: evaluateMot(seq, match), perClass };
}

/** The scores as report lines. */
export function formatScores(s: DriveScores): string[] {
  const pct = (v: number): string => (100 * v).toFixed(1);
  const rule =
    s.match.kind === 'iou3d' ? `3D IoU >= ${s.match.threshold}` : `centre within ${s.match.threshold} m`;
  const row = (name: string, e: MotEvaluation): string => {
    const c = e.clear;
    return (
      `  ${name.padEnd(11)} MOTA ${pct(c.mota).padStart(5)}  MOTP ${pct(c.motp).padStart(5)}  HOTA ${pct(e.hota.hota).padStart(5)} (DetA ${pct(e.hota.detA)}, AssA ${pct(e.hota.assA)}, LocA ${pct(e.hota.locA)})` +
      `  sAMOTA ${pct(e.samota.samota).padStart(5)}  IDSW ${c.idsw}  FRAG ${c.frag}  MT/PT/ML ${c.mt}/${c.pt}/${c.ml}  FP ${c.fp}  FN ${c.fn}  GT ${c.gt}`
    );
  };
  return [
    `tracking scores (${rule}, ${Number.isFinite(s.rangeM) ? `true objects within ${s.rangeM} m` : 'every true object'}, ${s.frames} track lists):`,
    row('all', s.overall),
    ...Object.entries(s.perClass).map(([k, e]) => row(k, e)),
  ];
}
