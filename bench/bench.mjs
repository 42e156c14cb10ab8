// The latency bench: `npm run bench` (builds first). How a user measures fusion latency: the real
// onboard service fed by a drive (simulated, or --drive) over ZeroMQ from a separate process at
// 1x, 2x and 3x the rig's rates and beside a CPU hog; side by side in one run: the stage
// scheduler with prefetch on and off, the sync-window and trigger-cycle baselines, the pool against
// postMessage-copy and ZeroMQ ipc:// carrying the same frames between the same stages, the
// prefetch handoff bench and the control-plane propagation delay. Latencies per stage and end to
// end from HDR-style histograms; messages/s, CPU per thread, memory, deadline misses and shed
// frames per class. Prints a table and one line per target (NOT MET when missed; exit 0 either
// way); writes bench/results/bench.{json,md,html}; `--trace FILE` writes a per-frame Chrome
// trace-event file (opens in Perfetto). README "Performance" says what each figure is.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { BENCH_DIR, dist } from './lib/dist.mjs';
import { MODES, runServiceCase } from './lib/service-case.mjs';
import { runTransportBench } from './lib/transport-case.mjs';
import { measurePropagation } from './lib/control-plane-adapter.mjs';
import { judgeTargets, formatTargets } from './lib/targets.mjs';
import { markdownReport, serviceTable, stageTable, transportTable, fmt } from './lib/report.mjs';
import { htmlReport, standalonePlots } from './lib/html-report.mjs';
import { TraceRecorder } from './lib/trace.mjs';
import { formatPrefetchTable, runPrefetchBench } from './prefetch.bench.mjs';

const { defaultPipelineSpec, loadPipelineSpec } = await import(dist('smi/spec/pipeline-spec.js'));
const { writeSimulatedDrive } = await import(dist('service/simulated-drive.js'));
const { SCENARIO_DIR } = await import(dist('service/simulator-source.js'));

const HELP = `usage: npm run bench -- [options]

  --quick              every case short: the whole run in under a minute
  --duration S         seconds measured per service case (default 15; --quick 2.5)
  --load LIST          loads, comma-separated: a factor of the rig's rates (1, 2, 0.5) or 'hog'
                       (1x beside a CPU hog on both cores); default 1,2,3,hog
  --modes LIST         pipelines: sched, sched-noprefetch, sync-window, trigger-cycles (or 0-3)
  --cases LIST         service, transport, prefetch, propagation (default: all)
  --pipeline FILE      the pipeline spec to measure (its sources and outputs are the bench's)
  --drive FILE         the drive to play (default: a simulated highway-following drive)
  --trace FILE         write a per-frame trace (Chrome trace-event JSON; open in ui.perfetto.dev)
  --out DIR            where bench.{json,md,html} go (default bench/results)
`;

/** --flag=value and --flag value; booleans as --flag. */
function parseArgs(argv) {
  const valued = new Set([
    'duration',
    'load',
    'loads',
    'modes',
    'cases',
    'pipeline',
    'drive',
    'trace',
    'out',
  ]);
  const flags = new Set(['quick', 'help', 'no-prefetch-bench']);
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) fail(`unexpected argument '${a}'`);
    const [, name, inline] = m;
    if (flags.has(name)) {
      if (inline !== undefined) fail(`--${name} takes no value`);
      o[name] = true;
    } else if (valued.has(name)) {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) fail(`--${name} needs a value`);
      o[name] = v;
    } else fail(`unknown option --${name}`);
  }
  return o;
}

function fail(message) {
  process.stderr.write(`bench: ${message}\n\n${HELP}`);
  process.exit(2);
}

const opts = parseArgs(process.argv.slice(2));
if (opts.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const quick = opts.quick === true;
const seconds = opts.duration !== undefined ? Number(opts.duration) : quick ? 2.5 : 15;
if (!(seconds > 0 && seconds <= 3600)) fail(`--duration ${opts.duration}: a number of seconds in (0, 3600]`);
const warmupS = quick ? 0.75 : 1.5;
const ALL_CASES = ['service', 'transport', 'prefetch', 'propagation'];
const cases = new Set((opts.cases ?? ALL_CASES.join(',')).split(','));
for (const c of cases)
  if (!ALL_CASES.includes(c)) fail(`--cases: '${c}' is not one of ${ALL_CASES.join(', ')}`);
if (opts['no-prefetch-bench']) cases.delete('prefetch');
const MODE_KEYS = Object.keys(MODES);
const parseLoad = (l) => {
  if (l === 'hog') return { load: 1, hog: true, name: '1x + CPU hog' };
  const x = Number(l.replace(/x$/, ''));
  if (!(x > 0 && x <= 10)) fail(`--load: '${l}' is not a factor in (0, 10] or 'hog'`);
  return { load: x, hog: false, name: `${x}x` };
};
const parseMode = (m) => {
  const key = /^\d$/.test(m) ? MODE_KEYS[Number(m)] : m;
  if (!MODES[key]) fail(`--modes: '${m}' is not one of ${MODE_KEYS.join(', ')}`);
  return key;
};
for (const f of ['pipeline', 'drive'])
  if (opts[f] && !existsSync(opts[f])) fail(`--${f} ${opts[f]}: no such file`);
const pipelineFile = opts.pipeline ? resolve(opts.pipeline) : undefined;
const spec = pipelineFile ? loadPipelineSpec(pipelineFile) : defaultPipelineSpec();

/** The service cases: loads × modes when either is given, else every mode at 1x and the main ones above it. */
function serviceMatrix() {
  const loadList = opts.load ?? opts.loads;
  const modeList = opts.modes?.split(',').map(parseMode);
  if (loadList || modeList) {
    const loads = (loadList ?? '1').split(',').map(parseLoad);
    const modes = modeList ?? ['sched', 'trigger-cycles'];
    return loads.flatMap((l) => modes.map((m) => ({ ...l, mode: m })));
  }
  const one = MODE_KEYS.map((m) => ({ ...parseLoad('1'), mode: m }));
  const over = quick ? ['3', 'hog'].map((l) => ({ ...parseLoad(l), mode: 'sched' })) : [];
  if (!quick) {
    for (const l of ['2', '3', 'hog'])
      for (const m of ['sched', 'trigger-cycles']) over.push({ ...parseLoad(l), mode: m });
  }
  return [...one, ...over];
}

async function simulatedDrive() {
  const durationS = quick ? 6 : 12;
  // simulated with the rig under test (--pipeline's sensors), cached per rig
  const rig = createHash('sha256').update(JSON.stringify(spec.sensors)).digest('hex').slice(0, 12);
  const path = join(os.tmpdir(), `smi-bench-highway-${durationS}s-${rig}.mcap`);
  if (!existsSync(path)) {
    progress.note(`simulating ${durationS} s of highway-following into ${path}`);
    await writeSimulatedDrive({
      scenarioFile: join(SCENARIO_DIR, 'highway-following.yaml'),
      out: path,
      spec,
      durationS,
      foxglove: false,
    });
  }
  return path;
}

/** The progress line on stderr: rewritten in place on a terminal, one line per case elsewhere. */
const progress = {
  tty: process.stderr.isTTY === true,
  note(text) {
    process.stderr.write(`${this.tty ? '\r\x1b[K' : ''}bench: ${text}\n`);
  },
  update(text) {
    if (this.tty) process.stderr.write(`\r\x1b[K${text}`);
  },
};

const startedAt = new Date().toISOString();
const machine = `${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.version}; load average ${os
  .loadavg()
  .map((x) => x.toFixed(2))
  .join(' ')} at start`;
const trace = opts.trace ? new TraceRecorder() : undefined;
const results = { service: [], transport: [], prefetch: [], propagation: undefined };
const t0 = Date.now();

if (cases.has('service')) {
  const drive = opts.drive ? resolve(opts.drive) : await simulatedDrive();
  const matrix = serviceMatrix();
  for (const [i, m] of matrix.entries()) {
    const label = `[${i + 1}/${matrix.length}] ${MODES[m.mode].name} at ${m.name}`;
    progress.note(`${label} (${seconds} s)`);
    const r = await runServiceCase({
      drive,
      modeKey: m.mode,
      load: m.load,
      hog: m.hog,
      seconds,
      warmupS,
      pipelineFile,
      trace: trace && i === 0 ? trace : undefined,
      onProgress: (p) =>
        progress.update(
          `${label}: ${p.elapsedS.toFixed(0)}/${p.totalS} s, ${p.msgsPerS.toFixed(0)} msg/s in, critical e2e p99 ${fmt(p.e2eP99Ms)} ms`,
        ),
    });
    results.service.push(r);
    const e = r.latency['e2e/critical'] ?? {};
    progress.note(
      `${label}: critical e2e p50 ${fmt(e.p50)} / p99 ${fmt(e.p99)} ms, ${fmt(r.messagesPerS.total, 0)} msg/s, ${r.perClass.critical?.misses ?? 0} critical misses`,
    );
  }
  if (trace) trace.done();
}
if (cases.has('transport')) {
  const drive = opts.drive ? resolve(opts.drive) : await simulatedDrive();
  results.transport = await runTransportBench({
    drive,
    spec,
    seconds: quick ? 1.5 : Math.min(seconds, 10),
    // at the first numeric load asked for (the comparison is at nominal load by default)
    load: (opts.load ?? opts.loads ?? '1').split(',').map(parseLoad)[0].load,
    note: (t) => progress.note(t),
  });
}
if (cases.has('prefetch')) {
  progress.note('prefetch handoff bench');
  results.prefetch = await runPrefetchBench({
    quick,
    sizes: quick ? [65536] : undefined,
    seconds: quick ? 1.5 : 10,
  });
}
if (cases.has('propagation')) results.propagation = await measurePropagation({ quick });

const budgetMs = spec.stages.find((s) => s.type === 'planner')?.budgetMs ?? 20;
const targets = judgeTargets(results, budgetMs);
const run = {
  machine,
  command: `node bench/bench.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  startedAt,
  wallS: (Date.now() - t0) / 1000,
  options: {
    quick,
    seconds,
    warmupS,
    pipeline: pipelineFile ?? '(built-in rig)',
    drive: opts.drive ?? '(simulated)',
  },
  results,
  targets,
};

console.log(`machine: ${machine}; ${seconds} s per service case after ${warmupS} s warm-up\n`);
if (results.service.length) console.log(`${serviceTable(results.service)}\n`);
if (results.transport.length)
  console.log(`transports (same frames, same stages):\n\n${transportTable(results.transport)}\n`);
if (results.prefetch.length)
  console.log(`handoff on periodic channels (prefetch):\n\n${formatPrefetchTable(results.prefetch)}\n`);
for (const l of formatTargets(targets)) console.log(l);

const out = resolve(opts.out ?? join(BENCH_DIR, 'results'));
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'bench.json'), JSON.stringify(run, null, 1));
writeFileSync(join(out, 'bench.md'), markdownReport(run));
const tables = {};
if (results.service.length) tables['Service pipeline'] = serviceTable(results.service);
if (results.transport.length)
  tables['Transports (same frames, same stage)'] = transportTable(results.transport);
if (results.prefetch.length) tables['Prefetch handoff bench'] = formatPrefetchTable(results.prefetch);
for (const c of results.service) tables[`${c.modeName} at ${c.load}: every latency`] = stageTable(c);
writeFileSync(join(out, 'bench.html'), htmlReport(run, tables));
const written = [join(out, 'bench.json'), join(out, 'bench.md'), join(out, 'bench.html')];
for (const [name, svg] of Object.entries(standalonePlots(run))) {
  writeFileSync(join(out, name), svg);
  written.push(join(out, name));
}
if (trace) {
  const file = resolve(opts.trace);
  writeFileSync(file, JSON.stringify(trace.toJSON()));
  written.push(`${file} (${trace.eventCount} trace events)`);
}
console.log(`\nwrote ${written.join(', ')} in ${run.wallS.toFixed(0)} s`);
// Worker threads can hold a process at exit (nodejs/node#54918): leave explicitly.
process.exit(0);
