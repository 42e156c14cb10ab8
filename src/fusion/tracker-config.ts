import type { LidarClustererConfig } from './lidar-clusterer.js';

/**
 * Which point of an object's box a measurement refers to. Tracks always report the box centre;
 * this only changes the measurement models.
 * - `visible-faces`: the centroid of the faces turned toward the sensor, weighted by length
 *   (where scatterers spread over the visible faces average out: radar);
 * - `nearest-surface`: the box point closest to the sensor (a monocular ground-contact range);
 * - `center`: the box centre.
 */
export type MeasurementReference = 'visible-faces' | 'nearest-surface' | 'center';

/** 1σ measurement noise of a radar. */
export interface RadarNoise {
  rangeStd: number;
  azimuthStd: number;
  rangeRateStd: number;
}

/** Tuning of the multi-sensor tracker. Units: metres, seconds, radians. */
export interface TrackerConfig {
  /** Fixed size of the track table; spawns beyond it are refused and counted. */
  maxTracks: number;
  /**
   * Power spectral density of the white-noise jerk of the constant-acceleration model, m²/s⁵:
   * along the heading of objects moving faster than 3 m/s, and in every direction for slower ones.
   */
  jerkPsd: number;
  /** Jerk PSD across the heading of moving objects (lane changes, curves), m²/s⁵. */
  lateralJerkPsd: number;
  /**
   * Power spectral density of an extra random walk on position, m²/s: the tracked reference
   * point wanders on the object (faces coming into view, size estimates changing), which the
   * kinematic model does not describe. Keeps the filter from trusting its position more than
   * the measurement models justify.
   */
  positionNoisePsd: number;
  /** Acceleration estimates are clamped to this magnitude, m/s². */
  maxAccel: number;
  /** White-noise acceleration intensity of the constant-velocity model of pedestrians, m²/s³. */
  cvAccelPsd: number;
  /** White-noise yaw acceleration intensity of the turn model of vehicles, rad²/s³. */
  yawAccelPsd: number;
  /** Yaw-rate estimates are bounded by this (rad/s) and by maxLateralAccel / speed. */
  maxYawRate: number;
  maxLateralAccel: number;
  /** Random walk of the box heading, rad²/s: vehicles (turn model) and other objects. */
  headingPsdVehicle: number;
  headingPsdOther: number;

  /** Noise of a narrow (long-range) radar, FOV up to radarWideFovDeg. */
  radarRangeStd: number;
  radarAzimuthStd: number;
  radarRangeRateStd: number;
  /** Noise of a wide (corner) radar, FOV above radarWideFovDeg: coarser azimuth. */
  radarWideFovDeg: number;
  radarWideRangeStd: number;
  radarWideAzimuthStd: number;
  radarWideRangeRateStd: number;
  /** Per-sensor overrides by sensor id, for radars whose datasheet differs. */
  radarNoiseById: Readonly<Record<string, Partial<RadarNoise>>>;
  /**
   * Use every radar detection inside a track's gate, not only the one the assignment gives it:
   * returns spread over an object's faces are independent samples of it.
   */
  radarMultiDetection: boolean;
  /**
   * Error of the face model that predicts where on an object radar returns fall, 1σ, m: a
   * systematic error, added to the range and cross-range noise so radar positions stay modest.
   */
  radarReferenceStd: number;
  /** Detections weaker than this are ignored (ground clutter). */
  radarMinRcsDbsm: number;
  /** Radar-spawned tracks at or above this RCS start with car dimensions, below with small-object dimensions. */
  radarCarRcsDbsm: number;

  /** Bearing noise of the image-box centre: a floor plus a fraction of the box's angular width. */
  cameraBearingStd: number;
  cameraBearingRelStd: number;
  /** Monocular range noise as a fraction of range, with cameraRangeMinStd as a floor. */
  cameraRangeRelStd: number;
  cameraRangeMinStd: number;
  cameraMinConfidence: number;

  /** Noise of a lidar cluster's box centre, per axis. */
  lidarPositionStd: number;
  /**
   * The lidar is expected to see an object (a miss counts against it) out to this many metres
   * per metre of its larger dimension: a pedestrian to ~35 m, a car to the lidar's range.
   */
  lidarReliableRangePerMetre: number;
  /** Clusters whose top is lower than this above ground (curbs, debris) are not used. */
  lidarMinObjectHeight: number;

  /** What a radar detection's range and azimuth refer to. */
  radarReference: MeasurementReference;
  /** What a camera object's range refers to (its bearing always refers to the centre). */
  cameraRangeReference: MeasurementReference;

  /** Chi-square gates on the squared Mahalanobis distance (99.7 %) for 2- and 3-dimensional measurements. */
  gateChi2Dim2: number;
  gateChi2Dim3: number;
  /**
   * An unassigned measurement this close (gate times factor) to any track, including one just
   * started from the same scan, does not start a new one.
   */
  spawnExclusionGateFactor: number;

  /**
   * Object lists (detector boxes). Centre noise 1σ when a record gives no covariance: across
   * the line of sight a floor plus a fraction of the range, along it `objectsAlongRangeFactor`
   * times that; plus `objectsSizeStd` of the box length along the box (a long box's centre is
   * less certain).
   */
  objectsPositionStd: number;
  objectsPositionStdPerM: number;
  objectsAlongRangeFactor: number;
  objectsSizeStd: number;
  /** Heading noise 1σ of a box when the record gives none, rad. */
  objectsYawStd: number;
  /** Fraction of the gap to a measured box size (and height) closed per update. */
  objectsSizeGain: number;
  /**
   * A vehicle does not move sideways: after each object update, the velocity across the
   * measured heading is pulled to 0 with this 1σ (m/s), plus speed × heading noise. 0 disables.
   */
  objectsLateralVelocityStd: number;
  /**
   * Calibration of detection scores: a detection of score s is a true object with probability
   * p = σ(scale · logit(s) + bias). A new track starts with existence p; each update averages
   * the track's score log-odds with memory `objectsScoreMemory` (the weight of the new score)
   * and sets its existence to their calibrated probability; a detectable miss scales it by
   * 1 - existenceMissLoss.objects. The defaults are a logistic fit of P(true | averaged score
   * log-odds, range) to PointRCNN's Car detections on the KITTI tracking dev sequences.
   */
  objectsScoreScale: number;
  objectsScoreBias: number;
  objectsScoreMemory: number;
  /**
   * The calibration's range term: + rangeGain · min(range, rangeCap) (m from the sensor). A
   * lidar detector scores true objects lower the fewer points they have, i.e. the farther they
   * are, while its false positives at low scores sit close by (KITTI dev: at a raw score of 2,
   * 30 % true at 15 m, 77 % at 45 m).
   */
  objectsScoreRangeGain: number;
  objectsScoreRangeCap: number;
  /** Detections less likely than this to be true update tracks but do not start one. */
  objectsBirthMinProbability: number;

  /** Which sensor kinds may start tracks. */
  spawnFromRadar: boolean;
  spawnFromLidar: boolean;
  spawnFromCamera: boolean;
  spawnFromObjects: boolean;

  /** M-of-N confirmation over the scans in which a track was detectable. */
  confirmHits: number;
  confirmWindow: number;
  /**
   * A tentative track is also confirmed once its existence reaches this after an update
   * (confident detections: a second one confirms).
   */
  confirmExistence: number;

  initialExistence: number;
  /** Confirmed tracks below this existence probability are deleted. */
  deleteExistence: number;
  /** Existence update: on a hit e += (1 - e) * gain; on a miss e *= (1 - loss). */
  existenceHitGain: { radar: number; lidar: number; camera: number; objects: number };
  existenceMissLoss: { radar: number; lidar: number; camera: number; objects: number };

  /**
   * A track the lidar should have seen in this many consecutive scans without seeing it, nor an
   * object detector in between, is deleted, whatever other sensors say: within its range the
   * lidar is the authority on presence (radar returns of neighbouring objects can feed a
   * phantom). 0 disables.
   */
  lidarMissesToDelete: number;
  /** Confirmed tracks below this existence probability are not published by writeTracks. */
  publishMinExistence: number;
  /** Coasting limits: time since the last hit after which a track is deleted. */
  maxCoastConfirmedS: number;
  maxCoastTentativeS: number;
  /** Tracks whose position standard deviation exceeds this are deleted. */
  maxPositionStd: number;
  /** Tracks farther than this from the ego are deleted. */
  maxTrackRange: number;

  /** A measurement inside an existing track's box grown by this margin does not start a track. */
  spawnBoxMargin: number;
  /**
   * Two tracks with similar velocity are merged when one's centre lies within the other's box
   * grown by this margin, unless the camera gave them different classes.
   */
  mergeDistance: number;
  mergeSpeedDifference: number;

  /** Velocity prior of a new track along and across the road (the ego's heading), 1σ, m/s. */
  initialVelocityStd: number;
  initialLateralVelocityStd: number;
  initialAccelStd: number;
  initialYawRateStd: number;

  /** Measurements before the first ego record are dropped (no pose to place them in odom). */
  requireEgo: boolean;
  /** Ego pose is extrapolated at most this far past the newest odometry record. */
  maxEgoExtrapolationS: number;

  lidar: Partial<LidarClustererConfig>;
}

export const DEFAULT_TRACKER_CONFIG: Readonly<TrackerConfig> = {
  maxTracks: 256,
  jerkPsd: 3,
  lateralJerkPsd: 1,
  positionNoisePsd: 0.05,
  maxAccel: 12,
  cvAccelPsd: 1,
  yawAccelPsd: 0.005,
  maxYawRate: 1,
  maxLateralAccel: 10,
  headingPsdVehicle: 0.01,
  headingPsdOther: 0.5,

  radarRangeStd: 0.15,
  radarAzimuthStd: 0.3 * (Math.PI / 180),
  radarRangeRateStd: 0.1,
  radarWideFovDeg: 30,
  radarWideRangeStd: 0.2,
  radarWideAzimuthStd: 1.0 * (Math.PI / 180),
  radarWideRangeRateStd: 0.15,
  radarNoiseById: {},
  radarMultiDetection: true,
  radarReferenceStd: 0.3,
  radarMinRcsDbsm: -25,
  radarCarRcsDbsm: 0,

  cameraBearingStd: 0.15 * (Math.PI / 180),
  cameraBearingRelStd: 0.02,
  cameraRangeRelStd: 0.1,
  cameraRangeMinStd: 0.5,
  cameraMinConfidence: 0.3,

  lidarPositionStd: 0.15,
  lidarReliableRangePerMetre: 60,
  lidarMinObjectHeight: 0.5,

  radarReference: 'visible-faces',
  cameraRangeReference: 'nearest-surface',

  gateChi2Dim2: 11.83,
  gateChi2Dim3: 14.16,
  spawnExclusionGateFactor: 3,

  objectsPositionStd: 0.05,
  objectsPositionStdPerM: 0.005,
  objectsAlongRangeFactor: 1.5,
  objectsSizeStd: 0.03,
  objectsYawStd: 0.1,
  objectsSizeGain: 0.5,
  objectsLateralVelocityStd: 0,
  objectsScoreScale: 0.97,
  objectsScoreBias: -7.1,
  objectsScoreMemory: 0.5,
  objectsScoreRangeGain: 0.115,
  objectsScoreRangeCap: 70,
  objectsBirthMinProbability: 0.1,

  spawnFromRadar: true,
  spawnFromLidar: true,
  spawnFromCamera: false,
  spawnFromObjects: true,

  confirmHits: 3,
  confirmWindow: 5,
  confirmExistence: 0.95,

  initialExistence: 0.3,
  deleteExistence: 0.08,
  existenceHitGain: { radar: 0.2, lidar: 0.3, camera: 0.15, objects: 0.5 },
  existenceMissLoss: { radar: 0.06, lidar: 0.1, camera: 0.03, objects: 0.5 },

  lidarMissesToDelete: 8,
  publishMinExistence: 0.6,
  maxCoastConfirmedS: 1.0,
  maxCoastTentativeS: 0.3,
  maxPositionStd: 4,
  maxTrackRange: 250,

  spawnBoxMargin: 0.3,
  mergeDistance: 0.3,
  mergeSpeedDifference: 1.5,

  initialVelocityStd: 10,
  initialLateralVelocityStd: 3,
  initialAccelStd: 2,
  initialYawRateStd: 0.05,

  requireEgo: true,
  maxEgoExtrapolationS: 0.5,

  lidar: {},
};

/** Counters of the tracker; updated in place, never reallocated. */
export interface TrackerStats {
  egoRecords: number;
  /** Ego records that were older than the newest one, or held NaN. */
  egoDropped: number;
  lidarScans: number;
  radarScans: number;
  cameraFrames: number;
  objectLists: number;
  /** Measurements (clusters, detections, camera objects) that updated a track. */
  measurementsUsed: number;
  /** Records ignored for NaN/infinite or impossible values. */
  measurementsInvalid: number;
  /** Records ignored by a sensor filter (weak radar echo, low camera confidence, flat cluster). */
  measurementsFiltered: number;
  /** Unassigned measurements close to an existing track (e.g. a second radar echo of one car). */
  measurementsAbsorbed: number;
  /** Whole scans dropped because they were older than the tracker's time. */
  outOfSequenceDropped: number;
  /** Scans dropped because no ego odometry had been received yet. */
  noEgoDropped: number;
  /** Scans placed with an ego pose extrapolated beyond maxEgoExtrapolationS. */
  egoStale: number;
  clustersFound: number;
  tracksCreated: number;
  tracksConfirmed: number;
  tracksDeleted: number;
  tracksMerged: number;
  /** Spawns refused because the track table was full. */
  trackTableFull: number;
  /** Tracks alive / confirmed after the last scan. */
  activeTracks: number;
  confirmedTracks: number;
}

export function createTrackerStats(): TrackerStats {
  return {
    egoRecords: 0,
    egoDropped: 0,
    lidarScans: 0,
    radarScans: 0,
    cameraFrames: 0,
    objectLists: 0,
    measurementsUsed: 0,
    measurementsInvalid: 0,
    measurementsFiltered: 0,
    measurementsAbsorbed: 0,
    outOfSequenceDropped: 0,
    noEgoDropped: 0,
    egoStale: 0,
    clustersFound: 0,
    tracksCreated: 0,
    tracksConfirmed: 0,
    tracksDeleted: 0,
    tracksMerged: 0,
    trackTableFull: 0,
    activeTracks: 0,
    confirmedTracks: 0,
  };
}

/** The noise the tracker assumes for a radar with this id and field of view. */
export function radarNoiseFor(cfg: Readonly<TrackerConfig>, id: string, fovDeg: number): RadarNoise {
  const wide = fovDeg > cfg.radarWideFovDeg;
  const o = cfg.radarNoiseById[id] ?? {};
  return {
    rangeStd: o.rangeStd ?? (wide ? cfg.radarWideRangeStd : cfg.radarRangeStd),
    azimuthStd: o.azimuthStd ?? (wide ? cfg.radarWideAzimuthStd : cfg.radarAzimuthStd),
    rangeRateStd: o.rangeRateStd ?? (wide ? cfg.radarWideRangeRateStd : cfg.radarRangeRateStd),
  };
}

/** Sets every counter of `stats` back to zero, in place. */
export function clearTrackerStats(stats: TrackerStats): void {
  for (const key of Object.keys(stats) as (keyof TrackerStats)[]) stats[key] = 0;
}
