import { defaultPipelineSpec, loadSpecSet, type PipelineSpec } from '../smi/spec/pipeline-spec.js';
import { FileValidationError } from '../schema/yaml-file.js';
import { createLogger, type Logger, type LOG_LEVELS } from '../telemetry/logger.js';
import { FusionService, type ServiceOptions } from '../service/fusion-service.js';
import { applyRunFlags, pipelinePaths } from './run-flags.js';
import type { FlagValues } from './flags.js';

/** What a long-running command (`run`, `record`) needs before it starts the service. */
export interface PreparedRun {
  log: Logger;
  spec: PipelineSpec;
}

/**
 * Loads the spec named by --pipeline (or the built-in one) and applies the run flags.
 * On a bad spec or flag, writes the error under `command`'s name and returns the exit code.
 */
export function prepareRun(command: string, flags: FlagValues): PreparedRun | number {
  const log = createLogger((flags['log-level'] as (typeof LOG_LEVELS)[number] | undefined) ?? 'info');
  let spec: PipelineSpec;
  try {
    spec = flags.pipeline !== undefined ? loadSpecSet(pipelinePaths(flags.pipeline)) : defaultPipelineSpec();
  } catch (err) {
    process.stderr.write(`smi-fusion ${command}: --pipeline: invalid spec\n${(err as Error).message}\n`);
    return err instanceof FileValidationError ? 2 : 1;
  }
  const flagError = applyRunFlags(spec, flags, flags.pipeline !== undefined, command);
  if (flagError) {
    process.stderr.write(`${flagError}\n`);
    return 2;
  }
  return { log, spec };
}

/** Starts the service with the status line the --status-interval flag asks for; undefined on failure (said). */
export async function startService(
  command: string,
  prepared: PreparedRun,
  flags: FlagValues,
  options: Omit<ServiceOptions, 'log' | 'statusSink' | 'statusIntervalMs'> = {},
): Promise<FusionService | undefined> {
  const interval = flags['status-interval'] === undefined ? 1 : Number(flags['status-interval']);
  try {
    return await FusionService.start(prepared.spec, {
      ...options,
      log: prepared.log,
      statusSink: interval > 0 ? (line) => process.stdout.write(`${line}\n`) : undefined,
      statusIntervalMs: interval * 1000,
    });
  } catch (err) {
    prepared.log.error({ err }, 'smi-fusion failed to start');
    process.stderr.write(`smi-fusion ${command}: cannot start: ${(err as Error).message}\n`);
    return undefined;
  }
}

/**
 * Runs until SIGINT, SIGTERM or --duration, then calls `shutdown` (which resolves with the exit
 * code). If shutdown overruns `deadlineMs` the command exits 1 anyway: a hung part must not keep
 * the process alive past its stop contract.
 */
export function runUntilStopped(
  log: Logger,
  flags: FlagValues,
  shutdown: () => Promise<number>,
  deadlineMs: number,
): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (why: string): void => {
      if (stopping) return;
      stopping = true;
      log.info({ why }, 'stopping');
      const deadline = setTimeout(() => {
        log.error(`shutdown took longer than ${deadlineMs} ms; exiting anyway`);
        resolve(1);
      }, deadlineMs);
      deadline.unref();
      shutdown().then(
        (code) => {
          clearTimeout(deadline);
          resolve(code);
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
