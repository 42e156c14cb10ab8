/**
 * What changed between the running spec and a new one, and whether the running pipeline can take
 * it: budgets, classes, stage params, planning, splits and targets are applied live; anything that
 * sizes memory or threads or opens sockets (sensors, channels, the pool, sources, outputs, the
 * stage set and its inputs and placements, the scheduler's settings, the track table) needs a
 * restart.
 */
import type { PipelineSpec } from '../spec/pipeline-spec.js';
import { restartParams } from '../spec/stage-params.js';

export interface SpecDiff {
  /** Changes applied live, as paths (`spec.stages[tracker].budgetMs`, `TrafficSplit/canary`). */
  live: string[];
  /** Changes that need a restart, each with why. */
  restart: string[];
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Fields of the spec that need a restart when they change (path → what it sizes or opens). */
const RESTART_FIELDS: [keyof PipelineSpec, string][] = [
  ['sensors', 'the sensors size the pool and the tracker'],
  ['channels', 'channels are the pool geometry'],
  ['derivedChannels', 'channels are the pool geometry'],
  ['pool', 'the pool is created at start'],
  ['sources', 'sources are sockets and threads opened at start'],
  ['outputs', 'output sockets and servers are bound at start'],
  ['scheduler', 'the scheduler mode, window and priorities are set when the threads start'],
  ['fusion', 'the track table is sized at start'],
  ['ingest', 'ingest limits are given to the threads at start'],
];

export function diffSpecs(running: PipelineSpec, next: PipelineSpec): SpecDiff {
  const live: string[] = [];
  const restart: string[] = [];
  if (running.name !== next.name)
    restart.push(`metadata.name: '${running.name}' → '${next.name}' (another pipeline)`);
  for (const [field, why] of RESTART_FIELDS) {
    if (!same(running[field], next[field])) restart.push(`spec.${field}: ${why}`);
  }
  const names = (s: PipelineSpec) => s.stages.map((x) => x.name).join(',');
  if (names(running) !== names(next)) {
    restart.push(
      `spec.stages: stages added or removed (${names(running)} → ${names(next)}): each has its thread and inputs`,
    );
  } else {
    running.stages.forEach((a, i) => {
      const b = next.stages[i]!;
      const at = `spec.stages[${a.name}]`;
      if (a.type !== b.type || !same(a.inputs, b.inputs) || a.placement !== b.placement) {
        restart.push(`${at}: type, inputs or placement: they decide threads and pool readers`);
      }
      if (a.budgetMs !== b.budgetMs) live.push(`${at}.budgetMs: ${a.budgetMs} → ${b.budgetMs}`);
      if (a.class !== b.class) live.push(`${at}.class: ${a.class} → ${b.class}`);
      if (!same(a.params, b.params)) {
        const keys = [...new Set([...Object.keys(a.params), ...Object.keys(b.params)])].filter(
          (k) => !same(a.params[k], b.params[k]),
        );
        const fixed = restartParams(a.type, keys);
        if (fixed.length > 0) restart.push(`${at}.params.${fixed.join(', ')}: sizes the stage's grids`);
        for (const k of keys.filter((k) => !fixed.includes(k))) live.push(`${at}.params.${k}`);
      }
    });
  }
  for (const k of Object.keys(next.planning) as (keyof PipelineSpec['planning'])[]) {
    if (running.planning[k] !== next.planning[k])
      live.push(`spec.planning.${k}: ${running.planning[k]} → ${next.planning[k]}`);
  }
  const strip = <T extends { origin: string }>(xs: readonly T[]) =>
    xs.map(({ origin: _origin, ...rest }) => rest);
  if (!same(strip(running.splits), strip(next.splits))) {
    const describe = (s: PipelineSpec) =>
      s.splits
        .map((x) => `${x.name} (${x.mode} ${x.stage}: ${x.primary.weight}/${x.alternative.weight})`)
        .join(', ') || 'none';
    live.push(`TrafficSplit: ${describe(running)} → ${describe(next)}`);
  }
  const reads = (s: PipelineSpec) => strip(s.targets.filter((t) => t.op === 'read'));
  if (!same(reads(running), reads(next))) {
    restart.push('TrafficTarget (op read): read rules decide which pool readers the stages open at start');
  } else if (!same(strip(running.targets), strip(next.targets))) {
    live.push(`TrafficTarget: ${running.targets.length} → ${next.targets.length} rules`);
  }
  return { live, restart };
}
