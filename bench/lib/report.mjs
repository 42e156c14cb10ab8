// Text reports of a latency bench run: the tables on stdout and the Markdown file.
import { formatPrefetchTable } from '../prefetch.bench.mjs';
import { formatTargets } from './targets.mjs';

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : NaN);
export const fmt = (v, d = 2) => (Number.isFinite(num(v)) ? num(v).toFixed(d) : '-');

function table(head, rows, align) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map((_, i) => (align[i] === 'r' ? '---:' : '---'))), ...rows.map(line)].join(
    '\n',
  );
}

const lat = (c, name) => c.latency[name] ?? {};
const pcts = (s, d = 2) =>
  `${fmt(s.p50, d)} / ${fmt(s.p90, d)} / ${fmt(s.p99, d)} / ${fmt(s.p999, d)} / ${fmt(s.max, d)}`;
const cls = (c, k) => c.perClass[k] ?? { misses: 0, shed: 0, degraded: 0 };
const cpuOf = (c, thread) => c.cpu.threads.find((t) => t.thread === thread)?.cpuPercent;

/** One row per service case: the headline figures. */
export function serviceTable(cases) {
  return table(
    [
      'pipeline',
      'load',
      'msg/s in',
      'plans/s',
      'critical e2e p50 / p90 / p99 / p99.9 / max ms',
      'lidar-to-plan p50 / p99 ms',
      'sync p99 ms',
      'handoff radar/ego p50 / p99 µs',
      'critical misses',
      'shed best-effort / normal / high',
      'degraded high',
      'critical drops',
      'CPU % tracker / lidar / main / process',
      'RSS MiB',
    ],
    cases.map((c) => [
      c.modeName,
      c.load,
      fmt(c.messagesPerS.total, 0),
      fmt(c.messagesPerS.plans, 0),
      pcts(lat(c, 'e2e/critical')),
      `${fmt(lat(c, 'e2e/lidar').p50)} / ${fmt(lat(c, 'e2e/lidar').p99)}`,
      fmt(lat(c, 'sync/tracker').p99, 3),
      `${fmt(lat(c, 'handoff/critical').p50 * 1000, 0)} / ${fmt(lat(c, 'handoff/critical').p99 * 1000, 0)}`,
      String(cls(c, 'critical').misses),
      `${cls(c, 'best-effort').shed} / ${cls(c, 'normal').shed} / ${cls(c, 'high').shed}`,
      String(cls(c, 'high').degraded),
      String(c.droppedCritical),
      `${fmt(cpuOf(c, 'tracker'), 0)} / ${fmt(cpuOf(c, 'lidar'), 0)} / ${fmt(cpuOf(c, 'main'), 0)} / ${fmt(c.cpu.processPercent, 0)}`,
      fmt(c.memory.rssMiB, 0),
    ]),
    ['l', 'l', 'r', 'r', 'l', 'l', 'r', 'l', 'r', 'l', 'r', 'r', 'l', 'r'],
  );
}

/** Order of metrics in a per-stage table: the path of a message through the pipeline. */
const METRIC_ORDER = ['receive', 'ingest', 'handoff', 'sync', 'run', 'stage', 'fusion', 'e2e'];
const rank = (name) => {
  const i = METRIC_ORDER.indexOf(name.split('/')[0]);
  return i < 0 ? METRIC_ORDER.length : i;
};

/** Every latency of one case: n and p50/p90/p99/p99.9/max per metric and stage. */
export function stageTable(c) {
  const names = Object.keys(c.latency).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
  return table(
    ['latency', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms'],
    names.map((n) => {
      const s = c.latency[n];
      return [n, String(s.n), fmt(s.p50, 3), fmt(s.p90, 3), fmt(s.p99, 3), fmt(s.p999, 3), fmt(s.max, 3)];
    }),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

/** Shed frames per class and reason, misses, messages per second per kind, CPU per thread. */
export function loadDetails(c) {
  const classes = Object.entries(c.perClass)
    .map(([k, v]) => {
      const by = Object.entries(v.shedBy)
        .map(([r, n]) => `${r} ${n}`)
        .join(', ');
      return `${k}: ${v.frames} frames, ${v.misses} misses, ${v.shed} shed${by ? ` (${by})` : ''}, ${v.degraded} degraded`;
    })
    .join('; ');
  const rates = Object.entries(c.messagesPerS)
    .map(([k, v]) => `${k} ${fmt(v, 0)}`)
    .join(', ');
  const cpu = c.cpu.threads.map((t) => `${t.thread} ${fmt(t.cpuPercent, 0)} %`).join(', ');
  return [
    `- per class: ${classes}`,
    `- messages/s: ${rates}`,
    `- CPU (% of one core): ${cpu}; whole process ${fmt(c.cpu.processPercent, 0)} %; load generator ${fmt(c.cpu.generatorPercent, 0)} %`,
    `- memory (peak): RSS ${fmt(c.memory.rssMiB, 0)} MiB, JS heap ${fmt(c.memory.heapUsedMiB, 0)} MiB, array buffers ${fmt(c.memory.arrayBuffersMiB, 0)} MiB (pool ${fmt(c.memory.poolMiB, 0)} MiB)`,
  ].join('\n');
}

/** The transport side-by-side: the same frames between the same stages over three transports. */
export function transportTable(rows) {
  return table(
    [
      'transport',
      'frames',
      'handoff radar/ego p50 / p99 / p99.9 µs',
      'handoff lidar p50 / p99 / p99.9 µs',
      'critical e2e p50 / p99 / max ms',
      'lidar e2e p50 / p99 ms',
      'producer CPU %',
      'consumer CPU %',
      'lost',
    ],
    rows.map((r) => {
      const us = (s) => `${fmt(s.p50 * 1000, 0)} / ${fmt(s.p99 * 1000, 0)} / ${fmt(s.p999 * 1000, 0)}`;
      return [
        r.transport,
        String(r.frames),
        us(r.latency['handoff/critical'] ?? {}),
        us(r.latency['handoff/lidar'] ?? {}),
        `${fmt(r.latency['e2e/critical']?.p50)} / ${fmt(r.latency['e2e/critical']?.p99)} / ${fmt(r.latency['e2e/critical']?.max)}`,
        `${fmt(r.latency['e2e/lidar']?.p50)} / ${fmt(r.latency['e2e/lidar']?.p99)}`,
        fmt(r.producerCpuPercent, 0),
        fmt(r.consumerCpuPercent, 0),
        String(r.lost),
      ];
    }),
    ['l', 'r', 'l', 'l', 'l', 'l', 'r', 'r', 'r'],
  );
}

/** The whole run as Markdown (bench/results/bench.md). */
export function markdownReport(run) {
  const parts = [`# Latency bench`, '', `${run.machine}; ${run.command}; ${run.startedAt}`, ''];
  if (run.results.service.length) {
    parts.push('## Service pipeline', '', serviceTable(run.results.service), '');
  }
  parts.push('## Targets', '', '```', ...formatTargets(run.targets), '```', '');
  if (run.results.transport?.length) {
    parts.push('## Transports (same frames, same stages)', '', transportTable(run.results.transport), '');
  }
  if (run.results.prefetch?.length) {
    parts.push(
      '## Handoff on periodic channels (prefetch bench)',
      '',
      formatPrefetchTable(run.results.prefetch),
      '',
    );
  }
  if (run.results.propagation) {
    const p = run.results.propagation;
    parts.push(
      '## Control-plane propagation (spec saved -> first frame under the new generation)',
      '',
      p.measured
        ? `p50 ${fmt(p.latency.p50)} ms, p99 ${fmt(p.latency.p99)} ms, max ${fmt(p.latency.max)} ms over ${p.latency.n} changes`
        : `not measured: ${p.reason}`,
      '',
    );
  }
  for (const c of run.results.service) {
    parts.push(
      `## ${c.modeName} at ${c.load} (${fmt(c.seconds, 1)} s)`,
      '',
      stageTable(c),
      '',
      loadDetails(c),
      '',
    );
  }
  return parts.join('\n');
}
