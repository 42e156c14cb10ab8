/**
 * Shared-memory words of one segment and the operations both rings and the pool use on them:
 * waking and sleeping on a word, releasing a reference, reclaiming what a dead process held.
 * The protocol is the one in native/LAYOUT.md; native/include/smi_pool.h is its C twin.
 */
import {
  ACCESS_SEQUENTIAL,
  CH,
  META,
  MAX_READERS,
  RD,
  READER_ENTRY_BYTES,
  READER_RECLAIMING,
  SLOT_FREE,
  SLOT_META_BYTES,
  SLOT_WRITING,
  type ChannelPlacement,
} from './layout.js';
import type { PoolAddon } from './native-addon.js';
import { waitAsync } from './wait-async.js';

/** What a reclaim pass took back. */
export interface ReclaimCounts {
  readers: number;
  slots: number;
  writers: number;
}

/** True while `pid` exists (EPERM: it exists under another user). */
export function pidAlive(pid: number): boolean {
  if (pid <= 0 || pid === READER_RECLAIMING || pid > 0x7fff_ffff) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Word index (32-bit) helpers for a channel. */
export const hdrWord = (ch: ChannelPlacement, field: number): number => (ch.headerOffset + field) >> 2;
export const metaWord = (ch: ChannelPlacement, slot: number): number =>
  (ch.metaOffset + slot * SLOT_META_BYTES) >> 2;
export const entryWord = (ch: ChannelPlacement, entry: number): number =>
  (ch.readerOffset + entry * READER_ENTRY_BYTES) >> 2;

/**
 * The words of one segment. In an in-process buffer, sleepers use Atomics.wait/notify; in a
 * shared-memory segment they use the addon's futex, which also wakes other processes (V8's
 * Atomics.wait is process-local and a C driver cannot reach it).
 */
export class SegmentWords {
  readonly i32: Int32Array;
  readonly u32: Uint32Array;

  constructor(
    readonly sab: SharedArrayBuffer,
    /** The segment is POSIX shared memory: sleep and wake with the addon's futex. */
    readonly shm: boolean,
    readonly addon: PoolAddon | undefined,
  ) {
    if (shm && !addon)
      throw new Error('pool: a shared-memory segment needs the native addon to wait and wake');
    this.i32 = new Int32Array(sab);
    this.u32 = new Uint32Array(sab);
  }

  /** Bumps a wait word and wakes its sleepers; no wake call when nobody sleeps. */
  bumpAndWake(word: number, waiters: number): void {
    Atomics.add(this.u32, word, 1);
    if (Atomics.load(this.i32, waiters) > 0) this.wake(word);
  }

  wake(word: number): void {
    if (this.shm) this.addon!.futexWake(this.sab, word * 4);
    else Atomics.notify(this.i32, word);
  }

  /**
   * Blocks this thread (a worker; the main thread may not block) while `word` holds `expected`,
   * at most `timeoutMs` (negative or Infinity: no limit). True when the word changed.
   */
  waitWord(word: number, waiters: number, expected: number, timeoutMs: number): boolean {
    const limit = timeoutMs < 0 || !Number.isFinite(timeoutMs) ? -1 : Math.ceil(timeoutMs);
    if (this.shm) return this.addon!.futexWait(this.sab, word * 4, waiters * 4, expected >>> 0, limit);
    const i32 = this.i32;
    Atomics.add(i32, waiters, 1);
    try {
      const deadline = limit < 0 ? Infinity : performance.now() + limit;
      for (;;) {
        if (Atomics.load(this.u32, word) !== expected >>> 0) return true;
        const left = deadline - performance.now();
        if (left <= 0) return false;
        Atomics.wait(i32, word, expected | 0, left === Infinity ? undefined : left);
      }
    } finally {
      Atomics.sub(i32, waiters, 1);
    }
  }

  /** Like waitWord, without blocking: for a main thread. The promise keeps the process alive. */
  waitWordAsync(word: number, waiters: number, expected: number, timeoutMs: number): Promise<boolean> {
    const limit = timeoutMs < 0 || !Number.isFinite(timeoutMs) ? -1 : Math.ceil(timeoutMs);
    if (Atomics.load(this.u32, word) !== expected >>> 0) return Promise.resolve(true);
    if (this.shm) return this.addon!.futexWaitAsync(this.sab, word * 4, waiters * 4, expected >>> 0, limit);
    const i32 = this.i32;
    Atomics.add(i32, waiters, 1);
    const r = waitAsync(i32, word, expected | 0, limit < 0 ? undefined : limit);
    if (!r.async) {
      Atomics.sub(i32, waiters, 1);
      return Promise.resolve(r.value !== 'timed-out');
    }
    // A pending Atomics.waitAsync does not keep the event loop alive: hold a timer until it settles.
    const keepAlive = setInterval(() => {}, 1 << 30);
    return r.value.then((v) => {
      clearInterval(keepAlive);
      Atomics.sub(i32, waiters, 1);
      return v !== 'timed-out' || Atomics.load(this.u32, word) !== expected >>> 0;
    });
  }

  /** Drops reader-entry `entry`'s reference to `slot`; false if it held none (nothing changes). */
  releaseEntry(ch: ChannelPlacement, entry: number, slot: number): boolean {
    const bit = 1 << entry;
    const old = Atomics.and(this.i32, metaWord(ch, slot) + META.state / 4, ~bit);
    if ((old & bit) === 0) return false;
    Atomics.add(this.u32, entryWord(ch, entry) + RD.progress / 4, 1);
    if ((old & ~bit) === 0) this.bumpAndWake(hdrWord(ch, CH.releaseSeq), hdrWord(ch, CH.releaseWaiters));
    return true;
  }

  /**
   * Frees reader entry `entry` if it still belongs to `pid`: its bit leaves the commit mask and
   * every slot, its epoch moves (a live owner notices), then the entry is free. Returns the slot
   * references dropped, or -1 when someone else got there first.
   */
  freeReaderEntry(ch: ChannelPlacement, entry: number, pid: number): number {
    const { i32, u32 } = this;
    const e = entryWord(ch, entry);
    if (Atomics.compareExchange(u32, e + RD.pid / 4, pid >>> 0, READER_RECLAIMING) !== pid >>> 0) return -1;
    const bit = 1 << entry;
    Atomics.and(i32, hdrWord(ch, CH.seqReaderMask), ~bit);
    Atomics.add(u32, e + RD.epoch / 4, 1);
    let slots = 0;
    for (let s = 0; s < ch.slotCount; s++) {
      const old = Atomics.and(i32, metaWord(ch, s) + META.state / 4, ~bit);
      if (old & bit) {
        slots++;
        if ((old & ~bit) === 0) this.bumpAndWake(hdrWord(ch, CH.releaseSeq), hdrWord(ch, CH.releaseWaiters));
      }
    }
    Atomics.store(u32, e + RD.mode / 4, 0);
    Atomics.store(u32, e + RD.bound / 4, 0);
    Atomics.store(u32, e + RD.cursor / 4, 0);
    Atomics.store(u32, e + RD.pid / 4, 0);
    return slots;
  }

  /**
   * Hands reader entry `entry` (bound, owned by `pid`) over to a replacement reader in the same
   * process, after the thread that held it died: the slots it had taken (commits before its
   * cursor, or every slot it holds for a latest reader) are released, the commits it had not read
   * yet stay referenced, and the entry becomes reserved-unbound so that a reader opened with
   * `entry` binds it at the same cursor. Returns the slots released, or -1 when the entry is not
   * bound to `pid`.
   */
  handOverEntry(ch: ChannelPlacement, entry: number, pid: number): number {
    const { i32, u32 } = this;
    const e = entryWord(ch, entry);
    if (Atomics.load(u32, e + RD.pid / 4) !== pid >>> 0 || Atomics.load(u32, e + RD.bound / 4) !== 1)
      return -1;
    const sequential = Atomics.load(u32, e + RD.mode / 4) === ACCESS_SEQUENTIAL;
    const cursor = Atomics.load(u32, e + RD.cursor / 4);
    const bit = 1 << entry;
    let released = 0;
    for (let s = 0; s < ch.slotCount; s++) {
      const m = metaWord(ch, s);
      const st = Atomics.load(i32, m);
      if (st === SLOT_WRITING || !(st & bit)) continue;
      // A commit at or after the cursor was never taken: the replacement reads it.
      if (sequential && ((cursor - Atomics.load(u32, m + META.commitIndex / 4)) | 0) <= 0) continue;
      if (this.releaseEntry(ch, entry, s)) released++;
    }
    Atomics.store(u32, e + RD.bound / 4, 0);
    return released;
  }

  /** Reclaims a reader entry of a dead (or lease-expired) process, counted in the channel header. */
  reclaimReaderEntry(ch: ChannelPlacement, entry: number, pid: number, n: ReclaimCounts): void {
    const slots = this.freeReaderEntry(ch, entry, pid);
    if (slots < 0) return;
    Atomics.add(this.u32, hdrWord(ch, CH.reclaimedReaders), 1);
    Atomics.add(this.u32, hdrWord(ch, CH.reclaimedSlots), slots);
    n.readers++;
    n.slots += slots;
  }

  /**
   * Takes the writer role back from dead process `pid`: slots it was writing, and one it had
   * committed but not yet published, return to the free list unread.
   */
  reclaimWriter(ch: ChannelPlacement, pid: number, n: ReclaimCounts): void {
    const { i32, u32 } = this;
    const role = hdrWord(ch, CH.writerPid);
    if (Atomics.compareExchange(u32, role, pid >>> 0, READER_RECLAIMING) !== pid >>> 0) return;
    const published = Atomics.load(u32, hdrWord(ch, CH.commitSeq));
    let slots = 0;
    for (let s = 0; s < ch.slotCount; s++) {
      const m = metaWord(ch, s);
      const st = Atomics.load(i32, m);
      // While the role is RECLAIMING nobody else writes: every WRITING slot is the dead writer's.
      const unpublished =
        st !== SLOT_FREE &&
        st !== SLOT_WRITING &&
        Atomics.load(u32, m + META.commitIndex / 4) === published &&
        Atomics.load(u32, m + META.ownerPid / 4) === pid >>> 0;
      if ((st === SLOT_WRITING || unpublished) && Atomics.compareExchange(i32, m, st, SLOT_FREE) === st) {
        slots++;
        this.bumpAndWake(hdrWord(ch, CH.releaseSeq), hdrWord(ch, CH.releaseWaiters));
      }
    }
    Atomics.store(u32, role, 0);
    Atomics.add(u32, hdrWord(ch, CH.deadWriters), 1);
    Atomics.add(u32, hdrWord(ch, CH.reclaimedSlots), slots);
    n.writers++;
    n.slots += slots;
  }

  /** Reclaims everything dead processes hold on one channel. */
  reclaimDead(ch: ChannelPlacement, n: ReclaimCounts): void {
    for (let r = 0; r < MAX_READERS; r++) {
      const pid = Atomics.load(this.u32, entryWord(ch, r) + RD.pid / 4);
      if (pid !== 0 && pid !== READER_RECLAIMING && !pidAlive(pid)) this.reclaimReaderEntry(ch, r, pid, n);
    }
    const w = Atomics.load(this.u32, hdrWord(ch, CH.writerPid));
    if (w !== 0 && w !== READER_RECLAIMING && !pidAlive(w)) this.reclaimWriter(ch, w, n);
  }
}
