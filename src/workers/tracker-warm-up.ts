/**
 * A standby tracker thread runs the fusion and planning code before it may take over. V8
 * compiles a function only after it has run for a while; a replacement running cold code fuses
 * the frames queued during the outage several times slower than the thread it replaces, and
 * critical latency stays high for hundreds of ms (measured: bench/failover.bench.mjs). The
 * warm-up drives a scratch tracker and planner (the same sensors and parameters, state of their
 * own) through a synthetic scene, three cars ahead seen by every sensor of the rig, and saves and
 * restores them through a scratch checkpoint block. Nothing shared is touched.
 */
import { CLUSTER } from '../fusion/lidar-clusterer.js';
import { MultiSensorTracker, type TrackerConfig } from '../fusion/multi-sensor-tracker.js';
import { Planner, createPlanResult } from '../planning/planner.js';
import {
  CAMERA,
  EGO,
  OBJECT,
  ObjectClass,
  PLAN_POINT,
  RADAR,
  TRACK,
  TRACK_QUALITY,
} from '../wire/layouts.js';
import type { SensorConfig } from '../wire/rig.js';
import { TrackerStateBlock, createTrackerThreadState } from './tracker-state-block.js';
import type { TrackerThreadData } from './stage-thread-protocol.js';

const STEP_NS = 10_000_000n;
const EGO_SPEED = 15;
/** The cars: start ahead (m), lane offset (m), speed (m/s). */
const CARS = [
  [25, 0, 13],
  [45, 3.5, 16],
  [60, -3.5, 12],
] as const;

/** Runs `cycles` 10 ms steps of the scene (default: 6 s of driving); returns the tracks held at the end. */
export function warmUpTracker(data: TrackerThreadData, cycles = 600): number {
  const tracker = new MultiSensorTracker(data.sensors, {
    ...(data.trackerParams as Partial<TrackerConfig>),
    maxTracks: data.maxTracks,
  });
  const planner = new Planner(data.planning);
  const block = TrackerStateBlock.create({
    maxTracks: data.maxTracks,
    sensors: data.sensors,
    inputs: data.inputs.length,
  });
  const thread = createTrackerThreadState(data.inputs.length);
  const ego = new Float64Array(EGO.stride);
  const buf = new Float32Array(CARS.length * Math.max(OBJECT.stride, CLUSTER.stride, CAMERA.stride));
  const tracks = new Float32Array(data.maxTracks * TRACK.stride);
  const quality = new Float32Array(data.maxTracks * TRACK_QUALITY.stride);
  const trajectory = new Float32Array(64 * PLAN_POINT.stride);
  const plan = createPlanResult();
  const t0 = 1_000_000_000n;
  for (let k = 0; k < cycles; k++) {
    const stampNs = t0 + BigInt(k) * STEP_NS;
    const tS = k * 0.01;
    ego[EGO.x] = EGO_SPEED * tS;
    ego[EGO.speed] = EGO_SPEED;
    tracker.ingestEgo(ego, stampNs);
    data.sensors.forEach((s, i) => {
      const every = Math.max(1, Math.round(100 / s.rateHz));
      if (s.kind === 'ego' || k % every !== 0) return;
      const n = sceneIn(s, tS, buf);
      if (s.kind === 'radar') tracker.ingestRadar(i, buf, n, stampNs);
      else if (s.kind === 'lidar') tracker.ingestLidarClusters(i, buf, n, stampNs);
      else if (s.kind === 'camera') tracker.ingestCamera(i, buf, n, stampNs);
      else if (s.kind === 'objects') tracker.ingestObjects(i, buf, n, stampNs);
    });
    const count = tracker.writeTracks(stampNs, tracks, quality);
    planner.plan({ tracks, quality, count, ego, stampNs }, plan, trajectory);
    if (k % 10 === 0) block.save(tracker, planner, thread);
  }
  block.restore(tracker, planner, thread);
  return tracker.trackCount;
}

/** The cars as sensor `s` sees them at `tS` (its record layout, in its frame); returns how many. */
function sceneIn(s: SensorConfig, tS: number, out: Float32Array): number {
  const m = s.mount;
  const c = Math.cos(-m.yaw);
  const sn = Math.sin(-m.yaw);
  let n = 0;
  for (const [x0, y, v] of CARS) {
    // base_link: the car's offset from the ego; then the sensor's frame.
    const bx = x0 + (v - EGO_SPEED) * tS - m.x;
    const by = y - m.y;
    const sx = c * bx - sn * by;
    const sy = sn * bx + c * by;
    const range = Math.hypot(sx, sy);
    const bearing = Math.atan2(sy, sx);
    if (
      s.kind !== 'lidar' &&
      (Math.abs(bearing) > ((s.fovDeg ?? 360) * Math.PI) / 360 || range > (s.rangeM ?? 200))
    )
      continue;
    if (s.kind === 'radar') {
      const o = n * RADAR.stride;
      out[o + RADAR.range] = range;
      out[o + RADAR.azimuth] = bearing;
      out[o + RADAR.rangeRate] = ((v - EGO_SPEED) * sx) / range;
      out[o + RADAR.rcs] = 10;
    } else if (s.kind === 'lidar') {
      const o = n * CLUSTER.stride;
      out.fill(0, o, o + CLUSTER.stride);
      out[o + CLUSTER.x] = bx + m.x;
      out[o + CLUSTER.y] = by + m.y;
      out[o + CLUSTER.length] = 4.5;
      out[o + CLUSTER.width] = 1.8;
      out[o + CLUSTER.zMin] = 0.2;
      out[o + CLUSTER.zMax] = 1.5;
      out[o + CLUSTER.meanX] = bx + m.x;
      out[o + CLUSTER.meanY] = by + m.y;
      out[o + CLUSTER.points] = 200;
      out[o + CLUSTER.cells] = 20;
    } else if (s.kind === 'camera') {
      const o = n * CAMERA.stride;
      out[o + CAMERA.classId] = ObjectClass.car;
      out[o + CAMERA.confidence] = 0.9;
      out[o + CAMERA.u0] = 300;
      out[o + CAMERA.v0] = 200;
      out[o + CAMERA.u1] = 340;
      out[o + CAMERA.v1] = 240;
      out[o + CAMERA.bearing] = bearing;
      out[o + CAMERA.range] = range;
    } else {
      const o = n * OBJECT.stride;
      out.fill(0, o, o + OBJECT.stride);
      out[o + OBJECT.x] = sx;
      out[o + OBJECT.y] = sy;
      out[o + OBJECT.z] = 0.8;
      out[o + OBJECT.length] = 4.5;
      out[o + OBJECT.width] = 1.8;
      out[o + OBJECT.height] = 1.5;
      out[o + OBJECT.classId] = ObjectClass.car;
      out[o + OBJECT.score] = 0.9;
      out[o + OBJECT.varX] = 0.1;
      out[o + OBJECT.varY] = 0.1;
      out[o + OBJECT.varYaw] = 0.05;
      out[o + OBJECT.varV] = 1;
    }
    n++;
  }
  return n;
}
