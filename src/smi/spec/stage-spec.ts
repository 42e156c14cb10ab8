/**
 * Stages of a pipeline spec: units of work with a class, a budget, inputs and a placement
 * (DESIGN.md, "Stages and priorities"). This file holds their types, schema, defaults and the
 * checks that need the whole spec; the scheduler (src/smi/scheduler) runs them.
 */
import { any, arr, bool, num, obj, opt, req, str, type Schema } from '../../schema/schema.js';
import { stageParamIssues } from './stage-params.js';
import type { SensorConfig } from '../../wire/rig.js';
import type { SchedulerMode } from './scheduler-spec.js';

export const STAGE_CLASSES = ['critical', 'high', 'normal', 'best-effort'] as const;
export type StageClass = (typeof STAGE_CLASSES)[number];
/** Lower runs first: class order for the ready queues and shedding (best-effort sheds first). */
export const CLASS_RANK: Readonly<Record<StageClass, number>> = {
  critical: 0,
  high: 1,
  normal: 2,
  'best-effort': 3,
};

/**
 * What a stage runs. `lidar-extraction`: lidar scan → object boxes (a pool channel per lidar);
 * `tracker`: every ego, radar and box measurement, fused as it is committed; `camera-fusion`:
 * camera object lists into the same tracker; `planner`: lead, ACC, AEB and trajectory after each
 * tracker update; `recorder` and `visualisation`: best-effort sinks (active when recording or
 * when a live viewer output is configured).
 */
export const STAGE_TYPES = [
  'lidar-extraction',
  'tracker',
  'camera-fusion',
  'planner',
  'recorder',
  'visualisation',
] as const;
export type StageType = (typeof STAGE_TYPES)[number];

/**
 * `dedicated`: a long-lived thread of its own; `shared`: tasks on the shared worker pool (lidar
 * extraction only, today); else a stage name (its thread).
 */
export const PLACEMENT_KEYWORDS = ['dedicated', 'shared'] as const;

export interface StageInputSpec {
  /** A pool channel: a sensor id, or a derived channel such as `lidar_top.boxes`. */
  channel: string;
  access: 'sequential' | 'latest';
}

export interface StageSpec {
  name: string;
  type: StageType;
  class: StageClass;
  /** Deadline = the input's stampNs + budgetMs (for the planner: the triggering measurement's). */
  budgetMs: number;
  inputs: StageInputSpec[];
  /** `dedicated`, `shared`, or the name of the stage whose thread this stage runs on. */
  placement: string;
  /**
   * Parameters that differ from the algorithm's defaults (tracker, lidar-extraction, planner;
   * src/smi/spec/stage-params.ts). The planner's are merged over spec.planning.
   */
  params: Record<string, unknown>;
}

/** Suffix of the channel a lidar-extraction stage writes its boxes to, per lidar. */
export const BOXES_SUFFIX = '.boxes';
export const boxesChannelOf = (lidarId: string): string => `${lidarId}${BOXES_SUFFIX}`;

export const MAX_BUDGET_MS = 10_000;
const stageName = str({
  pattern: /^[a-z0-9][a-z0-9-]{0,62}$/,
  patternDoc: 'lower-case letters, digits and -, 1-63 characters',
});

/** Schema of one `spec.stages[]` entry; fields left out keep the default stage's value. */
export const STAGE_SCHEMA: Schema = obj({
  name: req(stageName),
  type: opt(str({ enum: STAGE_TYPES })),
  class: opt(str({ enum: STAGE_CLASSES })),
  budgetMs: opt(num({ min: 0, exclusiveMin: true, max: MAX_BUDGET_MS })),
  inputs: opt(
    arr(
      obj({
        channel: req(str({ pattern: /^[A-Za-z0-9_.-]{1,64}$/, patternDoc: 'a channel name' })),
        access: opt(str({ enum: ['sequential', 'latest'] })),
      }),
    ),
  ),
  placement: opt(str()),
  enabled: opt(bool()),
  params: opt({ type: 'map', values: any() }),
});

export interface RawStage {
  name: string;
  type?: StageType;
  class?: StageClass;
  budgetMs?: number;
  inputs?: { channel: string; access?: 'sequential' | 'latest' }[];
  placement?: string;
  enabled?: boolean;
  params?: Record<string, unknown>;
}

/**
 * The default stages for a rig (DESIGN.md): ego and radar → tracker → planner critical, lidar
 * extraction high, camera normal, recording and visualisation best-effort.
 */
export function defaultStages(sensors: readonly SensorConfig[], mode: SchedulerMode = 'stages'): StageSpec[] {
  const of = (kind: SensorConfig['kind']) => sensors.filter((s) => s.kind === kind);
  const lidars = of('lidar');
  const baseline = mode === 'trigger-cycles';
  const stages: StageSpec[] = [];
  if (lidars.length > 0 && !baseline) {
    stages.push({
      name: 'lidar-extraction',
      type: 'lidar-extraction',
      class: 'high',
      budgetMs: 50,
      inputs: lidars.map((l) => ({ channel: l.id, access: 'latest' })),
      placement: 'dedicated',
      params: {},
    });
  }
  stages.push({
    name: 'tracker',
    type: 'tracker',
    class: 'critical',
    budgetMs: 15,
    inputs: [
      ...of('ego').map((s) => ({ channel: s.id, access: 'sequential' as const })),
      ...of('radar').map((s) => ({ channel: s.id, access: 'sequential' as const })),
      // Object lists (a smart sensor's or a detector's) are the tracker's direct measurements.
      ...of('objects').map((s) => ({ channel: s.id, access: 'sequential' as const })),
      // The trigger-cycle baseline clusters raw scans inside its cycles.
      ...lidars.map((l) => ({
        channel: baseline ? l.id : boxesChannelOf(l.id),
        access: 'sequential' as const,
      })),
    ],
    placement: 'dedicated',
    params: {},
  });
  if (of('camera').length > 0) {
    stages.push({
      name: 'camera-fusion',
      type: 'camera-fusion',
      class: 'normal',
      budgetMs: 100,
      inputs: of('camera').map((s) => ({ channel: s.id, access: 'sequential' })),
      placement: 'tracker',
      params: {},
    });
  }
  stages.push(
    {
      name: 'planner',
      type: 'planner',
      class: 'critical',
      budgetMs: 20,
      inputs: [],
      placement: 'tracker',
      params: {},
    },
    {
      name: 'recorder',
      type: 'recorder',
      class: 'best-effort',
      budgetMs: 1000,
      inputs: [],
      placement: 'dedicated',
      params: {},
    },
    {
      name: 'visualisation',
      type: 'visualisation',
      class: 'best-effort',
      budgetMs: 200,
      inputs: [],
      placement: 'shared',
      params: {},
    },
  );
  return stages;
}

export interface StageIssue {
  path: string;
  message: string;
}

/**
 * Merges `spec.stages` over the defaults by name (a listed field replaces the default's; a new
 * name adds a stage; `enabled: false` removes one) and checks what needs the whole spec: input
 * channels exist, placements make sense, one stage of each stateful type.
 */
export function resolveStages(
  raw: readonly RawStage[] | undefined,
  sensors: readonly SensorConfig[],
  channelNames: readonly string[],
  mode: SchedulerMode = 'stages',
): { stages: StageSpec[]; issues: StageIssue[] } {
  const issues: StageIssue[] = [];
  const stages = defaultStages(sensors, mode);
  const seen = new Set<string>();
  raw?.forEach((r, i) => {
    const path = `spec.stages[${i}]`;
    if (seen.has(r.name)) issues.push({ path: `${path}.name`, message: `duplicate stage name '${r.name}'` });
    seen.add(r.name);
    const at = stages.findIndex((s) => s.name === r.name);
    if (r.enabled === false) {
      if (at >= 0) stages.splice(at, 1);
      return;
    }
    const base = at >= 0 ? stages[at]! : undefined;
    const named = (STAGE_TYPES as readonly string[]).includes(r.name) ? (r.name as StageType) : undefined;
    const type = r.type ?? base?.type ?? named;
    if (!type) {
      issues.push({
        path: `${path}.type`,
        message: `missing: '${r.name}' is not a default stage, so it needs a type (${STAGE_TYPES.join(', ')})`,
      });
      return;
    }
    const merged: StageSpec = {
      name: r.name,
      type,
      class: r.class ?? base?.class ?? 'normal',
      budgetMs: r.budgetMs ?? base?.budgetMs ?? 100,
      inputs: r.inputs
        ? r.inputs.map((x) => ({ channel: x.channel, access: x.access ?? 'sequential' }))
        : (base?.inputs ?? []),
      placement: r.placement ?? base?.placement ?? 'dedicated',
      params: r.params ? structuredClone(r.params) : { ...base?.params },
    };
    if (r.params !== undefined) issues.push(...stageParamIssues(type, merged.params, `${path}.params`));
    if (at >= 0) stages[at] = merged;
    else stages.push(merged);
  });
  stages.forEach((s) => checkStage(s, stages, channelNames, stagePath(raw, s.name), issues));
  for (const t of ['tracker', 'lidar-extraction', 'recorder', 'visualisation'] as const) {
    const same = stages.filter((s) => s.type === t);
    if (same.length > 1) {
      issues.push({
        path: stagePath(raw, same[1]!.name),
        message: `a second '${t}' stage ('${same[1]!.name}' after '${same[0]!.name}'); one per pipeline (alternative versions come with TrafficSplit)`,
      });
    }
  }
  return { stages, issues };
}

function stagePath(raw: readonly RawStage[] | undefined, name: string): string {
  const i = raw?.findIndex((r) => r.name === name) ?? -1;
  return i >= 0 ? `spec.stages[${i}]` : `spec.stages (default '${name}')`;
}

function checkStage(
  s: StageSpec,
  all: readonly StageSpec[],
  channelNames: readonly string[],
  path: string,
  issues: StageIssue[],
): void {
  s.inputs.forEach((input, j) => {
    if (!channelNames.includes(input.channel)) {
      issues.push({
        path: `${path}.inputs[${j}].channel`,
        message: `no channel '${input.channel}'; channels: ${channelNames.join(', ')}`,
      });
    }
  });
  const tracker = all.find((x) => x.type === 'tracker');
  const host = all.find((x) => x.name === s.placement);
  const keyword = (PLACEMENT_KEYWORDS as readonly string[]).includes(s.placement);
  if (!keyword && !host) {
    issues.push({
      path: `${path}.placement`,
      message: `'${s.placement}' is neither dedicated, shared nor a stage name (${all.map((x) => x.name).join(', ')})`,
    });
    return;
  }
  if (host && host.placement !== 'dedicated') {
    issues.push({
      path: `${path}.placement`,
      message: `stage '${host.name}' has no thread of its own (placement ${host.placement}); place '${s.name}' on a dedicated stage`,
    });
  }
  const need = (allowed: string[], why: string): void => {
    if (!allowed.includes(s.placement)) {
      issues.push({
        path: `${path}.placement`,
        message: `'${s.placement}' not allowed: ${why}; allowed: ${allowed.join(', ')}`,
      });
    }
  };
  switch (s.type) {
    case 'tracker':
      need(['dedicated'], 'the tracker keeps its state across frames on one thread');
      break;
    case 'camera-fusion':
      need([tracker?.name ?? 'tracker'], 'camera objects update the tracker, on its thread');
      break;
    case 'planner':
      // In the tracker's thread: a hop to another thread per plan costs more than it saves (the
      // bench measures the piscina hop at ~70-90 µs here against a planner run of ~20 µs).
      need([tracker?.name ?? 'tracker'], 'the planner runs after each tracker update, on its thread');
      break;
    case 'lidar-extraction':
      need(['dedicated', 'shared'], 'lidar extraction needs a thread apart from the critical path');
      break;
    case 'recorder':
      need(['dedicated'], 'the recorder compresses and writes on a thread of its own');
      break;
    case 'visualisation':
      need(['shared', 'dedicated'], 'visualisation never runs on the critical thread');
      break;
  }
}

/** Dedicated threads the stages ask for (the main thread, which runs ingest, comes on top). */
export function dedicatedThreads(stages: readonly StageSpec[]): string[] {
  return stages.filter((s) => s.placement === 'dedicated').map((s) => s.name);
}

/**
 * A warning when the dedicated stage threads outnumber the cores (`cores`): they cannot all run
 * at once, so a lower class waits for the OS. The recorder counts only while recording.
 */
export function threadWarnings(stages: readonly StageSpec[], cores: number): StageIssue[] {
  const threads = dedicatedThreads(stages.filter((s) => s.type !== 'recorder'));
  if (threads.length <= cores) return [];
  return [
    {
      path: 'spec.stages',
      message:
        `${threads.length} dedicated stage threads (${threads.join(', ')}) on a ${cores}-core machine: they cannot all ` +
        `run at once (the main thread, which runs ingest, comes on top); place some on 'shared' or on another stage`,
    },
  ];
}
