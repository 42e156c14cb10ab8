/**
 * Drives for tests: the fixture drives (made by `npm run fixtures:drives`, or here on first use
 * when a fresh clone has not made them yet) and small synthetic drives.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { McapIndexedReader, type IWritable } from '@mcap/core';
import { FIXTURE_DRIVES, fixtureDrivePath, makeFixtureDrive } from '../service/fixture-drives.js';
import { DriveReader, type DriveReadResult, type DriveRecord } from '../io/mcap-drive-reader.js';
import { decompressHandlers, loadZstd } from '../io/zstd-codec.js';

/** Path of a fixture drive, made first if missing (so tests pass on a fresh clone). */
export async function fixtureDrive(name: (typeof FIXTURE_DRIVES)[number]['name']): Promise<string> {
  const path = fixtureDrivePath(name);
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    await makeFixtureDrive(FIXTURE_DRIVES.find((d) => d.name === name)!);
  }
  return path;
}

/** A fresh temporary directory for one test file. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `smi-${prefix}-`));
}

/** An indexed reader over a drive file; throws when the file has no valid footer and index. */
export async function openIndexed(path: string): Promise<McapIndexedReader> {
  await loadZstd();
  const bytes = readFileSync(path);
  return McapIndexedReader.Initialize({
    readable: {
      size: async () => BigInt(bytes.byteLength),
      read: async (offset: bigint, length: bigint) => bytes.subarray(Number(offset), Number(offset + length)),
    },
    decompressHandlers,
  });
}

/** Every record of a drive read front to back, with how reading ended. */
export async function readAll(path: string): Promise<{ records: DriveRecord[]; result: DriveReadResult }> {
  const reader = new DriveReader(path);
  const records: DriveRecord[] = [];
  for await (const r of reader.records()) {
    // Message data is only valid until the next record: keep a copy.
    records.push(
      r.type === 'message' ? { type: 'message', message: { ...r.message, data: r.message.data.slice() } } : r,
    );
  }
  return { records, result: reader.result! };
}

/** An in-memory IWritable for @mcap/core's McapWriter; `bytes()` is what was written so far. */
export function memoryWritable(): { writable: IWritable; bytes(): Buffer } {
  const chunks: Buffer[] = [];
  let size = 0n;
  return {
    writable: {
      write: async (b: Uint8Array) => {
        chunks.push(Buffer.from(b));
        size += BigInt(b.byteLength);
      },
      position: () => size,
    },
    bytes: () => Buffer.concat(chunks),
  };
}
