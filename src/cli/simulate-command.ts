import { defaultPipelineSpec, loadPipelineSpec, type PipelineSpec } from '../smi/spec/pipeline-spec.js';
import { FileValidationError } from '../schema/yaml-file.js';
import { resolveScenarioFile } from '../service/simulator-source.js';
import { writeSimulatedDrive } from '../service/simulated-drive.js';
import { CHUNK_COMPRESSIONS, type ChunkCompression } from '../io/zstd-codec.js';
import type { CommandSpec, FlagValues } from './flags.js';
import { SEED_FLAG } from './run-flags.js';

export const SIMULATE_COMMAND: CommandSpec = {
  name: 'simulate',
  summary: 'Write a drive (MCAP) from a simulated scenario, offline and as fast as it goes.',
  usage: 'smi-fusion simulate SCENARIO --out FILE [--seed N] [--duration SECONDS]',
  positionals: {
    name: 'SCENARIO',
    min: 1,
    max: 1,
    doc: 'a scenario name in fixtures/scenarios (e.g. cut-in) or a scenario file',
  },
  flags: [
    { name: 'out', type: 'string', valueName: 'FILE', doc: 'the drive to write (required)' },
    SEED_FLAG,
    {
      name: 'duration',
      type: 'number',
      min: 0.001,
      valueName: 'SECONDS',
      doc: "stop after this much scenario time (default: the scenario's duration)",
    },
    {
      name: 'pipeline',
      type: 'string',
      valueName: 'FILE',
      doc: 'pipeline spec whose sensors are simulated and recorded (default: the built-in rig)',
    },
    {
      name: 'compression',
      type: 'enum',
      values: CHUNK_COMPRESSIONS,
      doc: 'MCAP chunk compression (default zstd)',
    },
    { name: 'no-foxglove', type: 'boolean', doc: 'leave out the Foxglove channels (raw channels only)' },
  ],
  notes:
    'Open loop: the ego follows its script (no planner runs). Stamps are the scenario clock (ns from\n' +
    'its start); ground truth (truth/actors) is written at every odometry message. Prints one line\n' +
    'with what was written. Exit 0 on success, 1 when the drive cannot be written, 2 on bad input.',
};

/** `smi-fusion simulate`: returns the exit code. */
export async function simulateCommand(flags: FlagValues, positionals: readonly string[]): Promise<number> {
  const prefix = 'smi-fusion simulate';
  if (flags.out === undefined) {
    process.stderr.write(`${prefix}: --out FILE is required\n`);
    return 2;
  }
  let scenarioFile: string;
  try {
    scenarioFile = resolveScenarioFile(positionals[0]!);
  } catch (err) {
    process.stderr.write(`${prefix}: ${(err as Error).message}\n`);
    return 2;
  }
  let spec: PipelineSpec;
  try {
    spec = flags.pipeline !== undefined ? loadPipelineSpec(String(flags.pipeline)) : defaultPipelineSpec();
  } catch (err) {
    process.stderr.write(`${prefix}: --pipeline: invalid spec\n${(err as Error).message}\n`);
    return 2;
  }
  spec.sources = [
    {
      type: 'simulator',
      scenario: positionals[0]!,
      loop: false,
      closedLoop: false,
      ...(flags.seed !== undefined ? { seed: Number(flags.seed) } : {}),
    },
  ];
  const started = process.hrtime.bigint();
  try {
    const r = await writeSimulatedDrive({
      scenarioFile,
      out: String(flags.out),
      spec,
      seed: flags.seed === undefined ? undefined : Number(flags.seed),
      durationS: flags.duration === undefined ? undefined : Number(flags.duration),
      compression: (flags.compression as ChunkCompression | undefined) ?? 'zstd',
      foxglove: !flags['no-foxglove'],
    });
    const wallS = Number(process.hrtime.bigint() - started) / 1e9;
    process.stdout.write(
      `${flags.out}: ${(Number(r.durationNs) / 1e9).toFixed(1)} s of ${positionals[0]}, ` +
        `${r.sensorMessages} sensor messages, ${r.truthMessages} ground-truth samples, ` +
        `${r.messages} MCAP messages in ${r.chunks} chunks, ${(r.bytes / 1e6).toFixed(1)} MB, written in ${wallS.toFixed(1)} s\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof FileValidationError) {
      process.stderr.write(`${prefix}: invalid scenario\n${err.message}\n`);
      return 2;
    }
    process.stderr.write(`${prefix}: ${(err as Error).message}\n`);
    return 1;
  }
}
