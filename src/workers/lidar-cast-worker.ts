/**
 * Worker thread that casts the simulator's lidar scans, so that the simulator's own thread, which
 * posts every other sensor's messages at their capture time, is never held up by a ~16 ms scan.
 * It takes scenes (scene-snapshot.ts) from the simulator in capture order, ahead of their capture
 * time, casts each with the same lidar model and noise stream the simulator would use, and posts
 * the scan as a wire frame at its capture time to the lidar thread's port (or to the parent). A
 * scan whose cast ends after its capture time goes out at once.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { lidarModelOf } from '../sim/drive-simulator.js';
import type { LidarModel } from '../sim/lidar.js';
import { Road } from '../sim/road.js';
import { loadScenarioFile } from '../sim/scenario.js';
import { SnapshotScene } from '../sim/scene-snapshot.js';
import { encodeHeader, sensorTopic } from '../wire/codec.js';
import { makeSensorHeader } from '../wire/header-validator.js';
import { LIDAR } from '../wire/layouts.js';
import type { CastRequest, LidarCastWorkerData, SimEvent } from './sim-protocol.js';
import { setThreadClass } from './thread-priority.js';

const data = workerData as LidarCastWorkerData;
setThreadClass(1); // a sensor, not a stage: nice 0, SCHED_OTHER
const scenario = loadScenarioFile(data.scenarioFile, { sensorIds: data.rig.map((s) => s.id) });
const seed = data.seed ?? scenario.seed;
const scene = new SnapshotScene(
  new Road(scenario.road.lanes, scenario.road.laneWidth, scenario.road.curvature),
  scenario.actors.length,
);
const topics = data.rig.map((s) => Buffer.from(sensorTopic(s.kind, s.id)));
let models: (LidarModel | undefined)[] = [];
/** Fresh models (their noise streams from the start), as the simulator makes on every loop. */
const makeModels = (): void => {
  models = data.rig.map((s) => (s.kind === 'lidar' ? lidarModelOf(s, seed) : undefined));
};
makeModels();

const out: MessagePort | undefined = data.out;
/** The lidar thread's port takes `{ parts }`; the parent takes a SimEvent. */
const postScan = (parts: [Uint8Array, Uint8Array, Uint8Array], transfer: ArrayBuffer[]): void => {
  if (out) out.postMessage({ parts }, transfer);
  else parentPort!.postMessage({ type: 'frame', parts } satisfies SimEvent, transfer);
};

/** Scans cast and waiting for their capture time; a flush waits for them. */
let pending = 0;
let flushing = false;
const flushed = (): void => {
  out?.close();
  data.scenes.postMessage({ type: 'flushed' } satisfies CastRequest);
};

data.scenes.on('message', (m: CastRequest) => {
  if (m.type === 'loop') return makeModels();
  if (m.type === 'flush') {
    flushing = true;
    if (pending === 0) flushed();
    return;
  }
  if (m.type !== 'scene') return;
  const cfg = data.rig[m.sensorIndex]!;
  const model = models[m.sensorIndex];
  if (!model) {
    parentPort!.postMessage({
      type: 'error',
      message: `lidar caster: sensor ${cfg.id} is not a lidar`,
    } satisfies SimEvent);
    return;
  }
  const count = model.scan(scene.load(m.scene));
  const payload = model.bytes.slice(0, count * LIDAR.stride * 4);
  const header = encodeHeader(makeSensorHeader('lidar', cfg.id, m.seq, m.stampNs, count));
  const parts: [Uint8Array, Uint8Array, Uint8Array] = [topics[m.sensorIndex]!, header, payload];
  // The scene came ahead of its capture time: the scan goes out at that time, as a lidar's would.
  const waitMs = Number(m.stampNs - process.hrtime.bigint()) / 1e6;
  if (waitMs <= 0.5) return postScan(parts, [payload.buffer]);
  pending++;
  setTimeout(() => {
    postScan(parts, [payload.buffer]);
    if (--pending === 0 && flushing) flushed();
  }, waitMs);
});
