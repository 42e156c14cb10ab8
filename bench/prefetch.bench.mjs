// Predictive prefetch bench (part of `npm run bench`, or alone: `node bench/prefetch.bench.mjs`
// after a build). A producer thread commits into the native pool at a sensor's rate (64 KB at
// 100 Hz, 1 MB at 20 Hz, 4 MB and 8 MB at 10 Hz), stamping each commit, and rings the consumer's
// doorbell as ingest does. The consumer is the scheduler's own waiting code (StageInputs +
// PrefetchWaiter from dist/): prefetch off (sleep on the doorbell until rung) and on (learn the
// period, wake shortly before the next commit, spin for it). Handoff = commit → consumer holds the
// descriptor. Side by side: ZeroMQ inproc:// at the same rate (push and pull on one thread, as
// bench:pool measures it). Also the consumer thread's CPU (utime + stime from /proc/thread-self),
// as a share of one core. Prints a table, writes bench/results/prefetch.json.
// Options: --quick (3 s per case instead of 10), --sizes=65536,1048576.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const dist = (p) => resolve(here, '../dist', p);
const now = () => process.hrtime.bigint();
const TICK_NS = 1e9 / 100; // USER_HZ

/** CPU ns this thread has used (Linux: /proc/thread-self/stat utime + stime). */
function threadCpuNs() {
  const f = readFileSync('/proc/thread-self/stat', 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * TICK_NS;
}

// --- worker roles ---------------------------------------------------------------------------

async function producer({ poolSab, blockSab, shape, size, periodNs, count }) {
  const { SlotPool } = await import(dist('pool/index.js'));
  const { SchedulerBlock } = await import(dist('workers/scheduler-block.js'));
  const pool = SlotPool.attach(poolSab);
  const block = SchedulerBlock.attach(blockSab, shape);
  const w = pool.writer(0);
  const src = new Uint8Array(size).fill(7);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  let t = Number(now()) + 50e6;
  for (let seq = 1; seq <= count; seq++) {
    t += periodNs;
    // A sensor commits on its own clock: sleep, then spin to the exact instant (producer side).
    for (;;) {
      const left = t - Number(now());
      if (left <= 0) break;
      if (left > 1.5e6) Atomics.wait(sleeper, 0, 0, (left - 1e6) / 1e6);
    }
    const slot = w.loan();
    if (slot < 0) continue;
    w.slotView(slot).set(src);
    w.commit(slot, size, seq, now(), now());
    block.ring(0);
  }
  block.requestStop(); // the consumer ends when it has taken what is left
  return {};
}

async function consumer({ poolSab, blockSab, shape, count, prefetch }) {
  const { SlotPool } = await import(dist('pool/index.js'));
  const { SchedulerBlock, STAGE_COUNTER } = await import(dist('workers/scheduler-block.js'));
  const { StageInputs } = await import(dist('workers/stage-inputs.js'));
  const { PrefetchWaiter } = await import(dist('workers/prefetch-waiter.js'));
  const { ReadyQueue, emptyReadyFrame } = await import(dist('smi/policy/ready-queue.js'));
  const { setThreadNice } = await import(dist('workers/thread-priority.js'));
  setThreadNice(-10);
  const pool = SlotPool.attach(poolSab);
  const block = SchedulerBlock.attach(blockSab, shape);
  const stage = { index: 0, name: 'bench', type: 'tracker', classRank: 0, budgetNs: 1e9 };
  const rate = 1e9 / workerData.periodNs;
  const info = {
    channel: 0,
    name: 'bench',
    kind: 'radar',
    sensorIndex: 0,
    access: 'sequential',
    rateHz: rate,
    external: false,
    stage: 0,
  };
  const inputs = new StageInputs(pool, block, 0, [info], [stage], undefined);
  const waiter = new PrefetchWaiter(block, 0, inputs, prefetch, 0, 0);
  const ready = new ReadyQueue(8);
  const f = emptyReadyFrame();
  const samples = new Float64Array(count);
  let got = 0;
  parentPort.postMessage({ ready: true });
  const cpu0 = threadCpuNs();
  const t0 = now();
  while (got < count) {
    const seen = block.rung(0);
    if (inputs.drain(ready, f) === 0) {
      if (block.stopping) break;
      waiter.wait(seen);
      continue;
    }
    const taken = now();
    while (ready.pop(f)) {
      if (got < count) samples[got++] = Number(taken - f.commitNs);
      inputs.finish(f.channel, f.slot);
    }
  }
  const wallNs = Number(now() - t0);
  const cpuNs = threadCpuNs() - cpu0;
  return {
    samples: samples.slice(0, got),
    dropped: count - got,
    cpuShare: cpuNs / wallNs,
    hits: block.get(0, STAGE_COUNTER.spinHits),
    misses: block.get(0, STAGE_COUNTER.spinMisses),
  };
}

async function zmqInproc({ size, periodNs, count }) {
  const zmq = await import('zeromq');
  const push = new zmq.Push({ sendHighWaterMark: 0 });
  const pull = new zmq.Pull({ receiveHighWaterMark: 0 });
  const ep = `inproc://smi-prefetch-${process.pid}-${size}`;
  await pull.bind(ep);
  push.connect(ep);
  const src = new Uint8Array(size).fill(7);
  const samples = new Float64Array(count);
  const stamps = new Float64Array(count + 1);
  let got = 0;
  const cpu0 = threadCpuNs();
  const t0 = now();
  const receiver = (async () => {
    while (got < count) {
      const [msg] = await pull.receive();
      const seq = msg.readUInt32LE(0);
      samples[got++] = Number(now()) - stamps[seq];
    }
  })();
  let t = Number(now()) + 50e6;
  for (let seq = 1; seq <= count; seq++) {
    t += periodNs;
    const left = t - Number(now());
    if (left > 0) await new Promise((r) => setTimeout(r, left / 1e6));
    const buf = Buffer.allocUnsafe(size);
    buf.set(src);
    buf.writeUInt32LE(seq, 0);
    stamps[seq] = Number(now());
    await push.send(buf);
  }
  await receiver;
  const cpuShare = (threadCpuNs() - cpu0) / Number(now() - t0);
  push.close();
  pull.close();
  return { samples, cpuShare, hits: 0, misses: 0 };
}

const ROLES = { producer, consumer, zmqInproc };

if (!isMainThread) {
  const { role, ...job } = workerData;
  ROLES[role](job).then(
    (r) => parentPort.postMessage({ done: r }, r.samples ? [r.samples.buffer] : []),
    (err) => parentPort.postMessage({ error: String(err?.stack ?? err) }),
  );
}

// --- orchestration --------------------------------------------------------------------------

function start(role, job) {
  const w = new Worker(fileURLToPath(import.meta.url), { workerData: { role, ...job } });
  let onReady;
  const ready = new Promise((r) => (onReady = r));
  const done = new Promise((res, rej) => {
    w.on('message', (m) => {
      if (m.ready) onReady();
      else if (m.error) rej(new Error(`${role}: ${m.error}`));
      else if (m.done) res(m.done);
    });
    w.on('error', rej);
  });
  return { ready, done: done.finally(() => w.terminate()) };
}

function quantiles(samples) {
  const s = Float64Array.from(samples).sort();
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))] / 1e3;
  return { p50: q(0.5), p99: q(0.99), p999: q(0.999), max: s[s.length - 1] / 1e3 };
}

/** The scheduler's defaults; `--spin-us=`, `--lead-us=`, `--cpu-percent=` override them. */
const PREFETCH = { enabled: true, spinUs: 200, leadUs: 100, maxCpuPercent: 5 };
for (const [flag, key] of [
  ['--spin-us=', 'spinUs'],
  ['--lead-us=', 'leadUs'],
  ['--cpu-percent=', 'maxCpuPercent'],
]) {
  const a = process.argv.find((x) => x.startsWith(flag));
  if (a) PREFETCH[key] = Number(a.slice(flag.length));
}

async function runPool(size, periodNs, count, prefetchOn) {
  const { SlotPool } = await import(dist('pool/index.js'));
  const { SchedulerBlock } = await import(dist('workers/scheduler-block.js'));
  const pool = SlotPool.createNative(`/smi-prefetch-${process.pid}`, [
    { name: 'bench', slotCount: 4, slotBytes: size, readerCount: 1, whenFull: 'drop-oldest' },
  ]);
  const shape = { threads: 1, stages: 1, channels: 1 };
  const block = SchedulerBlock.create(shape);
  const prefetch = { ...PREFETCH, enabled: prefetchOn };
  try {
    const job = { poolSab: pool.sab, blockSab: block.sab, shape, size, periodNs, count, prefetch };
    const c = start('consumer', job);
    await c.ready;
    const p = start('producer', job);
    const [, r] = await Promise.all([p.done, c.done]);
    return r;
  } finally {
    pool.close();
  }
}

export async function runPrefetchBench({
  quick = false,
  sizes = [65536, 1048576, 4194304, 8388608],
  seconds = quick ? 3 : 10,
} = {}) {
  const rateOf = { 65536: 100, 1048576: 20, 4194304: 10, 8388608: 10 };
  const rows = [];
  for (const size of sizes) {
    const hz = rateOf[size] ?? 10;
    const periodNs = 1e9 / hz;
    const count = Math.max(20, Math.round(seconds * hz));
    for (const [name, run] of [
      ['pool, prefetch off', () => runPool(size, periodNs, count, false)],
      ['pool, prefetch on', () => runPool(size, periodNs, count, true)],
      ['zmq inproc:// (one thread)', () => start('zmqInproc', { size, periodNs, count }).done],
    ]) {
      const r = await run();
      // The first second is learning (the period estimator trains on 8 intervals).
      const skip = Math.min(hz, Math.floor(r.samples.length / 4));
      const q = quantiles(r.samples.subarray(skip));
      rows.push({
        size,
        rateHz: hz,
        transport: name,
        ...q,
        cpuPercent: 100 * r.cpuShare,
        prefetchHits: r.hits,
        prefetchMisses: r.misses,
        samples: r.samples.length - skip,
        dropped: r.dropped ?? 0,
      });
      process.stderr.write(
        `prefetch: ${size} B @ ${hz} Hz, ${name}: p50 ${q.p50.toFixed(1)} µs p99 ${q.p99.toFixed(1)} µs\n`,
      );
    }
  }
  return rows;
}

export function formatPrefetchTable(rows) {
  const lines = [
    '| payload | rate | transport | p50 µs | p99 µs | p99.9 µs | max µs | consumer CPU % of a core | spin hits / misses |',
    '| ------: | ---: | --------- | -----: | -----: | -------: | -----: | -----------------------: | ------------------ |',
  ];
  for (const r of rows) {
    const size = r.size >= 1048576 ? `${r.size / 1048576} MB` : `${r.size / 1024} KB`;
    lines.push(
      `| ${size} | ${r.rateHz} Hz | ${r.transport} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.p999.toFixed(1)} | ${r.max.toFixed(0)} | ${r.cpuPercent.toFixed(2)} | ${r.transport.includes('prefetch on') ? `${r.prefetchHits} / ${r.prefetchMisses}` : '-'} |`,
    );
  }
  return lines.join('\n');
}

if (isMainThread && process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const sizesArg = process.argv.find((a) => a.startsWith('--sizes='));
  const sizes = sizesArg ? sizesArg.slice(8).split(',').map(Number) : undefined;
  const rows = await runPrefetchBench({ quick, sizes });
  console.log(formatPrefetchTable(rows));
  mkdirSync(resolve(here, 'results'), { recursive: true });
  writeFileSync(resolve(here, 'results/prefetch.json'), JSON.stringify({ rows }, null, 2));
}
