import { existsSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { loadSpecSet, withSpecFiles, type PipelineSpec } from '../smi/spec/pipeline-spec.js';
import { DriveReplayStartError, replayDrive } from '../service/drive-replay.js';
import { createLogger, LOG_LEVELS } from '../telemetry/logger.js';
import { FileValidationError } from '../schema/yaml-file.js';
import { readDriveMetadata } from '../io/mcap-drive-reader.js';
import { pipelineFromDrive } from '../io/drive-metadata.js';
import type { ReplayResult, ReplaySpeed } from '../sensors/replay-source.js';
import { ReplayReport } from './replay-report.js';
import { exportGeometry, KittiTrackExport } from '../io/kitti-export.js';
import { META } from '../io/drive-format.js';
import { TRACK } from '../wire/layouts.js';
import { RUN_COMMAND } from './run-command.js';
import { applyRunFlags, pipelinePaths } from './run-flags.js';
import type { CommandSpec, FlagValues } from './flags.js';
import { jsonValue } from './json-value.js';

const SHARED_RUN_FLAGS = [
  'pipeline',
  'publish',
  'metrics-host',
  'metrics-port',
  'no-metrics',
  'foxglove',
  'aeb-only',
  'status-interval',
  'log-level',
];

export const REPLAY_COMMAND: CommandSpec = {
  name: 'replay',
  summary: 'Play a recorded drive (MCAP) through the pipeline as live input.',
  usage:
    'smi-fusion replay DRIVE.mcap [--speed 1|2|max] [--loop] [--from S --to S] [--report] [--report-json FILE] [--export-tracks kitti DIR]',
  positionals: { name: 'DRIVE', min: 1, max: 1, doc: 'a drive written by record or simulate' },
  flags: [
    {
      name: 'speed',
      type: 'enum',
      values: ['1', '2', 'max'],
      doc: 'original timing (1), twice as fast (2), or as fast as the pipeline takes it (max; deterministic)',
    },
    { name: 'loop', type: 'boolean', doc: 'start again at the end, until SIGINT/SIGTERM or --duration' },
    { name: 'from', type: 'number', min: 0, valueName: 'S', doc: 'start this many seconds into the drive' },
    { name: 'to', type: 'number', min: 0, valueName: 'S', doc: 'stop this many seconds into the drive' },
    {
      name: 'report',
      type: 'boolean',
      doc: 'print a summary at the end (channels, outputs, latencies, accuracy)',
    },
    {
      name: 'report-json',
      type: 'string',
      valueName: 'FILE',
      doc: 'also write the report as JSON (channels, outputs, latencies, tracking scores)',
    },
    {
      name: 'split',
      type: 'string',
      valueName: 'FILE',
      doc: "TrafficSplit (and TrafficTarget) files to run with the replay's pipeline, comma-separated; --report then shows the divergence of the alternative from the primary",
    },
    {
      name: 'match',
      type: 'enum',
      values: ['iou3d', 'distance'],
      doc: 'how tracking scores match tracks to truth: 3D IoU (default) or centre distance',
    },
    {
      name: 'match-threshold',
      type: 'number',
      min: 0,
      valueName: 'N',
      doc: 'IoU at least N (default 0.25), or centre distance at most N m (default 2)',
    },
    {
      name: 'score-range',
      type: 'number',
      min: 0,
      valueName: 'M',
      doc: 'true objects beyond M m (base_link) are not scored (default 80; KITTI drives: no limit)',
    },
    {
      name: 'export-tracks',
      type: 'enum',
      values: ['kitti'],
      then: 'DIR',
      doc: 'write the published tracks as a KITTI tracking result file DIR/<sequence>.txt',
    },
    {
      name: 'duration',
      type: 'number',
      min: 0,
      valueName: 'SECONDS',
      doc: 'stop after this long (wall clock; default: the end of the drive)',
    },
    ...RUN_COMMAND.flags.filter((f) => SHARED_RUN_FLAGS.includes(f.name)),
  ],
  notes:
    'The pipeline is the one recorded in the drive (sensors, channels, fusion, planning), or --pipeline.\n' +
    "Speed 1 paces messages by their recorded times and re-bases stamps onto this host's clock; 2 and\n" +
    "max keep recorded headers byte for byte and check stamps against the drive's clock; max runs the\n" +
    'fusion scheduler in deterministic mode, so the same drive gives the same tracks. Channels that are\n' +
    'not inputs of the pipeline are listed once and skipped. A truncated or damaged drive is played up\n' +
    'to the last readable record; the command then says where it stopped and why and exits 1.',
};

/** `smi-fusion replay`: returns the exit code. */
export async function replayCommand(flags: FlagValues, positionals: readonly string[]): Promise<number> {
  const prefix = 'smi-fusion replay';
  const path = positionals[0]!;
  if (!existsSync(path)) {
    process.stderr.write(`${prefix}: ${path}: no such file\n`);
    return 2;
  }
  const fromS = flags.from === undefined ? undefined : Number(flags.from);
  const toS = flags.to === undefined ? undefined : Number(flags.to);
  if (fromS !== undefined && toS !== undefined && toS <= fromS) {
    process.stderr.write(`${prefix}: --to ${toS} must be after --from ${fromS}\n`);
    return 2;
  }
  const speed: ReplaySpeed =
    flags.speed === undefined || flags.speed === '1'
      ? 1
      : flags.speed === 'max'
        ? 'max'
        : Number(flags.speed);
  const log = createLogger((flags['log-level'] as (typeof LOG_LEVELS)[number] | undefined) ?? 'info');
  let spec: PipelineSpec;
  try {
    spec =
      flags.pipeline !== undefined
        ? loadSpecSet(pipelinePaths(flags.pipeline))
        : pipelineFromDrive(await readDriveMetadata(path), path);
  } catch (err) {
    process.stderr.write(
      `${prefix}: ${flags.pipeline !== undefined ? '--pipeline: invalid spec' : 'no usable pipeline'}\n${(err as Error).message}\n`,
    );
    return err instanceof FileValidationError ? 2 : 1;
  }
  if (flags.split !== undefined) {
    try {
      spec = withSpecFiles(spec, pipelinePaths(flags.split));
    } catch (err) {
      process.stderr.write(`${prefix}: --split: invalid spec\n${(err as Error).message}\n`);
      return err instanceof FileValidationError ? 2 : 1;
    }
  }
  // A drive recorded with the live view on does not open it again unless asked (--foxglove).
  delete spec.outputs.foxglove;
  const flagError = applyRunFlags(spec, flags, true, 'replay');
  if (flagError) {
    process.stderr.write(`${flagError}\n`);
    return 2;
  }
  const match =
    flags.match === 'distance'
      ? {
          kind: 'distance' as const,
          threshold: flags['match-threshold'] === undefined ? 2 : Number(flags['match-threshold']),
        }
      : {
          kind: 'iou3d' as const,
          threshold: flags['match-threshold'] === undefined ? 0.25 : Number(flags['match-threshold']),
        };
  if (match.kind === 'iou3d' && !(match.threshold > 0 && match.threshold <= 1)) {
    process.stderr.write(`${prefix}: --match-threshold ${match.threshold}: a 3D IoU must be in (0, 1]\n`);
    return 2;
  }
  // The drive's records also say whether it came from KITTI (its camera); a drive too damaged to
  // have them is still played as far as it goes.
  const meta = await readDriveMetadata(path).catch(() => ({}) as Record<string, Record<string, string>>);
  const geometry = exportGeometry(meta, path);
  const report = new ReplayReport({
    match,
    // KITTI labels are scored wherever they are; simulated actors within 80 m by default.
    rangeM:
      flags['score-range'] !== undefined ? Number(flags['score-range']) : meta[META.kitti] ? Infinity : 80,
    name: basename(path).replace(/\.mcap$/, ''),
    camera: meta[META.kitti] ? geometry : undefined,
  });
  const exportDir = flags['export-tracks'] === 'kitti' ? String(flags['export-tracks.then']) : undefined;
  const interval =
    flags['status-interval'] === undefined ? (speed === 'max' ? 0 : 1) : Number(flags['status-interval']);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const timer =
    flags.duration !== undefined ? setTimeout(onSignal, Number(flags.duration) * 1000) : undefined;
  let result: ReplayResult;
  try {
    result = await replayDrive({
      path,
      spec,
      speed,
      loop: flags.loop === true,
      fromS,
      toS,
      log,
      onOffered: report.onOffered,
      onRecorded: report.onRecorded,
      outputTap: report.onOutput,
      statusSink: interval > 0 ? (line) => process.stdout.write(`${line}\n`) : undefined,
      statusIntervalMs: interval * 1000,
      signal: abort.signal,
      onStopped: (service) => {
        report.split = service.scheduler.splitReport;
      },
    });
  } catch (err) {
    if (err instanceof DriveReplayStartError) log.error({ err }, 'smi-fusion failed to start');
    process.stderr.write(`${prefix}: ${(err as Error).message}\n`);
    return 1;
  } finally {
    if (timer) clearTimeout(timer);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  for (const [topic, why] of result.skipped)
    process.stderr.write(`${prefix}: skipped channel ${topic}: ${why}\n`);
  process.stdout.write(`${flags.report ? report.format(result) : report.format(result).split('\n')[0]}\n`);
  if (flags['report-json'] !== undefined) {
    writeFileSync(String(flags['report-json']), `${JSON.stringify(report.json(result), jsonValue, 2)}\n`);
  }
  if (exportDir !== undefined) {
    const exp = new KittiTrackExport(geometry, exportDir);
    for (const list of report.trackLists)
      exp.add(list.stampNs, list.values, list.values.length / TRACK.stride);
    const written = exp.finish();
    process.stdout.write(`exported ${written.lines} track lines to ${written.path}\n`);
  }
  if (!result.read.complete) {
    const intoS =
      result.lastLogNs >= 0n ? (Number(result.lastLogNs - result.driveStartNs) / 1e9).toFixed(2) : '0';
    process.stderr.write(
      `${prefix}: ${path}: stopped at byte ${result.read.stoppedAtByte} of ${result.read.fileBytes}, after ${result.offeredTotal} messages (${intoS} s into the drive): ${result.read.reason}\n`,
    );
    return 1;
  }
  return 0;
}
