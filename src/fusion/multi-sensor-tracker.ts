import {
  CAMERA,
  EGO,
  LIDAR,
  OBJECT,
  ObjectClass,
  RADAR,
  TRACK,
  TRACK_QUALITY,
  type SensorKind,
} from '../wire/layouts.js';
import type { SensorConfig } from '../wire/rig.js';
import { TypedArrayArena } from '../pool/typed-array-arena.js';
import { GatedAssignment } from './association.js';
import { CameraMeasurements } from './camera-measurement.js';
import { TrackEkf } from './ekf.js';
import { EgoHistory, EgoPose, SensorPose, sensorPoseOf, wrapAngle } from './ego-history.js';
import { CLUSTER, LidarClusterer } from './lidar-clusterer.js';
import { LidarMeasurements } from './lidar-measurement.js';
import { Linearization } from './linearization.js';
import { predictHeading, refreshHeading, type MeasurementBatch } from './measurement-model.js';
import { MotionModel, motionModelOf, predictStateInto, type MotionModelId } from './motion-model.js';
import { ObjectMeasurements } from './object-measurement.js';
import { RadarMeasurements } from './radar-measurement.js';
import {
  DEFAULT_TRACKER_CONFIG,
  clearTrackerStats,
  createTrackerStats,
  type TrackerConfig,
  type TrackerStats,
} from './tracker-config.js';
import { COV_SIZE, S, TrackStatus, TrackTable } from './track-table.js';
import {
  EGO_HISTORY_CAPACITY,
  SNAPSHOT_SCALAR,
  TRACKER_STAT_KEYS,
  TrackerSnapshot,
} from './tracker-snapshot.js';

export type { TrackerConfig, TrackerStats } from './tracker-config.js';
export { TrackerSnapshot } from './tracker-snapshot.js';

/** A saved tracker state (see `MultiSensorTracker.saveCheckpoint`). */
export interface TrackerCheckpoint {
  table: TrackTable;
  timeS: number;
  epochNs: bigint | undefined;
  stats: TrackerStats;
}
export { DEFAULT_TRACKER_CONFIG } from './tracker-config.js';

const MAX_CLUSTERS = 512;
/** A track this far (m) outside a sensor's range or field of view still concerns its scans. */
const COVERAGE_MARGIN_M = 5;
/** ... and this much further per second since it was last predicted (m/s of unmodelled motion). */
const COVERAGE_SPEED_MARGIN = 10;

/**
 * Multi-sensor object tracker: lidar clusters, radar detections, camera objects and detector
 * object lists fused into one track list by an EKF per track (odom frame) with a motion model
 * per class: a coordinated turn with estimated yaw rate for vehicles, constant velocity for
 * pedestrians, constant acceleration for unknown objects.
 *
 * Each scan is placed in odom with the ego pose at its own capture time (interpolated from the
 * odometry history), all tracks are predicted to that time, measurements are associated by
 * global nearest neighbour inside a Mahalanobis gate, and tracks are updated, started (M-of-N
 * confirmation), coasted and deleted. Scans must arrive in time order across sensors; an older
 * one is dropped and counted. Processing is deterministic: identical calls give identical
 * output, bit for bit, and nothing allocates per call once buffers have reached their size.
 */
export class MultiSensorTracker {
  readonly stats: TrackerStats = createTrackerStats();
  readonly config: Readonly<TrackerConfig>;

  private readonly sensors: readonly SensorConfig[];
  private readonly table: TrackTable;
  private ekf: TrackEkf;
  private readonly egoHistory = new EgoHistory(EGO_HISTORY_CAPACITY);
  private readonly egoPose = new EgoPose();
  private readonly sensorPose = new SensorPose();
  private readonly clusterer: LidarClusterer;
  private readonly clusterBuf = new Float32Array(MAX_CLUSTERS * CLUSTER.stride);
  private radar: RadarMeasurements;
  private readonly camera: CameraMeasurements;
  private readonly lidar: LidarMeasurements;
  private readonly objects: ObjectMeasurements;
  private readonly assoc: GatedAssignment;
  private readonly rows: Int32Array;
  private readonly spawnedSlots: Int32Array;
  private readonly perRow: Int32Array;
  /** Per row, the radar returns beyond the assigned one in its gate, as linked lists. */
  private readonly extraHead: Int32Array;
  private extraNext = new Int32Array(128);
  private readonly nuSum = new Float64Array(3);
  /** Per measurement of the scan, its pre-gate radius (m). */
  private preGate = new Float64Array(128);
  /** Per slot, for maintain(): position extrapolated to the scan time and how far its box reaches. */
  private readonly mx: Float64Array;
  private readonly my: Float64Array;
  private readonly reach: Float64Array;
  private readonly live: Int32Array;
  private readonly lin = new Linearization();
  private readonly predicted = new Float64Array(S.dim);
  private readonly transition = new Float64Array(COV_SIZE);
  private minD2 = new Float64Array(64);
  private bestRow = new Int32Array(64);
  private epochNs: bigint | undefined;
  /** Time all tracks are predicted to (s since epoch); -Infinity before the first scan. */
  private timeS = -Infinity;

  constructor(sensors: readonly SensorConfig[], config: Partial<TrackerConfig> = {}) {
    this.config = { ...DEFAULT_TRACKER_CONFIG, ...config };
    const c = this.config;
    if (!(c.confirmHits >= 1 && c.confirmHits <= c.confirmWindow && c.confirmWindow <= 32)) {
      throw new Error(
        `MultiSensorTracker: need 1 <= confirmHits (${c.confirmHits}) <= confirmWindow (${c.confirmWindow}) <= 32`,
      );
    }
    this.sensors = sensors.slice();
    this.table = new TrackTable(c.maxTracks);
    this.ekf = new TrackEkf(motionNoiseOf(c));
    this.clusterer = new LidarClusterer(c.lidar);
    this.radar = new RadarMeasurements(this.config);
    this.camera = new CameraMeasurements(this.config);
    this.lidar = new LidarMeasurements(this.config);
    this.objects = new ObjectMeasurements(this.config);
    this.assoc = new GatedAssignment(c.maxTracks, 128);
    this.rows = new Int32Array(c.maxTracks);
    this.spawnedSlots = new Int32Array(c.maxTracks);
    this.perRow = new Int32Array(c.maxTracks);
    this.extraHead = new Int32Array(c.maxTracks);
    this.mx = new Float64Array(c.maxTracks);
    this.my = new Float64Array(c.maxTracks);
    this.reach = new Float64Array(c.maxTracks);
    this.live = new Int32Array(c.maxTracks);
  }

  /** Number of sensors the tracker was built with (what sensor indices refer to). */
  get sensorCount(): number {
    return this.sensors.length;
  }

  /** Ego odometry: rec is one EGO_LAYOUT record (x, y, yaw in odom; speed, yawRate, accel). */
  ingestEgo(rec: Float64Array, stampNs: bigint): void {
    if (rec.length < EGO.stride) {
      throw new Error(`ego: record has ${rec.length} values, EGO_LAYOUT needs ${EGO.stride}`);
    }
    const tS = this.toSeconds(stampNs);
    for (let i = 0; i < EGO.stride; i++) {
      if (!Number.isFinite(rec[i]!)) {
        this.stats.egoDropped++;
        return;
      }
    }
    if (!this.egoHistory.push(rec, tS)) {
      this.stats.egoDropped++;
      return;
    }
    this.stats.egoRecords++;
  }

  /**
   * One lidar scan: `count` LIDAR_LAYOUT points in the frame of sensors[sensorIndex], clustered
   * here. The scheduler's lidar-extraction stage clusters on its own thread instead and hands the
   * clusters to `ingestLidarClusters`; this is the same in one call.
   */
  ingestLidar(sensorIndex: number, points: Float32Array, count: number, stampNs: bigint): void {
    const sensor = this.sensorOf(sensorIndex, 'lidar', points.length, LIDAR.stride, count);
    const n = this.clusterer.cluster(points, count, sensor.mount, this.clusterBuf);
    this.stats.measurementsInvalid += this.clusterer.stats.pointsInvalid;
    this.ingestLidarClusters(sensorIndex, this.clusterBuf, n, stampNs);
  }

  /**
   * One clustered lidar scan: `count` CLUSTER records (LidarClusterer output, base_link at the
   * scan's stamp) from sensors[sensorIndex].
   */
  ingestLidarClusters(sensorIndex: number, clusters: Float32Array, count: number, stampNs: bigint): void {
    const sensor = this.sensorOf(sensorIndex, 'lidar', clusters.length, CLUSTER.stride, count);
    this.stats.lidarScans++;
    this.stats.clustersFound += count;
    const tS = this.beginScan(sensor, stampNs);
    if (Number.isNaN(tS)) return;
    this.lidar.prepare(clusters, count, sensor, this.egoPose, this.sensorPose);
    this.processScan(this.lidar, tS, this.config.spawnFromLidar);
  }

  /** One radar scan: `count` RADAR_LAYOUT detections in the frame of sensors[sensorIndex]. */
  ingestRadar(sensorIndex: number, dets: Float32Array, count: number, stampNs: bigint): void {
    const sensor = this.sensorOf(sensorIndex, 'radar', dets.length, RADAR.stride, count);
    this.stats.radarScans++;
    const tS = this.beginScan(sensor, stampNs);
    if (Number.isNaN(tS)) return;
    this.radar.prepare(dets, count, sensor, this.sensorPose, this.egoPose.yaw);
    this.processScan(this.radar, tS, this.config.spawnFromRadar);
  }

  /** One camera frame: `count` CAMERA_LAYOUT objects in the frame of sensors[sensorIndex]. */
  ingestCamera(sensorIndex: number, objs: Float32Array, count: number, stampNs: bigint): void {
    const sensor = this.sensorOf(sensorIndex, 'camera', objs.length, CAMERA.stride, count);
    this.stats.cameraFrames++;
    const tS = this.beginScan(sensor, stampNs);
    if (Number.isNaN(tS)) return;
    this.camera.prepare(objs, count, sensor, this.sensorPose, this.egoPose.yaw);
    this.processScan(this.camera, tS, this.config.spawnFromCamera);
  }

  /**
   * One object list from a detector: `count` OBJECTS_LAYOUT records in the frame of
   * sensors[sensorIndex].
   */
  ingestObjects(sensorIndex: number, objs: Float32Array, count: number, stampNs: bigint): void {
    const sensor = this.sensorOf(sensorIndex, 'objects', objs.length, OBJECT.stride, count);
    this.stats.objectLists++;
    const tS = this.beginScan(sensor, stampNs);
    if (Number.isNaN(tS)) return;
    this.objects.prepare(objs, count, sensor, this.egoPose, this.sensorPose);
    this.processScan(this.objects, tS, this.config.spawnFromObjects);
  }

  /**
   * Predicts confirmed tracks (existence at least publishMinExistence) to stampNs and writes them
   * as TRACKS_LAYOUT records (base_link at stampNs, velocities over ground in base_link axes,
   * covariance in base_link axes) into out, in track-table order, and, when `quality` is given,
   * one TRACK_QUALITY record per track into it (age at stampNs, covariance blocks, seen extents:
   * what the planner weighs trust by).
   * Returns the record count, at most out.length / TRACK.stride (and quality.length / TRACK_QUALITY.stride).
   */
  writeTracks(stampNs: bigint, out: Float32Array, quality?: Float32Array): number {
    const tS = this.toSeconds(stampNs);
    const cap = Math.min(
      Math.floor(out.length / TRACK.stride),
      quality ? Math.floor(quality.length / TRACK_QUALITY.stride) : Infinity,
    );
    const t = this.table;
    if (t.size === 0 || cap === 0) return 0;
    const ego = this.egoPose;
    this.egoHistory.poseAt(tS, ego);
    const c = Math.cos(ego.yaw);
    const s = Math.sin(ego.yaw);
    const p = this.predicted;
    let n = 0;
    for (let slot = 0; slot < t.capacity && n < cap; slot++) {
      if (t.status[slot] !== TrackStatus.confirmed || t.existence[slot]! < this.config.publishMinExistence)
        continue;
      const dt = tS - t.timeS[slot]!;
      const model = this.motionOf(slot);
      predictStateInto(t.state, slot * S.dim, dt, model, p, this.transition);
      const dx = p[S.x]! - ego.x;
      const dy = p[S.y]! - ego.y;
      const o = n * TRACK.stride;
      out[o + TRACK.id] = t.id[slot]!;
      out[o + TRACK.classId] = t.classId[slot]!;
      out[o + TRACK.x] = c * dx + s * dy;
      out[o + TRACK.y] = -s * dx + c * dy;
      out[o + TRACK.z] = t.z[slot]!;
      out[o + TRACK.vx] = c * p[S.vx]! + s * p[S.vy]!;
      out[o + TRACK.vy] = -s * p[S.vx]! + c * p[S.vy]!;
      out[o + TRACK.ax] = c * p[S.ax]! + s * p[S.ay]!;
      out[o + TRACK.ay] = -s * p[S.ax]! + c * p[S.ay]!;
      out[o + TRACK.length] = t.length[slot]!;
      out[o + TRACK.width] = t.width[slot]!;
      out[o + TRACK.height] = t.height[slot]!;
      out[o + TRACK.yaw] = wrapAngle(t.yaw[slot]! + p[S.w]! * dt - ego.yaw);
      out[o + TRACK.yawRate] = p[S.w]!;
      out[o + TRACK.existence] = t.existence[slot]!;
      out[o + TRACK.sinceUpdate] = tS - t.lastHitS[slot]!;
      this.writeCovariance(slot, dt, c, s, out, o);
      if (quality) writeQuality(t, slot, tS, c, s, quality, n * TRACK_QUALITY.stride);
      n++;
    }
    return n;
  }

  /**
   * The covariance of the track's position and velocity predicted dt ahead (first order), and of
   * its heading, turned into base_link axes (rotation by the ego's heading: cos c, sin s).
   */
  private writeCovariance(
    slot: number,
    dt: number,
    c: number,
    s: number,
    out: Float32Array,
    o: number,
  ): void {
    const P = this.table.cov;
    const b = slot * COV_SIZE;
    const n = S.dim;
    const at = (i: number, j: number): number => P[b + i * n + j]!;
    // Position block predicted with the velocity block: Ppp + dt (Ppv + Pvp) + dt² Pvv.
    const pxx = at(S.x, S.x) + dt * 2 * at(S.x, S.vx) + dt * dt * at(S.vx, S.vx);
    const pyy = at(S.y, S.y) + dt * 2 * at(S.y, S.vy) + dt * dt * at(S.vy, S.vy);
    const pxy = at(S.x, S.y) + dt * (at(S.x, S.vy) + at(S.vx, S.y)) + dt * dt * at(S.vx, S.vy);
    const vxx = at(S.vx, S.vx);
    const vyy = at(S.vy, S.vy);
    const vxy = at(S.vx, S.vy);
    // R(-yaw) C R(-yaw)ᵀ with R(-yaw) = [[c, s], [-s, c]].
    out[o + TRACK.varX] = c * c * pxx + 2 * c * s * pxy + s * s * pyy;
    out[o + TRACK.varY] = s * s * pxx - 2 * c * s * pxy + c * c * pyy;
    out[o + TRACK.covXY] = -c * s * pxx + (c * c - s * s) * pxy + c * s * pyy;
    out[o + TRACK.varVx] = c * c * vxx + 2 * c * s * vxy + s * s * vyy;
    out[o + TRACK.varVy] = s * s * vxx - 2 * c * s * vxy + c * c * vyy;
    out[o + TRACK.covVxVy] = -c * s * vxx + (c * c - s * s) * vxy + c * s * vyy;
    out[o + TRACK.varYaw] = this.table.yawVar[slot]! + dt * dt * at(S.w, S.w);
  }

  /**
   * Changes parameters of a running tracker (a hot reload) without touching its tracks. The
   * track table's size (maxTracks) and the trigger-cycle clusterer (lidar) are fixed at
   * construction; asking for them throws. Allocates (the motion model, radar noise cache).
   */
  retune(params: Partial<TrackerConfig>): void {
    for (const fixed of ['maxTracks', 'lidar'] as const) {
      if (params[fixed] !== undefined && params[fixed] !== this.config[fixed]) {
        throw new Error(`MultiSensorTracker.retune: ${fixed} is fixed at construction`);
      }
    }
    const next = { ...this.config, ...params };
    if (!(next.confirmHits >= 1 && next.confirmHits <= next.confirmWindow && next.confirmWindow <= 32)) {
      throw new Error(
        `MultiSensorTracker: need 1 <= confirmHits (${next.confirmHits}) <= confirmWindow (${next.confirmWindow}) <= 32`,
      );
    }
    // In place: the measurement models hold this object.
    Object.assign(this.config as TrackerConfig, params);
    this.ekf = new TrackEkf(motionNoiseOf(this.config));
    this.radar = new RadarMeasurements(this.config);
  }

  /** Storage for `saveCheckpoint`, sized for this tracker. */
  createCheckpoint(): TrackerCheckpoint {
    return {
      table: new TrackTable(this.config.maxTracks),
      timeS: -Infinity,
      epochNs: undefined,
      stats: createTrackerStats(),
    };
  }

  /**
   * Copies every piece of state a scan changes (tracks, the time they are predicted to, the
   * stamp origin, counters) into `cp`, so that `restoreCheckpoint` can rewind to it and later
   * scans can be fused again in stamp order (out-of-sequence measurements). Odometry is not
   * included: it is only appended, in stamp order, and looked up by time. The measurement models
   * hold only per-scan scratch. No allocation.
   */
  saveCheckpoint(cp: TrackerCheckpoint): void {
    cp.table.copyFrom(this.table);
    cp.timeS = this.timeS;
    cp.epochNs = this.epochNs;
    Object.assign(cp.stats, this.stats);
  }

  /**
   * Rewinds to a state saved by `saveCheckpoint`. The odometry counters are kept: odometry is
   * not rewound (and ego lookups are causal, so scans fused again see the poses they saw).
   */
  restoreCheckpoint(cp: TrackerCheckpoint): void {
    this.table.copyFrom(cp.table);
    this.timeS = cp.timeS;
    this.epochNs = cp.epochNs;
    const { egoRecords, egoDropped } = this.stats;
    Object.assign(this.stats, cp.stats);
    this.stats.egoRecords = egoRecords;
    this.stats.egoDropped = egoDropped;
  }

  /**
   * Storage for `saveSnapshot`, laid out over `arena` (a region of a SharedArrayBuffer, so that
   * another thread can restore from it; an ordinary one without an arena).
   */
  createSnapshot(arena: TypedArrayArena = TypedArrayArena.measuring('TrackerSnapshot')): TrackerSnapshot {
    return new TrackerSnapshot(this.config.maxTracks, arena);
  }

  /**
   * Copies the whole state into `s`: what `saveCheckpoint` keeps and the odometry history, so
   * that a fresh tracker built with the same sensors and configuration continues after
   * `restoreSnapshot(s)` exactly as this one does (a worker replaced mid-drive). The measurement
   * models, the EKF and the clusterer hold only per-scan scratch. No allocation.
   */
  saveSnapshot(s: TrackerSnapshot): void {
    this.checkSnapshot(s, 'saveSnapshot');
    s.table.copyFrom(this.table);
    s.egoHistory.copyFrom(this.egoHistory);
    const v = s.scalars;
    v[SNAPSHOT_SCALAR.timeS] = this.timeS;
    v[SNAPSHOT_SCALAR.epochSet] = this.epochNs === undefined ? 0 : 1;
    s.epochNs[0] = this.epochNs ?? 0n;
    const st = this.stats;
    for (let i = 0; i < TRACKER_STAT_KEYS.length; i++)
      v[SNAPSHOT_SCALAR.stats + i] = st[TRACKER_STAT_KEYS[i]!];
  }

  /** Takes over the whole state saved by `saveSnapshot` (by this tracker or another). No allocation. */
  restoreSnapshot(s: TrackerSnapshot): void {
    this.checkSnapshot(s, 'restoreSnapshot');
    this.table.copyFrom(s.table);
    this.egoHistory.copyFrom(s.egoHistory);
    const v = s.scalars;
    this.timeS = v[SNAPSHOT_SCALAR.timeS]!;
    this.epochNs = v[SNAPSHOT_SCALAR.epochSet] === 1 ? s.epochNs[0]! : undefined;
    const st = this.stats;
    for (let i = 0; i < TRACKER_STAT_KEYS.length; i++)
      st[TRACKER_STAT_KEYS[i]!] = v[SNAPSHOT_SCALAR.stats + i]!;
  }

  private checkSnapshot(s: TrackerSnapshot, what: string): void {
    if (s.maxTracks !== this.config.maxTracks) {
      throw new Error(
        `MultiSensorTracker.${what}: snapshot holds ${s.maxTracks} tracks, this tracker ${this.config.maxTracks} (maxTracks)`,
      );
    }
  }

  /** Tracks held (tentative and confirmed). */
  get trackCount(): number {
    return this.table.size;
  }

  /** The id the next new track gets. */
  get nextTrackId(): number {
    return this.table.nextId;
  }

  /** Stamp the tracks are predicted to (ns), or undefined before the first scan. */
  get stateStampNs(): bigint | undefined {
    if (this.epochNs === undefined || this.timeS === -Infinity) return undefined;
    return this.epochNs + BigInt(Math.round(this.timeS * 1e9));
  }

  /** Forgets all tracks, odometry, time and counters. */
  reset(): void {
    this.table.clear();
    this.egoHistory.clear();
    this.epochNs = undefined;
    this.timeS = -Infinity;
    clearTrackerStats(this.stats);
  }

  private sensorOf(
    index: number,
    kind: SensorKind,
    viewLength: number,
    stride: number,
    count: number,
  ): SensorConfig {
    const sensor = this.sensors[index];
    if (!sensor || sensor.kind !== kind) {
      throw new Error(
        `ingest ${kind}: sensor index ${index} is ${sensor ? `${sensor.id} (${sensor.kind})` : 'out of range'}; ` +
          `the tracker has ${this.sensors.length} sensors`,
      );
    }
    if (!Number.isInteger(count) || count < 0 || count * stride > viewLength) {
      throw new Error(
        `${kind} ${sensor.id}: count ${count} exceeds the view's ${Math.floor(viewLength / stride)} records`,
      );
    }
    return sensor;
  }

  /** Seconds since the first stamp this tracker saw (exact for ~104 days of nanoseconds). */
  private toSeconds(stampNs: bigint): number {
    if (this.epochNs === undefined) this.epochNs = stampNs;
    return Number(stampNs - this.epochNs) * 1e-9;
  }

  /**
   * Common start of a scan: sequence check and ego pose at the scan time. Tracks are predicted
   * to it when the scan needs them (see processScan). Returns the scan time, or NaN when the scan
   * is dropped.
   */
  private beginScan(sensor: SensorConfig, stampNs: bigint): number {
    const tS = this.toSeconds(stampNs);
    if (tS < this.timeS) {
      this.stats.outOfSequenceDropped++;
      return NaN;
    }
    if (this.config.requireEgo && this.egoHistory.size === 0) {
      this.stats.noEgoDropped++;
      return NaN;
    }
    const extrapolated = this.egoHistory.poseAt(tS, this.egoPose);
    if (extrapolated > this.config.maxEgoExtrapolationS) this.stats.egoStale++;
    sensorPoseOf(this.egoPose, sensor.mount, this.sensorPose);
    this.timeS = tS;
    return tS;
  }

  /**
   * Counts the records a prepared scan left out, then association, update, miss bookkeeping,
   * spawning and maintenance for its measurements.
   */
  private processScan(batch: MeasurementBatch, tS: number, spawn: boolean): void {
    const cfg = this.config;
    const st = this.stats;
    const t = this.table;
    const scan = batch.scan;
    st.measurementsInvalid += scan.invalid;
    st.measurementsFiltered += scan.filtered;
    const m = scan.count;
    const dim = batch.dim;
    const gate = dim === 3 ? cfg.gateChi2Dim3 : cfg.gateChi2Dim2;
    const lin = this.lin;
    const ekf = this.ekf;

    // The tracks this scan concerns (near one of its measurements, or where the sensor looks)
    // are predicted to its time; the others wait for a scan that needs them.
    scan.timeS = tS;
    let rows = 0;
    for (let slot = 0; slot < t.capacity; slot++) {
      if (t.status[slot] === TrackStatus.free || !this.concerns(batch, slot, tS)) continue;
      this.bringTo(slot, tS);
      this.rows[rows++] = slot;
    }

    if (this.minD2.length < m) {
      this.minD2 = new Float64Array(Math.max(m, this.minD2.length * 2));
      this.bestRow = new Int32Array(this.minD2.length);
    }
    const minD2 = this.minD2;
    const bestRow = this.bestRow;
    minD2.fill(Infinity, 0, m);
    this.assoc.begin(rows, m);
    const posX = scan.posX;
    const posY = scan.posY;
    if (this.preGate.length < m) this.preGate = new Float64Array(Math.max(m, 2 * this.preGate.length));
    const preGate = this.preGate;
    for (let j = 0; j < m; j++) preGate[j] = batch.preGateRadius(j);
    for (let r = 0; r < rows; r++) {
      const slot = this.rows[r]!;
      const o = slot * S.dim;
      const tx = t.state[o + S.x]!;
      const ty = t.state[o + S.y]!;
      const slack = 3 * Math.sqrt(t.positionVariance(slot)) + 0.5 * (t.length[slot]! + t.width[slot]!);
      for (let j = 0; j < m; j++) {
        const dx = posX[j]! - tx;
        const dy = posY[j]! - ty;
        const rad = preGate[j]! + slack;
        if (dx * dx + dy * dy > rad * rad) continue;
        if (!batch.innovation(t, slot, j, lin)) continue;
        const d2 = ekf.mahalanobis(t, slot, dim, lin);
        if (d2 < minD2[j]!) {
          minD2[j] = d2;
          bestRow[j] = r;
        }
        // Cost = negative log-likelihood up to a constant, so a tight track beats a loose one.
        if (d2 <= gate) this.assoc.add(r, j, d2 + ekf.logDetS);
      }
    }
    this.assoc.solve();

    // Radar returns beyond the assigned one that fall in a track's gate also update it; the
    // scan's returns then share one measurement's weight, so a biased face model cannot outvote
    // the other sensors by sheer number of returns: one update with their mean innovation (the
    // model predicts once per track, so H and R are the same for all of them).
    const multi = batch.kind === 'radar' && cfg.radarMultiDetection;
    const perRow = this.perRow;
    perRow.fill(0, 0, rows);
    for (let r = 0; r < rows; r++) if (this.assoc.rowToCol[r]! >= 0) perRow[r] = 1;
    if (this.extraNext.length < m) this.extraNext = new Int32Array(Math.max(m, 2 * this.extraNext.length));
    const extraHead = this.extraHead;
    const extraNext = this.extraNext;
    extraHead.fill(-1, 0, rows);
    if (multi) {
      for (let j = m - 1; j >= 0; j--) {
        const r = bestRow[j]!;
        if (this.assoc.colToRow[j]! < 0 && minD2[j]! <= gate && this.assoc.rowToCol[r]! >= 0) {
          perRow[r]!++;
          extraNext[j] = extraHead[r]!;
          extraHead[r] = j;
        }
      }
    }
    const nuSum = this.nuSum;

    const hitGain = cfg.existenceHitGain[batch.kind];
    const missLoss = cfg.existenceMissLoss[batch.kind];
    for (let r = 0; r < rows; r++) {
      const slot = this.rows[r]!;
      const j = this.assoc.rowToCol[r]!;
      let hit = false;
      let usable = j >= 0 && batch.innovation(t, slot, j, lin);
      if (usable && perRow[r]! > 1) {
        for (let k = 0; k < dim; k++) nuSum[k] = lin.nu[k]!;
        let n = 1;
        for (let e = extraHead[r]!; e >= 0; e = extraNext[e]!) {
          if (!batch.innovation(t, slot, e, lin)) continue;
          for (let k = 0; k < dim; k++) nuSum[k] = nuSum[k]! + lin.nu[k]!;
          this.assoc.colToRow[e] = r;
          st.measurementsUsed++;
          n++;
        }
        usable = batch.innovation(t, slot, j, lin);
        for (let k = 0; k < dim; k++) lin.nu[k] = nuSum[k]! / n;
      }
      if (usable && ekf.update(t, slot, dim, lin)) {
        hit = true;
        st.measurementsUsed++;
        t.lastHitS[slot] = tS;
        if (batch.existenceOnHit) {
          t.detectorExistence[slot] = batch.existenceOnHit(t, slot, j);
        } else {
          const e = t.sensorExistence[slot]!;
          t.sensorExistence[slot] = e + (1 - e) * hitGain;
        }
        t.combineExistence(slot);
        batch.afterUpdate(t, slot, j, tS);
        const extra = batch.extraUpdate ? batch.extraUpdate(t, slot, j, lin) : 0;
        if (extra > 0) ekf.update(t, slot, extra, lin);
        refreshHeading(t, slot, tS);
        // An object detector (on the lidar's scans or beyond) vouches for presence as the lidar does.
        if (batch.kind === 'lidar' || batch.kind === 'objects') t.lidarMissStreak[slot] = 0;
      } else if (batch.detectable(t, slot)) {
        if (batch.existenceOnHit) t.detectorExistence[slot] = t.detectorExistence[slot]! * (1 - missLoss);
        else t.sensorExistence[slot] = t.sensorExistence[slot]! * (1 - missLoss);
        t.combineExistence(slot);
        // Only a clean miss (no measurement near the track at all) is evidence of absence; a
        // nearby cluster that failed the gate is a model mismatch, not an empty place.
        if (
          batch.kind === 'lidar' &&
          t.lidarMissStreak[slot]! < 0xffff &&
          !this.measurementNear(batch, slot)
        ) {
          t.lidarMissStreak[slot]!++;
        }
      } else {
        continue;
      }
      if (t.recordScan(slot, hit, cfg.confirmHits, cfg.confirmWindow)) st.tracksConfirmed++;
      else if (t.status[slot] === TrackStatus.tentative && t.existence[slot]! >= cfg.confirmExistence) {
        t.status[slot] = TrackStatus.confirmed;
        st.tracksConfirmed++;
      }
    }

    let spawned = 0;
    const exclusion = gate * cfg.spawnExclusionGateFactor;
    // A detector reports each object once: an unassigned box is a new object unless its centre
    // lies in a track's box (a duplicate detection, or the track of an object the gate lost).
    // Other sensors see parts of objects (echoes, cluster fragments), so anything near a track
    // (within the gate, times spawnExclusionGateFactor) is one.
    const boxes = batch.kind === 'objects';
    for (let j = 0; j < m; j++) {
      if (this.assoc.colToRow[j]! >= 0) continue;
      // A second echo or a cluster fragment of a tracked object must not start a duplicate,
      // nor may several echoes of one new object start several tracks.
      let absorbed = boxes
        ? this.insideAnyBox(posX[j]!, posY[j]!, rows, true)
        : minD2[j]! <= exclusion || this.insideAnyBox(posX[j]!, posY[j]!, rows, false);
      for (let k = 0; k < spawned && !absorbed; k++) {
        const slot = this.spawnedSlots[k]!;
        absorbed = boxes
          ? this.insideBox(slot, posX[j]!, posY[j]!, 0)
          : batch.innovation(t, slot, j, lin) && ekf.mahalanobis(t, slot, dim, lin) <= exclusion;
      }
      if (absorbed) {
        st.measurementsAbsorbed++;
        continue;
      }
      if (!spawn || (batch.maySpawn && !batch.maySpawn(j))) continue;
      const slot = t.allocate(tS);
      if (slot < 0) {
        st.trackTableFull++;
        continue;
      }
      batch.initialize(t, slot, j, tS);
      // Confirmed at the earliest on its second measurement, which gives it a velocity.
      if (batch.birthExistence) t.detectorExistence[slot] = batch.birthExistence(j);
      else t.sensorExistence[slot] = cfg.initialExistence;
      t.combineExistence(slot);
      st.tracksCreated++;
      this.spawnedSlots[spawned++] = slot;
    }

    this.maintain(tS);
  }

  /** Whether (px, py) lies within the box of track `slot`, grown by `margin` on every side. */
  private insideBox(slot: number, px: number, py: number, margin: number): boolean {
    const t = this.table;
    const o = slot * S.dim;
    const dx = px - t.state[o + S.x]!;
    const dy = py - t.state[o + S.y]!;
    const c = Math.cos(t.yaw[slot]!);
    const s = Math.sin(t.yaw[slot]!);
    return (
      Math.abs(c * dx + s * dy) <= 0.5 * t.length[slot]! + margin &&
      Math.abs(-s * dx + c * dy) <= 0.5 * t.width[slot]! + margin
    );
  }

  /** Whether any measurement of the batch lies within the track's box grown by 1.5 m. */
  private measurementNear(batch: MeasurementBatch, slot: number): boolean {
    const scan = batch.scan;
    for (let j = 0; j < scan.count; j++) {
      if (this.insideBox(slot, scan.posX[j]!, scan.posY[j]!, 1.5)) return true;
    }
    return false;
  }

  /**
   * Whether (px, py) lies within the box of any of the first `rows` tracks of this scan: grown
   * by spawnBoxMargin, or `exact`.
   */
  private insideAnyBox(px: number, py: number, rows: number, exact: boolean): boolean {
    for (let r = 0; r < rows; r++) {
      if (this.insideBox(this.rows[r]!, px, py, exact ? 0 : this.config.spawnBoxMargin)) return true;
    }
    return false;
  }

  /** Predicts track `slot` from its own time to tS (nothing when it is there already). */
  private bringTo(slot: number, tS: number): void {
    const t = this.table;
    const dt = tS - t.timeS[slot]!;
    if (!(dt > 0)) return;
    const cfg = this.config;
    const model = this.motionOf(slot);
    this.ekf.predict(t, slot, dt, model);
    const turn = model === MotionModel.turn;
    predictHeading(
      t,
      slot,
      dt,
      turn ? cfg.headingPsdVehicle : cfg.headingPsdOther,
      turn ? cfg.yawAccelPsd : cfg.headingPsdOther,
      tS,
    );
    t.timeS[slot] = tS;
  }

  /**
   * Whether a scan concerns track `slot`: the track, extrapolated at constant velocity to tS,
   * lies within the sensor's coverage (with margins) or near one of the scan's measurements.
   */
  private concerns(batch: MeasurementBatch, slot: number, tS: number): boolean {
    const t = this.table;
    const scan = batch.scan;
    const o = slot * S.dim;
    const dt = tS - t.timeS[slot]!;
    const x = t.state[o + S.x]! + dt * t.state[o + S.vx]!;
    const y = t.state[o + S.y]! + dt * t.state[o + S.vy]!;
    const p = scan.pose;
    const dx = x - p.x;
    const dy = y - p.y;
    const margin = COVERAGE_MARGIN_M + 0.5 * (t.length[slot]! + t.width[slot]!);
    const r = Math.hypot(dx, dy);
    if (r <= scan.maxRange + margin) {
      if (scan.halfFov >= Math.PI) return true;
      const off = Math.abs(wrapAngle(Math.atan2(dy, dx) - p.yaw)) - scan.halfFov;
      if (off <= 0 || off * r <= margin) return true;
    }
    const slack = 3 * Math.sqrt(t.positionVariance(slot)) + margin + COVERAGE_SPEED_MARGIN * dt;
    for (let j = 0; j < scan.count; j++) {
      const rad = batch.preGateRadius(j) + slack;
      const ex = scan.posX[j]! - x;
      const ey = scan.posY[j]! - y;
      if (ex * ex + ey * ey <= rad * rad) return true;
    }
    return false;
  }

  /** The motion model of the track in `slot`: by its class, else by the class its shape suggests. */
  private motionOf(slot: number): MotionModelId {
    const t = this.table;
    const cls = t.classId[slot] !== ObjectClass.unknown ? t.classId[slot]! : t.shapeClass[slot]!;
    return motionModelOf(cls);
  }

  /** Deletes tracks that coasted too long, lost existence or failed confirmation; merges duplicates. */
  private maintain(tS: number): void {
    const cfg = this.config;
    const st = this.stats;
    const t = this.table;
    const maxVar = cfg.maxPositionStd * cfg.maxPositionStd;
    const maxRangeSq = cfg.maxTrackRange * cfg.maxTrackRange;
    const ex = this.egoPose.x;
    const ey = this.egoPose.y;
    const mx = this.mx;
    const my = this.my;
    const reach = this.reach;
    const live = this.live;
    let nLive = 0;
    for (let slot = 0; slot < t.capacity; slot++) {
      const status = t.status[slot]!;
      if (status === TrackStatus.free) continue;
      const coast = tS - t.lastHitS[slot]!;
      const o = slot * S.dim;
      const ahead = tS - t.timeS[slot]!;
      const x = t.state[o + S.x]! + ahead * t.state[o + S.vx]!;
      const y = t.state[o + S.y]! + ahead * t.state[o + S.vy]!;
      const dx = x - ex;
      const dy = y - ey;
      const gone =
        t.positionVariance(slot) > maxVar ||
        (cfg.lidarMissesToDelete > 0 && t.lidarMissStreak[slot]! >= cfg.lidarMissesToDelete) ||
        dx * dx + dy * dy > maxRangeSq ||
        (status === TrackStatus.confirmed
          ? coast > cfg.maxCoastConfirmedS || t.existence[slot]! < cfg.deleteExistence
          : coast > cfg.maxCoastTentativeS || t.failedConfirmation(slot, cfg.confirmHits, cfg.confirmWindow));
      if (gone) {
        t.free(slot);
        st.tracksDeleted++;
        continue;
      }
      mx[slot] = x;
      my[slot] = y;
      reach[slot] = 0.5 * Math.hypot(t.length[slot]!, t.width[slot]!) + cfg.mergeDistance;
      live[nLive++] = slot;
    }

    // Duplicates: two tracks of one object (a fragment, a face of a big object) move together
    // and one lies within the other's box. Known, different classes are never merged (a
    // pedestrian beside a parked car). A pair can only have become one when this scan moved one
    // of them, so only pairs with a track it updated are looked at.
    const speedSq = cfg.mergeSpeedDifference * cfg.mergeSpeedDifference;
    for (let ia = 0; ia < nLive; ia++) {
      const a = live[ia]!;
      if (t.status[a] === TrackStatus.free || t.lastHitS[a] !== tS) continue;
      const oa = a * S.dim;
      for (let ib = 0; ib < nLive; ib++) {
        const b = live[ib]!;
        if (b === a || t.status[b] === TrackStatus.free) continue;
        // Cheap reject: centres farther apart than the two boxes reach.
        const gx = mx[b]! - mx[a]!;
        const gy = my[b]! - my[a]!;
        const rr = reach[a]! + reach[b]!;
        if (gx * gx + gy * gy > rr * rr) continue;
        this.bringTo(b, tS);
        const ob = b * S.dim;
        const dvx = t.state[oa + S.vx]! - t.state[ob + S.vx]!;
        const dvy = t.state[oa + S.vy]! - t.state[ob + S.vy]!;
        if (dvx * dvx + dvy * dvy > speedSq) continue;
        const ca = t.classId[a]!;
        const cb = t.classId[b]!;
        if (ca !== 0 && cb !== 0 && ca !== cb) continue;
        const bInA = this.insideBox(a, t.state[ob + S.x]!, t.state[ob + S.y]!, cfg.mergeDistance);
        const aInB = this.insideBox(b, t.state[oa + S.x]!, t.state[oa + S.y]!, cfg.mergeDistance);
        if (!bInA && !aInB) continue;
        // Keep the confirmed one, then the bigger box, then the one with more hits, then the older.
        const sa = t.length[a]! * t.width[a]!;
        const sb = t.length[b]! * t.width[b]!;
        const keepA =
          t.status[a]! !== t.status[b]!
            ? t.status[a]! > t.status[b]!
            : sa !== sb
              ? sa > sb
              : t.hits[a]! !== t.hits[b]!
                ? t.hits[a]! > t.hits[b]!
                : t.createdS[a]! <= t.createdS[b]!;
        t.free(keepA ? b : a);
        st.tracksMerged++;
        st.tracksDeleted++;
        if (!keepA) break;
      }
    }

    let active = 0;
    let confirmed = 0;
    for (let slot = 0; slot < t.capacity; slot++) {
      if (t.status[slot] === TrackStatus.free) continue;
      active++;
      if (t.status[slot] === TrackStatus.confirmed) confirmed++;
    }
    st.activeTracks = active;
    st.confirmedTracks = confirmed;
  }
}

/**
 * One TRACK_QUALITY record for `slot` at `o`: its age at tS, its position and velocity
 * covariance blocks rotated from odom into base_link (cos c, sin s of the ego's yaw): R P Rᵀ,
 * and the extents the lidar has seen.
 */
function writeQuality(
  t: TrackTable,
  slot: number,
  tS: number,
  c: number,
  s: number,
  out: Float32Array,
  o: number,
): void {
  const P = t.cov;
  const b = slot * COV_SIZE;
  const n = S.dim;
  out[o + TRACK_QUALITY.age] = tS - t.createdS[slot]!;
  out[o + TRACK_QUALITY.seenLength] = t.seenLength[slot]!;
  out[o + TRACK_QUALITY.seenWidth] = t.seenWidth[slot]!;
  for (let k = 0; k < 2; k++) {
    const i = k === 0 ? S.x : S.vx;
    const xx = P[b + i * n + i]!;
    const xy = P[b + i * n + i + 1]!;
    const yy = P[b + (i + 1) * n + i + 1]!;
    const f = o + (k === 0 ? TRACK_QUALITY.pxx : TRACK_QUALITY.vxx);
    out[f] = c * c * xx + 2 * c * s * xy + s * s * yy;
    out[f + 1] = (c * c - s * s) * xy + c * s * (yy - xx);
    out[f + 2] = s * s * xx - 2 * c * s * xy + c * c * yy;
  }
}

/** The motion models' noise from the tracker's parameters. */
function motionNoiseOf(c: Readonly<TrackerConfig>): ConstructorParameters<typeof TrackEkf>[0] {
  return {
    jerkPsd: c.jerkPsd,
    lateralJerkPsd: c.lateralJerkPsd,
    positionPsd: c.positionNoisePsd,
    cvAccelPsd: c.cvAccelPsd,
    yawAccelPsd: c.yawAccelPsd,
    maxAccel: c.maxAccel,
    maxYawRate: c.maxYawRate,
    maxLateralAccel: c.maxLateralAccel,
  };
}
