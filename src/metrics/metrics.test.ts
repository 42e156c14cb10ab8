import { describe, expect, it } from 'vitest';
import {
  clearMot,
  evaluateMot,
  hota,
  iou3d,
  iouBev,
  samota,
  type Box3,
  type GtObject,
  type MatchRule,
  type MotSequence,
  type TrackerObject,
} from './index.js';

const box = (x: number, y = 0, extra: Partial<Box3> = {}): Box3 => ({
  x,
  y,
  z: 0,
  length: 4,
  width: 2,
  height: 2,
  yaw: 0,
  ...extra,
});
const gt = (id: number, x: number, ignored = false): GtObject => ({ id, classId: 1, box: box(x), ignored });
const trk = (id: number, x: number, score = 1, ignorable = false): TrackerObject => ({
  id,
  classId: 1,
  box: box(x),
  score,
  ignorable,
});
const IOU: MatchRule = { kind: 'iou3d', threshold: 0.25 };

describe('box overlap', () => {
  it('computes IoU of shifted, turned and stacked boxes (worked out by hand)', () => {
    expect(iou3d(box(0), box(0))).toBeCloseTo(1, 12);
    // 2 m shift of a 4 × 2 box: 2 × 2 = 4 m² shared of 8 + 8 − 4.
    expect(iouBev(box(0), box(2))).toBeCloseTo(1 / 3, 12);
    expect(iou3d(box(0), box(2))).toBeCloseTo(1 / 3, 12);
    // Turned by 90° about the same centre: a 2 × 2 square is shared.
    expect(iou3d(box(0), box(0, 0, { yaw: Math.PI / 2 }))).toBeCloseTo(1 / 3, 12);
    // Turned by 180°: the same box.
    expect(iou3d(box(0), box(0, 0, { yaw: Math.PI }))).toBeCloseTo(1, 12);
    // A 2 × 2 square and the same square turned 45°: a regular octagon of area 8(√2 − 1).
    const sq = { length: 2, width: 2 };
    const oct = 8 * (Math.SQRT2 - 1);
    expect(iouBev(box(0, 0, sq), box(0, 0, { ...sq, yaw: Math.PI / 4 }))).toBeCloseTo(oct / (8 - oct), 12);
    // Raised by half the height: half the volume is shared.
    expect(iou3d(box(0), box(0, 0, { z: 1 }))).toBeCloseTo(1 / 3, 12);
    expect(iou3d(box(0), box(0, 0, { z: 2 }))).toBe(0);
    expect(iou3d(box(0), box(10))).toBe(0);
  });
});

describe('CLEAR MOT', () => {
  // Two cars, four frames: A (id 1) at x = 0, B (id 2) at x = 10.
  const seq: MotSequence = {
    name: 'hand',
    frames: [
      {
        gt: [gt(1, 0), gt(2, 10), gt(3, 20, true)],
        tracks: [trk(1, 0), trk(2, 10), trk(6, 20), trk(7, 30, 1, true)],
      },
      { gt: [gt(1, 0), gt(2, 10)], tracks: [trk(1, 0), trk(3, 50)] },
      { gt: [gt(1, 0), gt(2, 10)], tracks: [trk(4, 0), trk(2, 10)] },
      { gt: [gt(1, 0), gt(2, 10)], tracks: [trk(4, 0), trk(5, 10), trk(8, 70)] },
    ],
  };

  it('counts matches, misses, false positives, switches and fragmentations by the KITTI rules', () => {
    const m = clearMot([seq], IOU);
    // GT: 8 scored (the ignored car at x = 20 and the track on it count for nothing; the
    // ignorable track 7 is not a false positive).
    expect(m.gt).toBe(8);
    expect(m.tp).toBe(7);
    expect(m.fn).toBe(1); // B in frame 1
    expect(m.fp).toBe(2); // track 3 in frame 1, track 8 in frame 3
    // A: 1 → 4 while matched in its previous appearance; B: 2 → 5 likewise. B's return under
    // its old id 2 after the miss in frame 1 is a fragmentation, not a switch.
    expect(m.idsw).toBe(2);
    expect(m.frag).toBe(1);
    expect(m.mota).toBeCloseTo(1 - (1 + 2 + 2) / 8, 12);
    expect(m.motp).toBeCloseTo(1, 12);
    expect([m.mt, m.pt, m.ml]).toEqual([1, 1, 0]); // A 4/4, B 3/4
  });

  it('does not count a switch when the object was missed in its previous appearance', () => {
    const s: MotSequence = {
      name: 'gap',
      frames: [
        { gt: [gt(1, 0)], tracks: [trk(1, 0)] },
        { gt: [gt(1, 0)], tracks: [] },
        { gt: [gt(1, 0)], tracks: [trk(2, 0)] },
      ],
    };
    const m = clearMot([s], IOU);
    expect([m.tp, m.fn, m.fp, m.idsw, m.frag]).toEqual([2, 1, 0, 0, 1]);
  });

  it('matches by 3D IoU at 0.25 and, as an option, by centre distance', () => {
    // 2.5 m off a 4 m long box: IoU 1.5 × 2 / (8 + 8 − 3) = 0.23 < 0.25.
    const s: MotSequence = { name: 'off', frames: [{ gt: [gt(1, 0)], tracks: [trk(1, 2.5)] }] };
    expect(clearMot([s], IOU).tp).toBe(0);
    expect(clearMot([s], IOU).fp).toBe(1);
    const near = clearMot([s], { kind: 'distance', threshold: 3 });
    expect(near.tp).toBe(1);
    expect(near.motp).toBeCloseTo(1 - 2.5 / 3, 12);
  });
});

describe('HOTA', () => {
  it('halves association when one object is tracked under two ids (worked out by hand)', () => {
    // One object over four frames, id 1 then id 2; perfect boxes. DetA = 1; each pair has
    // A = 2 / (4 + 2 − 2) = 0.5, so AssA = 0.5 and HOTA = √0.5 at every α.
    const s: MotSequence = {
      name: 'split',
      frames: [0, 1, 2, 3].map((f) => ({ gt: [gt(1, 0)], tracks: [trk(f < 2 ? 1 : 2, 0)] })),
    };
    const h = hota([s], IOU);
    expect(h.detA).toBeCloseTo(1, 12);
    expect(h.assA).toBeCloseTo(0.5, 12);
    expect(h.hota).toBeCloseTo(Math.SQRT1_2, 12);
    expect(h.locA).toBeCloseTo(1, 12);
  });

  it('scores localisation per α (centre distance similarity)', () => {
    // Similarity 1 − 0.5 / 2 = 0.75: a match for the 15 α ≤ 0.75, a miss and a false positive
    // for the 4 above. HOTA = 15/19; LocA = (15 × 0.75 + 4 × 1) / 19 (no match: 1 by convention).
    const s: MotSequence = { name: 'loc', frames: [{ gt: [gt(1, 0)], tracks: [trk(1, 0.5)] }] };
    const h = hota([s], { kind: 'distance', threshold: 2 });
    expect(h.hota).toBeCloseTo(15 / 19, 12);
    expect(h.detA).toBeCloseTo(15 / 19, 12);
    expect(h.locA).toBeCloseTo((15 * 0.75 + 4) / 19, 12);
  });

  it('leaves out ignored objects and the tracks on them', () => {
    const s: MotSequence = {
      name: 'ign',
      frames: [{ gt: [gt(1, 0), gt(2, 10, true)], tracks: [trk(1, 0), trk(2, 10), trk(3, 40, 1, true)] }],
    };
    expect(hota([s], IOU).hota).toBeCloseTo(1, 12);
  });
});

describe('sAMOTA', () => {
  it('sweeps score thresholds over 40 recall levels (worked out by hand)', () => {
    // One object in four frames, tracked with scores 0.9, 0.9, 0.3, 0.3, and a false positive
    // scoring 0.95 in frame 0. Levels 1-20 keep scores >= 0.9 (2 TP, 2 FN, 1 FP: sMOTA 0.25 / r,
    // capped at 1); levels 21-40 keep scores >= 0.3 (4 TP, 1 FP: sMOTA 0.75 / r, capped).
    const scores = [0.9, 0.9, 0.3, 0.3];
    const s: MotSequence = {
      name: 'sweep',
      frames: scores.map((sc, f) => ({
        gt: [gt(1, 0)],
        tracks: f === 0 ? [trk(1, 0, sc), trk(9, 30, 0.95)] : [trk(1, 0, sc)],
      })),
    };
    let expected = 0;
    for (let k = 1; k <= 40; k++) {
      const r = k / 40;
      expected += Math.min(1, (k <= 20 ? 0.25 : 0.75) / r);
    }
    const m = samota([s], IOU);
    expect(m.samota).toBeCloseTo(expected / 40, 12);
    expect(m.samota).toBeCloseTo(0.8798597818, 9);
    expect(m.amota).toBeCloseTo(0.5, 12);
    expect(m.maxRecall).toBe(1);
  });

  it('counts unreachable recall levels as 0', () => {
    // Half the object's frames are tracked: levels above r = 0.5 cannot be reached.
    const s: MotSequence = {
      name: 'half',
      frames: [0, 1, 2, 3].map((f) => ({ gt: [gt(1, 0)], tracks: f < 2 ? [trk(1, 0)] : [] })),
    };
    const m = samota([s], IOU);
    // Levels 1-20: 2 TP, 2 FN: sMOTA = 1 − (2 − 4(1 − r)) / 4r = 0.5 / r ≥ 1, capped.
    expect(m.samota).toBeCloseTo(20 / 40, 12);
    expect(evaluateMot([s], IOU).clear.mota).toBeCloseTo(0.5, 12);
  });
});
