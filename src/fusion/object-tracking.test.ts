import { describe, expect, it } from 'vitest';
import { EGO, OBJECT, ObjectClass, TRACK } from '../wire/layouts.js';
import { DEFAULT_RIG, DETECTOR_RIG, OBJECT_LIST_SENSOR, type SensorConfig } from '../wire/rig.js';
import { MultiSensorTracker } from './multi-sensor-tracker.js';
import { Prng } from '../sim/prng.js';
import {
  egoAt,
  egoRecord,
  LIDAR_16,
  recordScenario,
  replayCall,
  type SceneObject,
} from './synthetic-scene.test-helpers.js';

/** The detector at the origin of base_link, plus odometry. */
const OBJECTS_RIG: SensorConfig[] = [
  { ...OBJECT_LIST_SENSOR, mount: { x: 0, y: 0, z: 0, yaw: 0 } },
  DEFAULT_RIG.find((s) => s.kind === 'ego')!,
];
const OBJ = 0;
const EGO_INDEX = 1;
const MS = 1_000_000n;
/** A score as a lidar detector gives a clear car close by (log-odds 11). */
const STRONG = 1 / (1 + Math.exp(-11));

interface Box {
  x: number;
  y: number;
  yaw?: number;
  length?: number;
  width?: number;
  height?: number;
  classId?: number;
  score: number;
}

/** One object list from boxes (sensor frame = base_link here), standing ego at the origin. */
function list(boxes: readonly Box[]): Float32Array {
  const rec = new Float32Array(Math.max(1, boxes.length) * OBJECT.stride);
  boxes.forEach((b, i) => {
    const o = i * OBJECT.stride;
    rec[o + OBJECT.x] = b.x;
    rec[o + OBJECT.y] = b.y;
    rec[o + OBJECT.z] = 0.75;
    rec[o + OBJECT.length] = b.length ?? 4.5;
    rec[o + OBJECT.width] = b.width ?? 1.8;
    rec[o + OBJECT.height] = b.height ?? 1.5;
    rec[o + OBJECT.yaw] = b.yaw ?? 0;
    rec[o + OBJECT.classId] = b.classId ?? ObjectClass.car;
    rec[o + OBJECT.score] = b.score;
  });
  return rec;
}

const still = new Float64Array(EGO.stride);

/** Feeds one object list at frame k (10 Hz) and returns the published tracks. */
function frame(tracker: MultiSensorTracker, k: number, boxes: readonly Box[]): Float32Array[] {
  const stamp = BigInt(k) * 100n * MS;
  tracker.ingestEgo(still, stamp);
  tracker.ingestObjects(OBJ, list(boxes), boxes.length, stamp);
  const out = new Float32Array(64 * TRACK.stride);
  const n = tracker.writeTracks(stamp, out);
  return Array.from({ length: n }, (_, i) => out.subarray(i * TRACK.stride, (i + 1) * TRACK.stride));
}

describe('MultiSensorTracker with object lists', () => {
  it('tracks from an object list and odometry alone', () => {
    const tracker = new MultiSensorTracker(OBJECTS_RIG);
    let published: Float32Array[] = [];
    // A car 20 m ahead driving away at 5 m/s (relative), strong detections.
    for (let k = 0; k < 30; k++) published = frame(tracker, k, [{ x: 20 + 0.5 * k, y: 2, score: STRONG }]);
    expect(published).toHaveLength(1);
    const t = published[0]!;
    expect(t[TRACK.x]).toBeCloseTo(34.5, 1);
    expect(t[TRACK.y]).toBeCloseTo(2, 1);
    expect(t[TRACK.vx]).toBeCloseTo(5, 0);
    expect(t[TRACK.classId]).toBe(ObjectClass.car);
    expect(t[TRACK.sinceUpdate]).toBe(0);
    expect(tracker.stats.objectLists).toBe(30);
    expect(tracker.stats.tracksCreated).toBe(1);
  });

  it('uses the score: confident detections publish on their second frame, persistent weak ones never', () => {
    const tracker = new MultiSensorTracker(OBJECTS_RIG);
    // Car A scores log-odds 11; B, a detector's persistent false positive close by, 3.5:
    // enough to start a track, never to publish it.
    const MID = 1 / (1 + Math.exp(-3.5));
    const boxes = (k: number): Box[] => [
      { x: 15, y: 3, score: STRONG },
      { x: 20, y: -4, score: MID + 0.0001 * k },
    ];
    expect(frame(tracker, 0, boxes(0))).toHaveLength(0);
    const second = frame(tracker, 1, boxes(1));
    expect(second.map((t) => Math.round(t[TRACK.x]!))).toEqual([15]);
    let last: Float32Array[] = [];
    for (let k = 2; k < 40; k++) last = frame(tracker, k, boxes(k));
    expect(last.map((t) => Math.round(t[TRACK.x]!))).toEqual([15]);
    expect(last[0]![TRACK.existence]).toBeGreaterThan(0.9);
    // Both were tracked; only the confident one was ever published.
    expect(tracker.stats.tracksCreated).toBe(2);
  });

  it('does not publish a coasting track as if detected: existence falls with each miss', () => {
    const tracker = new MultiSensorTracker(OBJECTS_RIG);
    for (let k = 0; k < 10; k++) frame(tracker, k, [{ x: 15, y: 3, score: STRONG }]);
    const before = frame(tracker, 10, [{ x: 15, y: 3, score: STRONG }]);
    expect(before[0]![TRACK.existence]).toBeGreaterThan(0.9);
    // The detector misses it: the next list says nothing there.
    expect(frame(tracker, 11, [])).toHaveLength(0);
    const out = new Float32Array(8 * TRACK.stride);
    const t = new MultiSensorTracker(OBJECTS_RIG, { publishMinExistence: 0 });
    for (let k = 0; k < 10; k++) frame(t, k, [{ x: 15, y: 3, score: STRONG }]);
    frame(t, 10, []);
    expect(t.writeTracks(1000n * MS, out)).toBe(1);
    expect(out[TRACK.sinceUpdate]).toBeCloseTo(0.1, 6);
    expect(out[TRACK.existence]).toBeLessThan(0.6);
  });

  it('starts a track from a detection no track takes, even right beside an existing one', () => {
    const tracker = new MultiSensorTracker(OBJECTS_RIG);
    for (let k = 0; k < 5; k++) frame(tracker, k, [{ x: 20, y: 0, score: STRONG }]);
    // A second car appears 2.2 m to the side (adjacent lane, bumper to bumper in the other lane).
    let out: Float32Array[] = [];
    for (let k = 5; k < 8; k++)
      out = frame(tracker, k, [
        { x: 20, y: 0, score: STRONG },
        { x: 20, y: 2.2, score: STRONG },
      ]);
    expect(out.map((t) => Math.round(10 * t[TRACK.y]!)).sort((a, b) => a - b)).toEqual([0, 22]);
    // A duplicate detection inside a tracked box starts nothing.
    frame(tracker, 8, [
      { x: 20, y: 0, score: STRONG },
      { x: 20.3, y: 0.1, score: 0.9 },
      { x: 20, y: 2.2, score: STRONG },
    ]);
    expect(tracker.stats.tracksCreated).toBe(2);
    expect(tracker.stats.measurementsAbsorbed).toBe(1);
  });

  it('takes box size, height and heading from the detections, modulo a 180° flip', () => {
    const tracker = new MultiSensorTracker(OBJECTS_RIG);
    const rng = new Prng(5);
    let out: Float32Array[] = [];
    for (let k = 0; k < 30; k++) {
      // A parked truck at 30° with a detector that flips the heading every fifth frame.
      const flip = k % 5 === 4 ? Math.PI : 0;
      out = frame(tracker, k, [
        {
          x: 25 + 0.05 * rng.gauss(),
          y: -6,
          yaw: 0.5236 + flip + 0.02 * rng.gauss(),
          length: 11.5 + 0.1 * rng.gauss(),
          width: 2.5,
          height: 3.6,
          classId: ObjectClass.truck,
          score: STRONG,
        },
      ]);
    }
    const t = out[0]!;
    expect(t[TRACK.classId]).toBe(ObjectClass.truck);
    expect(t[TRACK.length]).toBeGreaterThan(11);
    expect(t[TRACK.length]).toBeLessThan(12);
    expect(t[TRACK.width]).toBeCloseTo(2.5, 1);
    expect(t[TRACK.height]).toBeCloseTo(3.6, 1);
    const axis = ((t[TRACK.yaw]! % Math.PI) + Math.PI) % Math.PI;
    expect(axis).toBeCloseTo(0.5236, 1);
    expect(t[TRACK.varYaw]).toBeGreaterThan(0);
    expect(t[TRACK.varYaw]).toBeLessThan(0.01);
  });

  it('estimates the yaw rate of a turning car (turn model) and keeps pedestrians at constant velocity', () => {
    const tracker = new MultiSensorTracker(OBJECTS_RIG);
    const omega = 0.25; // rad/s on a 40 m radius: 10 m/s
    const R = 40;
    let out: Float32Array[] = [];
    for (let k = 0; k < 60; k++) {
      const a = omega * k * 0.1;
      out = frame(tracker, k, [
        { x: R * Math.sin(a), y: 30 + R - R * Math.cos(a), yaw: a, score: STRONG },
        {
          x: 8 + 0.14 * k,
          y: -5,
          length: 0.5,
          width: 0.6,
          height: 1.8,
          classId: ObjectClass.pedestrian,
          score: STRONG,
        },
      ]);
    }
    const car = out.find((t) => t[TRACK.classId] === ObjectClass.car)!;
    const walker = out.find((t) => t[TRACK.classId] === ObjectClass.pedestrian)!;
    expect(car[TRACK.yawRate]).toBeGreaterThan(0.2);
    expect(car[TRACK.yawRate]).toBeLessThan(0.3);
    expect(Math.hypot(car[TRACK.vx]!, car[TRACK.vy]!)).toBeCloseTo(10, 0);
    expect(walker[TRACK.ax]).toBe(0);
    expect(walker[TRACK.ay]).toBe(0);
    expect(walker[TRACK.yawRate]).toBe(0);
    expect(walker[TRACK.vx]).toBeCloseTo(1.4, 0);
  });

  it('publishes a positive semidefinite covariance in base_link axes', () => {
    const tracker = new MultiSensorTracker(OBJECTS_RIG);
    let out: Float32Array[] = [];
    for (let k = 0; k < 10; k++) out = frame(tracker, k, [{ x: 30, y: 10, score: STRONG }]);
    const t = out[0]!;
    expect(t[TRACK.varX]).toBeGreaterThan(0);
    expect(t[TRACK.varY]).toBeGreaterThan(0);
    expect(t[TRACK.covXY]! ** 2).toBeLessThanOrEqual(t[TRACK.varX]! * t[TRACK.varY]!);
    expect(t[TRACK.varVx]).toBeGreaterThan(0);
    expect(t[TRACK.covVxVy]! ** 2).toBeLessThanOrEqual(t[TRACK.varVx]! * t[TRACK.varVy]!);
    // The detector's noise grows along the line of sight (here 18° left): more variance along x.
    expect(t[TRACK.varX]).toBeGreaterThan(t[TRACK.varY]!);
  });

  it('ignores and counts impossible records fed to it directly', () => {
    const tracker = new MultiSensorTracker(OBJECTS_RIG);
    tracker.ingestEgo(still, 0n);
    const bad = list([
      { x: 20, y: 0, score: 1.5 },
      { x: 5000, y: 0, score: 0.9 },
      { x: 20, y: 0, score: 0.9, length: -1 },
      { x: 20, y: 0, score: 0.9, classId: 9 },
      { x: NaN, y: 0, score: 0.9 },
      { x: 10, y: 0, score: STRONG },
    ]);
    tracker.ingestObjects(OBJ, bad, 6, 1n);
    expect(tracker.stats.measurementsInvalid).toBe(5);
    expect(tracker.stats.tracksCreated).toBe(1);
    expect(() => tracker.ingestObjects(EGO_INDEX, bad, 1, 2n)).toThrow(/sensor index 1 is ego \(ego\)/);
    expect(() => tracker.ingestObjects(OBJ, bad, 7, 2n)).toThrow(/count 7 exceeds the view's 6 records/);
  });
});

describe('MultiSensorTracker checkpoints and hostile input', () => {
  /** A scene with every kind of sensor: the built-in rig plus the detector. */
  const objects: SceneObject[] = [
    {
      id: 1,
      classId: ObjectClass.car,
      x0: 30,
      y0: 0.5,
      vx: 12,
      vy: 0,
      length: 4.6,
      width: 1.85,
      height: 1.5,
      rcs: 10,
    },
    {
      id: 2,
      classId: ObjectClass.car,
      x0: -10,
      y0: 3.5,
      vx: 18,
      vy: 0,
      length: 4.6,
      width: 1.85,
      height: 1.5,
      rcs: 10,
    },
  ];

  it('fuses a rewound stretch bit for bit as it fused it in order (saveCheckpoint / restoreCheckpoint)', () => {
    // Record every call of a 2 s scene, then replay it twice: straight, and with a rewind.
    const calls = recordScenario({
      durationS: 2,
      sensors: DETECTOR_RIG,
      ego: { x0: 0, y0: 0, yaw0: 0, speed: 15, yawRate: 0.02 },
      objects,
      seed: 11,
      lidar: LIDAR_16,
      outputEveryS: 10,
    });
    expect(calls.length).toBeGreaterThan(300);
    const apply = replayCall;
    const outputs = (t: MultiSensorTracker, stamp: bigint): Buffer => {
      const out = new Float32Array(64 * TRACK.stride);
      const n = t.writeTracks(stamp, out);
      return Buffer.from(out.buffer, 0, n * TRACK.stride * 4);
    };
    // Frames: the calls up to each lidar scan. Save after frame k, fuse k+1..k+3, rewind,
    // fuse k+1..k+3 again; the tracks must be those of fusing in order.
    const bounds = calls.flatMap((c, i) => (c.kind === 'ingestLidar' ? [i + 1] : []));
    const k = 10;
    const inOrder = new MultiSensorTracker(DETECTOR_RIG);
    const rewound = new MultiSensorTracker(DETECTOR_RIG);
    const cp = rewound.createCheckpoint();
    for (let i = 0; i < bounds[k]!; i++) {
      apply(inOrder, calls[i]!);
      apply(rewound, calls[i]!);
    }
    rewound.saveCheckpoint(cp);
    const stretch = calls.slice(bounds[k]!, bounds[k + 3]!);
    for (const c of stretch) apply(rewound, c);
    const stamp = stretch.at(-1)!.stamp;
    const first = outputs(rewound, stamp);
    rewound.restoreCheckpoint(cp);
    expect(outputs(rewound, calls[bounds[k]! - 1]!.stamp).length).toBeGreaterThan(0);
    // Odometry is appended once and kept through the rewind; the measurements are fused again.
    for (const c of stretch) if (c.kind !== 'ingestEgo') apply(rewound, c);
    for (const c of stretch) apply(inOrder, c);
    const a = outputs(inOrder, stamp);
    expect(a.length).toBeGreaterThan(0);
    expect(outputs(rewound, stamp).equals(a)).toBe(true);
    expect(first.equals(a)).toBe(true);
    expect(rewound.stats).toEqual(inOrder.stats);
    // And onward: the rest of the drive gives the same tracks too.
    for (const c of calls.slice(bounds[k + 3]!)) {
      apply(inOrder, c);
      apply(rewound, c);
    }
    expect(outputs(rewound, calls.at(-1)!.stamp).equals(outputs(inOrder, calls.at(-1)!.stamp))).toBe(true);
  });

  it('never holds a non-finite state nor more tracks than its table, under random and hostile streams', () => {
    const rng = new Prng(1234);
    const hostile = [NaN, Infinity, -Infinity, 1e30, -1e30, 0, -0, 1e-30, 3e38];
    const pick = (): number =>
      rng.chance(0.3) ? hostile[Math.floor(rng.uniform() * hostile.length)]! : 200 * (rng.uniform() - 0.5);
    const rig = DETECTOR_RIG;
    const maxTracks = 16;
    const tracker = new MultiSensorTracker(rig, { maxTracks });
    const out = new Float32Array(maxTracks * TRACK.stride);
    const buf = new Float32Array(400 * 16);
    const ego = new Float64Array(EGO.stride);
    const started = Date.now();
    let stamp = 0n;
    for (let step = 0; step < 3000 && Date.now() - started < 20_000; step++) {
      stamp += BigInt(1 + Math.floor(rng.uniform() * 20)) * MS;
      const idx = Math.floor(rng.uniform() * rig.length);
      const sensor = rig[idx]!;
      if (sensor.kind === 'ego') {
        const st = egoAt({ x0: 0, y0: 0, yaw0: 0, speed: 10, yawRate: 0.01 }, Number(stamp) / 1e9);
        egoRecord(st, ego);
        if (rng.chance(0.1)) ego[Math.floor(rng.uniform() * EGO.stride)] = pick();
        tracker.ingestEgo(ego, stamp);
        continue;
      }
      const stride = { lidar: 4, radar: 4, camera: 8, objects: 16 }[sensor.kind];
      const count =
        sensor.kind === 'lidar' ? Math.floor(rng.uniform() * 400) : Math.floor(rng.uniform() * 40);
      for (let i = 0; i < count * stride; i++) buf[i] = pick();
      if (sensor.kind === 'objects' || sensor.kind === 'camera') {
        // Mostly well-formed records, so tracks are made and then fed nonsense.
        for (let i = 0; i < count; i++) {
          if (rng.chance(0.2)) continue;
          const o = i * stride;
          if (sensor.kind === 'objects') {
            buf.set(
              [
                40 * rng.uniform(),
                20 * (rng.uniform() - 0.5),
                0.7,
                4.5,
                1.8,
                1.5,
                rng.uniform() * 6,
                1,
                rng.uniform(),
                0,
                0,
                0,
                0,
                0,
                0,
                0,
              ],
              o,
            );
          } else {
            buf.set(
              [1, rng.uniform(), 800, 500, 900, 600, 0.1 * (rng.uniform() - 0.5), 30 * rng.uniform()],
              o,
            );
          }
        }
      }
      const call = {
        lidar: 'ingestLidar',
        radar: 'ingestRadar',
        camera: 'ingestCamera',
        objects: 'ingestObjects',
      }[sensor.kind] as 'ingestRadar';
      tracker[call](idx, buf, count, stamp);
      const n = tracker.writeTracks(stamp, out);
      expect(n).toBeLessThanOrEqual(maxTracks);
      for (let i = 0; i < n * TRACK.stride; i++) {
        if (!Number.isFinite(out[i]!))
          throw new Error(`step ${step}: track field ${i % TRACK.stride} is ${out[i]}`);
      }
      expect(tracker.stats.activeTracks).toBeLessThanOrEqual(maxTracks);
    }
    expect(tracker.stats.measurementsInvalid).toBeGreaterThan(1000);
    expect(tracker.stats.tracksCreated).toBeGreaterThan(maxTracks);
    // A flood of distinct objects: the table holds maxTracks, every refused spawn is counted.
    const objIndex = rig.findIndex((s) => s.kind === 'objects');
    const flood = new Float32Array(40 * 16);
    for (let i = 0; i < 40; i++)
      flood.set([5 + 2 * i, (i % 2) * 30 - 15, 0.7, 1, 1, 1.5, 0, 1, STRONG], i * 16);
    const full = tracker.stats.trackTableFull;
    stamp += 10n * MS;
    tracker.ingestObjects(objIndex, flood, 40, stamp);
    expect(tracker.stats.activeTracks).toBe(maxTracks);
    expect(tracker.stats.trackTableFull - full).toBeGreaterThanOrEqual(40 - maxTracks);
  });
});
