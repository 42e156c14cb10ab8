/**
 * A fresh service with a drive's replay as its only source, for tests: the drive's recorded
 * pipeline (or `spec`), loopback outputs, no metrics server. Playback starts with `source.play()`.
 */
import type { Logger } from 'pino';
import { FusionService, type ServiceOptions } from '../service/fusion-service.js';
import { ReplaySource, type ReplaySpeed } from '../sensors/replay-source.js';
import { pipelineFromDrive } from '../io/drive-metadata.js';
import { readDriveMetadata } from '../io/mcap-drive-reader.js';
import type { PipelineSpec } from '../smi/spec/pipeline-spec.js';

export async function replayService(
  path: string,
  speed: ReplaySpeed,
  log: Logger,
  options: Omit<ServiceOptions, 'log' | 'deterministic' | 'extraSources'> = {},
  spec?: PipelineSpec,
  adjust: (spec: PipelineSpec) => void = () => {},
): Promise<{ service: FusionService; source: ReplaySource }> {
  spec ??= pipelineFromDrive(await readDriveMetadata(path), path);
  spec.sources = [];
  spec.outputs.publish = 'tcp://127.0.0.1:*';
  spec.outputs.metrics.enabled = false;
  adjust(spec);
  // The source needs the service's scheduler, which exists once the service has started.
  const box: { service?: FusionService } = {};
  const source = new ReplaySource({
    path,
    speed,
    sensors: spec.sensors,
    log,
    whenIdle: () => box.service!.scheduler.whenIdle(),
  });
  box.service = await FusionService.start(spec, {
    ...options,
    log,
    deterministic: speed === 'max',
    extraSources: [(ingest) => source.bind(ingest)],
  });
  return { service: box.service, source };
}
