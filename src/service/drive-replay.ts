/**
 * One recorded drive played through a fresh service: start it with the drive as its only source,
 * play, let the last frame finish, stop. What `replay`, the reference outputs and each drive of a
 * `replay-batch` share; they differ only in the spec, the speed and what they tap.
 */
import type { PipelineSpec } from '../smi/spec/pipeline-spec.js';
import type { Logger } from '../telemetry/logger.js';
import { ReplaySource, type ReplayOptions, type ReplayResult } from '../sensors/replay-source.js';
import { FusionService } from './fusion-service.js';

export interface DriveReplayOptions extends Pick<
  ReplayOptions,
  'path' | 'speed' | 'loop' | 'fromS' | 'toS' | 'onOffered' | 'onRecorded'
> {
  /** The pipeline; its `sources` are ignored (the drive is the only input). */
  spec: PipelineSpec;
  log: Logger;
  /** Sees every published output message (topic, header, payload). */
  outputTap?: (parts: readonly Buffer[]) => void;
  statusSink?: (line: string) => void;
  statusIntervalMs?: number;
  /** Aborting stops playback early; what was played so far is still reported. */
  signal?: AbortSignal;
  /** Sees the service once it has stopped (e.g. for its final split report). */
  onStopped?: (service: FusionService) => void;
}

/** The service could not start; nothing was played. */
export class DriveReplayStartError extends Error {}

/** How long a paced replay's last frame may take before the service is stopped anyway. */
const FINISH_TIMEOUT_MS = 2000;

/**
 * Plays `path` through a new service under `spec` and stops it. At speed `max` the scheduler runs
 * deterministically, so the same drive and spec publish the same outputs. Throws
 * DriveReplayStartError when the service cannot start, and the reader's error when playback fails.
 */
export async function replayDrive(o: DriveReplayOptions): Promise<ReplayResult> {
  const spec: PipelineSpec = { ...o.spec, sources: [] };
  const box: { service?: FusionService } = {};
  const source = new ReplaySource({
    path: o.path,
    speed: o.speed,
    loop: o.loop,
    fromS: o.fromS,
    toS: o.toS,
    sensors: spec.sensors,
    log: o.log,
    whenIdle: () => box.service!.scheduler.whenIdle(),
    onLoop: () => {
      box.service!.ingest.resetSensorHistory();
      box.service!.scheduler.resetTracker();
    },
    onOffered: o.onOffered,
    onRecorded: o.onRecorded,
  });
  let service: FusionService;
  try {
    service = await FusionService.start(spec, {
      log: o.log,
      deterministic: o.speed === 'max',
      extraSources: [(ingest) => source.bind(ingest)],
      outputTap: o.outputTap,
      statusSink: o.statusSink,
      statusIntervalMs: o.statusIntervalMs,
    });
  } catch (err) {
    throw new DriveReplayStartError(`cannot start: ${(err as Error).message}`, { cause: err });
  }
  box.service = service;
  const stop = () => void source.stop();
  o.signal?.addEventListener('abort', stop, { once: true });
  try {
    const result = await source.play();
    // A deterministic replay waits for every frame; a paced one's pipeline is not stalled.
    if (o.speed === 'max') await service.scheduler.whenIdle();
    else
      await Promise.race([
        service.scheduler.whenIdle(),
        new Promise((r) => setTimeout(r, FINISH_TIMEOUT_MS).unref()),
      ]);
    return result;
  } finally {
    o.signal?.removeEventListener('abort', stop);
    await service.stop();
    o.onStopped?.(service);
  }
}
