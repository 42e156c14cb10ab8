/**
 * Stage parameters (`spec.stages[].params`): the tuning of the tracker, lidar extraction and the
 * planner as fields of their stage, so that two versions of a stage (a TrafficSplit's backends)
 * can differ by them. Each table gives a parameter's range, unit and meaning; its default lives
 * with the algorithm (src/fusion/tracker-config.ts DEFAULT_TRACKER_CONFIG,
 * src/fusion/lidar-clusterer.ts DEFAULT_LIDAR_CLUSTERER_CONFIG, PLANNING_PARAMS for the planner),
 * which this layer may not import; a test checks every default lies in its range here.
 */
import {
  bool,
  int,
  num,
  obj,
  opt,
  str,
  validate,
  type FieldSchema,
  type Schema,
} from '../../schema/schema.js';
import { PLANNING_PARAMS, type PlanningParam } from './planning-params.js';

/** One tunable parameter: its kind and range, unit and meaning. */
export interface StageParam {
  kind: 'number' | 'integer' | 'boolean' | 'reference' | 'per-sensor-kind';
  min?: number;
  max?: number;
  unit?: string;
  doc: string;
  /** False: changing it needs a restart (it sizes memory). Default true. */
  live?: boolean;
}

const n = (min: number, max: number, unit: string | undefined, doc: string): StageParam => ({
  kind: 'number',
  min,
  max,
  unit,
  doc,
});
const b = (doc: string): StageParam => ({ kind: 'boolean', doc });

/** What a measurement's position refers to (src/fusion/tracker-config.ts MeasurementReference). */
export const MEASUREMENT_REFERENCES = ['visible-faces', 'nearest-surface', 'center'] as const;

/** Tracker parameters (src/fusion/tracker-config.ts TrackerConfig; spec.fusion.maxTracks sizes its table). */
export const TRACKER_PARAMS: Readonly<Record<string, StageParam>> = {
  jerkPsd: n(0, 1000, 'm²/s⁵', 'white-noise jerk of the constant-acceleration model, along the heading'),
  lateralJerkPsd: n(0, 1000, 'm²/s⁵', 'jerk across the heading of moving objects (lane changes, curves)'),
  positionNoisePsd: n(0, 100, 'm²/s', 'random walk of the tracked reference point on the object'),
  maxAccel: n(0, 50, 'm/s²', 'acceleration estimates are clamped to this'),
  cvAccelPsd: n(0, 1000, 'm²/s³', 'acceleration noise of the constant-velocity model (pedestrians)'),
  yawAccelPsd: n(0, 100, 'rad²/s³', 'yaw acceleration noise of the turn model (vehicles)'),
  maxYawRate: n(0, 10, 'rad/s', 'yaw-rate estimates are bounded by this'),
  maxLateralAccel: n(0, 50, 'm/s²', '…and by this over the speed'),
  headingPsdVehicle: n(0, 100, 'rad²/s', 'random walk of a vehicle box heading'),
  headingPsdOther: n(0, 100, 'rad²/s', 'random walk of other box headings'),
  radarRangeStd: n(0, 10, 'm', 'narrow radar range noise, 1σ'),
  radarAzimuthStd: n(0, 1, 'rad', 'narrow radar azimuth noise, 1σ'),
  radarRangeRateStd: n(0, 10, 'm/s', 'narrow radar range-rate noise, 1σ'),
  radarWideFovDeg: n(0, 360, '°', 'radars with a wider field of view use the wide noise'),
  radarWideRangeStd: n(0, 10, 'm', 'wide radar range noise, 1σ'),
  radarWideAzimuthStd: n(0, 1, 'rad', 'wide radar azimuth noise, 1σ'),
  radarWideRangeRateStd: n(0, 10, 'm/s', 'wide radar range-rate noise, 1σ'),
  radarMultiDetection: b('use every radar detection inside a track gate, not only the assigned one'),
  radarReferenceStd: n(0, 10, 'm', 'error of the face model radar returns are placed on, 1σ'),
  radarMinRcsDbsm: n(-100, 100, 'dBsm', 'weaker radar detections are ignored (clutter)'),
  radarCarRcsDbsm: n(-100, 100, 'dBsm', 'radar-spawned tracks at or above this start with car dimensions'),
  cameraBearingStd: n(0, 1, 'rad', 'camera bearing noise floor, 1σ'),
  cameraBearingRelStd: n(0, 1, undefined, 'camera bearing noise per radian of box width'),
  cameraRangeRelStd: n(0, 1, undefined, 'monocular range noise as a fraction of range'),
  cameraRangeMinStd: n(0, 100, 'm', 'monocular range noise floor'),
  cameraMinConfidence: n(0, 1, undefined, 'camera objects less confident than this are ignored'),
  lidarPositionStd: n(0, 10, 'm', 'lidar box centre noise per axis, 1σ'),
  lidarReliableRangePerMetre: n(
    0,
    1000,
    'm/m',
    'the lidar must see an object out to this per metre of its size',
  ),
  lidarMinObjectHeight: n(0, 10, 'm', 'lower lidar clusters (curbs, debris) are not used'),
  radarReference: { kind: 'reference', doc: 'what a radar detection refers to on the box' },
  cameraRangeReference: { kind: 'reference', doc: 'what a camera range refers to on the box' },
  gateChi2Dim2: n(0, 1000, undefined, 'chi-square gate of 2-dimensional measurements'),
  gateChi2Dim3: n(0, 1000, undefined, 'chi-square gate of 3-dimensional measurements'),
  spawnExclusionGateFactor: n(0, 100, undefined, 'no new track this close (gate × factor) to a track'),
  objectsPositionStd: n(0, 10, 'm', 'object-list centre noise floor across the line of sight, 1σ'),
  objectsPositionStdPerM: n(0, 1, 'm/m', '…plus this per metre of range'),
  objectsAlongRangeFactor: n(0, 100, undefined, 'along the line of sight: this times that'),
  objectsSizeStd: n(0, 1, 'm/m', 'centre noise per metre of box length'),
  objectsYawStd: n(0, 10, 'rad', 'box heading noise when a record gives none, 1σ'),
  objectsSizeGain: n(0, 1, undefined, 'fraction of the gap to a measured box size closed per update'),
  objectsLateralVelocityStd: n(0, 100, 'm/s', 'pull of the sideways velocity to 0, 1σ (0 = off)'),
  objectsScoreScale: n(-100, 100, undefined, 'detection score calibration: scale of logit(score)'),
  objectsScoreBias: n(-100, 100, undefined, 'detection score calibration: bias'),
  objectsScoreMemory: n(0, 1, undefined, 'weight of a new score in the track score average'),
  objectsScoreRangeGain: n(-10, 10, '1/m', 'calibration range term per metre'),
  objectsScoreRangeCap: n(0, 1000, 'm', 'range term capped at this range'),
  objectsBirthMinProbability: n(0, 1, undefined, 'less likely detections update tracks but start none'),
  spawnFromRadar: b('radar detections may start tracks'),
  spawnFromLidar: b('lidar boxes may start tracks'),
  spawnFromCamera: b('camera objects may start tracks'),
  spawnFromObjects: b('object-list records may start tracks'),
  confirmHits: { kind: 'integer', min: 1, max: 32, doc: 'M of M-of-N confirmation' },
  confirmWindow: { kind: 'integer', min: 1, max: 32, doc: 'N of M-of-N confirmation (scans)' },
  confirmExistence: n(0, 1, undefined, 'a tentative track this likely is confirmed at once'),
  initialExistence: n(0, 1, undefined, 'existence probability of a new track'),
  deleteExistence: n(0, 1, undefined, 'confirmed tracks below this existence are deleted'),
  existenceHitGain: {
    kind: 'per-sensor-kind',
    min: 0,
    max: 1,
    doc: 'existence gain on a hit, per sensor kind',
  },
  existenceMissLoss: {
    kind: 'per-sensor-kind',
    min: 0,
    max: 1,
    doc: 'existence loss on a miss, per sensor kind',
  },
  lidarMissesToDelete: {
    kind: 'integer',
    min: 0,
    max: 1000,
    doc: 'delete after this many lidar misses in a row (0 = off)',
  },
  publishMinExistence: n(0, 1, undefined, 'confirmed tracks below this existence are not published'),
  maxCoastConfirmedS: n(0, 60, 's', 'a confirmed track without a hit this long is deleted'),
  maxCoastTentativeS: n(0, 60, 's', 'a tentative track without a hit this long is deleted'),
  maxPositionStd: n(0, 1000, 'm', 'tracks less certain than this are deleted'),
  maxTrackRange: n(0, 10_000, 'm', 'tracks farther than this from the ego are deleted'),
  spawnBoxMargin: n(0, 100, 'm', 'no new track inside an existing box grown by this'),
  mergeDistance: n(0, 100, 'm', 'tracks this close (box margin) with similar velocity merge'),
  mergeSpeedDifference: n(0, 100, 'm/s', '…when their speeds differ by less than this'),
  initialVelocityStd: n(0, 1000, 'm/s', 'velocity prior of a new track along the road, 1σ'),
  initialLateralVelocityStd: n(0, 1000, 'm/s', 'velocity prior across the road, 1σ'),
  initialAccelStd: n(0, 1000, 'm/s²', 'acceleration prior, 1σ'),
  initialYawRateStd: n(0, 100, 'rad/s', 'yaw-rate prior, 1σ'),
  requireEgo: b('measurements before the first odometry record are dropped'),
  maxEgoExtrapolationS: n(0, 10, 's', 'ego pose extrapolated at most this far past odometry'),
};

/** Lidar extraction parameters (src/fusion/lidar-clusterer.ts LidarClustererConfig). */
export const LIDAR_EXTRACTION_PARAMS: Readonly<Record<string, StageParam>> = {
  cellSizeM: { ...n(0.05, 5, 'm', 'occupancy grid cell size'), live: false },
  gridHalfExtentM: { ...n(1, 500, 'm', 'the grid covers ± this around base_link'), live: false },
  groundCellSizeM: { ...n(0.1, 50, 'm', 'cell of the coarse ground-height grid'), live: false },
  groundToleranceM: n(0, 5, 'm', 'points less than this above the local ground are ground'),
  maxGroundGrade: n(0, 1, 'm/m', 'how steeply the local ground may rise or fall'),
  maxObstacleHeightM: n(0, 50, 'm', 'points higher above ground are ignored (bridges, branches)'),
  egoXMinM: n(-50, 50, 'm', 'ego footprint rear, base_link x'),
  egoXMaxM: n(-50, 50, 'm', 'ego footprint front, base_link x'),
  egoHalfWidthM: n(0, 10, 'm', 'ego footprint half width'),
  connectRadiusCells: { kind: 'integer', min: 0, max: 20, doc: 'cells this close join one cluster' },
  connectGapPerMetre: n(0, 1, 'm/m', 'expected gap between returns per metre of range'),
  maxConnectRadiusCells: { kind: 'integer', min: 0, max: 50, doc: 'largest connection radius, cells' },
  minClusterPoints: { kind: 'integer', min: 1, max: 100_000, doc: 'smaller clusters are dropped' },
  minClusterHeightM: n(0, 10, 'm', 'flatter clusters are dropped (curbs, debris)'),
  maxClusterLengthM: n(0, 500, 'm', 'longer clusters are dropped (walls, guard rails)'),
  orientationStepDeg: n(0.1, 90, '°', 'step of the box fit orientation search'),
};

/** Planner parameters: the same table as spec.planning (a stage's params override it). */
export const PLANNER_PARAMS: Readonly<Record<string, StageParam>> = Object.fromEntries(
  Object.entries(PLANNING_PARAMS as Record<string, PlanningParam>).map(([k, p]) => [
    k,
    typeof p.default === 'boolean'
      ? b(p.doc)
      : { kind: 'number' as const, min: p.min, max: p.max, unit: p.unit, doc: p.doc },
  ]),
);

/** The parameter table of a stage type; undefined for types without parameters. */
export function paramsOf(type: string): Readonly<Record<string, StageParam>> | undefined {
  if (type === 'tracker') return TRACKER_PARAMS;
  if (type === 'lidar-extraction') return LIDAR_EXTRACTION_PARAMS;
  if (type === 'planner') return PLANNER_PARAMS;
  return undefined;
}

function docOf(p: StageParam): string {
  return p.unit ? `${p.doc} (${p.unit})` : p.doc;
}

function fieldOf(p: StageParam): FieldSchema {
  const range = { min: p.min, max: p.max };
  let schema: Schema;
  switch (p.kind) {
    case 'number':
      schema = num(range);
      break;
    case 'integer':
      schema = int(range);
      break;
    case 'boolean':
      schema = bool();
      break;
    case 'reference':
      schema = str({ enum: MEASUREMENT_REFERENCES });
      break;
    case 'per-sensor-kind':
      schema = obj(
        Object.fromEntries(['radar', 'lidar', 'camera', 'objects'].map((k) => [k, opt(num(range))])),
      );
      break;
  }
  return { ...opt(schema), doc: docOf(p) };
}

const schemas = new Map<string, Schema>();

/** Schema of `params` for a stage type (every field optional, no defaults filled in). */
export function paramsSchemaOf(type: string): Schema | undefined {
  const table = paramsOf(type);
  if (!table) return undefined;
  let schema = schemas.get(type);
  if (!schema) {
    schema = obj(Object.fromEntries(Object.entries(table).map(([k, p]) => [k, fieldOf(p)])));
    schemas.set(type, schema);
  }
  return schema;
}

/** Issues of a stage's `params` (at `path`) against its type's table. */
export function stageParamIssues(
  type: string,
  params: unknown,
  path: string,
): { path: string; message: string }[] {
  const schema = paramsSchemaOf(type);
  const empty = typeof params === 'object' && params !== null && Object.keys(params).length === 0;
  if (!schema && empty) return [];
  if (!schema) {
    return [
      {
        path,
        message: `a '${type}' stage has no parameters; stages with parameters: tracker, lidar-extraction, planner`,
      },
    ];
  }
  return validate(params, schema, path);
}

/** Parameters among `changed` that a running stage cannot take without a restart. */
export function restartParams(type: string, changed: readonly string[]): string[] {
  const table = paramsOf(type) ?? {};
  return changed.filter((k) => table[k]?.live === false);
}
