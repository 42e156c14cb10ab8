/**
 * Automotive radar model: point detections (range, azimuth, range rate, RCS) in the radar's
 * frame. Each actor in the field of view yields scatterers spread over the faces it shows the
 * radar (more for large, near objects: one per resolution cell), each detected with a
 * probability that falls with range as the radar equation says (RCS / R⁴), plus Poisson
 * clutter. Range rate is the relative radial velocity, + receding, with the radar's own
 * motion (ego speed and yaw rate at the mount) included. Occlusion is not modelled.
 */
import { RADAR } from '../wire/layouts.js';
import type { SensorConfig } from '../wire/rig.js';
import { INFO_BY_CLASS_ID } from './actor-classes.js';
import type { Prng } from './prng.js';
import type { World } from './world.js';

export interface RadarParams {
  /** 1σ noise: range m, azimuth rad, range rate m/s. */
  rangeSigma: number;
  azimuthSigma: number;
  rangeRateSigma: number;
  /** Azimuth resolution, rad: sets how many scatterers a wide object shows. */
  azimuthResolution: number;
  /** Detection probability of a strong target well inside the range. */
  pdMax: number;
  /** Mean false alarms per scan. */
  clutterMean: number;
  /** RCS fluctuation of one scatterer, 1σ dB. */
  rcsSigmaDb: number;
  maxPerObject: number;
  maxDetections: number;
}

const deg = Math.PI / 180;

/** Parameters by radar type: a narrow long-range radar or a wide corner radar. */
export function radarParamsFor(config: SensorConfig): RadarParams {
  const longRange = config.fovDeg <= 30;
  return {
    rangeSigma: longRange ? 0.1 : 0.15,
    azimuthSigma: (longRange ? 0.2 : 0.8) * deg,
    rangeRateSigma: longRange ? 0.05 : 0.1,
    azimuthResolution: (longRange ? 1.5 : 4) * deg,
    pdMax: 0.95,
    clutterMean: longRange ? 2 : 3,
    rcsSigmaDb: 2.5,
    maxPerObject: 8,
    maxDetections: 256,
  };
}

/** The radar's nominal range is for a 10 dBsm target (a car). */
const REFERENCE_RCS_DB = 10;

export class RadarModel {
  /** Output records (range, azimuth, rangeRate, rcs); the first `count` are valid. */
  readonly records: Float32Array;
  readonly bytes: Uint8Array;
  readonly params: RadarParams;
  private readonly pose = new Float64Array(5);
  /** Visible faces (a box shows at most 2): start point and unit direction of each, 4 numbers per face. */
  private readonly face = new Float64Array(8);
  /** Length of the first visible face, m. */
  private faceLen0 = 0;

  constructor(
    readonly config: SensorConfig,
    private readonly rng: Prng,
    private readonly ideal = false,
    params?: RadarParams,
  ) {
    this.params = params ?? radarParamsFor(config);
    this.records = new Float32Array(this.params.maxDetections * RADAR.stride);
    this.bytes = new Uint8Array(this.records.buffer);
  }

  /** Produces one scan of the world at its current time; returns the number of detections. */
  scan(world: World): number {
    const p = this.params;
    const rng = this.rng;
    const ideal = this.ideal;
    const rangeMax = this.config.rangeM;
    const halfFov = (this.config.fovDeg * deg) / 2;
    const pose = this.pose;
    world.sensorPose(this.config.mount, pose);
    const px = pose[0]!;
    const py = pose[1]!;
    const psi = pose[2]!;
    const svx = pose[3]!;
    const svy = pose[4]!;
    const cps = Math.cos(psi);
    const sps = Math.sin(psi);
    // Sensor velocity in the sensor frame, for range rates of stationary clutter.
    const svxs = cps * svx + sps * svy;
    const svys = -sps * svx + cps * svy;
    const out = this.records;
    const face = this.face;
    let n = 0;

    for (let i = 0; i < world.count && n < p.maxDetections; i++) {
      const dxw = world.x[i]! - px;
      const dyw = world.y[i]! - py;
      const cx = cps * dxw + sps * dyw;
      const cy = -sps * dxw + cps * dyw;
      const hl = world.length[i]! / 2;
      const hw = world.width[i]! / 2;
      const centreRange = Math.hypot(cx, cy);
      if (centreRange - Math.hypot(hl, hw) > rangeMax || cx < -Math.hypot(hl, hw)) continue;
      const yaw = world.yaw[i]! - psi;
      const c = Math.cos(yaw);
      const s = Math.sin(yaw);
      // Faces seen by the radar: those whose outward normal points back toward it.
      let nf = 0;
      let visible = 0;
      for (let f = 0; f < 4; f++) {
        const along = f < 2; // faces 0,1: front/back (normal ±x local); 2,3: sides
        const sign = f & 1 ? -1 : 1;
        const nx = along ? c * sign : -s * sign;
        const ny = along ? s * sign : c * sign;
        const mx = cx + nx * (along ? hl : hw);
        const my = cy + ny * (along ? hl : hw);
        if (nx * mx + ny * my >= 0 || nf === 2) continue;
        const half = along ? hw : hl;
        // Face tangent (perpendicular to the normal).
        const tx = -ny;
        const ty = nx;
        face[nf * 4] = mx - tx * half;
        face[nf * 4 + 1] = my - ty * half;
        face[nf * 4 + 2] = tx;
        face[nf * 4 + 3] = ty;
        visible += 2 * half;
        nf++;
        if (nf === 1) this.faceLen0 = 2 * half;
      }
      if (nf === 0) continue; // the radar is inside the box
      const cell = Math.max(0.4, centreRange * p.azimuthResolution);
      const count = Math.min(p.maxPerObject, 1 + Math.floor(visible / cell));
      const info = INFO_BY_CLASS_ID[world.classId[i]!]!;
      const perScattererRcs = info.rcsDbsm - 10 * Math.log10(count);
      const vrx = world.vx[i]! - svx;
      const vry = world.vy[i]! - svy;
      for (let q = 0; q < count && n < p.maxDetections; q++) {
        // A point along the visible faces: spread evenly when ideal, at random otherwise.
        let u = ideal ? ((q + 0.5) / count) * visible : rng.uniform() * visible;
        let fo = 0;
        if (nf === 2 && u > this.faceLen0) {
          u -= this.faceLen0;
          fo = 4;
        }
        const qx = face[fo]! + face[fo + 2]! * u;
        const qy = face[fo + 1]! + face[fo + 3]! * u;
        const r = Math.hypot(qx, qy);
        const az = Math.atan2(qy, qx);
        if (r > rangeMax || r < 0.5 || az > halfFov || az < -halfFov) continue;
        // Radar equation: SNR margin over the detection threshold, dB.
        const margin = info.rcsDbsm - REFERENCE_RCS_DB - 40 * Math.log10(r / rangeMax);
        if (!ideal) {
          const pd = p.pdMax / (1 + Math.exp(-(margin - 3) / 1.5));
          if (!rng.chance(pd)) continue;
        } else if (margin < 0) continue;
        // Line of sight in the world frame, for the relative radial velocity.
        const lx = cps * (qx / r) - sps * (qy / r);
        const ly = sps * (qx / r) + cps * (qy / r);
        const rr = vrx * lx + vry * ly;
        const o = n * RADAR.stride;
        if (ideal) {
          out[o] = r;
          out[o + 1] = az;
          out[o + 2] = rr;
          out[o + 3] = perScattererRcs;
        } else {
          out[o] = r + p.rangeSigma * rng.gauss();
          out[o + 1] = az + p.azimuthSigma * rng.gauss();
          out[o + 2] = rr + p.rangeRateSigma * rng.gauss();
          out[o + 3] = perScattererRcs + p.rcsSigmaDb * rng.gauss();
        }
        n++;
      }
    }

    if (!ideal) {
      // False alarms: mostly stationary (road furniture, multipath off the ground), some with random Doppler.
      const clutter = rng.poisson(p.clutterMean);
      for (let q = 0; q < clutter && n < p.maxDetections; q++) {
        const r = rng.range(2, rangeMax);
        const az = rng.range(-halfFov, halfFov);
        const stationary = -(svxs * Math.cos(az) + svys * Math.sin(az));
        const rr = rng.chance(0.8) ? stationary + p.rangeRateSigma * rng.gauss() : rng.range(-20, 20);
        const o = n * RADAR.stride;
        out[o] = r;
        out[o + 1] = az;
        out[o + 2] = rr;
        out[o + 3] = -8 + 4 * rng.gauss();
        n++;
      }
    }
    return n;
  }
}
