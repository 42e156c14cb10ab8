import { META } from './layout.js';

/** A committed message as a reader sees it. Reused by readers: copy what you keep. */
export interface Descriptor {
  channel: number;
  slot: number;
  length: number;
  seq: number;
  producerId: number;
  stampNs: bigint;
  commitNs: bigint;
  /** Channel commit number the message was published as. */
  commitIndex: number;
}

export function emptyDescriptor(): Descriptor {
  return {
    channel: -1,
    slot: -1,
    length: 0,
    seq: 0,
    producerId: 0,
    stampNs: 0n,
    commitNs: 0n,
    commitIndex: 0,
  };
}

const TWO32 = 0x1_0000_0000n;

/**
 * Fills `out` from the meta of a slot the caller holds: a held slot's meta cannot change, so
 * plain reads are enough. `metaWord` is the meta's offset in 32-bit words.
 */
export function fillDescriptor(
  u32: Uint32Array,
  metaWord: number,
  channel: number,
  slot: number,
  out: Descriptor,
): void {
  out.channel = channel;
  out.slot = slot;
  out.commitIndex = u32[metaWord + META.commitIndex / 4]!;
  out.length = u32[metaWord + META.length / 4]!;
  out.seq = u32[metaWord + META.seq / 4]!;
  out.producerId = u32[metaWord + META.producerId / 4]!;
  out.stampNs = BigInt(u32[metaWord + META.stampHi / 4]!) * TWO32 + BigInt(u32[metaWord + META.stampLo / 4]!);
  out.commitNs =
    BigInt(u32[metaWord + META.commitHi / 4]!) * TWO32 + BigInt(u32[metaWord + META.commitLo / 4]!);
}
