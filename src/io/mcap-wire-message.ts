/**
 * How one wire-format message (`[topic, header, payload?]`, see README "Wire format") is stored
 * in an MCAP message on the channel named by its topic, so that replay hands ingest the very
 * same bytes:
 *
 *   u32 LE  header length in bytes; bit 31 set = the message had no payload frame (2 frames)
 *   ...     header bytes (msgpack, as received)
 *   ...     payload bytes (raw records, as received), to the end of the message
 *
 * Channels carrying it have message encoding WIRE_MESSAGE_ENCODING and no schema (the header
 * names the payload's layout, as on the wire).
 */

/** MCAP message encoding of channels that carry wire-format messages. */
export const WIRE_MESSAGE_ENCODING = 'smi-fusion-wire/1';

/** Bytes before the header in a stored wire message. */
export const WIRE_PREFIX_BYTES = 4;

const NO_PAYLOAD = 0x8000_0000;

/** Size of the stored form of a message with these frames. */
export function wireMessageBytes(header: Uint8Array, payload: Uint8Array | undefined): number {
  return WIRE_PREFIX_BYTES + header.byteLength + (payload?.byteLength ?? 0);
}

/**
 * Writes the stored form of `[header, payload?]` into `out` at `offset` (which must have
 * `wireMessageBytes` free bytes); returns the offset after it.
 */
export function writeWireMessage(
  out: Uint8Array,
  offset: number,
  header: Uint8Array,
  payload: Uint8Array | undefined,
): number {
  const view = new DataView(out.buffer, out.byteOffset + offset, WIRE_PREFIX_BYTES);
  view.setUint32(0, (header.byteLength | (payload ? 0 : NO_PAYLOAD)) >>> 0, true);
  out.set(header, offset + WIRE_PREFIX_BYTES);
  const at = offset + WIRE_PREFIX_BYTES + header.byteLength;
  if (payload) out.set(payload, at);
  return at + (payload?.byteLength ?? 0);
}

/** The stored form of `[header, payload?]` as a new buffer. */
export function encodeWireMessage(header: Uint8Array, payload: Uint8Array | undefined): Uint8Array {
  const out = new Uint8Array(wireMessageBytes(header, payload));
  writeWireMessage(out, 0, header, payload);
  return out;
}

/** Header and payload frames of a stored wire message, as views into `data` (no copy). */
export interface WireFrames {
  header: Uint8Array;
  /** undefined when the original message had no payload frame. */
  payload: Uint8Array | undefined;
}

/** Splits a stored wire message; throws a RangeError naming the lengths when it is malformed. */
export function decodeWireMessage(data: Uint8Array): WireFrames {
  if (data.byteLength < WIRE_PREFIX_BYTES) {
    throw new RangeError(`stored wire message is ${data.byteLength} bytes; at least 4 expected`);
  }
  const word = new DataView(data.buffer, data.byteOffset, WIRE_PREFIX_BYTES).getUint32(0, true);
  const headerBytes = word & ~NO_PAYLOAD;
  const hasPayload = (word & NO_PAYLOAD) === 0;
  const payloadAt = WIRE_PREFIX_BYTES + headerBytes;
  if (payloadAt > data.byteLength || (!hasPayload && payloadAt !== data.byteLength)) {
    throw new RangeError(
      `stored wire message says ${headerBytes} header bytes${hasPayload ? '' : ' and no payload'}; it has ${data.byteLength - WIRE_PREFIX_BYTES} bytes after the prefix`,
    );
  }
  return {
    header: data.subarray(WIRE_PREFIX_BYTES, payloadAt),
    payload: hasPayload ? data.subarray(payloadAt) : undefined,
  };
}
