import { DriveRecorder, type RecordingSummary } from '../service/drive-recorder.js';
import { driveMetadata } from '../io/drive-metadata.js';
import { CHUNK_COMPRESSIONS, type ChunkCompression } from '../io/zstd-codec.js';
import { RUN_COMMAND } from './run-command.js';
import { prepareRun, runUntilStopped, startService } from './service-lifecycle.js';
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
    {
      name: 'max-mb',
      type: 'number',
      min: 0.1,
      max: 1_000_000,
      valueName: 'MB',
      doc: 'largest drive file: past it recording stops with an error, as on a full disk (default: no limit)',
    },
    {
      name: 'chunk-mb',
      type: 'number',
      min: 0.0625,
      max: 256,
      valueName: 'MB',
      doc: 'MCAP chunk size before compression (default 8): smaller chunks lose less to a crash',
    },
    ...RUN_COMMAND.flags,
  ],
  notes:
    'Runs the service exactly as `run` does and records every message offered to ingest (accepted\n' +
    'or not) on a channel per sensor, in the wire format; simulator sources add ground truth. The\n' +
    'recording is best-effort: a writer thread compresses and writes, and when the disk cannot keep\n' +
    'up messages are dropped from the queue, counted (smi_recorder_dropped_total{channel}) and\n' +
    'reported at the end. SIGINT/SIGTERM or --duration stops the service, then the recording is\n' +
    'finished with its index. A write error (a full disk, --max-mb) stops the recording, not the\n' +
    'service: it is logged, smi_recorder_failed turns 1, the drive stays readable to its last chunk.\n' +
    'Exit 0 when the drive was written, 1 on a recording error, 2 on bad input.',
};

/** Stops the command even if a part hangs; the drive stays readable up to its last chunk. */
const HARD_DEADLINE_MS = 6000;

/** What the file holds (every channel), what was recorded (raw channels), and what was lost. */
function summaryLine(s: RecordingSummary): string {
  const lost = s.dropped + s.unwritten;
  const views = s.fileMessages - s.written;
  return (
    `${s.path}: ${s.fileMessages} messages on ${s.fileChannels} channels ` +
    `(${s.written} recorded on ${s.rawChannels} raw channels, ${views} Foxglove views on ${s.fileChannels - s.rawChannels}), ` +
    `${(s.bytes / 1e6).toFixed(1)} MB in ${s.chunks} chunks (largest ${(s.maxChunkBytes / 2 ** 20).toFixed(2)} MiB uncompressed); ` +
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
  const prepared = prepareRun('record', flags);
  if (typeof prepared === 'number') return prepared;
  const { log, spec } = prepared;
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
      chunkBytes: flags['chunk-mb'] === undefined ? undefined : Math.round(Number(flags['chunk-mb']) * 1e6),
      maxBytes: flags['max-mb'] === undefined ? undefined : Math.round(Number(flags['max-mb']) * 1e6),
    });
  } catch (err) {
    process.stderr.write(`${prefix}: ${(err as Error).message}\n`);
    return 1;
  }
  const service = await startService('record', prepared, flags, {
    inputTap: recorder.inputTap,
    outputTap: flags.outputs ? recorder.outputTap : undefined,
    groundTruthTap: recorder.truthTap,
    tapShed: recorder.shed,
  });
  if (!service) {
    await recorder.stop();
    return 1;
  }
  recorder.registerMetrics(service.metrics.registry);
  return runUntilStopped(
    log,
    flags,
    async () => {
      await service.stop().catch((err: unknown) => log.error({ err }, 'error while stopping the service'));
      const summary = await recorder.stop();
      process.stdout.write(`${summaryLine(summary)}\n`);
      return summary.error ? 1 : 0;
    },
    HARD_DEADLINE_MS,
  );
}
