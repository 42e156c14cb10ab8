/**
 * Writes a drive: an indexed MCAP file of raw wire-format channels plus Foxglove channels derived
 * from them (see drive-format.ts). Used by the recorder worker and by `smi-fusion simulate`.
 *
 * @mcap/core's writer corrupts the file if a call starts before the previous one finished, so
 * every method here must be awaited before the next is called; an overlapping call throws
 * instead of corrupting. Bytes go to the file with synchronous writes as each chunk completes, so
 * a process killed mid-drive leaves a file readable up to its last complete chunk.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { McapWriter, type IWritable } from '@mcap/core';
import type { SensorConfig } from '../wire/rig.js';
import { decodeHeader } from '../wire/codec.js';
import { TRACKS_LAYOUT } from '../wire/layouts.js';
import { DRIVE_PROFILE, FOXGLOVE_TOPICS, META, TRUTH_TOPIC, isRawTopic } from './drive-format.js';
import {
  FOXGLOVE_SCHEMAS,
  calibrationTransforms,
  encodePointCloud,
  float32View as floats,
  groundTruthScene,
  odometryTransform,
  tracksScene,
  type FoxgloveSchema,
} from './foxglove-messages.js';
import { WIRE_MESSAGE_ENCODING, WIRE_SCHEMA, decodeWireMessage } from './mcap-wire-message.js';
import { chunkCompressor, loadZstd, type ChunkCompression } from './zstd-codec.js';

export interface DriveWriterOptions {
  /** Chunk compression (default zstd). */
  compression?: ChunkCompression;
  /**
   * Uncompressed chunk size threshold, bytes (default 8 MiB): a chunk is closed by the first
   * message that takes it past this (@mcap/core's rule), so it holds at most this plus that last
   * message. Larger chunks let zstd match a point cloud against the raw scan it repeats; smaller
   * ones lose less to a SIGKILL.
   */
  chunkBytes?: number;
  /** Also write the Foxglove channels (default true). */
  foxglove?: boolean;
  /** The rig: calibration transforms and which channels are lidars. */
  sensors: readonly SensorConfig[];
  /** MCAP header `library` (default smi-fusion). */
  library?: string;
  /**
   * Largest file, bytes (default: no limit): a write that would pass it fails as a full disk
   * would, and the drive stays readable up to its last complete chunk.
   */
  maxBytes?: number;
}

/** Metadata records: name → string map (see META in drive-format.ts). */
export type DriveMetadata = Record<string, Record<string, string>>;

/** Totals of what a writer wrote. */
export interface DriveWriterStats {
  /** MCAP messages on every channel (raw and Foxglove). */
  messages: number;
  rawMessages: number;
  /** Channels declared: raw ones and Foxglove ones. */
  channels: number;
  rawChannels: number;
  /** File bytes written so far. */
  bytes: number;
  chunks: number;
  /** Largest uncompressed chunk written, bytes (chunk records as they reached the file). */
  maxChunkBytes: number;
}

/** The schema of raw channels, in the shape of the Foxglove ones. */
const RAW_SCHEMA: FoxgloveSchema = {
  name: WIRE_SCHEMA.name,
  encoding: WIRE_SCHEMA.encoding,
  data: new TextEncoder().encode(WIRE_SCHEMA.text),
  messageEncoding: WIRE_MESSAGE_ENCODING,
};

/** MCAP Chunk record opcode, and where its uncompressed size sits (after opcode, length, start, end). */
const CHUNK_OPCODE = 0x06;
const CHUNK_UNCOMPRESSED_SIZE_AT = 1 + 8 + 8 + 8;

const CALIBRATION_PERIOD_NS = 1_000_000_000n;

/** IWritable over a file descriptor with synchronous writes. */
class FileWritable implements IWritable {
  private offset = 0;
  maxChunkBytes = 0;
  constructor(
    private readonly fd: number,
    private readonly path: string,
    private readonly maxBytes = Infinity,
  ) {}

  async write(buffer: Uint8Array): Promise<void> {
    if (this.offset + buffer.byteLength > this.maxBytes) {
      throw new Error(
        `drive writer: cannot write ${this.path} at byte ${this.offset}: its size limit of ${this.maxBytes} bytes is reached`,
      );
    }
    // @mcap/core hands each finished chunk record over in one write: note its uncompressed size.
    if (buffer.byteLength > CHUNK_UNCOMPRESSED_SIZE_AT + 8 && buffer[0] === CHUNK_OPCODE) {
      const size = Number(
        new DataView(buffer.buffer, buffer.byteOffset + CHUNK_UNCOMPRESSED_SIZE_AT, 8).getBigUint64(0, true),
      );
      if (size > this.maxChunkBytes) this.maxChunkBytes = size;
    }
    let done = 0;
    while (done < buffer.byteLength) {
      try {
        done += writeSync(this.fd, buffer, done, buffer.byteLength - done);
      } catch (err) {
        throw new Error(
          `drive writer: cannot write ${this.path} at byte ${this.offset + done}: ${(err as Error).message}`,
        );
      }
    }
    this.offset += buffer.byteLength;
  }

  position(): bigint {
    return BigInt(this.offset);
  }

  get bytes(): number {
    return this.offset;
  }
}

export class DriveWriter {
  private readonly writer: McapWriter;
  private readonly channels = new Map<string, { id: number; seq: number }>();
  private readonly schemaIds = new Map<FoxgloveSchema, number>();
  private readonly lidarIds: Set<string>;
  private readonly foxglove: boolean;
  private lastCalibrationNs = -1n;
  private busy = false;
  private closed = false;
  readonly stats: DriveWriterStats = {
    messages: 0,
    rawMessages: 0,
    channels: 0,
    rawChannels: 0,
    bytes: 0,
    chunks: 0,
    maxChunkBytes: 0,
  };

  private constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly file: FileWritable,
    private readonly options: DriveWriterOptions,
  ) {
    this.foxglove = options.foxglove ?? true;
    this.lidarIds = new Set(options.sensors.filter((s) => s.kind === 'lidar').map((s) => s.id));
    this.writer = new McapWriter({
      writable: file,
      chunkSize: options.chunkBytes ?? 8 * 1024 * 1024,
      compressChunk: chunkCompressor(options.compression ?? 'zstd'),
    });
  }

  /** Creates (or truncates) `path`, writes the MCAP header and the metadata records. */
  static async create(
    path: string,
    options: DriveWriterOptions,
    metadata: DriveMetadata,
  ): Promise<DriveWriter> {
    if ((options.compression ?? 'zstd') === 'zstd') await loadZstd();
    let fd: number;
    try {
      fd = openSync(path, 'w');
    } catch (err) {
      throw new Error(`drive writer: cannot create ${path}: ${(err as Error).message}`);
    }
    const w = new DriveWriter(path, fd, new FileWritable(fd, path, options.maxBytes), options);
    try {
      await w.run(async () => {
        await w.writer.start({ profile: DRIVE_PROFILE, library: options.library ?? 'smi-fusion' });
        for (const [name, entries] of Object.entries(metadata)) {
          await w.writer.addMetadata({ name, metadata: new Map(Object.entries(entries)) });
        }
      });
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return w;
  }

  /** Runs one writer operation, refusing overlap (which would corrupt the file). */
  private async run<T>(op: () => Promise<T>): Promise<T> {
    if (this.busy)
      throw new Error(`drive writer ${this.path}: a call overlapped the previous one; await each call`);
    if (this.closed) throw new Error(`drive writer ${this.path}: already closed`);
    this.busy = true;
    try {
      return await op();
    } finally {
      this.busy = false;
      this.stats.bytes = this.file.bytes;
      this.stats.chunks = this.writer.statistics?.chunkCount ?? 0;
      this.stats.maxChunkBytes = this.file.maxChunkBytes;
    }
  }

  private async channel(topic: string, schema: FoxgloveSchema, meta: Record<string, string>) {
    let ch = this.channels.get(topic);
    if (ch) return ch;
    const schemaId = this.schemaIds.get(schema) ?? (await this.writer.registerSchema(schema));
    this.schemaIds.set(schema, schemaId);
    const id = await this.writer.registerChannel({
      topic,
      schemaId,
      messageEncoding: schema.messageEncoding,
      metadata: new Map(Object.entries(meta)),
    });
    ch = { id, seq: 0 };
    this.channels.set(topic, ch);
    this.stats.channels++;
    if (schema === RAW_SCHEMA) this.stats.rawChannels++;
    return ch;
  }

  private async add(
    topic: string,
    schema: FoxgloveSchema,
    data: Uint8Array,
    logTimeNs: bigint,
    publishTimeNs: bigint,
    meta: Record<string, string> = {},
  ): Promise<void> {
    const ch = await this.channel(topic, schema, meta);
    await this.writer.addMessage({
      channelId: ch.id,
      sequence: ch.seq++ >>> 0,
      logTime: logTimeNs,
      publishTime: publishTimeNs,
      data,
    });
    this.stats.messages++;
  }

  /**
   * Adds one wire-format message in its stored form (mcap-wire-message.ts) on the raw channel
   * `topic`, received at `logTimeNs`, and the Foxglove messages derived from it. `data` is copied
   * before this resolves, so the caller may reuse it afterwards.
   */
  addWire(topic: string, data: Uint8Array, logTimeNs: bigint): Promise<void> {
    return this.run(async () => {
      if (!isRawTopic(topic)) throw new Error(`drive writer: '${topic}' is not a raw channel topic`);
      const header = this.tryHeader(data);
      const stampNs = header?.stampNs ?? logTimeNs;
      const kind = typeof header?.kind === 'string' ? header.kind : 'unknown';
      await this.add(topic, RAW_SCHEMA, data, logTimeNs, stampNs, { kind });
      this.stats.rawMessages++;
      if (!this.foxglove) return;
      if (this.lastCalibrationNs < 0n || logTimeNs - this.lastCalibrationNs >= CALIBRATION_PERIOD_NS) {
        this.lastCalibrationNs = logTimeNs;
        await this.add(
          FOXGLOVE_TOPICS.calibration,
          FOXGLOVE_SCHEMAS.frameTransforms,
          calibrationTransforms(stampNs, this.options.sensors),
          logTimeNs,
          stampNs,
        );
      }
      if (header) await this.addDerived(topic, header, data, logTimeNs);
    });
  }

  private tryHeader(data: Uint8Array): (Record<string, unknown> & { stampNs?: bigint }) | undefined {
    try {
      const raw = decodeHeader(decodeWireMessage(data).header) as Record<string, unknown>;
      if (typeof raw !== 'object' || raw === null) return undefined;
      const s = raw.stampNs;
      const stampNs =
        typeof s === 'bigint' ? s : typeof s === 'number' && Number.isSafeInteger(s) ? BigInt(s) : undefined;
      return stampNs !== undefined && stampNs >= 0n ? { ...raw, stampNs } : undefined;
    } catch {
      return undefined; // a recorded bad message: kept raw, nothing derived
    }
  }

  private async addDerived(
    topic: string,
    header: Record<string, unknown> & { stampNs?: bigint },
    data: Uint8Array,
    logTimeNs: bigint,
  ): Promise<void> {
    const stampNs = header.stampNs!;
    const payload = decodeWireMessage(data).payload;
    const count = typeof header.count === 'number' ? header.count : -1;
    if (!payload || count < 0) return;
    if (header.kind === 'lidar' && header.stride === 16 && payload.byteLength === count * 16) {
      const id = String(header.sensorId);
      if (!this.lidarIds.has(id) || `sensor/lidar/${id}` !== topic) return;
      await this.add(
        `${FOXGLOVE_TOPICS.lidarPrefix}${id}`,
        FOXGLOVE_SCHEMAS.pointCloud,
        encodePointCloud(id, stampNs, payload),
        logTimeNs,
        stampNs,
      );
    } else if (header.kind === 'ego' && payload.byteLength === 48 && count === 1) {
      const v = new DataView(payload.buffer, payload.byteOffset, 48);
      const [x, y, yaw] = [v.getFloat64(0, true), v.getFloat64(8, true), v.getFloat64(16, true)];
      if (![x, y, yaw].every(Number.isFinite)) return;
      await this.add(
        FOXGLOVE_TOPICS.odometry,
        FOXGLOVE_SCHEMAS.frameTransform,
        odometryTransform(stampNs, x, y, yaw),
        logTimeNs,
        stampNs,
      );
    } else if (
      topic === 'out/tracks' &&
      header.stride === TRACKS_LAYOUT.stride &&
      payload.byteLength === count * TRACKS_LAYOUT.stride
    ) {
      await this.add(
        FOXGLOVE_TOPICS.tracks,
        FOXGLOVE_SCHEMAS.sceneUpdate,
        tracksScene(stampNs, floats(payload), count),
        logTimeNs,
        stampNs,
      );
    } else if (topic === TRUTH_TOPIC && payload.byteLength === count * 52) {
      await this.add(
        FOXGLOVE_TOPICS.groundTruth,
        FOXGLOVE_SCHEMAS.sceneUpdate,
        groundTruthScene(stampNs, floats(payload), count),
        logTimeNs,
        stampNs,
      );
    }
  }

  /** Adds a metadata record (e.g. the recording summary at the end). */
  addMetadata(name: string, entries: Record<string, string>): Promise<void> {
    return this.run(() => this.writer.addMetadata({ name, metadata: new Map(Object.entries(entries)) }));
  }

  /** Writes the last chunk, the summary and the index, and closes the file. */
  async end(summary?: Record<string, string>): Promise<DriveWriterStats> {
    if (summary) await this.addMetadata(META.summary, summary);
    await this.run(() => this.writer.end());
    this.closed = true;
    closeSync(this.fd);
    return this.stats;
  }

  /** Closes the file without the index (after a write error); what was written stays readable. */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}
