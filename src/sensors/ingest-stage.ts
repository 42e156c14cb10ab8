import type { Counter, Histogram } from 'prom-client';
import { decodeHeader, parseSensorTopic } from '../wire/codec.js';
import { emptySensorHeader, validateSensorHeader } from '../wire/header-validator.js';
import { LAYOUTS } from '../wire/layouts.js';
import { checkPayload } from '../wire/payload-checks.js';
import type { Rejection, RejectReason } from '../wire/reject-reason.js';
import type { SensorConfig } from '../wire/rig.js';
import type { ChannelWriter, Descriptor, SlotPool } from '../pool/slot-pool.js';
import type { ChannelProducer } from '../smi/spec/pipeline-spec.js';
import type { PipelineMetrics } from '../telemetry/pipeline-metrics.js';
import type { RateLimitedLog } from '../telemetry/reject-log-limiter.js';

/** Called after a message is committed; `sensorIndex` is also its channel index in the pool. */
export type CommitListener = (sensorIndex: number) => void;

/** Outcome of one message: committed, rejected as bad input, or dropped because the pool was full. */
export type IngestOutcome = 'committed' | 'rejected' | 'dropped';

const textDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The ingest stage: decodes and validates a multipart message `[topic, header, payload?]`,
 * writes the payload once into a pool slot, checks it in place and commits it. Every refusal
 * is counted per sensor and reason and logged at most once per second per reason.
 */
export class IngestStage {
  private readonly indexById = new Map<string, number>();
  /** Undefined for a channel an external producer writes (the service must not hold its writer). */
  private readonly writers: (ChannelWriter | undefined)[];
  private readonly lastStamp: BigInt64Array;
  private readonly lastSeq: Float64Array;
  private readonly receivedBySensor: ReturnType<Counter<'sensor' | 'kind'>['labels']>[];
  /** Label children resolved once: a labels object per message would allocate on the hot path. */
  private readonly ingestLatencyBySensor: ReturnType<Histogram<'kind'>['labels']>[];
  private readonly rejectedChildren = new Map<string, ReturnType<Counter<'sensor' | 'reason'>['labels']>>();
  private readonly header = emptySensorHeader();
  private readonly maxFutureNs: bigint;
  private readonly maxAgeNs: bigint;
  /** Totals for the status line. */
  readonly receivedCount: Float64Array;
  rejectedCount = 0;
  droppedCount = 0;
  private listener: CommitListener = () => {};
  private readonly externalViews: (Float32Array | Float64Array)[][] = [];

  constructor(
    private readonly sensors: readonly SensorConfig[],
    private readonly pool: SlotPool,
    private readonly metrics: PipelineMetrics,
    private readonly rejectLog: RateLimitedLog,
    limits: { maxFutureMs: number; maxAgeMs: number },
    producers: readonly ChannelProducer[] = sensors.map(() => 'ingest'),
  ) {
    sensors.forEach((s, i) => this.indexById.set(s.id, i));
    this.writers = sensors.map((_, i) => (producers[i] === 'external' ? undefined : pool.writer(i, i)));
    this.lastStamp = new BigInt64Array(sensors.length).fill(-1n);
    this.lastSeq = new Float64Array(sensors.length).fill(-1);
    this.receivedCount = new Float64Array(sensors.length);
    this.receivedBySensor = sensors.map((s) => metrics.received.labels({ sensor: s.id, kind: s.kind }));
    this.ingestLatencyBySensor = sensors.map((s) => metrics.ingestLatency.labels({ kind: s.kind }));
    this.maxFutureNs = BigInt(Math.round(limits.maxFutureMs * 1e6));
    this.maxAgeNs = BigInt(Math.round(limits.maxAgeMs * 1e6));
  }

  onCommit(listener: CommitListener): void {
    this.listener = listener;
  }

  /**
   * Handles one message from any source. `parts` are the multipart frames; `receivedNs` is when the
   * source got them (CLOCK_MONOTONIC). `clockNs` is the "now" that stamps must be near
   * (maxFutureMs/maxAgeMs): the host clock, `receivedNs`, unless a replay runs on the drive's
   * own clock. Never throws for bad input.
   */
  ingest(parts: readonly Uint8Array[], receivedNs: bigint, clockNs: bigint = receivedNs): IngestOutcome {
    if (parts.length < 2 || parts.length > 3) {
      return this.reject(
        -1,
        'unknown',
        'bad_frame_count',
        `got ${parts.length} frames; expected [topic, header, payload?]`,
      );
    }
    let topic: string;
    try {
      topic = textDecoder.decode(parts[0]!);
    } catch {
      return this.reject(-1, 'unknown', 'unknown_topic', 'topic is not UTF-8');
    }
    const parsed = parseSensorTopic(topic);
    if (!parsed) {
      return this.reject(
        -1,
        'unknown',
        'unknown_topic',
        `topic '${topic.slice(0, 80)}' is not sensor/<kind>/<sensorId>`,
      );
    }
    const index = this.indexById.get(parsed.sensorId);
    if (index === undefined) {
      // Unknown ids share one label so a misbehaving sender cannot grow the metric without bound.
      return this.reject(
        -1,
        'unknown',
        'unknown_sensor',
        `sensor '${parsed.sensorId}' is not in the pipeline's sensors`,
      );
    }
    const sensor = this.sensors[index]!;
    if (sensor.kind !== parsed.kind) {
      return this.reject(
        index,
        sensor.id,
        'topic_mismatch',
        `sensor '${sensor.id}' is a ${sensor.kind}, topic says ${parsed.kind}`,
      );
    }
    let raw: unknown;
    try {
      raw = decodeHeader(parts[1]!);
    } catch (err) {
      return this.reject(
        index,
        sensor.id,
        'malformed_header',
        `header is not valid msgpack: ${(err as Error).message}`,
      );
    }
    const h = this.header;
    const bad = validateSensorHeader(raw, parsed.kind, parsed.sensorId, h);
    if (bad) return this.rejectWith(index, sensor.id, bad);

    const payload = parts[2];
    const expected = h.count * h.stride;
    const got = payload?.byteLength ?? 0;
    if (got !== expected) {
      return this.reject(
        index,
        sensor.id,
        'length_mismatch',
        `payload is ${got} bytes; header says ${h.count} x ${h.stride} = ${expected}`,
      );
    }
    const writer = this.writers[index];
    if (!writer) {
      return this.reject(
        index,
        sensor.id,
        'not_allowed',
        `channel '${sensor.id}' is written by an external producer through shared memory, not by ingest`,
      );
    }
    if (expected > writer.slotBytes) {
      return this.reject(
        index,
        sensor.id,
        'too_large',
        `payload of ${expected} bytes exceeds the channel's ${writer.slotBytes}-byte slots`,
      );
    }
    const disorder = this.checkOrder(index, h.stampNs, h.seq, clockNs);
    if (disorder) return disorder;

    const slot = writer.loan();
    if (slot < 0) {
      this.droppedCount++;
      this.metrics.poolDropped.inc({ channel: sensor.id });
      this.rejectLog.warn(
        `pool_full:${sensor.id}`,
        { sensor: sensor.id, channel: sensor.id },
        'pool channel full; message dropped',
      );
      return 'dropped';
    }
    const view = writer.slotView(slot);
    if (payload && expected > 0) view.set(payload);
    // Checked in place after the single copy; a bad payload is abandoned, never committed.
    const finite =
      LAYOUTS[parsed.kind].scalar === 'f32'
        ? allFinite(writer.slotF32(slot), expected >> 2)
        : allFinite(writer.slotF64(slot), expected >> 3);
    if (!finite) {
      writer.abandon(slot);
      return this.reject(index, sensor.id, 'non_finite', `payload holds NaN or Inf`);
    }
    const implausible = checkPayload(parsed.kind, writer.slotF32(slot), h.count);
    if (implausible) {
      writer.abandon(slot);
      return this.rejectWith(index, sensor.id, implausible);
    }
    const commitNs = process.hrtime.bigint();
    writer.commit(slot, expected, h.seq, h.stampNs, commitNs);
    this.lastStamp[index] = h.stampNs;
    this.lastSeq[index] = h.seq;
    this.receivedCount[index]!++;
    this.receivedBySensor[index]!.inc();
    this.ingestLatencyBySensor[index]!.observe(Number(commitNs - receivedNs) / 1e9);
    this.listener(index);
    return 'committed';
  }

  /**
   * Admits a message an external producer committed straight into the pool (there was no header
   * to check before the pool): the same checks as `ingest` on the descriptor and the payload in
   * place. True = counted as received; false = counted as rejected (the caller releases the slot).
   */
  admitExternal(index: number, d: Descriptor, clockNs: bigint): boolean {
    const sensor = this.sensors[index]!;
    const layout = LAYOUTS[sensor.kind];
    if (d.length % layout.stride !== 0 || (sensor.kind === 'ego' && d.length !== layout.stride)) {
      this.reject(
        index,
        sensor.id,
        'length_mismatch',
        `payload of ${d.length} bytes is not whole ${layout.stride}-byte ${sensor.kind} records`,
      );
      return false;
    }
    if (this.checkOrder(index, d.stampNs, d.seq, clockNs)) return false;
    const perElement = layout.scalar === 'f32' ? 4 : 8;
    const view = this.externalView(index, d.slot, layout.scalar);
    if (!allFinite(view, d.length / perElement)) {
      this.reject(index, sensor.id, 'non_finite', `payload holds NaN or Inf`);
      return false;
    }
    const implausible =
      view instanceof Float32Array ? checkPayload(sensor.kind, view, d.length / layout.stride) : undefined;
    if (implausible) {
      this.rejectWith(index, sensor.id, implausible);
      return false;
    }
    this.lastStamp[index] = d.stampNs;
    this.lastSeq[index] = d.seq;
    this.receivedCount[index]!++;
    this.receivedBySensor[index]!.inc();
    return true;
  }

  /** A cached whole-slot view of an externally written channel (no allocation per message). */
  private externalView(index: number, slot: number, scalar: 'f32' | 'f64'): Float32Array | Float64Array {
    const views = (this.externalViews[index] ??= []);
    let view = views[slot];
    if (!view) {
      const offset = this.pool.slotOffset(index, slot);
      const bytes = this.pool.channels[index]!.slotBytes;
      view =
        scalar === 'f32'
          ? new Float32Array(this.pool.sab, offset, bytes >> 2)
          : new Float64Array(this.pool.sab, offset, bytes >> 3);
      views[slot] = view;
    }
    return view;
  }

  /** Stamp and sequence checks shared by every way into the pool; a rejection, or undefined. */
  private checkOrder(
    index: number,
    stampNs: bigint,
    seq: number,
    clockNs: bigint,
  ): IngestOutcome | undefined {
    const id = this.sensors[index]!.id;
    if (stampNs > clockNs + this.maxFutureNs) {
      return this.reject(
        index,
        id,
        'stamp_future',
        `stampNs is ${fmtMs(stampNs - clockNs)} ms ahead of now; at most ${fmtMs(this.maxFutureNs)} ms allowed`,
      );
    }
    if (stampNs < clockNs - this.maxAgeNs) {
      return this.reject(
        index,
        id,
        'stamp_stale',
        `stampNs is ${fmtMs(clockNs - stampNs)} ms old; at most ${fmtMs(this.maxAgeNs)} ms allowed`,
      );
    }
    if (stampNs <= this.lastStamp[index]!) {
      return this.reject(
        index,
        id,
        'stamp_backwards',
        `stampNs ${stampNs} is not after the previous ${this.lastStamp[index]!}`,
      );
    }
    if (seq <= this.lastSeq[index]!) {
      return this.reject(
        index,
        id,
        'seq_backwards',
        `seq ${seq} is not after the previous ${this.lastSeq[index]!}`,
      );
    }
    return undefined;
  }

  /** Forgets per-sensor stamp/seq history (e.g. when a simulated drive loops back to its start). */
  resetSensorHistory(): void {
    this.lastStamp.fill(-1n);
    this.lastSeq.fill(-1);
  }

  private rejectWith(index: number, sensorLabel: string, r: Rejection): IngestOutcome {
    return this.reject(index, sensorLabel, r.reason, r.detail);
  }

  private reject(index: number, sensorLabel: string, reason: RejectReason, detail: string): IngestOutcome {
    this.rejectedCount++;
    const key = `${sensorLabel}\u0000${reason}`;
    let child = this.rejectedChildren.get(key);
    if (!child) {
      child = this.metrics.rejected.labels({ sensor: sensorLabel, reason });
      this.rejectedChildren.set(key, child);
    }
    child.inc();
    this.rejectLog.warn(
      key,
      { sensor: index >= 0 ? this.sensors[index]!.id : sensorLabel, reason, detail },
      'ingest rejected a message',
    );
    return 'rejected';
  }
}

const fmtMs = (ns: bigint): string => (Number(ns) / 1e6).toFixed(1);

/** True when the first `n` elements hold no NaN or Inf; x - x is 0 only for finite x. */
function allFinite(values: Float32Array | Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (values[i]! - values[i]! !== 0) return false;
  return true;
}
