/**
 * Payload layouts of every message kind on the wire and in the pool.
 *
 * A payload is a packed array of fixed-size little-endian records. The header names the
 * layout (`fields`, `stride`, `count`) and ingest refuses any header whose fields or stride
 * differ from the table below, so every stage after ingest can view a payload as a typed
 * array without looking at the header again.
 *
 * Frames of reference (ISO 8855, right-handed): x forward, y left, z up; angles in radians,
 * counter-clockwise positive (a positive azimuth is to the left).
 */

/** Sensor kinds accepted on `sensor/<kind>/<sensorId>` topics. */
export const SENSOR_KINDS = ['lidar', 'radar', 'camera', 'objects', 'ego'] as const;
export type SensorKind = (typeof SENSOR_KINDS)[number];

/** Output kinds published on `out/<kind>` topics. */
export const OUTPUT_KINDS = ['tracks', 'plan'] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];

export type MessageKind = SensorKind | OutputKind;

export type ScalarType = 'f32' | 'f64';

export interface RecordLayout {
  /** Field names in record order; the header's `fields` must equal this list. */
  readonly fields: readonly string[];
  /** Bytes per record; the header's `stride` must equal this. */
  readonly stride: number;
  /** Element type of every field in the record. */
  readonly scalar: ScalarType;
  /** Frame the record's coordinates are expressed in (documentation and header `frame`). */
  readonly frame: 'sensor' | 'base_link' | 'odom';
}

/**
 * lidar: one point per record, in the lidar's own frame (extrinsics from calibration).
 * x, y, z in metres; intensity 0..1.
 */
export const LIDAR_LAYOUT: RecordLayout = {
  fields: ['x', 'y', 'z', 'intensity'],
  stride: 16,
  scalar: 'f32',
  frame: 'sensor',
};

/**
 * radar: one detection per record, polar in the radar's own frame.
 * range m; azimuth rad (+left); rangeRate m/s (+ receding); rcs dBsm.
 */
export const RADAR_LAYOUT: RecordLayout = {
  fields: ['range', 'azimuth', 'rangeRate', 'rcs'],
  stride: 16,
  scalar: 'f32',
  frame: 'sensor',
};

/**
 * camera: one object per record, as a smart-camera ECU reports it, in the camera's frame.
 * classId (see ObjectClass); confidence 0..1; u0,v0,u1,v1 box corners in pixels;
 * bearing rad (+left) of the box centre; range m (monocular estimate, coarse).
 */
export const CAMERA_LAYOUT: RecordLayout = {
  fields: ['classId', 'confidence', 'u0', 'v0', 'u1', 'v1', 'bearing', 'range'],
  stride: 32,
  scalar: 'f32',
  frame: 'sensor',
};

/**
 * objects: a 3D object list from a detector, one object per record, in the sensor's frame (the
 * header's `frame`; the sensor's mount places it in base_link). x, y, z m: box centre; length,
 * width, height m (>= 0; 0 = not estimated); yaw rad of the length axis; classId (ObjectClass);
 * score 0..1 (detection confidence); vx, vy m/s over ground, in sensor axes, valid when varV > 0;
 * varX, covXY, varY m²: centre covariance (all 0 = not given, the tracker's model applies);
 * varYaw rad² (0 = not given); varV (m/s)² per velocity component (0 = no velocity measured).
 */
export const OBJECTS_LAYOUT: RecordLayout = {
  fields: [
    'x',
    'y',
    'z',
    'length',
    'width',
    'height',
    'yaw',
    'classId',
    'score',
    'vx',
    'vy',
    'varX',
    'covXY',
    'varY',
    'varYaw',
    'varV',
  ],
  stride: 64,
  scalar: 'f32',
  frame: 'sensor',
};

/**
 * ego: one record of vehicle odometry. x, y m and yaw rad in the odom frame;
 * speed m/s (over ground, longitudinal); yawRate rad/s; accel m/s² (longitudinal).
 */
export const EGO_LAYOUT: RecordLayout = {
  fields: ['x', 'y', 'yaw', 'speed', 'yawRate', 'accel'],
  stride: 48,
  scalar: 'f64',
  frame: 'odom',
};

/**
 * tracks: one fused object per record in base_link at the header's stampNs.
 * id; classId; x, y, z m (box centre); vx, vy m/s over ground in base_link axes; ax, ay m/s²;
 * length, width, height m; yaw rad; yawRate rad/s; existence probability 0..1 (also the track's
 * score); sinceUpdate s since a measurement last updated the track (0 = updated at this stamp,
 * larger = coasting); the covariance in base_link axes: varX, covXY, varY m², varVx, covVxVy,
 * varVy (m/s)², varYaw rad².
 */
export const TRACKS_LAYOUT: RecordLayout = {
  fields: [
    'id',
    'classId',
    'x',
    'y',
    'z',
    'vx',
    'vy',
    'ax',
    'ay',
    'length',
    'width',
    'height',
    'yaw',
    'yawRate',
    'existence',
    'sinceUpdate',
    'varX',
    'covXY',
    'varY',
    'varVx',
    'covVxVy',
    'varVy',
    'varYaw',
  ],
  stride: 92,
  scalar: 'f32',
  frame: 'base_link',
};

/**
 * plan: the planned trajectory, one point per record in base_link at the header's stampNs.
 * t s from stampNs; x, y m; v m/s.
 */
export const PLAN_LAYOUT: RecordLayout = {
  fields: ['t', 'x', 'y', 'v'],
  stride: 16,
  scalar: 'f32',
  frame: 'base_link',
};

export const LAYOUTS: Readonly<Record<MessageKind, RecordLayout>> = {
  lidar: LIDAR_LAYOUT,
  radar: RADAR_LAYOUT,
  camera: CAMERA_LAYOUT,
  objects: OBJECTS_LAYOUT,
  ego: EGO_LAYOUT,
  tracks: TRACKS_LAYOUT,
  plan: PLAN_LAYOUT,
};

/** Object classes used by camera and detector object lists, tracks and ground truth. */
export const ObjectClass = {
  unknown: 0,
  car: 1,
  truck: 2,
  pedestrian: 3,
  cyclist: 4,
} as const;
export type ObjectClassName = keyof typeof ObjectClass;
/** Number of object classes: valid class ids are the integers 0 .. OBJECT_CLASS_COUNT - 1. */
export const OBJECT_CLASS_COUNT = 5;

/** Field offsets (in elements, not bytes) for code that indexes records directly. */
export const LIDAR = { x: 0, y: 1, z: 2, intensity: 3, stride: 4 } as const;
export const RADAR = { range: 0, azimuth: 1, rangeRate: 2, rcs: 3, stride: 4 } as const;
export const CAMERA = {
  classId: 0,
  confidence: 1,
  u0: 2,
  v0: 3,
  u1: 4,
  v1: 5,
  bearing: 6,
  range: 7,
  stride: 8,
} as const;
export const OBJECT = {
  x: 0,
  y: 1,
  z: 2,
  length: 3,
  width: 4,
  height: 5,
  yaw: 6,
  classId: 7,
  score: 8,
  vx: 9,
  vy: 10,
  varX: 11,
  covXY: 12,
  varY: 13,
  varYaw: 14,
  varV: 15,
  stride: 16,
} as const;
export const EGO = { x: 0, y: 1, yaw: 2, speed: 3, yawRate: 4, accel: 5, stride: 6 } as const;
export const TRACK = {
  id: 0,
  classId: 1,
  x: 2,
  y: 3,
  z: 4,
  vx: 5,
  vy: 6,
  ax: 7,
  ay: 8,
  length: 9,
  width: 10,
  height: 11,
  yaw: 12,
  yawRate: 13,
  existence: 14,
  sinceUpdate: 15,
  varX: 16,
  covXY: 17,
  varY: 18,
  varVx: 19,
  covVxVy: 20,
  varVy: 21,
  varYaw: 22,
  stride: 23,
} as const;
export const PLAN_POINT = { t: 0, x: 1, y: 2, v: 3, stride: 4 } as const;

/**
 * How far the tracker trusts each track: one record per TRACKS_LAYOUT record, in the same order.
 * Not published; the tracker hands it to the planner with the tracks (float32). age s since the
 * track was started; position (pxx, pxy, pyy, m²) and velocity (vxx, vxy, vyy, m²/s²) covariance
 * in base_link axes, at the track's last update; seenLength, seenWidth m: the box extents the
 * lidar has actually seen along the track's axes (0 = never seen; the published box fills what
 * was not seen with the class's typical size).
 */
export const TRACK_QUALITY = {
  age: 0,
  pxx: 1,
  pxy: 2,
  pyy: 3,
  vxx: 4,
  vxy: 5,
  vyy: 6,
  seenLength: 7,
  seenWidth: 8,
  stride: 9,
} as const;

/**
 * Plan decisions, in increasing order of severity. `none`: no plan this cycle (the plan's
 * `reason` says why, e.g. implausible ego odometry).
 */
export const PLAN_DECISIONS = ['none', 'cruise', 'follow', 'brake', 'aeb'] as const;
export type PlanDecision = (typeof PLAN_DECISIONS)[number];

/** AEB stages, in order (index = stage number): none, forward collision warning, partial, full braking. */
export const AEB_STAGES = ['none', 'warning', 'partial', 'full'] as const;
export type AebStageName = (typeof AEB_STAGES)[number];

/**
 * Why the plan is what it is (the plan header's `reason`), most severe cause first:
 * - `ego_invalid`: no plan: the ego odometry is missing or implausible (non-finite, speed or yaw
 *   rate out of range) and no plausible record is recent enough;
 * - `ego_stale`: planned on the last plausible odometry record, the current one being implausible;
 * - `aeb_hold`: AEB keeps braking through a brief loss of its threat, or down to standstill;
 * - `aeb_required_decel`: AEB brakes because avoiding needs more than the stage before gives;
 * - `aeb_ttc`: AEB brakes because the time to collision fell below the stage's threshold;
 * - `aeb_warning`: forward collision warning (the command is ACC's, or 0 with ACC off);
 * - `lead_stopped`: ACC brakes for a lead standing still;
 * - `lead_entering`: ACC follows an object predicted to enter the lane (cut-in, crossing);
 * - `lead`: ACC follows the lead in the lane;
 * - `set_speed`: no lead: ACC holds or approaches the set speed;
 * - `acc_off`: ACC is off and AEB does not brake: the command is 0 (the driver drives).
 */
export const PLAN_REASONS = [
  'ego_invalid',
  'ego_stale',
  'aeb_hold',
  'aeb_required_decel',
  'aeb_ttc',
  'aeb_warning',
  'lead_stopped',
  'lead_entering',
  'lead',
  'set_speed',
  'acc_off',
] as const;
export type PlanReason = (typeof PLAN_REASONS)[number];
