import { LOG_LEVELS } from '../telemetry/logger.js';
import { prepareRun, runUntilStopped, startService } from './service-lifecycle.js';
import type { CommandSpec, FlagValues } from './flags.js';
import { SEED_FLAG, applyRunFlags, pipelinePaths } from './run-flags.js';
import { DEFAULT_CONTROL_PORT } from './control-client.js';

export const RUN_COMMAND: CommandSpec = {
  name: 'run',
  summary: 'Run the onboard fusion service.',
  usage: 'smi-fusion run [--pipeline FILE] [flags]',
  flags: [
    {
      name: 'pipeline',
      type: 'string',
      valueName: 'FILE',
      doc: 'spec files (YAML; a file, a directory, or several separated by commas: a Pipeline and its TrafficSplits and TrafficTargets), watched for changes; default: the built-in simulated drive',
    },
    {
      name: 'control-port',
      type: 'int',
      min: 0,
      max: 65535,
      valueName: 'PORT',
      doc: 'loopback control endpoint for smi-fusion status and apply, 0 = any free port (default 9465)',
    },
    { name: 'no-control', type: 'boolean', doc: 'no control endpoint and no spec watch' },
    {
      name: 'scenario',
      type: 'string',
      valueName: 'NAME|FILE',
      doc: 'scenario for the built-in simulator (default highway-following)',
    },
    SEED_FLAG,
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
      name: 'foxglove',
      type: 'int',
      min: 0,
      max: 65535,
      valueName: 'PORT',
      doc: 'serve the Foxglove live view (WebSocket) on this port, 0 = any (host: spec.outputs.foxglove.host, default 127.0.0.1)',
    },
    {
      name: 'aeb-only',
      type: 'boolean',
      doc: 'ACC off: the planner only brakes for AEB (spec.planning.accEnabled false)',
    },
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

/** `smi-fusion run`: starts the service and runs until a signal or --duration. Returns the exit code. */
export async function runCommand(flags: FlagValues): Promise<number> {
  const prepared = prepareRun('run', flags);
  if (typeof prepared === 'number') return prepared;
  const service = await startService('run', prepared, flags, {
    control: flags['no-control']
      ? undefined
      : {
          paths: flags.pipeline !== undefined ? pipelinePaths(flags.pipeline) : [],
          prepare: (spec) => {
            const error = applyRunFlags(spec, flags, true, 'run');
            if (error) throw new Error(error);
          },
          host: '127.0.0.1',
          port: flags['control-port'] === undefined ? DEFAULT_CONTROL_PORT : Number(flags['control-port']),
        },
  });
  if (!service) return 1;
  // The contract is exit within 2 s of a signal, even if a part hangs.
  return runUntilStopped(prepared.log, flags, () => service.stop().then(() => 0), 1800);
}
