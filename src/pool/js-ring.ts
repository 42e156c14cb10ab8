/**
 * The pure-JS ring: the protocol of native/LAYOUT.md driven with Atomics. It runs on any
 * SharedArrayBuffer (in-process, or a shared-memory segment mapped by the addon) and
 * interoperates with the C ring of native/include/smi_pool.h word for word.
 */
import {
  ACCESS_LATEST,
  ACCESS_SEQUENTIAL,
  CH,
  FULL_DROP_OLDEST,
  MAX_READERS,
  META,
  RD,
  READER_RECLAIMING,
  RING,
  RING_ENTRY_BYTES,
  SLOT_FREE,
  SLOT_WRITING,
  type AccessPattern,
  type ChannelPlacement,
} from './layout.js';
import { fillDescriptor, type Descriptor } from './descriptor.js';
import { entryWord, hdrWord, metaWord, type ReclaimCounts, type SegmentWords } from './segment.js';
import type { ChannelReader, ChannelWriter } from './channel.js';
import { SlotViewWriter, type SlotViews } from './slot-views.js';
import { ReaderEvictedError, TooLargeError } from './errors.js';

const noCounts = (): ReclaimCounts => ({ readers: 0, slots: 0, writers: 0 });

/** Claims the channel's writer role for this process (shared by both rings' JS-side checks). */
export function claimWriterRole(words: SegmentWords, ch: ChannelPlacement, pid: number): void {
  const role = hdrWord(ch, CH.writerPid);
  for (let tries = 0; tries < 1000; tries++) {
    const cur = Atomics.load(words.u32, role);
    if (cur === pid) return;
    if (cur === 0) {
      if (Atomics.compareExchange(words.u32, role, 0, pid) === 0) {
        Atomics.add(words.u32, hdrWord(ch, CH.writerEpoch), 1);
        return;
      }
      continue;
    }
    if (cur !== READER_RECLAIMING) {
      const n = noCounts();
      words.reclaimDead(ch, n);
      if (n.writers === 0 && Atomics.load(words.u32, role) === cur) {
        throw new Error(`pool channel '${ch.name}': already has a writer (pid ${cur})`);
      }
    }
  }
  throw new Error(`pool channel '${ch.name}': writer role stuck in reclaim`);
}

/**
 * The drop-oldest policy's step (LAYOUT.md, "Full channel"): the sequential readers furthest
 * behind skip their oldest unread commit. The writer moves each such reader's cursor past it with
 * a CAS, so a reader taking that commit at the same moment keeps it (its own CAS wins), and only
 * then drops the reader's reference. Returns 1 when a reader skipped, 0 when every reader took that
 * commit first (worth another round), -1 when nothing is unread.
 */
export function dropOldestUnread(words: SegmentWords, ch: ChannelPlacement): number {
  const { i32, u32 } = words;
  const head = Atomics.load(u32, hdrWord(ch, CH.commitSeq));
  const mask = Atomics.load(i32, hdrWord(ch, CH.seqReaderMask));
  let behind = 0;
  let oldest = head;
  for (let r = 0; r < MAX_READERS; r++) {
    if ((mask & (1 << r)) === 0) continue;
    const cur = Atomics.load(u32, entryWord(ch, r) + RD.cursor / 4);
    const d = (head - cur) >>> 0;
    if (d > behind && d <= ch.ringSize) {
      behind = d;
      oldest = cur;
    }
  }
  if (behind === 0) return -1;
  const e = (ch.ringOffset + (oldest & (ch.ringSize - 1)) * RING_ENTRY_BYTES) >> 2;
  const known = Atomics.load(u32, e + RING.commitIndex / 4) === oldest;
  const slot = known ? Atomics.load(u32, e + RING.slot / 4) : -1;
  let skipped = 0;
  for (let r = 0; r < MAX_READERS; r++) {
    const bit = 1 << r;
    if ((mask & bit) === 0) continue;
    const cursor = entryWord(ch, r) + RD.cursor / 4;
    if (Atomics.compareExchange(u32, cursor, oldest, (oldest + 1) >>> 0) !== oldest) continue;
    skipped++;
    if (slot < 0 || slot >= ch.slotCount) continue;
    const m = metaWord(ch, slot);
    const st = Atomics.load(i32, m);
    // The reference is the reader's until its cursor moved; now it is ours to drop.
    if (st !== SLOT_WRITING && st & bit && Atomics.load(u32, m + META.commitIndex / 4) === oldest) {
      words.releaseEntry(ch, r, slot);
    }
  }
  if (skipped > 0) Atomics.add(u32, hdrWord(ch, CH.droppedOldest), 1);
  return skipped > 0 ? 1 : 0;
}

/** The single producer side of one channel: loan a slot, write in place, commit or abandon. */
export class JsChannelWriter extends SlotViewWriter implements ChannelWriter {
  private readonly i32: Int32Array;
  private readonly u32: Uint32Array;
  private readonly pid = process.pid;
  private readonly commitWord: number;
  private readonly releaseWord: number;
  private readonly maskWord: number;
  private nextProbe = 0;

  constructor(
    private readonly words: SegmentWords,
    channel: ChannelPlacement,
    producerId: number,
    views: SlotViews,
  ) {
    super(channel, producerId, views);
    this.i32 = words.i32;
    this.u32 = words.u32;
    this.commitWord = hdrWord(channel, CH.commitSeq);
    this.releaseWord = hdrWord(channel, CH.releaseSeq);
    this.maskWord = hdrWord(channel, CH.seqReaderMask);
    claimWriterRole(words, channel, this.pid);
  }

  /** One pass, oldest first: the newest committed slot is tried last, for `latest` readers. */
  private tryLoan(): number {
    const n = this.channel.slotCount;
    for (let i = 0; i < n; i++) {
      const s = (this.nextProbe + i) % n;
      const m = metaWord(this.channel, s);
      if (Atomics.compareExchange(this.i32, m, SLOT_FREE, SLOT_WRITING) === SLOT_FREE) {
        Atomics.store(this.u32, m + META.ownerPid / 4, this.pid);
        this.nextProbe = (s + 1) % n;
        return s;
      }
    }
    return -1;
  }

  /** A free slot, freeing one where the channel allows (dead holders, then drop-oldest); uncounted. */
  private loanFreeing(): number {
    let s = this.tryLoan();
    if (s >= 0) return s;
    this.words.reclaimDead(this.channel, noCounts()); // a full channel may be held by a dead process
    s = this.tryLoan();
    if (s >= 0 || Atomics.load(this.u32, hdrWord(this.channel, CH.fullPolicy)) !== FULL_DROP_OLDEST) return s;
    // Each round frees at most one unread commit (a reader consuming meanwhile may take it first:
    // another round); a slot a reader has taken stays held. When nothing is left to drop, readers
    // may still have released meanwhile: one last try.
    for (let round = 0; round < 4 * this.channel.slotCount + 4 && s < 0; round++) {
      const dropped = dropOldestUnread(this.words, this.channel);
      s = this.tryLoan();
      if (dropped < 0) break;
    }
    return s;
  }

  loan(): number {
    const s = this.loanFreeing();
    if (s < 0) Atomics.add(this.u32, hdrWord(this.channel, CH.droppedFull), 1);
    return s;
  }

  loanWait(timeoutMs: number): number {
    const deadline = performance.now() + Math.max(0, timeoutMs);
    let waited = false;
    for (;;) {
      const seen = Atomics.load(this.u32, this.releaseWord);
      const s = waited ? this.tryLoan() : this.loanFreeing();
      if (s >= 0) return s;
      if (!waited) {
        waited = true;
        Atomics.add(this.u32, hdrWord(this.channel, CH.backpressure), 1);
        continue;
      }
      const left = deadline - performance.now();
      if (left <= 0) break;
      this.words.waitWord(this.releaseWord, hdrWord(this.channel, CH.releaseWaiters), seen, left);
    }
    Atomics.add(this.u32, hdrWord(this.channel, CH.droppedFull), 1);
    return -1;
  }

  commit(slot: number, length: number, seq: number, stampNs: bigint, commitNs: bigint): void {
    const ch = this.channel;
    const { i32, u32 } = this;
    if (length > ch.slotBytes || length < 0) {
      Atomics.add(u32, hdrWord(ch, CH.tooLarge), 1);
      this.abandon(slot);
      throw new TooLargeError(ch.name, length, ch.slotBytes);
    }
    const m = metaWord(ch, slot);
    const commit = Atomics.load(u32, this.commitWord);
    u32[m + META.length / 4] = length;
    u32[m + META.seq / 4] = seq >>> 0;
    u32[m + META.producerId / 4] = this.producerId;
    u32[m + META.stampLo / 4] = Number(BigInt.asUintN(32, stampNs));
    u32[m + META.stampHi / 4] = Number(BigInt.asUintN(32, stampNs >> 32n));
    u32[m + META.commitLo / 4] = Number(BigInt.asUintN(32, commitNs));
    u32[m + META.commitHi / 4] = Number(BigInt.asUintN(32, commitNs >> 32n));
    // Atomic stores from here on order the plain stores above before them.
    Atomics.store(u32, m + META.commitIndex / 4, commit);
    const e = (ch.ringOffset + (commit & (ch.ringSize - 1)) * RING_ENTRY_BYTES) >> 2;
    Atomics.store(u32, e + RING.slot / 4, slot);
    Atomics.store(u32, e + RING.commitIndex / 4, commit);
    const mask = Atomics.load(i32, this.maskWord);
    Atomics.store(i32, m, mask);
    // A reader reclaimed meanwhile may have left the mask after our load: drop its bit here.
    const stale = mask & ~Atomics.load(i32, this.maskWord);
    if (stale) Atomics.and(i32, m, ~stale);
    this.words.bumpAndWake(this.commitWord, hdrWord(ch, CH.commitWaiters));
  }

  abandon(slot: number): void {
    Atomics.store(this.i32, metaWord(this.channel, slot), SLOT_FREE);
    this.words.bumpAndWake(this.releaseWord, hdrWord(this.channel, CH.releaseWaiters));
  }

  close(): void {
    Atomics.compareExchange(this.u32, hdrWord(this.channel, CH.writerPid), this.pid, 0);
  }
}

/**
 * Binds a reader entry reserved at creation (of `access`, or any when undefined), else claims a
 * free one. With `only`, binds that reserved entry or throws (a reader handed over after its
 * thread died, SegmentWords.handOverEntry). Returns the entry index, its mode, epoch and cursor.
 */
export function claimReaderEntry(
  words: SegmentWords,
  ch: ChannelPlacement,
  access: AccessPattern | undefined,
  pid: number,
  only?: number,
): { entry: number; mode: number; epoch: number; cursor: number } {
  const { i32, u32 } = words;
  const want = access === undefined ? 0 : access === 'latest' ? ACCESS_LATEST : ACCESS_SEQUENTIAL;
  for (let r = 0; r < MAX_READERS; r++) {
    if (only !== undefined && r !== only) continue;
    const e = entryWord(ch, r);
    const owner = Atomics.load(u32, e + RD.pid / 4);
    const mode = Atomics.load(u32, e + RD.mode / 4);
    if (owner === 0 || owner === READER_RECLAIMING || (want !== 0 && mode !== want)) continue;
    if (Atomics.compareExchange(u32, e + RD.bound / 4, 0, 1) !== 0) continue;
    Atomics.store(u32, e + RD.pid / 4, pid); // its death now means this process's death
    return {
      entry: r,
      mode,
      epoch: Atomics.load(u32, e + RD.epoch / 4),
      cursor: Atomics.load(u32, e + RD.cursor / 4),
    };
  }
  if (only !== undefined) {
    throw new Error(
      `pool channel '${ch.name}': reader entry ${only} is not reserved and unbound (not handed over)`,
    );
  }
  const mode = want === 0 ? ACCESS_SEQUENTIAL : want;
  for (let r = 0; r < MAX_READERS; r++) {
    const e = entryWord(ch, r);
    if (Atomics.compareExchange(u32, e + RD.pid / 4, 0, pid) !== 0) continue;
    const bit = 1 << r;
    Atomics.store(u32, e + RD.mode / 4, mode);
    Atomics.store(u32, e + RD.bound / 4, 1);
    const epoch = Atomics.add(u32, e + RD.epoch / 4, 1) + 1;
    if (mode === ACCESS_SEQUENTIAL) Atomics.or(i32, hdrWord(ch, CH.seqReaderMask), bit);
    const cursor = Atomics.load(u32, hdrWord(ch, CH.commitSeq));
    Atomics.store(u32, e + RD.cursor / 4, cursor);
    // A commit before `cursor` can still carry this bit from a reclaimed predecessor: drop it.
    for (let s = 0; s < ch.slotCount; s++) {
      const m = metaWord(ch, s);
      const st = Atomics.load(i32, m);
      if (
        st !== SLOT_WRITING &&
        st & bit &&
        ((cursor - Atomics.load(u32, m + META.commitIndex / 4)) | 0) > 0
      ) {
        words.releaseEntry(ch, r, s);
      }
    }
    return { entry: r, mode, epoch: epoch >>> 0, cursor };
  }
  throw new Error(`pool channel '${ch.name}': no free reader entry (at most ${MAX_READERS})`);
}

/** One reader entry of a channel, driven with Atomics. */
export class JsChannelReader implements ChannelReader {
  private readonly i32: Int32Array;
  private readonly u32: Uint32Array;
  private readonly commitWord: number;
  private readonly entryBase: number;
  private readonly bit: number;
  private readonly mode: number;
  private readonly epoch: number;
  /** The entry's cursor word: shared, because a drop-oldest writer may move it (with a CAS). */
  private readonly cursorWord: number;
  private closed = false;
  readonly entry: number;
  readonly access: AccessPattern;
  /** Descriptors skipped: superseded by `latest()` or gone before this reader took them. */
  skipped = 0;
  /** Reads that found their slot being rewritten and tried again. */
  tornRetries = 0;

  constructor(
    private readonly words: SegmentWords,
    readonly channel: ChannelPlacement,
    access?: AccessPattern,
    only?: number,
  ) {
    this.i32 = words.i32;
    this.u32 = words.u32;
    const claim = claimReaderEntry(words, channel, access, process.pid, only);
    this.entry = claim.entry;
    this.mode = claim.mode;
    this.epoch = claim.epoch;
    this.access = claim.mode === ACCESS_LATEST ? 'latest' : 'sequential';
    this.bit = 1 << claim.entry;
    this.commitWord = hdrWord(channel, CH.commitSeq);
    this.entryBase = entryWord(channel, claim.entry);
    this.cursorWord = this.entryBase + RD.cursor / 4;
  }

  private get cursor(): number {
    return Atomics.load(this.u32, this.cursorWord);
  }

  backlog(): number {
    return (Atomics.load(this.u32, this.commitWord) - this.cursor) >>> 0;
  }

  private checkEpoch(): void {
    if (Atomics.load(this.u32, this.entryBase + RD.epoch / 4) !== this.epoch) {
      throw new ReaderEvictedError(this.channel.name, this.entry);
    }
  }

  /** Moves the cursor from `from` to `to`; false when a drop-oldest writer moved it first. */
  private advance(from: number, to: number): boolean {
    if (Atomics.compareExchange(this.u32, this.cursorWord, from, to >>> 0) !== from) return false;
    Atomics.add(this.u32, this.entryBase + RD.progress / 4, 1);
    return true;
  }

  private count(field: number, n: number): void {
    Atomics.add(this.u32, hdrWord(this.channel, field), n);
  }

  /**
   * Holds commit `commit` for this reader: its slot, or -1 when the commit is gone (overwritten,
   * or not referenced for this reader); -2 when the slot was being rewritten (torn, retry newer).
   * A latest reader sets its bit with a CAS, never over WRITING, then checks the slot still holds
   * this commit; if the writer reused it in between, the reference is dropped.
   */
  private take(commit: number): number {
    const ch = this.channel;
    const { i32, u32 } = this;
    const e = (ch.ringOffset + (commit & (ch.ringSize - 1)) * RING_ENTRY_BYTES) >> 2;
    if (Atomics.load(u32, e + RING.commitIndex / 4) !== commit) return -1;
    const slot = Atomics.load(u32, e + RING.slot / 4);
    if (slot >= ch.slotCount) return -1;
    const m = metaWord(ch, slot);
    const bit = this.bit;
    let st = Atomics.load(i32, m);
    if (st !== SLOT_WRITING && st & bit) {
      return Atomics.load(u32, m + META.commitIndex / 4) === commit ? slot : -1;
    }
    if (this.mode !== ACCESS_LATEST) return -1;
    for (;;) {
      if (st === SLOT_WRITING) return -2;
      const seen = Atomics.compareExchange(i32, m, st, st | bit);
      if (seen === st) break;
      st = seen;
    }
    if (Atomics.load(u32, m + META.commitIndex / 4) === commit) return slot;
    this.words.releaseEntry(ch, this.entry, slot);
    return -2;
  }

  next(out: Descriptor): boolean {
    if (this.closed) return false;
    this.checkEpoch();
    for (;;) {
      const c = this.cursor;
      if (Atomics.load(this.u32, this.commitWord) === c) return false;
      const s = this.take(c);
      // Lost the race to a drop-oldest writer: commit c (and our reference to it) is gone.
      if (!this.advance(c, c + 1)) continue;
      if (s >= 0) {
        fillDescriptor(this.u32, metaWord(this.channel, s), this.channel.index, s, out);
        return true;
      }
      this.skipped++;
      this.count(CH.overwritten, 1);
      if (s === -2) {
        this.tornRetries++;
        this.count(CH.tornRetries, 1);
      }
    }
  }

  latest(out: Descriptor): boolean {
    if (this.closed) return false;
    this.checkEpoch();
    if (this.mode !== ACCESS_LATEST) {
      // A sequential reader skipping ahead releases what it skips.
      while (this.backlog() > 1) {
        if (!this.next(out)) break;
        this.words.releaseEntry(this.channel, this.entry, out.slot);
        this.skipped++;
        this.count(CH.overwritten, 1);
      }
      return this.next(out);
    }
    for (let tries = 0; tries < 64; tries++) {
      const head = Atomics.load(this.u32, this.commitWord);
      const cursor = this.cursor;
      if (head === cursor) return false;
      const newest = (head - 1) >>> 0;
      const s = this.take(newest);
      if (s >= 0) {
        const skipped = (newest - cursor) >>> 0;
        if (skipped) {
          this.skipped += skipped;
          this.count(CH.overwritten, skipped);
        }
        // Only this reader moves a latest reader's cursor (writers skip for sequential ones).
        this.advance(cursor, newest + 1);
        fillDescriptor(this.u32, metaWord(this.channel, s), this.channel.index, s, out);
        return true;
      }
      this.tornRetries++;
      this.count(CH.tornRetries, 1);
      // The newest is gone and nothing newer is published yet.
      if (s === -1 && Atomics.load(this.u32, this.commitWord) === head) return false;
    }
    return false;
  }

  release(slot: number): void {
    if (!this.words.releaseEntry(this.channel, this.entry, slot)) {
      throw new Error(
        `pool channel '${this.channel.name}': slot ${slot} released by reader ${this.entry}, which does not hold it`,
      );
    }
  }

  wait(timeoutMs: number): boolean {
    if (this.backlog() > 0) return true;
    this.words.waitWord(this.commitWord, hdrWord(this.channel, CH.commitWaiters), this.cursor, timeoutMs);
    return this.backlog() > 0;
  }

  async waitAsync(timeoutMs: number): Promise<boolean> {
    if (this.backlog() > 0) return true;
    await this.words.waitWordAsync(
      this.commitWord,
      hdrWord(this.channel, CH.commitWaiters),
      this.cursor,
      timeoutMs,
    );
    return this.backlog() > 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (Atomics.load(this.u32, this.entryBase + RD.epoch / 4) === this.epoch) {
      this.words.freeReaderEntry(this.channel, this.entry, process.pid);
    }
  }
}
