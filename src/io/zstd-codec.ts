/**
 * zstd for MCAP chunks. Node 20's zlib has no zstd, so this wraps @foxglove/wasm-zstd (the codec
 * Foxglove Studio itself reads with). The WebAssembly module loads asynchronously: call
 * `loadZstd()` once before using the compressor or the decompress handlers.
 */
import zstd from '@foxglove/wasm-zstd';
import type { DecompressHandlers } from '@mcap/core';

/** Chunk compressions a drive may be written with. */
export const CHUNK_COMPRESSIONS = ['zstd', 'none'] as const;
export type ChunkCompression = (typeof CHUNK_COMPRESSIONS)[number];

/**
 * zstd level for chunks. Level 3 keeps a 2 MiB match window on multi-MiB chunks, so the Foxglove
 * point cloud that repeats a raw lidar scan in the same chunk costs almost nothing; level 1 and 2
 * have windows below one scan (1.6 MB) and would store it twice.
 */
export const ZSTD_LEVEL = 3;

let loaded: Promise<void> | undefined;

/** Resolves when the zstd WebAssembly module is ready. */
export function loadZstd(): Promise<void> {
  loaded ??= zstd.isLoaded.then(() => undefined);
  return loaded;
}

/** McapWriter's `compressChunk` for a compression; undefined writes chunks uncompressed. */
export function chunkCompressor(
  compression: ChunkCompression,
): ((data: Uint8Array) => { compression: string; compressedData: Uint8Array }) | undefined {
  if (compression === 'none') return undefined;
  return (data) => ({ compression: 'zstd', compressedData: zstd.compress(data, ZSTD_LEVEL) });
}

/** Decompress handlers for McapStreamReader / McapIndexedReader (after `loadZstd()`). */
export const decompressHandlers: DecompressHandlers = {
  zstd: (buffer, decompressedSize) => zstd.decompress(buffer, Number(decompressedSize)),
};
