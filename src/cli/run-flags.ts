import { defaultPipelineSpec, loadSpecSet, type PipelineSpec } from '../smi/spec/pipeline-spec.js';
import { resolveScenarioFile } from '../service/simulator-source.js';
import type { FlagSpec, FlagValues } from './flags.js';

/** `--seed N`: the simulator's seed, for the commands that run the built-in simulator. */
export const SEED_FLAG: FlagSpec = {
  name: 'seed',
  type: 'int',
  min: 0,
  max: 2 ** 32 - 1,
  valueName: 'N',
  doc: "simulator seed (default: the scenario's)",
};

/** Applies CLI overrides to a spec; returns an error message naming the flag when one does not fit. */
export function applyRunFlags(
  spec: PipelineSpec,
  flags: FlagValues,
  fromFile: boolean,
  command = 'run',
): string | undefined {
  if (flags.scenario !== undefined || flags.seed !== undefined) {
    const sim = spec.sources.find((s) => s.type === 'simulator');
    if (!sim || sim.type !== 'simulator') {
      return `smi-fusion ${command}: --${flags.scenario !== undefined ? 'scenario' : 'seed'} needs a simulator source; ${spec.origin} has none`;
    }
    if (flags.scenario !== undefined) {
      try {
        resolveScenarioFile(String(flags.scenario));
      } catch (err) {
        return `smi-fusion ${command}: --scenario: ${(err as Error).message}`;
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
  if (flags.foxglove !== undefined) {
    spec.outputs.foxglove = {
      host: spec.outputs.foxglove?.host ?? '127.0.0.1',
      port: Number(flags.foxglove),
      sendBufferBytes: spec.outputs.foxglove?.sendBufferBytes ?? 16 * 2 ** 20,
    };
  }
  if (flags['aeb-only']) spec.planning.accEnabled = false;
  return undefined;
}

/**
 * The spec files `--pipeline` names: a file, a directory of spec files, or several of either
 * separated by commas (a Pipeline and its TrafficSplits and TrafficTargets are one set).
 */
export function pipelinePaths(value: unknown): string[] {
  return String(value)
    .split(',')
    .filter((p) => p.length > 0);
}

/** The spec `--pipeline` names (or the built-in one); undefined after saying why it is invalid. */
export function specFromPipelineFlag(flags: FlagValues, command: string): PipelineSpec | undefined {
  try {
    return flags.pipeline !== undefined ? loadSpecSet(pipelinePaths(flags.pipeline)) : defaultPipelineSpec();
  } catch (err) {
    process.stderr.write(`smi-fusion ${command}: --pipeline: invalid spec\n${(err as Error).message}\n`);
    return undefined;
  }
}
