import type { SensorConfig } from '../wire/rig.js';
import type { ChunkCompression } from './zstd-codec.js';

export interface RecorderWorkerData {
  /** The RecordRing's buffer (shared, never transferred). */
  sab: SharedArrayBuffer;
  path: string;
  sensors: readonly SensorConfig[];
  compression: ChunkCompression;
  chunkBytes?: number;
  foxglove: boolean;
  metadata: Record<string, Record<string, string>>;
  /** Test knob emulating a slow disk: cap the write rate (bytes/s of records). */
  throttleBytesPerSec?: number;
  /** Largest drive file, bytes (DriveWriterOptions.maxBytes). */
  maxBytes?: number;
}

/** Main thread → recorder worker. */
export type RecorderControl = {
  type: 'stop';
  /** Stop draining the ring after this long; what is left is counted as dropped. */
  drainMs: number;
  /** Producer-side counts to store in the summary record. */
  summary: Record<string, string>;
};

export interface RecorderWorkerStats {
  /** Records written to the file (raw channels). */
  written: number;
  /** Records still queued when the drain deadline passed (not written). */
  unwritten: number;
  /** MCAP messages in the file: the raw ones plus the Foxglove views derived from them. */
  messages: number;
  /** Channels in the file, and how many of them are raw. */
  channels: number;
  rawChannels: number;
  bytes: number;
  chunks: number;
  /** Largest uncompressed chunk, bytes. */
  maxChunkBytes: number;
}

/** Stats of a recorder that has written nothing yet. */
export function emptyRecorderStats(): RecorderWorkerStats {
  return {
    written: 0,
    unwritten: 0,
    messages: 0,
    channels: 0,
    rawChannels: 0,
    bytes: 0,
    chunks: 0,
    maxChunkBytes: 0,
  };
}

/** Recorder worker → main thread. */
export type RecorderEvent =
  | { type: 'ready' }
  | { type: 'done'; stats: RecorderWorkerStats }
  | { type: 'error'; message: string; stats: RecorderWorkerStats };
