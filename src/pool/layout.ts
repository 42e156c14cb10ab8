/**
 * Byte layout of a pool segment. Every offset is from the start of the segment and every
 * multi-byte value is little-endian (x86-64 and AArch64 hosts). Regions start on 64-byte
 * boundaries so that a channel's hot words do not share cache lines with another channel's.
 *
 * segment header (64 B) | channel headers (128 B each) | per channel: slot states, descriptor ring, slot data
 */

export const POOL_MAGIC = 0x504d4953; // 'SMIP'
export const LAYOUT_VERSION = 1;
export const ALIGN = 64;

export const SEGMENT_HEADER_BYTES = 64;
export const SEG = {
  magic: 0, // u32
  version: 4, // u32
  channelCount: 8, // u32
  totalBytesLo: 16, // u32, total segment bytes (low half)
  totalBytesHi: 20, // u32
} as const;

export const CHANNEL_HEADER_BYTES = 128;
export const CH = {
  slotCount: 0, // u32
  slotBytes: 4, // u32, bytes per slot (multiple of ALIGN)
  ringSize: 8, // u32, descriptor entries (power of two, >= slotCount)
  readerCount: 12, // u32, references a committed slot starts with
  commitSeq: 16, // i32, descriptors published so far (futex/Atomics.wait word)
  droppedFull: 20, // i32, loans refused because every slot was busy
  stateOffset: 24, // u32
  ringOffset: 28, // u32
  dataOffset: 32, // u32
  name: 64, // 64 bytes, UTF-8, NUL padded
} as const;
export const CHANNEL_NAME_BYTES = 64;

export const DESCRIPTOR_BYTES = 32;
export const DESC = {
  slot: 0, // i32
  length: 4, // u32, payload bytes
  seq: 8, // u32, producer sequence number (low 32 bits)
  producerId: 12, // u32
  stampLo: 16, // u32, capture stamp, CLOCK_MONOTONIC ns
  stampHi: 20,
  commitLo: 24, // u32, commit time, CLOCK_MONOTONIC ns
  commitHi: 28,
} as const;

/** Slot state word values; a positive value is the number of readers still holding the slot. */
export const SLOT_FREE = 0;
export const SLOT_WRITING = -1;

export interface ChannelGeometry {
  name: string;
  slotCount: number;
  slotBytes: number;
  readerCount: number;
}

export interface ChannelPlacement extends ChannelGeometry {
  index: number;
  headerOffset: number;
  ringSize: number;
  stateOffset: number;
  ringOffset: number;
  dataOffset: number;
}

export const alignUp = (n: number, a = ALIGN): number => Math.ceil(n / a) * a;

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Computes where each channel lives; the same function is the layout's definition for both sides. */
export function placeChannels(channels: readonly ChannelGeometry[]): {
  placements: ChannelPlacement[];
  totalBytes: number;
} {
  let offset = SEGMENT_HEADER_BYTES + alignUp(channels.length * CHANNEL_HEADER_BYTES);
  const placements = channels.map((ch, index) => {
    const slotBytes = alignUp(ch.slotBytes);
    const ringSize = nextPowerOfTwo(Math.max(ch.slotCount, 2));
    const stateOffset = offset;
    offset += alignUp(ch.slotCount * 4);
    const ringOffset = offset;
    offset += alignUp(ringSize * DESCRIPTOR_BYTES);
    const dataOffset = offset;
    offset += ch.slotCount * slotBytes;
    return {
      ...ch,
      slotBytes,
      index,
      headerOffset: SEGMENT_HEADER_BYTES + index * CHANNEL_HEADER_BYTES,
      ringSize,
      stateOffset,
      ringOffset,
      dataOffset,
    };
  });
  return { placements, totalBytes: offset };
}
