import { describe, expect, it } from 'vitest';
import { DEFAULT_RIG } from '../wire/rig.js';
import { EGO, LIDAR, RADAR, TRACK } from '../wire/layouts.js';
import { CLUSTER, LidarClusterer } from './lidar-clusterer.js';
import { MultiSensorTracker } from './multi-sensor-tracker.js';
import { StampOrderedFusion } from './stamp-ordered-fusion.js';
import {
  Prng,
  egoAt,
  egoRecord,
  lidarScan,
  objectAt,
  radarNoiseFor,
  radarScan,
  sceneCar as car,
} from './synthetic-scene.test-helpers.js';

const SENSORS = DEFAULT_RIG.filter(
  (s) => s.kind === 'ego' || s.id === 'radar_front' || s.id === 'radar_fl' || s.kind === 'lidar',
);
const LIDAR_32 = {
  beams: 32,
  azimuthSteps: 1024,
  upperDeg: 2,
  lowerDeg: -24.8,
  rangeNoiseStd: 0.02,
  azimuthJitter: true,
};

interface Frame {
  sensor: number;
  kind: 'ego' | 'radar' | 'lidar';
  stampNs: bigint;
  data: Float32Array | Float64Array;
  count: number;
}

/** Every sensor's messages over `durationS`, in stamp order; lidar scans already clustered. */
function recordFrames(durationS: number): Frame[] {
  const rng = new Prng(7);
  const objects = [car(1, 35, 0.2, 14), car(2, 20, 3.5, 22)];
  const egoMotion = { x0: 0, y0: 0, yaw0: 0, speed: 18, yawRate: 0 };
  const clusterer = new LidarClusterer();
  const frames: Frame[] = [];
  SENSORS.forEach((sensor, i) => {
    const period = 1 / sensor.rateHz;
    for (let t = (i * 0.0017) % period; t < durationS; t += period) {
      const ego = egoAt(egoMotion, t);
      const states = objects.map((o) => ({ ...objectAt(o, t)!, rcs: o.rcs, classId: o.classId }));
      const stampNs = BigInt(Math.round(t * 1e9));
      if (sensor.kind === 'ego') {
        frames.push({
          sensor: i,
          kind: 'ego',
          stampNs,
          data: egoRecord(ego, new Float64Array(EGO.stride)),
          count: 1,
        });
      } else if (sensor.kind === 'radar') {
        const buf = new Float32Array(256 * RADAR.stride);
        const n = radarScan(ego, states, sensor, rng, buf, radarNoiseFor(sensor));
        frames.push({ sensor: i, kind: 'radar', stampNs, data: buf.slice(0, n * RADAR.stride), count: n });
      } else {
        const pts = new Float32Array(40_000 * LIDAR.stride);
        const n = lidarScan(ego, states, sensor, rng, pts, LIDAR_32);
        const boxes = new Float32Array(512 * CLUSTER.stride);
        const m = clusterer.cluster(pts, n, sensor.mount, boxes);
        frames.push({
          sensor: i,
          kind: 'lidar',
          stampNs,
          data: boxes.slice(0, m * CLUSTER.stride),
          count: m,
        });
      }
    }
  });
  return frames.sort((a, b) =>
    a.stampNs < b.stampNs ? -1 : a.stampNs > b.stampNs ? 1 : a.sensor - b.sensor,
  );
}

function fuse(tracker: MultiSensorTracker, f: Frame): void {
  if (f.kind === 'ego') tracker.ingestEgo(f.data as Float64Array, f.stampNs);
  else if (f.kind === 'radar') tracker.ingestRadar(f.sensor, f.data as Float32Array, f.count, f.stampNs);
  else tracker.ingestLidarClusters(f.sensor, f.data as Float32Array, f.count, f.stampNs);
}

/** Each lidar frame arrives after the next `delay` radar frames (as boxes come from another thread). */
function delayLidar(frames: readonly Frame[], delay: number): Frame[] {
  const out: Frame[] = [];
  const waiting: { frame: Frame; radarsLeft: number }[] = [];
  for (const f of frames) {
    if (f.kind === 'lidar') {
      waiting.push({ frame: f, radarsLeft: delay });
      continue;
    }
    out.push(f);
    if (f.kind === 'radar') {
      for (const w of waiting) w.radarsLeft--;
      while (waiting.length > 0 && waiting[0]!.radarsLeft <= 0) out.push(waiting.shift()!.frame);
    }
  }
  out.push(...waiting.map((w) => w.frame));
  return out;
}

const tracksAt = (tracker: MultiSensorTracker, stampNs: bigint): Float32Array => {
  const out = new Float32Array(64 * TRACK.stride);
  return out.slice(0, tracker.writeTracks(stampNs, out) * TRACK.stride);
};

describe('StampOrderedFusion', () => {
  const frames = recordFrames(3);
  const end = frames[frames.length - 1]!.stampNs;

  it('fusing late lidar boxes by rewinding gives exactly the tracks of fusing in stamp order', () => {
    // Odometry first in both runs: it is history the tracker looks up by time, not rewound.
    const inOrder = new MultiSensorTracker(SENSORS);
    const late = new MultiSensorTracker(SENSORS);
    for (const f of frames) {
      if (f.kind !== 'ego') continue;
      fuse(inOrder, f);
      fuse(late, f);
    }
    for (const f of frames) if (f.kind !== 'ego') fuse(inOrder, f);

    const measurements = delayLidar(
      frames.filter((f) => f.kind !== 'ego'),
      2,
    );
    const released: number[] = [];
    const ordered = new StampOrderedFusion(
      late,
      64,
      150_000_000n,
      (id) => fuse(late, measurements[id]!),
      (id) => released.push(id),
    );
    const outcomes = measurements.map((f, id) => ordered.fuse(id, f.stampNs));
    expect(outcomes.filter((o) => o === 'too-late')).toHaveLength(0);
    expect(outcomes.filter((o) => o === 'rewound').length).toBe(
      frames.filter((f) => f.kind === 'lidar').length,
    );
    expect(ordered.stats.refused).toBeGreaterThan(0);
    const a = tracksAt(inOrder, end);
    const b = tracksAt(late, end);
    expect(a.length).toBeGreaterThan(0);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(late.stats).toEqual(inOrder.stats);
    // Everything left the window but what the last 150 ms still hold.
    expect(released.length + ordered.held).toBe(measurements.length);
  });

  it('a lidar box list that arrives after newer radar scans updates the tracks it belongs to', () => {
    // Live order: odometry as it comes, lidar boxes two radar scans late.
    const inOrder = new MultiSensorTracker(SENSORS);
    for (const f of frames) fuse(inOrder, f);
    const late = new MultiSensorTracker(SENSORS);
    const live = delayLidar(frames, 2);
    const ordered = new StampOrderedFusion(
      late,
      64,
      150_000_000n,
      (id) => fuse(late, live[id]!),
      () => {},
    );
    for (let id = 0; id < live.length; id++) {
      if (live[id]!.kind === 'ego') fuse(late, live[id]!);
      else ordered.fuse(id, live[id]!.stampNs);
    }
    // Same objects, same ids, no duplicate spawned from a late box, positions within a few cm.
    const a = tracksAt(inOrder, end);
    const b = tracksAt(late, end);
    expect(b.length).toBe(a.length);
    expect(a.length / TRACK.stride).toBe(2);
    for (let i = 0; i < a.length; i += TRACK.stride) {
      expect(b[i + TRACK.id]).toBe(a[i + TRACK.id]);
      expect(Math.abs(b[i + TRACK.x]! - a[i + TRACK.x]!)).toBeLessThan(0.05);
      expect(Math.abs(b[i + TRACK.y]! - a[i + TRACK.y]!)).toBeLessThan(0.05);
    }
    expect(ordered.stats.rewound).toBe(frames.filter((f) => f.kind === 'lidar').length);
    // Counters are part of the checkpoint: they count each scan once, as in stamp order.
    expect(late.stats.lidarScans).toBe(inOrder.stats.lidarScans);
    expect(late.stats.tracksCreated).toBe(inOrder.stats.tracksCreated);
  });

  it('refuses a frame older than the window, and never rewinds past its oldest checkpoint', () => {
    const tracker = new MultiSensorTracker(SENSORS);
    const applied: number[] = [];
    const released: number[] = [];
    const ordered = new StampOrderedFusion(
      tracker,
      3,
      100n,
      (id) => applied.push(id),
      (id) => released.push(id),
    );
    expect(ordered.fuse(0, 1000n)).toBe('in-order');
    expect(ordered.fuse(1, 1050n)).toBe('in-order');
    expect(ordered.fuse(2, 1020n)).toBe('rewound'); // re-fuses 1 after 2
    expect(applied).toEqual([0, 1, 2, 1]);
    expect(ordered.fuse(3, 899n)).toBe('too-late'); // more than 100 ns behind 1050
    expect(ordered.fuse(4, 1100n)).toBe('in-order'); // full: the oldest (0) leaves
    expect(released).toEqual([0]);
    expect(ordered.fuse(5, 1010n)).toBe('too-late'); // before every checkpoint still held
    expect(ordered.stats).toMatchObject({ inOrder: 3, rewound: 1, refused: 1, tooLate: 2 });
  });
});
