import {
  CH,
  CHANNEL_HEADER_BYTES,
  CHANNEL_NAME_BYTES,
  DESC,
  DESCRIPTOR_BYTES,
  LAYOUT_VERSION,
  POOL_MAGIC,
  SEG,
  SEGMENT_HEADER_BYTES,
  SLOT_FREE,
  SLOT_WRITING,
  placeChannels,
  type ChannelGeometry,
  type ChannelPlacement,
} from './layout.js';

/** A committed message as a reader sees it. Reused by readers: copy what you keep. */
export interface Descriptor {
  channel: number;
  slot: number;
  length: number;
  seq: number;
  producerId: number;
  stampNs: bigint;
  commitNs: bigint;
}

export function emptyDescriptor(): Descriptor {
  return { channel: -1, slot: -1, length: 0, seq: 0, producerId: 0, stampNs: 0n, commitNs: 0n };
}

const TWO32 = 0x1_0000_0000n;

/**
 * A pool of fixed-size slots per channel, with a descriptor ring per channel, in one
 * SharedArrayBuffer. Payloads are written once into a slot and read in place by every stage
 * after ingest (including worker threads the buffer is posted to).
 */
export class SlotPool {
  readonly sab: SharedArrayBuffer;
  readonly channels: readonly ChannelPlacement[];
  private readonly i32: Int32Array;
  private readonly u32: Uint32Array;

  private constructor(sab: SharedArrayBuffer, channels: ChannelPlacement[]) {
    this.sab = sab;
    this.channels = channels;
    this.i32 = new Int32Array(sab);
    this.u32 = new Uint32Array(sab);
  }

  /** Creates a segment for `channels` in a new in-process SharedArrayBuffer. */
  static create(channels: readonly ChannelGeometry[]): SlotPool {
    for (const ch of channels) {
      if (!Number.isInteger(ch.slotCount) || ch.slotCount < 1) {
        throw new RangeError(`pool channel '${ch.name}': slotCount ${ch.slotCount} must be an integer >= 1`);
      }
      if (!Number.isInteger(ch.slotBytes) || ch.slotBytes < 1) {
        throw new RangeError(`pool channel '${ch.name}': slotBytes ${ch.slotBytes} must be an integer >= 1`);
      }
    }
    const { placements, totalBytes } = placeChannels(channels);
    if (totalBytes > 0xffff_ffff) {
      throw new RangeError(
        `pool of ${totalBytes} bytes exceeds the 4 GiB a layout-v${LAYOUT_VERSION} segment can address`,
      );
    }
    const sab = new SharedArrayBuffer(totalBytes);
    const view = new DataView(sab);
    view.setUint32(SEG.magic, POOL_MAGIC, true);
    view.setUint32(SEG.version, LAYOUT_VERSION, true);
    view.setUint32(SEG.channelCount, placements.length, true);
    view.setUint32(SEG.totalBytesLo, totalBytes >>> 0, true);
    view.setUint32(SEG.totalBytesHi, Math.floor(totalBytes / 2 ** 32), true);
    const encoder = new TextEncoder();
    for (const p of placements) {
      const h = p.headerOffset;
      view.setUint32(h + CH.slotCount, p.slotCount, true);
      view.setUint32(h + CH.slotBytes, p.slotBytes, true);
      view.setUint32(h + CH.ringSize, p.ringSize, true);
      view.setUint32(h + CH.readerCount, p.readerCount, true);
      view.setUint32(h + CH.stateOffset, p.stateOffset, true);
      view.setUint32(h + CH.ringOffset, p.ringOffset, true);
      view.setUint32(h + CH.dataOffset, p.dataOffset, true);
      const name = encoder.encode(p.name).subarray(0, CHANNEL_NAME_BYTES - 1);
      new Uint8Array(sab, h + CH.name, name.length).set(name);
    }
    return new SlotPool(sab, placements);
  }

  /** Opens an existing segment (e.g. in a worker), checking magic and layout version. */
  static attach(sab: SharedArrayBuffer): SlotPool {
    const view = new DataView(sab);
    if (sab.byteLength < SEGMENT_HEADER_BYTES || view.getUint32(SEG.magic, true) !== POOL_MAGIC) {
      throw new Error('pool segment: bad magic; this is not an smi-fusion pool segment');
    }
    const version = view.getUint32(SEG.version, true);
    if (version !== LAYOUT_VERSION) {
      throw new Error(`pool segment: layout version ${version}, this build speaks version ${LAYOUT_VERSION}`);
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
        stateOffset: view.getUint32(h + CH.stateOffset, true),
        ringOffset: view.getUint32(h + CH.ringOffset, true),
        dataOffset: view.getUint32(h + CH.dataOffset, true),
      });
    }
    return new SlotPool(sab, channels);
  }

  channelIndex(name: string): number {
    return this.channels.findIndex((c) => c.name === name);
  }

  /** Byte offset of a slot's payload in the segment. */
  slotOffset(channel: number, slot: number): number {
    const ch = this.channels[channel]!;
    return ch.dataOffset + slot * ch.slotBytes;
  }

  /** Slots not free (being written or held by readers). */
  slotsInUse(channel: number): number {
    const ch = this.channels[channel]!;
    const base = ch.stateOffset >> 2;
    let used = 0;
    for (let s = 0; s < ch.slotCount; s++) if (Atomics.load(this.i32, base + s) !== SLOT_FREE) used++;
    return used;
  }

  /** Loans refused because the channel had no free slot. */
  droppedFull(channel: number): number {
    return Atomics.load(this.i32, (this.channels[channel]!.headerOffset + CH.droppedFull) >> 2);
  }

  /** Descriptors published so far on a channel (wraps at 2^32). */
  commitCount(channel: number): number {
    return Atomics.load(this.u32, (this.channels[channel]!.headerOffset + CH.commitSeq) >> 2);
  }

  writer(channel: number, producerId = 0): ChannelWriter {
    return new ChannelWriter(this, this.channels[channel]!, producerId);
  }

  reader(channel: number): ChannelReader {
    return new ChannelReader(this, this.channels[channel]!);
  }

  /** Drops one reference to a slot; the last release returns it to the free list. */
  release(channel: number, slot: number): void {
    const ch = this.channels[channel]!;
    const idx = (ch.stateOffset >> 2) + slot;
    const after = Atomics.sub(this.i32, idx, 1) - 1;
    if (after < 0) {
      // Restore and report: a double release is a bug upstream and must not free a slot in use.
      Atomics.add(this.i32, idx, 1);
      throw new Error(`pool channel '${ch.name}': slot ${slot} released more often than it was referenced`);
    }
  }

  /** @internal */ get words(): Int32Array {
    return this.i32;
  }
}

/** The single producer side of one channel: loan a slot, write in place, commit or abandon. */
export class ChannelWriter {
  private readonly i32: Int32Array;
  private readonly u32: Uint32Array;
  private readonly stateBase: number;
  private readonly commitIdx: number;
  private readonly droppedIdx: number;
  private readonly views: Uint8Array[];
  private readonly f32Views: Float32Array[];
  private readonly f64Views: Float64Array[];
  private nextProbe = 0;

  constructor(
    private readonly pool: SlotPool,
    readonly channel: ChannelPlacement,
    readonly producerId: number,
  ) {
    this.i32 = pool.words;
    this.u32 = new Uint32Array(pool.sab);
    this.stateBase = channel.stateOffset >> 2;
    this.commitIdx = (channel.headerOffset + CH.commitSeq) >> 2;
    this.droppedIdx = (channel.headerOffset + CH.droppedFull) >> 2;
    this.views = Array.from(
      { length: channel.slotCount },
      (_, s) => new Uint8Array(pool.sab, channel.dataOffset + s * channel.slotBytes, channel.slotBytes),
    );
    // Slots are 64-byte aligned, so float views over them are always valid.
    this.f32Views = this.views.map((v) => new Float32Array(v.buffer, v.byteOffset, v.byteLength >> 2));
    this.f64Views = this.views.map((v) => new Float64Array(v.buffer, v.byteOffset, v.byteLength >> 3));
  }

  get slotBytes(): number {
    return this.channel.slotBytes;
  }

  /** Takes a free slot for writing; returns -1 (and counts it) when every slot is busy. */
  loan(): number {
    const n = this.channel.slotCount;
    for (let i = 0; i < n; i++) {
      const s = (this.nextProbe + i) % n;
      if (Atomics.compareExchange(this.i32, this.stateBase + s, SLOT_FREE, SLOT_WRITING) === SLOT_FREE) {
        this.nextProbe = (s + 1) % n;
        return s;
      }
    }
    Atomics.add(this.i32, this.droppedIdx, 1);
    return -1;
  }

  /** The whole slot as bytes, for writing the payload in place. */
  slotView(slot: number): Uint8Array {
    return this.views[slot]!;
  }

  /** The whole slot as float32 elements (cached view, no allocation). */
  slotF32(slot: number): Float32Array {
    return this.f32Views[slot]!;
  }

  /** The whole slot as float64 elements (cached view, no allocation). */
  slotF64(slot: number): Float64Array {
    return this.f64Views[slot]!;
  }

  /** Publishes a written slot: descriptor first, then the commit counter readers wait on. */
  commit(slot: number, length: number, seq: number, stampNs: bigint, commitNs: bigint): void {
    const ch = this.channel;
    if (length > ch.slotBytes)
      throw new RangeError(`pool channel '${ch.name}': ${length} bytes exceed slot size`);
    const commitSeq = Atomics.load(this.u32, this.commitIdx);
    const e = (ch.ringOffset + (commitSeq & (ch.ringSize - 1)) * DESCRIPTOR_BYTES) >> 2;
    const u = this.u32;
    this.i32[e + DESC.slot / 4] = slot;
    u[e + DESC.length / 4] = length;
    u[e + DESC.seq / 4] = seq >>> 0;
    u[e + DESC.producerId / 4] = this.producerId;
    u[e + DESC.stampLo / 4] = Number(stampNs & 0xffff_ffffn);
    u[e + DESC.stampHi / 4] = Number(stampNs >> 32n);
    u[e + DESC.commitLo / 4] = Number(commitNs & 0xffff_ffffn);
    u[e + DESC.commitHi / 4] = Number(commitNs >> 32n);
    // The slot starts with one reference per registered reader; with none, it is free at once.
    Atomics.store(this.i32, this.stateBase + slot, ch.readerCount);
    Atomics.store(this.u32, this.commitIdx, (commitSeq + 1) >>> 0);
    Atomics.notify(this.i32, this.commitIdx);
  }

  /** Returns a loaned slot without publishing it (e.g. the payload failed validation). */
  abandon(slot: number): void {
    Atomics.store(this.i32, this.stateBase + slot, SLOT_FREE);
  }
}

/**
 * One registered reader of a channel. The pool is created with `readerCount` readers per channel
 * and each committed slot holds one reference per reader until released.
 */
export class ChannelReader {
  private readonly u32: Uint32Array;
  private readonly i32: Int32Array;
  private readonly commitIdx: number;
  private cursor: number;
  /** Descriptors skipped by `latest()` because a newer one existed. */
  skipped = 0;

  constructor(
    private readonly pool: SlotPool,
    readonly channel: ChannelPlacement,
  ) {
    this.u32 = new Uint32Array(pool.sab);
    this.i32 = pool.words;
    this.commitIdx = (channel.headerOffset + CH.commitSeq) >> 2;
    this.cursor = Atomics.load(this.u32, this.commitIdx);
  }

  /** Descriptors committed but not yet taken by this reader. */
  backlog(): number {
    return (Atomics.load(this.u32, this.commitIdx) - this.cursor) >>> 0;
  }

  /** Sequential access: takes the next descriptor in order into `out`; false when none is pending. */
  next(out: Descriptor): boolean {
    if (this.backlog() === 0) return false;
    this.readEntry(this.cursor, out);
    this.cursor = (this.cursor + 1) >>> 0;
    return true;
  }

  /** Latest access: takes the newest descriptor, releasing every older pending one (counted in `skipped`). */
  latest(out: Descriptor): boolean {
    const pending = this.backlog();
    if (pending === 0) return false;
    for (let i = 0; i < pending - 1; i++) {
      const e = this.entryIndex(this.cursor);
      this.pool.release(this.channel.index, this.i32[e + DESC.slot / 4]!);
      this.cursor = (this.cursor + 1) >>> 0;
      this.skipped++;
    }
    return this.next(out);
  }

  /** Blocks the calling worker thread until a commit arrives or `timeoutMs` passes (not on the main thread). */
  wait(timeoutMs: number): boolean {
    if (this.backlog() > 0) return true;
    Atomics.wait(this.i32, this.commitIdx, this.cursor | 0, timeoutMs);
    return this.backlog() > 0;
  }

  private entryIndex(seq: number): number {
    return (this.channel.ringOffset + (seq & (this.channel.ringSize - 1)) * DESCRIPTOR_BYTES) >> 2;
  }

  private readEntry(seq: number, out: Descriptor): void {
    const e = this.entryIndex(seq);
    const u = this.u32;
    out.channel = this.channel.index;
    out.slot = this.i32[e + DESC.slot / 4]!;
    out.length = u[e + DESC.length / 4]!;
    out.seq = u[e + DESC.seq / 4]!;
    out.producerId = u[e + DESC.producerId / 4]!;
    out.stampNs = BigInt(u[e + DESC.stampHi / 4]!) * TWO32 + BigInt(u[e + DESC.stampLo / 4]!);
    out.commitNs = BigInt(u[e + DESC.commitHi / 4]!) * TWO32 + BigInt(u[e + DESC.commitLo / 4]!);
  }
}
