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
import { dirname, resolve as resolvePath } from 'node:path';
import {
  FileValidationError,
  parseYamlDocuments,
  readTextFile,
  validateDocument,
  type FileIssue,
  type ParsedDocument,
} from '../../schema/yaml-file.js';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TRAFFIC_SPLIT_SCHEMA, resolveSplit, type RawSplit, type SplitSpec } from './traffic-split.js';
import { TRAFFIC_TARGET_SCHEMA, resolveTarget, type RawTarget, type TargetSpec } from './traffic-target.js';

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
  /** The source's name (TrafficTarget subjects); default `<type>-<index>`. */
  name: string;
  /** ZeroMQ endpoints the SUB socket connects to (or binds, with `bind: true`). */
  endpoints: string[];
  bind: boolean;
  /** Opt-in to endpoints off loopback (tcp to another host, or `*`): sensors on the network. */
  remote: boolean;
  /** CURVE encryption and authentication: the service is the CURVE server (see README, Access). */
  curve?: CurveSpec;
}

/** Key files of a CURVE-protected zmq source; paths relative to the spec file's folder. */
export interface CurveSpec {
  /** The service's Z85 secret key (40 characters); the file must not be readable by group or others. */
  secretKeyFile: string;
  /** The Z85 public keys of the drivers allowed to connect, one a line. */
  clientKeysFile: string;
}

export interface SimulatorSourceSpec {
  type: 'simulator';
  name: string;
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
  /** TrafficSplits (at most one in this release) from the same files. */
  splits: SplitSpec[];
  /** TrafficTargets (access rules) from the same files. */
  targets: TargetSpec[];
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

import {
  PLANNING_PARAMS,
  DEFAULT_PLANNING,
  type PlanningParam,
  type PlanningSpec,
} from './planning-params.js';
export { PLANNING_PARAMS, DEFAULT_PLANNING, type PlanningParam, type PlanningSpec };

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
  name: opt(
    str({ pattern: /^[A-Za-z0-9_.-]{1,64}$/, patternDoc: 'letters, digits, _, . or -, 1-64 characters' }),
  ),
  endpoints: opt(arr(endpoint, { minItems: 1 })),
  bind: opt(bool()),
  remote: opt(bool()),
  curve: opt(obj({ secretKeyFile: req(str()), clientKeysFile: req(str()) })),
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
    sources: [
      { type: 'simulator', name: 'simulator-0', scenario: 'highway-following', loop: true, closedLoop: true },
    ],
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
    splits: [],
    targets: [],
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
  const plannerParams = raw.spec.stages?.find((s) => s.name === 'planner' || s.type === 'planner')?.params;
  issues.push(...planningIssues({ ...DEFAULT_PLANNING, ...raw.spec.planning, ...plannerParams }));
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
      if (s.remote !== true) {
        (s.endpoints as string[] | undefined)?.forEach((ep, k) => {
          if (!isLoopbackEndpoint(ep)) {
            issues.push({
              path: `${path}.endpoints[${k}]`,
              message: `${ep} is not on loopback; set remote: true to take sensors from the network (and curve to authenticate them)`,
            });
          }
        });
      }
    } else if (s.type === 'simulator') {
      for (const f of ['endpoints', 'bind', 'remote', 'curve']) {
        if (s[f] !== undefined)
          issues.push({ path: `${path}.${f}`, message: `not allowed on a simulator source` });
      }
    }
  });
  return issues;
}

/** Whether a ZeroMQ endpoint stays on this host: ipc, inproc, or tcp to a loopback address. */
export function isLoopbackEndpoint(ep: string): boolean {
  const m = /^tcp:\/\/(.+):(\d+|\*)$/.exec(ep);
  if (!m) return true; // ipc:// and inproc:// never leave the host
  const host = m[1]!.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
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

/** Key file paths resolved against the folder of the spec file they were written in. */
function curveFiles(c: CurveSpec, origin: string): CurveSpec {
  const base = origin.startsWith('(') ? process.cwd() : dirname(resolvePath(origin));
  return {
    secretKeyFile: resolvePath(base, c.secretKeyFile),
    clientKeysFile: resolvePath(base, c.clientKeysFile),
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
    : rawSources.map((s, i): SourceSpec =>
        s.type === 'zmq'
          ? {
              type: 'zmq',
              name: (s.name as string | undefined) ?? `zmq-${i}`,
              endpoints: (s.endpoints as string[]) ?? [],
              bind: (s.bind as boolean) ?? false,
              remote: (s.remote as boolean) ?? false,
              ...(s.curve ? { curve: curveFiles(s.curve as CurveSpec, origin) } : {}),
            }
          : {
              type: 'simulator',
              name: (s.name as string | undefined) ?? `simulator-${i}`,
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
    // The planner stage's params override spec.planning: spec.planning is what the planner runs.
    planning: { ...base.planning, ...raw.spec.planning, ...stages.find((s) => s.type === 'planner')?.params },
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
    splits: [],
    targets: [],
  };
}

/** One spec file's text. */
export interface SpecText {
  text: string;
  file: string;
}

const KINDS = ['Pipeline', 'TrafficSplit', 'TrafficTarget'] as const;
const SCHEMA_OF_KIND: Record<(typeof KINDS)[number], Schema> = {
  Pipeline: PIPELINE_SCHEMA,
  TrafficSplit: TRAFFIC_SPLIT_SCHEMA,
  TrafficTarget: TRAFFIC_TARGET_SCHEMA,
};

type KindDocument = { file: string; doc: ParsedDocument; kind: (typeof KINDS)[number] };

/** Every document of `texts`, checked against its kind's schema; syntax and schema problems as issues. */
function parseKindDocuments(texts: readonly SpecText[]): { docs: KindDocument[]; issues: FileIssue[] } {
  const all: FileIssue[] = [];
  const docs: KindDocument[] = [];
  for (const { text, file } of texts) {
    const parsed = parseYamlDocuments(text, file);
    all.push(...parsed.issues);
    if (parsed.issues.length === 0 && parsed.docs.length === 0) {
      all.push({
        file,
        doc: 0,
        path: '(document)',
        message: 'empty; expected a Pipeline, TrafficSplit or TrafficTarget document',
      });
    }
    for (const doc of parsed.docs) {
      const kind = (doc.value as { kind?: unknown } | null)?.kind;
      if (!(KINDS as readonly unknown[]).includes(kind)) {
        all.push({
          file,
          doc: doc.index,
          line: doc.lineOf('kind'),
          path: 'kind',
          message: `${JSON.stringify(typeof kind === 'string' ? kind.slice(0, 80) : (kind ?? null))} is not supported; allowed: ${KINDS.join(', ')}`,
        });
        continue;
      }
      const issues = validateDocument(doc, SCHEMA_OF_KIND[kind as (typeof KINDS)[number]], file);
      all.push(...issues);
      if (issues.length === 0) docs.push({ file, doc, kind: kind as (typeof KINDS)[number] });
    }
  }
  return { docs, issues: all };
}

const issueAt = (
  d: { file: string; doc: ParsedDocument },
  i: { path: string; message: string },
): FileIssue => ({
  ...i,
  file: d.file,
  doc: d.doc.index,
  line: d.doc.lineOf(i.path),
});

/** The TrafficSplits and TrafficTargets of `docs`, checked against `spec` and added to it. */
function addTraffic(spec: PipelineSpec, docs: readonly KindDocument[], all: FileIssue[]): void {
  const known = {
    channels: channelNames(spec),
    sources: spec.sources.map((s) => s.name),
    stages: spec.stages.map((s) => s.name),
  };
  for (const d of docs) {
    if (d.kind === 'TrafficSplit') {
      const r = resolveSplit(d.doc.value as RawSplit, spec.stages, spec.splits, d.file);
      all.push(...r.issues.map((i) => issueAt(d, i)));
      if (r.split) spec.splits.push(r.split);
    } else if (d.kind === 'TrafficTarget') {
      const r = resolveTarget(d.doc.value as RawTarget, known, d.file);
      all.push(...r.issues.map((i) => issueAt(d, i)));
      if (r.target) spec.targets.push(r.target);
    }
  }
}

/**
 * Parses and validates a set of spec files (multi-document YAML allowed): exactly one Pipeline,
 * any TrafficSplits and TrafficTargets, checked against it. Every problem is reported with file,
 * line and path (FileValidationError).
 */
export function parseSpecSet(texts: readonly SpecText[]): PipelineSpec {
  const { docs, issues: all } = parseKindDocuments(texts);
  const pipelines = docs.filter((d) => d.kind === 'Pipeline');
  if (pipelines.length > 1) {
    all.push({
      file: pipelines[1]!.file,
      doc: pipelines[1]!.doc.index,
      path: 'kind',
      message: `only one Pipeline is allowed (the first is in ${pipelines[0]!.file})`,
    });
  }
  if (pipelines.length === 0 && all.length === 0) {
    all.push({
      file: texts[0]?.file ?? '(no file)',
      doc: 0,
      path: 'kind',
      message: 'no Pipeline document; a spec set needs exactly one',
    });
  }
  const pipelineDoc = pipelines[0];
  if (!pipelineDoc || all.length > 0) throw new FileValidationError(all);
  const raw = pipelineDoc.doc.value as RawPipeline;
  const spec = toPipelineSpec(raw, pipelineDoc.file);
  const stageIssues = resolveStages(
    raw.spec.stages,
    spec.sensors,
    channelNames(spec),
    spec.scheduler.mode,
  ).issues;
  for (const i of [...crossCheck(raw, spec.sensors), ...stageIssues]) all.push(issueAt(pipelineDoc, i));
  for (const w of spec.warnings) w.line = pipelineDoc.doc.lineOf(w.path);
  const names = new Set<string>();
  spec.sources.forEach((s, i) => {
    if (names.has(s.name))
      all.push(
        issueAt(pipelineDoc, {
          path: `spec.sources[${i}].name`,
          message: `duplicate source name '${s.name}'`,
        }),
      );
    names.add(s.name);
  });
  addTraffic(spec, docs, all);
  if (all.length > 0) throw new FileValidationError(all);
  return spec;
}

/** Parses and validates spec YAML text (one file); every problem is reported with file, line and path. */
export function parsePipelineSpec(text: string, file: string): PipelineSpec {
  return parseSpecSet([{ text, file }]);
}

/** The spec files of `paths`: files as given, directories' `*.yaml` / `*.yml` in name order. */
export function specFilesOf(paths: readonly string[]): { files: string[]; issues: FileIssue[] } {
  const files: string[] = [];
  const issues: FileIssue[] = [];
  for (const p of paths) {
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch (err) {
      issues.push({
        file: p,
        doc: 0,
        path: '(file)',
        message: `cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      });
      continue;
    }
    if (!isDir) files.push(p);
    else {
      for (const name of readdirSync(p).sort()) {
        if (/\.ya?ml$/.test(name) && !name.startsWith('.')) files.push(join(p, name));
      }
    }
  }
  return { files, issues };
}

/** The texts of the spec files at `paths`; an unreadable one throws FileValidationError naming it. */
function readSpecTexts(paths: readonly string[]): SpecText[] {
  const { files, issues } = specFilesOf(paths);
  const texts: SpecText[] = [];
  for (const file of files) {
    const r = readTextFile(file);
    issues.push(...r.issues);
    if (r.text !== undefined) texts.push({ text: r.text, file });
  }
  if (issues.length > 0) throw new FileValidationError(issues);
  return texts;
}

/**
 * Reads, parses and validates the spec files at `paths` (files or directories) as one set.
 * Throws FileValidationError naming each file.
 */
export function loadSpecSet(paths: readonly string[]): PipelineSpec {
  const texts = readSpecTexts(paths);
  return parseSpecSet(texts);
}

/**
 * `spec` (from a file or a recorded drive) with the TrafficSplits and TrafficTargets of `paths`
 * checked against it and added: e.g. a replay of a drive with a shadow of the tracker.
 */
export function withSpecFiles(spec: PipelineSpec, paths: readonly string[]): PipelineSpec {
  const texts = readSpecTexts(paths);
  const { docs, issues: all } = parseKindDocuments(texts);
  for (const d of docs) {
    if (d.kind === 'Pipeline') {
      all.push(
        issueAt(d, {
          path: 'kind',
          message: 'a Pipeline here: this takes TrafficSplit and TrafficTarget documents only',
        }),
      );
    }
  }
  const out: PipelineSpec = { ...spec, splits: [...spec.splits], targets: [...spec.targets] };
  addTraffic(out, docs, all);
  if (all.length > 0) throw new FileValidationError(all);
  return out;
}

/** Reads, parses and validates a pipeline spec file (or a directory of spec files). Throws FileValidationError naming the file. */
export function loadPipelineSpec(file: string): PipelineSpec {
  return loadSpecSet([file]);
}
