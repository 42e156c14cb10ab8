import { SENSOR_KINDS, type SensorKind } from '../../wire/layouts.js';
import { SENSOR_ID_PATTERN } from '../../wire/codec.js';
import { DEFAULT_RIG, type SensorConfig } from '../../wire/rig.js';
import { arr, bool, int, num, obj, opt, req, str, type Schema } from '../../schema/schema.js';
import {
  BOXES_SUFFIX,
  STAGE_SCHEMA,
  boxesChannelOf,
  threadWarnings,
  resolveStages,
  type RawStage,
  type StageSpec,
} from './stage-spec.js';
import {
  SCHEDULER_SCHEMA,
  resolveScheduler,
  type RawScheduler,
  type SchedulerSpec,
} from './scheduler-spec.js';
import { availableParallelism } from 'node:os';
import {
  FileValidationError,
  parseYamlDocuments,
  readTextFile,
  validateDocument,
  type FileIssue,
} from '../../schema/yaml-file.js';

export const API_VERSION = 'smi-fusion.dev/v1alpha1';
export const ACCESS_PATTERNS = ['sequential', 'latest'] as const;
export type AccessPattern = (typeof ACCESS_PATTERNS)[number];

/**
 * Who writes a channel: `ingest` (the service, from its sources) or `external` (a C/C++ driver
 * publishing straight into the shared-memory pool with native/include/smi_pool.h).
 */
export const CHANNEL_PRODUCERS = ['ingest', 'external'] as const;
export type ChannelProducer = (typeof CHANNEL_PRODUCERS)[number];

/** What a full channel does with a new message (see native/LAYOUT.md, "Full channel"). */
export const FULL_POLICIES = ['drop-oldest', 'drop-newest'] as const;
export type FullPolicy = (typeof FULL_POLICIES)[number];

export interface ChannelSpec {
  producer: ChannelProducer;
  slots: number;
  slotBytes: number;
  access: AccessPattern;
  /** Default drop-oldest: a fresh frame is worth more than a stale one. */
  whenFull: FullPolicy;
}

/** Kinds of channel: a sensor's, or one a stage derives (lidar boxes). */
export type ChannelKind = SensorKind | 'boxes';

export interface ZmqSourceSpec {
  type: 'zmq';
  /** ZeroMQ endpoints the SUB socket connects to (or binds, with `bind: true`). */
  endpoints: string[];
  bind: boolean;
}

export interface SimulatorSourceSpec {
  type: 'simulator';
  /** A scenario name under fixtures/scenarios, or a path to a scenario file. */
  scenario: string;
  /** Start the scenario again when it ends. */
  loop: boolean;
  /** Feed the plan's acceleration back into the simulated ego. */
  closedLoop: boolean;
  seed?: number;
}

export type SourceSpec = ZmqSourceSpec | SimulatorSourceSpec;

export const POOL_IMPLEMENTATIONS = ['auto', 'native', 'js'] as const;

/** Where the pool lives (see src/pool and native/LAYOUT.md). */
export interface PoolSpec {
  /** POSIX shared-memory name a C/C++ driver opens; default `/smi-fusion-<metadata.name>`. */
  segment: string;
  /**
   * `native`: shm segment driven by the C ring (start fails without the addon); `js`: pure-JS
   * ring over an in-process SharedArrayBuffer; `auto` (default): native, else js, said at start-up.
   */
  implementation: (typeof POOL_IMPLEMENTATIONS)[number];
}

export interface PipelineSpec {
  name: string;
  /** File the spec came from, or `(built-in)`. */
  origin: string;
  sources: SourceSpec[];
  sensors: SensorConfig[];
  /** Channel geometry per sensor id (one channel per sensor). */
  channels: Record<string, ChannelSpec>;
  /**
   * Channels a stage writes (lidar boxes), after the sensors' in pool order: sensor i is channel
   * i, derived channel j is channel sensors.length + j.
   */
  derivedChannels: { name: string; kind: 'boxes'; source: string }[];
  ingest: { maxFutureMs: number; maxAgeMs: number };
  fusion: { maxTracks: number };
  planning: PlanningSpec;
  outputs: {
    publish: string;
    metrics: { host: string; port: number; enabled: boolean };
    /** Foxglove live view (WebSocket server); undefined = off (the default). */
    foxglove?: { host: string; port: number; sendBufferBytes: number };
  };
  stages: StageSpec[];
  scheduler: SchedulerSpec;
  pool: PoolSpec;
  /** Problems that do not stop the pipeline (e.g. more dedicated threads than cores). */
  warnings: { path: string; message: string; line?: number }[];
}

/** Pool channel names in pool order: the sensors', then the derived ones. */
export function channelNames(spec: Pick<PipelineSpec, 'sensors' | 'derivedChannels'>): string[] {
  return [...spec.sensors.map((s) => s.id), ...spec.derivedChannels.map((d) => d.name)];
}

/**
 * Channel defaults: slots cover at least `COVER_MS` of the sensor's rate plus two in flight (a
 * sequential consumer may fall that far behind before the oldest is dropped), rounded up to a
 * power of two and at least the kind's minimum.
 */
const COVER_MS = 500;
const KIND_CHANNEL: Readonly<
  Record<ChannelKind, { minSlots: number; slotBytes: number; access: AccessPattern }>
> = {
  lidar: { minSlots: 8, slotBytes: 4 * 1024 * 1024, access: 'sequential' },
  radar: { minSlots: 16, slotBytes: 64 * 1024, access: 'sequential' },
  camera: { minSlots: 16, slotBytes: 64 * 1024, access: 'sequential' },
  objects: { minSlots: 16, slotBytes: 64 * 1024, access: 'sequential' },
  ego: { minSlots: 32, slotBytes: 64, access: 'sequential' },
  boxes: { minSlots: 8, slotBytes: 32 * 1024, access: 'sequential' },
};

/** The default channel of a kind at a rate (Hz); see COVER_MS. */
export function defaultChannel(kind: ChannelKind, rateHz: number): ChannelSpec {
  const k = KIND_CHANNEL[kind];
  let slots = k.minSlots;
  const need = Math.ceil((rateHz * COVER_MS) / 1000) + 2;
  while (slots < need && slots < 4096) slots *= 2;
  return { slots, slotBytes: k.slotBytes, access: k.access, producer: 'ingest', whenFull: 'drop-oldest' };
}

/**
 * Planner parameters (`spec.planning`): name → default, allowed range, unit and meaning. The
 * planner (src/planning) takes its configuration from here; README's planning table lists the
 * same. Distances along the path are from the ego's front bumper unless said otherwise.
 */
export const PLANNING_PARAMS = {
  accEnabled: {
    default: true,
    doc: 'ACC controls the speed; false = AEB only (the driver drives; NCAP tests AEB so)',
  },
  cruiseSpeedMps: { default: 27.8, min: 0, max: 70, unit: 'm/s', doc: 'ACC set speed' },
  timeGapS: {
    default: 1.8,
    min: 0.8,
    max: 4,
    unit: 's',
    doc: 'ACC time gap to the lead: the desired gap is standstillGapM + timeGapS × the lead’s speed',
  },
  standstillGapM: {
    default: 4,
    min: 1,
    max: 20,
    unit: 'm',
    doc: 'ACC gap to the lead at standstill (bumper to bumper)',
  },
  accMaxAccel: { default: 2, min: 0, max: 4, unit: 'm/s²', doc: 'ACC acceleration limit' },
  accMaxDecel: {
    default: 3.5,
    min: 0.5,
    max: 5,
    unit: 'm/s²',
    doc: 'ACC deceleration limit (harder braking is AEB’s)',
  },
  accApproachDecel: {
    default: 2,
    min: 0.5,
    max: 5,
    unit: 'm/s²',
    doc: 'ACC closes in on a slower lead braking at about this: far from the desired gap it allows at most the closing speed from which braking at this ends at the gap',
  },

  accOpeningSpeedMps: {
    default: 1.5,
    min: 0.1,
    max: 10,
    unit: 'm/s',
    doc: 'closer than the desired gap, ACC falls back at no more than this relative speed (no hard braking for a gap that is short but not closing)',
  },
  accJerkMax: {
    default: 2.5,
    min: 0.5,
    max: 20,
    unit: 'm/s³',
    doc: 'limit on the rate of change of the command outside AEB braking (ISO 15622 comfort)',
  },
  gapGain: {
    default: 0.6,
    min: 0,
    max: 5,
    unit: '1/s²',
    doc: 'ACC gain on the gap error (to standstill gap + time gap × lead speed)',
  },
  relativeSpeedGain: {
    default: 0.8,
    min: 0,
    max: 5,
    unit: '1/s',
    doc: 'ACC gain on the speed difference to the lead',
  },
  cruiseGain: { default: 0.5, min: 0, max: 5, unit: '1/s', doc: 'ACC gain on the set speed error' },
  standstillHoldDecel: {
    default: 1,
    min: 0,
    max: 5,
    unit: 'm/s²',
    doc: 'deceleration held at standstill behind a stopped lead',
  },
  brakeDecisionAccel: {
    default: -2,
    min: -10,
    max: 0,
    unit: 'm/s²',
    doc: 'ACC braking harder than this makes the decision `brake`',
  },
  leadStoppedSpeed: {
    default: 0.5,
    min: 0,
    max: 5,
    unit: 'm/s',
    doc: 'a lead slower than this is stopped (decision `brake`)',
  },
  leadDecelDeadband: {
    default: 1,
    min: 0,
    max: 5,
    unit: 'm/s²',
    doc: 'object decelerations weaker than this are treated as 0 (estimation noise)',
  },

  laneHalfWidthM: {
    default: 1.8,
    min: 0.5,
    max: 5,
    unit: 'm',
    doc: 'an object whose centre is this close to the predicted path is in the ego lane (ACC lead)',
  },
  corridorMarginM: {
    default: 0.2,
    min: 0,
    max: 2,
    unit: 'm',
    doc: 'added to the ego half width for the collision corridor (AEB)',
  },
  cutInHorizonS: {
    default: 3,
    min: 0,
    max: 10,
    unit: 's',
    doc: 'an object predicted to enter the lane within this becomes the lead',
  },
  cutInMinLateralSpeed: {
    default: 0.3,
    min: 0,
    max: 5,
    unit: 'm/s',
    doc: 'an object must move toward the lane at least this fast to count as entering it',
  },
  collisionHorizonS: {
    default: 4,
    min: 0.5,
    max: 10,
    unit: 's',
    doc: 'objects moving into the corridor are predicted (constant velocity) this far ahead',
  },

  minExistence: { default: 0.5, min: 0, max: 1, doc: 'tracks below this existence probability are ignored' },
  trustMinAgeS: {
    default: 0.5,
    min: 0,
    max: 5,
    unit: 's',
    doc: 'a track’s lateral velocity is used (cut-in, crossing) only for a classified road user and once its track is this old…; AEB reacts to a moving unclassified object only once its track is this old',
  },
  trustLateralSigmas: {
    default: 2.5,
    min: 0,
    max: 10,
    doc: '…and only when it exceeds this many standard deviations of its estimate (track covariance)',
  },
  lateralTrustNeedsLidar: {
    default: true,
    doc: 'a track’s lateral velocity is used only once the lidar has seen the object (camera range errors move camera-only tracks sideways); false for rigs without a lidar',
  },
  unclassifiedMinSpeedMps: {
    default: 3,
    min: 0,
    max: 20,
    unit: 'm/s',
    doc: 'an object the camera has not classified as a road user is an ACC lead or an AEB threat only when moving at least this fast (guard rails, signs and clutter are not braked for)',
  },
  minClosingSpeedMps: {
    default: 0.5,
    min: 0,
    max: 5,
    unit: 'm/s',
    doc: 'an object in the path is closing (has a TTC) only above this closing speed, or when it brakes',
  },
  maxCurvature: {
    default: 0.2,
    min: 0,
    max: 1,
    unit: '1/m',
    doc: 'path curvature (yaw rate / speed) is clamped to this',
  },
  minSpeedForCurvature: {
    default: 1,
    min: 0,
    max: 10,
    unit: 'm/s',
    doc: 'below this speed the path is straight',
  },

  maxEgoSpeedMps: {
    default: 70,
    min: 1,
    max: 150,
    unit: 'm/s',
    doc: 'odometry speed above this (or below -1) is implausible',
  },
  maxEgoYawRate: {
    default: 1.5,
    min: 0.1,
    max: 10,
    unit: 'rad/s',
    doc: 'odometry yaw rate beyond this is implausible',
  },
  egoTimeoutS: {
    default: 0.2,
    min: 0,
    max: 2,
    unit: 's',
    doc: 'with implausible odometry, plan on the last plausible record for at most this long (reason `ego_stale`), then publish no plan (`ego_invalid`)',
  },
  maxTrackRangeM: {
    default: 300,
    min: 10,
    max: 2000,
    unit: 'm',
    doc: 'tracks farther than this from the ego are implausible and ignored',
  },
  maxTrackSpeedMps: {
    default: 90,
    min: 1,
    max: 300,
    unit: 'm/s',
    doc: 'tracks faster than this are implausible and ignored',
  },

  ttcWarnS: {
    default: 2.6,
    min: 0.1,
    max: 10,
    unit: 's',
    doc: 'AEB: forward collision warning below this time to collision',
  },
  ttcPartialS: {
    default: 1.6,
    min: 0.1,
    max: 10,
    unit: 's',
    doc: 'AEB: partial braking below this time to collision',
  },
  ttcFullS: {
    default: 0.9,
    min: 0.1,
    max: 10,
    unit: 's',
    doc: 'AEB: full braking below this time to collision',
  },
  partialBrakeAccel: { default: -4, min: -15, max: -0.5, unit: 'm/s²', doc: 'AEB partial braking command' },
  fullBrakeAccel: {
    default: -9,
    min: -15,
    max: -0.5,
    unit: 'm/s²',
    doc: 'AEB full braking command (the most negative command there is)',
  },
  partialBrakeRequiredDecel: {
    default: 4,
    min: 0,
    max: 15,
    unit: 'm/s²',
    doc: 'after the warning, partial braking starts once avoiding needs more deceleration than this',
  },
  fullBrakeRequiredDecel: {
    default: 5,
    min: 0,
    max: 15,
    unit: 'm/s²',
    doc: 'during partial braking, full braking starts once avoiding needs more deceleration than this',
  },
  aebMinSpeed: { default: 1, min: 0, max: 20, unit: 'm/s', doc: 'AEB activates only above this ego speed' },
  aebMinExistence: { default: 0.8, min: 0, max: 1, doc: 'AEB reacts only to tracks at least this certain' },
  aebJerkMax: {
    default: 30,
    min: 1,
    max: 200,
    unit: 'm/s³',
    doc: 'limit on the rate of change of the command while AEB brakes (brake build-up)',
  },
  aebHoldS: {
    default: 0.5,
    min: 0,
    max: 3,
    unit: 's',
    doc: 'AEB keeps braking this long after its threat is lost (a missed detection, a track restarted)',
  },

  egoFrontM: {
    default: 3.7,
    min: 0,
    max: 20,
    unit: 'm',
    doc: 'ego front bumper ahead of base_link (rear axle centre)',
  },
  egoRearM: { default: 1, min: 0, max: 20, unit: 'm', doc: 'ego rear bumper behind base_link' },
  egoHalfWidthM: { default: 0.95, min: 0.3, max: 2, unit: 'm', doc: 'half the ego width' },

  trajectoryHorizonS: { default: 3, min: 0, max: 10, unit: 's', doc: 'planned trajectory horizon' },
  trajectoryStepS: { default: 0.1, min: 0.01, max: 1, unit: 's', doc: 'planned trajectory step' },
} as const;

/** One planner parameter's entry in PLANNING_PARAMS. */
export interface PlanningParam {
  default: number | boolean;
  min?: number;
  max?: number;
  unit?: string;
  doc: string;
}

/** The planner's configuration, every field of PLANNING_PARAMS (see there for units and meaning). */
export type PlanningSpec = {
  -readonly [K in keyof typeof PLANNING_PARAMS]: (typeof PLANNING_PARAMS)[K]['default'] extends boolean
    ? boolean
    : number;
};

/** spec.planning when the spec says nothing. */
export const DEFAULT_PLANNING: Readonly<PlanningSpec> = Object.freeze(
  Object.fromEntries(Object.entries(PLANNING_PARAMS).map(([k, p]) => [k, p.default])) as PlanningSpec,
);

const planningSchema = obj(
  Object.fromEntries(
    Object.entries(PLANNING_PARAMS as Record<string, PlanningParam>).map(([k, p]) => [
      k,
      opt(typeof p.default === 'boolean' ? bool() : num({ min: p.min, max: p.max })),
    ]),
  ),
);

/** Relations between planning parameters that the per-field ranges cannot say; each names its path. */
export function planningIssues(p: Readonly<PlanningSpec>): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  const at = 'spec.planning';
  if (!(p.ttcFullS < p.ttcPartialS && p.ttcPartialS < p.ttcWarnS)) {
    issues.push({
      path: `${at}.ttcPartialS`,
      message: `need ttcFullS (${p.ttcFullS}) < ttcPartialS (${p.ttcPartialS}) < ttcWarnS (${p.ttcWarnS})`,
    });
  }
  if (!(p.fullBrakeAccel <= p.partialBrakeAccel)) {
    issues.push({
      path: `${at}.fullBrakeAccel`,
      message: `full braking (${p.fullBrakeAccel}) must be at least as hard as partial braking (${p.partialBrakeAccel})`,
    });
  }
  if (!(-p.accMaxDecel >= p.fullBrakeAccel)) {
    issues.push({
      path: `${at}.accMaxDecel`,
      message: `ACC braking (${p.accMaxDecel}) must not exceed AEB full braking (${-p.fullBrakeAccel})`,
    });
  }
  if (!(p.trajectoryStepS <= p.trajectoryHorizonS || p.trajectoryHorizonS === 0)) {
    issues.push({
      path: `${at}.trajectoryStepS`,
      message: `step ${p.trajectoryStepS} s is longer than the horizon ${p.trajectoryHorizonS} s`,
    });
  }
  return issues;
}

const endpoint = str({
  pattern: /^(tcp:\/\/[^\s]+:(\d+|\*)|ipc:\/\/[^\s]+|inproc:\/\/[^\s]+)$/,
  patternDoc: 'a ZeroMQ endpoint such as tcp://127.0.0.1:5555 or ipc:///tmp/smi.sock',
});
const sensorId = str({ pattern: SENSOR_ID_PATTERN, patternDoc: 'letters, digits, _ or -, 1-64 characters' });

const channelSchema = obj({
  slots: opt(int({ min: 1, max: 4096 })),
  slotBytes: opt(int({ min: 64, max: 256 * 1024 * 1024 })),
  access: opt(str({ enum: ACCESS_PATTERNS })),
  producer: opt(str({ enum: CHANNEL_PRODUCERS })),
  whenFull: opt(str({ enum: FULL_POLICIES })),
});

const sourceSchema = obj({
  type: req(str({ enum: ['zmq', 'simulator'] })),
  endpoints: opt(arr(endpoint, { minItems: 1 })),
  bind: opt(bool()),
  scenario: opt(str()),
  loop: opt(bool()),
  closedLoop: opt(bool()),
  seed: opt(int({ min: 0, max: 2 ** 32 - 1 })),
});

const sensorSchema = obj({
  id: req(sensorId),
  kind: req(str({ enum: SENSOR_KINDS })),
  rateHz: req(num({ min: 0, exclusiveMin: true, max: 10_000 })),
  mount: opt(
    obj({
      x: opt(num(), 0),
      y: opt(num(), 0),
      z: opt(num(), 0),
      yawDeg: opt(num({ min: -360, max: 360 }), 0),
    }),
    { x: 0, y: 0, z: 0, yawDeg: 0 },
  ),
  fovDeg: opt(num({ min: 0, max: 360 }), 360),
  rangeM: opt(num({ min: 0 }), 200),
});

/** Schema of a `kind: Pipeline` document. */
export const PIPELINE_SCHEMA: Schema = obj({
  apiVersion: req(str({ enum: [API_VERSION] })),
  kind: req(str({ enum: ['Pipeline'] })),
  metadata: req(obj({ name: req(sensorId), labels: opt({ type: 'map', values: str() }) })),
  spec: req(
    obj({
      sources: opt(arr(sourceSchema, { minItems: 1 })),
      sensors: opt(arr(sensorSchema, { minItems: 1 })),
      channels: opt({
        type: 'map',
        values: channelSchema,
        keyPattern: /^[A-Za-z0-9_.-]{1,64}$/,
        keyDoc: 'a channel kind (lidar, radar, camera, ego, boxes), a sensor id or a derived channel',
      }),
      ingest: opt(obj({ maxFutureMs: opt(num({ min: 0 })), maxAgeMs: opt(num({ min: 1 })) })),
      fusion: opt(
        // triggers: accepted only to say where it went (crossCheck).
        obj({ triggers: opt(arr(str())), maxTracks: opt(int({ min: 1, max: 1024 })) }),
      ),
      planning: opt(planningSchema),
      outputs: opt(
        obj({
          publish: opt(endpoint),
          metrics: opt(
            obj({ host: opt(str()), port: opt(int({ min: 0, max: 65535 })), enabled: opt(bool()) }),
          ),
          foxglove: opt(
            obj({
              host: opt(str()),
              port: opt(int({ min: 0, max: 65535 })),
              enabled: opt(bool()),
              sendBufferMb: opt(num({ min: 0.0625, max: 1024 })),
            }),
          ),
        }),
      ),
      // budget: accepted only to say where it went (crossCheck).
      budget: opt(obj({ e2eMs: opt(num()) })),
      stages: opt(arr(STAGE_SCHEMA)),
      scheduler: opt(SCHEDULER_SCHEMA),
      pool: opt(
        obj({
          segment: opt(
            str({
              pattern: /^\/[A-Za-z0-9._-]{1,200}$/,
              patternDoc: "a POSIX shared-memory name: '/' then 1-200 letters, digits, '.', '_' or '-'",
            }),
          ),
          implementation: opt(str({ enum: POOL_IMPLEMENTATIONS })),
        }),
      ),
    }),
  ),
});

/** The spec `npm start` runs: the built-in rig driven by the simulator, outputs on loopback. */
export function defaultPipelineSpec(): PipelineSpec {
  const sensors = DEFAULT_RIG.map((s) => ({ ...s, mount: { ...s.mount } }));
  const scheduler = resolveScheduler(undefined, defaultTriggers(sensors));
  const derivedChannels = derivedChannelsFor(sensors, scheduler);
  const names = channelNames({ sensors, derivedChannels });
  return {
    name: 'onboard-sim',
    origin: '(built-in)',
    sources: [{ type: 'simulator', scenario: 'highway-following', loop: true, closedLoop: true }],
    sensors,
    channels: channelsFor(sensors, derivedChannels, {}),
    derivedChannels,
    ingest: { maxFutureMs: 50, maxAgeMs: 2000 },
    fusion: { maxTracks: 64 },
    planning: { ...DEFAULT_PLANNING },
    outputs: { publish: 'tcp://127.0.0.1:5560', metrics: { host: '127.0.0.1', port: 9464, enabled: true } },
    stages: resolveStages(undefined, sensors, names, scheduler.mode).stages,
    scheduler,
    pool: { segment: '/smi-fusion-onboard-sim', implementation: 'auto' },
    warnings: [],
  };
}

/**
 * `spec` with another rig: channels (by kind and rate, then `channelOverrides` by kind or id),
 * derived channels, default stages and the baseline's triggers all follow the new sensors. For
 * code that builds a pipeline from something other than a spec file (e.g. `import ros2`).
 */
export function withRig(
  spec: PipelineSpec,
  sensors: SensorConfig[],
  channelOverrides: Record<string, Partial<ChannelSpec>> = {},
): PipelineSpec {
  const scheduler = {
    ...spec.scheduler,
    triggerCycles: { ...spec.scheduler.triggerCycles, triggers: defaultTriggers(sensors) },
  };
  const derivedChannels = derivedChannelsFor(sensors, scheduler);
  const names = channelNames({ sensors, derivedChannels });
  return {
    ...spec,
    sensors,
    channels: channelsFor(sensors, derivedChannels, channelOverrides),
    derivedChannels,
    stages: resolveStages(undefined, sensors, names, scheduler.mode).stages,
    scheduler,
  };
}

/** Trigger-cycle baseline: cycles start at the front radar and the lidars by default. */
function defaultTriggers(sensors: readonly SensorConfig[]): string[] {
  const front = sensors.filter((s) => s.kind === 'lidar' || s.id === 'radar_front').map((s) => s.id);
  return front.length > 0 ? front : sensors.filter((s) => s.kind !== 'ego').map((s) => s.id);
}

/** The boxes channel of each lidar (not in trigger-cycles: that baseline clusters inside its cycles). */
function derivedChannelsFor(
  sensors: readonly SensorConfig[],
  scheduler: SchedulerSpec,
): PipelineSpec['derivedChannels'] {
  if (scheduler.mode === 'trigger-cycles') return [];
  return sensors
    .filter((s) => s.kind === 'lidar')
    .map((s) => ({ name: boxesChannelOf(s.id), kind: 'boxes' as const, source: s.id }));
}

function channelsFor(
  sensors: readonly SensorConfig[],
  derived: PipelineSpec['derivedChannels'],
  overrides: Record<string, Partial<ChannelSpec>>,
): Record<string, ChannelSpec> {
  const out: Record<string, ChannelSpec> = {};
  for (const s of sensors) {
    out[s.id] = { ...defaultChannel(s.kind, s.rateHz), ...overrides[s.kind], ...overrides[s.id] };
  }
  for (const d of derived) {
    const rate = sensors.find((s) => s.id === d.source)?.rateHz ?? 10;
    out[d.name] = { ...defaultChannel(d.kind, rate), ...overrides[d.kind], ...overrides[d.name] };
  }
  return out;
}

interface RawSensor {
  id: string;
  kind: SensorKind;
  rateHz: number;
  mount: { x: number; y: number; z: number; yawDeg: number };
  fovDeg: number;
  rangeM: number;
}

interface RawPipeline {
  metadata: { name: string };
  spec: {
    sources?: Array<Record<string, unknown>>;
    sensors?: RawSensor[];
    channels?: Record<string, Partial<ChannelSpec>>;
    ingest?: Partial<PipelineSpec['ingest']>;
    fusion?: Partial<PipelineSpec['fusion']> & { triggers?: string[] };
    planning?: Partial<PipelineSpec['planning']>;
    outputs?: {
      publish?: string;
      metrics?: Partial<PipelineSpec['outputs']['metrics']>;
      foxglove?: { host?: string; port?: number; enabled?: boolean; sendBufferMb?: number };
    };
    budget?: { e2eMs?: number };
    stages?: RawStage[];
    scheduler?: RawScheduler;
    pool?: Partial<PoolSpec>;
  };
}

/** Checks that depend on more than one field; each issue names its path. */
function crossCheck(raw: RawPipeline, sensors: readonly SensorConfig[]): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  const ids = sensors.map((s) => s.id);
  const seen = new Set<string>();
  raw.spec.sensors?.forEach((s, i) => {
    if (seen.has(s.id))
      issues.push({ path: `spec.sensors[${i}].id`, message: `duplicate sensor id '${s.id}'` });
    seen.add(s.id);
  });
  const derived = sensors.filter((s) => s.kind === 'lidar').map((s) => boxesChannelOf(s.id));
  for (const key of Object.keys(raw.spec.channels ?? {})) {
    const known =
      (SENSOR_KINDS as readonly string[]).includes(key) ||
      key === 'boxes' ||
      ids.includes(key) ||
      derived.includes(key);
    if (!known) {
      issues.push({
        path: `spec.channels.${key}`,
        message: `'${key}' is neither a channel kind (${SENSOR_KINDS.join(', ')}, boxes), a sensor id (${ids.join(', ')}) nor a derived channel (${derived.join(', ') || 'none'})`,
      });
    }
    if (key.endsWith(BOXES_SUFFIX) && raw.spec.channels?.[key]?.producer === 'external') {
      issues.push({
        path: `spec.channels.${key}.producer`,
        message: 'a derived channel is written by its stage',
      });
    }
  }
  for (const [key, ch] of Object.entries(raw.spec.channels ?? {})) {
    if (ch.producer === 'external' && raw.spec.pool?.implementation === 'js') {
      issues.push({
        path: `spec.channels.${key}.producer`,
        message: `an external producer writes through shared memory; spec.pool.implementation 'js' has none (use native or auto)`,
      });
    }
  }
  issues.push(...planningIssues({ ...DEFAULT_PLANNING, ...raw.spec.planning }));
  if (raw.spec.fusion?.triggers !== undefined) {
    issues.push({
      path: 'spec.fusion.triggers',
      message:
        'removed: the scheduler fuses every measurement as it is committed (spec.stages); the trigger-cycle ' +
        'baseline takes its triggers from spec.scheduler.triggerCycles.triggers',
    });
  }
  if (raw.spec.budget !== undefined) {
    issues.push({
      path: 'spec.budget',
      message:
        "removed: each stage has its own budget (spec.stages[].budgetMs; the planner's is the e2e budget)",
    });
  }
  raw.spec.scheduler?.triggerCycles?.triggers?.forEach((t, i) => {
    if (!ids.includes(t)) {
      issues.push({
        path: `spec.scheduler.triggerCycles.triggers[${i}]`,
        message: `unknown sensor '${t}'; sensors: ${ids.join(', ')}`,
      });
    }
  });
  raw.spec.sources?.forEach((s, i) => {
    const path = `spec.sources[${i}]`;
    if (s.type === 'zmq') {
      if (!s.endpoints)
        issues.push({ path: `${path}.endpoints`, message: 'missing; a zmq source needs endpoints' });
      for (const f of ['scenario', 'loop', 'closedLoop', 'seed']) {
        if (s[f] !== undefined) issues.push({ path: `${path}.${f}`, message: `not allowed on a zmq source` });
      }
    } else if (s.type === 'simulator') {
      for (const f of ['endpoints', 'bind']) {
        if (s[f] !== undefined)
          issues.push({ path: `${path}.${f}`, message: `not allowed on a simulator source` });
      }
    }
  });
  return issues;
}

/** `spec.outputs.foxglove`: present (and not `enabled: false`) turns the live view on, loopback:8765 by default. */
function foxgloveOutput(
  f: { host?: string; port?: number; enabled?: boolean; sendBufferMb?: number } | undefined,
) {
  if (!f || f.enabled === false) return {};
  return {
    foxglove: {
      host: f.host ?? '127.0.0.1',
      port: f.port ?? 8765,
      sendBufferBytes: Math.round((f.sendBufferMb ?? 16) * 2 ** 20),
    },
  };
}

/** Turns a validated document into a PipelineSpec with every default applied. */
function toPipelineSpec(raw: RawPipeline, origin: string): PipelineSpec {
  const base = defaultPipelineSpec();
  const sensors: SensorConfig[] = raw.spec.sensors
    ? raw.spec.sensors.map((s) => ({
        id: s.id,
        kind: s.kind,
        rateHz: s.rateHz,
        mount: { x: s.mount.x, y: s.mount.y, z: s.mount.z, yaw: (s.mount.yawDeg * Math.PI) / 180 },
        fovDeg: s.fovDeg,
        rangeM: s.rangeM,
      }))
    : base.sensors;
  const rawSources = raw.spec.sources;
  const sources: SourceSpec[] = !rawSources
    ? base.sources
    : rawSources.map((s): SourceSpec =>
        s.type === 'zmq'
          ? { type: 'zmq', endpoints: (s.endpoints as string[]) ?? [], bind: (s.bind as boolean) ?? false }
          : {
              type: 'simulator',
              scenario: (s.scenario as string) ?? 'highway-following',
              loop: (s.loop as boolean) ?? false,
              closedLoop: (s.closedLoop as boolean) ?? true,
              seed: s.seed as number | undefined,
            },
      );
  const scheduler = resolveScheduler(raw.spec.scheduler, defaultTriggers(sensors));
  const derivedChannels = derivedChannelsFor(sensors, scheduler);
  const { stages } = resolveStages(
    raw.spec.stages,
    sensors,
    channelNames({ sensors, derivedChannels }),
    scheduler.mode,
  );
  return {
    name: raw.metadata.name,
    origin,
    sources,
    sensors,
    channels: channelsFor(sensors, derivedChannels, raw.spec.channels ?? {}),
    derivedChannels,
    ingest: { ...base.ingest, ...raw.spec.ingest },
    fusion: { maxTracks: raw.spec.fusion?.maxTracks ?? base.fusion.maxTracks },
    planning: { ...base.planning, ...raw.spec.planning },
    outputs: {
      publish: raw.spec.outputs?.publish ?? base.outputs.publish,
      metrics: { ...base.outputs.metrics, ...raw.spec.outputs?.metrics },
      ...foxgloveOutput(raw.spec.outputs?.foxglove),
    },
    stages,
    scheduler,
    pool: {
      segment: raw.spec.pool?.segment ?? `/smi-fusion-${raw.metadata.name}`,
      implementation: raw.spec.pool?.implementation ?? base.pool.implementation,
    },
    warnings: threadWarnings(stages, availableParallelism()),
  };
}

/** Parses and validates pipeline YAML text; every problem is reported with file, line and path. */
export function parsePipelineSpec(text: string, file: string): PipelineSpec {
  const { docs, issues } = parseYamlDocuments(text, file);
  if (issues.length > 0) throw new FileValidationError(issues);
  if (docs.length === 0) {
    throw new FileValidationError([
      { file, doc: 0, path: '(document)', message: 'empty; expected a Pipeline document' },
    ]);
  }
  const pipelines = docs.filter((d) => (d.value as { kind?: unknown } | null)?.kind === 'Pipeline');
  const all: FileIssue[] = [];
  for (const doc of docs) {
    const kind = (doc.value as { kind?: unknown } | null)?.kind;
    if (kind !== 'Pipeline') {
      all.push({
        file,
        doc: doc.index,
        line: doc.lineOf('kind'),
        path: 'kind',
        message: `${JSON.stringify(kind ?? null)} is not supported; allowed: Pipeline`,
      });
    }
  }
  if (pipelines.length > 1) {
    all.push({
      file,
      doc: pipelines[1]!.index,
      path: 'kind',
      message: 'only one Pipeline document per file is allowed',
    });
  }
  const doc = pipelines[0];
  if (doc) {
    const schemaIssues = validateDocument(doc, PIPELINE_SCHEMA, file);
    all.push(...schemaIssues);
    if (schemaIssues.length === 0) {
      const raw = doc.value as RawPipeline;
      const spec = toPipelineSpec(raw, file);
      const stageIssues = resolveStages(
        raw.spec.stages,
        spec.sensors,
        channelNames(spec),
        spec.scheduler.mode,
      ).issues;
      for (const i of [...crossCheck(raw, spec.sensors), ...stageIssues])
        all.push({ ...i, file, doc: doc.index, line: doc.lineOf(i.path) });
      for (const w of spec.warnings) w.line = doc.lineOf(w.path);
      if (all.length === 0) return spec;
    }
  }
  throw new FileValidationError(all);
}

/** Reads, parses and validates a pipeline spec file. Throws FileValidationError naming the file. */
export function loadPipelineSpec(file: string): PipelineSpec {
  const { text, issues } = readTextFile(file);
  if (text === undefined) throw new FileValidationError(issues);
  return parsePipelineSpec(text, file);
}
