import { describe, expect, it } from 'vitest';
import { TypedArrayArena } from '../pool/typed-array-arena.js';
import { TRACK, TRACK_QUALITY } from '../wire/layouts.js';
import { DETECTOR_RIG } from '../wire/rig.js';
import { MultiSensorTracker, TrackerSnapshot } from './multi-sensor-tracker.js';
import {
  LIDAR_16,
  recordScenario,
  replayCall,
  sceneCar,
  type RecordedCall,
} from './synthetic-scene.test-helpers.js';

const car = sceneCar;

let recorded: RecordedCall[] | undefined;
/** A 3 s drive past four cars, two of which appear after 1.5 s (new tracks after the restore). */
function drive(): RecordedCall[] {
  recorded ??= recordScenario({
    durationS: 3,
    sensors: DETECTOR_RIG,
    ego: { x0: 0, y0: 0, yaw0: 0, speed: 15, yawRate: 0.02 },
    objects: [
      car(1, 30, 0.2, 12),
      car(2, 15, 3.5, 17),
      car(3, 45, -3.4, 10, 0, { appearS: 1.5 }),
      car(4, 25, 7, 14, 0, { appearS: 1.8 }),
    ],
    seed: 5,
    lidar: LIDAR_16,
    outputEveryS: 10,
  });
  return recorded;
}

/** Tracks and their quality records at `stamp`, as bytes. */
function outputs(t: MultiSensorTracker, stamp: bigint): Buffer {
  const out = new Float32Array(64 * TRACK.stride);
  const q = new Float32Array(64 * TRACK_QUALITY.stride);
  const n = t.writeTracks(stamp, out, q);
  return Buffer.concat([
    Buffer.from(out.buffer, 0, n * TRACK.stride * 4),
    Buffer.from(q.buffer, 0, n * TRACK_QUALITY.stride * 4),
  ]);
}

function ids(t: MultiSensorTracker, stamp: bigint): number[] {
  const out = new Float32Array(64 * TRACK.stride);
  const n = t.writeTracks(stamp, out);
  return Array.from({ length: n }, (_, i) => out[i * TRACK.stride + TRACK.id]!);
}

/** A snapshot laid out over a region of a SharedArrayBuffer (as the tracker state block does). */
function sharedSnapshot(t: MultiSensorTracker): TrackerSnapshot {
  const m = TypedArrayArena.measuring();
  t.createSnapshot(m);
  const sab = new SharedArrayBuffer(64 + m.bytesUsed);
  return t.createSnapshot(TypedArrayArena.over(sab, 64, m.bytesUsed, 'snapshot'));
}

describe('MultiSensorTracker snapshots', () => {
  it('restored into a fresh tracker, continues bit for bit as the original (ids go on, no new tracks)', () => {
    const calls = drive();
    // Frames end at each lidar scan; save after frame 12 (1.2 s: cars 1 and 2 confirmed).
    const bounds = calls.flatMap((c, i) => (c.kind === 'ingestLidar' ? [i + 1] : []));
    const k = bounds[12]!;
    const original = new MultiSensorTracker(DETECTOR_RIG);
    for (const c of calls.slice(0, k)) replayCall(original, c);
    const stampK = calls[k - 1]!.stamp;
    const before = ids(original, stampK);
    expect(before.length).toBeGreaterThanOrEqual(2);

    const snap = sharedSnapshot(original);
    original.saveSnapshot(snap);
    // Another thread would build its own views over the same memory: do so.
    const view = new TrackerSnapshot(
      snap.maxTracks,
      TypedArrayArena.over(snap.scalars.buffer, 64, snap.scalars.buffer.byteLength - 64),
    );
    const restored = new MultiSensorTracker(DETECTOR_RIG);
    restored.restoreSnapshot(view);
    expect(restored.stats).toEqual(original.stats);
    expect(restored.stateStampNs).toBe(original.stateStampNs);
    expect(outputs(restored, stampK).equals(outputs(original, stampK))).toBe(true);

    // A fresh tracker without the snapshot starts ids from 1 again: what the snapshot prevents.
    const cold = new MultiSensorTracker(DETECTOR_RIG);
    let frames = 0;
    let newIds = 0;
    for (let f = 13; f < bounds.length; f++) {
      for (const c of calls.slice(bounds[f - 1]!, bounds[f]!)) {
        replayCall(original, c);
        replayCall(restored, c);
        replayCall(cold, c);
      }
      const stamp = calls[bounds[f]! - 1]!.stamp;
      const a = outputs(original, stamp);
      expect(outputs(restored, stamp).equals(a)).toBe(true);
      frames++;
      newIds = ids(restored, stamp).filter((id) => !before.includes(id)).length;
    }
    expect(frames).toBeGreaterThan(10);
    // The cars that appeared later got new ids after the old ones; the old tracks kept theirs.
    expect(newIds).toBeGreaterThanOrEqual(2);
    const end = calls.at(-1)!.stamp;
    expect(Math.min(...ids(restored, end).filter((id) => !before.includes(id)))).toBeGreaterThan(
      Math.max(...before),
    );
    expect(ids(restored, end)).toEqual(expect.arrayContaining(before));
    expect(restored.stats).toEqual(original.stats);
    expect(outputs(cold, end).equals(outputs(original, end))).toBe(false);
    expect(Math.min(...ids(cold, end))).toBeLessThanOrEqual(before.length);
  });

  it('refuses a snapshot of another maxTracks, and keeps the in-process checkpoints working beside it', () => {
    const t = new MultiSensorTracker(DETECTOR_RIG);
    const other = new MultiSensorTracker(DETECTOR_RIG, { maxTracks: 8 });
    expect(() => t.restoreSnapshot(other.createSnapshot())).toThrow(
      'MultiSensorTracker.restoreSnapshot: snapshot holds 8 tracks, this tracker 256 (maxTracks)',
    );
    const calls = drive();
    const cp = t.createCheckpoint();
    const snap = t.createSnapshot();
    for (const c of calls.slice(0, 200)) replayCall(t, c);
    t.saveCheckpoint(cp);
    t.saveSnapshot(snap);
    const stamp = calls[199]!.stamp;
    const at = outputs(t, stamp);
    for (const c of calls.slice(200, 300)) replayCall(t, c);
    t.restoreCheckpoint(cp);
    expect(outputs(t, stamp).equals(at)).toBe(true);
    t.restoreSnapshot(snap);
    expect(outputs(t, stamp).equals(at)).toBe(true);
  });

  it('sizes a snapshot with the measuring arena and refuses a region too small for it', () => {
    const m = TypedArrayArena.measuring();
    new TrackerSnapshot(64, m);
    const sab = new SharedArrayBuffer(m.bytesUsed);
    expect(() => new TrackerSnapshot(64, TypedArrayArena.over(sab, 0, m.bytesUsed - 8, 'bank'))).toThrow(
      /bank: no room for TrackerSnapshot\.epochNs \(1 × 8 = 8 bytes at offset \d+\): 0 of \d+ bytes left/,
    );
    expect(() => new TrackerSnapshot(64, TypedArrayArena.over(sab, 0, 1000, 'bank'))).toThrow(
      /bank: no room for TrackTable\.state \(448 × 8 = 3584 bytes at offset 0\)/,
    );
  });
});
