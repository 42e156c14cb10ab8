import type { ChannelWriter } from './channel.js';
import type { ChannelPlacement } from './layout.js';

/** One cached view per slot and element type, so that hot paths never allocate a view. */
export class SlotViews {
  readonly u8: Uint8Array[];
  readonly f32: Float32Array[];
  readonly f64: Float64Array[];

  constructor(sab: SharedArrayBuffer, ch: ChannelPlacement) {
    this.u8 = Array.from(
      { length: ch.slotCount },
      (_, s) => new Uint8Array(sab, ch.dataOffset + s * ch.slotBytes, ch.slotBytes),
    );
    // Slots are 64-byte aligned, so float views over them are always valid.
    this.f32 = this.u8.map((v) => new Float32Array(v.buffer, v.byteOffset, v.byteLength >> 2));
    this.f64 = this.u8.map((v) => new Float64Array(v.buffer, v.byteOffset, v.byteLength >> 3));
  }
}

/**
 * The part of a ChannelWriter both rings share: the channel, the producer id and the cached views
 * of its slots that a producer writes into in place. Each ring adds loan, commit, abandon, close.
 */
export abstract class SlotViewWriter implements Pick<
  ChannelWriter,
  'channel' | 'producerId' | 'slotBytes' | 'slotView' | 'slotF32' | 'slotF64'
> {
  constructor(
    readonly channel: ChannelPlacement,
    readonly producerId: number,
    private readonly views: SlotViews,
  ) {}

  get slotBytes(): number {
    return this.channel.slotBytes;
  }

  slotView(slot: number): Uint8Array {
    return this.views.u8[slot]!;
  }

  slotF32(slot: number): Float32Array {
    return this.views.f32[slot]!;
  }

  slotF64(slot: number): Float64Array {
    return this.views.f64[slot]!;
  }
}
