/**
 * Records what the service receives (and, optionally, what it publishes) to a drive, at
 * best-effort priority: the taps run on the service's thread and only copy each message once into
 * a bounded ring (RecordRing); a worker thread encodes, compresses and writes. When the ring is
 * full (the disk cannot keep up) the message is dropped and counted per channel, in
 * `smi_recorder_dropped_total{channel}`, and in the summary record at the end of the file.
 */
import { Worker } from 'node:worker_threads';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../telemetry/logger.js';
import type { PipelineSpec } from '../smi/spec/pipeline-spec.js';
import { workerFile } from '../workers/worker-file.js';
import {
  emptyRecorderStats as emptyStats,
  type RecorderControl,
  type RecorderEvent,
  type RecorderWorkerData,
  type RecorderWorkerStats,
} from '../io/recorder-protocol.js';
import { isRawTopic } from '../io/drive-format.js';
import type { DriveMetadata } from '../io/mcap-drive-writer.js';
import { RecordRing } from '../io/record-ring.js';
import type { ChunkCompression } from '../io/zstd-codec.js';

export interface DriveRecorderOptions {
  path: string;
  spec: PipelineSpec;
  metadata: DriveMetadata;
  log: Logger;
  compression?: ChunkCompression;
  chunkBytes?: number;
  foxglove?: boolean;
  /** Queue size between the service and the writer, bytes (default 64 MiB). */
  queueBytes?: number;
  /** Registry for the recorder's metrics (the service's). */
  registry?: Registry;
  /** Test knob emulating a slow disk (bytes/s). */
  throttleBytesPerSec?: number;
  /** Largest drive file, bytes: past it the recording stops with an error, as on a full disk. */
  maxBytes?: number;
}

/** Per-channel counts of a recording. */
export interface ChannelCounts {
  offered: number;
  queued: number;
  dropped: number;
}

/** What a recording did, reported when it stops. */
export interface RecordingSummary {
  path: string;
  channels: Record<string, ChannelCounts>;
  offered: number;
  queued: number;
  /** Dropped because the queue was full, the message was unrecordable, or the writer failed. */
  dropped: number;
  /** Queued but not written when the drain deadline passed at stop. */
  unwritten: number;
  /** Messages written on raw channels (what was recorded). */
  written: number;
  /** What the file holds: every MCAP message and channel, raw and Foxglove views. */
  fileMessages: number;
  fileChannels: number;
  rawChannels: number;
  bytes: number;
  chunks: number;
  /** Largest uncompressed chunk, bytes. */
  maxChunkBytes: number;
  /** Set when the writer failed (e.g. disk full); the file holds what was written before. */
  error?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Label for messages whose topic is not a channel a drive holds (bounded label set). */
const OTHER = 'other';
const MAX_CHANNELS = 256;

export class DriveRecorder {
  private readonly ring: RecordRing;
  private readonly worker: Worker;
  private readonly counts = new Map<string, ChannelCounts>();
  private recorded: Counter<'channel'> | undefined;
  private droppedMetric: Counter<'channel'> | undefined;
  private failedMetric: Gauge | undefined;
  private failed: string | undefined;
  private stopping: Promise<RecordingSummary> | undefined;
  private events: ((e: RecorderEvent) => void)[] = [];
  private lastEvent: RecorderEvent | undefined;

  private constructor(private readonly o: DriveRecorderOptions) {
    this.ring = RecordRing.create(o.queueBytes ?? 64 * 1024 * 1024);
    if (o.registry) this.registerMetrics(o.registry);
    const data: RecorderWorkerData = {
      sab: this.ring.sab,
      path: o.path,
      sensors: o.spec.sensors,
      compression: o.compression ?? 'zstd',
      chunkBytes: o.chunkBytes,
      foxglove: o.foxglove ?? true,
      metadata: o.metadata,
      throttleBytesPerSec: o.throttleBytesPerSec,
      maxBytes: o.maxBytes,
    };
    this.worker = new Worker(workerFile('recorder-worker'), { workerData: data });
    this.worker.on('message', (e: RecorderEvent) => {
      this.lastEvent = e;
      if (e.type === 'error') {
        this.failed = e.message;
        this.failedMetric?.set(1);
        o.log.error({ path: o.path, error: e.message }, 'recording failed; the service goes on without it');
      }
      for (const w of this.events) w(e);
    });
    this.worker.on('error', (err) => {
      this.failed = err.message;
      this.failedMetric?.set(1);
      o.log.error({ err, path: o.path }, 'recorder worker crashed');
      for (const w of this.events) w({ type: 'error', message: err.message, stats: emptyStats() });
    });
  }

  /** Starts the writer thread; resolves once the file is created with its metadata. */
  static async start(options: DriveRecorderOptions): Promise<DriveRecorder> {
    const r = new DriveRecorder(options);
    const e = await r.nextEvent(10_000);
    if (e.type !== 'ready') {
      await r.worker.terminate();
      throw new Error(
        `recorder: cannot record to ${options.path}: ${e.type === 'error' ? e.message : e.type}`,
      );
    }
    options.log.info({ path: options.path }, 'recording');
    return r;
  }

  /**
   * Exports `smi_recorder_messages_total{channel}`, `smi_recorder_dropped_total{channel}` and
   * `smi_recorder_queue_bytes` on `registry` (the service's, which exists only once it runs).
   */
  registerMetrics(registry: Registry): void {
    if (this.recorded) return;
    this.recorded = new Counter({
      name: 'smi_recorder_messages_total',
      help: 'Messages queued for the drive recording, per channel',
      labelNames: ['channel'] as const,
      registers: [registry],
    });
    this.failedMetric = new Gauge({
      name: 'smi_recorder_failed',
      help: 'Whether the recording failed (1: a write error such as a full disk or the size limit stopped it; the service goes on)',
      registers: [registry],
    });
    this.failedMetric.set(this.failed ? 1 : 0);
    this.droppedMetric = new Counter({
      name: 'smi_recorder_dropped_total',
      help: 'Messages the recorder dropped (queue full: the disk could not keep up), per channel',
      labelNames: ['channel'] as const,
      registers: [registry],
    });
    const ring = this.ring;
    new Gauge({
      name: 'smi_recorder_queue_bytes',
      help: 'Bytes waiting in the recorder queue',
      registers: [registry],
      collect() {
        this.set(ring.usedBytes);
      },
    });
    // Counts from before the registry existed.
    for (const [label, c] of this.counts) {
      if (c.queued) this.recorded.inc({ channel: label }, c.queued);
      if (c.dropped) this.droppedMetric.inc({ channel: label }, c.dropped);
    }
  }

  private nextEvent(timeoutMs: number): Promise<RecorderEvent> {
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => done({ type: 'error', message: `no answer within ${timeoutMs} ms`, stats: emptyStats() }),
        timeoutMs,
      );
      const done = (e: RecorderEvent): void => {
        clearTimeout(timer);
        this.events = this.events.filter((w) => w !== done);
        resolve(e);
      };
      this.events.push(done);
    });
  }

  private channel(topic: string): ChannelCounts {
    let c = this.counts.get(topic);
    if (!c) {
      c = { offered: 0, queued: 0, dropped: 0 };
      if (this.counts.size < MAX_CHANNELS) this.counts.set(topic, c);
      else return this.channel(OTHER);
    }
    return c;
  }

  /**
   * Queues one wire-format message `[topic, header, payload?]` seen at `logTimeNs`; never blocks.
   * Returns false when it was dropped.
   */
  record(parts: readonly Uint8Array[], logTimeNs: bigint): boolean {
    if (this.stopping) return false;
    let topic = OTHER;
    if (parts.length === 2 || parts.length === 3) {
      try {
        topic = utf8.decode(parts[0]!);
      } catch {
        topic = OTHER;
      }
    }
    const recordable = topic !== OTHER && isRawTopic(topic) && topic.length <= 256;
    const label = recordable ? topic : OTHER;
    const c = this.channel(label);
    c.offered++;
    if (recordable && !this.failed && this.ring.push(topic, logTimeNs, parts[1]!, parts[2])) {
      c.queued++;
      this.recorded?.inc({ channel: label });
      return true;
    }
    c.dropped++;
    this.droppedMetric?.inc({ channel: label });
    return false;
  }

  /**
   * Counts a message the scheduler shed instead of recording (the recorder is best-effort work:
   * under overload it gives way first). Shows in the summary and metrics as dropped.
   */
  readonly shed = (parts: readonly Uint8Array[]): void => {
    let topic = OTHER;
    try {
      topic = utf8.decode(parts[0]!);
    } catch {
      topic = OTHER;
    }
    const label = isRawTopic(topic) && topic.length <= 256 ? topic : OTHER;
    const c = this.channel(label);
    c.offered++;
    c.dropped++;
    this.droppedMetric?.inc({ channel: label });
  };

  /** For ServiceOptions.inputTap: records every message offered to ingest, whatever its outcome. */
  readonly inputTap = (parts: readonly Uint8Array[], receivedNs: bigint): void => {
    this.record(parts, receivedNs);
  };

  /** For ServiceOptions.groundTruthTap: records simulator ground truth (`truth/actors`). */
  readonly truthTap = (parts: readonly Uint8Array[], receivedNs: bigint): void => {
    this.record(parts, receivedNs);
  };

  /** For ServiceOptions.outputTap: records `out/tracks` and `out/plan` as they are published. */
  readonly outputTap = (parts: readonly Uint8Array[]): void => {
    this.record(parts, process.hrtime.bigint());
  };

  /** Totals so far (producer side). */
  totals(): { offered: number; queued: number; dropped: number } {
    let offered = 0;
    let queued = 0;
    let dropped = 0;
    for (const c of this.counts.values()) {
      offered += c.offered;
      queued += c.queued;
      dropped += c.dropped;
    }
    return { offered, queued, dropped };
  }

  /**
   * Stops taking messages, lets the writer drain the queue (at most `drainMs`), writes the summary
   * and the index, and resolves with what was recorded. The file is valid and indexed unless the
   * writer failed.
   */
  stop(drainMs = 1500): Promise<RecordingSummary> {
    this.stopping ??= (async () => {
      const totals = this.totals();
      const channels = Object.fromEntries(this.counts);
      const summary: Record<string, string> = {
        offered: String(totals.offered),
        queued: String(totals.queued),
        dropped: String(totals.dropped),
        channels: JSON.stringify(channels),
      };
      let stats: RecorderWorkerStats = emptyStats();
      const last = this.lastEvent;
      if (last && (last.type === 'done' || last.type === 'error')) {
        stats = last.stats;
      } else {
        const answer = this.nextEvent(drainMs + 10_000);
        this.worker.postMessage({ type: 'stop', drainMs, summary } satisfies RecorderControl);
        const e = await answer;
        if (e.type === 'done' || e.type === 'error') stats = e.stats;
      }
      await this.worker.terminate();
      const result: RecordingSummary = {
        path: this.o.path,
        channels,
        ...totals,
        unwritten: stats.unwritten,
        written: stats.written,
        fileMessages: stats.messages,
        fileChannels: stats.channels,
        rawChannels: stats.rawChannels,
        bytes: stats.bytes,
        chunks: stats.chunks,
        maxChunkBytes: stats.maxChunkBytes,
        ...(this.failed ? { error: this.failed } : {}),
      };
      this.o.log.info({ ...result, channels: undefined }, 'recording stopped');
      return result;
    })();
    return this.stopping;
  }
}
