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
