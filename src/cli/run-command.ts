import { defaultPipelineSpec, loadPipelineSpec, type PipelineSpec } from '../smi/pipeline-spec.js';
import { FusionService } from '../service/fusion-service.js';
import { createLogger, LOG_LEVELS } from '../telemetry/logger.js';
import { FileValidationError } from '../schema/yaml-file.js';
import { resolveScenarioFile } from '../sensors/simulator-source.js';
import type { CommandSpec, FlagValues } from './flags.js';

export const RUN_COMMAND: CommandSpec = {
  name: 'run',
  summary: 'Run the onboard fusion service.',
  usage: 'smi-fusion run [--pipeline FILE] [flags]',
  flags: [
    {
      name: 'pipeline',
      type: 'string',
      valueName: 'FILE',
      doc: 'pipeline spec (YAML); default: the built-in simulated drive',
    },
    {
      name: 'scenario',
      type: 'string',
      valueName: 'NAME|FILE',
      doc: 'scenario for the built-in simulator (default highway-following)',
    },
    {
      name: 'seed',
      type: 'int',
      min: 0,
      max: 2 ** 32 - 1,
      valueName: 'N',
      doc: "simulator seed (default: the scenario's)",
    },
    {
      name: 'duration',
      type: 'number',
      min: 0,
      valueName: 'SECONDS',
      doc: 'stop after this long (default: until SIGINT/SIGTERM)',
    },
    {
      name: 'publish',
      type: 'string',
      valueName: 'ENDPOINT',
      doc: 'ZeroMQ PUB endpoint for out/tracks and out/plan (default tcp://127.0.0.1:5560)',
    },
    { name: 'metrics-host', type: 'string', valueName: 'HOST', doc: 'metrics HTTP host (default 127.0.0.1)' },
    {
      name: 'metrics-port',
      type: 'int',
      min: 0,
      max: 65535,
      valueName: 'PORT',
      doc: 'metrics HTTP port, 0 = any free port (default 9464)',
    },
    { name: 'no-metrics', type: 'boolean', doc: 'do not serve /metrics' },
    {
      name: 'status-interval',
      type: 'number',
      min: 0,
      valueName: 'SECONDS',
      doc: 'status line period; 0 = no status line (default 1)',
    },
    {
      name: 'log-level',
      type: 'enum',
      values: LOG_LEVELS,
      doc: 'log level of the JSON logs on stderr (default info)',
    },
  ],
  notes:
    'The status line goes to stdout, JSON logs to stderr. SIGINT or SIGTERM stops the service:\n' +
    'sources stop, the cycle in flight is finished and published, sockets and workers close, exit 0.',
};

/** Applies CLI overrides to a spec; returns an error message naming the flag when one does not fit. */
export function applyRunFlags(spec: PipelineSpec, flags: FlagValues, fromFile: boolean): string | undefined {
  if (flags.scenario !== undefined || flags.seed !== undefined) {
    const sim = spec.sources.find((s) => s.type === 'simulator');
    if (!sim || sim.type !== 'simulator') {
      return `smi-fusion run: --${flags.scenario !== undefined ? 'scenario' : 'seed'} needs a simulator source; ${spec.origin} has none`;
    }
    if (flags.scenario !== undefined) {
      try {
        resolveScenarioFile(String(flags.scenario));
      } catch (err) {
        return `smi-fusion run: --scenario: ${(err as Error).message}`;
      }
      sim.scenario = String(flags.scenario);
      if (!fromFile) sim.loop = true;
    }
    if (flags.seed !== undefined) sim.seed = Number(flags.seed);
  }
  if (flags.publish !== undefined) spec.outputs.publish = String(flags.publish);
  if (flags['metrics-host'] !== undefined) spec.outputs.metrics.host = String(flags['metrics-host']);
  if (flags['metrics-port'] !== undefined) spec.outputs.metrics.port = Number(flags['metrics-port']);
  if (flags['no-metrics']) spec.outputs.metrics.enabled = false;
  return undefined;
}

/** `smi-fusion run`: starts the service and runs until a signal or --duration. Returns the exit code. */
export async function runCommand(flags: FlagValues): Promise<number> {
  const log = createLogger((flags['log-level'] as (typeof LOG_LEVELS)[number] | undefined) ?? 'info');
  let spec: PipelineSpec;
  try {
    spec = flags.pipeline !== undefined ? loadPipelineSpec(String(flags.pipeline)) : defaultPipelineSpec();
  } catch (err) {
    process.stderr.write(`smi-fusion run: --pipeline: invalid spec\n${(err as Error).message}\n`);
    return err instanceof FileValidationError ? 2 : 1;
  }
  const flagError = applyRunFlags(spec, flags, flags.pipeline !== undefined);
  if (flagError) {
    process.stderr.write(`${flagError}\n`);
    return 2;
  }
  const interval = flags['status-interval'] === undefined ? 1 : Number(flags['status-interval']);
  let service: FusionService;
  try {
    service = await FusionService.start(spec, {
      log,
      statusSink: interval > 0 ? (line) => process.stdout.write(`${line}\n`) : undefined,
      statusIntervalMs: interval * 1000,
    });
  } catch (err) {
    log.error({ err }, 'smi-fusion failed to start');
    process.stderr.write(`smi-fusion run: cannot start: ${(err as Error).message}\n`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (why: string): void => {
      if (stopping) return;
      stopping = true;
      log.info({ why }, 'stopping');
      // Hard deadline: the contract is exit within 2 s of a signal, even if a part hangs.
      const deadline = setTimeout(() => {
        log.error('shutdown took longer than 1.8 s; exiting anyway');
        resolve(1);
      }, 1800);
      deadline.unref();
      service.stop().then(
        () => {
          clearTimeout(deadline);
          resolve(0);
        },
        (err: unknown) => {
          clearTimeout(deadline);
          log.error({ err }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    if (flags.duration !== undefined)
      setTimeout(() => stop('duration elapsed'), Number(flags.duration) * 1000);
  });
}
