import {
  CH,
  MAX_READERS,
  META,
  RD,
  READER_RECLAIMING,
  SEG,
  SEG_FLAG_SHM,
  SLOT_FREE,
  checkGeometry,
  initSegment,
  placeChannels,
  readSegment,
  LAYOUT_VERSION,
  type AccessPattern,
  type ChannelGeometry,
  type ChannelPlacement,
} from './layout.js';
import { nativeAddon, nativeLoadError, type PoolAddon } from './native-addon.js';
import { SegmentWords, entryWord, hdrWord, metaWord, pidAlive, type ReclaimCounts } from './segment.js';
import { SlotViews } from './slot-views.js';
import { JsChannelReader, JsChannelWriter } from './js-ring.js';
import { NativeChannelReader, NativeChannelWriter } from './native-ring.js';
import type { ChannelReader, ChannelWriter } from './channel.js';

export { emptyDescriptor, type Descriptor } from './descriptor.js';
export type { ChannelReader, ChannelWriter } from './channel.js';
export type { ReclaimCounts } from './segment.js';
export { ReaderEvictedError, TooLargeError } from './errors.js';

/** Which ring drives the protocol: the C of smi_pool.h through the addon, or Atomics in JS. */
export type PoolImplementation = 'native' | 'js';

/** Counters and occupancy of one channel (see native/LAYOUT.md for each counter). */
export interface ChannelStats {
  commits: number;
  slotsInUse: number;
  droppedFull: number;
  /** Unread commits a full drop-oldest channel freed for its sequential readers. */
  droppedOldest: number;
  overwritten: number;
  tornRetries: number;
  reclaimedSlots: number;
  reclaimedReaders: number;
  tooLarge: number;
  backpressure: number;
  deadWriters: number;
  writerPid: number;
}

export interface AttachOptions {
  /** Ring to drive; default: native for a shared-memory segment when the addon loads, else js. */
  implementation?: PoolImplementation;
}

export interface OpenNativeOptions extends AttachOptions {
  /** Geometry the caller expects; a segment of another shape is an error naming both. */
  expect?: readonly ChannelGeometry[];
}

const MAX_SEGMENT_BYTES = 0xffff_ffff;

function checkSize(totalBytes: number, where: string): void {
  if (totalBytes > MAX_SEGMENT_BYTES) {
    throw new RangeError(
      `${where}: ${totalBytes} bytes exceed the 4 GiB a layout-v${LAYOUT_VERSION} segment can address`,
    );
  }
}

/**
 * A pool of fixed-size slots per channel with a descriptor ring per channel, in one
 * SharedArrayBuffer: in-process (`create`), or a POSIX shared-memory segment that other
 * processes and C drivers open by name (`createNative`/`openNative`). Payloads are written once
 * into a slot and read in place by every stage after ingest, including worker threads the buffer
 * is posted to (`attach`).
 */
export class SlotPool {
  readonly sab: SharedArrayBuffer;
  readonly channels: readonly ChannelPlacement[];
  readonly implementation: PoolImplementation;
  /** The buffer is a shared-memory segment (other processes may map it). */
  readonly shm: boolean;
  /** The shm name, when the pool is a shared-memory segment opened or created by name. */
  readonly segment: string | undefined;
  /**
   * Set by createNative when it found a segment of this name left by a dead process (the pid that
   * created it) and replaced it with a fresh, zeroed one: nothing of the old one is reused.
   */
  replacedStaleOf: number | undefined;
  private readonly words: SegmentWords;
  private readonly addon: PoolAddon | undefined;
  private readonly views: (SlotViews | undefined)[];
  private readonly defaultReader: Int32Array;
  private readonly leases = new Map<number, { progress: number; sinceMs: number }>();
  private ownsSegment: boolean;

  private constructor(
    sab: SharedArrayBuffer,
    channels: ChannelPlacement[],
    implementation: PoolImplementation,
    segment: string | undefined,
    ownsSegment: boolean,
  ) {
    this.sab = sab;
    this.channels = channels;
    this.shm = (new DataView(sab).getUint32(SEG.flags, true) & SEG_FLAG_SHM) !== 0;
    this.addon = this.shm || implementation === 'native' ? nativeAddon() : undefined;
    if (implementation === 'native' && !this.shm) {
      throw new Error('pool: the native ring runs on shared-memory segments only (createNative/openNative)');
    }
    if ((this.shm || implementation === 'native') && !this.addon) {
      throw new Error(
        `pool: this segment needs the native addon, which is unavailable: ${nativeLoadError()}`,
      );
    }
    this.implementation = implementation;
    this.segment = segment;
    this.ownsSegment = ownsSegment;
    this.words = new SegmentWords(sab, this.shm, this.addon);
    this.views = channels.map(() => undefined);
    this.defaultReader = new Int32Array(channels.length).fill(-1);
  }

  /** Creates a pool for `channels` in a new in-process SharedArrayBuffer (pure-JS ring). */
  static create(channels: readonly ChannelGeometry[]): SlotPool {
    checkGeometry(channels);
    const { placements, totalBytes } = placeChannels(channels);
    checkSize(totalBytes, 'pool');
    const sab = new SharedArrayBuffer(totalBytes);
    initSegment(sab, channels, placements, totalBytes, 0, process.pid);
    return new SlotPool(sab, placements, 'js', undefined, false);
  }

  /**
   * Creates a POSIX shared-memory segment `segment` (e.g. '/smi-fusion-onboard', mode 0600) for
   * `channels`. A segment of that name left by a dead process is replaced; one whose creator is
   * alive is an error naming it. Needs the native addon.
   */
  static createNative(
    segment: string,
    channels: readonly ChannelGeometry[],
    options: AttachOptions = {},
  ): SlotPool {
    const addon = requireAddon(segment);
    checkGeometry(channels);
    const { placements, totalBytes } = placeChannels(channels);
    checkSize(totalBytes, `pool segment '${segment}'`);
    let sab: SharedArrayBuffer;
    let stale: number | undefined;
    try {
      sab = addon.createSegment(segment, totalBytes);
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
      const creator = creatorOf(addon, segment);
      if (creator !== 0 && creator !== process.pid && pidAlive(creator)) {
        throw new Error(
          `pool segment '${segment}': already exists and its creator (pid ${creator}) is alive`,
        );
      }
      // Left by a process that is gone (or by this one): replace it. Mappings of the old one stay valid.
      addon.unlinkSegment(segment);
      sab = addon.createSegment(segment, totalBytes);
      stale = creator;
    }
    initSegment(sab, channels, placements, totalBytes, SEG_FLAG_SHM, process.pid);
    const pool = new SlotPool(sab, placements, options.implementation ?? 'native', segment, true);
    pool.replacedStaleOf = stale;
    return pool;
  }

  /** Opens an existing shared-memory segment by name, checking layout version and size. */
  static openNative(segment: string, options: OpenNativeOptions = {}): SlotPool {
    const addon = requireAddon(segment);
    const sab = addon.openSegment(segment);
    const channels = readSegment(sab, `'${segment}'`);
    if (options.expect) checkShape(segment, channels, options.expect);
    return new SlotPool(sab, channels, options.implementation ?? 'native', segment, false);
  }

  /** Opens a pool from its buffer (e.g. in a worker the buffer was posted to), checking the layout. */
  static attach(sab: SharedArrayBuffer, options: AttachOptions = {}): SlotPool {
    const channels = readSegment(sab, '(attached buffer)');
    const shm = (new DataView(sab).getUint32(SEG.flags, true) & SEG_FLAG_SHM) !== 0;
    const implementation = options.implementation ?? (shm ? 'native' : 'js');
    return new SlotPool(sab, channels, implementation, undefined, false);
  }

  /** One line for logs: which ring runs over what memory. */
  describe(): string {
    const ring = this.implementation === 'native' ? 'native-ring (C, smi_pool.h)' : 'js-ring (Atomics)';
    return this.shm
      ? `${ring} over shared memory ${this.segment ?? ''}`.trim()
      : `${ring} over an in-process SharedArrayBuffer`;
  }

  channelIndex(name: string): number {
    return this.channels.findIndex((c) => c.name === name);
  }

  /** Byte offset of a slot's payload in the segment. */
  slotOffset(channel: number, slot: number): number {
    const ch = this.channels[channel]!;
    return ch.dataOffset + slot * ch.slotBytes;
  }

  /** Slots not free (being written, or held by readers). */
  slotsInUse(channel: number): number {
    const ch = this.channels[channel]!;
    let used = 0;
    for (let s = 0; s < ch.slotCount; s++) {
      if (Atomics.load(this.words.i32, metaWord(ch, s) + META.state / 4) !== SLOT_FREE) used++;
    }
    return used;
  }

  /** Loans refused because the channel had no free slot. */
  droppedFull(channel: number): number {
    return this.counter(channel, CH.droppedFull);
  }

  /** Unread commits a full drop-oldest channel gave up for newer ones (wraps at 2^32). */
  droppedOldest(channel: number): number {
    return this.counter(channel, CH.droppedOldest);
  }

  /** Descriptors published so far on a channel (wraps at 2^32). */
  commitCount(channel: number): number {
    return this.counter(channel, CH.commitSeq);
  }

  /**
   * Resolves when the channel's commit count is no longer `seen` (true) or after `timeoutMs`
   * (false), without blocking: a futex wait off the main thread for a shared-memory segment (so a
   * C driver's commit wakes it), Atomics.waitAsync otherwise.
   */
  waitCommit(channel: number, seen: number, timeoutMs: number): Promise<boolean> {
    const ch = this.placement(channel);
    return this.words.waitWordAsync(
      hdrWord(ch, CH.commitSeq),
      hdrWord(ch, CH.commitWaiters),
      seen,
      timeoutMs,
    );
  }

  stats(channel: number): ChannelStats {
    return {
      commits: this.counter(channel, CH.commitSeq),
      slotsInUse: this.slotsInUse(channel),
      droppedFull: this.counter(channel, CH.droppedFull),
      droppedOldest: this.counter(channel, CH.droppedOldest),
      overwritten: this.counter(channel, CH.overwritten),
      tornRetries: this.counter(channel, CH.tornRetries),
      reclaimedSlots: this.counter(channel, CH.reclaimedSlots),
      reclaimedReaders: this.counter(channel, CH.reclaimedReaders),
      tooLarge: this.counter(channel, CH.tooLarge),
      backpressure: this.counter(channel, CH.backpressure),
      deadWriters: this.counter(channel, CH.deadWriters),
      writerPid: this.counter(channel, CH.writerPid),
    };
  }

  private counter(channel: number, field: number): number {
    return Atomics.load(this.words.u32, hdrWord(this.channels[channel]!, field));
  }

  private slotViews(channel: number): SlotViews {
    return (this.views[channel] ??= new SlotViews(this.sab, this.channels[channel]!));
  }

  private placement(channel: number): ChannelPlacement {
    const ch = this.channels[channel];
    if (!ch) throw new RangeError(`pool: no channel ${channel} (the pool has ${this.channels.length})`);
    return ch;
  }

  /** Takes the channel's writer role for this process (a live writer elsewhere is an error). */
  writer(channel: number, producerId = 0): ChannelWriter {
    const ch = this.placement(channel);
    return this.implementation === 'native'
      ? new NativeChannelWriter(this.addon!, this.sab, ch, producerId, this.slotViews(channel))
      : new JsChannelWriter(this.words, ch, producerId, this.slotViews(channel));
  }

  /**
   * Opens a reader: binds an entry reserved at creation (of `access`, or any), else claims a free
   * one (`access`, default sequential). The first reader opened here is the one `release(channel,
   * slot)` acts for when no entry is named. With `entry`, binds only that entry, which must have
   * been handed over (handOverReader), and resumes at its cursor.
   */
  reader(channel: number, access?: AccessPattern, entry?: number): ChannelReader {
    const ch = this.placement(channel);
    const r =
      this.implementation === 'native'
        ? new NativeChannelReader(this.addon!, this.words, ch, access, entry)
        : new JsChannelReader(this.words, ch, access, entry);
    if (this.defaultReader[channel] === -1) this.defaultReader[channel] = r.entry;
    return r;
  }

  /**
   * After the thread holding reader `entry` of `channel` died (in this process): releases what it
   * had taken, keeps what it had not read, and lets `reader(channel, access, entry)` bind the entry
   * again at its cursor. Returns the slots released; throws when the entry is not bound here.
   */
  handOverReader(channel: number, entry: number): number {
    const ch = this.placement(channel);
    const released = this.words.handOverEntry(ch, entry, process.pid);
    if (released < 0) {
      throw new Error(`pool channel '${ch.name}': reader entry ${entry} is not bound by this process`);
    }
    return released;
  }

  /**
   * Frees reader entry `entry` of `channel` after the thread holding it died and is not replaced:
   * every slot it held is released. Returns how many; throws when the entry is not bound here.
   */
  closeReaderOf(channel: number, entry: number): number {
    const ch = this.placement(channel);
    const released = this.words.freeReaderEntry(ch, entry, process.pid);
    if (released < 0) {
      throw new Error(`pool channel '${ch.name}': reader entry ${entry} is not bound by this process`);
    }
    return released;
  }

  /**
   * Takes the writer role of `channel` back from a thread of this process that died (its only
   * writer): the slots it had loaned, or committed without publishing, return to the free list.
   * Returns how many.
   */
  reclaimWriterOf(channel: number): number {
    const n: ReclaimCounts = { readers: 0, slots: 0, writers: 0 };
    this.words.reclaimWriter(this.placement(channel), process.pid, n);
    return n.slots;
  }

  /**
   * Drops one reader's reference to a slot; the last release returns it to the free list. `entry`
   * defaults to the first reader opened on the channel through this pool (entry 0 if none).
   */
  release(channel: number, slot: number, entry = this.defaultReader[channel]!): void {
    const ch = this.placement(channel);
    const e = entry < 0 ? 0 : entry;
    if (!this.words.releaseEntry(ch, e, slot)) {
      throw new Error(
        `pool channel '${ch.name}': slot ${slot} released more often than it was referenced (reader ${e})`,
      );
    }
  }

  /**
   * Takes back what dead processes hold (reader entries, their slot references, a dead writer's
   * unpublished slots) and, with `leaseMs`, evicts readers that held slots without any progress
   * for that long. Everything taken back is counted in the channel headers.
   */
  reclaim(options: { leaseMs?: number } = {}): ReclaimCounts {
    const total: ReclaimCounts = { readers: 0, slots: 0, writers: 0 };
    for (const ch of this.channels) {
      if (this.implementation === 'native') {
        const n = this.addon!.reclaimDead(this.sab, ch.index);
        total.readers += n.readers;
        total.slots += n.slots;
        total.writers += n.writers;
      } else {
        this.words.reclaimDead(ch, total);
      }
      if (options.leaseMs !== undefined) this.expireLeases(ch, options.leaseMs, total);
    }
    return total;
  }

  private expireLeases(ch: ChannelPlacement, leaseMs: number, total: ReclaimCounts): void {
    const { i32, u32 } = this.words;
    const now = performance.now();
    for (let r = 0; r < MAX_READERS; r++) {
      const key = ch.index * MAX_READERS + r;
      const e = entryWord(ch, r);
      const pid = Atomics.load(u32, e + RD.pid / 4);
      let holds = false;
      for (let s = 0; s < ch.slotCount && !holds; s++) {
        const st = Atomics.load(i32, metaWord(ch, s));
        holds = st > 0 && (st & (1 << r)) !== 0;
      }
      if (pid === 0 || pid === READER_RECLAIMING || !holds) {
        this.leases.delete(key);
        continue;
      }
      const progress = Atomics.load(u32, e + RD.progress / 4);
      const seen = this.leases.get(key);
      if (!seen || seen.progress !== progress) {
        this.leases.set(key, { progress, sinceMs: now });
      } else if (now - seen.sinceMs >= leaseMs) {
        this.words.reclaimReaderEntry(ch, r, pid, total);
        this.leases.delete(key);
      }
    }
  }

  /** Unlinks the shared-memory name if this pool created it; mappings stay valid until dropped. */
  close(): void {
    if (this.ownsSegment && this.segment && this.addon) this.addon.unlinkSegment(this.segment);
    this.ownsSegment = false;
  }

  /** @internal */ get segmentWords(): SegmentWords {
    return this.words;
  }
}

function requireAddon(segment: string): PoolAddon {
  const addon = nativeAddon();
  if (!addon) throw new Error(`pool segment '${segment}': native addon unavailable: ${nativeLoadError()}`);
  return addon;
}

/** Pid that created an existing segment, 0 if unreadable. */
function creatorOf(addon: PoolAddon, segment: string): number {
  try {
    const old = addon.openSegment(segment);
    return old.byteLength >= 32 ? new DataView(old).getUint32(SEG.creatorPid, true) : 0;
  } catch {
    return 0;
  }
}

function checkShape(
  segment: string,
  found: readonly ChannelPlacement[],
  expect: readonly ChannelGeometry[],
): void {
  const want = placeChannels(expect).placements;
  const fmt = (chs: readonly { name: string; slotCount: number; slotBytes: number }[]): string =>
    chs.map((c) => `${c.name}:${c.slotCount}x${c.slotBytes}`).join(', ');
  const same =
    want.length === found.length &&
    want.every(
      (w, i) =>
        w.name === found[i]!.name &&
        w.slotCount === found[i]!.slotCount &&
        w.slotBytes === found[i]!.slotBytes,
    );
  if (!same) {
    throw new Error(`pool segment '${segment}': holds channels [${fmt(found)}], expected [${fmt(want)}]`);
  }
}
