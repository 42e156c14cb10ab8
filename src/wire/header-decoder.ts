/**
 * The strict msgpack reader for sensor headers on the ingest path. A general msgpack decoder
 * turns `1.0` into the number 1 (an integral float would pass as an integer) and decodes a
 * fixed-width uint64 `1` as a bigint; this one keeps the encoding's type: every integer
 * encoding decodes to an integer (a number when it is a safe integer, else a bigint) and every
 * float to a `WireFloat`, which no integer check accepts. It also enforces the header limits
 * README documents, before anything is allocated for them.
 */
import { MAX_HEADER_BYTES } from './codec.js';

/** A msgpack float32/float64 value: kept apart from integers so that integer fields refuse it. */
export class WireFloat {
  constructor(readonly value: number) {}
  toString(): string {
    return `${this.value} (a float)`;
  }
}

/** The limits of a sensor header (README, "Wire format"). */
export const HEADER_LIMITS = {
  /** Encoded header bytes. */
  maxBytes: MAX_HEADER_BYTES,
  /** UTF-8 bytes of one string (key or value). */
  maxStrBytes: 256,
  /** Items of one array. */
  maxArrayItems: 64,
  /** Keys of one map (the header itself, or a map inside it). */
  maxMapKeys: 64,
  /** Maps and arrays nested inside the header map. */
  maxDepth: 4,
} as const;

/** Why a header could not be decoded: malformed input, with the byte offset. */
export class HeaderDecodeError extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a header map. Keys must be strings and unique; bin and ext values are refused, as are
 * trailing bytes. Throws HeaderDecodeError naming the problem and its offset.
 */
export function decodeSensorHeader(bytes: Uint8Array): Record<string, unknown> {
  if (bytes.byteLength > HEADER_LIMITS.maxBytes) {
    throw new HeaderDecodeError(
      `header is ${bytes.byteLength} bytes; at most ${HEADER_LIMITS.maxBytes} allowed`,
    );
  }
  const reader = new StrictReader(bytes);
  const value = reader.value(0);
  if (reader.pos !== bytes.byteLength) {
    throw new HeaderDecodeError(`${bytes.byteLength - reader.pos} bytes after the header map`);
  }
  if (!isPlainMap(value)) throw new HeaderDecodeError('header must be a msgpack map');
  return value;
}

function isPlainMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof WireFloat);
}

class StrictReader {
  pos = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private fail(what: string): never {
    throw new HeaderDecodeError(`${what} at byte ${this.pos}`);
  }

  private need(n: number): number {
    const at = this.pos;
    if (at + n > this.bytes.byteLength) this.fail(`truncated: ${n} more bytes needed`);
    this.pos = at + n;
    return at;
  }

  private u8(): number {
    return this.view.getUint8(this.need(1));
  }
  private u16(): number {
    return this.view.getUint16(this.need(2));
  }
  private u32(): number {
    return this.view.getUint32(this.need(4));
  }

  value(depth: number): unknown {
    const b = this.u8();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b >= 0xa0 && b <= 0xbf) return this.str(b & 0x1f);
    if (b >= 0x90 && b <= 0x9f) return this.array(b & 0x0f, depth);
    if (b >= 0x80 && b <= 0x8f) return this.map(b & 0x0f, depth);
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xca:
        return new WireFloat(this.view.getFloat32(this.need(4)));
      case 0xcb:
        return new WireFloat(this.view.getFloat64(this.need(8)));
      case 0xcc:
        return this.u8();
      case 0xcd:
        return this.u16();
      case 0xce:
        return this.u32();
      case 0xcf:
        return safeOrBig(this.view.getBigUint64(this.need(8)));
      case 0xd0:
        return this.view.getInt8(this.need(1));
      case 0xd1:
        return this.view.getInt16(this.need(2));
      case 0xd2:
        return this.view.getInt32(this.need(4));
      case 0xd3:
        return safeOrBig(this.view.getBigInt64(this.need(8)));
      case 0xd9:
        return this.str(this.u8());
      case 0xda:
        return this.str(this.u16());
      case 0xdb:
        return this.str(this.u32());
      case 0xdc:
        return this.array(this.u16(), depth);
      case 0xdd:
        return this.array(this.u32(), depth);
      case 0xde:
        return this.map(this.u16(), depth);
      case 0xdf:
        return this.map(this.u32(), depth);
      default:
        this.pos--;
        // 0xc4-0xc6 bin, 0xc7-0xc9 and 0xd4-0xd8 ext, 0xc1 never used
        return this.fail(
          `msgpack type 0x${b.toString(16)} (bin, ext or reserved) is not allowed in a header`,
        );
    }
  }

  private key(): string {
    const b = this.u8();
    if (b >= 0xa0 && b <= 0xbf) return this.str(b & 0x1f);
    if (b === 0xd9) return this.str(this.u8());
    if (b === 0xda) return this.str(this.u16());
    if (b === 0xdb) return this.str(this.u32());
    this.pos--;
    return this.fail('map key is not a string');
  }

  private str(n: number): string {
    if (n > HEADER_LIMITS.maxStrBytes) {
      this.fail(`string of ${n} bytes; at most ${HEADER_LIMITS.maxStrBytes} allowed`);
    }
    const at = this.need(n);
    try {
      return utf8.decode(this.bytes.subarray(at, at + n));
    } catch {
      this.pos = at;
      return this.fail('string is not UTF-8');
    }
  }

  private array(n: number, depth: number): unknown[] {
    if (n > HEADER_LIMITS.maxArrayItems) {
      this.fail(`array of ${n} items; at most ${HEADER_LIMITS.maxArrayItems} allowed`);
    }
    if (depth > HEADER_LIMITS.maxDepth) this.fail(`nesting deeper than ${HEADER_LIMITS.maxDepth}`);
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) out.push(this.value(depth + 1));
    return out;
  }

  private map(n: number, depth: number): Record<string, unknown> {
    if (n > HEADER_LIMITS.maxMapKeys) {
      this.fail(`map of ${n} keys; at most ${HEADER_LIMITS.maxMapKeys} allowed`);
    }
    if (depth > HEADER_LIMITS.maxDepth) this.fail(`nesting deeper than ${HEADER_LIMITS.maxDepth}`);
    // No prototype: a key such as `__proto__` is just a key.
    const out = Object.create(null) as Record<string, unknown>;
    for (let i = 0; i < n; i++) {
      const keyAt = this.pos;
      const key = this.key();
      if (Object.prototype.hasOwnProperty.call(out, key)) {
        this.pos = keyAt;
        this.fail(`duplicate key '${key}'`);
      }
      out[key] = this.value(depth + 1);
    }
    return out;
  }
}

function safeOrBig(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
}
