// The bench's page (bench/results/bench.html): one self-contained file (inline SVG and CSS, no
// scripts, nothing fetched) with the targets, latency distributions per stage and load as
// percentile plots (HdrHistogram style: latency against 1/(1-q) on log axes, so the tail is as
// visible as the median), and the side-by-side comparisons as bars.
import { fmt } from './report.mjs';

const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#7f7f7f',
  '#bcbd22',
  '#393b79',
  '#ad494a',
];
const esc = (s) =>
  String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const finite = (v) => typeof v === 'number' && Number.isFinite(v);

/** Points (x = log10(1/(1-q)), y = ms) of a histogram's buckets [[upper edge ms, count], ...]. */
function percentilePoints(buckets) {
  const n = buckets.reduce((a, [, c]) => a + c, 0);
  if (n === 0) return [];
  const pts = [];
  let seen = 0;
  for (const [ms, c] of buckets) {
    const qBefore = seen / n;
    seen += c;
    const q = Math.min(seen / n, 1 - 1 / (2 * n));
    pts.push([Math.log10(1 / (1 - qBefore)), ms], [Math.log10(1 / (1 - q)), ms]);
  }
  return pts;
}

const W = 640;
const H = 300;
const M = { l: 64, r: 28, t: 28, b: 40 };

/** A percentile plot of several distributions (`series`: { name, buckets }), latency on a log axis. */
export function percentilePlot(title, series) {
  const lines = series
    .map((s) => ({ ...s, pts: percentilePoints(s.buckets ?? []) }))
    .filter((s) => s.pts.length);
  if (lines.length === 0) return '';
  const ys = lines.flatMap((s) => s.pts.map(([, y]) => Math.max(y, 1e-4)));
  const lo = Math.floor(Math.log10(Math.min(...ys)));
  const hi = Math.ceil(Math.log10(Math.max(...ys)) + 1e-9);
  const xMax = Math.max(3, Math.ceil(Math.max(...lines.flatMap((s) => s.pts.map(([x]) => x)))));
  const px = (x) => M.l + (x / xMax) * (W - M.l - M.r);
  const py = (y) => H - M.b - ((Math.log10(Math.max(y, 1e-4)) - lo) / Math.max(hi - lo, 1)) * (H - M.t - M.b);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H + 18 * Math.ceil(lines.length / 2)}" role="img">`,
  ];
  out.push(`<title>${esc(title)}</title><text x="${M.l}" y="18" class="t">${esc(title)}</text>`);
  for (let e = lo; e <= hi; e++) {
    const y = py(10 ** e);
    out.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${y}" y2="${y}" class="g"/>`);
    out.push(
      `<text x="${M.l - 6}" y="${y + 4}" text-anchor="end">${10 ** e >= 1 ? 10 ** e : (10 ** e).toPrecision(1)} ms</text>`,
    );
  }
  for (let x = 0; x <= xMax; x++) {
    const label = x === 0 ? '0%' : `${(100 * (1 - 10 ** -x)).toFixed(Math.max(0, x - 2))}%`;
    out.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${M.t}" y2="${H - M.b}" class="g"/>`);
    out.push(`<text x="${px(x)}" y="${H - M.b + 16}" text-anchor="middle">${label}</text>`);
  }
  out.push(`<text x="${(M.l + W - M.r) / 2}" y="${H - 6}" text-anchor="middle">percentile</text>`);
  lines.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const d = s.pts.map(([x, y], k) => `${k ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join('');
    const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
    out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.8"${dash}/>`);
    const ly = H + 14 + 18 * Math.floor(i / 2);
    const lx = M.l + (i % 2) * ((W - M.l) / 2);
    out.push(
      `<line x1="${lx}" x2="${lx + 14}" y1="${ly - 7}" y2="${ly - 7}" stroke="${color}" stroke-width="3"${dash}/>`,
    );
    out.push(`<text x="${lx + 20}" y="${ly - 3}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('');
}

/** Grouped horizontal bars: `groups` [{ label, bars: [{ name, value }] }], values in `unit` on a log axis. */
export function barChart(title, groups, unit) {
  const values = groups.flatMap((g) => g.bars.map((b) => b.value)).filter((v) => finite(v) && v > 0);
  if (values.length === 0) return '';
  const names = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.name)))];
  const rowH = 16;
  const groupH = rowH * names.length + 12;
  const height = M.t + groups.length * groupH + 24 + 18 * names.length;
  const left = 220;
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.ceil(Math.log10(Math.max(...values)) + 1e-9);
  const px = (v) => left + ((Math.log10(v) - lo) / Math.max(hi - lo, 1)) * (W - left - 60);
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" role="img">`];
  out.push(`<title>${esc(title)}</title><text x="8" y="18" class="t">${esc(title)}</text>`);
  const bottom = M.t + groups.length * groupH;
  for (let e = lo; e <= hi; e++) {
    out.push(`<line x1="${px(10 ** e)}" x2="${px(10 ** e)}" y1="${M.t}" y2="${bottom}" class="g"/>`);
    out.push(
      `<text x="${px(10 ** e)}" y="${bottom + 14}" text-anchor="middle">${10 ** e >= 1 ? 10 ** e : (10 ** e).toPrecision(1)} ${unit}</text>`,
    );
  }
  groups.forEach((g, gi) => {
    const y0 = M.t + gi * groupH;
    out.push(`<text x="8" y="${y0 + (rowH * names.length) / 2 + 4}">${esc(g.label)}</text>`);
    for (const b of g.bars) {
      const k = names.indexOf(b.name);
      const y = y0 + k * rowH;
      if (!finite(b.value) || b.value <= 0) continue;
      out.push(
        `<rect x="${left}" y="${y}" width="${Math.max(1, px(b.value) - left).toFixed(1)}" height="${rowH - 3}" fill="${PALETTE[k % PALETTE.length]}"/>`,
      );
      out.push(
        `<text x="${(px(b.value) + 4).toFixed(1)}" y="${y + rowH - 5}">${fmt(b.value, b.value < 10 ? 2 : 0)}</text>`,
      );
    }
  });
  names.forEach((n, k) => {
    const ly = bottom + 34 + 18 * k;
    out.push(`<rect x="${left}" y="${ly - 9}" width="14" height="8" fill="${PALETTE[k % PALETTE.length]}"/>`);
    out.push(`<text x="${left + 20}" y="${ly - 1}">${esc(n)}</text>`);
  });
  out.push('</svg>');
  return out.join('');
}

/** A Markdown pipe table (from report.mjs) as an HTML table. */
function mdTableToHtml(md) {
  const rows = md
    .trim()
    .split('\n')
    .filter((_, i) => i !== 1)
    .map((l) => l.replace(/^\| | \|$/g, '').split(' | '));
  const [head, ...body] = rows;
  return `<table><thead><tr>${head.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${body
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;max-width:1400px;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:28px}
svg{width:100%;max-width:${W}px;height:auto;font-size:11px;background:#fff}
svg .t{font-size:13px;font-weight:600}svg .g{stroke:#ddd;stroke-width:1}
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:16px}
table{border-collapse:collapse;font-size:12px;margin:8px 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
td:first-child,th:first-child{text-align:left}.met{color:#2a7d2a}.NOT{color:#c00;font-weight:600}.not{color:#777}
ul.targets{list-style:none;padding:0;font-family:ui-monospace,monospace}`;

/** Per-stage plots, one per step of a message's path (a readable number of lines each). */
const STAGE_GROUPS = [
  ['receive and ingest per kind', ['receive', 'ingest']],
  ['handoff and sync per stage', ['handoff', 'sync']],
  ['run time per stage', ['run']],
  ['stage latency, fusion and e2e', ['stage', 'fusion', 'e2e']],
];

/** One case's distribution of `name` as a plot line (baselines dashed). */
const caseSeries = (c, name) => ({
  name: `${c.modeName} @ ${c.load}`,
  buckets: c.latency[name]?.buckets,
  dashed: c.mode === 'sync-window' || c.mode === 'trigger-cycles',
});

/** The plots worth a file of their own (README): name -> SVG. */
export function standalonePlots(run) {
  const { service = [], transport = [] } = run.results;
  const out = {};
  const e2e = percentilePlot(
    'critical e2e (radar/ego → plan), every pipeline and load',
    service.map((c) => caseSeries(c, 'e2e/critical')),
  );
  if (e2e) out['e2e-critical.svg'] = e2e;
  const first = service.find((c) => c.mode === 'sched');
  if (first) {
    const names = Object.keys(first.latency).filter((n) =>
      /^(handoff|sync|stage|e2e)\/(tracker|lidar-extraction|critical|lidar)$|^fusion$/.test(n),
    );
    const plot = percentilePlot(
      `per stage: ${first.modeName} @ ${first.load}`,
      names.map((n) => ({ name: n, buckets: first.latency[n].buckets })),
    );
    if (plot) out['stages.svg'] = plot;
  }
  const tr = percentilePlot(
    'transports: handoff radar/ego (same frames, same stage)',
    transport.map((r) => ({ name: r.transport, buckets: r.latency['handoff/critical']?.buckets })),
  );
  if (tr) out['transports.svg'] = tr;
  // a standalone SVG file carries its own font and background (the page's CSS is not there)
  for (const k of Object.keys(out)) {
    out[k] = out[k]
      .replace('<svg ', '<svg style="font:11px sans-serif;background:#fff" ')
      .replace(/class="g"/g, 'stroke="#ddd"')
      .replace(/class="t"/g, 'font-weight="600" font-size="13"');
  }
  return out;
}

/** The whole page. */
export function htmlReport(run, tables = {}) {
  const { service = [], transport = [], prefetch = [] } = run.results;
  const parts = [
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>smi-fusion latency bench</title><style>${CSS}</style></head><body>`,
  ];
  parts.push(
    `<h1>smi-fusion latency bench</h1><p>${esc(run.machine)}<br>${esc(run.command)} — ${esc(run.startedAt)}</p>`,
  );
  parts.push('<h2>Targets</h2><ul class="targets">');
  for (const t of run.targets) {
    parts.push(
      `<li class="${t.status.split(' ')[0]}">${esc(t.status)} — ${esc(t.text)}: ${esc(t.figure)}</li>`,
    );
  }
  parts.push('</ul>');
  const plots = [];
  const byName = (name) => service.map((c) => caseSeries(c, name));
  if (service.length) {
    plots.push(
      percentilePlot('critical e2e (radar/ego → plan), every pipeline and load', byName('e2e/critical')),
    );
    plots.push(percentilePlot('lidar-to-plan', byName('e2e/lidar')));
    plots.push(percentilePlot('sync (committed → the tracker uses it)', byName('sync/tracker')));
    plots.push(
      percentilePlot('handoff radar/ego (committed → tracker thread holds it)', byName('handoff/critical')),
    );
    for (const c of service.filter((x) => x.mode === 'sched')) {
      for (const [what, prefixes] of STAGE_GROUPS) {
        const names = Object.keys(c.latency).filter((n) => prefixes.includes(n.split('/')[0]));
        plots.push(
          percentilePlot(
            `${what}: ${c.modeName} @ ${c.load}`,
            names.map((n) => ({ name: n, buckets: c.latency[n].buckets })),
          ),
        );
      }
    }
  }
  if (transport.length) {
    plots.push(
      percentilePlot(
        'transports: handoff radar/ego (same frames, same stage)',
        transport.map((r) => ({ name: r.transport, buckets: r.latency['handoff/critical']?.buckets })),
      ),
    );
  }
  parts.push(`<h2>Latency distributions</h2><div class="plots">${plots.filter(Boolean).join('')}</div>`);
  const bars = [];
  const ones = service.filter((c) => c.loadFactor === 1 && !c.hog);
  if (ones.length) {
    bars.push(
      barChart(
        'at 1x: the scheduler against the baselines (critical e2e)',
        ones.map((c) => ({
          label: c.modeName,
          bars: ['p50', 'p99', 'max'].map((q) => ({ name: q, value: c.latency['e2e/critical']?.[q] })),
        })),
        'ms',
      ),
    );
  }
  const sched = service.filter((c) => c.mode === 'sched');
  if (sched.length > 1) {
    bars.push(
      barChart(
        'the scheduler under load (critical e2e)',
        sched.map((c) => ({
          label: c.load,
          bars: ['p50', 'p99', 'max'].map((q) => ({ name: q, value: c.latency['e2e/critical']?.[q] })),
        })),
        'ms',
      ),
    );
  }
  if (transport.length) {
    bars.push(
      barChart(
        'transports: handoff radar/ego and lidar',
        transport.map((r) => ({
          label: r.transport,
          bars: [
            { name: 'radar/ego p50', value: r.latency['handoff/critical']?.p50 * 1000 },
            { name: 'radar/ego p99', value: r.latency['handoff/critical']?.p99 * 1000 },
            { name: 'lidar p50', value: r.latency['handoff/lidar']?.p50 * 1000 },
          ],
        })),
        'µs',
      ),
    );
  }
  if (prefetch.length) {
    bars.push(
      barChart(
        'prefetch handoff on periodic channels',
        prefetch.map((r) => ({
          label: `${r.size >= 1048576 ? `${r.size / 1048576} MB` : `${r.size / 1024} KB`}: ${r.transport}`,
          bars: [
            { name: 'p50', value: r.p50 },
            { name: 'p99', value: r.p99 },
          ],
        })),
        'µs',
      ),
    );
  }
  if (bars.length)
    parts.push(`<h2>Side by side</h2><div class="plots">${bars.filter(Boolean).join('')}</div>`);
  for (const [title, md] of Object.entries(tables)) parts.push(`<h2>${esc(title)}</h2>${mdTableToHtml(md)}`);
  parts.push('</body></html>');
  return parts.join('\n');
}
