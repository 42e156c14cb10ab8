import { describe, expect, it } from 'vitest';
import { DEFAULT_RIG } from '../wire/rig.js';
import { EGO, ObjectClass, RADAR, TRACK } from '../wire/layouts.js';
import { MultiSensorTracker } from './multi-sensor-tracker.js';
import {
  Prng,
  TrackErrors,
  egoAt,
  egoRecord,
  objectAt,
  radarNoiseFor,
  radarScan,
  runScenario,
  type EgoMotion,
  type LidarOptions,
  type SceneObject,
  sceneCar as car,
} from './synthetic-scene.test-helpers.js';

const RADAR_ONLY = DEFAULT_RIG.filter((s) => s.kind === 'radar' || s.kind === 'ego');
const FULL = DEFAULT_RIG;
/** A sparser lidar than the HDL-64 keeps the scenario tests quick; the clusterer test uses the full one. */
const LIDAR_32: LidarOptions = {
  beams: 32,
  azimuthSteps: 1024,
  upperDeg: 2,
  lowerDeg: -24.8,
  rangeNoiseStd: 0.02,
  azimuthJitter: true,
};

const straight = (speed: number): EgoMotion => ({ x0: 0, y0: 0, yaw0: 0, speed, yawRate: 0 });

function run(
  sensors: typeof FULL,
  ego: EgoMotion,
  objects: SceneObject[],
  durationS: number,
  fromS: number,
  seed = 1,
  clutter = 0,
  maxRangeM = Infinity,
): { tracker: MultiSensorTracker; errors: TrackErrors } {
  const tracker = new MultiSensorTracker(sensors);
  const errors = new TrackErrors(fromS, maxRangeM);
  runScenario(tracker, {
    durationS,
    sensors,
    ego,
    objects,
    seed,
    lidar: LIDAR_32,
    radarClutterMean: clutter,
    outputEveryS: 0.1,
    onOutput: errors.onOutput,
  });
  return { tracker, errors };
}

function summary(name: string, e: TrackErrors): string {
  return (
    `${name}: position RMS ${TrackErrors.rms(e.posErrors).toFixed(3)} m, max ${TrackErrors.max(e.posErrors).toFixed(3)} m; ` +
    `velocity RMS ${TrackErrors.rms(e.velErrors).toFixed(3)} m/s, max ${TrackErrors.max(e.velErrors).toFixed(3)} m/s ` +
    `(${e.posErrors.length} samples, ${e.misses} misses, ${e.extraTracks} extra)`
  );
}

describe('MultiSensorTracker', () => {
  it('converges on a constant-velocity lead from radar only', () => {
    const { tracker, errors } = run(RADAR_ONLY, straight(20), [car(1, 40, 0.3, 15)], 6, 3);
    console.log(summary('radar only, CV lead', errors));
    expect(errors.misses).toBe(0);
    expect(errors.posErrors.length).toBe(31);
    expect(TrackErrors.max(errors.posErrors)).toBeLessThan(0.5);
    // Vehicles carry an estimated yaw rate (turn model); from radar alone on a straight road
    // that freedom costs some 0.05 m/s at the worst sample (it pays on curves: bench/sim-suite.mjs).
    expect(TrackErrors.rms(errors.velErrors)).toBeLessThan(0.3);
    expect(TrackErrors.max(errors.velErrors)).toBeLessThan(0.6);
    expect(errors.idsPerObject.get(1)!.size).toBe(1);
    expect(errors.extraTracks).toBe(0);
    expect(tracker.stats.radarScans).toBeGreaterThan(500);
    expect(tracker.stats.measurementsUsed).toBeGreaterThan(100);
  });

  it('converges on constant-velocity targets from fused radar + lidar + camera, with classes', () => {
    const objects = [
      car(1, 40, 0.3, 15),
      car(2, -15, 3.6, 26),
      {
        ...car(3, 30, -5, 0, 1.2),
        classId: ObjectClass.pedestrian,
        length: 0.4,
        width: 0.6,
        height: 1.8,
        rcs: -5,
      },
    ];
    // The pedestrian falls behind; beyond 50 m it leaves the reliable range of every sensor.
    const { tracker, errors } = run(FULL, straight(20), objects, 6, 3, 1, 0, 50);
    console.log(summary('fused, CV targets', errors));
    expect(errors.misses).toBe(0);
    expect(TrackErrors.max(errors.posErrors)).toBeLessThan(0.5);
    expect(TrackErrors.max(errors.velErrors)).toBeLessThan(0.5);
    for (const id of [1, 2, 3]) expect(errors.idsPerObject.get(id)!.size).toBe(1);
    expect(errors.extraTracks).toBe(0);
    // Classes and sizes come from the cameras.
    const out = new Float32Array(32 * TRACK.stride);
    const n = tracker.writeTracks(6_000_000_000n, out);
    const classes = Array.from({ length: n }, (_, i) => out[i * TRACK.stride + TRACK.classId]).sort();
    expect(classes).toEqual([ObjectClass.car, ObjectClass.car, ObjectClass.pedestrian]);
    expect(tracker.stats.lidarScans).toBe(61);
    expect(tracker.stats.clustersFound).toBeGreaterThan(100);
  });

  it('follows a crossing target', () => {
    // A car crossing the ego's path right to left 45 m ahead of the start.
    const objects = [car(1, 45, -30, 0, 8)];
    const { errors } = run(FULL, straight(10), objects, 7, 2.5);
    console.log(summary('fused, crossing car', errors));
    expect(errors.misses).toBe(0);
    expect(TrackErrors.max(errors.posErrors)).toBeLessThan(0.5);
    expect(TrackErrors.max(errors.velErrors)).toBeLessThan(0.6);
    expect(errors.idsPerObject.get(1)!.size).toBe(1);
  });

  it('keeps two close targets as two tracks', () => {
    // Side by side in adjacent lanes, 3.2 m apart, pacing the ego.
    const objects = [car(1, 25, 1.6, 20), car(2, 25, -1.6, 20)];
    const { errors } = run(FULL, straight(20), objects, 5, 1.5);
    console.log(summary('fused, two cars side by side', errors));
    expect(errors.misses).toBe(0);
    expect(errors.idsPerObject.get(1)!.size).toBe(1);
    expect(errors.idsPerObject.get(2)!.size).toBe(1);
    expect([...errors.idsPerObject.get(1)!][0]).not.toBe([...errors.idsPerObject.get(2)!][0]);
    expect(errors.extraTracks).toBe(0);
    expect(TrackErrors.max(errors.posErrors)).toBeLessThan(0.5);
  });

  it('suppresses radar clutter (no confirmed ghosts)', () => {
    const { tracker, errors } = run(RADAR_ONLY, straight(20), [car(1, 40, 0.3, 15)], 6, 2, 5, 3);
    console.log(summary('radar only with clutter', errors), `created ${tracker.stats.tracksCreated}`);
    expect(tracker.stats.tracksCreated).toBeGreaterThan(100);
    expect(errors.extraTracks).toBe(0);
    expect(TrackErrors.max(errors.posErrors)).toBeLessThan(0.5);
  });

  it('deletes the track after the target leaves', () => {
    const objects = [car(1, 30, 0, 20, 0, { disappearS: 3 })];
    const counts: [number, number][] = [];
    const tracker = new MultiSensorTracker(FULL);
    runScenario(tracker, {
      durationS: 5,
      sensors: FULL,
      ego: straight(20),
      objects,
      seed: 3,
      lidar: LIDAR_32,
      outputEveryS: 0.1,
      onOutput: (t, _tracks, count) => counts.push([Math.round(t * 10) / 10, count]),
    });
    const at = (t: number): number => counts.find(([s]) => Math.abs(s - t) < 1e-6)![1];
    expect(at(2.9)).toBe(1);
    // Misses in every sensor drop its existence below the publishing threshold at once, and
    // it is deleted within the coasting limit (maxCoastConfirmedS = 1 s).
    expect(at(3.2)).toBe(0);
    expect(at(4.1)).toBe(0);
    expect(at(5)).toBe(0);
    expect(tracker.stats.tracksDeleted).toBeGreaterThanOrEqual(1);
    expect(tracker.stats.confirmedTracks).toBe(0);
    expect(tracker.stats.activeTracks).toBe(0);
  });

  it('drops an out-of-sequence scan, counts it, and leaves the state untouched', () => {
    const sensors = RADAR_ONLY;
    const tracker = new MultiSensorTracker(sensors);
    runScenario(tracker, {
      durationS: 2,
      sensors,
      ego: straight(10),
      objects: [car(1, 30, 0, 5)],
      seed: 9,
      outputEveryS: 1,
    });
    const before = new Float32Array(16 * TRACK.stride);
    const nBefore = tracker.writeTracks(2_000_000_000n, before);
    expect(nBefore).toBe(1);
    const used = tracker.stats.measurementsUsed;
    const front = sensors.findIndex((s) => s.id === 'radar_front');
    const dets = new Float32Array(8 * RADAR.stride);
    const rng = new Prng(4);
    const ego = egoAt(straight(10), 1.5);
    const st = objectAt(car(1, 30, 0, 5), 1.5)!;
    const n = radarScan(
      ego,
      [{ ...st, rcs: 10 }],
      sensors[front]!,
      rng,
      dets,
      radarNoiseFor(sensors[front]!),
    );
    tracker.ingestRadar(front, dets, n, 1_500_000_000n);
    expect(tracker.stats.outOfSequenceDropped).toBe(1);
    expect(tracker.stats.measurementsUsed).toBe(used);
    const after = new Float32Array(16 * TRACK.stride);
    expect(tracker.writeTracks(2_000_000_000n, after)).toBe(nBefore);
    expect(Buffer.from(after.buffer).equals(Buffer.from(before.buffer))).toBe(true);
  });

  it('is deterministic: same inputs give byte-identical tracks, also after reset()', () => {
    const objects = [car(1, 40, 0.3, 15), car(2, 20, -3.5, 18), car(3, 60, 10, 0, -6)];
    const record = (tracker: MultiSensorTracker): Buffer => {
      const chunks: Buffer[] = [];
      runScenario(tracker, {
        durationS: 3,
        sensors: FULL,
        ego: { x0: 5, y0: -2, yaw0: 0.2, speed: 15, yawRate: 0.05 },
        objects,
        seed: 21,
        lidar: LIDAR_32,
        radarClutterMean: 2,
        outputEveryS: 0.05,
        onOutput: (_t, tracks, count) =>
          chunks.push(Buffer.from(tracks.slice(0, count * TRACK.stride).buffer)),
      });
      return Buffer.concat(chunks);
    };
    const a = new MultiSensorTracker(FULL);
    const first = record(a);
    const second = record(new MultiSensorTracker(FULL));
    expect(first.length).toBeGreaterThan(1000);
    expect(second.equals(first)).toBe(true);
    const statsFirst = { ...a.stats };
    a.reset();
    expect(a.stats.tracksCreated).toBe(0);
    expect(record(a).equals(first)).toBe(true);
    expect(a.stats).toEqual(statsFirst);
  });

  it('ignores and counts NaN records; throws on a count beyond the view or a wrong sensor', () => {
    const sensors = RADAR_ONLY;
    const tracker = new MultiSensorTracker(sensors);
    const egoIdx = sensors.findIndex((s) => s.kind === 'ego');
    const front = sensors.findIndex((s) => s.id === 'radar_front');
    const rec = egoRecord(egoAt(straight(10), 0));
    tracker.ingestEgo(rec, 0n);
    const bad = new Float64Array(EGO.stride);
    bad[EGO.speed] = NaN;
    tracker.ingestEgo(bad, 1_000_000n);
    expect(tracker.stats.egoDropped).toBe(1);
    expect(tracker.stats.egoRecords).toBe(1);

    const dets = new Float32Array(4 * RADAR.stride);
    dets.set([20, 0, -1, 10, NaN, 0, 0, 10, 30, NaN, 0, 10, 45, 0.1, 0, 10]);
    tracker.ingestRadar(front, dets, 4, 10_000_000n);
    expect(tracker.stats.measurementsInvalid).toBe(2);
    expect(tracker.stats.tracksCreated).toBe(2);

    expect(() => tracker.ingestRadar(front, dets, 5, 20_000_000n)).toThrow(
      /radar radar_front: count 5 exceeds the view's 4 records/,
    );
    expect(() => tracker.ingestRadar(egoIdx, dets, 1, 20_000_000n)).toThrow(/sensor index 5 is ego \(ego\)/);
    expect(() => tracker.ingestLidar(99, dets, 1, 20_000_000n)).toThrow(/sensor index 99 is out of range/);
  });

  it('drops scans that arrive before any odometry', () => {
    const tracker = new MultiSensorTracker(RADAR_ONLY);
    const dets = new Float32Array([20, 0, -1, 10]);
    tracker.ingestRadar(0, dets, 1, 5n);
    expect(tracker.stats.noEgoDropped).toBe(1);
    expect(tracker.stats.tracksCreated).toBe(0);
  });

  it('refuses spawns beyond the track table and counts them', () => {
    const tracker = new MultiSensorTracker(RADAR_ONLY, { maxTracks: 2 });
    tracker.ingestEgo(egoRecord(egoAt(straight(0), 0)), 0n);
    const dets = new Float32Array([20, 0, 0, 10, 40, 0, 0, 10, 60, 0, 0, 10]);
    tracker.ingestRadar(0, dets, 3, 1n);
    expect(tracker.stats.tracksCreated).toBe(2);
    expect(tracker.stats.trackTableFull).toBe(1);
  });
});
