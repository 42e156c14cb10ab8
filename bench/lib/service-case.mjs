// One case of the service bench: the real onboard service (FusionService, the code of
// `smi-fusion run`) fed over ZeroMQ ipc:// by a separate load-generator process that plays a drive
// at `load` times its rates, optionally beside a CPU hog on both cores. Every latency the stages
// report (their sample rings, the same ones metrics are made from) goes into HDR-style histograms
// per stage and metric; besides: messages per second per kind, CPU per thread and memory, deadline
// misses and shed frames per class, dropped critical messages.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { pino } from 'pino';
import { BENCH_DIR, dist } from './dist.mjs';
import { HistogramSet } from './histograms.mjs';
import { memorySampler, processCpuS, threadCpuS } from './proc-stats.mjs';

const { FusionService } = await import(dist('service/fusion-service.js'));
const { parsePipelineSpec } = await import(dist('smi/spec/pipeline-spec.js'));
const { decodeHeader } = await import(dist('wire/codec.js'));

/**
 * The pipelines a case can run (README "Performance"): the stage scheduler with prefetch on and
 * off, the synchronisation-window baseline and the trigger-cycle baseline.
 */
export const MODES = {
  sched: { name: 'scheduler, prefetch on', scheduler: { mode: 'stages', prefetch: { enabled: true } } },
  'sched-noprefetch': {
    name: 'scheduler, prefetch off',
    scheduler: { mode: 'stages', prefetch: { enabled: false } },
  },
  'sync-window': {
    name: 'sync window (baseline)',
    scheduler: { mode: 'sync-window', prefetch: { enabled: false } },
  },
  'trigger-cycles': {
    name: 'trigger cycles (baseline)',
    scheduler: { mode: 'trigger-cycles', prefetch: { enabled: false } },
  },
};

let segments = 0;

/** The spec a case runs: `pipelineFile` (or the built-in rig) with the bench's sources and outputs. */
export function benchSpec(pipelineFile, mode, endpoint) {
  const doc = pipelineFile
    ? parseYaml(readFileSync(pipelineFile, 'utf8'))
    : { apiVersion: 'smi-fusion.dev/v1alpha1', kind: 'Pipeline', metadata: { name: 'bench' }, spec: {} };
  doc.spec ??= {};
  doc.spec.sources = [{ type: 'zmq', endpoints: [endpoint] }];
  doc.spec.outputs = { publish: 'tcp://127.0.0.1:*', metrics: { enabled: false } };
  // a segment of its own per case: nothing a previous case's threads still map is shared
  doc.spec.pool = { ...doc.spec.pool, segment: `/smi-bench-${process.pid}-${++segments}` };
  const sched = (doc.spec.scheduler ??= {});
  sched.mode = mode.scheduler.mode;
  sched.prefetch = { ...sched.prefetch, ...mode.scheduler.prefetch };
  return parsePipelineSpec(stringifyYaml(doc), pipelineFile ?? 'bench.yaml');
}

function startHog() {
  const hogs = [0, 1].map(() => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
  return () => hogs.forEach((h) => h.kill('SIGKILL'));
}

/** The load generator (bench/load-generator.mjs) in its own process; resolves once it has bound. */
function startGenerator(drive, endpoint, load, seconds, pipelineFile) {
  const args = [join(BENCH_DIR, 'load-generator.mjs'), drive, endpoint, String(load), String(seconds)];
  if (pipelineFile) args.push(pipelineFile);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const ready = new Promise((resolveReady, reject) => {
    child.stdout.on('data', (b) => {
      out += b.toString();
      if (out.includes('"ready"')) resolveReady();
    });
    child.once('exit', (code) => reject(new Error(`load generator exited ${code} before it was ready`)));
  });
  const done = new Promise((r) => child.once('exit', () => r(out)));
  return { pid: child.pid, ready, done, kill: () => child.kill('SIGKILL') };
}

const CRITICAL_KINDS = new Set(['ego', 'radar']);

/**
 * Runs one case; resolves with its figures. `onProgress({ elapsedS, totalS, msgsPerS, e2eP99Ms })`
 * is called about once a second while it measures; `onSpan` (when tracing) sees each span the
 * stage threads report, `onIngest(sensorIndex, startNs, endNs)` each message ingested on the main thread.
 */
export async function runServiceCase({
  drive,
  modeKey,
  load,
  hog = false,
  seconds,
  warmupS,
  pipelineFile,
  onProgress = () => {},
  trace,
}) {
  const mode = MODES[modeKey];
  if (!mode) throw new Error(`bench: unknown mode '${modeKey}' (one of ${Object.keys(MODES).join(', ')})`);
  const endpoint = `ipc://${join(tmpdir(), `smi-bench-${process.pid}.sock`)}`;
  const spec = benchSpec(pipelineFile, mode, endpoint);
  const gen = startGenerator(drive, endpoint, load, seconds + warmupS + 2, pipelineFile);
  await gen.ready;
  const stopHog = hog ? startHog() : () => {};
  const h = new HistogramSet();
  let measuring = false;
  const service = await FusionService.start(spec, {
    log: pino({ level: 'error' }),
    trace: trace !== undefined,
    // receive: the header's stamp (the generator's send) → the service has the message (the
    // socket, and the wait for this thread's event loop)
    receiveTap: (parts, receivedNs) => {
      if (!measuring) return;
      const header = decodeHeader(parts[1]);
      const ns = Number(receivedNs - header.stampNs);
      h.record(`receive/${header.kind}`, ns);
      if (CRITICAL_KINDS.has(header.kind)) h.record('receive/critical', ns);
    },
  });
  const kindOf = new Map(service.graph.channels.map((c) => [c.name, c.kind]));
  service.scheduler.telemetry.onSample((s) => {
    if (!measuring) return;
    const kind = kindOf.get(s.channel);
    switch (s.metric) {
      case 'e2e': {
        const trigger = kind === 'boxes' ? 'lidar' : kind;
        h.record(`e2e/${trigger}`, s.valueNs);
        if (CRITICAL_KINDS.has(kind)) h.record('e2e/critical', s.valueNs);
        break;
      }
      case 'ingest':
        h.record(`ingest/${kind}`, s.valueNs);
        break;
      case 'fusion':
        h.record('fusion', s.valueNs);
        break;
      case 'latency':
        h.record(`stage/${s.stage}`, s.valueNs);
        break;
      default:
        // handoff, sync, run: per stage, and the critical inputs' own
        h.record(`${s.metric}/${s.stage}`, s.valueNs);
        if (CRITICAL_KINDS.has(kind) && s.metric !== 'run') h.record(`${s.metric}/critical`, s.valueNs);
    }
  });
  if (trace) {
    trace.begin(service);
    service.scheduler.telemetry.onSpan((span) => measuring && trace.onSpan(span));
  }
  // Ingest on the main thread reports to the service's sink (Prometheus); the bench listens too.
  const kinds = spec.sensors.map((s) => s.kind);
  const sink = service.ingestSink;
  const toMetrics = sink.latency;
  sink.latency = (sensor, ns) => {
    toMetrics(sensor, ns);
    if (!measuring) return;
    h.record(`ingest/${kinds[sensor]}`, ns);
    if (trace) {
      const end = Number(process.hrtime.bigint());
      trace.onIngest(sensor, end - ns, end);
    }
  };

  await new Promise((r) => setTimeout(r, warmupS * 1000));
  const telemetry = service.scheduler.telemetry;
  const before = telemetry.status();
  const dropsBefore = dropsOf(service);
  const receivedBefore = spec.sensors.map((_, i) => service.ingest.receivedOf(i));
  const plansBefore = telemetry.planStatus().plans;
  const threadsBefore = before.threads.map((t) => threadCpuS(t.tid));
  const processBefore = process.cpuUsage();
  const genBefore = processCpuS(gen.pid);
  const memory = memorySampler();
  measuring = true;
  const t0 = process.hrtime.bigint();
  const totalS = seconds;
  for (let s = 1; s <= Math.ceil(seconds); s++) {
    await new Promise((r) => setTimeout(r, Math.min(1, seconds - (s - 1)) * 1000));
    telemetry.drain();
    const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
    const msgs = spec.sensors.reduce((n, _, i) => n + service.ingest.receivedOf(i) - receivedBefore[i], 0);
    onProgress({
      elapsedS,
      totalS,
      msgsPerS: msgs / elapsedS,
      e2eP99Ms: h.get('e2e/critical').quantile(0.99) / 1e6,
    });
  }
  telemetry.drain();
  measuring = false;
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = telemetry.status();
  const dropsAfter = dropsOf(service);
  const cpu = process.cpuUsage(processBefore);
  const genCpuS = processCpuS(gen.pid) - genBefore;
  const threadCpu = after.threads.map((t, i) => ({
    thread: t.name,
    priority: t.priority,
    cpuPercent: (100 * (threadCpuS(t.tid) - threadsBefore[i])) / wallS,
    spinningPercent: t.spinningPercent,
  }));
  const processPercent = (100 * (cpu.user + cpu.system)) / 1e6 / wallS;
  const stagesPercent = threadCpu.reduce((n, t) => n + (Number.isFinite(t.cpuPercent) ? t.cpuPercent : 0), 0);
  threadCpu.push({ thread: 'other (V8, libuv, ZeroMQ I/O)', cpuPercent: processPercent - stagesPercent });
  const mem = memory.stop();
  const rates = {};
  spec.sensors.forEach((sensor, i) => {
    const n = (service.ingest.receivedOf(i) - receivedBefore[i]) / wallS;
    rates[sensor.kind] = (rates[sensor.kind] ?? 0) + n;
  });
  const plans = telemetry.planStatus().plans - plansBefore;
  stopHog();
  await service.stop();
  gen.kill();
  await gen.done;

  const perClass = {};
  for (const s of after.stages) {
    const b = before.stages.find((x) => x.name === s.name);
    const c = (perClass[s.class] ??= { frames: 0, misses: 0, shed: 0, degraded: 0, shedBy: {} });
    c.frames += s.frames - b.frames;
    c.misses += s.misses - b.misses;
    c.degraded += s.degraded - b.degraded;
    for (const [reason, v] of Object.entries(s.shed)) {
      const d = v - b.shed[reason];
      c.shed += d;
      if (d > 0) c.shedBy[reason] = (c.shedBy[reason] ?? 0) + d;
    }
  }
  return {
    kind: 'service',
    mode: modeKey,
    modeName: mode.name,
    load: hog ? `${load}x + CPU hog` : `${load}x`,
    loadFactor: load,
    hog,
    seconds: wallS,
    latency: h.summaries(),
    messagesPerS: { ...rates, total: Object.values(rates).reduce((a, b) => a + b, 0), plans: plans / wallS },
    cpu: { processPercent, generatorPercent: (100 * genCpuS) / wallS, threads: threadCpu },
    memory: { ...mem, poolMiB: service.pool.sab.byteLength / 2 ** 20 },
    perClass,
    droppedCritical: dropsAfter.critical - dropsBefore.critical,
    droppedAll: dropsAfter.all - dropsBefore.all,
    overloadLevelAtEnd: after.overloadLevel,
    samplesDropped: after.samplesDropped - before.samplesDropped,
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
    if (CRITICAL_KINDS.has(c.kind)) critical += n;
  }
  return { critical, all: all + service.ingest.droppedCount };
}
