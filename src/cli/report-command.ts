/** `smi-fusion report merge DIR...`: one fleet result from the reports of any number of shards. */
import { writeFileSync } from 'node:fs';
import { mergeReports, ReportMergeError } from '../fleet/report-merge.js';
import { fleetReportHtml, fleetReportMarkdown } from '../fleet/fleet-report-format.js';
import type { CommandSpec, FlagValues } from './flags.js';

export const REPORT_COMMAND: CommandSpec = {
  name: 'report',
  summary: 'Merge the per-drive reports of replay-batch shards (Markdown, JSON, HTML).',
  usage: 'smi-fusion report merge DIR... [--format markdown|json|html] [--out FILE] [--strict]',
  positionals: {
    name: 'merge DIR',
    min: 2,
    max: 10_000,
    doc: "'merge', then the directories replay-batch wrote (searched recursively)",
  },
  flags: [
    {
      name: 'format',
      type: 'enum',
      values: ['markdown', 'json', 'html'],
      doc: 'what to write (default markdown; html is one self-contained page)',
    },
    { name: 'out', type: 'string', valueName: 'FILE', doc: 'write there instead of stdout' },
    {
      name: 'strict',
      type: 'boolean',
      doc: 'exit 3 when there is any warning (versions, candidates or shards that differ, a shard missing)',
    },
  ],
  notes:
    'Totals, every drive worst regression first (with a candidate: new collisions, added false activations,\n' +
    "lost MOTA and plan decisions that disagree; without: the primary's own), the drives that failed and why.\n" +
    'Warnings (also on stderr) name reports from different smi-fusion versions, candidates or shard counts, a\n' +
    'shard without its batch summary, and drives reported twice. Exit code: 0; 1 when some drive failed; 2 bad\n' +
    'usage or nothing to merge; 3 with --strict and a warning.',
};

export async function reportCommand(flags: FlagValues, positionals: readonly string[]): Promise<number> {
  const prefix = 'smi-fusion report';
  const [sub, ...dirs] = positionals;
  if (sub !== 'merge') {
    process.stderr.write(`${prefix}: unknown subcommand '${sub}'; allowed: merge\n`);
    return 2;
  }
  let merged;
  try {
    merged = mergeReports(dirs);
  } catch (err) {
    if (!(err instanceof ReportMergeError)) throw err;
    process.stderr.write(`${prefix} merge: ${err.message}\n`);
    return 2;
  }
  const format = (flags.format as string | undefined) ?? 'markdown';
  const text =
    format === 'json'
      ? `${JSON.stringify(merged, null, 2)}\n`
      : format === 'html'
        ? fleetReportHtml(merged)
        : fleetReportMarkdown(merged);
  if (flags.out !== undefined) {
    try {
      writeFileSync(String(flags.out), text);
    } catch (err) {
      process.stderr.write(`${prefix} merge: --out ${String(flags.out)}: ${(err as Error).message}\n`);
      return 2;
    }
  } else process.stdout.write(text);
  for (const w of merged.warnings) process.stderr.write(`${prefix} merge: warning: ${w}\n`);
  if (flags.strict && merged.warnings.length > 0) return 3;
  return merged.failures.length > 0 ? 1 : 0;
}
