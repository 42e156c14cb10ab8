import type { AccessPattern, ChannelPlacement } from './layout.js';
import type { Descriptor } from './descriptor.js';

/**
 * The single producer side of one channel: loan a slot, write the payload in place, commit (or
 * abandon). Implemented by the JS ring (Atomics) and the native ring (smi_pool.h via the addon).
 */
export interface ChannelWriter {
  readonly channel: ChannelPlacement;
  readonly producerId: number;
  readonly slotBytes: number;
  /** Takes a free slot for writing; -1 (counted as droppedFull) when every slot is busy. */
  loan(): number;
  /**
   * Like loan, but blocks this worker thread up to `timeoutMs` for a reader to release a slot
   * (sequential backpressure, counted); -1 when none came.
   */
  loanWait(timeoutMs: number): number;
  /** The whole slot as bytes, for writing the payload in place (cached view). */
  slotView(slot: number): Uint8Array;
  /** The whole slot as float32 elements (cached view). */
  slotF32(slot: number): Float32Array;
  /** The whole slot as float64 elements (cached view). */
  slotF64(slot: number): Float64Array;
  /**
   * Publishes a written slot and wakes readers. A length beyond the slot throws TooLargeError; the
   * slot is abandoned and the refusal counted.
   */
  commit(slot: number, length: number, seq: number, stampNs: bigint, commitNs: bigint): void;
  /** Returns a loaned slot without publishing it (e.g. the payload failed validation). */
  abandon(slot: number): void;
  /** Gives the channel's writer role back. */
  close(): void;
}

/**
 * One reader entry of a channel. A `sequential` reader gets every message in order: each commit
 * holds a reference for it until released, so the writer sees backpressure. A `latest` reader
 * takes the newest commit when it asks and holds nothing before that, so the writer never waits
 * for it; a slot being rewritten is never handed out.
 */
export interface ChannelReader {
  readonly channel: ChannelPlacement;
  /** Reader-entry index in the channel's reader table (its bit in slot states). */
  readonly entry: number;
  readonly access: AccessPattern;
  /** Descriptors skipped: superseded by `latest()` or overwritten before taken. */
  readonly skipped: number;
  /** Reads that found their slot being rewritten and tried again. */
  readonly tornRetries: number;
  /** Commits published but not yet taken by this reader. */
  backlog(): number;
  /** Next descriptor in order into `out` (the slot is now held); false when none is pending. */
  next(out: Descriptor): boolean;
  /** Newest descriptor into `out` (held); older pending ones are skipped and counted. */
  latest(out: Descriptor): boolean;
  /** Drops this reader's reference to `slot`; throws if it holds none. */
  release(slot: number): void;
  /** Blocks this worker thread until a commit is pending or `timeoutMs` passes (not on a main thread). */
  wait(timeoutMs: number): boolean;
  /** Resolves when a commit is pending (true) or `timeoutMs` passed (false); for a main thread. */
  waitAsync(timeoutMs: number): Promise<boolean>;
  /** Frees the reader entry, releasing whatever it still holds. */
  close(): void;
}
