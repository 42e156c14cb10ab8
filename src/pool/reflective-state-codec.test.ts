import { describe, expect, it } from 'vitest';
import { ReflectiveStateCodec } from './reflective-state-codec.js';
import { TypedArrayArena } from './typed-array-arena.js';

class Inner {
  count = 3;
  on = true;
  mode: 'idle' | 'busy' = 'idle';
}

class Outer {
  readonly config = { gain: 2 };
  readonly inner = new Inner();
  readonly plain = { t: -Infinity, n: NaN };
  stamp = 5n;
  epoch: bigint | undefined = undefined;
  last: number | undefined = 1.5;
  z = -0;
}

const HINTS = {
  'inner.mode': { enum: ['idle', 'busy'] },
  epoch: { optional: 'bigint' },
  last: { optional: 'number' },
} as const;

function codecOf(o: object): ReflectiveStateCodec {
  return new ReflectiveStateCodec(o, 'Outer', { skip: [(o as Outer).config], hints: HINTS });
}

describe('ReflectiveStateCodec', () => {
  it('round-trips numbers (NaN, ±Infinity, -0), booleans, enums, bigints and optionals through shared memory', () => {
    const a = new Outer();
    const codec = codecOf(a);
    expect(codec.paths).toEqual([
      'inner.count',
      'inner.on',
      'inner.mode',
      'plain.t',
      'plain.n',
      'stamp',
      'epoch',
      'last',
      'z',
    ]);
    const m = TypedArrayArena.measuring();
    codec.createRecord(m);
    const sab = new SharedArrayBuffer(m.bytesUsed);
    const rec = codec.createRecord(TypedArrayArena.over(sab, 0, m.bytesUsed));
    a.inner.count = 7;
    a.inner.on = false;
    a.inner.mode = 'busy';
    a.plain.t = Infinity;
    a.stamp = -(2n ** 63n);
    a.epoch = 123n;
    a.last = undefined;
    codec.save(rec);
    const b = new Outer();
    b.config.gain = 9; // not state: kept
    codecOf(b).restore(rec);
    expect(b.inner).toEqual(a.inner);
    expect(b.plain.t).toBe(Infinity);
    expect(b.plain.n).toBeNaN();
    expect(b.stamp).toBe(-(2n ** 63n));
    expect(b.epoch).toBe(123n);
    expect(b.last).toBeUndefined();
    expect(Object.is(b.z, -0)).toBe(true);
    expect(b.config.gain).toBe(9);
    expect(codecOf(b).description).toBe(codec.description);
  });

  it('refuses, naming the field, what it cannot store exactly', () => {
    const cases: [object, RegExp][] = [
      [{ list: [1, 2] }, /T\.list: cannot save an object \(Array\)/],
      [{ m: new Map() }, /T\.m: cannot save an object \(Map\)/],
      [{ buf: new Float64Array(2) }, /T\.buf: cannot save an object \(Float64Array\)/],
      [{ f: () => 0 }, /T\.f: cannot save function/],
      [{ n: null }, /T\.n: cannot save null/],
      [{ s: 'x' }, /T\.s: cannot save the string "x" \(a string needs an enum hint\)/],
      [{ u: undefined }, /T\.u: cannot save undefined undefined \(undefined needs an optional hint\)/],
      [{ deep: { deeper: { sym: Symbol('x') } } }, /T\.deep\.deeper\.sym: cannot save symbol/],
    ];
    for (const [o, msg] of cases) expect(() => new ReflectiveStateCodec(o, 'T')).toThrow(msg);
    const shared = { v: 1 };
    expect(() => new ReflectiveStateCodec({ a: shared, b: shared }, 'T')).toThrow(
      'T.b: refers to an object reached before (shared state)',
    );
    expect(() => new ReflectiveStateCodec({ a: 1 }, 'T', { hints: { b: { optional: 'number' } } })).toThrow(
      'T: a hint names b, which is not a state field',
    );
    expect(() => new ReflectiveStateCodec({ s: 'zzz' }, 'T', { hints: { s: { enum: ['a'] } } })).toThrow(
      'T.s: hinted as one of a, holds the string "zzz"',
    );
  });

  it('refuses to save a field whose type changed, or a string outside its set', () => {
    const a = new Outer();
    const codec = codecOf(a);
    const rec = codec.createRecord(TypedArrayArena.measuring());
    (a.inner as { count: unknown }).count = '3';
    expect(() => codec.save(rec)).toThrow(
      'Outer.inner.count: was number when the codec was built, holds the string "3" now',
    );
    a.inner.count = 3;
    (a.inner as { mode: string }).mode = 'gone';
    expect(() => codec.save(rec)).toThrow(
      'Outer.inner.mode: was one of idle|busy when the codec was built, holds the string "gone" now',
    );
    a.inner.mode = 'idle';
    (a as { epoch: unknown }).epoch = 5;
    expect(() => codec.save(rec)).toThrow(
      'Outer.epoch: was bigint? when the codec was built, holds number 5 now',
    );
    const small = { numbers: new Float64Array(1), bigints: new BigInt64Array(2) };
    expect(() => codec.save(small)).toThrow(
      'Outer: record of 1 numbers and 2 bigints, the state has 9 and 2',
    );
  });
});
