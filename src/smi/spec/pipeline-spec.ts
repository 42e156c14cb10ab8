import { SENSOR_KINDS, type SensorKind } from '../../wire/layouts.js';
import { SENSOR_ID_PATTERN } from '../../wire/codec.js';
import { DEFAULT_RIG, type SensorConfig } from '../../wire/rig.js';
import { arr, bool, int, num, obj, opt, req, str, type Schema } from '../../schema/schema.js';
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

export interface ChannelSpec {
  producer: ChannelProducer;
  slots: number;
  slotBytes: number;
  access: AccessPattern;
}

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
  ingest: { maxFutureMs: number; maxAgeMs: number };
  fusion: { triggers: string[]; maxTracks: number };
  planning: { cruiseSpeedMps: number };
  outputs: { publish: string; metrics: { host: string; port: number; enabled: boolean } };
  budget: { e2eMs: number };
  pool: PoolSpec;
}

/** Channel defaults per kind, sized for the built-in rig with headroom. */
export const DEFAULT_CHANNELS: Readonly<Record<SensorKind, ChannelSpec>> = {
  lidar: { slots: 8, slotBytes: 4 * 1024 * 1024, access: 'sequential', producer: 'ingest' },
  radar: { slots: 16, slotBytes: 64 * 1024, access: 'sequential', producer: 'ingest' },
  camera: { slots: 16, slotBytes: 64 * 1024, access: 'sequential', producer: 'ingest' },
  objects: { slots: 16, slotBytes: 64 * 1024, access: 'sequential', producer: 'ingest' },
  ego: { slots: 32, slotBytes: 64, access: 'sequential', producer: 'ingest' },
};

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
        keyPattern: /^[A-Za-z0-9_-]{1,64}$/,
        keyDoc: 'a sensor kind or sensor id',
      }),
      ingest: opt(obj({ maxFutureMs: opt(num({ min: 0 })), maxAgeMs: opt(num({ min: 1 })) })),
      fusion: opt(
        obj({ triggers: opt(arr(sensorId, { minItems: 1 })), maxTracks: opt(int({ min: 1, max: 1024 })) }),
      ),
      planning: opt(obj({ cruiseSpeedMps: opt(num({ min: 0, max: 70 })) })),
      outputs: opt(
        obj({
          publish: opt(endpoint),
          metrics: opt(
            obj({ host: opt(str()), port: opt(int({ min: 0, max: 65535 })), enabled: opt(bool()) }),
          ),
        }),
      ),
      budget: opt(obj({ e2eMs: opt(num({ min: 0, exclusiveMin: true })) })),
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
  return {
    name: 'onboard-sim',
    origin: '(built-in)',
    sources: [{ type: 'simulator', scenario: 'highway-following', loop: true, closedLoop: true }],
    sensors: DEFAULT_RIG.map((s) => ({ ...s, mount: { ...s.mount } })),
    channels: channelsFor(DEFAULT_RIG, {}),
    ingest: { maxFutureMs: 50, maxAgeMs: 2000 },
    fusion: { triggers: defaultTriggers(DEFAULT_RIG), maxTracks: 64 },
    planning: { cruiseSpeedMps: 27.8 },
    outputs: { publish: 'tcp://127.0.0.1:5560', metrics: { host: '127.0.0.1', port: 9464, enabled: true } },
    budget: { e2eMs: 100 },
    pool: { segment: '/smi-fusion-onboard-sim', implementation: 'auto' },
  };
}

/** Fusion cycles run when one of these sensors commits: the front radar and the lidars by default. */
function defaultTriggers(sensors: readonly SensorConfig[]): string[] {
  const front = sensors.filter((s) => s.kind === 'lidar' || s.id === 'radar_front').map((s) => s.id);
  return front.length > 0 ? front : sensors.filter((s) => s.kind !== 'ego').map((s) => s.id);
}

function channelsFor(
  sensors: readonly SensorConfig[],
  overrides: Record<string, Partial<ChannelSpec>>,
): Record<string, ChannelSpec> {
  const out: Record<string, ChannelSpec> = {};
  for (const s of sensors) {
    out[s.id] = { ...DEFAULT_CHANNELS[s.kind], ...overrides[s.kind], ...overrides[s.id] };
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
    fusion?: Partial<PipelineSpec['fusion']>;
    planning?: Partial<PipelineSpec['planning']>;
    outputs?: { publish?: string; metrics?: Partial<PipelineSpec['outputs']['metrics']> };
    budget?: Partial<PipelineSpec['budget']>;
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
  for (const key of Object.keys(raw.spec.channels ?? {})) {
    if (!(SENSOR_KINDS as readonly string[]).includes(key) && !ids.includes(key)) {
      issues.push({
        path: `spec.channels.${key}`,
        message: `'${key}' is neither a sensor kind (${SENSOR_KINDS.join(', ')}) nor a sensor id (${ids.join(', ')})`,
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
  raw.spec.fusion?.triggers?.forEach((t, i) => {
    if (!ids.includes(t)) {
      issues.push({
        path: `spec.fusion.triggers[${i}]`,
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
  return {
    name: raw.metadata.name,
    origin,
    sources,
    sensors,
    channels: channelsFor(sensors, raw.spec.channels ?? {}),
    ingest: { ...base.ingest, ...raw.spec.ingest },
    fusion: {
      triggers: raw.spec.fusion?.triggers ?? defaultTriggers(sensors),
      maxTracks: raw.spec.fusion?.maxTracks ?? base.fusion.maxTracks,
    },
    planning: { ...base.planning, ...raw.spec.planning },
    outputs: {
      publish: raw.spec.outputs?.publish ?? base.outputs.publish,
      metrics: { ...base.outputs.metrics, ...raw.spec.outputs?.metrics },
    },
    budget: { ...base.budget, ...raw.spec.budget },
    pool: {
      segment: raw.spec.pool?.segment ?? `/smi-fusion-${raw.metadata.name}`,
      implementation: raw.spec.pool?.implementation ?? base.pool.implementation,
    },
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
      for (const i of crossCheck(raw, spec.sensors))
        all.push({ ...i, file, doc: doc.index, line: doc.lineOf(i.path) });
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
