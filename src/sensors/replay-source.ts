/**
 * Plays a recorded drive into the service's ingest stage, as live input would arrive.
 *
 * Time. A drive's messages carry the recorder host's CLOCK_MONOTONIC stamps (or, for simulated
 * drives, the scenario clock), and ingest checks stamps against "now" (maxFutureMs/maxAgeMs):
 * - speed 1: messages are paced by their recorded receive times (the MCAP log time) against the
 *   monotonic clock, and each header's stampNs is re-based onto this host's clock (shifted by
 *   the same offset), so stamps, ages and latencies are as live. After a stall (more than
 *   STALL_NS late) the pacing re-anchors instead of bursting to catch up; stamps then jump
 *   forward by the stall, never back.
 * - speed 2 or `max`: headers go in byte for byte, and ingest checks stamps against the drive's
 *   clock (the message's recorded receive time), so it accepts and rejects exactly what the live
 *   service did. At `max` there is no pacing: after each message the source waits until the
 *   pipeline is idle (FusionCycleScheduler.whenIdle), so no message is ever dropped for a full
 *   pool and, with the scheduler in deterministic mode, the same drive gives the same tracks.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../telemetry/logger.js';
import type { IngestFn, ServiceSource } from './source.js';
import type { IngestOutcome } from './ingest-stage.js';
import type { SensorConfig } from '../wire/rig.js';
import { decodeHeader, encodeHeader, parseSensorTopic } from '../wire/codec.js';
import { DriveReader, type DriveMessage, type DriveReadResult } from '../io/mcap-drive-reader.js';
import { META, isRawTopic } from '../io/drive-format.js';
import { decodeWireMessage, wireChannelFormat } from '../io/mcap-wire-message.js';

export type ReplaySpeed = number | 'max';

export interface ReplayOptions {
  path: string;
  speed: ReplaySpeed;
  /** Start again at the end until stopped. */
  loop?: boolean;
  /** Play only messages received in [fromS, toS) seconds after the drive's start. */
  fromS?: number;
  toS?: number;
  /** The pipeline's sensors; channels of other sensors are listed and skipped. */
  sensors: readonly SensorConfig[];
  log: Logger;
  /** Max speed: resolves when the pipeline has finished with everything offered so far. */
  whenIdle?: () => Promise<void>;
  /** Called before the drive starts again (--loop): reset per-sensor history and the tracker. */
  onLoop?: () => void;
  /**
   * Sees each message handed to ingest: the stamp it carried (after re-basing), when, the outcome,
   * and its stamp on the drive's clock.
   */
  onOffered?: (
    topic: string,
    stampNs: bigint | undefined,
    offeredNs: bigint,
    outcome: IngestOutcome,
    driveStampNs: bigint | undefined,
  ) => void;
  /** Sees recorded messages that are not inputs (out/*, truth/actors), e.g. for the report. */
  onRecorded?: (message: DriveMessage) => void;
}

/** What a playback did. */
export interface ReplayResult {
  /** Messages handed to ingest, per channel. */
  offered: Map<string, number>;
  offeredTotal: number;
  /** Channels skipped: topic → why. */
  skipped: Map<string, string>;
  /** How the last pass over the file ended. */
  read: DriveReadResult;
  loops: number;
  /** Pacing re-anchors after stalls (speed 1 and 2). */
  stalls: number;
  /** Log time of the drive's start and of the last message played, ns (drive clock). */
  driveStartNs: bigint;
  lastLogNs: bigint;
  /** Drive time covered by the messages played, summed over passes, ns. */
  playedNs: bigint;
  /** Host time spent playing, ns. */
  wallNs: bigint;
  /** True when stop() ended playback early. */
  stopped: boolean;
}

/** Lateness after which speed-1/2 pacing re-anchors rather than catching up, ns. */
const STALL_NS = 250_000_000n;

export class ReplaySource implements ServiceSource {
  private ingest: IngestFn | undefined;
  private stopping = false;
  private playing: Promise<ReplayResult> | undefined;
  private readonly sensorIds: Set<string>;
  private readonly topicFrames = new Map<string, Buffer>();

  constructor(private readonly o: ReplayOptions) {
    if (o.speed !== 'max' && !(o.speed > 0))
      throw new RangeError(`replay: speed ${o.speed} must be > 0 or 'max'`);
    this.sensorIds = new Set(o.sensors.map((s) => `${s.kind}/${s.id}`));
  }

  /** For ServiceOptions.extraSources: remembers the service's ingest entry point. */
  bind(ingest: IngestFn): this {
    this.ingest = ingest;
    return this;
  }

  /** Playback starts with play(), once the whole service is up. */
  async start(): Promise<void> {}

  /** Stops playback at the next message; resolves when it has stopped. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.playing?.catch(() => undefined);
  }

  /** Plays the drive (and loops, with `loop`); resolves with what was played. */
  play(): Promise<ReplayResult> {
    this.playing ??= this.run();
    return this.playing;
  }

  private async run(): Promise<ReplayResult> {
    const ingest = this.ingest;
    if (!ingest) throw new Error('replay: not bound to a service (pass it in ServiceOptions.extraSources)');
    const o = this.o;
    const result: ReplayResult = {
      offered: new Map(),
      offeredTotal: 0,
      skipped: new Map(),
      read: { complete: true, fileBytes: 0 },
      loops: 0,
      stalls: 0,
      driveStartNs: -1n,
      lastLogNs: -1n,
      playedNs: 0n,
      wallNs: 0n,
      stopped: false,
    };
    const t0 = process.hrtime.bigint();
    for (let pass = 0; !this.stopping; pass++) {
      if (pass > 0) {
        o.onLoop?.();
        result.loops++;
        o.log.info({ loop: result.loops, path: o.path }, 'replay restarted');
      }
      await this.pass(ingest, result, pass === 0);
      if (!o.loop || !result.read.complete || result.offeredTotal === 0) break;
    }
    if (o.speed === 'max') await o.whenIdle?.();
    result.wallNs = process.hrtime.bigint() - t0;
    result.stopped = this.stopping;
    return result;
  }

  private async pass(ingest: IngestFn, result: ReplayResult, first: boolean): Promise<void> {
    const o = this.o;
    const reader = new DriveReader(o.path);
    const speed = o.speed;
    let anchorLog = -1n;
    let anchorHost = 0n;
    let fromNs = -1n;
    let toNs = -1n;
    let metaStartNs = -1n;
    let firstLogNs = -1n;
    for await (const r of reader.records()) {
      if (this.stopping) break;
      if (r.type === 'metadata') {
        if (r.name === META.drive && r.entries.startNs && /^\d+$/.test(r.entries.startNs)) {
          metaStartNs = BigInt(r.entries.startNs);
        }
        continue;
      }
      const m = r.message;
      if (result.driveStartNs < 0n) result.driveStartNs = metaStartNs >= 0n ? metaStartNs : m.logTimeNs;
      if (fromNs < 0n) {
        fromNs = result.driveStartNs + BigInt(Math.round((o.fromS ?? 0) * 1e9));
        toNs = o.toS === undefined ? -1n : result.driveStartNs + BigInt(Math.round(o.toS * 1e9));
      }
      const topic = m.channel.topic;
      const format = this.classify(m, result, first);
      if (!format) continue;
      if (m.logTimeNs < fromNs) continue;
      if (toNs >= 0n && m.logTimeNs >= toNs) break;
      let frames;
      try {
        frames = decodeWireMessage(m.data, format);
      } catch (err) {
        this.skipOnce(result, topic, `malformed stored message: ${(err as Error).message}`);
        continue;
      }
      let header = frames.header;
      let stampNs: bigint | undefined;
      let driveStampNs: bigint | undefined;
      let clockNs: bigint | undefined;
      if (speed !== 'max') {
        const now = process.hrtime.bigint();
        if (anchorLog < 0n) {
          anchorLog = m.logTimeNs;
          anchorHost = now;
        }
        const target = anchorHost + BigInt(Math.round(Number(m.logTimeNs - anchorLog) / speed));
        if (now - target > STALL_NS) {
          result.stalls++;
          anchorLog = m.logTimeNs;
          anchorHost = now;
        } else if (target - now > 500_000n) {
          await sleep(Number(target - now) / 1e6);
          if (this.stopping) break;
        }
      }
      if (speed === 1) {
        // Re-base onto this host's clock: the message is as old now as when it was recorded.
        const offset = anchorHost - anchorLog;
        const rebased = rebaseHeader(header, offset);
        header = rebased.header;
        stampNs = rebased.stampNs;
        driveStampNs = stampNs === undefined ? undefined : stampNs - offset;
      } else {
        stampNs = headerStamp(header);
        driveStampNs = stampNs;
        clockNs = m.logTimeNs;
      }
      const parts = frames.payload
        ? [this.topicFrame(topic), header, frames.payload]
        : [this.topicFrame(topic), header];
      const offeredNs = process.hrtime.bigint();
      const outcome = ingest(parts, offeredNs, clockNs);
      o.onOffered?.(topic, stampNs, offeredNs, outcome, driveStampNs);
      result.offered.set(topic, (result.offered.get(topic) ?? 0) + 1);
      result.offeredTotal++;
      result.lastLogNs = m.logTimeNs;
      if (firstLogNs < 0n) firstLogNs = m.logTimeNs;
      if (speed === 'max') await o.whenIdle?.();
    }
    if (firstLogNs >= 0n) result.playedNs += result.lastLogNs - firstLogNs;
    result.read = reader.result ?? { complete: true, fileBytes: 0 };
  }

  /**
   * For messages to hand to ingest, the drive format their channel stores them in; undefined for
   * every other channel (listed once).
   */
  private classify(m: DriveMessage, result: ReplayResult, first: boolean): 1 | 2 | undefined {
    const topic = m.channel.topic;
    if (topic.startsWith('/foxglove/')) return undefined; // views of raw channels, for people
    const format = wireChannelFormat(m.channel.messageEncoding, m.channel.schemaName);
    if (!format || !isRawTopic(topic)) {
      if (first)
        this.skipOnce(
          result,
          topic,
          `not a channel smi-fusion replays (encoding '${m.channel.messageEncoding}', schema '${m.channel.schemaName}')`,
        );
      return undefined;
    }
    if (!topic.startsWith('sensor/')) {
      this.o.onRecorded?.(m);
      return undefined;
    }
    const parsed = parseSensorTopic(topic);
    if (!parsed || !this.sensorIds.has(`${parsed.kind}/${parsed.sensorId}`)) {
      if (first) this.skipOnce(result, topic, 'no such sensor in the pipeline');
      return undefined;
    }
    return format;
  }

  private skipOnce(result: ReplayResult, topic: string, why: string): void {
    if (result.skipped.has(topic)) return;
    result.skipped.set(topic, why);
    this.o.log.warn({ topic, why, path: this.o.path }, 'replay skips a channel');
  }

  private topicFrame(topic: string): Buffer {
    let t = this.topicFrames.get(topic);
    if (!t) {
      t = Buffer.from(topic);
      this.topicFrames.set(topic, t);
    }
    return t;
  }
}

/** stampNs of a wire header, or undefined when it does not decode to one. */
function headerStamp(header: Uint8Array): bigint | undefined {
  try {
    const s = (decodeHeader(header) as { stampNs?: unknown } | null)?.stampNs;
    if (typeof s === 'bigint') return s;
    if (typeof s === 'number' && Number.isSafeInteger(s)) return BigInt(s);
  } catch {
    // a recorded bad header: replayed as it was
  }
  return undefined;
}

/** The header with stampNs shifted by `offsetNs`; unchanged when it has no usable stamp. */
function rebaseHeader(
  header: Uint8Array,
  offsetNs: bigint,
): { header: Uint8Array; stampNs: bigint | undefined } {
  let raw: unknown;
  try {
    raw = decodeHeader(header);
  } catch {
    return { header, stampNs: undefined };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { header, stampNs: undefined };
  const map = raw as Record<string, unknown>;
  const s = map.stampNs;
  const stamp =
    typeof s === 'bigint' ? s : typeof s === 'number' && Number.isSafeInteger(s) ? BigInt(s) : undefined;
  if (stamp === undefined || stamp < 0n) return { header, stampNs: undefined };
  const stampNs = stamp + offsetNs;
  return { header: encodeHeader({ ...map, stampNs }), stampNs };
}
