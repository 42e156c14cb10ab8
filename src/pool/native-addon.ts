/**
 * Loads the native pool addon (native/build/Release/smi_pool.node) once per thread. When it is
 * missing or fails to load, `nativeAddon()` returns undefined and `nativeLoadError()` says why:
 * callers fall back to the pure-JS ring over an in-process SharedArrayBuffer.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAYOUT_VERSION } from './layout.js';

/** A reader entry driven by the C ring (smi_pool.h). Negative results are SMI_E* codes. */
export interface NativeReaderHandle {
  next(): number;
  latest(): number;
  release(slot: number): number;
  backlog(): number;
  wait(timeoutMs: number): boolean;
  waitAsync(timeoutMs: number): Promise<boolean>;
  close(): void;
  readonly entry: number;
  readonly mode: number;
  readonly skipped: number;
  readonly torn: number;
}

/** The writer role of a channel driven by the C ring. */
export interface NativeWriterHandle {
  loan(): number;
  loanWait(timeoutMs: number): number;
  commit(slot: number, length: number, seq: number, stampNs: bigint, commitNs: bigint): number;
  abandon(slot: number): void;
  close(): void;
}

export interface PoolAddon {
  layoutVersion: number;
  createSegment(name: string, bytes: number): SharedArrayBuffer;
  openSegment(name: string): SharedArrayBuffer;
  unlinkSegment(name: string): boolean;
  futexWake(sab: SharedArrayBuffer, byteOffset: number): void;
  futexWait(
    sab: SharedArrayBuffer,
    byteOffset: number,
    waitersOffset: number,
    expected: number,
    timeoutMs: number,
  ): boolean;
  futexWaitAsync(
    sab: SharedArrayBuffer,
    byteOffset: number,
    waitersOffset: number,
    expected: number,
    timeoutMs: number,
  ): Promise<boolean>;
  reclaimDead(sab: SharedArrayBuffer, channel: number): { readers: number; slots: number; writers: number };
  /** The calling thread to SCHED_FIFO at `priority` (1-99), or SCHED_OTHER for 0; "" or why not. */
  setThreadRealtime(priority: number): string;
  /** The calling thread's policy and priority: "fifo 10", "other 0". */
  threadPolicy(): string;
  NativeWriter: new (sab: SharedArrayBuffer, channel: number, producerId: number) => NativeWriterHandle;
  /** `only` >= 0: bind only that reserved entry (a handed-over reader). */
  NativeReader: new (
    sab: SharedArrayBuffer,
    channel: number,
    mode: number,
    only: number,
  ) => NativeReaderHandle;
}

/** SMI_E* codes of smi_pool.h. */
export const SMI_ENONE = -1;
export const SMI_EEVICTED = -2;
export const SMI_ETOOLARGE = -3;
export const SMI_EDOUBLE = -4;

let loaded: PoolAddon | undefined;
let loadError: string | undefined;
let tried = false;

/** Where the built addon lives, from src/pool (vitest) or dist/pool (the service). */
export function addonPath(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../native/build/Release/smi_pool.node');
}

/** The addon, or undefined (see nativeLoadError). SMI_POOL_NATIVE=0 disables it. */
export function nativeAddon(): PoolAddon | undefined {
  if (tried) return loaded;
  tried = true;
  const path = addonPath();
  if (process.env.SMI_POOL_NATIVE === '0') {
    loadError = 'disabled by SMI_POOL_NATIVE=0';
  } else if (!existsSync(path)) {
    loadError = `not built (${path} is missing; run \`npm run build:native\`)`;
  } else {
    try {
      const addon = createRequire(import.meta.url)(path) as PoolAddon;
      if (addon.layoutVersion !== LAYOUT_VERSION) {
        loadError = `stale build: addon speaks layout version ${addon.layoutVersion}, this code speaks ${LAYOUT_VERSION}; run \`npm run build:native\``;
      } else {
        loaded = addon;
      }
    } catch (err) {
      loadError = `failed to load ${path}: ${(err as Error).message}`;
    }
  }
  return loaded;
}

/** Why the addon is not available, or undefined when it is. */
export function nativeLoadError(): string | undefined {
  nativeAddon();
  return loadError;
}
