import { centreDistance, iou3d, type Box3 } from './box-overlap.js';

/** A ground-truth object in one frame. */
export interface GtObject {
  /** Identity of the true object, unique within its sequence. */
  id: number;
  classId: number;
  box: Box3;
  /**
   * Not to be scored (KITTI: a Van when scoring Car, too truncated or occluded): a track
   * matched to it is neither a true nor a false positive, and missing it is no miss.
   */
  ignored: boolean;
}

/** A tracker output in one frame. */
export interface TrackerObject {
  /** Track id, unique within its sequence. */
  id: number;
  classId: number;
  box: Box3;
  /** Confidence (existence); sAMOTA sweeps thresholds over it. */
  score: number;
  /**
   * When unmatched, not a false positive (KITTI: inside a DontCare region, or too small in the
   * image to be labelled).
   */
  ignorable: boolean;
}

export interface MotFrame {
  gt: GtObject[];
  tracks: TrackerObject[];
}

/** A sequence (a drive): frames in time order; ids are per sequence. */
export interface MotSequence {
  name: string;
  frames: MotFrame[];
}

/**
 * How a track is matched to a true object: by 3D IoU of at least `threshold` (similarity = IoU),
 * or by centre distance of at most `threshold` m (similarity = 1 − distance / threshold).
 */
export interface MatchRule {
  kind: 'iou3d' | 'distance';
  threshold: number;
}

export const KITTI_MATCH: MatchRule = { kind: 'iou3d', threshold: 0.25 };

/** Similarity in 0..1 of a true box and a tracked box under the rule (0 = no overlap at all). */
export function similarity(rule: MatchRule, a: Box3, b: Box3): number {
  if (rule.kind === 'iou3d') return iou3d(a, b);
  const d = centreDistance(a, b);
  return d < rule.threshold ? 1 - d / rule.threshold : 0;
}

/** Whether a similarity counts as a match under the rule (CLEAR MOT's threshold). */
export function isMatch(rule: MatchRule, sim: number): boolean {
  return rule.kind === 'iou3d' ? sim >= rule.threshold : sim > 0;
}

/** The sequences with only the objects of one class (true objects and tracks), for per-class scores. */
export function ofClass(sequences: readonly MotSequence[], classId: number): MotSequence[] {
  return sequences.map((s) => ({
    name: s.name,
    frames: s.frames.map((f) => ({
      gt: f.gt.filter((g) => g.classId === classId),
      tracks: f.tracks.filter((t) => t.classId === classId),
    })),
  }));
}
