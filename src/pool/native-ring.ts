/**
 * The native ring: the same protocol run by the C of native/include/smi_pool.h through the addon.
 * The JS side only fills descriptors from the held slot's meta and keeps the cached views.
 */
import type { AccessPattern, ChannelPlacement } from './layout.js';
import { fillDescriptor, type Descriptor } from './descriptor.js';
import {
  SMI_EDOUBLE,
  SMI_EEVICTED,
  SMI_ETOOLARGE,
  type NativeReaderHandle,
  type NativeWriterHandle,
  type PoolAddon,
} from './native-addon.js';
import { metaWord, type SegmentWords } from './segment.js';
import type { ChannelReader, ChannelWriter } from './channel.js';
import { SlotViewWriter, type SlotViews } from './slot-views.js';
import { ReaderEvictedError, TooLargeError } from './errors.js';

export class NativeChannelWriter extends SlotViewWriter implements ChannelWriter {
  private readonly handle: NativeWriterHandle;

  constructor(
    addon: PoolAddon,
    sab: SharedArrayBuffer,
    channel: ChannelPlacement,
    producerId: number,
    views: SlotViews,
  ) {
    super(channel, producerId, views);
    this.handle = new addon.NativeWriter(sab, channel.index, producerId);
  }

  loan(): number {
    return this.handle.loan();
  }

  loanWait(timeoutMs: number): number {
    return this.handle.loanWait(Math.max(0, Math.ceil(timeoutMs)));
  }

  commit(slot: number, length: number, seq: number, stampNs: bigint, commitNs: bigint): void {
    const rc = this.handle.commit(slot, length, seq >>> 0, stampNs, commitNs);
    if (rc === SMI_ETOOLARGE) throw new TooLargeError(this.channel.name, length, this.channel.slotBytes);
    if (rc !== 0)
      throw new RangeError(`pool channel '${this.channel.name}': commit of slot ${slot} failed (${rc})`);
  }

  abandon(slot: number): void {
    this.handle.abandon(slot);
  }

  close(): void {
    this.handle.close();
  }
}

const MODE = { sequential: 1, latest: 2 } as const;

export class NativeChannelReader implements ChannelReader {
  private readonly handle: NativeReaderHandle;
  private readonly u32: Uint32Array;
  readonly entry: number;
  readonly access: AccessPattern;

  constructor(
    addon: PoolAddon,
    private readonly words: SegmentWords,
    readonly channel: ChannelPlacement,
    access?: AccessPattern,
    only?: number,
  ) {
    this.handle = new addon.NativeReader(words.sab, channel.index, access ? MODE[access] : 0, only ?? -1);
    this.u32 = words.u32;
    this.entry = this.handle.entry;
    this.access = this.handle.mode === MODE.latest ? 'latest' : 'sequential';
  }

  get skipped(): number {
    return this.handle.skipped;
  }

  get tornRetries(): number {
    return this.handle.torn;
  }

  backlog(): number {
    return this.handle.backlog();
  }

  private took(s: number, out: Descriptor): boolean {
    if (s >= 0) {
      fillDescriptor(this.u32, metaWord(this.channel, s), this.channel.index, s, out);
      return true;
    }
    if (s === SMI_EEVICTED) throw new ReaderEvictedError(this.channel.name, this.entry);
    return false;
  }

  next(out: Descriptor): boolean {
    return this.took(this.handle.next(), out);
  }

  latest(out: Descriptor): boolean {
    return this.took(this.handle.latest(), out);
  }

  release(slot: number): void {
    if (this.handle.release(slot) === SMI_EDOUBLE) {
      throw new Error(
        `pool channel '${this.channel.name}': slot ${slot} released by reader ${this.entry}, which does not hold it`,
      );
    }
  }

  wait(timeoutMs: number): boolean {
    return this.handle.wait(timeoutMs < 0 || !Number.isFinite(timeoutMs) ? -1 : Math.ceil(timeoutMs));
  }

  waitAsync(timeoutMs: number): Promise<boolean> {
    return this.handle.waitAsync(timeoutMs < 0 || !Number.isFinite(timeoutMs) ? -1 : Math.ceil(timeoutMs));
  }

  close(): void {
    this.handle.close();
  }
}
