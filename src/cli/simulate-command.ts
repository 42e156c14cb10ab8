import { FileValidationError } from '../schema/yaml-file.js';
import { resolveScenarioFile } from '../service/simulator-source.js';
import { writeSimulatedDrive } from '../service/simulated-drive.js';
import { CHUNK_COMPRESSIONS, type ChunkCompression } from '../io/zstd-codec.js';
import type { CommandSpec, FlagValues } from './flags.js';
import { SEED_FLAG, specFromPipelineFlag } from './run-flags.js';
import { REPORT_FORMATS } from './closed-loop-report.js';
import { CLOSED_LOOP_FLAGS, closedLoopCommand } from './closed-loop-command.js';

export const SIMULATE_COMMAND: CommandSpec = {
  name: 'simulate',
  summary: 'Write a drive (MCAP) from a simulated scenario, or run it in closed loop and report its outcome.',
  usage:
    'smi-fusion simulate SCENARIO --out FILE [--seed N] [--duration SECONDS]\n' +
    '       smi-fusion simulate SCENARIO --closed-loop [--aeb-only] [--format table|markdown|json]\n' +
    '       smi-fusion simulate --closed-loop --sweep [--aeb-only] [--only LIST] [--format ...] [--report FILE]',
  positionals: {
    name: 'SCENARIO',
    min: 0,
    max: 1,
    doc: 'a scenario name in fixtures/scenarios (e.g. cut-in), a scenario file, or (closed loop) a case of the sweep grid (e.g. CCRs-50)',
  },
  flags: [
    {
      name: 'out',
      type: 'string',
      valueName: 'FILE',
      doc: 'the drive to write (required without --closed-loop)',
    },
    {
      name: 'closed-loop',
      type: 'boolean',
      doc: 'run the tracker and planner in the loop on the scenario clock and report the outcome (no drive is written)',
    },
    {
      name: 'sweep',
      type: 'boolean',
      doc: 'closed loop over the protocol grid and the false-activation scenarios, ACC on and AEB only',
    },
    {
      name: 'aeb-only',
      type: 'boolean',
      doc: 'ACC off: the driver drives, only AEB acts (as NCAP tests AEB)',
    },
    {
      name: 'only',
      type: 'string',
      valueName: 'LIST',
      doc: 'sweep only these cases: comma-separated case-id prefixes or families (e.g. CCRs,CPNA-25-60,false-activation)',
    },
    {
      name: 'format',
      type: 'enum',
      values: REPORT_FORMATS,
      doc: 'closed-loop report format (default table)',
    },
    {
      name: 'report',
      type: 'string',
      valueName: 'FILE',
      doc: 'also write the closed-loop report (in --format) to FILE',
    },
    {
      name: 'set-speed',
      type: 'number',
      min: 0,
      max: 70,
      valueName: 'MPS',
      doc: "ACC set speed, m/s (default: the scenario's ego speed)",
    },
    {
      name: 'delay-ms',
      type: 'number',
      min: 0,
      max: 1000,
      valueName: 'MS',
      doc: "scenario time from a plan's triggering measurement to its command acting on the ego (default: 100, the pipeline's budget plus an actuator's dead time)",
    },
    { name: 'check', type: 'boolean', doc: 'exit 1 when a run misses its target' },
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
      doc: 'pipeline spec whose sensors are simulated and recorded; the closed loop also takes its maxTracks and spec.planning (default: the built-in one)',
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
    'Open loop (default): the ego follows its script (no planner runs). Stamps are the scenario clock\n' +
    '(ns from its start); ground truth (truth/actors) is written at every odometry message. Prints one\n' +
    'line with what was written. Exit 0 on success, 1 when the drive cannot be written, 2 on bad input.\n' +
    '\n' +
    'Closed loop: simulator, tracker and planner run in this thread on the scenario clock, one message\n' +
    'at a time (same code as the service), so results are identical on a busy and an idle machine. Per\n' +
    'run: collision (impact speed, overlap), minimum gap and TTC, peak deceleration and jerk, warning\n' +
    'time, AEB onset against the last possible brake point, false activations, and whether the target\n' +
    'is met (README, Closed loop). Exit 0 when done (with --check: 1 if a target is missed).',
};

/** `smi-fusion simulate`: returns the exit code. */
export async function simulateCommand(flags: FlagValues, positionals: readonly string[]): Promise<number> {
  const prefix = 'smi-fusion simulate';
  if (flags['closed-loop']) return closedLoopCommand(flags, positionals);
  for (const f of CLOSED_LOOP_FLAGS) {
    if (flags[f] !== undefined) {
      process.stderr.write(`${prefix}: --${f} needs --closed-loop\n`);
      return 2;
    }
  }
  if (positionals.length !== 1) {
    process.stderr.write(`${prefix}: expected one SCENARIO\n`);
    return 2;
  }
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
  const spec = specFromPipelineFlag(flags, 'simulate');
  if (spec === undefined) return 2;
  spec.sources = [
    {
      type: 'simulator',
      name: 'simulator-0',
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
