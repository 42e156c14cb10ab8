import type { TypedArrayArena } from './typed-array-arena.js';

/** What a field whose value does not tell its type holds (a string, or undefined at layout time). */
export type StateFieldHint =
  /** A string from a fixed set (an enum), stored as its index. */
  | { enum: readonly string[] }
  /** A bigint or undefined. */
  | { optional: 'bigint' }
  /** A number or undefined. */
  | { optional: 'number' };

export interface StateCodecOptions {
  /** Objects that are not state (the shared configuration), skipped wherever they are referenced. */
  skip?: readonly object[];
  /** Field paths that are not state (e.g. the field that holds this codec). */
  skipPaths?: readonly string[];
  /** Per field path (e.g. `aeb.cause`), what it holds: required for strings and undefined values. */
  hints?: Readonly<Record<string, StateFieldHint>>;
}

/** Storage of one saved state: numbers (booleans, enum indices, set flags) and bigints. */
export interface StateRecord {
  readonly numbers: Float64Array;
  readonly bigints: BigInt64Array;
}

const Kind = {
  number: 0,
  boolean: 1,
  bigint: 2,
  enumeration: 3,
  optionalBigint: 4,
  optionalNumber: 5,
} as const;
type Kind = (typeof Kind)[keyof typeof Kind];

interface Field {
  readonly holder: Record<string, unknown>;
  readonly key: string;
  readonly path: string;
  readonly kind: Kind;
  /** Index into numbers (for optional kinds: the set flag; the value follows for a number). */
  readonly slot: number;
  /** Index into bigints (bigint kinds). */
  readonly big: number;
  readonly values: readonly string[] | undefined;
}

const KIND_NAMES = ['number', 'boolean', 'bigint', 'enum', 'bigint?', 'number?'];

/**
 * Saves and restores the state of an object graph (e.g. a planner and its parts) into typed
 * arrays, found by reflection over its own fields so that a field added later is never
 * forgotten: numbers, booleans, bigints and strings of a known set, in nested objects
 * (recursively). The fields are listed once, from the instance the codec is built for, and
 * save/restore walk that list without allocating.
 *
 * Whatever the codec cannot store exactly is refused with an error naming the field: a value of
 * another type (an array, a Map, a function, null, a string without an `enum` hint, undefined
 * without an `optional` hint) when the codec is built, and a field whose type has changed since
 * (or a string outside its set) when saving. Two instances of one class give the same layout,
 * which `fingerprint` identifies.
 */
export class ReflectiveStateCodec {
  private readonly fields: Field[] = [];
  private numberCount = 0;
  private bigintCount = 0;
  /** One line per field (path and kind): what the layout is, for a fingerprint. */
  readonly description: string;

  constructor(
    root: object,
    /** Names the root in errors (e.g. "Planner"). */
    readonly name: string,
    options: StateCodecOptions = {},
  ) {
    const skip = new Set<object>(options.skip ?? []);
    const hints = options.hints ?? {};
    const seen = new Set<object>();
    this.walk(root, '', skip, new Set(options.skipPaths ?? []), hints, seen);
    for (const path of Object.keys(hints)) {
      if (!this.fields.some((f) => f.path === path)) {
        throw new Error(`${name}: a hint names ${path}, which is not a state field`);
      }
    }
    this.description = this.fields
      .map((f) => `${f.path}:${KIND_NAMES[f.kind]}${f.values ? `(${f.values.join('|')})` : ''}`)
      .join('\n');
  }

  /** Field paths in layout order (for tests and messages). */
  get paths(): readonly string[] {
    return this.fields.map((f) => f.path);
  }

  /** Storage for one saved state, placed in `arena`. */
  createRecord(arena: TypedArrayArena): StateRecord {
    return {
      numbers: arena.f64(this.numberCount, `${this.name} state numbers`),
      bigints: arena.i64(this.bigintCount, `${this.name} state bigints`),
    };
  }

  /** Writes the current value of every field into `r`; throws naming a field that changed type. */
  save(r: StateRecord): void {
    this.checkRecord(r);
    const n = r.numbers;
    const b = r.bigints;
    const fields = this.fields;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      const v = f.holder[f.key];
      switch (f.kind) {
        case Kind.number:
          if (typeof v !== 'number') throw this.changed(f, v);
          n[f.slot] = v;
          break;
        case Kind.boolean:
          if (typeof v !== 'boolean') throw this.changed(f, v);
          n[f.slot] = v ? 1 : 0;
          break;
        case Kind.bigint:
          if (typeof v !== 'bigint') throw this.changed(f, v);
          b[f.big] = v;
          break;
        case Kind.enumeration: {
          const index = typeof v === 'string' ? f.values!.indexOf(v) : -1;
          if (index < 0) throw this.changed(f, v);
          n[f.slot] = index;
          break;
        }
        case Kind.optionalBigint:
          if (v === undefined) {
            n[f.slot] = 0;
            b[f.big] = 0n;
          } else if (typeof v === 'bigint') {
            n[f.slot] = 1;
            b[f.big] = v;
          } else throw this.changed(f, v);
          break;
        case Kind.optionalNumber:
          if (v === undefined) {
            n[f.slot] = 0;
            n[f.slot + 1] = 0;
          } else if (typeof v === 'number') {
            n[f.slot] = 1;
            n[f.slot + 1] = v;
          } else throw this.changed(f, v);
          break;
      }
    }
  }

  /** Sets every field from `r` (written by `save` of a codec with the same description). */
  restore(r: StateRecord): void {
    this.checkRecord(r);
    const n = r.numbers;
    const b = r.bigints;
    const fields = this.fields;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      const h = f.holder;
      switch (f.kind) {
        case Kind.number:
          h[f.key] = n[f.slot]!;
          break;
        case Kind.boolean:
          h[f.key] = n[f.slot] === 1;
          break;
        case Kind.bigint:
          h[f.key] = b[f.big]!;
          break;
        case Kind.enumeration: {
          const v = f.values![n[f.slot]!];
          if (v === undefined) {
            throw new Error(
              `${this.name}.${f.path}: saved enum index ${n[f.slot]} is not one of ${f.values!.length}`,
            );
          }
          h[f.key] = v;
          break;
        }
        case Kind.optionalBigint:
          h[f.key] = n[f.slot] === 1 ? b[f.big]! : undefined;
          break;
        case Kind.optionalNumber:
          h[f.key] = n[f.slot] === 1 ? n[f.slot + 1]! : undefined;
          break;
      }
    }
  }

  private walk(
    obj: object,
    prefix: string,
    skip: ReadonlySet<object>,
    skipPaths: ReadonlySet<string>,
    hints: Readonly<Record<string, StateFieldHint>>,
    seen: Set<object>,
  ): void {
    seen.add(obj);
    const holder = obj as Record<string, unknown>;
    for (const key of Object.keys(holder)) {
      const v = holder[key];
      const path = prefix + key;
      const hint = hints[path];
      if (skipPaths.has(path) || (typeof v === 'object' && v !== null && skip.has(v))) continue;
      if (hint && 'enum' in hint) {
        if (typeof v !== 'string' || !hint.enum.includes(v)) {
          throw new Error(
            `${this.name}.${path}: hinted as one of ${hint.enum.join('|')}, holds ${describe(v)}`,
          );
        }
        this.add(holder, key, path, Kind.enumeration, hint.enum);
        continue;
      }
      if (hint && 'optional' in hint) {
        if (!(v === undefined || typeof v === hint.optional)) {
          throw new Error(
            `${this.name}.${path}: hinted as ${hint.optional} or undefined, holds ${describe(v)}`,
          );
        }
        this.add(holder, key, path, hint.optional === 'bigint' ? Kind.optionalBigint : Kind.optionalNumber);
        continue;
      }
      if (typeof v === 'number') this.add(holder, key, path, Kind.number);
      else if (typeof v === 'boolean') this.add(holder, key, path, Kind.boolean);
      else if (typeof v === 'bigint') this.add(holder, key, path, Kind.bigint);
      else if (isPlainState(v)) {
        if (seen.has(v))
          throw new Error(`${this.name}.${path}: refers to an object reached before (shared state)`);
        this.walk(v, `${path}.`, skip, skipPaths, hints, seen);
      } else {
        const why =
          typeof v === 'string'
            ? 'a string needs an enum hint'
            : v === undefined
              ? 'undefined needs an optional hint'
              : 'supported: number, boolean, bigint, hinted string or undefined, and objects of these';
        throw new Error(`${this.name}.${path}: cannot save ${describe(v)} (${why})`);
      }
    }
  }

  private add(
    holder: Record<string, unknown>,
    key: string,
    path: string,
    kind: Kind,
    values?: readonly string[],
  ): void {
    const big = kind === Kind.bigint || kind === Kind.optionalBigint ? this.bigintCount++ : -1;
    const slot = kind === Kind.bigint ? -1 : this.numberCount;
    if (kind !== Kind.bigint) this.numberCount += kind === Kind.optionalNumber ? 2 : 1;
    this.fields.push({ holder, key, path, kind, slot, big, values });
  }

  private checkRecord(r: StateRecord): void {
    if (r.numbers.length !== this.numberCount || r.bigints.length !== this.bigintCount) {
      throw new Error(
        `${this.name}: record of ${r.numbers.length} numbers and ${r.bigints.length} bigints, ` +
          `the state has ${this.numberCount} and ${this.bigintCount}`,
      );
    }
  }

  private changed(f: Field, v: unknown): Error {
    const expected = f.kind === Kind.enumeration ? `one of ${f.values!.join('|')}` : KIND_NAMES[f.kind];
    return new Error(
      `${this.name}.${f.path}: was ${expected} when the codec was built, holds ${describe(v)} now`,
    );
  }
}

/** A nested object whose own fields are state: a plain object or a class instance, not a container. */
function isPlainState(v: unknown): v is object {
  if (typeof v !== 'object' || v === null) return false;
  if (Array.isArray(v) || ArrayBuffer.isView(v) || v instanceof Map || v instanceof Set) return false;
  if (
    v instanceof ArrayBuffer ||
    (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer)
  )
    return false;
  return !(v instanceof Date || v instanceof RegExp || v instanceof Promise || v instanceof WeakMap);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return `an object (${(v as object).constructor?.name ?? 'no prototype'})`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}
