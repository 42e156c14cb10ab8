/**
 * Byte layout of a pool segment, version 3. native/LAYOUT.md says what every byte means and
 * how the ring protocol uses it; native/include/smi_pool.h is the same layout for C. Every
 * offset is from the start of the segment, every value is little-endian, and every region starts
 * on a 64-byte boundary so that hot words of different channels never share a cache line.
 *
 * segment header (128 B) | channel headers (256 B each) |
 *   per channel: slot metas (64 B each) | reader table (64 B each) | descriptor ring (8 B each) | slot data
 */

export const POOL_MAGIC = 0x504d4953; // the bytes 'SIMP' in memory (little-endian)
export const LAYOUT_VERSION = 3;
export const ALIGN = 64;

export const SEGMENT_HEADER_BYTES = 128;
export const SEG = {
  magic: 0, // u32
  version: 4, // u32
  channelCount: 8, // u32
  flags: 12, // u32, SEG_FLAG_*
  totalBytesLo: 16, // u32, total segment bytes (low half)
  totalBytesHi: 20, // u32
  creatorPid: 24, // u32
  ready: 28, // u32, 1 once the creator has written every header (stored last)
  maxReaders: 32, // u32, reader entries per channel (MAX_READERS)
  channelHeaderBytes: 36, // u32
  slotMetaBytes: 40, // u32
  readerEntryBytes: 44, // u32
} as const;
/** The segment lives in POSIX shared memory: waiters sleep on a futex, not in V8. */
export const SEG_FLAG_SHM = 1;

export const CHANNEL_HEADER_BYTES = 256;
export const CH = {
  slotCount: 0, // u32
  slotBytes: 4, // u32, bytes per slot (multiple of ALIGN)
  ringSize: 8, // u32, descriptor entries (power of two, >= slotCount)
  readerCount: 12, // u32, reader entries reserved at creation
  metaOffset: 16, // u32, slot metas
  readerOffset: 20, // u32, reader table
  ringOffset: 24, // u32, descriptor ring
  dataOffset: 28, // u32, slot data
  name: 32, // 64 bytes, UTF-8, NUL padded
  // Counters (i32, wrap): written rarely, read by metrics.
  droppedFull: 96, // loans refused because every slot was busy
  overwritten: 100, // descriptors a reader skipped: superseded (latest) or overwritten before taken
  tornRetries: 104, // latest reads that found their slot being rewritten and tried again
  reclaimedSlots: 108, // slot references / writing slots taken back from dead or evicted parties
  reclaimedReaders: 112, // reader entries freed because their process died or their lease ran out
  tooLarge: 116, // commits refused because the length exceeded the slot
  backpressure: 120, // loans that had to wait for a reader to release a slot
  deadWriters: 124, // writers found dead and replaced
  // Commit line: the futex / Atomics.wait word readers sleep on, and the writer's claim.
  commitSeq: 128, // u32, descriptors published so far (wraps)
  commitWaiters: 132, // i32, threads/processes asleep on commitSeq
  writerPid: 136, // u32, process holding the writer role, 0 = none
  writerEpoch: 140, // u32, bumped at every writer claim
  fullPolicy: 144, // u32, FULL_DROP_NEWEST or FULL_DROP_OLDEST: what a loan does when every slot is busy
  droppedOldest: 148, // u32, unread commits a full channel dropped for its sequential readers (drop-oldest)
  // Release line: writers waiting for a free slot sleep on releaseSeq.
  releaseSeq: 192, // u32, bumped whenever a slot becomes free
  releaseWaiters: 196, // i32
  seqReaderMask: 200, // i32, reader entries a committed slot starts referenced by
} as const;
export const CHANNEL_NAME_BYTES = 64;

export const SLOT_META_BYTES = 64;
export const META = {
  state: 0, // i32, SLOT_FREE, SLOT_WRITING, or a bitmask of the reader entries holding the slot
  commitIndex: 4, // u32, channel commit number the content was published as
  ownerPid: 8, // u32, process that last loaned the slot
  length: 12, // u32, payload bytes
  seq: 16, // u32, producer sequence number (low 32 bits)
  producerId: 20, // u32
  stampLo: 24, // u32, capture stamp, CLOCK_MONOTONIC ns
  stampHi: 28,
  commitLo: 32, // u32, commit time, CLOCK_MONOTONIC ns
  commitHi: 36,
} as const;

export const MAX_READERS = 16;
export const READER_ENTRY_BYTES = 64;
export const RD = {
  pid: 0, // u32, owning process; 0 = free; READER_RECLAIMING while being reclaimed
  mode: 4, // u32, ACCESS_SEQUENTIAL or ACCESS_LATEST
  bound: 8, // u32, 0 = reserved at creation and not yet taken by a reader object
  epoch: 12, // u32, bumped on claim and on reclaim; a reader that sees it change was evicted
  cursor: 16, // u32, next commit this reader takes
  progress: 20, // u32, bumped on every take and release (lease heartbeat)
} as const;
export const READER_RECLAIMING = 0xffff_ffff;
export const ACCESS_SEQUENTIAL = 1;
export const ACCESS_LATEST = 2;

export const RING_ENTRY_BYTES = 8;
export const RING = {
  commitIndex: 0, // u32, written last
  slot: 4, // u32
} as const;

/** Slot state word values; any other value is the bitmask of reader entries holding the slot. */
export const SLOT_FREE = 0;
export const SLOT_WRITING = -0x8000_0000;

export type AccessPattern = 'sequential' | 'latest';

/**
 * What a loan does when every slot is busy: refuse (the new message is dropped, `droppedFull`), or
 * free the oldest commit that a sequential reader has not taken yet (`droppedOldest`) and use it.
 */
export type FullPolicy = 'drop-newest' | 'drop-oldest';
export const FULL_DROP_NEWEST = 0;
export const FULL_DROP_OLDEST = 1;

export interface ChannelGeometry {
  name: string;
  slotCount: number;
  slotBytes: number;
  /** Reader entries reserved at creation; a committed slot is held for each until released. */
  readerCount: number;
  /** Access pattern of the reserved readers (default sequential). */
  access?: AccessPattern;
  /** What a loan does on a full channel (default drop-newest). */
  whenFull?: FullPolicy;
}

export interface ChannelPlacement {
  name: string;
  slotCount: number;
  slotBytes: number;
  readerCount: number;
  index: number;
  headerOffset: number;
  ringSize: number;
  metaOffset: number;
  readerOffset: number;
  ringOffset: number;
  dataOffset: number;
}

export const alignUp = (n: number, a = ALIGN): number => Math.ceil(n / a) * a;

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Checks a channel list before anything is allocated; throws a RangeError naming the channel. */
export function checkGeometry(channels: readonly ChannelGeometry[]): void {
  if (channels.length < 1) throw new RangeError('pool: at least one channel is needed');
  const names = new Set<string>();
  for (const ch of channels) {
    const what = `pool channel '${ch.name}'`;
    if (names.has(ch.name)) throw new RangeError(`${what}: duplicate channel name`);
    names.add(ch.name);
    if (new TextEncoder().encode(ch.name).length >= CHANNEL_NAME_BYTES) {
      throw new RangeError(`${what}: name longer than ${CHANNEL_NAME_BYTES - 1} bytes`);
    }
    if (!Number.isInteger(ch.slotCount) || ch.slotCount < 1 || ch.slotCount > 65536) {
      throw new RangeError(`${what}: slotCount ${ch.slotCount} must be an integer in 1..65536`);
    }
    if (!Number.isInteger(ch.slotBytes) || ch.slotBytes < 1) {
      throw new RangeError(`${what}: slotBytes ${ch.slotBytes} must be an integer >= 1`);
    }
    if (!Number.isInteger(ch.readerCount) || ch.readerCount < 0 || ch.readerCount > MAX_READERS) {
      throw new RangeError(`${what}: readerCount ${ch.readerCount} must be an integer in 0..${MAX_READERS}`);
    }
  }
}

/** Computes where each channel lives; the same function is the layout's definition for both sides. */
export function placeChannels(channels: readonly ChannelGeometry[]): {
  placements: ChannelPlacement[];
  totalBytes: number;
} {
  let offset = SEGMENT_HEADER_BYTES + alignUp(channels.length * CHANNEL_HEADER_BYTES);
  const placements = channels.map((ch, index): ChannelPlacement => {
    const slotBytes = alignUp(ch.slotBytes);
    const ringSize = nextPowerOfTwo(Math.max(ch.slotCount, 2));
    const metaOffset = offset;
    offset += ch.slotCount * SLOT_META_BYTES;
    const readerOffset = offset;
    offset += MAX_READERS * READER_ENTRY_BYTES;
    const ringOffset = offset;
    offset += alignUp(ringSize * RING_ENTRY_BYTES);
    const dataOffset = offset;
    offset += ch.slotCount * slotBytes;
    return {
      name: ch.name,
      slotCount: ch.slotCount,
      slotBytes,
      readerCount: ch.readerCount,
      index,
      headerOffset: SEGMENT_HEADER_BYTES + index * CHANNEL_HEADER_BYTES,
      ringSize,
      metaOffset,
      readerOffset,
      ringOffset,
      dataOffset,
    };
  });
  return { placements, totalBytes: offset };
}

/**
 * Writes every header of a fresh, zeroed segment; `ready` is stored last so that an opener never
 * sees half a header. Reserved reader entries belong to `pid` until a reader object binds them.
 */
export function initSegment(
  sab: SharedArrayBuffer,
  channels: readonly ChannelGeometry[],
  placements: readonly ChannelPlacement[],
  totalBytes: number,
  flags: number,
  pid: number,
): void {
  const view = new DataView(sab);
  view.setUint32(SEG.magic, POOL_MAGIC, true);
  view.setUint32(SEG.version, LAYOUT_VERSION, true);
  view.setUint32(SEG.channelCount, placements.length, true);
  view.setUint32(SEG.flags, flags, true);
  view.setUint32(SEG.totalBytesLo, totalBytes >>> 0, true);
  view.setUint32(SEG.totalBytesHi, Math.floor(totalBytes / 2 ** 32), true);
  view.setUint32(SEG.creatorPid, pid, true);
  view.setUint32(SEG.maxReaders, MAX_READERS, true);
  view.setUint32(SEG.channelHeaderBytes, CHANNEL_HEADER_BYTES, true);
  view.setUint32(SEG.slotMetaBytes, SLOT_META_BYTES, true);
  view.setUint32(SEG.readerEntryBytes, READER_ENTRY_BYTES, true);
  const encoder = new TextEncoder();
  for (const p of placements) {
    const h = p.headerOffset;
    view.setUint32(h + CH.slotCount, p.slotCount, true);
    view.setUint32(h + CH.slotBytes, p.slotBytes, true);
    view.setUint32(h + CH.ringSize, p.ringSize, true);
    view.setUint32(h + CH.readerCount, p.readerCount, true);
    view.setUint32(h + CH.metaOffset, p.metaOffset, true);
    view.setUint32(h + CH.readerOffset, p.readerOffset, true);
    view.setUint32(h + CH.ringOffset, p.ringOffset, true);
    view.setUint32(h + CH.dataOffset, p.dataOffset, true);
    new Uint8Array(sab, h + CH.name, CHANNEL_NAME_BYTES).set(encoder.encode(p.name));
    // No ring entry may look like commit 0 before commit 0 exists.
    for (let e = 0; e < p.ringSize; e++)
      view.setUint32(p.ringOffset + e * RING_ENTRY_BYTES, 0xffff_ffff, true);
    const mode = channels[p.index]!.access === 'latest' ? ACCESS_LATEST : ACCESS_SEQUENTIAL;
    let mask = 0;
    for (let r = 0; r < p.readerCount; r++) {
      const e = p.readerOffset + r * READER_ENTRY_BYTES;
      view.setUint32(e + RD.pid, pid, true);
      view.setUint32(e + RD.mode, mode, true);
      view.setUint32(e + RD.epoch, 1, true);
      if (mode === ACCESS_SEQUENTIAL) mask |= 1 << r;
    }
    view.setInt32(h + CH.seqReaderMask, mask, true);
    view.setUint32(
      h + CH.fullPolicy,
      channels[p.index]!.whenFull === 'drop-oldest' ? FULL_DROP_OLDEST : FULL_DROP_NEWEST,
      true,
    );
  }
  Atomics.store(new Int32Array(sab, 0, SEGMENT_HEADER_BYTES / 4), SEG.ready / 4, 1);
}

/**
 * Reads and checks the headers of an existing segment. A foreign buffer, another layout version or
 * a size that disagrees with the header is an Error naming both sides; `where` names the segment.
 */
export function readSegment(sab: SharedArrayBuffer, where: string): ChannelPlacement[] {
  const view = new DataView(sab);
  if (sab.byteLength < SEGMENT_HEADER_BYTES || view.getUint32(SEG.magic, true) !== POOL_MAGIC) {
    throw new Error(`pool segment ${where}: bad magic; this is not an smi-fusion pool segment`);
  }
  const version = view.getUint32(SEG.version, true);
  if (version !== LAYOUT_VERSION) {
    throw new Error(
      `pool segment ${where}: layout version ${version}, this build speaks version ${LAYOUT_VERSION}`,
    );
  }
  if (Atomics.load(new Int32Array(sab, 0, SEGMENT_HEADER_BYTES / 4), SEG.ready / 4) !== 1) {
    throw new Error(`pool segment ${where}: not ready (its creator has not finished writing the headers)`);
  }
  const total = view.getUint32(SEG.totalBytesLo, true) + view.getUint32(SEG.totalBytesHi, true) * 2 ** 32;
  if (total !== sab.byteLength) {
    throw new Error(`pool segment ${where}: header says ${total} bytes, the mapping has ${sab.byteLength}`);
  }
  const count = view.getUint32(SEG.channelCount, true);
  const decoder = new TextDecoder();
  const channels: ChannelPlacement[] = [];
  for (let index = 0; index < count; index++) {
    const h = SEGMENT_HEADER_BYTES + index * CHANNEL_HEADER_BYTES;
    const nameBytes = new Uint8Array(sab, h + CH.name, CHANNEL_NAME_BYTES);
    const end = nameBytes.indexOf(0);
    channels.push({
      index,
      headerOffset: h,
      name: decoder.decode(nameBytes.slice(0, end < 0 ? CHANNEL_NAME_BYTES : end)),
      slotCount: view.getUint32(h + CH.slotCount, true),
      slotBytes: view.getUint32(h + CH.slotBytes, true),
      ringSize: view.getUint32(h + CH.ringSize, true),
      readerCount: view.getUint32(h + CH.readerCount, true),
      metaOffset: view.getUint32(h + CH.metaOffset, true),
      readerOffset: view.getUint32(h + CH.readerOffset, true),
      ringOffset: view.getUint32(h + CH.ringOffset, true),
      dataOffset: view.getUint32(h + CH.dataOffset, true),
    });
  }
  return channels;
}
