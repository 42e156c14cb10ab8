/**
 * Worker thread that plays a simulated drive in real time, like a set of sensor drivers: each
 * message is stamped with its capture time on CLOCK_MONOTONIC and posted at that time as
 * wire-format frames `[topic, header, payload]`. With a caster port, lidar scans are cast on the
 * caster's thread from a scene taken at capture time, so a scan never delays the messages due
 * while it is being cast.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { DriveSimulator, GT, createSimMessage } from '../sim/drive-simulator.js';
import { loadScenarioFile } from '../sim/scenario.js';
import { encodeHeader, sensorTopic } from '../wire/codec.js';
import { makeSensorHeader } from '../wire/header-validator.js';
import { WIRE_VERSION } from '../wire/header.js';
import { TRUTH_LAYOUT, TRUTH_TOPIC } from '../io/drive-format.js';
import type { SensorConfig } from '../wire/rig.js';
import type { CastRequest, SimControl, SimEvent, SimWorkerData } from './sim-protocol.js';
import { DEFAULT_REALTIME_PRIORITY, setThreadClass } from './thread-priority.js';

const port = parentPort!;
const data = workerData as SimWorkerData;
// The simulator stands in for the sensors, which are hardware of their own and do not wait for
// this computer's stages: its thread (light: it sleeps, then posts) runs at the critical class's
// priority, one real-time step below the stages so that it never preempts them. Lidar scans are
// cast on the caster's thread at nice 0.
setThreadClass(0, DEFAULT_REALTIME_PRIORITY - 1);
const scenario = loadScenarioFile(data.scenarioFile, { sensorIds: data.rig.map((s) => s.id) });
const rig: readonly SensorConfig[] = data.rig;
let stopped = false;
let accel: number | null = null;

port.on('message', (m: SimControl) => {
  if (m.type === 'stop') stopped = true;
  else if (m.type === 'accel') {
    accel = m.value;
    sim?.setEgoAccelCommand(accel);
  }
});

const post = (e: SimEvent, transfer: ArrayBuffer[] = []): void => port.postMessage(e, transfer);
const topics = rig.map((s) => Buffer.from(sensorTopic(s.kind, s.id)));
// The simulator's seq is the frame index (a dropout leaves a gap, as on a real bus); across loops
// it continues from the previous loop's end so the service sees one increasing stream per sensor.
const seqBase = new Float64Array(rig.length);
const nextBase = new Float64Array(rig.length);
let sim: DriveSimulator | undefined;
const truthTopic = Buffer.from(TRUTH_TOPIC);
let truthSeq = 0;

/** Posts ground truth in base_link at the simulator's current time (the frame just posted). */
function postTruth(s: DriveSimulator, stampNs: bigint): void {
  const truth = new Float32Array(Math.max(1, s.actorCount) * GT.stride);
  const count = s.groundTruth(truth, 'base_link');
  const header = encodeHeader({
    v: WIRE_VERSION,
    kind: 'truth',
    seq: truthSeq++,
    stampNs,
    frame: 'base_link',
    fields: TRUTH_LAYOUT.fields,
    stride: TRUTH_LAYOUT.stride,
    count,
  });
  const payload = new Uint8Array(truth.buffer, 0, count * TRUTH_LAYOUT.stride);
  post({ type: 'truth', parts: [truthTopic, header, payload] }, [truth.buffer]);
}

const caster = data.casterPort;
/** How long before its capture time a lidar scene goes to the caster (a scan takes ~16 ms here). */
const LIDAR_LEAD_MS = 50;
const cast = (m: CastRequest, transfer: ArrayBuffer[] = []): void => caster!.postMessage(m, transfer);

/** Asks the caster to finish what it was given; resolves when it has (bounded: 2 s). */
function casterFlushed(): Promise<void> {
  if (!caster) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 2000);
    caster.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    cast({ type: 'flush' });
  });
}

async function play(): Promise<void> {
  const msg = createSimMessage();
  let epochNs = process.hrtime.bigint() + 20_000_000n;
  for (let loop = 0; !stopped; loop++) {
    sim = new DriveSimulator(scenario, rig, {
      seed: data.seed,
      castLidarElsewhere: caster !== undefined,
      lidarLeadNs: LIDAR_LEAD_MS * 1e6,
    });
    if (data.closedLoop) sim.setEgoAccelCommand(accel);
    if (loop > 0) {
      if (caster) cast({ type: 'loop' });
      post({ type: 'loop', loop });
    }
    while (!stopped && sim.next(msg)) {
      const stampNs = epochNs + msg.tNs;
      const seq = seqBase[msg.sensorIndex]! + msg.seq;
      nextBase[msg.sensorIndex] = seq + 1;
      const waitMs = Number(stampNs - process.hrtime.bigint()) / 1e6;
      if (msg.scene) {
        // Handed out LIDAR_LEAD_MS ahead: the caster casts it by its capture time and posts it then.
        const scene = msg.scene.slice();
        if (waitMs - LIDAR_LEAD_MS > 0.5) await sleep(waitMs - LIDAR_LEAD_MS);
        cast({ type: 'scene', sensorIndex: msg.sensorIndex, seq, stampNs, scene }, [scene.buffer]);
        continue;
      }
      const payload = msg.payload.slice();
      const header = encodeHeader(makeSensorHeader(msg.kind, msg.sensorId, seq, stampNs, msg.count));
      if (waitMs > 0.5) await sleep(waitMs);
      const topic = topics[msg.sensorIndex]!;
      if (msg.kind === 'lidar' && data.lidarPort) {
        data.lidarPort.postMessage({ parts: [topic, header, payload] }, [payload.buffer as ArrayBuffer]);
      } else {
        post({ type: 'frame', parts: [topic, header, payload] }, [payload.buffer as ArrayBuffer]);
      }
      if (data.groundTruth && msg.kind === 'ego') postTruth(sim, stampNs);
    }
    if (!data.loop) break;
    seqBase.set(nextBase);
    epochNs += sim.durationNs + 100_000_000n;
  }
  await casterFlushed();
  post({ type: 'end' });
  data.lidarPort?.close();
}

play().catch((err: unknown) => post({ type: 'error', message: String((err as Error)?.stack ?? err) }));
