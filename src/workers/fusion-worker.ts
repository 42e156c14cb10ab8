/**
 * Piscina worker running the multi-sensor tracker. The pool runs this with exactly one thread so
 * the tracker's state lives here across cycles; each task names measurements by slot and the
 * worker reads them in place from the shared segment.
 */
import { MultiSensorTracker } from '../fusion/multi-sensor-tracker.js';
import { SlotPool } from '../pool/slot-pool.js';
import { TRACK } from '../wire/layouts.js';
import { BATCH, type FusionResult, type FusionTask } from './fusion-task.js';

let tracker: MultiSensorTracker | undefined;
let configId = -1;
let boundSab: SharedArrayBuffer | undefined;
let f32Slots: Float32Array[][] = [];
let f64Slots: Float64Array[][] = [];
let out = new Float32Array(0);

function bind(sab: SharedArrayBuffer): void {
  const pool = SlotPool.attach(sab);
  // One cached view per slot: no allocation per measurement.
  f32Slots = pool.channels.map((ch) =>
    Array.from(
      { length: ch.slotCount },
      (_, s) => new Float32Array(sab, ch.dataOffset + s * ch.slotBytes, ch.slotBytes >> 2),
    ),
  );
  f64Slots = pool.channels.map((ch) =>
    Array.from(
      { length: ch.slotCount },
      (_, s) => new Float64Array(sab, ch.dataOffset + s * ch.slotBytes, ch.slotBytes >> 3),
    ),
  );
  boundSab = sab;
}

export default function runFusionCycle(task: FusionTask): FusionResult {
  const startNs = process.hrtime.bigint();
  if (task.sab !== boundSab) bind(task.sab);
  if (!tracker || task.configId !== configId) {
    tracker = new MultiSensorTracker(task.sensors, { maxTracks: task.maxTracks });
    configId = task.configId;
    out = new Float32Array(task.maxTracks * TRACK.stride);
  } else if (task.reset) {
    tracker.reset();
  }
  const b = task.batch;
  const n = b.length / BATCH.stride;
  for (let i = 0; i < n; i++) {
    const sensor = b[i * BATCH.stride + BATCH.sensor]!;
    const slot = b[i * BATCH.stride + BATCH.slot]!;
    const bytes = b[i * BATCH.stride + BATCH.length]!;
    const stamp = task.stamps[i]!;
    switch (task.sensors[sensor]!.kind) {
      case 'ego':
        tracker.ingestEgo(f64Slots[sensor]![slot]!, stamp);
        break;
      case 'lidar':
        tracker.ingestLidar(sensor, f32Slots[sensor]![slot]!, bytes / 16, stamp);
        break;
      case 'radar':
        tracker.ingestRadar(sensor, f32Slots[sensor]![slot]!, bytes / 16, stamp);
        break;
      case 'camera':
        tracker.ingestCamera(sensor, f32Slots[sensor]![slot]!, bytes / 32, stamp);
        break;
      case 'objects':
        tracker.ingestObjects(sensor, f32Slots[sensor]![slot]!, bytes / 64, stamp);
        break;
    }
  }
  const count = tracker.writeTracks(task.outputStampNs, out);
  const tracks = out.slice(0, count * TRACK.stride);
  // Results are a few KB: structured clone costs less than a transfer list would save.
  return {
    startNs,
    endNs: process.hrtime.bigint(),
    count,
    tracks,
    outOfSequence: tracker.stats.outOfSequenceDropped,
    measurementsUsed: tracker.stats.measurementsUsed,
  };
}
