import { parsePipelineSpec } from '../smi/spec/pipeline-spec.js';
import { parseScenario } from '../sim/scenario.js';
import { FileValidationError, readTextFile, formatIssue } from '../schema/yaml-file.js';
import type { CommandSpec } from './flags.js';

export const VALIDATE_COMMAND: CommandSpec = {
  name: 'validate',
  summary: 'Check pipeline specs and scenario files against their schemas without running anything.',
  usage: 'smi-fusion validate FILE...',
  flags: [],
  positionals: {
    name: 'FILE...',
    min: 1,
    max: 1000,
    doc: 'pipeline specs (kind: Pipeline) or scenarios (kind: Scenario)',
  },
  notes:
    'Prints "FILE: ok" per valid file, or every problem as FILE:LINE: PATH: what is wrong and what is allowed.\n' +
    'Exit 0 when every file is valid, 1 otherwise.',
};

/** Validates one file by its `kind`; returns the line to print on success. */
function validateText(text: string, file: string): string {
  // The kind decides the schema; anything else falls to the pipeline parser, which names the kinds allowed.
  if (/^kind:\s*Scenario\s*$/m.test(text)) {
    const scenario = parseScenario(text, file);
    return `${file}: ok (Scenario '${scenario.name}': ${scenario.duration} s, ${scenario.actors.length} actors)`;
  }
  const spec = parsePipelineSpec(text, file);
  // Warnings do not fail validation: they say what the machine cannot honour.
  for (const w of spec.warnings) {
    process.stderr.write(
      `${w.line !== undefined ? `${file}:${w.line}` : file}: ${w.path}: warning: ${w.message}\n`,
    );
  }
  return `${file}: ok (Pipeline '${spec.name}': ${spec.sensors.length} sensors, ${spec.sources.length} sources, ${spec.stages.length} stages)`;
}

/** Validates each file; returns the exit code. */
export function validateCommand(files: readonly string[]): number {
  let failed = 0;
  for (const file of files) {
    const { text, issues } = readTextFile(file);
    try {
      if (text === undefined) throw new FileValidationError(issues);
      process.stdout.write(`${validateText(text, file)}\n`);
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
