#!/usr/bin/env node
/** smi-fusion command line: `smi-fusion <command> [flags]`. */

import { packageVersion as version } from './package-version.js';
import { helpText, parseFlags, type CommandSpec } from './flags.js';
import { RUN_COMMAND, runCommand } from './run-command.js';
import { VALIDATE_COMMAND, validateCommand } from './validate-command.js';
import { SIMULATE_COMMAND, simulateCommand } from './simulate-command.js';
import { RECORD_COMMAND, recordCommand } from './record-command.js';
import { REPLAY_COMMAND, replayCommand } from './replay-command.js';
import { IMPORT_COMMAND, importCommand } from './import-command.js';
import { RIG_COMMAND, rigCommand } from './rig-command.js';
import { EVALUATE_COMMAND, evaluateCommand } from './evaluate-command.js';
import { REPLAY_BATCH_COMMAND, replayBatchCommand } from './replay-batch-command.js';
import { REPORT_COMMAND, reportCommand } from './report-command.js';
import { APPLY_COMMAND, STATUS_COMMAND, applyCommand, statusCommand } from './status-command.js';

const COMMANDS: readonly CommandSpec[] = [
  RUN_COMMAND,
  VALIDATE_COMMAND,
  RECORD_COMMAND,
  REPLAY_COMMAND,
  REPLAY_BATCH_COMMAND,
  REPORT_COMMAND,
  SIMULATE_COMMAND,
  IMPORT_COMMAND,
  RIG_COMMAND,
  EVALUATE_COMMAND,
  STATUS_COMMAND,
  APPLY_COMMAND,
];

function usage(): string {
  const rows = COMMANDS.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`);
  return `smi-fusion ${version()}: onboard sensor-fusion pipeline service\n\nUsage: smi-fusion <command> [flags]\n\nCommands:\n${rows.join('\n')}\n\nRun 'smi-fusion <command> --help' for a command's flags.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(
      `smi-fusion: unknown command '${name}'; allowed: ${COMMANDS.map((c) => c.name).join(', ')}\n`,
    );
    return 2;
  }
  const parsed = parseFlags(rest, cmd);
  if (!parsed.ok) {
    process.stderr.write(`${parsed.error}\nRun 'smi-fusion ${cmd.name} --help' for usage.\n`);
    return cmd.usageExit ?? 2;
  }
  if (parsed.help) {
    process.stdout.write(`${helpText(cmd)}\n`);
    return 0;
  }
  switch (cmd.name) {
    case 'run':
      return runCommand(parsed.flags);
    case 'validate':
      return validateCommand(
        parsed.positionals,
        parsed.flags.pipeline !== undefined ? String(parsed.flags.pipeline) : undefined,
      );
    case 'record':
      return recordCommand(parsed.flags);
    case 'replay':
      return replayCommand(parsed.flags, parsed.positionals);
    case 'replay-batch':
      return replayBatchCommand(parsed.flags, parsed.positionals);
    case 'report':
      return reportCommand(parsed.flags, parsed.positionals);
    case 'simulate':
      return simulateCommand(parsed.flags, parsed.positionals);
    case 'import':
      return importCommand(parsed.flags, parsed.positionals);
    case 'rig':
      return rigCommand(parsed.flags);
    case 'evaluate':
      return evaluateCommand(parsed.flags, parsed.positionals);
    case 'status':
      return statusCommand(parsed.flags);
    case 'apply':
      return applyCommand(parsed.flags);
    default:
      return 2;
  }
}

/**
 * Exits once what was written to stdout and stderr has been handed to the OS: a write to a pipe
 * is asynchronous, and process.exit() right after it loses what is still queued (a long
 * `validate` report piped to another program). Bounded: a reader that never reads does not
 * keep the process alive (and worker threads can deadlock an exit: nodejs/node#54918).
 */
function exitAfterFlush(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = (): void => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
  setTimeout(() => process.exit(code), 10_000).unref();
}

main(process.argv.slice(2)).then(exitAfterFlush, (err: unknown) => {
  process.stderr.write(`smi-fusion: ${(err as Error)?.stack ?? String(err)}\n`);
  exitAfterFlush(1);
});
