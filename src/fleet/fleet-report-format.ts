/** A merged fleet result as Markdown, or as one self-contained HTML page (inline CSS and SVG). */
import type { MergedDrive, MergeResult } from './report-merge.js';

const num = (v: number | null | undefined, digits = 2): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
const signed = (v: number | null | undefined, digits = 2): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '–' : `${v > 0 ? '+' : ''}${v.toFixed(digits)}`;

/** Columns of the per-drive table: header and cell text. */
function columns(withCandidate: boolean): [string, (d: MergedDrive) => string][] {
  const base: [string, (d: MergedDrive) => string][] = [
    ['drive', (d) => d.name],
    ['result', (d) => (d.ok ? 'ok' : `FAILED (${d.failure?.where ?? '?'})`)],
    ['MOTA %', (d) => num(d.primary?.mota, 1)],
    ['IDSW', (d) => num(d.primary?.idsw, 0)],
    [
      'collision',
      (d) => (d.primary?.collision === null || !d.primary ? '–' : d.primary.collision ? 'YES' : 'no'),
    ],
    ['min gap m', (d) => num(d.primary?.minGapM, 1)],
    ['false act.', (d) => num(d.primary?.falseActivations, 0)],
    ['plan p99 ms', (d) => num(d.primary?.planP99Ms, 2)],
  ];
  if (!withCandidate) return base;
  return [
    ...base,
    ['Δ MOTA', (d) => signed(d.deltas?.mota, 1)],
    ['Δ collision', (d) => signed(d.deltas?.collision, 0)],
    ['Δ false act.', (d) => signed(d.deltas?.falseActivations, 0)],
    ['plans differ', (d) => (d.plansCompared ? `${d.planDisagreements}/${d.plansCompared}` : '–')],
    ['pos rms m', (d) => num(d.positionRmsM, 3)],
    ['tracks one side', (d) => num(d.tracksOnlyOneSide, 0)],
    ['same outputs', (d) => (d.sameOutputs === undefined ? '–' : d.sameOutputs ? 'yes' : 'no')],
  ];
}

function totalsLines(m: MergeResult): string[] {
  const t = m.totals;
  const lines = [
    `drives ${t.drives}: ${t.replayed} replayed, ${t.failed} failed; ${t.driveHours >= 1 ? `${num(t.driveHours, 2)} h` : `${num(t.driveHours * 3600, 1)} s`} of driving, replayed in ${num(t.replayWallSeconds, 1)} worker-s`,
    `outputs: ${t.trackLists} track lists, ${t.plans} plans; decisions ${Object.entries(t.decisions)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
    `tracking (${t.scoredDrives} drives with truth): mean MOTA ${num(t.meanMota, 2)} %, mean HOTA ${num(t.meanHota, 2)} %`,
    `closed loop (${t.scenarioDrives} scenario drives): ${t.collisions} collisions, ${t.falseActivations} false activations`,
  ];
  const c = t.candidate;
  if (c)
    lines.push(
      `candidate: ${c.drivesWithDifferentOutputs} drives with different outputs; plans disagree ${c.planDisagreements} of ${c.plansCompared}; mean Δ MOTA ${signed(c.meanMotaDelta, 2)}; collisions +${c.collisionsAdded} −${c.collisionsRemoved}; false activations ${signed(c.falseActivationsDelta, 0)}`,
    );
  lines.push(`outputs digest ${m.outputsDigest}`);
  return lines;
}

export function fleetReportMarkdown(m: MergeResult): string {
  const withCandidate = m.totals.candidate !== undefined;
  const cols = columns(withCandidate);
  const out = ['# Fleet replay', '', ...totalsLines(m).map((l) => `- ${l}`), ''];
  if (m.warnings.length > 0) out.push('## Warnings', '', ...m.warnings.map((w) => `- ${w}`), '');
  out.push(
    withCandidate ? '## Drives, worst regression first' : '## Drives, worst first',
    '',
    `| ${cols.map((c) => c[0]).join(' | ')} |`,
    `|${cols.map(() => '---').join('|')}|`,
    ...m.drives.map((d) => `| ${cols.map((c) => c[1](d).replace(/\|/g, '\\|')).join(' | ')} |`),
    '',
  );
  if (m.failures.length > 0)
    out.push(
      '## Failed drives',
      '',
      ...m.failures.map((f) => `- **${f.name}** (${f.where}): ${f.why.split('\n')[0]}`),
      '',
    );
  return `${out.join('\n')}\n`;
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Horizontal bars, one per drive: the regression score (or MOTA without a candidate). */
function barChart(m: MergeResult): string {
  const withCandidate = m.totals.candidate !== undefined;
  const rows = m.drives.filter((d) => d.ok).slice(0, 40);
  if (rows.length === 0) return '';
  const value = (d: MergedDrive): number => (withCandidate ? d.regression : (d.primary?.mota ?? 0));
  const max = Math.max(1e-9, ...rows.map((d) => Math.abs(value(d))));
  const rowH = 18;
  const labelW = 260;
  const barW = 420;
  const h = rows.length * rowH + 30;
  const bars = rows
    .map((d, i) => {
      const v = value(d);
      const w = (Math.abs(v) / max) * barW;
      const y = 20 + i * rowH;
      const colour = withCandidate ? (v > 0 ? '#c0392b' : '#27ae60') : v < 50 ? '#c0392b' : '#2e86c1';
      return (
        `<text x="${labelW - 6}" y="${y + 12}" text-anchor="end">${esc(d.name)}</text>` +
        `<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${rowH - 4}" fill="${colour}"/>` +
        `<text x="${(labelW + w + 4).toFixed(1)}" y="${y + 12}">${num(v, 1)}</text>`
      );
    })
    .join('');
  const title = withCandidate ? 'regression score per drive (higher is worse)' : 'MOTA % per drive';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + 80}" height="${h}" font-family="sans-serif" font-size="11"><text x="0" y="12" font-weight="bold">${title}</text>${bars}</svg>`;
}

export function fleetReportHtml(m: MergeResult): string {
  const withCandidate = m.totals.candidate !== undefined;
  const cols = columns(withCandidate);
  const table =
    `<table><thead><tr>${cols.map((c) => `<th>${esc(c[0])}</th>`).join('')}</tr></thead><tbody>` +
    m.drives
      .map(
        (d) =>
          `<tr class="${d.ok ? '' : 'failed'}">${cols.map((c) => `<td>${esc(c[1](d))}</td>`).join('')}</tr>`,
      )
      .join('') +
    '</tbody></table>';
  const warnings =
    m.warnings.length > 0
      ? `<h2>Warnings</h2><ul>${m.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`
      : '';
  const failures =
    m.failures.length > 0
      ? `<h2>Failed drives</h2><ul>${m.failures
          .map((f) => `<li><b>${esc(f.name)}</b> (${esc(f.where)}): ${esc(f.why.split('\n')[0]!)}</li>`)
          .join('')}</ul>`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>smi-fusion fleet replay</title>
<style>
body{font-family:sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
tr.failed td{background:#fde2e1}
li{margin:2px 0}
</style></head><body>
<h1>Fleet replay</h1>
<ul>${totalsLines(m)
    .map((l) => `<li>${esc(l)}</li>`)
    .join('')}</ul>
${warnings}
${barChart(m)}
<h2>${withCandidate ? 'Drives, worst regression first' : 'Drives, worst first'}</h2>
${table}
${failures}
</body></html>
`;
}
