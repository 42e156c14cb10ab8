/**
 * Ingest's counters in shared memory: every thread that ingests (the main thread for critical and
 * camera messages, the lidar stage's thread for lidar) counts into one block, and the main thread
 * exports it to Prometheus when metrics are read and to the status line.
 */
import { REJECT_REASONS, type RejectReason } from '../wire/reject-reason.js';
import type { SensorConfig } from '../wire/rig.js';
import type { PipelineMetrics } from '../telemetry/pipeline-metrics.js';

/**
 * What ingest noticed about a sensor's stream without refusing it: `restart` (its seq started
 * again while its stamps went on: a driver restart), `clock_jump` (its stamps went back and it
 * kept sending on the new timeline, so ingest followed it). Labels of smi_ingest_sensor_events_total.
 */
export const SENSOR_EVENTS = ['restart', 'clock_jump'] as const;
export type SensorEvent = (typeof SENSOR_EVENTS)[number];

const REASON_INDEX = new Map<RejectReason, number>(REJECT_REASONS.map((r, i) => [r, i]));

export class IngestCounterBlock {
  readonly received: Uint32Array;
  readonly dropped: Uint32Array;
  /** (sensors + 1) × reasons; the last row is for messages of no known sensor. */
  readonly rejected: Uint32Array;
  /** sensors × SENSOR_EVENTS. */
  readonly events: Uint32Array;

  private constructor(
    readonly sab: SharedArrayBuffer,
    readonly sensorCount: number,
  ) {
    const n = sensorCount;
    this.received = new Uint32Array(sab, 0, n);
    this.dropped = new Uint32Array(sab, n * 4, n);
    this.rejected = new Uint32Array(sab, n * 8, (n + 1) * REJECT_REASONS.length);
    this.events = new Uint32Array(sab, n * 8 + (n + 1) * REJECT_REASONS.length * 4, n * SENSOR_EVENTS.length);
  }

  static bytesFor(sensorCount: number): number {
    return (
      sensorCount * 8 + (sensorCount + 1) * REJECT_REASONS.length * 4 + sensorCount * SENSOR_EVENTS.length * 4
    );
  }

  static create(sensorCount: number): IngestCounterBlock {
    return new IngestCounterBlock(
      new SharedArrayBuffer(IngestCounterBlock.bytesFor(sensorCount)),
      sensorCount,
    );
  }

  static attach(sab: SharedArrayBuffer, sensorCount: number): IngestCounterBlock {
    if (sab.byteLength !== IngestCounterBlock.bytesFor(sensorCount)) {
      throw new Error(`ingest counters: ${sab.byteLength} bytes for ${sensorCount} sensors`);
    }
    return new IngestCounterBlock(sab, sensorCount);
  }

  countReceived(sensor: number): void {
    Atomics.add(this.received, sensor, 1);
  }

  countDropped(sensor: number): void {
    Atomics.add(this.dropped, sensor, 1);
  }

  /** `sensor` -1: a message naming no known sensor. */
  countRejected(sensor: number, reason: RejectReason): void {
    const row = sensor < 0 ? this.sensorCount : sensor;
    Atomics.add(this.rejected, row * REJECT_REASONS.length + REASON_INDEX.get(reason)!, 1);
  }

  countEvent(sensor: number, event: SensorEvent): void {
    Atomics.add(this.events, sensor * SENSOR_EVENTS.length + SENSOR_EVENTS.indexOf(event), 1);
  }

  eventsOf(sensor: number, event: SensorEvent): number {
    return Atomics.load(this.events, sensor * SENSOR_EVENTS.length + SENSOR_EVENTS.indexOf(event));
  }

  receivedOf(sensor: number): number {
    return Atomics.load(this.received, sensor);
  }

  get totalRejected(): number {
    let n = 0;
    for (let i = 0; i < this.rejected.length; i++) n += Atomics.load(this.rejected, i);
    return n;
  }

  get totalDropped(): number {
    let n = 0;
    for (let i = 0; i < this.dropped.length; i++) n += Atomics.load(this.dropped, i);
    return n;
  }
}

/** What an IngestStage reports to: the shared counters and a sink for its ingest latencies. */
export interface IngestSink {
  counters: IngestCounterBlock;
  /** received → committed, ns, for `sensor`. */
  latency(sensor: number, ns: number): void;
}

/**
 * The main thread's sink: counters in a new shared block, exported into `metrics`
 * (smi_ingest_received_total, smi_ingest_rejected_total, smi_pool_dropped_total) whenever they are
 * read; latencies observed directly.
 */
export function metricsIngestSink(metrics: PipelineMetrics, sensors: readonly SensorConfig[]): IngestSink {
  const counters = IngestCounterBlock.create(sensors.length);
  const received = sensors.map((s) => metrics.received.labels({ sensor: s.id, kind: s.kind }));
  const dropped = sensors.map((s) => metrics.poolDropped.labels({ channel: s.id }));
  const latency = sensors.map((s) => metrics.ingestLatency.labels({ kind: s.kind }));
  const seenReceived = new Uint32Array(sensors.length);
  const seenDropped = new Uint32Array(sensors.length);
  const seenRejected = new Uint32Array(counters.rejected.length);
  const rejectedChildren = new Map<number, ReturnType<typeof metrics.rejected.labels>>();
  const seenEvents = new Uint32Array(counters.events.length);
  const eventChildren = new Map<number, ReturnType<typeof metrics.sensorEvents.labels>>();
  metrics.addCollector(() => {
    for (let i = 0; i < sensors.length; i++) {
      const r = Atomics.load(counters.received, i);
      if (r !== seenReceived[i]) received[i]!.inc((r - seenReceived[i]!) >>> 0);
      seenReceived[i] = r;
      const d = Atomics.load(counters.dropped, i);
      if (d !== seenDropped[i]) dropped[i]!.inc((d - seenDropped[i]!) >>> 0);
      seenDropped[i] = d;
    }
    for (let k = 0; k < counters.rejected.length; k++) {
      const v = Atomics.load(counters.rejected, k);
      if (v === seenRejected[k]) continue;
      let child = rejectedChildren.get(k);
      if (!child) {
        const row = Math.floor(k / REJECT_REASONS.length);
        const sensor = row < sensors.length ? sensors[row]!.id : 'unknown';
        child = metrics.rejected.labels({ sensor, reason: REJECT_REASONS[k % REJECT_REASONS.length]! });
        rejectedChildren.set(k, child);
      }
      child.inc((v - seenRejected[k]!) >>> 0);
      seenRejected[k] = v;
    }
    for (let k = 0; k < counters.events.length; k++) {
      const v = Atomics.load(counters.events, k);
      if (v === seenEvents[k]) continue;
      let child = eventChildren.get(k);
      if (!child) {
        const sensor = sensors[Math.floor(k / SENSOR_EVENTS.length)]!.id;
        child = metrics.sensorEvents.labels({ sensor, event: SENSOR_EVENTS[k % SENSOR_EVENTS.length]! });
        eventChildren.set(k, child);
      }
      child.inc((v - seenEvents[k]!) >>> 0);
      seenEvents[k] = v;
    }
  });
  return { counters, latency: (sensor, ns) => latency[sensor]!.observe(ns / 1e9) };
}
