/**
 * Scores KITTI tracking result files against label_02 files under KITTI's rules for a class
 * (Car, as the devkit does): labels of the class within the truncation and occlusion limits are
 * scored; labels of the neighbouring class (Van) and beyond the limits are ignored; results of
 * other classes are not read; a result that matches nothing is ignored when its image box is at
 * most 25 px tall or lies more than half inside a DontCare region. Boxes are compared in 3D.
 */
import { readFileSync } from 'node:fs';
import type { GtObject, MotFrame, MotSequence, TrackerObject } from '../metrics/mot-data.js';
import { KittiFormatError, parseTrackingFile, type KittiObject } from './kitti-format.js';
import { cameraToSensor, shareInside } from './kitti-geometry.js';

export interface KittiRules {
  /** Scored class and its neighbour (ignored), as KITTI names them. */
  className: string;
  neighbour: string;
  maxTruncation: number;
  maxOcclusion: number;
  /** Results whose image box is at most this tall (px) and match nothing are ignored. */
  minHeightPx: number;
  /** A result more than this share inside a DontCare box, matching nothing, is ignored. */
  dontCareOverlap: number;
}

export const KITTI_CAR_RULES: KittiRules = {
  className: 'Car',
  neighbour: 'Van',
  maxTruncation: 0,
  maxOcclusion: 2,
  minHeightPx: 25,
  dontCareOverlap: 0.5,
};

function box3(o: KittiObject) {
  const b = cameraToSensor(o);
  return { x: b.x, y: b.y, z: b.z, length: b.length, width: b.width, height: b.height, yaw: b.yaw };
}

/** One sequence's labels and results as a scored sequence (class ids: 1 for the scored class). */
export function kittiSequence(
  name: string,
  labels: readonly KittiObject[],
  results: readonly KittiObject[],
  rules: KittiRules = KITTI_CAR_RULES,
): MotSequence {
  const frames = 1 + Math.max(-1, ...labels.map((l) => l.frame), ...results.map((r) => r.frame));
  const seq: MotSequence = {
    name,
    frames: Array.from({ length: frames }, (): MotFrame => ({ gt: [], tracks: [] })),
  };
  const dontCare: KittiObject[][] = Array.from({ length: frames }, () => []);
  for (const l of labels) {
    if (l.type === 'DontCare') {
      dontCare[l.frame]!.push(l);
      continue;
    }
    const scored = l.type === rules.className;
    if (!scored && l.type !== rules.neighbour) continue;
    const g: GtObject = {
      id: l.trackId,
      classId: 1,
      box: box3(l),
      ignored: !scored || l.truncated > rules.maxTruncation || l.occluded > rules.maxOcclusion,
    };
    seq.frames[l.frame]!.gt.push(g);
  }
  for (const r of results) {
    if (r.type !== rules.className) continue;
    const tiny = r.y2 - r.y1 <= rules.minHeightPx;
    const t: TrackerObject = {
      id: r.trackId,
      classId: 1,
      box: box3(r),
      score: Number.isFinite(r.score) ? r.score : 1,
      ignorable:
        tiny ||
        dontCare[r.frame]!.some(
          (d) => shareInside(r.x1, r.y1, r.x2, r.y2, d.x1, d.y1, d.x2, d.y2) > rules.dontCareOverlap,
        ),
    };
    seq.frames[r.frame]!.tracks.push(t);
  }
  return seq;
}

/** Reads a label file and a result file and scores them as one sequence. */
export function loadKittiSequence(
  name: string,
  labelsPath: string,
  resultsPath: string,
  rules?: KittiRules,
): MotSequence {
  const read = (p: string): string => {
    try {
      return readFileSync(p, 'utf8');
    } catch (err) {
      throw new KittiFormatError(p, 0, `cannot read: ${(err as Error).message}`);
    }
  };
  const labels = parseTrackingFile(read(labelsPath), labelsPath);
  const results = parseTrackingFile(read(resultsPath), resultsPath);
  for (const r of results) {
    if (r.trackId < 0)
      throw new KittiFormatError(resultsPath, 0, `a result in frame ${r.frame} has no track id`);
  }
  return kittiSequence(name, labels, results, rules);
}
