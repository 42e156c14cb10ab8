import { defaultPipelineSpec, loadPipelineSpec, type PipelineSpec } from '../smi/pipeline-spec.js';
import { FusionService } from '../service/fusion-service.js';
import { createLogger, LOG_LEVELS } from '../telemetry/logger.js';
import { FileValidationError } from '../schema/yaml-file.js';
import { DriveRecorder, type RecordingSummary } from '../io/drive-recorder.js';
import { driveMetadata } from '../io/drive-metadata.js';
import { CHUNK_COMPRESSIONS, type ChunkCompression } from '../io/zstd-codec.js';
import { RUN_COMMAND, applyRunFlags } from './run-command.js';
import type { CommandSpec, FlagValues } from './flags.js';

export const RECORD_COMMAND: CommandSpec = {
  name: 'record',
  summary: 'Run the service and record what it receives to a drive (MCAP).',
  usage: 'smi-fusion record --out FILE [--outputs] [run flags]',
  flags: [
    { name: 'out', type: 'string', valueName: 'FILE', doc: 'the drive to write (required)' },
    { name: 'outputs', type: 'boolean', doc: 'also record the published tracks and plans' },
    {
      name: 'compression',
      type: 'enum',
      values: CHUNK_COMPRESSIONS,
      doc: 'MCAP chunk compression (default zstd)',
    },
    { name: 'no-foxglove', type: 'boolean', doc: 'leave out the Foxglove channels (raw channels only)' },
    {
      name: 'queue-mb',
      type: 'number',
      min: 4,
      max: 4096,
      valueName: 'MB',
      doc: 'recording queue between the service and the disk writer (default 64)',
    },
    ...RUN_COMMAND.flags,
  ],
  notes:
    'Runs the service exactly as `run` does and records every message offered to ingest (accepted\n' +
    'or not) on a channel per sensor, in the wire format; simulator sources add ground truth. The\n' +
    'recording is best-effort: a writer thread compresses and writes, and when the disk cannot keep\n' +
    'up messages are dropped from the queue, counted (smi_recorder_dropped_total{channel}) and\n' +
    'reported at the end. SIGINT/SIGTERM or --duration stops the service, then the recording is\n' +
    'finished with its index. Exit 0 when the drive was written, 1 on a recording error, 2 on bad input.',
};

/** Stops the command even if a part hangs; the drive stays readable up to its last chunk. */
const HARD_DEADLINE_MS = 6000;

function summaryLine(s: RecordingSummary): string {
  const lost = s.dropped + s.unwritten;
  return (
    `${s.path}: ${s.written} messages on ${Object.keys(s.channels).length} channels, ${(s.bytes / 1e6).toFixed(1)} MB in ${s.chunks} chunks; ` +
    `${lost} dropped${lost ? ` (${s.dropped} queue full or unrecordable, ${s.unwritten} unwritten at stop)` : ''}` +
    (s.error ? `; recording failed: ${s.error}` : '')
  );
}

/** `smi-fusion record`: returns the exit code. */
export async function recordCommand(flags: FlagValues): Promise<number> {
  const prefix = 'smi-fusion record';
  if (flags.out === undefined) {
    process.stderr.write(`${prefix}: --out FILE is required\n`);
    return 2;
  }
  const log = createLogger((flags['log-level'] as (typeof LOG_LEVELS)[number] | undefined) ?? 'info');
  let spec: PipelineSpec;
  try {
    spec = flags.pipeline !== undefined ? loadPipelineSpec(String(flags.pipeline)) : defaultPipelineSpec();
  } catch (err) {
    process.stderr.write(`${prefix}: --pipeline: invalid spec\n${(err as Error).message}\n`);
    return err instanceof FileValidationError ? 2 : 1;
  }
  const flagError = applyRunFlags(spec, flags, flags.pipeline !== undefined);
  if (flagError) {
    process.stderr.write(`${flagError.replace('smi-fusion run', prefix)}\n`);
    return 2;
  }
  let recorder: DriveRecorder;
  try {
    recorder = await DriveRecorder.start({
      path: String(flags.out),
      spec,
      log,
      metadata: driveMetadata({
        producer: 'record',
        spec,
        startNs: process.hrtime.bigint(),
        clock: 'host-monotonic',
      }),
      compression: (flags.compression as ChunkCompression | undefined) ?? 'zstd',
      foxglove: !flags['no-foxglove'],
      queueBytes:
        flags['queue-mb'] === undefined ? undefined : Math.round(Number(flags['queue-mb']) * 1024 * 1024),
    });
  } catch (err) {
    process.stderr.write(`${prefix}: ${(err as Error).message}\n`);
    return 1;
  }
  const interval = flags['status-interval'] === undefined ? 1 : Number(flags['status-interval']);
  let service: FusionService;
  try {
    service = await FusionService.start(spec, {
      log,
      statusSink: interval > 0 ? (line) => process.stdout.write(`${line}\n`) : undefined,
      statusIntervalMs: interval * 1000,
      inputTap: recorder.inputTap,
      outputTap: flags.outputs ? recorder.outputTap : undefined,
      groundTruthTap: recorder.truthTap,
    });
  } catch (err) {
    log.error({ err }, 'smi-fusion failed to start');
    process.stderr.write(`${prefix}: cannot start: ${(err as Error).message}\n`);
    await recorder.stop();
    return 1;
  }
  recorder.registerMetrics(service.metrics.registry);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (why: string): void => {
      if (stopping) return;
      stopping = true;
      log.info({ why }, 'stopping');
      const deadline = setTimeout(() => {
        log.error(`shutdown took longer than ${HARD_DEADLINE_MS} ms; exiting anyway`);
        resolve(1);
      }, HARD_DEADLINE_MS);
      deadline.unref();
      (async () => {
        await service.stop().catch((err: unknown) => log.error({ err }, 'error while stopping the service'));
        const summary = await recorder.stop();
        process.stdout.write(`${summaryLine(summary)}\n`);
        clearTimeout(deadline);
        resolve(summary.error ? 1 : 0);
      })().catch((err: unknown) => {
        log.error({ err }, 'error while stopping');
        resolve(1);
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    if (flags.duration !== undefined)
      setTimeout(() => stop('duration elapsed'), Number(flags.duration) * 1000);
  });
}
