/** `smi-fusion status [--watch] [--json]` and `smi-fusion apply -f FILE`: the control plane's client commands. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ServiceStatus } from '../service/service-status.js';
import type { CommandSpec, FlagValues } from './flags.js';
import { ENDPOINT_FLAG, EXIT, Unreachable, controlUrl, fetchStatus, postApply } from './control-client.js';

const EXIT_NOTES =
  'Exit codes: 0 Ready and not Degraded (apply: applied or unchanged), 1 not Ready or Degraded\n' +
  '(apply: refused, the running generation stays), 2 usage, 3 no service at the endpoint.';

export const STATUS_COMMAND: CommandSpec = {
  name: 'status',
  summary:
    'Show the live state of a running service (generation, conditions, stages, channels, splits, targets, sensors).',
  usage: 'smi-fusion status [--watch] [--json] [--endpoint URL]',
  flags: [
    { name: 'watch', type: 'boolean', doc: 'redraw every --interval seconds until interrupted' },
    {
      name: 'json',
      type: 'boolean',
      doc: 'print the status as JSON (one document per refresh with --watch)',
    },
    {
      name: 'interval',
      type: 'number',
      min: 0.1,
      valueName: 'SECONDS',
      doc: 'refresh period of --watch (default 1)',
    },
    ENDPOINT_FLAG,
  ],
  notes: EXIT_NOTES,
};

export const APPLY_COMMAND: CommandSpec = {
  name: 'apply',
  summary:
    'Send a spec file (Pipeline, TrafficSplit, TrafficTarget) to a running service; it applies only what changed.',
  usage: 'smi-fusion apply -f FILE [--endpoint URL]',
  flags: [
    { name: 'file', short: 'f', type: 'string', valueName: 'FILE', doc: 'the spec file to apply (required)' },
    ENDPOINT_FLAG,
  ],
  notes:
    "The file joins the service's spec set (a file of the same path as a watched one replaces it); the\n" +
    'service validates the set, applies a live change as a new generation and refuses one that needs a\n' +
    `restart or is invalid, naming why.\n${EXIT_NOTES}`,
};

function healthy(s: ServiceStatus): boolean {
  const c = (t: string) => s.status.conditions.find((x) => x.type === t)?.status;
  return c('Ready') === 'True' && c('Degraded') !== 'True';
}

const fmt = (x: number | null | undefined, digits = 1): string =>
  x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The status as a readable page. */
export function renderStatus(s: ServiceStatus): string {
  const st = s.status;
  const out: string[] = [];
  out.push(
    `pipeline ${s.metadata.name}  generation ${st.generation}  observedGeneration ${st.observedGeneration}  overload ${st.overloadLevel}`,
  );
  out.push(
    '',
    table([
      ['CONDITION', 'STATUS', 'REASON', 'MESSAGE'],
      ...st.conditions.map((c) => [c.type, c.status, c.reason, c.message]),
    ]),
  );
  out.push(
    '',
    table([
      ['STAGE', 'CLASS', 'BUDGET ms', 'p50 ms', 'p99 ms', 'FRAMES', 'MISSES', 'SHED', 'VERSION'],
      ...st.stages.map((x) => [
        x.name,
        x.class,
        String(x.budgetMs),
        fmt(x.latencyP50Ms, 2),
        fmt(x.latencyP99Ms, 2),
        String(x.frames),
        String(x.misses),
        String(Object.values(x.shed).reduce((a, b) => a + b, 0)),
        x.version,
      ]),
    ]),
  );
  out.push(
    '',
    table([
      ['CHANNEL', 'SLOTS', 'IN USE', 'OCCUPANCY', 'DROPPED'],
      ...st.channels.map((c) => [
        c.name,
        String(c.slots),
        String(c.slotsInUse),
        `${fmt(c.occupancy * 100, 0)}%`,
        String(c.droppedNewest + c.droppedOldest),
      ]),
    ]),
  );
  if (st.splits.length > 0) {
    out.push(
      '',
      table([
        [
          'SPLIT',
          'STAGE',
          'MODE',
          'WEIGHTS',
          'OBSERVED',
          'FRAMES',
          'DIFFERING',
          'ONLY PRIMARY/OTHER',
          'POS RMS m',
          'VEL RMS m/s',
          'DECISIONS DIFFER',
        ],
        ...st.splits.map((x) => [
          x.name,
          x.stage,
          x.mode,
          Object.entries(x.weights)
            .map(([v, w]) => `${v} ${w}%`)
            .join(' / '),
          Object.entries(x.observedShares)
            .map(([v, w]) => `${v} ${fmt(w * 100)}%`)
            .join(' / '),
          String(x.divergence?.frames ?? 0),
          String(x.divergence?.framesDiffering ?? 0),
          `${x.divergence?.onlyPrimary ?? 0}/${x.divergence?.onlyOther ?? 0}`,
          fmt(x.divergence?.position.rms, 3),
          fmt(x.divergence?.velocity.rms, 3),
          String(x.divergence?.decisionsDiffering ?? 0),
        ]),
      ]),
    );
  }
  if (st.targets.length > 0 || Object.keys(st.denials).length > 0) {
    out.push(
      '',
      table([
        ['TARGET', 'OP', 'CHANNELS', 'SUBJECTS'],
        ...st.targets.map((t) => [t.name, t.op, t.channels.join(','), t.subjects.join(',')]),
      ]),
    );
    const denied = Object.entries(st.denials);
    if (denied.length > 0)
      out.push(
        '',
        table([['DENIED (op channel subject)', 'COUNT'], ...denied.map(([k, n]) => [k, String(n)])]),
      );
  }
  out.push(
    '',
    table([
      ['SENSOR', 'KIND', 'RATE Hz', 'EXPECTED Hz', 'RECEIVED', 'HEALTH'],
      ...st.sensors.map((x) => [
        x.id,
        x.kind,
        fmt(x.rateHz),
        String(x.expectedHz),
        String(x.received),
        x.health,
      ]),
    ]),
  );
  const last = st.applies.at(-1);
  if (last) {
    out.push(
      '',
      `last change (${last.trigger}): ${last.result}${last.generation !== undefined ? ` → generation ${last.generation}` : ''}${last.propagationMs !== undefined ? `, propagation ${fmt(last.propagationMs, 1)} ms` : ''}`,
      `  ${last.message.split('\n').join('\n  ')}`,
    );
  }
  return out.join('\n');
}

export async function statusCommand(flags: FlagValues): Promise<number> {
  const target = controlUrl(flags.endpoint);
  if ('error' in target) {
    process.stderr.write(`smi-fusion status: ${target.error}\n`);
    return EXIT.usage;
  }
  const once = async (): Promise<number> => {
    const s = await fetchStatus(target.url);
    const text = flags.json ? JSON.stringify(s, null, 2) : renderStatus(s);
    process.stdout.write(`${flags.watch && !flags.json ? '\x1b[2J\x1b[H' : ''}${text}\n`);
    return healthy(s) ? EXIT.ok : EXIT.notOk;
  };
  try {
    if (!flags.watch) return await once();
    const periodMs = (flags.interval === undefined ? 1 : Number(flags.interval)) * 1000;
    let stop = false;
    process.once('SIGINT', () => (stop = true));
    let code: number = EXIT.ok;
    while (!stop) {
      code = await once();
      await new Promise((r) => setTimeout(r, periodMs));
    }
    return code;
  } catch (err) {
    process.stderr.write(`smi-fusion status: ${(err as Error).message}\n`);
    return err instanceof Unreachable ? EXIT.unreachable : EXIT.notOk;
  }
}

export async function applyCommand(flags: FlagValues): Promise<number> {
  if (flags.file === undefined) {
    process.stderr.write(
      'smi-fusion apply: -f FILE is required; usage: smi-fusion apply -f FILE [--endpoint URL]\n',
    );
    return EXIT.usage;
  }
  const target = controlUrl(flags.endpoint);
  if ('error' in target) {
    process.stderr.write(`smi-fusion apply: ${target.error}\n`);
    return EXIT.usage;
  }
  const file = resolve(String(flags.file));
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    process.stderr.write(
      `smi-fusion apply: ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})\n`,
    );
    return EXIT.usage;
  }
  try {
    const { code, record } = await postApply(target.url, file, text);
    if ('error' in record) {
      process.stderr.write(`smi-fusion apply: HTTP ${code}: ${record.error}\n`);
      return EXIT.notOk;
    }
    const line = `${record.result}${record.generation !== undefined ? ` (generation ${record.generation})` : ''}: ${record.message}\n`;
    if (record.result === 'Applied' || record.result === 'Unchanged') {
      process.stdout.write(line);
      return EXIT.ok;
    }
    process.stderr.write(line);
    return EXIT.notOk;
  } catch (err) {
    process.stderr.write(`smi-fusion apply: ${(err as Error).message}\n`);
    return err instanceof Unreachable ? EXIT.unreachable : EXIT.notOk;
  }
}
