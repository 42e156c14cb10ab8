// Pool handoff bench: `npm run bench:pool` (builds first). Measures, for payloads of 64 KB, 1 MB,
// 4 MB and 8 MB, the handoff latency (producer commits / sends → consumer thread holds the
// descriptor / message) and the throughput of six ways to pass a sensor frame between threads:
// the pool on the native ring (shared memory, futex), the pool on the JS ring (in-process
// SharedArrayBuffer, Atomics), postMessage with structured clone, postMessage with transfer,
// ZeroMQ inproc:// and ZeroMQ ipc:// (loopback only). Prints a table, writes bench/results/pool.json.
//
// Latency runs are ping-pong (one message in flight, the consumer asleep when it arrives): the
// wake-up is part of every figure. Throughput runs allow 4 messages in flight. In every transport
// the producer writes the whole payload once per message (as ingest does); only the handoff is
// timed. The last row is the floor: the same ping-pong with a bare Atomics.wait/notify and no
// pool, i.e. what waking a sleeping thread costs on this machine. Options: --quick (fewer samples), --sizes=65536,1048576.
import { Worker, isMainThread, parentPort, workerData, MessageChannel } from 'node:worker_threads';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import os from 'node:os';
import { setImmediate } from 'node:timers';

const here = dirname(fileURLToPath(import.meta.url));
const poolModule = resolve(here, '../dist/pool/index.js');
const now = () => process.hrtime.bigint();
const WINDOW = 4;

// ---------------------------------------------------------------------------------------------
// Worker roles
// ---------------------------------------------------------------------------------------------

/** Fills `dst` from `src` (one copy of the payload, like ingest) and stamps the first 8 bytes. */
function fill(dst, src, seq) {
  dst.set(src.subarray(0, dst.byteLength));
  new DataView(dst.buffer, dst.byteOffset, 8).setUint32(0, seq, true);
}

async function poolProducer({ sab, implementation, count, size, warm }) {
  const { SlotPool } = await import(poolModule);
  const pool = SlotPool.attach(sab, { implementation });
  const w = pool.writer(0);
  const src = new Uint8Array(size).fill(7);
  for (let seq = 1; seq <= count + warm; seq++) {
    const slot = w.loanWait(60_000); // sleeps on the release word until the consumer lets go
    if (slot < 0) throw new Error('pool producer: no slot');
    fill(w.slotView(slot).subarray(0, size), src, seq);
    w.commit(slot, size, seq, 0n, now());
  }
  return {};
}

async function poolConsumer({ sab, implementation, count, latency, warm }) {
  const { SlotPool, emptyDescriptor } = await import(poolModule);
  const pool = SlotPool.attach(sab, { implementation });
  const r = pool.reader(0);
  const d = emptyDescriptor();
  const samples = new Float64Array(count);
  const u8 = new Uint8Array(sab);
  let got = -warm;
  let check = 0;
  parentPort.postMessage({ ready: true });
  let t0 = now();
  while (got < count) {
    if (!r.next(d)) {
      r.wait(60_000); // futex (native) / Atomics.wait (js): no polling
      continue;
    }
    if (got === 0) t0 = now();
    if (latency && got >= 0) samples[got] = Number(now() - d.commitNs);
    check += u8[pool.slotOffset(0, d.slot) + d.length - 1]; // touch the payload where it lies
    r.release(d.slot);
    got++;
  }
  return { samples: latency ? samples : undefined, elapsedNs: Number(now() - t0), check };
}

async function pmProducer({ port, count, size, transfer, window, warm }) {
  const src = new Uint8Array(size).fill(7);
  let credit = window;
  let wake = null;
  port.on('message', () => {
    credit++;
    if (wake) wake();
  });
  const reuse = new Uint8Array(size);
  for (let seq = 1; seq <= count + warm; seq++) {
    while (credit === 0) await new Promise((r) => (wake = r));
    wake = null;
    credit--;
    const buf = transfer ? new Uint8Array(size) : reuse;
    fill(buf, src, seq);
    const t = now();
    if (transfer) port.postMessage({ t, buf }, [buf.buffer]);
    else port.postMessage({ t, buf });
  }
  return {};
}

async function pmConsumer({ port, count, latency, warm }) {
  const samples = new Float64Array(count);
  let got = -warm;
  let check = 0;
  let t0 = 0n;
  return new Promise((resolveDone) => {
    port.on('message', ({ t, buf }) => {
      if (got === 0) t0 = now();
      if (latency && got >= 0) samples[got] = Number(now() - t);
      check += buf[buf.byteLength - 1];
      got++;
      port.postMessage(0);
      if (got === count) {
        port.close();
        resolveDone({ samples: latency ? samples : undefined, elapsedNs: Number(now() - t0), check });
      }
    });
    parentPort.postMessage({ ready: true });
  });
}

async function zmqInproc({ count: measured, size, latency, window, warm }) {
  const count = measured + warm;
  const zmq = await import('zeromq');
  const push = new zmq.Push({ sendHighWaterMark: 0 });
  const pull = new zmq.Pull({ receiveHighWaterMark: 0 });
  const ep = `inproc://smi-bench-${process.pid}`;
  await pull.bind(ep);
  push.connect(ep);
  const src = new Uint8Array(size).fill(7);
  const samples = new Float64Array(measured);
  const stamps = new BigInt64Array(count + 1);
  let check = 0;
  let t0 = now();
  let sent = 0;
  let got = 0;
  const inFlight = latency ? 1 : window;
  const receiver = (async () => {
    while (got < count) {
      const [msg] = await pull.receive();
      const seq = msg.readUInt32LE(0);
      if (got === warm) t0 = now();
      if (latency && got >= warm) samples[got - warm] = Number(now() - stamps[seq]);
      check += msg[msg.byteLength - 1];
      got++;
    }
  })();
  while (sent < count) {
    while (sent - got >= inFlight) await new Promise((r) => setImmediate(r));
    const buf = Buffer.allocUnsafe(size); // zeromq sends large buffers without copying: never reuse
    fill(buf, src, ++sent);
    stamps[sent] = now();
    await push.send(buf);
  }
  await receiver;
  const elapsedNs = Number(now() - t0);
  push.close();
  pull.close();
  return { samples: latency ? samples : undefined, elapsedNs, check };
}

async function zmqIpcProducer({ endpoint, port, count, size, window, warm }) {
  const zmq = await import('zeromq');
  const push = new zmq.Push({ sendHighWaterMark: 0 });
  await push.bind(endpoint);
  const src = new Uint8Array(size).fill(7);
  let credit = window;
  let wake = null;
  port.on('message', (m) => {
    if (m === 'go' || m === 0) credit += m === 'go' ? 0 : 1;
    if (wake) wake();
  });
  port.postMessage('bound');
  await new Promise((r) => port.once('message', r)); // consumer connected
  for (let seq = 1; seq <= count + warm; seq++) {
    while (credit === 0) await new Promise((r) => (wake = r));
    wake = null;
    credit--;
    const buf = Buffer.allocUnsafe(size);
    fill(buf, src, seq);
    const t = now();
    new DataView(buf.buffer, buf.byteOffset + 8, 8).setBigUint64(0, t, true);
    await push.send(buf);
  }
  await new Promise((r) => setTimeout(r, 50));
  push.close();
  return {};
}

async function zmqIpcConsumer({ endpoint, port, count, latency, warm }) {
  const zmq = await import('zeromq');
  await new Promise((r) => port.once('message', r)); // producer bound
  const pull = new zmq.Pull({ receiveHighWaterMark: 0 });
  pull.connect(endpoint);
  await new Promise((r) => setTimeout(r, 100)); // let the connection establish
  port.postMessage('go');
  const samples = new Float64Array(count);
  let check = 0;
  let t0 = 0n;
  for (let got = -warm; got < count; got++) {
    const [msg] = await pull.receive();
    if (got === 0) t0 = now();
    if (latency && got >= 0) samples[got] = Number(now() - msg.readBigUInt64LE(8));
    check += msg[msg.byteLength - 1];
    port.postMessage(0);
  }
  pull.close();
  return { samples: latency ? samples : undefined, elapsedNs: Number(now() - t0), check };
}

// The floor: the same ping-pong with a bare Atomics.notify/wait and no pool, to separate what the
// pool costs from what waking a sleeping thread costs on this machine.
async function floorProducer({ sab, count, size, warm }) {
  const i32 = new Int32Array(sab, 0, 16);
  const stamp = new BigInt64Array(sab, 64, 1);
  const payload = new Uint8Array(sab, 128, size);
  const src = new Uint8Array(size).fill(7);
  for (let seq = 1; seq <= count + warm; seq++) {
    for (let acked = Atomics.load(i32, 1); acked !== seq - 1; acked = Atomics.load(i32, 1)) {
      Atomics.wait(i32, 1, acked);
    }
    fill(payload, src, seq);
    stamp[0] = now();
    Atomics.store(i32, 0, seq);
    Atomics.notify(i32, 0);
  }
  return {};
}

async function floorConsumer({ sab, count, latency, warm }) {
  const i32 = new Int32Array(sab, 0, 16);
  const stamp = new BigInt64Array(sab, 64, 1);
  const payload = new Uint8Array(sab, 128);
  const samples = new Float64Array(count);
  let check = 0;
  let t0 = now();
  parentPort.postMessage({ ready: true });
  for (let got = -warm, seq = 1; got < count; got++, seq++) {
    while (Atomics.load(i32, 0) !== seq) Atomics.wait(i32, 0, seq - 1);
    if (got === 0) t0 = now();
    if (latency && got >= 0) samples[got] = Number(now() - stamp[0]);
    check += payload[payload.byteLength - 1];
    Atomics.store(i32, 1, seq);
    Atomics.notify(i32, 1);
  }
  return { samples: latency ? samples : undefined, elapsedNs: Number(now() - t0), check };
}

const ROLES = {
  floorProducer,
  floorConsumer,
  poolProducer,
  poolConsumer,
  pmProducer,
  pmConsumer,
  zmqInproc,
  zmqIpcProducer,
  zmqIpcConsumer,
};

if (!isMainThread) {
  const { role, ...job } = workerData;
  ROLES[role](job).then(
    (r) => parentPort.postMessage({ done: r }, r.samples ? [r.samples.buffer] : []),
    (err) => parentPort.postMessage({ error: String(err?.stack ?? err) }),
  );
}

// ---------------------------------------------------------------------------------------------
// Orchestration (main thread)
// ---------------------------------------------------------------------------------------------

function start(role, job, transferList = []) {
  const w = new Worker(fileURLToPath(import.meta.url), { workerData: { role, ...job }, transferList });
  let onReady;
  const ready = new Promise((r) => (onReady = r));
  const done = new Promise((resolveDone, reject) => {
    w.on('message', (m) => {
      if (m.ready) onReady();
      else if (m.error) reject(new Error(`${role}: ${m.error}`));
      else if (m.done) resolveDone(m.done);
    });
    w.on('error', reject);
  });
  return { ready, done: done.finally(() => w.terminate()) };
}

async function runPool(implementation, size, count, latency, warm) {
  const { SlotPool } = await import(poolModule);
  const geometry = [{ name: 'bench', slotCount: latency ? 1 : WINDOW, slotBytes: size, readerCount: 1 }];
  const pool =
    implementation === 'native'
      ? SlotPool.createNative(`/smi-bench-${process.pid}`, geometry)
      : SlotPool.create(geometry);
  try {
    const job = { sab: pool.sab, implementation, count, size, latency, warm };
    const consumer = start('poolConsumer', job);
    await consumer.ready;
    const producer = start('poolProducer', job);
    const [, r] = await Promise.all([producer.done, consumer.done]);
    return r;
  } finally {
    pool.close();
  }
}

async function runFloor(size, count, latency, warm) {
  const job = { sab: new SharedArrayBuffer(128 + size), count, size, latency, warm };
  const consumer = start('floorConsumer', job);
  await consumer.ready;
  const producer = start('floorProducer', job);
  const [, r] = await Promise.all([producer.done, consumer.done]);
  return r;
}

async function runPostMessage(transfer, size, count, latency, warm) {
  const { port1, port2 } = new MessageChannel();
  const consumer = start('pmConsumer', { port: port2, count, latency, warm }, [port2]);
  await consumer.ready;
  const producer = start(
    'pmProducer',
    { port: port1, count, size, transfer, window: latency ? 1 : WINDOW, warm },
    [port1],
  );
  const [, r] = await Promise.all([producer.done, consumer.done]);
  return r;
}

async function runZmqInproc(size, count, latency, warm) {
  return start('zmqInproc', { count, size, latency, window: WINDOW, warm }).done;
}

async function runZmqIpc(size, count, latency, warm) {
  const sock = `/tmp/smi-bench-${process.pid}.sock`;
  const { port1, port2 } = new MessageChannel();
  const job = { endpoint: `ipc://${sock}`, count, size, latency, warm };
  const consumer = start('zmqIpcConsumer', { ...job, port: port2 }, [port2]);
  const producer = start('zmqIpcProducer', { ...job, port: port1, window: latency ? 1 : WINDOW }, [port1]);
  try {
    const [, r] = await Promise.all([producer.done, consumer.done]);
    return r;
  } finally {
    rmSync(sock, { force: true });
  }
}

const TRANSPORTS = [
  ['pool native ring', (s, n, l, w) => runPool('native', s, n, l, w)],
  ['pool JS ring', (s, n, l, w) => runPool('js', s, n, l, w)],
  ['postMessage clone', (s, n, l, w) => runPostMessage(false, s, n, l, w)],
  ['postMessage transfer', (s, n, l, w) => runPostMessage(true, s, n, l, w)],
  ['zmq inproc://', runZmqInproc],
  ['zmq ipc://', runZmqIpc],
  ['floor: Atomics.notify', runFloor],
];

function percentile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const fmtUs = (ns) => (ns < 10_000 ? (ns / 1000).toFixed(1) : Math.round(ns / 1000).toString());

async function main() {
  const quick = process.argv.includes('--quick');
  const sizesArg = process.argv.find((a) => a.startsWith('--sizes='));
  const sizes = sizesArg ? sizesArg.slice(8).split(',').map(Number) : [65536, 1 << 20, 4 << 20, 8 << 20];
  const { nativeAddon, nativeLoadError } = await import(poolModule);
  if (!nativeAddon())
    console.warn(`native addon unavailable (${nativeLoadError()}): skipping the native ring`);
  const results = [];
  for (const size of sizes) {
    const latencyN = quick ? 300 : size >= 4 << 20 ? 1000 : 3000;
    const throughputN = Math.max(quick ? 50 : 100, Math.round(((quick ? 256 : 1024) * 2 ** 20) / size));
    for (const [name, run] of TRANSPORTS) {
      if (name === 'pool native ring' && !nativeAddon()) continue;
      // Each run starts fresh threads: its first messages (JIT, first-touch page faults) are not counted.
      const warm = size >= 4 << 20 ? 100 : 500;
      const lat = await run(size, latencyN, true, warm);
      const sorted = Float64Array.from(lat.samples).sort();
      const thr = await run(size, throughputN, false, warm >> 2);
      const msgsPerS = throughputN / (thr.elapsedNs / 1e9);
      const row = {
        transport: name,
        payloadBytes: size,
        samples: latencyN,
        p50Ns: percentile(sorted, 0.5),
        p99Ns: percentile(sorted, 0.99),
        p999Ns: percentile(sorted, 0.999),
        maxNs: sorted[sorted.length - 1],
        throughputMsgsPerS: msgsPerS,
        throughputMBPerS: (msgsPerS * size) / 2 ** 20,
      };
      results.push(row);
      console.log(
        `${(size / 1024).toString().padStart(5)} KB  ${name.padEnd(21)} p50 ${fmtUs(row.p50Ns).padStart(7)} µs  p99 ${fmtUs(row.p99Ns).padStart(7)} µs  p99.9 ${fmtUs(row.p999Ns).padStart(7)} µs  ${Math.round(msgsPerS).toString().padStart(7)} msg/s  ${Math.round(row.throughputMBPerS).toString().padStart(6)} MB/s`,
      );
    }
  }
  // Table and targets.
  const lines = [
    '| payload | transport | p50 µs | p99 µs | p99.9 µs | msg/s | MB/s |',
    '|---:|---|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.payloadBytes >= 1 << 20 ? `${r.payloadBytes / 2 ** 20} MB` : `${r.payloadBytes / 1024} KB`} | ${r.transport} | ${fmtUs(r.p50Ns)} | ${fmtUs(r.p99Ns)} | ${fmtUs(r.p999Ns)} | ${Math.round(r.throughputMsgsPerS)} | ${Math.round(r.throughputMBPerS)} |`,
    ),
  ];
  console.log(`\n${lines.join('\n')}\n`);
  const targets = [];
  for (const impl of ['pool native ring', 'pool JS ring']) {
    for (const r of results.filter((x) => x.transport === impl)) {
      targets.push({
        what: `${impl} ${r.payloadBytes} B: p50 <= 10 µs, p99 <= 100 µs`,
        met: r.p50Ns <= 10_000 && r.p99Ns <= 100_000,
        p50Us: r.p50Ns / 1000,
        p99Us: r.p99Ns / 1000,
      });
    }
    const pool4 = results.find((x) => x.transport === impl && x.payloadBytes === 4 << 20);
    const clone4 = results.find((x) => x.transport === 'postMessage clone' && x.payloadBytes === 4 << 20);
    if (pool4 && clone4) {
      const p50x = clone4.p50Ns / pool4.p50Ns;
      const p99x = clone4.p99Ns / pool4.p99Ns;
      targets.push({
        what: `${impl} vs structured clone at 4 MB: >= 100x lower p50, >= 20x lower p99`,
        met: p50x >= 100 && p99x >= 20,
        p50Ratio: p50x,
        p99Ratio: p99x,
      });
    }
  }
  for (const t of targets) {
    const figures = Object.entries(t)
      .filter(([k]) => k !== 'what' && k !== 'met')
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(', ');
    console.log(`${t.met ? 'MET    ' : 'NOT MET'}  ${t.what}  (${figures})`);
  }
  const out = resolve(here, 'results/pool.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        when: new Date().toISOString(),
        node: process.version,
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model,
        method:
          'latency: ping-pong, one message in flight, commit/send stamp -> consumer thread holds it (CLOCK_MONOTONIC); throughput: 4 in flight',
        results,
        targets,
      },
      null,
      2,
    ),
  );
  console.log(`wrote ${out}`);
}

if (isMainThread) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
