/**
 * The live state of a running service, Kubernetes-style (what `smi-fusion status` shows and
 * `GET /status` serves): generation, observedGeneration and conditions from the controller;
 * stages, channels, splits, targets and sensors from the pipeline.
 */
import { API_VERSION } from '../smi/spec/pipeline-spec.js';
import type { Condition, ControllerStatus } from '../smi/controller/spec-controller.js';
import type { SchedulerStatus } from '../smi/scheduler/scheduler-telemetry.js';
import type { SplitReport } from '../workers/stage-thread-protocol.js';

import type { FusionService } from './fusion-service.js';

export interface ServiceStatus {
  apiVersion: string;
  kind: 'PipelineStatus';
  metadata: { name: string };
  status: Omit<ControllerStatus, 'conditions'> & {
    conditions: Condition[];
    overloadLevel: number;
    stages: (SchedulerStatus['stages'][number] & { version: string })[];
    channels: (SchedulerStatus['channels'][number] & { occupancy: number })[];
    splits: {
      name: string;
      stage: string;
      mode: string;
      weights: Record<string, number>;
      /** Share of output frames each version made so far. */
      observedShares: Record<string, number>;
      divergence: SplitReport['divergence'] | undefined;
    }[];
    targets: { name: string; op: string; channels: string[]; subjects: string[] }[];
    /** Writes and reads refused, by `op channel subject`. */
    denials: Record<string, number>;
    /** The tracker thread's deaths and replacements (README "Failure behaviour"). */
    recovery: ReturnType<FusionService['scheduler']['recoveryStatus']>;
    sensors: {
      id: string;
      kind: string;
      expectedHz: number;
      rateHz: number;
      received: number;
      health: 'ok' | 'stale' | 'silent';
    }[];
  };
}

/** Per service: the received counts at the last status, to give each sensor's rate. */
const lastSeen = new WeakMap<FusionService, { atMs: number; received: number[] }>();

export function serviceStatus(service: FusionService, sourcesReady: boolean): ServiceStatus {
  const spec = service.current;
  const sched = service.scheduler.telemetry.status();
  const controller: ControllerStatus = service.controller?.status() ?? {
    generation: 1,
    observedGeneration: 1,
    conditions: [],
    specs: [],
    applies: [],
  };
  const now = performance.now();
  const received = spec.sensors.map((_, i) => service.ingest.receivedOf(i));
  const prev = lastSeen.get(service);
  lastSeen.set(service, { atMs: now, received });
  const dt = prev ? (now - prev.atMs) / 1000 : 0;
  const sensors = spec.sensors.map((s, i) => {
    const rate = prev && dt > 0 ? (received[i]! - prev.received[i]!) / dt : NaN;
    const health: 'ok' | 'stale' | 'silent' =
      received[i] === 0 ? 'silent' : Number.isNaN(rate) || rate >= s.rateHz / 3 ? 'ok' : 'stale';
    return {
      id: s.id,
      kind: s.kind,
      expectedHz: s.rateHz,
      rateHz: Math.round(rate * 10) / 10,
      received: received[i]!,
      health,
    };
  });
  const report = service.scheduler.splitReport;
  const splits = spec.splits.map((sp) => {
    const r = report?.name === sp.name ? report : undefined;
    const total = r ? r.routed[0] + r.routed[1] : 0;
    return {
      name: sp.name,
      stage: sp.stage,
      mode: sp.mode,
      weights: { [sp.primary.version]: sp.primary.weight, [sp.alternative.version]: sp.alternative.weight },
      observedShares: {
        [sp.primary.version]: total > 0 ? r!.routed[0] / total : 0,
        [sp.alternative.version]: total > 0 ? r!.routed[1] / total : 0,
      },
      divergence: r?.divergence,
    };
  });
  const versionOf = (stage: string): string => {
    const sp = spec.splits.find((x) => x.stage === stage);
    if (!sp) return '-';
    return sp.mode === 'shadow'
      ? `${sp.primary.version} (shadow ${sp.alternative.version})`
      : `${sp.primary.version} ${sp.primary.weight}% / ${sp.alternative.version} ${sp.alternative.weight}%`;
  };
  const conditions = controller.conditions.map((c) => ({ ...c }));
  const at = new Date().toISOString();
  const ready = conditions.find((c) => c.type === 'Ready');
  if (!sourcesReady) {
    const c = {
      type: 'Ready' as const,
      status: 'False' as const,
      reason: 'SourcesNotReady',
      message: 'waiting for sources to connect',
      lastTransitionTime: at,
    };
    if (ready) Object.assign(ready, c);
    else conditions.push(c);
  } else if (!ready) {
    conditions.push({
      type: 'Ready',
      status: 'True',
      reason: 'Running',
      message: 'generation 1',
      lastTransitionTime: at,
    });
  }
  const degraded = conditions.find((c) => c.type === 'Degraded');
  const problems: string[] = [];
  const recovery = service.scheduler.recoveryStatus();
  const lastDeath = recovery?.events.at(-1);
  // A replacement within the last 10 s still counts: the tracks it resumed are settling.
  const recent = lastDeath !== undefined && Date.now() - Date.parse(lastDeath.at) < 10_000;
  const lidarDown = recovery?.lidar !== undefined;
  const trackerDown = recovery?.state === 'failed';
  const trackerRestarted =
    !trackerDown && recovery !== undefined && (recovery.state === 'replacing' || recent);
  if (lidarDown) problems.push(`lidar thread down (${recovery!.lidar!.reason}): no lidar boxes`);
  if (trackerDown) problems.push(`tracker thread down (${lastDeath?.reason ?? 'not replaced'})`);
  if (trackerRestarted) {
    const how = recovery!.state === 'replacing' ? 'being replaced' : 'replaced';
    problems.push(`tracker thread ${how} (${lastDeath?.reason})`);
  }
  if (sched.overloadLevel > 0) problems.push(`overload level ${sched.overloadLevel}`);
  const lagging = sched.stages.filter((s) => s.lagging).map((s) => s.name);
  if (lagging.length > 0) problems.push(`lagging: ${lagging.join(', ')}`);
  const stale = sensors.filter((s) => s.health !== 'ok').map((s) => `${s.id} ${s.health}`);
  if (sourcesReady && stale.length > 0) problems.push(`sensors: ${stale.join(', ')}`);
  if (problems.length > 0 && (!degraded || degraded.status === 'False')) {
    const c = {
      type: 'Degraded' as const,
      status: 'True' as const,
      reason:
        lidarDown || trackerDown
          ? 'StageFailed'
          : trackerRestarted
            ? 'StageRestarted'
            : sched.overloadLevel > 0
              ? 'Overload'
              : lagging.length
                ? 'Lagging'
                : 'SensorHealth',
      message: problems.join('; '),
      lastTransitionTime: at,
    };
    if (degraded) Object.assign(degraded, c);
    else conditions.push(c);
  } else if (!degraded) {
    conditions.push({
      type: 'Degraded',
      status: 'False',
      reason: 'AsSpecified',
      message: 'running as specified',
      lastTransitionTime: at,
    });
  }
  return {
    apiVersion: API_VERSION,
    kind: 'PipelineStatus',
    metadata: { name: spec.name },
    status: {
      generation: controller.generation,
      observedGeneration: controller.observedGeneration,
      conditions,
      specs: controller.specs,
      applies: controller.applies,
      overloadLevel: sched.overloadLevel,
      stages: sched.stages.map((s) => ({ ...s, version: versionOf(s.name) })),
      channels: sched.channels.map((c) => ({ ...c, occupancy: c.slots > 0 ? c.slotsInUse / c.slots : 0 })),
      splits,
      targets: spec.targets.map((t) => ({
        name: t.name,
        op: t.op,
        channels: t.channels,
        subjects: t.subjects.map((s) =>
          'source' in s ? `source:${s.source}` : 'stage' in s ? `stage:${s.stage}` : 'external',
        ),
      })),
      denials: Object.fromEntries(service.denials),
      recovery,
      sensors,
    },
  };
}
