import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSpecSet, type SpecText } from '../smi/spec/pipeline-spec.js';
import { parseScenario } from '../sim/scenario.js';
import { FileValidationError, readTextFile, formatIssue } from '../schema/yaml-file.js';
import type { CommandSpec } from './flags.js';

export const VALIDATE_COMMAND: CommandSpec = {
  name: 'validate',
  summary: 'Check pipeline specs and scenario files against their schemas without running anything.',
  usage: 'smi-fusion validate [--pipeline FILE] FILE...',
  flags: [
    {
      name: 'pipeline',
      type: 'string',
      valueName: 'FILE',
      doc: 'the Pipeline that files holding only TrafficSplits or TrafficTargets are checked against (default: pipelines/simulated.yaml, the built-in drive)',
    },
  ],
  positionals: {
    name: 'FILE...',
    min: 1,
    max: 1000,
    doc: 'specs (kind: Pipeline, TrafficSplit, TrafficTarget; several documents per file allowed) or scenarios (kind: Scenario)',
  },
  notes:
    'Prints "FILE: ok" per valid file, or every problem as FILE:LINE: PATH: what is wrong and what is allowed.\n' +
    'Exit 0 when every file is valid, 1 otherwise.',
};

const BUILT_IN_PIPELINE = fileURLToPath(new URL('../../pipelines/simulated.yaml', import.meta.url));

/** Validates one file by its `kind`; returns the line to print on success. */
function validateText(text: string, file: string, base: () => SpecText): string {
  // The kind decides the schema; anything else falls to the pipeline parser, which names the kinds allowed.
  if (/^kind:\s*Scenario\s*$/m.test(text)) {
    const scenario = parseScenario(text, file);
    return `${file}: ok (Scenario '${scenario.name}': ${scenario.duration} s, ${scenario.actors.length} actors)`;
  }
  // Splits and targets are checked against a pipeline: the file's own, else --pipeline's.
  const own = /^kind:\s*Pipeline\s*$/m.test(text);
  const spec = parseSpecSet(own ? [{ text, file }] : [base(), { text, file }]);
  // Warnings do not fail validation: they say what the machine cannot honour.
  for (const w of spec.warnings) {
    process.stderr.write(
      `${w.line !== undefined ? `${file}:${w.line}` : file}: ${w.path}: warning: ${w.message}\n`,
    );
  }
  const extra = [
    spec.splits.length > 0 ? `${spec.splits.length} TrafficSplit` : '',
    spec.targets.length > 0 ? `${spec.targets.length} TrafficTarget` : '',
  ].filter(Boolean);
  const what = own
    ? `Pipeline '${spec.name}': ${spec.sensors.length} sensors, ${spec.sources.length} sources, ${spec.stages.length} stages`
    : `against Pipeline '${spec.name}'`;
  return `${file}: ok (${what}${extra.length ? `; ${extra.join(', ')}` : ''})`;
}

/** Validates each file; returns the exit code. */
export function validateCommand(files: readonly string[], pipeline?: string): number {
  let failed = 0;
  const baseFile = pipeline ?? BUILT_IN_PIPELINE;
  const base = (): SpecText => ({ text: readFileSync(baseFile, 'utf8'), file: baseFile });
  for (const file of files) {
    const { text, issues } = readTextFile(file);
    try {
      if (text === undefined) throw new FileValidationError(issues);
      process.stdout.write(`${validateText(text, file, base)}\n`);
    } catch (err) {
      failed++;
      if (err instanceof FileValidationError) {
        for (const issue of err.issues) process.stderr.write(`${formatIssue(issue)}\n`);
      } else {
        process.stderr.write(`${file}: ${(err as Error).message}\n`);
      }
    }
  }
  return failed === 0 ? 0 : 1;
}
