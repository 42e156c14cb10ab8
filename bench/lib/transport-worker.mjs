// The two threads of the transport side-by-side (bench/lib/transport-case.mjs): a producer that
// plays a drive's frames at the rig's rates as ingest does (one copy of each payload into the
// transport), and a consumer that runs the fusion stage on them (the service's own tracker,
// lidar clustered inside, through fuseMeasurement). The transport between them is the pool (slots
// in shared memory, a futex doorbell), postMessage with structured clone (a copy per message), or
// ZeroMQ ipc:// (PUSH/PULL). Each frame's stampNs is when the producer started handing it over:
// e2e = fused - stampNs; handoff = the stage holds its bytes - (stampNs, or when the stage was
// last free if later), the transport's own cost, not the queueing behind earlier frames.
import { parentPort, workerData } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { dist } from './dist.mjs';
import { HistogramSet } from './histograms.mjs';

const { SlotPool, emptyDescriptor } = await import(dist('pool/index.js'));
const { MultiSensorTracker } = await import(dist('fusion/multi-sensor-tracker.js'));
const { fuseMeasurement } = await import(dist('fusion/measurement-dispatch.js'));

const now = () => Number(process.hrtime.bigint());
const TICK_NS = 1e9 / 100;

/** CPU ns this thread has used (utime + stime of /proc/thread-self). */
function threadCpuNs() {
  const f = readFileSync('/proc/thread-self/stat', 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * TICK_NS;
}

const META_BYTES = 16; // zmq: channel u32, seq u32, stampNs f64

async function producer({ transport, frames, spanNs, seconds, load, poolSab, doorSab, port, endpoint }) {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const door = doorSab ? new Int32Array(doorSab) : undefined;
  const pool = poolSab ? SlotPool.attach(poolSab) : undefined;
  const writers = pool ? pool.channels.map((_, i) => pool.writer(i)) : [];
  let push;
  if (transport === 'zmq') {
    const zmq = await import('zeromq');
    push = new zmq.Push({ sendHighWaterMark: 10_000, linger: 0 });
    push.connect(endpoint);
    await new Promise((r) => setTimeout(r, 200)); // let the connection come up
  }
  const meta = new DataView(new ArrayBuffer(META_BYTES));
  const t0Drive = frames[0].stampNs;
  const start = now() + 20e6;
  const end = start + seconds * 1e9;
  const cpu0 = threadCpuNs();
  let sent = 0;
  let refused = 0;
  for (let loop = 0, done = false; !done; loop++) {
    for (const f of frames) {
      const at = start + (loop * spanNs + (f.stampNs - t0Drive)) / load;
      if (at > end) {
        done = true;
        break;
      }
      const wait = at - now();
      if (wait > 50_000) Atomics.wait(sleeper, 0, 0, wait / 1e6);
      const stampNs = now();
      const seq = sent++;
      if (transport === 'pool') {
        const w = writers[f.channel];
        const slot = w.loan();
        if (slot < 0) {
          refused++;
          continue;
        }
        if (f.payload) w.slotView(slot).set(f.payload);
        w.commit(slot, f.payload?.byteLength ?? 0, seq, BigInt(stampNs), BigInt(now()));
        Atomics.add(door, 0, 1);
        Atomics.notify(door, 0);
      } else if (transport === 'postMessage') {
        // structured clone: the payload is copied into the message
        port.postMessage({ channel: f.channel, seq, stampNs, payload: f.payload });
      } else {
        meta.setUint32(0, f.channel, true);
        meta.setUint32(4, seq, true);
        meta.setFloat64(8, stampNs, true);
        // ZeroMQ keeps the buffers it is given until sent: a fresh copy of each (as a driver would)
        const payload = f.payload ? Buffer.from(f.payload) : Buffer.alloc(0);
        await push.send([Buffer.from(meta.buffer), payload]);
      }
    }
  }
  const cpuNs = threadCpuNs() - cpu0;
  if (port) port.postMessage({ end: sent });
  if (push) {
    meta.setUint32(0, 0xffffffff, true);
    meta.setUint32(4, sent, true);
    await push.send([Buffer.from(meta.buffer), Buffer.alloc(0)]);
    push.close();
  }
  if (door) {
    Atomics.store(door, 1, sent + 1); // sent + 1: "the producer is done, `sent` frames"
    Atomics.add(door, 0, 1);
    Atomics.notify(door, 0);
  }
  return { sent, refused, cpuPercent: (100 * cpuNs) / (now() - start) };
}

/** The fusion stage: one tracker over the rig, histograms by the kind of each frame. */
function fusionStage(sensors) {
  const tracker = new MultiSensorTracker(sensors, { maxTracks: 64 });
  const h = new HistogramSet();
  const group = sensors.map((s) => (s.kind === 'ego' || s.kind === 'radar' ? 'critical' : s.kind));
  let scratch = new ArrayBuffer(1 << 16);
  let freeSinceNs = 0;
  return {
    h,
    /** Fuses one frame: `bytes` (4-aligned view or a buffer to copy into alignment), its stamp. */
    fuse(channel, bytes, stampNs, heldNs) {
      let buf = bytes.buffer;
      let off = bytes.byteOffset;
      if (off % 8 !== 0) {
        // ZeroMQ frames may start anywhere: typed views need alignment, so one more copy
        if (scratch.byteLength < bytes.byteLength) scratch = new ArrayBuffer(bytes.byteLength * 2);
        new Uint8Array(scratch, 0, bytes.byteLength).set(bytes);
        buf = scratch;
        off = 0;
      }
      const len = bytes.byteLength;
      const f32 = new Float32Array(buf, off, len >> 2);
      const f64 = new Float64Array(buf, off, len >> 3);
      const k = group[channel];
      // handoff: from when the frame was sent or the stage became free, whichever is later (the
      // transport's own cost and wake-up); wait: the whole time until the stage holds it (with
      // queueing behind the frames before it, e.g. a lidar scan being clustered).
      h.record(`handoff/${k}`, heldNs - Math.max(stampNs, freeSinceNs));
      h.record(`wait/${k}`, heldNs - stampNs);
      const t = now();
      fuseMeasurement(tracker, sensors[channel].kind, channel, f32, f64, len, BigInt(Math.round(stampNs)));
      const done = now();
      freeSinceNs = done;
      h.record(`run/${k}`, done - t);
      h.record(`e2e/${k}`, done - stampNs);
    },
  };
}

async function consumer({ transport, sensors, poolSab, doorSab, port, endpoint }) {
  const stage = fusionStage(sensors);
  let got = 0;
  let cpu0 = 0;
  const start = now();
  const ready = () => {
    cpu0 = threadCpuNs();
    parentPort.postMessage({ ready: true });
  };
  if (transport === 'pool') {
    const pool = SlotPool.attach(poolSab);
    const door = new Int32Array(doorSab);
    const readers = pool.channels.map((_, i) => pool.reader(i));
    const d = emptyDescriptor();
    ready();
    for (;;) {
      const seen = Atomics.load(door, 0);
      let took = 0;
      for (const r of readers) {
        while (r.next(d)) {
          const held = now();
          const bytes = new Uint8Array(pool.sab, pool.slotOffset(d.channel, d.slot), d.length);
          stage.fuse(d.channel, bytes, Number(d.stampNs), held);
          r.release(d.slot);
          got++;
          took++;
        }
      }
      const doneMark = Atomics.load(door, 1);
      if (took === 0 && doneMark > 0) break;
      if (took === 0) Atomics.wait(door, 0, seen, 100);
    }
  } else if (transport === 'postMessage') {
    await new Promise((resolveEnd) => {
      let expected = -1;
      port.on('message', (m) => {
        if (m.end !== undefined) expected = m.end;
        else {
          const held = now();
          const bytes = m.payload ?? new Uint8Array(0);
          stage.fuse(m.channel, bytes, m.stampNs, held);
          got++;
        }
        if (expected >= 0 && got >= expected) resolveEnd();
      });
      ready();
      // frames lost in flight (none expected) must not hold the bench: bounded
      setTimeout(resolveEnd, 600_000).unref();
    });
    port.close();
  } else {
    const zmq = await import('zeromq');
    const pull = new zmq.Pull({ receiveHighWaterMark: 10_000, linger: 0 });
    await pull.bind(endpoint);
    ready();
    for (;;) {
      const [meta, payload] = await pull.receive();
      const held = now();
      const channel = meta.readUInt32LE(0);
      if (channel === 0xffffffff) break;
      stage.fuse(channel, payload, meta.readDoubleLE(8), held);
      got++;
    }
    pull.close();
  }
  const cpuPercent = (100 * (threadCpuNs() - cpu0)) / (now() - start);
  return { got, cpuPercent, latency: stage.h.summaries() };
}

const ROLES = { producer, consumer };
const { role, ...job } = workerData;
ROLES[role](job).then(
  (r) => parentPort.postMessage({ done: r }),
  (err) => parentPort.postMessage({ error: String(err?.stack ?? err) }),
);
