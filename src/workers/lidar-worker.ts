/**
 * Entry point of the lidar thread (see LidarThread): lidar ingest (ZeroMQ `sensor/lidar/`, or
 * frames posted on a port by the simulator or a replay) and lidar extraction.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { ZmqSensorSource } from '../io/zmq-sensor-source.js';
import { IngestCounterBlock } from '../sensors/ingest-counters.js';
import { IngestStage } from '../sensors/ingest-stage.js';
import { SAMPLE } from './scheduler-block.js';
import { SPAN } from './span-ring.js';
import { StageInputs } from './stage-inputs.js';
import { attachStageThread } from './stage-thread-attach.js';
import { LidarThread } from './lidar-thread.js';
import type {
  FromStageThread,
  LidarThreadData,
  PortedFrame,
  ToStageThread,
} from './stage-thread-protocol.js';

const port = parentPort!;
const data = workerData as LidarThreadData;
const post = (m: FromStageThread): void => port.postMessage(m);
/** This thread's ZeroMQ socket (lidar ingest), closed before the thread ends in any way. */
let zmq: ZmqSensorSource | undefined;
let lidarThread: LidarThread | undefined;
const framePorts: MessagePort[] = [];
let started = false;
let failing = false;

async function main(): Promise<void> {
  const { priority, log, limited, pool, block } = attachStageThread(data, 'lidar');
  const counters = IngestCounterBlock.attach(data.ingestCountersSab, data.sensors.length);
  const samples = block.samples[data.thread]!;
  const spans = block.spans[data.thread];
  const stageIndex = data.stages[0]!.index;
  const mine = new Set(data.ingestSensors);
  const external = new Set(data.inputs.filter((i) => i.external).map((i) => i.sensorIndex));
  const ingest = new IngestStage(
    data.sensors,
    pool,
    {
      counters,
      latency: (sensor, ns) => {
        samples.push(SAMPLE.ingest, stageIndex, ns, sensor);
        if (spans) {
          const end = Number(process.hrtime.bigint());
          spans.push(SPAN.ingest, stageIndex, sensor, end - ns, end, 0);
        }
      },
    },
    limited,
    data.ingestLimits,
    {
      producers: data.sensors.map((_, i) => (external.has(i) ? 'external' : 'ingest')),
      ingests: (i) => mine.has(i),
    },
  );
  const inputs = new StageInputs(pool, block, data.thread, data.inputs, data.stages, (i, d, now) =>
    ingest.admitExternal(i, d, now),
  );
  const onError = (err: unknown): void => {
    limited.warn(
      'extract',
      { err: String((err as Error)?.stack ?? err) },
      'lidar extraction failed on a scan; it was released and the stage goes on',
    );
  };
  const onLag = (event: 'lagging' | 'recovered', averageMs: number, expectedMs: number): void =>
    (event === 'lagging' ? log.warn : log.info).call(
      log,
      {
        stage: data.stages[0]!.name,
        averagePeriodMs: Number(averageMs.toFixed(2)),
        expectedPeriodMs: Number(expectedMs.toFixed(2)),
      },
      event === 'lagging'
        ? 'stage lagging: its frames come slower than its inputs'
        : 'stage recovered from lagging',
    );
  const thread = new LidarThread(data, pool, block, inputs, onError, onLag);
  lidarThread = thread;
  ingest.onCommit(() => thread.schedule());
  port.on('message', (m: ToStageThread) => {
    if (m.type === 'inject-fault' && data.faultInjection) {
      thread.injectThrow();
      return;
    }
    if (m.type === 'reconfigure-lidar') {
      thread.reconfigure(m.stages, m.clustererParams);
      return;
    }
    if (m.type === 'frames') {
      framePorts.push(m.port);
      m.port.on('message', (f: PortedFrame) => {
        const receivedNs = f.receivedNs ?? process.hrtime.bigint();
        ingest.ingest(f.parts, receivedNs, f.clockNs ?? receivedNs);
      });
    }
  });
  if (data.zmq) {
    zmq = new ZmqSensorSource(data.zmq, (parts, receivedNs) => ingest.ingest(parts, receivedNs), log, {
      subscribe: ['sensor/lidar/'],
      highWaterMark: 16,
      name: 'lidar',
      // (smi_zmq_auth_total counts the main thread's sockets; this one's refusals are logged)
      onAuth: (r) => {
        if (!r.accepted) {
          limited.warn(
            r.clientKey,
            { socket: 'lidar', clientKey: r.clientKey, address: r.address },
            'zmq peer refused: its CURVE public key is not allowed',
          );
        }
      },
    });
    await zmq.start();
  }
  post({ type: 'ready', zmqEndpoints: zmq?.endpoints ?? [], priority, readers: inputs.entries() });
  started = true;
  await thread.watch();
  await zmq?.stop();
  for (const p of framePorts) p.close();
  ingest.close();
  thread.close();
  inputs.close();
  post({ type: 'stopped' });
  port.close();
}

/**
 * Fail-stop on any error (out of the loop, or uncaught in a callback): stop touching the pool
 * (extraction, frame ports, the ZeroMQ socket), then say so and let the thread end on its own.
 * Neither `process.exit` nor `terminate` may end it: zeromq.js aborts the whole process when a
 * worker that has used a socket is torn down that way (zeromq.js issue #411); a thread whose
 * sockets are closed and whose port is closed ends cleanly.
 */
function failStop(err: unknown): void {
  if (failing) return;
  failing = true;
  const message = String((err as Error)?.stack ?? err);
  lidarThread?.close();
  for (const p of framePorts) p.close();
  const closed = zmq ? zmq.stop().catch(() => {}) : Promise.resolve();
  void Promise.race([closed, new Promise((r) => setTimeout(r, 500))]).then(() => {
    post(
      started
        ? { type: 'failed', stage: 'lidar-extraction', message }
        : { type: 'error', stage: 'lidar-extraction', message },
    );
    port.close();
  });
}

process.on('uncaughtException', failStop);
process.on('unhandledRejection', failStop);
main().catch(failStop);
