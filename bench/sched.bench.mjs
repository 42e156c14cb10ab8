// Scheduler bench: `npm run bench:sched` (builds first). Runs the real onboard service (the code of
// `smi-fusion run`) fed over ZeroMQ ipc:// by a separate load-generator process that plays a
// simulated drive of the built-in rig (1 lidar at 10 Hz, ~103k points; 5 radars at 20 Hz; 6
// cameras at 30 Hz; odometry at 100 Hz) at 1x, 2x and 3x those rates, and at 1x with a CPU hog on
// both cores (two busy processes at the default priority). Side by side in the same run: the stage
// scheduler with prefetch on, with it off, and the trigger-cycle baseline (`scheduler.mode:
// trigger-cycles`, the design the scheduler replaced). Measures from the stamps the stages report:
// critical e2e (an ego or radar message's stampNs → the plan published after it), lidar-to-plan,
// sync (committed → the tracker uses it), handoff (committed → the consuming thread holds it),
// deadline misses and shed frames per class, dropped ego/radar messages, prefetch hits and spin
// CPU. Prints a table and the targets (a NOT MET line for each missed one), writes
// bench/results/sched.json and sched.md. Then the prefetch handoff bench (bench/prefetch.bench.mjs).
//
// Options: --quick (4 s per case), --duration=S, --no-prefetch-bench, --loads=1,2,3,hog,
// --modes=0,1,2 (indices into MODES: prefetch on, prefetch off, trigger cycles)
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { formatPrefetchTable, runPrefetchBench } from './prefetch.bench.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = (p) => resolve(here, '../dist', p);
const { FusionService } = await import(dist('service/fusion-service.js'));
const { defaultPipelineSpec } = await import(dist('smi/spec/pipeline-spec.js'));
const { writeSimulatedDrive } = await import(dist('service/simulated-drive.js'));
const { SCENARIO_DIR } = await import(dist('service/simulator-source.js'));
const { LatencyHistogram } = await import(dist('telemetry/latency-histogram.js'));
const { parsePipelineSpec } = await import(dist('smi/spec/pipeline-spec.js'));

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const durationArg = args.find((a) => a.startsWith('--duration='));
const seconds = durationArg ? Number(durationArg.slice(11)) : quick ? 4 : 15;
const loadsArg = args.find((a) => a.startsWith('--loads='));
const loads = loadsArg ? loadsArg.slice(8).split(',') : ['1', '2', '3', 'hog'];
const WARMUP_S = 1.5;

const MODES = [
  { name: 'scheduler, prefetch on', mode: 'stages', prefetch: true },
  { name: 'scheduler, prefetch off', mode: 'stages', prefetch: false },
  { name: 'trigger cycles (baseline)', mode: 'trigger-cycles', prefetch: false },
];

async function makeDrive() {
  const path = join(tmpdir(), `smi-sched-bench-${quick ? 'q' : 'f'}.mcap`);
  if (!existsSync(path)) {
    process.stderr.write(`sched: simulating ${quick ? 6 : 12} s of highway-following into ${path}\n`);
    await writeSimulatedDrive({
      scenarioFile: join(SCENARIO_DIR, 'highway-following.yaml'),
      out: path,
      spec: defaultPipelineSpec(),
      durationS: quick ? 6 : 12,
      foxglove: false,
    });
  }
  return path;
}

function startHog() {
  const hogs = [0, 1].map(() => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
  return () => hogs.forEach((h) => h.kill('SIGKILL'));
}

function startGenerator(drive, endpoint, load, s) {
  const child = spawn(
    process.execPath,
    [join(here, 'load-generator.mjs'), drive, endpoint, String(load), String(s)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  const ready = new Promise((resolveReady, reject) => {
    child.stdout.on('data', (b) => {
      out += b.toString();
      if (out.includes('"ready"')) resolveReady();
    });
    child.once('exit', (code) => reject(new Error(`load generator exited ${code} before it was ready`)));
  });
  const done = new Promise((r) => child.once('exit', () => r(out)));
  return { ready, done, kill: () => child.kill('SIGKILL') };
}

const pct = (h, q) => (h.count ? h.quantile(q) / 1e6 : NaN);
const summary = (h) => ({
  n: h.count,
  p50: pct(h, 0.5),
  p90: pct(h, 0.9),
  p99: pct(h, 0.99),
  p999: pct(h, 0.999),
  max: h.count ? h.max / 1e6 : NaN,
});

async function runCase(drive, m, loadName) {
  const load = loadName === 'hog' ? 1 : Number(loadName);
  const endpoint = `ipc://${join(tmpdir(), `smi-sched-${process.pid}.sock`)}`;
  const spec = parsePipelineSpec(
    [
      'apiVersion: smi-fusion.dev/v1alpha1',
      'kind: Pipeline',
      'metadata: { name: sched-bench }',
      'spec:',
      `  sources: [{ type: zmq, endpoints: ['${endpoint}'] }]`,
      `  outputs: { publish: 'tcp://127.0.0.1:*', metrics: { enabled: false } }`,
      `  pool: { segment: /smi-sched-bench-${process.pid} }`,
      `  scheduler: { mode: ${m.mode}, prefetch: { enabled: ${m.prefetch} } }`,
    ].join('\n'),
    'sched-bench.yaml',
  );
  const gen = startGenerator(drive, endpoint, load, seconds + WARMUP_S + 1.5);
  await gen.ready;
  const stopHog = loadName === 'hog' ? startHog() : () => {};
  const service = await FusionService.start(spec, { log: pino({ level: 'warn' }) });
  const h = {
    e2eCritical: new LatencyHistogram(),
    e2eLidar: new LatencyHistogram(),
    syncCritical: new LatencyHistogram(),
    handoffCritical: new LatencyHistogram(),
    lidarStage: new LatencyHistogram(),
  };
  let measuring = false;
  service.scheduler.telemetry.onSample((s) => {
    if (!measuring) return;
    const kind = service.graph.channels.find((c) => c.name === s.channel)?.kind;
    if (s.metric === 'e2e') {
      if (kind === 'ego' || kind === 'radar') h.e2eCritical.record(s.valueNs);
      else if (kind === 'boxes' || kind === 'lidar') h.e2eLidar.record(s.valueNs);
    } else if (s.stage === 'tracker' && (kind === 'ego' || kind === 'radar')) {
      if (s.metric === 'sync') h.syncCritical.record(s.valueNs);
      if (s.metric === 'handoff') h.handoffCritical.record(s.valueNs);
    } else if (s.metric === 'latency' && s.stage === 'lidar-extraction') h.lidarStage.record(s.valueNs);
  });
  await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
  const before = service.scheduler.telemetry.status();
  const poolBefore = dropsOf(service);
  measuring = true;
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  service.scheduler.telemetry.drain();
  measuring = false;
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = service.scheduler.telemetry.status();
  const poolAfter = dropsOf(service);
  stopHog();
  await service.stop();
  gen.kill();
  await gen.done;
  const perClass = {};
  for (const s of after.stages) {
    const b = before.stages.find((x) => x.name === s.name);
    const c = (perClass[s.class] ??= { misses: 0, shed: 0, degraded: 0, frames: 0 });
    c.frames += s.frames - b.frames;
    c.misses += s.misses - b.misses;
    c.degraded += s.degraded - b.degraded;
    c.shed +=
      Object.values(s.shed).reduce((a, v) => a + v, 0) - Object.values(b.shed).reduce((a, v) => a + v, 0);
  }
  const tracker = after.threads.find((t) => t.name === 'tracker');
  return {
    mode: m.name,
    load: loadName === 'hog' ? '1x + CPU hog' : `${load}x`,
    seconds: wallS,
    e2eCritical: summary(h.e2eCritical),
    e2eLidar: summary(h.e2eLidar),
    syncCritical: summary(h.syncCritical),
    handoffCritical: summary(h.handoffCritical),
    lidarStage: summary(h.lidarStage),
    perClass,
    droppedCritical: poolAfter.critical - poolBefore.critical,
    droppedAll: poolAfter.all - poolBefore.all,
    trackerSpinPercent: tracker?.spinningPercent ?? 0,
    overloadLevelAtEnd: after.overloadLevel,
  };
}

/** Messages dropped for a full channel (drop-oldest and drop-newest), critical channels and all. */
function dropsOf(service) {
  let critical = 0;
  let all = 0;
  for (const c of service.graph.channels) {
    const st = service.pool.stats(c.index);
    const n = st.droppedFull + st.droppedOldest;
    all += n;
    if (c.kind === 'ego' || c.kind === 'radar') critical += n;
  }
  return { critical, all: all + service.ingest.droppedCount };
}

const f = (v, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '-');

function table(rows) {
  const lines = [
    '| mode | load | critical e2e p50 / p99 / p99.9 / max ms | lidar-to-plan p50 / p99 ms | sync p99 ms | handoff p50 / p99 µs | critical misses | shed best-effort / normal / high | degraded high | critical drops | tracker spin % |',
    '| ---- | ---- | --------------------------------------- | -------------------------- | ----------: | -------------------: | --------------: | -------------------------------- | ------------: | -------------: | -------------: |',
  ];
  for (const r of rows) {
    const c = (k) => r.perClass[k] ?? { misses: 0, shed: 0, degraded: 0 };
    lines.push(
      `| ${r.mode} | ${r.load} | ${f(r.e2eCritical.p50)} / ${f(r.e2eCritical.p99)} / ${f(r.e2eCritical.p999)} / ${f(r.e2eCritical.max)} | ${f(r.e2eLidar.p50)} / ${f(r.e2eLidar.p99)} | ${f(r.syncCritical.p99, 3)} | ${f(r.handoffCritical.p50 * 1000, 0)} / ${f(r.handoffCritical.p99 * 1000, 0)} | ${c('critical').misses} | ${c('best-effort').shed} / ${c('normal').shed} / ${c('high').shed} | ${c('high').degraded} | ${r.droppedCritical} | ${f(r.trackerSpinPercent, 1)} |`,
    );
  }
  return lines.join('\n');
}

function targets(rows) {
  const out = [];
  const check = (ok, text, figure) => out.push(`${ok ? 'met    ' : 'NOT MET'}  ${text}: ${figure}`);
  const sched = rows.filter((r) => r.mode === 'scheduler, prefetch on');
  const at = (load) => sched.find((r) => r.load === load);
  const one = at('1x');
  const budget = defaultPipelineSpec().stages.find((s) => s.type === 'planner').budgetMs;
  if (one) {
    check(one.e2eCritical.p99 <= 5, '1x critical e2e p99 <= 5 ms', `${f(one.e2eCritical.p99)} ms`);
    check(one.e2eLidar.p99 <= 20, '1x lidar-to-plan p99 <= 20 ms', `${f(one.e2eLidar.p99)} ms`);
    check(one.syncCritical.p99 <= 1, '1x sync p99 <= 1 ms', `${f(one.syncCritical.p99, 3)} ms`);
    check(
      (one.perClass.critical?.misses ?? 0) === 0,
      '1x 0 critical misses',
      `${one.perClass.critical?.misses ?? 0}`,
    );
  }
  for (const load of ['3x', '1x + CPU hog']) {
    const r = at(load);
    if (!r) continue;
    check(
      r.e2eCritical.p99 <= budget,
      `${load} critical e2e p99 within the ${budget} ms budget`,
      `${f(r.e2eCritical.p99)} ms`,
    );
    check(r.droppedCritical === 0, `${load} 0 critical drops`, `${r.droppedCritical}`);
  }
  return out;
}

const modesArg = args.find((a) => a.startsWith('--modes='));
const modes = modesArg
  ? modesArg
      .slice(8)
      .split(',')
      .map((i) => MODES[Number(i)])
  : MODES;
const drive = await makeDrive();
const rows = [];
for (const loadName of loads) {
  for (const m of modes) {
    process.stderr.write(
      `sched: ${m.name} at ${loadName === 'hog' ? '1x + CPU hog' : `${loadName}x`} (${seconds} s)\n`,
    );
    rows.push(await runCase(drive, m, loadName));
  }
}
const machine = `${(await import('node:os')).cpus()[0]?.model ?? 'cpu'} x${(await import('node:os')).availableParallelism()}, Node ${process.version}`;
const tableText = table(rows);
const targetLines = targets(rows);
let prefetchRows = [];
if (!args.includes('--no-prefetch-bench')) prefetchRows = await runPrefetchBench({ quick });
console.log(`machine: ${machine}; ${seconds} s per case after ${WARMUP_S} s warm-up\n`);
console.log(tableText);
console.log('');
for (const l of targetLines) console.log(l);
if (prefetchRows.length) {
  console.log('\nhandoff on periodic channels (predictive prefetch):\n');
  console.log(formatPrefetchTable(prefetchRows));
  for (const r of prefetchRows.filter((x) => x.transport === 'pool, prefetch on')) {
    const size = `${r.size / 1024} KB`;
    console.log(`${r.p50 <= 10 ? 'met    ' : 'NOT MET'}  handoff p50 <= 10 µs at ${size}: ${f(r.p50, 1)} µs`);
    console.log(
      `${r.p99 <= 100 ? 'met    ' : 'NOT MET'}  handoff p99 <= 100 µs at ${size}: ${f(r.p99, 1)} µs`,
    );
  }
}
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(
  join(here, 'results/sched.json'),
  JSON.stringify({ machine, seconds, rows, targets: targetLines, prefetch: prefetchRows }, null, 2),
);
writeFileSync(
  join(here, 'results/sched.md'),
  `${tableText}\n\n${targetLines.join('\n')}\n\n${prefetchRows.length ? formatPrefetchTable(prefetchRows) : ''}\n`,
);
