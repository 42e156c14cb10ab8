import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DriveSimulator, createSimMessage, loadScenarioFile } from '../sim/index.js';
import { CAMERA, EGO, LIDAR, RADAR, TRACK, TRACK_QUALITY } from '../wire/layouts.js';
import { DEFAULT_RIG } from '../wire/rig.js';
import { fuseMeasurement } from './measurement-dispatch.js';
import { MultiSensorTracker } from './multi-sensor-tracker.js';
import { COV_SIZE, S, type TrackTable } from './track-table.js';

const SCENARIOS = new URL('../../fixtures/scenarios/', import.meta.url).pathname;

/** Feeds `seconds` of a shipped scenario to `each` (kind, sensor, views, bytes, stamp); returns the simulator. */
function feed(
  name: string,
  seconds: number,
  each: (
    kind: string,
    sensor: number,
    f32: Float32Array,
    f64: Float64Array,
    bytes: number,
    stamp: bigint,
  ) => void,
): DriveSimulator {
  const sim = new DriveSimulator(loadScenarioFile(join(SCENARIOS, `${name}.yaml`)), DEFAULT_RIG, {
    ideal: true,
  });
  const m = createSimMessage();
  const end = BigInt(seconds * 1e9);
  while (sim.peekNextNs()! < end && sim.next(m)) {
    const b = m.payload.buffer;
    each(
      m.kind,
      m.sensorIndex,
      new Float32Array(b),
      new Float64Array(b, 0, b.byteLength >> 3),
      m.payload.byteLength,
      m.tNs,
    );
  }
  return sim;
}

describe('fuseMeasurement', () => {
  it('fuses each kind exactly as the tracker’s own ingest calls do', () => {
    const viaDispatch = new MultiSensorTracker(DEFAULT_RIG);
    const direct = new MultiSensorTracker(DEFAULT_RIG);
    let last = 0n;
    const kinds = new Set<string>();
    feed('cut-in', 1.5, (kind, sensor, f32, f64, bytes, stamp) => {
      fuseMeasurement(viaDispatch, kind as 'ego', sensor, f32, f64, bytes, stamp);
      kinds.add(kind);
      if (kind === 'ego') direct.ingestEgo(f64, stamp);
      else if (kind === 'lidar') direct.ingestLidar(sensor, f32, bytes / (LIDAR.stride * 4), stamp);
      else if (kind === 'radar') direct.ingestRadar(sensor, f32, bytes / (RADAR.stride * 4), stamp);
      else direct.ingestCamera(sensor, f32, bytes / (CAMERA.stride * 4), stamp);
      last = stamp;
    });
    expect([...kinds].sort()).toEqual(['camera', 'ego', 'lidar', 'radar']);
    const a = new Float32Array(64 * TRACK.stride);
    const b = new Float32Array(64 * TRACK.stride);
    const n = viaDispatch.writeTracks(last, a);
    expect(n).toBeGreaterThan(1);
    expect(direct.writeTracks(last, b)).toBe(n);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });
});

describe('MultiSensorTracker.writeTracks with quality', () => {
  it('gives each track its age, its covariance in base_link axes (R P Rᵀ) and what the lidar saw', () => {
    const tracker = new MultiSensorTracker(DEFAULT_RIG);
    let last = 0n;
    // On a bend, 5 s in: the ego has turned, so base_link and odom axes differ.
    const sim = feed('parked-cars-curve', 5, (kind, sensor, f32, f64, bytes, stamp) => {
      fuseMeasurement(tracker, kind as 'ego', sensor, f32, f64, bytes, stamp);
      last = stamp;
    });
    const egoState = new Float64Array(EGO.stride);
    sim.egoState(egoState);
    const yaw = egoState[EGO.yaw]!;
    expect(Math.abs(yaw)).toBeGreaterThan(0.3);
    const tracks = new Float32Array(64 * TRACK.stride);
    const quality = new Float32Array(64 * TRACK_QUALITY.stride);
    const n = tracker.writeTracks(last, tracks, quality);
    expect(n).toBeGreaterThan(2);
    // Same tracks with or without quality.
    const plain = new Float32Array(64 * TRACK.stride);
    expect(tracker.writeTracks(last, plain)).toBe(n);
    expect(Buffer.from(plain.buffer).equals(Buffer.from(tracks.buffer))).toBe(true);

    const table = (tracker as unknown as { table: TrackTable }).table;
    const c = Math.cos(yaw);
    const s = Math.sin(yaw);
    let seenSome = 0;
    const now: number[] = [];
    for (let i = 0; i < n; i++) {
      const id = tracks[i * TRACK.stride + TRACK.id]!;
      let slot = -1;
      for (let k = 0; k < table.capacity; k++) if (table.status[k] !== 0 && table.id[k] === id) slot = k;
      expect(slot, `track ${id}`).toBeGreaterThanOrEqual(0);
      const q = i * TRACK_QUALITY.stride;
      // Age: the time of the tracks less the track's start, the same time for every track.
      const age = quality[q + TRACK_QUALITY.age]!;
      expect(age).toBeGreaterThanOrEqual(0);
      expect(age).toBeLessThanOrEqual(5);
      now.push(age + table.createdS[slot]!);
      for (const [axis, f] of [
        [S.x, TRACK_QUALITY.pxx],
        [S.vx, TRACK_QUALITY.vxx],
      ] as const) {
        const P = (r: number, k: number): number =>
          table.cov[slot * COV_SIZE + (axis + r) * S.dim + axis + k]!;
        const xx = c * c * P(0, 0) + 2 * c * s * P(0, 1) + s * s * P(1, 1);
        const xy = -c * s * P(0, 0) + (c * c - s * s) * P(0, 1) + c * s * P(1, 1);
        const yy = s * s * P(0, 0) - 2 * c * s * P(0, 1) + c * c * P(1, 1);
        expect(quality[q + f]).toBeCloseTo(xx, 5);
        expect(quality[q + f + 1]).toBeCloseTo(xy, 5);
        expect(quality[q + f + 2]).toBeCloseTo(yy, 5);
        // The trace does not depend on the axes.
        expect(quality[q + f]! + quality[q + f + 2]!).toBeCloseTo(P(0, 0) + P(1, 1), 5);
      }
      expect(quality[q + TRACK_QUALITY.seenLength]).toBeCloseTo(table.seenLength[slot]!, 5);
      expect(quality[q + TRACK_QUALITY.seenWidth]).toBeCloseTo(table.seenWidth[slot]!, 5);
      if (table.seenLength[slot]! > 0) seenSome++;
    }
    expect(seenSome).toBeGreaterThan(0);
    for (const t of now) expect(t).toBeCloseTo(now[0]!, 4);
  });
});
