import { describe, expect, it } from 'vitest';
import { divergenceReport, type TrackList } from './divergence.js';
import { TRACK } from '../../wire/layouts.js';

/** A track list of objects at (x, y) moving at (vx, vy). */
function list(objects: [number, number, number, number][]): TrackList {
  const tracks = new Float32Array(objects.length * TRACK.stride);
  objects.forEach(([x, y, vx, vy], i) => {
    tracks[i * TRACK.stride + TRACK.id] = i + 1;
    tracks[i * TRACK.stride + TRACK.x] = x;
    tracks[i * TRACK.stride + TRACK.y] = y;
    tracks[i * TRACK.stride + TRACK.vx] = vx;
    tracks[i * TRACK.stride + TRACK.vy] = vy;
  });
  return { tracks, count: objects.length };
}

describe('divergenceReport', () => {
  it('identical outputs do not diverge', () => {
    const a = [list([[10, 0, 5, 0]]), list([[11, 0, 5, 0]])];
    const r = divergenceReport(
      a,
      a,
      [{ decision: 'follow', targetAccel: 0.5 }],
      [{ decision: 'follow', targetAccel: 0.5 }],
    );
    expect(r).toMatchObject({
      frames: 2,
      framesDiffering: 0,
      matchedTracks: 2,
      onlyPrimary: 0,
      onlyOther: 0,
      decisionsDiffering: 0,
    });
    expect(r.position.max).toBe(0);
  });

  it('matches by position, not id, and measures position and velocity differences', () => {
    // The other version lists the same two objects in the other order, 0.3 m and 0.4 m/s off.
    const primary = [
      list([
        [10, 0, 5, 0],
        [30, 3.5, 0, 0],
      ]),
    ];
    const other = [
      list([
        [30, 3.5, 0, 0.4],
        [10.3, 0, 5, 0],
      ]),
    ];
    const r = divergenceReport(primary, other);
    expect(r.matchedTracks).toBe(2);
    expect(r.position.max).toBeCloseTo(0.3, 5);
    expect(r.velocity.max).toBeCloseTo(0.4, 5);
    expect(r.framesDiffering).toBe(0);
  });

  it('counts tracks only one side has and decisions that disagree', () => {
    const primary = [
      list([
        [10, 0, 0, 0],
        [50, 0, 0, 0],
      ]),
      list([[10, 0, 0, 0]]),
    ];
    const other = [
      list([[10, 0, 0, 0]]),
      list([
        [10, 0, 0, 0],
        [80, -3, 0, 0],
      ]),
    ];
    const r = divergenceReport(
      primary,
      other,
      [
        { decision: 'follow', targetAccel: 0 },
        { decision: 'aeb', targetAccel: -9 },
      ],
      [
        { decision: 'follow', targetAccel: 0 },
        { decision: 'brake', targetAccel: -3 },
      ],
    );
    expect(r).toMatchObject({
      frames: 2,
      framesDiffering: 2,
      matchedTracks: 2,
      onlyPrimary: 1,
      onlyOther: 1,
    });
    expect(r.decisionsDiffering).toBe(1);
    expect(r.decisionExamples).toEqual([{ frame: 1, primary: 'aeb', other: 'brake' }]);
    expect(r.targetAccel.max).toBe(6);
  });

  it('refuses sequences of different lengths', () => {
    expect(() => divergenceReport([list([])], [])).toThrow(/1 primary frames against 0/);
  });
});
