import { parsePipelineSpec } from '../smi/pipeline-spec.js';
import { FileValidationError, readTextFile, formatIssue } from '../schema/yaml-file.js';
import type { CommandSpec } from './flags.js';

export const VALIDATE_COMMAND: CommandSpec = {
  name: 'validate',
  summary: 'Check pipeline spec files against the schema without running anything.',
  usage: 'smi-fusion validate FILE...',
  flags: [],
  positionals: { name: 'FILE...', min: 1, max: 1000, doc: 'pipeline spec files (YAML)' },
  notes:
    'Prints "FILE: ok" per valid file, or every problem as FILE:LINE: PATH: what is wrong and what is allowed.\nExit 0 when every file is valid, 1 otherwise.',
};

/** Validates each file; returns the exit code. */
export function validateCommand(files: readonly string[]): number {
  let failed = 0;
  for (const file of files) {
    const { text, issues } = readTextFile(file);
    try {
      if (text === undefined) throw new FileValidationError(issues);
      const spec = parsePipelineSpec(text, file);
      process.stdout.write(
        `${file}: ok (Pipeline '${spec.name}': ${spec.sensors.length} sensors, ${spec.sources.length} sources)\n`,
      );
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
