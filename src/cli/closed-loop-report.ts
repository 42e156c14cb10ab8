/** Closed-loop outcomes as a text table, a Markdown table or JSON (`smi-fusion simulate --closed-loop`). */
import type { SweepRow } from '../service/closed-loop/sweep.js';

export const REPORT_FORMATS = ['table', 'markdown', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const HEADERS = [
  'case',
  'mode',
  'collision',
  'min gap m',
  'min TTC s',
  'peak decel m/s²',
  'peak jerk m/s³',
  'warning TTC s',
  'AEB margin s',
  'false AEB/brake',
  'target',
] as const;

const fixed = (x: number | null, digits: number): string => (x === null ? '-' : x.toFixed(digits));

function cells(r: SweepRow): string[] {
  const o = r.outcome;
  return [
    r.id,
    r.mode,
    o.collision
      ? `yes, ${fixed(o.impactSpeedKmh, 1)} km/h, ${Math.round((o.impactOverlap ?? 0) * 100)} %`
      : 'no',
    fixed(o.minGapM, 2),
    fixed(o.minTtcS, 2),
    fixed(o.peakDecel, 1),
    fixed(o.peakJerk, 1),
    fixed(o.warningTtcS, 2),
    fixed(o.aebMarginS, 2),
    `${o.falseAeb}/${o.falseBrake}`,
    r.targetMet === null ? '-' : `${r.targetMet ? 'met' : 'NOT MET'}: ${r.target}`,
  ];
}

/** One line per target group: how many runs met it. */
export function targetSummary(rows: readonly SweepRow[]): string {
  const judged = rows.filter((r) => r.targetMet !== null);
  const met = judged.filter((r) => r.targetMet).length;
  const missed = judged.filter((r) => !r.targetMet).map((r) => `${r.id} (${r.mode}): ${r.target}`);
  return (
    `targets: ${met} of ${judged.length} runs met` +
    (missed.length > 0 ? `; not met: ${missed.join('; ')}` : '')
  );
}

/** The rows as a report in `format`, ending with a newline. */
export function formatReport(
  rows: readonly SweepRow[],
  format: ReportFormat,
  meta: Record<string, unknown>,
): string {
  if (format === 'json') {
    return `${JSON.stringify({ ...meta, summary: targetSummary(rows), runs: rows }, null, 2)}\n`;
  }
  const table = rows.map(cells);
  if (format === 'markdown') {
    const line = (c: readonly string[]): string => `| ${c.join(' | ')} |`;
    const numeric = (h: string): boolean => /( m| s|m\/s²|m\/s³)$/.test(h);
    const rule = HEADERS.map((h) => (numeric(h) ? '---:' : '---'));
    return `${[line(HEADERS), line(rule), ...table.map(line)].join('\n')}\n\n${targetSummary(rows)}\n`;
  }
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...table.map((c) => c[i]!.length)));
  const line = (c: readonly string[]): string =>
    c
      .map((v, i) => (i < 2 || i === c.length - 1 || i === 2 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(HEADERS), ...table.map(line)].join('\n')}\n${targetSummary(rows)}\n`;
}
