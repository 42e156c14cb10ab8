// Transports side by side: the same frames of a drive, played at the rig's rates, carried from an
// ingest thread to the fusion stage on another thread by the pool, by postMessage (structured
// clone: a copy per message) and by ZeroMQ ipc://, one after the other in the same run. The
// stage is the service's tracker (lidar clustered inside); see transport-worker.mjs.
import { Worker, MessageChannel } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dist } from './dist.mjs';
import { readDriveFrames } from './drive-frames.mjs';

const { openPool } = await import(dist('pool/index.js'));

const WORKER = fileURLToPath(new URL('./transport-worker.mjs', import.meta.url));
export const TRANSPORTS = ['pool', 'postMessage', 'zmq'];
const NAMES = { pool: 'pool (shared memory)', postMessage: 'postMessage (copy)', zmq: 'ZeroMQ ipc://' };

function start(role, job, transferList = []) {
  const w = new Worker(WORKER, { workerData: { role, ...job }, transferList });
  let onReady;
  const ready = new Promise((r) => (onReady = r));
  const done = new Promise((resolveDone, reject) => {
    w.on('message', (m) => {
      if (m.ready) onReady();
      else if (m.error) reject(new Error(`transport ${role}: ${m.error}`));
      else if (m.done) resolveDone(m.done);
    });
    w.on('error', reject);
    w.on('exit', (code) => reject(new Error(`transport ${role} exited ${code}`)));
  });
  return { ready, done: done.finally(() => w.terminate()) };
}

/** Runs the three transports for `seconds` each; resolves with one row per transport. */
export async function runTransportBench({
  drive,
  spec,
  seconds,
  load = 1,
  transports = TRANSPORTS,
  note = () => {},
}) {
  const { frames: raw, spanNs } = await readDriveFrames(drive, spec.sensors);
  const channelOf = new Map(spec.sensors.map((s, i) => [`sensor/${s.kind}/${s.id}`, i]));
  const t0 = raw[0].header.stampNs;
  const frames = raw
    .filter((f) => channelOf.has(f.topic.toString()))
    .map((f) => ({
      channel: channelOf.get(f.topic.toString()),
      stampNs: Number(f.header.stampNs - t0),
      payload: f.payload,
    }));
  const rows = [];
  for (const transport of transports) {
    note(`transport side-by-side: ${NAMES[transport]} at ${load}x (${seconds} s)`);
    let pool;
    const job = { transport, sensors: spec.sensors, spanNs, seconds, load };
    const producerTransfer = [];
    const consumerTransfer = [];
    if (transport === 'pool') {
      pool = openPool(
        spec.sensors.map((s) => ({
          name: s.id,
          slotCount: spec.channels[s.id].slots,
          slotBytes: spec.channels[s.id].slotBytes,
          readerCount: 1,
          access: 'sequential',
          whenFull: spec.channels[s.id].whenFull,
        })),
        { segment: `/smi-bench-transport-${process.pid}`, implementation: 'auto' },
      ).pool;
      job.poolSab = pool.sab;
      job.doorSab = new SharedArrayBuffer(8);
    }
    const channel = transport === 'postMessage' ? new MessageChannel() : undefined;
    if (channel) {
      producerTransfer.push(channel.port1);
      consumerTransfer.push(channel.port2);
    }
    const endpoint = `ipc://${join(tmpdir(), `smi-bench-transport-${process.pid}.sock`)}`;
    try {
      const c = start('consumer', { ...job, port: channel?.port2, endpoint }, consumerTransfer);
      await c.ready;
      const p = start('producer', { ...job, frames, port: channel?.port1, endpoint }, producerTransfer);
      const [pr, cr] = await Promise.all([p.done, c.done]);
      rows.push({
        transport: NAMES[transport],
        key: transport,
        frames: cr.got,
        lost: pr.sent - cr.got,
        refused: pr.refused,
        producerCpuPercent: pr.cpuPercent,
        consumerCpuPercent: cr.cpuPercent,
        pool: pool?.describe(),
        latency: cr.latency,
      });
    } finally {
      pool?.close();
    }
  }
  return rows;
}
