// The targets of the latency bench (README "Performance"), judged on a run's results. Each line
// says met, NOT MET (with the figure) or not measured (and why); none of them fails the run.

/** Figures from JSON come back with NaN as null. */
const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : NaN);
const f = (v, d = 2) => (Number.isFinite(num(v)) ? num(v).toFixed(d) : '-');

/**
 * `results`: { service: [...cases], prefetch: [...rows], transport: [...rows], propagation },
 * `budgetMs`: the planner's budget. Returns [{ status: 'met' | 'NOT MET' | 'not measured', text, figure }].
 */
export function judgeTargets(results, budgetMs) {
  const out = [];
  const check = (value, ok, text, figure) =>
    out.push({
      status: Number.isFinite(num(value)) ? (ok ? 'met' : 'NOT MET') : 'not measured',
      text,
      figure: Number.isFinite(num(value)) ? figure : 'no samples in this run',
    });
  const sched = (load) => results.service.find((c) => c.mode === 'sched' && c.load === load);
  const p = (c, name, q) => num(c?.latency[name]?.[q]);
  const one = sched('1x');
  if (one) {
    const e2e = p(one, 'e2e/critical', 'p99');
    check(e2e, e2e <= 5, '1x critical (radar/ego -> plan) e2e p99 <= 5 ms', `${f(e2e)} ms`);
    const lidar = p(one, 'e2e/lidar', 'p99');
    check(lidar, lidar <= 20, '1x lidar-to-plan p99 <= 20 ms', `${f(lidar)} ms`);
    const sync = p(one, 'sync/tracker', 'p99');
    check(sync, sync <= 1, '1x sync p99 <= 1 ms (every measurement the tracker fuses)', `${f(sync, 3)} ms`);
    const misses = one.perClass.critical?.misses ?? 0;
    check(misses, misses === 0, '1x 0 critical deadline misses', `${misses}`);
    const h50 = p(one, 'handoff/critical', 'p50') * 1000;
    const h99 = p(one, 'handoff/critical', 'p99') * 1000;
    check(
      h50,
      h50 <= 10,
      '1x service pool handoff (radar/ego) p50 <= 10 µs with prefetch',
      `${f(h50, 1)} µs`,
    );
    check(
      h99,
      h99 <= 100,
      '1x service pool handoff (radar/ego) p99 <= 100 µs with prefetch',
      `${f(h99, 1)} µs`,
    );
  }
  for (const load of ['3x', '1x + CPU hog']) {
    const c = sched(load);
    if (!c) continue;
    const e2e = p(c, 'e2e/critical', 'p99');
    check(e2e, e2e <= budgetMs, `${load} critical e2e p99 within the ${budgetMs} ms budget`, `${f(e2e)} ms`);
    check(
      c.droppedCritical,
      c.droppedCritical === 0,
      `${load} 0 critical messages dropped`,
      `${c.droppedCritical}`,
    );
  }
  for (const r of (results.prefetch ?? []).filter((x) => x.transport === 'pool, prefetch on')) {
    const size = r.size >= 1048576 ? `${r.size / 1048576} MB` : `${r.size / 1024} KB`;
    check(
      r.p50,
      r.p50 <= 10,
      `pool handoff p50 <= 10 µs with prefetch, ${size} @ ${r.rateHz} Hz`,
      `${f(r.p50, 1)} µs`,
    );
    check(
      r.p99,
      r.p99 <= 100,
      `pool handoff p99 <= 100 µs with prefetch, ${size} @ ${r.rateHz} Hz`,
      `${f(r.p99, 1)} µs`,
    );
  }
  const prop = results.propagation;
  if (prop?.measured) {
    const p99 = num(prop.latency.p99);
    check(p99, p99 <= 50, 'control-plane propagation (spec saved -> in effect) p99 <= 50 ms', `${f(p99)} ms`);
  } else if (prop) {
    out.push({
      status: 'not measured',
      text: 'control-plane propagation p99 <= 50 ms',
      figure: prop.reason,
    });
  }
  return out;
}

/** One line per target: "met      text: figure" / "NOT MET  ..." / "not measured ...". */
export function formatTargets(lines) {
  const width = Math.max(...lines.map((l) => l.status.length), 7);
  return lines.map((l) => `${l.status.padEnd(width)}  ${l.text}: ${l.figure}`);
}
