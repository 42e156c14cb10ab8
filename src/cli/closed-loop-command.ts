/** `smi-fusion simulate --closed-loop [--sweep]`: closed-loop runs and their report. */
import { writeFileSync } from 'node:fs';
import { FileValidationError } from '../schema/yaml-file.js';
import { loadScenarioFile } from '../sim/index.js';
import { protocolGrid } from '../sim/protocol-grid.js';
import type { PipelineSpec } from '../smi/spec/pipeline-spec.js';
import { resolveScenarioFile } from '../service/simulator-source.js';
import { DEFAULT_ACTUATION_DELAY_MS } from '../service/closed-loop/closed-loop-run.js';
import {
  FALSE_ACTIVATION_SCENARIOS,
  judge,
  runCase,
  runSweep,
  type RunMode,
  type SweepCase,
  type SweepRow,
} from '../service/closed-loop/sweep.js';
import { formatReport, type ReportFormat } from './closed-loop-report.js';
import type { FlagValues } from './flags.js';
import { specFromPipelineFlag } from './run-flags.js';

/** Flags that only make sense with --closed-loop. */
export const CLOSED_LOOP_FLAGS = [
  'sweep',
  'aeb-only',
  'only',
  'format',
  'report',
  'set-speed',
  'delay-ms',
  'check',
];

const prefix = 'smi-fusion simulate';

/** A grid case id (case-insensitive) or a scenario name / file. */
function resolveCase(name: string, spec: PipelineSpec): SweepCase {
  const grid = protocolGrid().find((c) => c.id.toLowerCase() === name.toLowerCase());
  if (grid) return { id: grid.id, family: grid.family, carTarget: grid.carTarget, scenario: grid.scenario };
  const file = resolveScenarioFile(name);
  const scenario = loadScenarioFile(file, { sensorIds: spec.sensors.map((s) => s.id) });
  const fa = (FALSE_ACTIVATION_SCENARIOS as readonly string[]).includes(scenario.name);
  return { id: scenario.name, family: fa ? 'false-activation' : 'scenario', carTarget: false, scenario };
}

export async function closedLoopCommand(flags: FlagValues, positionals: readonly string[]): Promise<number> {
  const sweep = flags.sweep === true;
  for (const f of ['out', 'compression', 'no-foxglove']) {
    if (flags[f] !== undefined) {
      process.stderr.write(
        `${prefix}: --closed-loop writes no drive (--${f}); use --report FILE for the report\n`,
      );
      return 2;
    }
  }
  if (sweep && positionals.length > 0) {
    process.stderr.write(`${prefix}: --sweep runs the whole grid; choose cases with --only, not SCENARIO\n`);
    return 2;
  }
  if (!sweep && positionals.length !== 1) {
    process.stderr.write(`${prefix}: --closed-loop needs one SCENARIO (or --sweep)\n`);
    return 2;
  }
  if (!sweep && flags.only !== undefined) {
    process.stderr.write(`${prefix}: --only needs --sweep\n`);
    return 2;
  }
  const spec = specFromPipelineFlag(flags, 'simulate');
  if (spec === undefined) return 2;
  const format = (flags.format as ReportFormat | undefined) ?? 'table';
  const delayS =
    (flags['delay-ms'] !== undefined ? Number(flags['delay-ms']) : DEFAULT_ACTUATION_DELAY_MS) / 1000;
  const setSpeed = flags['set-speed'] !== undefined ? Number(flags['set-speed']) : undefined;
  const seed = flags.seed !== undefined ? Number(flags.seed) : undefined;
  const durationS = flags.duration !== undefined ? Number(flags.duration) : undefined;
  const modes: RunMode[] = flags['aeb-only'] ? ['aeb-only'] : sweep ? ['acc', 'aeb-only'] : ['acc'];
  const started = process.hrtime.bigint();
  let rows: SweepRow[];
  try {
    if (sweep) {
      const only =
        flags.only !== undefined
          ? String(flags.only)
              .split(',')
              .filter((x) => x.length > 0)
          : undefined;
      rows = runSweep({
        spec,
        modes,
        only,
        actuationDelayS: delayS,
        setSpeedMps: setSpeed,
        seed,
        durationS,
        onRow: (row, i, total) =>
          process.stderr.write(
            `[${i}/${total}] ${row.id} ${row.mode}: ${row.targetMet === null ? '-' : row.targetMet ? 'met' : 'NOT MET'} (${row.target})\n`,
          ),
      });
      if (rows.length === 0) {
        process.stderr.write(`${prefix}: --only ${String(flags.only)} selects no case\n`);
        return 2;
      }
    } else {
      const c = resolveCase(positionals[0]!, spec);
      const mode = modes[0]!;
      const r = runCase(c, mode, spec, delayS, setSpeed, seed, durationS);
      rows = [{ ...r, id: c.id, family: c.family, ...judge(c, mode, r) }];
    }
  } catch (err) {
    if (err instanceof FileValidationError) {
      process.stderr.write(`${prefix}: invalid scenario\n${err.message}\n`);
      return 2;
    }
    process.stderr.write(`${prefix}: ${(err as Error).message}\n`);
    return positionals.length > 0 && /^scenario '/.test((err as Error).message) ? 2 : 1;
  }
  const meta = {
    pipeline: spec.name,
    actuationDelayMs: delayS * 1000,
    setSpeedMps: setSpeed ?? 'scenario ego speed',
    planning: spec.planning,
  };
  const report = formatReport(rows, format, meta);
  process.stdout.write(report);
  if (flags.report !== undefined) {
    try {
      writeFileSync(String(flags.report), report);
    } catch (err) {
      process.stderr.write(`${prefix}: --report ${String(flags.report)}: ${(err as Error).message}\n`);
      return 1;
    }
  }
  const wallS = Number(process.hrtime.bigint() - started) / 1e9;
  process.stderr.write(`${rows.length} closed-loop run(s) in ${wallS.toFixed(1)} s\n`);
  return flags.check && rows.some((r) => r.targetMet === false) ? 1 : 0;
}
