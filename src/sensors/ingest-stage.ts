import { parseSensorTopic } from '../wire/codec.js';
import { decodeSensorHeader } from '../wire/header-decoder.js';
import { emptySensorHeader, validateSensorHeader } from '../wire/header-validator.js';
import { LAYOUTS } from '../wire/layouts.js';
import { checkRecords } from '../wire/payload-checks.js';
import type { Rejection, RejectReason } from '../wire/reject-reason.js';
import type { SensorConfig } from '../wire/rig.js';
import type { ChannelWriter, Descriptor, SlotPool } from '../pool/slot-pool.js';
import type { ChannelProducer } from '../smi/spec/pipeline-spec.js';
import type { RateLimitedLog } from '../telemetry/reject-log-limiter.js';
import type { IngestSink, SensorEvent } from './ingest-counters.js';

/**
 * Messages in a row whose stamps went back while their seq went on, after which ingest takes the
 * new timeline as the sensor's clock having jumped (so a jump never locks a sensor out).
 */
export const CLOCK_JUMP_MESSAGES = 3;

/** Called after a message is committed; `sensorIndex` is also its channel index in the pool. */
export type CommitListener = (sensorIndex: number) => void;

/**
 * Outcome of one message: committed, rejected as bad input, dropped because the pool was full, or
 * forwarded to the thread that ingests its kind (lidar scans, to the lidar thread: counted there).
 */
export type IngestOutcome = 'committed' | 'rejected' | 'dropped' | 'forwarded';

const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Which sensors this instance writes into the pool, and which it may only admit from outside. */
export interface IngestScope {
  /** Who writes each sensor's channel (default: ingest for all). */
  producers?: readonly ChannelProducer[];
  /**
   * Sensors ingested by this instance (default: every sensor an ingest producer writes). Another
   * thread's instance ingests the rest: a message for one of them is refused as `not_allowed`.
   */
  ingests?: (sensorIndex: number) => boolean;
}

/**
 * The ingest stage: decodes and validates a multipart message `[topic, header, payload?]`,
 * writes the payload once into a pool slot, checks it in place and commits it. Every refusal
 * is counted per sensor and reason and logged at most once per second per reason. One instance
 * per ingesting thread (each sensor is ingested by exactly one); they share the counters.
 */
export class IngestStage {
  private readonly indexById = new Map<string, number>();
  /** Undefined for a channel this instance does not write (external producer, or another thread). */
  private readonly writers: (ChannelWriter | undefined)[];
  private readonly external: Uint8Array;
  private readonly lastStamp: BigInt64Array;
  private readonly lastSeq: Float64Array;
  /** Consecutive stamp_backwards refusals per sensor, and the last refused stamp of the run. */
  private readonly backwardRun: Uint8Array;
  private readonly backwardStamp: BigInt64Array;
  /** What checkOrder saw in the message it let through (counted once the message commits). */
  private orderEvent: SensorEvent | undefined;
  private readonly header = emptySensorHeader();
  private readonly maxFutureNs: bigint;
  private readonly maxAgeNs: bigint;
  private listener: CommitListener = () => {};
  private readonly externalViews: (Float32Array | Float64Array)[][] = [];
  /**
   * A slot loaned ahead for each channel's next message (prefetch, writer side): taken after a
   * commit, when a slot is free, so the next message's loan (and a full channel's reclaim or
   * drop-oldest rounds) is not between its arrival and its commit. -1: none.
   */
  private readonly preloaned: Int32Array;

  constructor(
    private readonly sensors: readonly SensorConfig[],
    private readonly pool: SlotPool,
    private readonly sink: IngestSink,
    private readonly rejectLog: RateLimitedLog,
    limits: { maxFutureMs: number; maxAgeMs: number },
    scope: IngestScope = {},
  ) {
    sensors.forEach((s, i) => this.indexById.set(s.id, i));
    const producers = scope.producers ?? sensors.map(() => 'ingest' as const);
    this.external = Uint8Array.from(sensors, (_, i) => (producers[i] === 'external' ? 1 : 0));
    const mine = scope.ingests ?? (() => true);
    this.writers = sensors.map((_, i) => (this.external[i] || !mine(i) ? undefined : pool.writer(i, i)));
    this.lastStamp = new BigInt64Array(sensors.length).fill(-1n);
    this.lastSeq = new Float64Array(sensors.length).fill(-1);
    this.backwardRun = new Uint8Array(sensors.length);
    this.backwardStamp = new BigInt64Array(sensors.length).fill(-1n);
    this.preloaned = new Int32Array(sensors.length).fill(-1);
    this.maxFutureNs = BigInt(Math.round(limits.maxFutureMs * 1e6));
    this.maxAgeNs = BigInt(Math.round(limits.maxAgeMs * 1e6));
  }

  /** Messages accepted, per sensor (every ingesting thread's). */
  receivedOf(sensor: number): number {
    return this.sink.counters.receivedOf(sensor);
  }

  /** Messages refused in all (every ingesting thread's). */
  get rejectedCount(): number {
    return this.sink.counters.totalRejected;
  }

  /** Valid messages dropped for a full channel (every ingesting thread's). */
  get droppedCount(): number {
    return this.sink.counters.totalDropped;
  }

  /** Whether this instance writes the sensor's channel. */
  writes(sensor: number): boolean {
    return this.writers[sensor] !== undefined;
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
      raw = decodeSensorHeader(parts[1]!);
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
        this.external[index]
          ? `channel '${sensor.id}' is written by an external producer through shared memory, not by ingest`
          : `channel '${sensor.id}' is ingested by another thread of this service, not this one`,
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

    const pre = this.preloaned[index]!;
    this.preloaned[index] = -1;
    const slot = pre >= 0 ? pre : writer.loan();
    if (slot < 0) {
      this.sink.counters.countDropped(index);
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
    const implausible = checkRecords(
      parsed.kind,
      LAYOUTS[parsed.kind].scalar === 'f32' ? writer.slotF32(slot) : writer.slotF64(slot),
      h.count,
    );
    if (implausible) {
      writer.abandon(slot);
      return this.rejectWith(index, sensor.id, implausible);
    }
    const commitNs = process.hrtime.bigint();
    writer.commit(slot, expected, h.seq, h.stampNs, commitNs);
    this.accepted(index, h.stampNs, h.seq);
    this.sink.latency(index, Number(commitNs - receivedNs));
    this.listener(index);
    // Only from a free slot: loaning on a full drop-oldest channel would drop a message early.
    if (this.pool.slotsInUse(index) < this.pool.channels[index]!.slotCount - 1) {
      this.preloaned[index] = writer.loan();
    }
    return 'committed';
  }

  /** Gives back the slots loaned ahead (the service is stopping). */
  close(): void {
    this.preloaned.forEach((slot, i) => {
      if (slot >= 0) this.writers[i]?.abandon(slot);
    });
    this.preloaned.fill(-1);
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
    const view = this.externalView(index, d.slot, layout.scalar);
    const implausible = checkRecords(sensor.kind, view, d.length / layout.stride);
    if (implausible) {
      this.rejectWith(index, sensor.id, implausible);
      return false;
    }
    this.accepted(index, d.stampNs, d.seq);
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
    this.orderEvent = undefined;
    const lastStamp = this.lastStamp[index]!;
    const lastSeq = this.lastSeq[index]!;
    if (stampNs <= lastStamp) {
      if (seq <= lastSeq) {
        // Neither seq nor stamp moved on: a repeated or replayed message, never a new timeline.
        return this.reject(
          index,
          id,
          'duplicate',
          `seq ${seq} and stampNs ${stampNs} are not after the previous message's (seq ${lastSeq}, stampNs ${lastStamp})`,
        );
      }
      // seq went on, stamps went back: the sensor's clock jumped back. Refused until it keeps
      // going on the new timeline, then followed, so the sensor is never locked out.
      const run = stampNs > this.backwardStamp[index]! ? this.backwardRun[index]! + 1 : 1;
      this.backwardRun[index] = Math.min(run, 255);
      this.backwardStamp[index] = stampNs;
      if (run < CLOCK_JUMP_MESSAGES) {
        return this.reject(
          index,
          id,
          'stamp_backwards',
          `stampNs ${stampNs} is not after the previous ${lastStamp} (${CLOCK_JUMP_MESSAGES} in a row on a new timeline are taken as a clock jump)`,
        );
      }
      this.orderEvent = 'clock_jump';
    } else if (seq <= lastSeq) {
      // Stamps went on, seq started again: the driver restarted.
      this.orderEvent = 'restart';
    }
    return undefined;
  }

  /** Records an accepted message's stamp and seq, counts it and any stream event checkOrder saw. */
  private accepted(index: number, stampNs: bigint, seq: number): void {
    this.lastStamp[index] = stampNs;
    this.lastSeq[index] = seq;
    this.backwardRun[index] = 0;
    this.backwardStamp[index] = -1n;
    this.sink.counters.countReceived(index);
    const event = this.orderEvent;
    if (event) {
      this.orderEvent = undefined;
      this.sink.counters.countEvent(index, event);
      const id = this.sensors[index]!.id;
      this.rejectLog.warn(
        `${id}\u0000${event}`,
        { sensor: id, event, seq, stampNs: String(stampNs) },
        event === 'restart'
          ? 'sensor restarted (seq began again); following it'
          : 'sensor clock jumped back; following the new timeline',
      );
    }
  }

  /** Forgets per-sensor stamp/seq history (e.g. when a simulated drive loops back to its start). */
  resetSensorHistory(): void {
    this.lastStamp.fill(-1n);
    this.lastSeq.fill(-1);
    this.backwardRun.fill(0);
    this.backwardStamp.fill(-1n);
  }

  private rejectWith(index: number, sensorLabel: string, r: Rejection): IngestOutcome {
    return this.reject(index, sensorLabel, r.reason, r.detail);
  }

  private reject(index: number, sensorLabel: string, reason: RejectReason, detail: string): IngestOutcome {
    this.sink.counters.countRejected(index, reason);
    const key = `${sensorLabel}\u0000${reason}`;
    this.rejectLog.warn(
      key,
      { sensor: index >= 0 ? this.sensors[index]!.id : sensorLabel, reason, detail },
      'ingest rejected a message',
    );
    return 'rejected';
  }
}

const fmtMs = (ns: bigint): string => (Number(ns) / 1e6).toFixed(1);
