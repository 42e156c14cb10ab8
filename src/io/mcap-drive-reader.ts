/**
 * Reads a drive front to back with MCAP's stream reader, so a file cut short (no footer, a
 * recording killed mid-chunk) or damaged (a chunk that fails its CRC or does not decompress) is
 * read up to the last good record, and the reader says where it stopped and why.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { closeSync, openSync, readSync } from 'node:fs';
import { MCAP_MAGIC, McapStreamReader, type TypedMcapRecord } from '@mcap/core';
import { decompressHandlers, loadZstd } from './zstd-codec.js';

/** A channel as declared in the drive. */
export interface DriveChannel {
  id: number;
  topic: string;
  messageEncoding: string;
  /** Schema name, or '' for schemaless channels. */
  schemaName: string;
  /** The schema record (e.g. a ROS 2 message definition), when the channel has one. */
  schema?: DriveSchema;
  metadata: ReadonlyMap<string, string>;
}

/** A schema record of a drive (or of any MCAP file, e.g. a ROS 2 bag). */
export interface DriveSchema {
  name: string;
  encoding: string;
  data: Uint8Array;
}

/** One message, with its channel. `data` is valid until the next record is read. */
export interface DriveMessage {
  channel: DriveChannel;
  sequence: number;
  logTimeNs: bigint;
  publishTimeNs: bigint;
  data: Uint8Array;
}

export type DriveRecord =
  | { type: 'metadata'; name: string; entries: Record<string, string> }
  | { type: 'message'; message: DriveMessage };

/** How reading ended. */
export interface DriveReadResult {
  /** True when the whole file was read through its footer. */
  complete: boolean;
  /** File size, bytes. */
  fileBytes: number;
  /** Byte offset of the first record that could not be read (when not complete). */
  stoppedAtByte?: number;
  /** Why reading stopped early. */
  reason?: string;
}

const READ_BYTES = 4 * 1024 * 1024;

/** Streams the records of a drive file. Call `records()` once; then `result` says how it ended. */
export class DriveReader {
  result: DriveReadResult | undefined;

  constructor(readonly path: string) {}

  /** Yields metadata and messages in file order; never throws for a damaged file (see `result`). */
  async *records(): AsyncGenerator<DriveRecord, DriveReadResult, void> {
    await loadZstd();
    let fh: FileHandle;
    try {
      fh = await open(this.path, 'r');
    } catch (err) {
      throw new Error(`drive ${this.path}: cannot open: ${(err as Error).message}`);
    }
    const channels = new Map<number, DriveChannel>();
    const schemas = new Map<number, DriveSchema>();
    const reader = new McapStreamReader({ decompressHandlers, validateCrcs: true });
    let appended = 0;
    let eof = false;
    const fileBytes = (await fh.stat()).size;
    const stop = (complete: boolean, at?: number, reason?: string): DriveReadResult => {
      this.result = { complete, fileBytes, ...(complete ? {} : { stoppedAtByte: at, reason }) };
      return this.result;
    };
    try {
      for (;;) {
        const at = appended - reader.bytesRemaining();
        let record: TypedMcapRecord | undefined;
        try {
          record = reader.done() ? undefined : reader.nextRecord();
        } catch (err) {
          return stop(false, at, `unreadable record at byte ${at}: ${(err as Error).message}`);
        }
        if (record) {
          const out = this.toDriveRecord(record, channels, schemas);
          if (typeof out === 'string') return stop(false, at, out);
          if (out) yield out;
          continue;
        }
        if (reader.done()) return stop(true);
        if (eof) {
          const reason =
            appended === 0
              ? 'the file is empty'
              : appended === at
                ? `the file ends at byte ${at} with no footer: the recording was cut short after its last complete record`
                : `the file ends inside a record at byte ${at} (${appended - at} bytes left over; no footer: the recording was cut short)`;
          return stop(false, at, reason);
        }
        const buf = Buffer.allocUnsafe(READ_BYTES);
        const { bytesRead } = await fh.read(buf, 0, READ_BYTES, appended);
        if (bytesRead === 0) {
          eof = true;
          continue;
        }
        appended += bytesRead;
        try {
          reader.append(buf.subarray(0, bytesRead));
        } catch (err) {
          return stop(false, appended - bytesRead, `unreadable data: ${(err as Error).message}`);
        }
      }
    } finally {
      await fh.close();
    }
  }

  private toDriveRecord(
    record: TypedMcapRecord,
    channels: Map<number, DriveChannel>,
    schemas: Map<number, DriveSchema>,
  ): DriveRecord | string | undefined {
    switch (record.type) {
      case 'Schema':
        // Kept: the record's data is a view that the stream reader may reuse.
        schemas.set(record.id, { name: record.name, encoding: record.encoding, data: record.data.slice() });
        return undefined;
      case 'Channel': {
        // Channels repeat in every chunk; keep the first declaration of an id.
        if (channels.has(record.id)) return undefined;
        const schema = record.schemaId === 0 ? undefined : schemas.get(record.schemaId);
        channels.set(record.id, {
          id: record.id,
          topic: record.topic,
          messageEncoding: record.messageEncoding,
          schemaName: record.schemaId === 0 ? '' : (schema?.name ?? `#${record.schemaId}`),
          ...(schema ? { schema } : {}),
          metadata: record.metadata,
        });
        return undefined;
      }
      case 'Metadata':
        return { type: 'metadata', name: record.name, entries: Object.fromEntries(record.metadata) };
      case 'Message': {
        const channel = channels.get(record.channelId);
        if (!channel) return `message on channel ${record.channelId}, which was never declared`;
        return {
          type: 'message',
          message: {
            channel,
            sequence: record.sequence,
            logTimeNs: record.logTime,
            publishTimeNs: record.publishTime,
            data: record.data,
          },
        };
      }
      default:
        return undefined;
    }
  }
}

/** Reads only the metadata records at the start of a drive (before its first message). */
export async function readDriveMetadata(path: string): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = {};
  const reader = new DriveReader(path);
  for await (const r of reader.records()) {
    if (r.type === 'message') break;
    out[r.name] = r.entries;
  }
  return out;
}

/** Whether the file starts with the MCAP magic (reads its first 8 bytes; false if unreadable or shorter). */
export function hasMcapMagic(path: string): boolean {
  const head = Buffer.alloc(MCAP_MAGIC.length);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    return readSync(fd, head, 0, head.length, 0) === head.length && head.equals(Buffer.from(MCAP_MAGIC));
  } finally {
    closeSync(fd);
  }
}
