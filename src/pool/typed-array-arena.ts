/** The typed arrays an arena places; BigInt64Array holds nanosecond stamps. */
export type ArenaArray =
  Float64Array | Float32Array | Int32Array | Uint32Array | Uint16Array | Uint8Array | BigInt64Array;

/** Every allocation starts on this boundary (the widest element is 8 bytes). */
export const ARENA_ALIGN = 8;

/** `n` rounded up to a multiple of ARENA_ALIGN. */
export function alignUp(n: number): number {
  return Math.ceil(n / ARENA_ALIGN) * ARENA_ALIGN;
}

/**
 * Bump allocator of typed arrays inside one region of a buffer (a SharedArrayBuffer, so that
 * the state an object keeps in them is shared between threads), each array 8-byte aligned.
 *
 * Without a buffer it measures: every allocation is an ordinary array of its own and only the
 * bytes are counted, so a region is sized by running the very code that later lays it out
 * (`bytesUsed` after building the objects), and objects built on it work as usual.
 * Allocation is for construction time only; nothing here runs per message.
 */
export class TypedArrayArena {
  private offset = 0;

  private constructor(
    private readonly buffer: ArrayBufferLike | undefined,
    /** Where the region starts in the buffer, bytes (a multiple of 8). */
    readonly byteOffset: number,
    /** Size of the region, bytes (Infinity when measuring). */
    readonly byteLength: number,
    /** Names the region in errors (e.g. "tracker state bank 1"). */
    readonly name: string,
  ) {}

  /** An arena that only counts bytes; its arrays are ordinary ones. */
  static measuring(name = 'arena'): TypedArrayArena {
    return new TypedArrayArena(undefined, 0, Infinity, name);
  }

  /**
   * An arena over `byteLength` bytes of `buffer` from `byteOffset` (8-byte aligned; the region
   * must lie inside the buffer).
   */
  static over(
    buffer: ArrayBufferLike,
    byteOffset: number,
    byteLength: number,
    name = 'arena',
  ): TypedArrayArena {
    if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % ARENA_ALIGN !== 0) {
      throw new Error(`${name}: byte offset ${byteOffset} is not a non-negative multiple of ${ARENA_ALIGN}`);
    }
    if (!Number.isInteger(byteLength) || byteLength < 0 || byteOffset + byteLength > buffer.byteLength) {
      throw new Error(
        `${name}: region of ${byteLength} bytes at offset ${byteOffset} does not fit the buffer's ${buffer.byteLength} bytes`,
      );
    }
    return new TypedArrayArena(buffer, byteOffset, byteLength, name);
  }

  /** True for an arena that only counts bytes (`measuring`). */
  get isMeasuring(): boolean {
    return this.buffer === undefined;
  }

  /** Bytes handed out so far, alignment included. */
  get bytesUsed(): number {
    return this.offset;
  }

  f64(length: number, what: string): Float64Array {
    return this.place(Float64Array, length, what);
  }
  f32(length: number, what: string): Float32Array {
    return this.place(Float32Array, length, what);
  }
  i32(length: number, what: string): Int32Array {
    return this.place(Int32Array, length, what);
  }
  u32(length: number, what: string): Uint32Array {
    return this.place(Uint32Array, length, what);
  }
  u16(length: number, what: string): Uint16Array {
    return this.place(Uint16Array, length, what);
  }
  u8(length: number, what: string): Uint8Array {
    return this.place(Uint8Array, length, what);
  }
  i64(length: number, what: string): BigInt64Array {
    return this.place(BigInt64Array, length, what);
  }

  private place<T extends ArenaArray>(
    Ctor: {
      new (length: number): T;
      new (buffer: ArrayBufferLike, offset: number, length: number): T;
      BYTES_PER_ELEMENT: number;
    },
    length: number,
    what: string,
  ): T {
    if (!Number.isInteger(length) || length < 0) {
      throw new Error(`${this.name}: ${what}: bad length ${length}`);
    }
    const bytes = length * Ctor.BYTES_PER_ELEMENT;
    const start = this.offset;
    const end = start + alignUp(bytes);
    if (end > this.byteLength) {
      throw new Error(
        `${this.name}: no room for ${what} (${length} × ${Ctor.BYTES_PER_ELEMENT} = ${bytes} bytes at offset ` +
          `${start}): ${this.byteLength - start} of ${this.byteLength} bytes left; the region needs at least ${end} bytes`,
      );
    }
    this.offset = end;
    if (this.buffer === undefined) return new Ctor(length);
    return new Ctor(this.buffer, this.byteOffset + start, length);
  }
}

/**
 * The typed-array fields of `obj`, in property order: what `copyTypedArrays` copies, found by
 * reflection so that a field added later is never forgotten. Taken once per object (at the end
 * of its constructor), so that copying allocates nothing.
 */
export function typedArrayFields(obj: object): ArenaArray[] {
  const out: ArenaArray[] = [];
  for (const v of Object.values(obj))
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) out.push(v as ArenaArray);
  return out;
}

/**
 * Copies each array of `src` into the array of `dst` at the same place (lists from
 * `typedArrayFields` of two objects of one class); throws naming `what` when they differ in
 * count, type or length.
 */
export function copyTypedArrays(dst: readonly ArenaArray[], src: readonly ArenaArray[], what: string): void {
  if (dst.length !== src.length) {
    throw new Error(`${what}: ${src.length} typed-array fields into ${dst.length}`);
  }
  for (let i = 0; i < src.length; i++) {
    const d = dst[i]!;
    const s = src[i]!;
    if (d.length !== s.length || d.constructor !== s.constructor) {
      throw new Error(
        `${what}: field ${i} is ${s.constructor.name}(${s.length}) in the source, ${d.constructor.name}(${d.length}) in the target`,
      );
    }
    (d as Float64Array).set(s as Float64Array);
  }
}
