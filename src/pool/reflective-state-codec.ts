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
  /** Keys from the root to the field. */
  readonly chain: readonly string[];
  readonly path: string;
  readonly kind: Kind;
  /** Index into numbers (for optional kinds: the set flag; the value follows for a number). */
  readonly slot: number;
  /** Index into bigints (bigint kinds). */
  readonly big: number;
  readonly values: readonly string[] | undefined;
}

interface CompiledCodec {
  save(root: object, n: Float64Array, b: BigInt64Array, codec: ReflectiveStateCodec): void;
  restore(
    root: object,
    n: Float64Array,
    b: BigInt64Array,
    enums: readonly (readonly string[] | undefined)[],
    codec: ReflectiveStateCodec,
  ): void;
}

/** Compiled codecs by their code: one pair of functions per layout in the process. */
const COMPILED = new Map<string, CompiledCodec>();

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
  /** Per field, its enum values (restore looks them up by index). */
  private readonly enums: (readonly string[] | undefined)[] = [];
  /** The compiled save and restore (shared by codecs of one layout). */
  private readonly compiled: CompiledCodec;
  private numberCount = 0;
  private bigintCount = 0;
  /** One line per field (path and kind): what the layout is, for a fingerprint. */
  readonly description: string;

  constructor(
    private readonly root: object,
    /** Names the root in errors (e.g. "Planner"). */
    readonly name: string,
    options: StateCodecOptions = {},
  ) {
    const skip = new Set<object>(options.skip ?? []);
    const hints = options.hints ?? {};
    const seen = new Set<object>();
    this.walk(root, [], skip, new Set(options.skipPaths ?? []), hints, seen);
    for (const path of Object.keys(hints)) {
      if (!this.fields.some((f) => f.path === path)) {
        throw new Error(`${name}: a hint names ${path}, which is not a state field`);
      }
    }
    for (const f of this.fields) this.enums.push(f.values);
    this.compiled = this.compile();
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
    this.compiled.save(this.root, r.numbers, r.bigints, this);
  }

  /** Sets every field from `r` (written by `save` of a codec with the same description). */
  restore(r: StateRecord): void {
    this.checkRecord(r);
    this.compiled.restore(this.root, r.numbers, r.bigints, this.enums, this);
  }

  /**
   * Straight-line code for save and restore, one statement per field with its property path
   * spelled out: each access then has one shape to cache, and numbers move between the object
   * and the arrays unboxed (a loop over keys would box every non-integer number it loads, an
   * allocation per field per save). Keys are quoted with JSON.stringify, so no key is code.
   * Codecs of one layout (two planners) share the functions.
   */
  private compile(): CompiledCodec {
    const save: string[] = ['let v, i;'];
    const restore: string[] = ['let e;'];
    this.fields.forEach((f, at) => {
      const ref = 'r' + f.chain.map((k) => `[${JSON.stringify(k)}]`).join('');
      save.push(`v = ${ref};`);
      switch (f.kind) {
        case Kind.number:
          save.push(`if (typeof v !== 'number') c.fail(${at}, v); n[${f.slot}] = v;`);
          restore.push(`${ref} = n[${f.slot}];`);
          break;
        case Kind.boolean:
          save.push(`if (typeof v !== 'boolean') c.fail(${at}, v); n[${f.slot}] = v ? 1 : 0;`);
          restore.push(`${ref} = n[${f.slot}] === 1;`);
          break;
        case Kind.bigint:
          save.push(`if (typeof v !== 'bigint') c.fail(${at}, v); b[${f.big}] = v;`);
          restore.push(`${ref} = b[${f.big}];`);
          break;
        case Kind.enumeration: {
          const pick = f.values!.map((x, k) => `v === ${JSON.stringify(x)} ? ${k} : `).join('');
          save.push(`i = ${pick}-1; if (i < 0) c.fail(${at}, v); n[${f.slot}] = i;`);
          restore.push(`e = E[${at}][n[${f.slot}]]; if (e === undefined) c.failIndex(${at}); ${ref} = e;`);
          break;
        }
        case Kind.optionalBigint:
          save.push(
            `if (v === undefined) { n[${f.slot}] = 0; b[${f.big}] = 0n; } ` +
              `else if (typeof v === 'bigint') { n[${f.slot}] = 1; b[${f.big}] = v; } else c.fail(${at}, v);`,
          );
          restore.push(`${ref} = n[${f.slot}] === 1 ? b[${f.big}] : undefined;`);
          break;
        case Kind.optionalNumber:
          save.push(
            `if (v === undefined) { n[${f.slot}] = 0; n[${f.slot + 1}] = 0; } ` +
              `else if (typeof v === 'number') { n[${f.slot}] = 1; n[${f.slot + 1}] = v; } else c.fail(${at}, v);`,
          );
          restore.push(`${ref} = n[${f.slot}] === 1 ? n[${f.slot + 1}] : undefined;`);
          break;
      }
    });
    const saveCode = save.join('\n');
    const restoreCode = restore.join('\n');
    const key = `${saveCode}\n---\n${restoreCode}`;
    let compiled = COMPILED.get(key);
    if (!compiled) {
      compiled = {
        save: new Function('r', 'n', 'b', 'c', saveCode) as CompiledCodec['save'],
        restore: new Function('r', 'n', 'b', 'E', 'c', restoreCode) as CompiledCodec['restore'],
      };
      COMPILED.set(key, compiled);
    }
    return compiled;
  }

  /** Throws for a field whose value no longer fits its kind (called by the compiled save). */
  fail(field: number, v: unknown): never {
    throw this.changed(this.fields[field]!, v);
  }

  /** Throws for a saved enum index out of range (called by the compiled restore). */
  failIndex(field: number): never {
    const f = this.fields[field]!;
    throw new Error(`${this.name}.${f.path}: saved enum index is not one of its ${f.values!.length} values`);
  }

  private walk(
    obj: object,
    chain: readonly string[],
    skip: ReadonlySet<object>,
    skipPaths: ReadonlySet<string>,
    hints: Readonly<Record<string, StateFieldHint>>,
    seen: Set<object>,
  ): void {
    seen.add(obj);
    const holder = obj as Record<string, unknown>;
    for (const key of Object.keys(holder)) {
      const v = holder[key];
      const path = [...chain, key].join('.');
      const hint = hints[path];
      if (skipPaths.has(path) || (typeof v === 'object' && v !== null && skip.has(v))) continue;
      if (hint && 'enum' in hint) {
        if (typeof v !== 'string' || !hint.enum.includes(v)) {
          throw new Error(
            `${this.name}.${path}: hinted as one of ${hint.enum.join('|')}, holds ${describe(v)}`,
          );
        }
        this.add([...chain, key], path, Kind.enumeration, hint.enum);
        continue;
      }
      if (hint && 'optional' in hint) {
        if (!(v === undefined || typeof v === hint.optional)) {
          throw new Error(
            `${this.name}.${path}: hinted as ${hint.optional} or undefined, holds ${describe(v)}`,
          );
        }
        this.add(
          [...chain, key],
          path,
          hint.optional === 'bigint' ? Kind.optionalBigint : Kind.optionalNumber,
        );
        continue;
      }
      if (typeof v === 'number') this.add([...chain, key], path, Kind.number);
      else if (typeof v === 'boolean') this.add([...chain, key], path, Kind.boolean);
      else if (typeof v === 'bigint') this.add([...chain, key], path, Kind.bigint);
      else if (isPlainState(v)) {
        if (seen.has(v))
          throw new Error(`${this.name}.${path}: refers to an object reached before (shared state)`);
        this.walk(v, [...chain, key], skip, skipPaths, hints, seen);
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

  private add(chain: readonly string[], path: string, kind: Kind, values?: readonly string[]): void {
    const big = kind === Kind.bigint || kind === Kind.optionalBigint ? this.bigintCount++ : -1;
    const slot = kind === Kind.bigint ? -1 : this.numberCount;
    if (kind !== Kind.bigint) this.numberCount += kind === Kind.optionalNumber ? 2 : 1;
    this.fields.push({ chain, path, kind, slot, big, values });
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
