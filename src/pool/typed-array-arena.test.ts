import { describe, expect, it } from 'vitest';
import { TypedArrayArena, alignUp, copyTypedArrays, typedArrayFields } from './typed-array-arena.js';

/** Lays out one of each kind, odd lengths, as an object would. */
function layOut(arena: TypedArrayArena) {
  return {
    a: arena.u8(3, 'a'),
    b: arena.f64(2, 'b'),
    c: arena.u16(5, 'c'),
    d: arena.i64(1, 'd'),
    e: arena.f32(3, 'e'),
    f: arena.i32(1, 'f'),
    g: arena.u32(7, 'g'),
  };
}

describe('TypedArrayArena', () => {
  it('places every array 8-byte aligned and measures exactly what the same code lays out', () => {
    const m = TypedArrayArena.measuring();
    const measured = layOut(m);
    expect(m.isMeasuring).toBe(true);
    // 3 → 8, 16, 10 → 16, 8, 12 → 16, 4 → 8, 28 → 32
    expect(m.bytesUsed).toBe(8 + 16 + 16 + 8 + 16 + 8 + 32);
    expect(measured.b.buffer).not.toBe(measured.c.buffer); // ordinary arrays of their own
    const sab = new SharedArrayBuffer(16 + m.bytesUsed);
    const arena = TypedArrayArena.over(sab, 16, m.bytesUsed, 'test region');
    const placed = layOut(arena);
    expect(arena.bytesUsed).toBe(m.bytesUsed);
    for (const v of Object.values(placed)) {
      expect(v.buffer).toBe(sab);
      expect(v.byteOffset % 8).toBe(0);
      expect(v.byteOffset).toBeGreaterThanOrEqual(16);
    }
    expect(placed.g.byteOffset + placed.g.byteLength).toBe(16 + m.bytesUsed - 4);
    // Shared: another view of the same bytes sees a write.
    placed.b[1] = Math.PI;
    expect(new Float64Array(sab, placed.b.byteOffset, 2)[1]).toBe(Math.PI);
    placed.d[0] = -(2n ** 62n);
    expect(new BigInt64Array(sab, placed.d.byteOffset, 1)[0]).toBe(-(2n ** 62n));
    expect(alignUp(0)).toBe(0);
    expect(alignUp(9)).toBe(16);
  });

  it('refuses a region too small, saying what did not fit and how many bytes it needs', () => {
    const sab = new SharedArrayBuffer(64);
    const arena = TypedArrayArena.over(sab, 8, 40, 'state bank 0');
    arena.f64(3, 'first');
    expect(() => arena.f64(3, 'TrackTable.cov')).toThrow(
      'state bank 0: no room for TrackTable.cov (3 × 8 = 24 bytes at offset 24): 16 of 40 bytes left; the region needs at least 48 bytes',
    );
    expect(() => TypedArrayArena.over(sab, 4, 8)).toThrow(
      /byte offset 4 is not a non-negative multiple of 8/,
    );
    expect(() => TypedArrayArena.over(sab, 32, 40)).toThrow(
      /40 bytes at offset 32 does not fit the buffer's 64 bytes/,
    );
    expect(() => arena.u8(-1, 'x')).toThrow(/x: bad length -1/);
  });

  it('copies typed-array fields found by reflection and refuses objects that differ', () => {
    class Two {
      readonly x: Float64Array;
      readonly y: Uint16Array;
      readonly label = 'not an array';
      constructor(n: number, arena = TypedArrayArena.measuring()) {
        this.x = arena.f64(n, 'x');
        this.y = arena.u16(n, 'y');
      }
    }
    const a = new Two(3);
    a.x.set([1, 2, 3]);
    a.y.set([4, 5, 6]);
    const sab = new SharedArrayBuffer(64);
    const b = new Two(3, TypedArrayArena.over(sab, 0, 64));
    copyTypedArrays(typedArrayFields(b), typedArrayFields(a), 'Two');
    expect([...b.x]).toEqual([1, 2, 3]);
    expect([...b.y]).toEqual([4, 5, 6]);
    expect(() => copyTypedArrays(typedArrayFields(new Two(2)), typedArrayFields(a), 'Two')).toThrow(
      'Two: field 0 is Float64Array(3) in the source, Float64Array(2) in the target',
    );
    expect(() => copyTypedArrays([a.x], typedArrayFields(a), 'Two')).toThrow(
      'Two: 2 typed-array fields into 1',
    );
  });
});
