/**
 * A small synthetic world for the fusion and planning tests: box-shaped objects moving with
 * constant acceleration, an ego moving with constant speed and yaw rate, and sensor models that
 * produce payloads in the wire layouts (lidar by ray casting, radar and camera from geometry plus
 * seeded noise). Everything is closed-form in time, so scenarios are exactly reproducible.
 */
import { CAMERA, EGO, LIDAR, OBJECT, ObjectClass, RADAR, TRACK } from '../wire/layouts.js';
import type { SensorConfig } from '../wire/rig.js';
import { MultiSensorTracker } from './multi-sensor-tracker.js';

/** mulberry32 with Box–Muller; deterministic for a given seed. */
export class Prng {
  private state: number;
  private spare = NaN;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  gaussian(): number {
    if (!Number.isNaN(this.spare)) {
      const s = this.spare;
      this.spare = NaN;
      return s;
    }
    const u = Math.max(this.next(), 1e-12);
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

export interface SceneObject {
  id: number;
  classId: number;
  /** Odom position of the box centre at t = 0, m. */
  x0: number;
  y0: number;
  vx: number;
  vy: number;
  ax?: number;
  ay?: number;
  /** Heading; defaults to the velocity direction (or 0 when not moving). */
  yaw?: number;
  length: number;
  width: number;
  height: number;
  rcs: number;
  /** The object exists only for appearS <= t < disappearS. */
  appearS?: number;
  disappearS?: number;
  /** Stop decelerating once the speed reaches 0 (braking lead). */
  stopAtZero?: boolean;
}

export interface ObjectState {
  x: number;
  y: number;
  yaw: number;
  vx: number;
  vy: number;
  length: number;
  width: number;
  height: number;
}

export function objectAt(o: SceneObject, t: number): ObjectState | undefined {
  if (t < (o.appearS ?? -Infinity) || t >= (o.disappearS ?? Infinity)) return undefined;
  const ax = o.ax ?? 0;
  const ay = o.ay ?? 0;
  let tt = t;
  if (o.stopAtZero && (ax !== 0 || ay !== 0) && o.vx * ax + o.vy * ay < 0) {
    // Decelerating to a stop: hold the stop position afterwards.
    tt = Math.min(t, Math.hypot(o.vx, o.vy) / Math.hypot(ax, ay));
  }
  const stopped = tt < t;
  const yaw = o.yaw ?? (Math.hypot(o.vx, o.vy) > 0 ? Math.atan2(o.vy, o.vx) : 0);
  return {
    x: o.x0 + o.vx * tt + 0.5 * ax * tt * tt,
    y: o.y0 + o.vy * tt + 0.5 * ay * tt * tt,
    yaw,
    vx: stopped ? 0 : o.vx + ax * tt,
    vy: stopped ? 0 : o.vy + ay * tt,
    length: o.length,
    width: o.width,
    height: o.height,
  };
}

export interface EgoMotion {
  x0: number;
  y0: number;
  yaw0: number;
  speed: number;
  yawRate: number;
}

export interface EgoState {
  x: number;
  y: number;
  yaw: number;
  speed: number;
  yawRate: number;
}

/** Constant speed and yaw rate, closed form. */
export function egoAt(e: EgoMotion, t: number): EgoState {
  const yaw = e.yaw0 + e.yawRate * t;
  let x: number;
  let y: number;
  if (Math.abs(e.yawRate) < 1e-9) {
    x = e.x0 + e.speed * t * Math.cos(e.yaw0);
    y = e.y0 + e.speed * t * Math.sin(e.yaw0);
  } else {
    const r = e.speed / e.yawRate;
    x = e.x0 + r * (Math.sin(yaw) - Math.sin(e.yaw0));
    y = e.y0 - r * (Math.cos(yaw) - Math.cos(e.yaw0));
  }
  return { x, y, yaw, speed: e.speed, yawRate: e.yawRate };
}

export function egoRecord(s: EgoState, out = new Float64Array(EGO.stride)): Float64Array {
  out[EGO.x] = s.x;
  out[EGO.y] = s.y;
  out[EGO.yaw] = s.yaw;
  out[EGO.speed] = s.speed;
  out[EGO.yawRate] = s.yawRate;
  out[EGO.accel] = 0;
  return out;
}

interface SensorFrame {
  /** Sensor origin and heading in odom. */
  x: number;
  y: number;
  yaw: number;
  /** Sensor velocity over ground in odom. */
  vx: number;
  vy: number;
}

function sensorFrame(ego: EgoState, sensor: SensorConfig): SensorFrame {
  const c = Math.cos(ego.yaw);
  const s = Math.sin(ego.yaw);
  const rx = c * sensor.mount.x - s * sensor.mount.y;
  const ry = s * sensor.mount.x + c * sensor.mount.y;
  return {
    x: ego.x + rx,
    y: ego.y + ry,
    yaw: ego.yaw + sensor.mount.yaw,
    vx: ego.speed * c - ego.yawRate * ry,
    vy: ego.speed * s + ego.yawRate * rx,
  };
}

/** Point of the object's box (2D) closest to (px, py). */
export function nearestOnBox(o: ObjectState, px: number, py: number): [number, number] {
  const c = Math.cos(o.yaw);
  const s = Math.sin(o.yaw);
  const dx = px - o.x;
  const dy = py - o.y;
  const lx = Math.min(Math.max(c * dx + s * dy, -o.length / 2), o.length / 2);
  const ly = Math.min(Math.max(-s * dx + c * dy, -o.width / 2), o.width / 2);
  return [o.x + c * lx - s * ly, o.y + s * lx + c * ly];
}

function wrap(a: number): number {
  return a - 2 * Math.PI * Math.floor((a + Math.PI) / (2 * Math.PI));
}

export interface LidarOptions {
  beams: number;
  azimuthSteps: number;
  /** Elevation of the highest and lowest beam, degrees. */
  upperDeg: number;
  lowerDeg: number;
  rangeNoiseStd: number;
  /** Spread of the azimuth start between scans, so consecutive scans sample differently. */
  azimuthJitter: boolean;
}

export const HDL64: LidarOptions = {
  beams: 64,
  azimuthSteps: 1800,
  upperDeg: 2,
  lowerDeg: -24.8,
  rangeNoiseStd: 0.02,
  azimuthJitter: true,
};

/**
 * Ray-casts a spinning lidar against the ground plane and the objects' boxes and writes
 * LIDAR_LAYOUT points in the sensor frame. Returns the point count.
 */
export function lidarScan(
  ego: EgoState,
  objects: readonly ObjectState[],
  sensor: SensorConfig,
  rng: Prng,
  out: Float32Array,
  opts: LidarOptions = HDL64,
): number {
  const f = sensorFrame(ego, sensor);
  const h = sensor.mount.z;
  // Boxes in the sensor frame.
  const boxes = objects.map((o) => {
    const dx = o.x - f.x;
    const dy = o.y - f.y;
    const c = Math.cos(f.yaw);
    const s = Math.sin(f.yaw);
    return {
      x: c * dx + s * dy,
      y: -s * dx + c * dy,
      c: Math.cos(o.yaw - f.yaw),
      s: Math.sin(o.yaw - f.yaw),
      hl: o.length / 2,
      hw: o.width / 2,
      top: o.height - h,
    };
  });
  const maxRange = sensor.rangeM;
  const az0 = opts.azimuthJitter ? rng.next() * ((2 * Math.PI) / opts.azimuthSteps) : 0;
  let n = 0;
  for (let b = 0; b < opts.beams; b++) {
    const el = ((opts.upperDeg + ((opts.lowerDeg - opts.upperDeg) * b) / (opts.beams - 1)) * Math.PI) / 180;
    const ce = Math.cos(el);
    const dz = Math.sin(el);
    for (let a = 0; a < opts.azimuthSteps; a++) {
      const az = az0 + (2 * Math.PI * a) / opts.azimuthSteps - Math.PI;
      const dx = ce * Math.cos(az);
      const dy = ce * Math.sin(az);
      let tHit = dz < 0 ? -h / dz : Infinity;
      for (const bx of boxes) {
        // Ray in the box frame, then the slab test.
        const ox = -bx.x;
        const oy = -bx.y;
        const rox = bx.c * ox + bx.s * oy;
        const roy = -bx.s * ox + bx.c * oy;
        const rdx = bx.c * dx + bx.s * dy;
        const rdy = -bx.s * dx + bx.c * dy;
        let t0 = 0;
        let t1 = tHit;
        const slab = (o: number, d: number, lo: number, hi: number): boolean => {
          if (Math.abs(d) < 1e-12) return o >= lo && o <= hi;
          let ta = (lo - o) / d;
          let tb = (hi - o) / d;
          if (ta > tb) [ta, tb] = [tb, ta];
          if (ta > t0) t0 = ta;
          if (tb < t1) t1 = tb;
          return t0 <= t1;
        };
        if (slab(rox, rdx, -bx.hl, bx.hl) && slab(roy, rdy, -bx.hw, bx.hw) && slab(0, dz, -h, bx.top)) {
          if (t0 > 0 && t0 < tHit) tHit = t0;
        }
      }
      if (!(tHit <= maxRange)) continue;
      const r = tHit + opts.rangeNoiseStd * rng.gaussian();
      const i = n * LIDAR.stride;
      if (i + LIDAR.stride > out.length) return n;
      out[i + LIDAR.x] = r * dx;
      out[i + LIDAR.y] = r * dy;
      out[i + LIDAR.z] = r * dz;
      out[i + LIDAR.intensity] = 0.5;
      n++;
    }
  }
  return n;
}

export interface RadarOptions {
  rangeStd: number;
  azimuthStd: number;
  rangeRateStd: number;
  /** Sets how many scatterers an object shows: one per max(0.4 m, range × resolution) of visible face. */
  azimuthResolution: number;
  maxPerObject: number;
  detectionProbability: number;
  /** Mean false alarms per scan (mostly stationary, weak). */
  clutterMean: number;
}

const deg = Math.PI / 180;

/** Noise like a narrow long-range radar or a wide corner radar, by field of view. */
export function radarNoiseFor(sensor: SensorConfig, clutterMean = 0): RadarOptions {
  const narrow = sensor.fovDeg <= 30;
  return {
    rangeStd: narrow ? 0.1 : 0.15,
    azimuthStd: (narrow ? 0.2 : 0.8) * deg,
    rangeRateStd: narrow ? 0.05 : 0.1,
    azimuthResolution: (narrow ? 1.5 : 4) * deg,
    maxPerObject: 8,
    detectionProbability: 0.9,
    clutterMean,
  };
}

/**
 * Radar detections from scatterers spread at random over the faces each object turns toward
 * the radar (per-scatterer RCS shares the object's RCS), plus weak clutter; sensor frame.
 */
export function radarScan(
  ego: EgoState,
  objects: readonly (ObjectState & { rcs?: number })[],
  sensor: SensorConfig,
  rng: Prng,
  out: Float32Array,
  opts: RadarOptions = radarNoiseFor(sensor),
): number {
  const f = sensorFrame(ego, sensor);
  const halfFov = ((sensor.fovDeg / 2) * Math.PI) / 180;
  let n = 0;
  const emit = (r: number, az: number, rr: number, rcs: number): void => {
    const i = n * RADAR.stride;
    if (i + RADAR.stride > out.length) return;
    out[i + RADAR.range] = r + opts.rangeStd * rng.gaussian();
    out[i + RADAR.azimuth] = az + opts.azimuthStd * rng.gaussian();
    out[i + RADAR.rangeRate] = rr + opts.rangeRateStd * rng.gaussian();
    out[i + RADAR.rcs] = rcs + 2.5 * rng.gaussian();
    n++;
  };
  for (const o of objects) {
    const c = Math.cos(o.yaw);
    const s = Math.sin(o.yaw);
    const lx = c * (f.x - o.x) + s * (f.y - o.y);
    const ly = -s * (f.x - o.x) + c * (f.y - o.y);
    const hl = o.length / 2;
    const hw = o.width / 2;
    // Visible faces in the box frame: [startX, startY, dirX, dirY, length].
    const faces: [number, number, number, number, number][] = [];
    if (Math.abs(lx) > hl) faces.push([Math.sign(lx) * hl, -hw, 0, 1, 2 * hw]);
    if (Math.abs(ly) > hw) faces.push([-hl, Math.sign(ly) * hw, 1, 0, 2 * hl]);
    if (faces.length === 0) continue;
    const visible = faces.reduce((a, q) => a + q[4], 0);
    const range = Math.hypot(o.x - f.x, o.y - f.y);
    const count = Math.min(
      opts.maxPerObject,
      1 + Math.floor(visible / Math.max(0.4, range * opts.azimuthResolution)),
    );
    const rcs = (o.rcs ?? 10) - 10 * Math.log10(count);
    for (let q = 0; q < count; q++) {
      let u = rng.next() * visible;
      let face = faces[0]!;
      if (u > face[4]) {
        u -= face[4];
        face = faces[1]!;
      }
      const bx = face[0] + face[2] * u;
      const by = face[1] + face[3] * u;
      const px = o.x + c * bx - s * by;
      const py = o.y + s * bx + c * by;
      const dx = px - f.x;
      const dy = py - f.y;
      const r = Math.hypot(dx, dy);
      const az = wrap(Math.atan2(dy, dx) - f.yaw);
      if (r > sensor.rangeM || r < 0.5 || Math.abs(az) > halfFov) continue;
      if (rng.next() > opts.detectionProbability) continue;
      emit(r, az, ((o.vx - f.vx) * dx + (o.vy - f.vy) * dy) / r, rcs);
    }
  }
  const clutter = Math.floor(opts.clutterMean) + (rng.next() < opts.clutterMean % 1 ? 1 : 0);
  for (let q = 0; q < clutter; q++) {
    const r = 2 + rng.next() * (sensor.rangeM - 2);
    const az = (2 * rng.next() - 1) * halfFov;
    const a = f.yaw + az;
    emit(r, az, -(f.vx * Math.cos(a) + f.vy * Math.sin(a)), -8);
  }
  return n;
}

export interface CameraOptions {
  rangeRelStd: number;
  detectionProbability: number;
}

export const CAMERA_NOISE: CameraOptions = {
  rangeRelStd: 0.06,
  detectionProbability: 0.9,
};

/**
 * Smart-camera objects: the image box of the object's footprint corners (pinhole, 1920 px
 * wide, clipped to the image), its centre's bearing, the range to the nearest footprint point
 * with relative noise, and the class.
 */
export function cameraFrame(
  ego: EgoState,
  objects: readonly (ObjectState & { classId?: number })[],
  sensor: SensorConfig,
  rng: Prng,
  out: Float32Array,
  opts: CameraOptions = CAMERA_NOISE,
): number {
  const f = sensorFrame(ego, sensor);
  const tanHalf = Math.tan(((sensor.fovDeg / 2) * Math.PI) / 180);
  const focal = 960 / tanHalf;
  const cp = Math.cos(f.yaw);
  const sp = Math.sin(f.yaw);
  let n = 0;
  for (const o of objects) {
    const dx = o.x - f.x;
    const dy = o.y - f.y;
    const depth0 = cp * dx + sp * dy;
    const lat0 = -sp * dx + cp * dy;
    if (depth0 < 0.5) continue;
    const c = Math.cos(o.yaw - f.yaw);
    const s = Math.sin(o.yaw - f.yaw);
    let lo = Infinity;
    let hi = -Infinity;
    for (let q = 0; q < 4; q++) {
      const bx = q & 1 ? o.length / 2 : -o.length / 2;
      const by = q & 2 ? o.width / 2 : -o.width / 2;
      const depth = Math.max(0.2, depth0 + c * bx - s * by);
      const tan = (lat0 + s * bx + c * by) / depth;
      lo = Math.min(lo, tan);
      hi = Math.max(hi, tan);
    }
    const clo = Math.max(lo, -tanHalf);
    const chi = Math.min(hi, tanHalf);
    if (chi <= clo || (chi - clo) / (hi - lo) < 0.3) continue;
    const [px, py] = nearestOnBox(o, f.x, f.y);
    const range = Math.hypot(px - f.x, py - f.y);
    if (range > sensor.rangeM) continue;
    if (rng.next() > opts.detectionProbability) continue;
    const i = n * CAMERA.stride;
    if (i + CAMERA.stride > out.length) break;
    // Edge noise in pixels: 1.5 px plus 2 % of the box width.
    const sigma = (1.5 + 0.02 * focal * (chi - clo)) / focal;
    const e0 = clo + sigma * rng.gaussian();
    const e1 = chi + sigma * rng.gaussian();
    out[i + CAMERA.classId] = o.classId ?? 1;
    out[i + CAMERA.confidence] = 0.9;
    out[i + CAMERA.u0] = 960 - focal * Math.max(e0, e1);
    out[i + CAMERA.v0] = 500;
    out[i + CAMERA.u1] = 960 - focal * Math.min(e0, e1);
    out[i + CAMERA.v1] = 600;
    out[i + CAMERA.bearing] = Math.atan(0.5 * (e0 + e1));
    out[i + CAMERA.range] = range + (0.1 + opts.rangeRelStd * range) * rng.gaussian();
    n++;
  }
  return n;
}

/** Ground truth of one object in base_link at time t, as the tracks layout reports it. */
export interface TruthInBase {
  id: number;
  x: number;
  y: number;
  vx: number;
  vy: number;
}

export function truthInBase(ego: EgoState, o: ObjectState, id: number): TruthInBase {
  const c = Math.cos(ego.yaw);
  const s = Math.sin(ego.yaw);
  const dx = o.x - ego.x;
  const dy = o.y - ego.y;
  return {
    id,
    x: c * dx + s * dy,
    y: -s * dx + c * dy,
    vx: c * o.vx + s * o.vy,
    vy: -s * o.vx + c * o.vy,
  };
}

export interface ScenarioOptions {
  durationS: number;
  sensors: readonly SensorConfig[];
  ego: EgoMotion;
  objects: readonly SceneObject[];
  seed: number;
  lidar?: LidarOptions;
  /** Radar noise per sensor (default: radarNoiseFor(sensor, clutterMean)). */
  radarClutterMean?: number;
  camera?: CameraOptions;
  /** Tracks are written after every scan of this sensor kind (default: every radar scan). */
  outputEveryS: number;
  /** Extra hook per event, e.g. to inject a bad record. */
  onOutput?: (tS: number, tracks: Float32Array, count: number, truth: readonly TruthInBase[]) => void;
}

/**
 * An object list as a detector reports it: each object within the sensor's range, its box
 * centre in the sensor frame with `positionStd` noise, heading, size and class, score 0.99.
 */
export function objectList(
  ego: EgoState,
  objects: readonly (ObjectState & { classId: number })[],
  sensor: SensorConfig,
  rng: Prng,
  out: Float32Array,
  positionStd = 0.1,
): number {
  const c = Math.cos(ego.yaw);
  const s = Math.sin(ego.yaw);
  const sx = ego.x + c * sensor.mount.x - s * sensor.mount.y;
  const sy = ego.y + s * sensor.mount.x + c * sensor.mount.y;
  const yaw = ego.yaw + sensor.mount.yaw;
  const cy = Math.cos(yaw);
  const sy2 = Math.sin(yaw);
  let n = 0;
  for (const o of objects) {
    const dx = o.x - sx;
    const dy = o.y - sy;
    if (Math.hypot(dx, dy) > sensor.rangeM) continue;
    const b = n * OBJECT.stride;
    out.fill(0, b, b + OBJECT.stride);
    out[b + OBJECT.x] = cy * dx + sy2 * dy + positionStd * rng.gaussian();
    out[b + OBJECT.y] = -sy2 * dx + cy * dy + positionStd * rng.gaussian();
    out[b + OBJECT.z] = o.height / 2 - sensor.mount.z;
    out[b + OBJECT.length] = o.length;
    out[b + OBJECT.width] = o.width;
    out[b + OBJECT.height] = o.height;
    out[b + OBJECT.yaw] = o.yaw - yaw + 0.02 * rng.gaussian();
    out[b + OBJECT.classId] = o.classId;
    out[b + OBJECT.score] = 0.99;
    n++;
  }
  return n;
}

/** Feeds a tracker with every sensor at its rate (phase-shifted per sensor) over the scenario. */
export function runScenario(tracker: MultiSensorTracker, opts: ScenarioOptions): void {
  const rng = new Prng(opts.seed);
  const periodNs = opts.sensors.map((s) => Math.round(1e9 / s.rateHz));
  const next = opts.sensors.map((_, i) => (i * 1_700_000) % 10_000_000);
  const lidarBuf = new Float32Array(140_000 * LIDAR.stride);
  const radarBuf = new Float32Array(256 * RADAR.stride);
  const camBuf = new Float32Array(64 * CAMERA.stride);
  const objBuf = new Float32Array(64 * OBJECT.stride);
  const egoBuf = new Float64Array(EGO.stride);
  const trackBuf = new Float32Array(128 * TRACK.stride);
  const outPeriodNs = Math.round(opts.outputEveryS * 1e9);
  let nextOut = outPeriodNs;
  const endNs = Math.round(opts.durationS * 1e9);
  for (;;) {
    let k = 0;
    for (let i = 1; i < next.length; i++) if (next[i]! < next[k]!) k = i;
    const tNs = next[k]!;
    if (nextOut <= tNs && nextOut <= endNs) {
      const tS = nextOut / 1e9;
      const ego = egoAt(opts.ego, tS);
      const count = tracker.writeTracks(BigInt(nextOut), trackBuf);
      const truth: TruthInBase[] = [];
      for (const o of opts.objects) {
        const st = objectAt(o, tS);
        if (st) truth.push(truthInBase(ego, st, o.id));
      }
      opts.onOutput?.(tS, trackBuf, count, truth);
      nextOut += outPeriodNs;
      continue;
    }
    if (tNs > endNs) break;
    next[k] = tNs + periodNs[k]!;
    const sensor = opts.sensors[k]!;
    const tS = tNs / 1e9;
    const ego = egoAt(opts.ego, tS);
    const states: (ObjectState & { rcs: number; classId: number })[] = [];
    for (const o of opts.objects) {
      const st = objectAt(o, tS);
      if (st) states.push({ ...st, rcs: o.rcs, classId: o.classId });
    }
    const stamp = BigInt(tNs);
    switch (sensor.kind) {
      case 'ego':
        tracker.ingestEgo(egoRecord(ego, egoBuf), stamp);
        break;
      case 'lidar': {
        const n = lidarScan(ego, states, sensor, rng, lidarBuf, opts.lidar ?? HDL64);
        tracker.ingestLidar(k, lidarBuf, n, stamp);
        break;
      }
      case 'radar': {
        const n = radarScan(
          ego,
          states,
          sensor,
          rng,
          radarBuf,
          radarNoiseFor(sensor, opts.radarClutterMean ?? 0),
        );
        tracker.ingestRadar(k, radarBuf, n, stamp);
        break;
      }
      case 'camera': {
        const n = cameraFrame(ego, states, sensor, rng, camBuf, opts.camera ?? CAMERA_NOISE);
        tracker.ingestCamera(k, camBuf, n, stamp);
        break;
      }
      case 'objects': {
        const n = objectList(ego, states, sensor, rng, objBuf);
        tracker.ingestObjects(k, objBuf, n, stamp);
        break;
      }
    }
  }
}

/** A 16-beam lidar: enough for clusters, quick to cast. */
export const LIDAR_16: LidarOptions = {
  beams: 16,
  azimuthSteps: 512,
  upperDeg: 2,
  lowerDeg: -24.8,
  rangeNoiseStd: 0.02,
  azimuthJitter: true,
};

/** A passenger car (4.6 × 1.85 × 1.5 m, RCS 10 dBsm) moving at (vx, vy). */
export function sceneCar(
  id: number,
  x0: number,
  y0: number,
  vx: number,
  vy = 0,
  extra: Partial<SceneObject> = {},
): SceneObject {
  return {
    id,
    classId: ObjectClass.car,
    x0,
    y0,
    vx,
    vy,
    length: 4.6,
    width: 1.85,
    height: 1.5,
    rcs: 10,
    ...extra,
  };
}

/** One ingest call of a tracker, with a copy of its payload. */
export interface RecordedCall {
  kind: 'ingestEgo' | 'ingestLidar' | 'ingestRadar' | 'ingestCamera' | 'ingestObjects';
  /** Sensor index (-1 for odometry). */
  index: number;
  data: Float32Array | Float64Array;
  count: number;
  stamp: bigint;
}

const CALL_STRIDE = {
  ingestLidar: LIDAR.stride,
  ingestRadar: RADAR.stride,
  ingestCamera: CAMERA.stride,
  ingestObjects: OBJECT.stride,
} as const;

/**
 * Every ingest call `runScenario` makes over the scenario (fed to a real tracker meanwhile), so
 * that several trackers can be given exactly the same inputs, in pieces (`replayCall`).
 */
export function recordScenario(opts: ScenarioOptions): RecordedCall[] {
  const calls: RecordedCall[] = [];
  const recorder = new Proxy(new MultiSensorTracker(opts.sensors), {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || !prop.startsWith('ingest') || typeof v !== 'function') return v;
      const kind = prop as RecordedCall['kind'];
      return (...args: unknown[]) => {
        if (kind === 'ingestEgo') {
          calls.push({
            kind,
            index: -1,
            data: (args[0] as Float64Array).slice(),
            count: 1,
            stamp: args[1] as bigint,
          });
        } else {
          const count = args[2] as number;
          const data = (args[1] as Float32Array).slice(0, count * CALL_STRIDE[kind]);
          calls.push({ kind, index: args[0] as number, data, count, stamp: args[3] as bigint });
        }
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  runScenario(recorder, opts);
  return calls;
}

/** Makes the recorded call on `t`. */
export function replayCall(t: MultiSensorTracker, c: RecordedCall): void {
  if (c.kind === 'ingestEgo') t.ingestEgo(c.data as Float64Array, c.stamp);
  else t[c.kind](c.index, c.data as Float32Array, c.count, c.stamp);
}

/** Per-object error statistics collected from scenario outputs. */
export class TrackErrors {
  readonly posErrors: number[] = [];
  readonly velErrors: number[] = [];
  misses = 0;
  /** Confirmed tracks not matched to any object (ghosts or duplicates), summed over outputs. */
  extraTracks = 0;
  /** Distinct track ids matched to each object. */
  readonly idsPerObject = new Map<number, Set<number>>();

  constructor(
    private readonly fromS: number,
    private readonly gateM = 3,
  ) {}

  readonly onOutput = (
    tS: number,
    tracks: Float32Array,
    count: number,
    truth: readonly TruthInBase[],
  ): void => {
    if (tS < this.fromS) return;
    const used = new Set<number>();
    for (const o of truth) {
      let best = -1;
      let bestD = this.gateM;
      for (let i = 0; i < count; i++) {
        const b = i * TRACK.stride;
        const d = Math.hypot(tracks[b + TRACK.x]! - o.x, tracks[b + TRACK.y]! - o.y);
        if (d < bestD) {
          bestD = d;
          best = i;
        }
      }
      if (best < 0) {
        this.misses++;
        continue;
      }
      used.add(best);
      const b = best * TRACK.stride;
      this.posErrors.push(bestD);
      this.velErrors.push(Math.hypot(tracks[b + TRACK.vx]! - o.vx, tracks[b + TRACK.vy]! - o.vy));
      let ids = this.idsPerObject.get(o.id);
      if (!ids) this.idsPerObject.set(o.id, (ids = new Set()));
      ids.add(tracks[b + TRACK.id]!);
    }
    this.extraTracks += count - used.size;
  };

  static max(a: readonly number[]): number {
    return a.reduce((m, v) => Math.max(m, v), 0);
  }
  static rms(a: readonly number[]): number {
    return a.length ? Math.sqrt(a.reduce((m, v) => m + v * v, 0) / a.length) : 0;
  }
}
