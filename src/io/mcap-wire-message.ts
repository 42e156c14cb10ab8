/**
 * How one wire-format message (`[topic, header, payload?]`, see README "Wire format") is stored
 * in an MCAP message on the channel named by its topic, so that replay hands ingest the very
 * same bytes.
 *
 * Drive format 2 (current): a CDR-encoded `smi_fusion_msgs/msg/WireMessage` (schema WIRE_SCHEMA,
 * message encoding `cdr`), which Foxglove and Lichtblick decode like any ROS 2 message instead of
 * listing the channel as an unsupported encoding:
 *
 *   4 B     CDR encapsulation header 00 01 00 00 (plain CDR, little-endian)
 *   u32 LE  header length h, then h bytes: the msgpack header as received
 *   u8      has_payload: 1 when the message had a payload frame (3 frames), 0 for 2 frames
 *   0-3 B   zero padding to a multiple of 4 (CDR alignment, counted after the encapsulation)
 *   u32 LE  payload length p, then p bytes: the raw records as received, 4-byte aligned in the message
 *
 * Drive format 1 (read only): message encoding `smi-fusion-wire/1`, no schema:
 *   u32 LE header length (bit 31 set = no payload frame), header bytes, payload to the end.
 */

/** MCAP message encoding of raw channels (drive format 2). */
export const WIRE_MESSAGE_ENCODING = 'cdr';

/** Message encoding of raw channels in drives of format 1 (still read by replay). */
export const LEGACY_WIRE_ENCODING = 'smi-fusion-wire/1';

/** The ROS 2 message definition raw channels are encoded with (MCAP schema encoding `ros2msg`). */
export const WIRE_SCHEMA = {
  name: 'smi_fusion_msgs/msg/WireMessage',
  encoding: 'ros2msg',
  text:
    '# One smi-fusion wire-format message exactly as received (see the smi-fusion README, "Wire format").\n' +
    '# header: the msgpack header frame; payload: the raw little-endian records frame.\n' +
    'uint8[] header\n' +
    'bool has_payload\n' +
    'uint8[] payload\n',
} as const;

/** How a channel stores wire messages, from its MCAP message encoding and schema name; undefined if it does not. */
export function wireChannelFormat(messageEncoding: string, schemaName: string): 1 | 2 | undefined {
  if (messageEncoding === WIRE_MESSAGE_ENCODING && schemaName === WIRE_SCHEMA.name) return 2;
  if (messageEncoding === LEGACY_WIRE_ENCODING) return 1;
  return undefined;
}

const CDR_LE = 0x0000_0100; // bytes 00 01 00 00 read as u32 LE
const LEGACY_NO_PAYLOAD = 0x8000_0000;

const align4 = (n: number): number => (n + 3) & ~3;

/** Body offset (after the encapsulation header) of the payload length word, for an h-byte header. */
const payloadLengthAt = (headerBytes: number): number => align4(4 + headerBytes + 1);

/** Size of the stored form of a message with these frames. */
export function wireMessageBytes(header: Uint8Array, payload: Uint8Array | undefined): number {
  return 4 + payloadLengthAt(header.byteLength) + 4 + (payload?.byteLength ?? 0);
}

/**
 * Writes the stored form of `[header, payload?]` into `out` at `offset` (which must have
 * `wireMessageBytes` free bytes, and be 4-byte aligned within `out.buffer` for the payload to be
 * aligned); returns the offset after it. Padding is written as zeros.
 */
export function writeWireMessage(
  out: Uint8Array,
  offset: number,
  header: Uint8Array,
  payload: Uint8Array | undefined,
): number {
  const h = header.byteLength;
  const lengthAt = 4 + payloadLengthAt(h);
  const view = new DataView(out.buffer, out.byteOffset + offset, lengthAt + 4);
  view.setUint32(0, CDR_LE, true);
  view.setUint32(4, h, true);
  out.set(header, offset + 8);
  view.setUint8(8 + h, payload ? 1 : 0);
  for (let pad = 9 + h; pad < lengthAt; pad++) view.setUint8(pad, 0);
  view.setUint32(lengthAt, payload?.byteLength ?? 0, true);
  if (payload) out.set(payload, offset + lengthAt + 4);
  return offset + lengthAt + 4 + (payload?.byteLength ?? 0);
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

/**
 * Splits a stored wire message of drive format `format` (default 2); throws a RangeError naming
 * the lengths when it is malformed.
 */
export function decodeWireMessage(data: Uint8Array, format: 1 | 2 = 2): WireFrames {
  return format === 1 ? decodeLegacy(data) : decodeCdr(data);
}

function decodeCdr(data: Uint8Array): WireFrames {
  const n = data.byteLength;
  if (n < 13) throw new RangeError(`stored wire message is ${n} bytes; at least 13 expected`);
  const view = new DataView(data.buffer, data.byteOffset, n);
  const encapsulation = view.getUint32(0, true);
  if (encapsulation !== CDR_LE) {
    throw new RangeError(
      `stored wire message starts with 0x${encapsulation.toString(16).padStart(8, '0')}; expected the CDR little-endian header 00 01 00 00`,
    );
  }
  const h = view.getUint32(4, true);
  const lengthAt = 4 + payloadLengthAt(h);
  if (lengthAt + 4 > n) {
    throw new RangeError(`stored wire message says ${h} header bytes; it has ${n} bytes in all`);
  }
  const flag = view.getUint8(8 + h);
  if (flag > 1) throw new RangeError(`stored wire message: has_payload is ${flag}; expected 0 or 1`);
  const p = view.getUint32(lengthAt, true);
  if (lengthAt + 4 + p !== n || (flag === 0 && p !== 0)) {
    throw new RangeError(
      `stored wire message says ${h} header bytes and ${flag ? `${p} payload bytes` : 'no payload'}; it has ${n} bytes in all`,
    );
  }
  return {
    header: data.subarray(8, 8 + h),
    payload: flag ? data.subarray(lengthAt + 4) : undefined,
  };
}

function decodeLegacy(data: Uint8Array): WireFrames {
  if (data.byteLength < 4) {
    throw new RangeError(`stored wire message is ${data.byteLength} bytes; at least 4 expected`);
  }
  const word = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
  const headerBytes = word & ~LEGACY_NO_PAYLOAD;
  const hasPayload = (word & LEGACY_NO_PAYLOAD) === 0;
  const payloadAt = 4 + headerBytes;
  if (payloadAt > data.byteLength || (!hasPayload && payloadAt !== data.byteLength)) {
    throw new RangeError(
      `stored wire message says ${headerBytes} header bytes${hasPayload ? '' : ' and no payload'}; it has ${data.byteLength - 4} bytes after the prefix`,
    );
  }
  return {
    header: data.subarray(4, payloadAt),
    payload: hasPayload ? data.subarray(payloadAt) : undefined,
  };
}
