import { TrackerSnapshot, type MultiSensorTracker } from '../fusion/multi-sensor-tracker.js';
import { Planner, type PlannerSnapshot } from '../planning/planner.js';
import { TypedArrayArena } from '../pool/typed-array-arena.js';
import { EGO } from '../wire/layouts.js';
import type { SensorConfig } from '../wire/rig.js';

/** What a block is laid out for; a block attached with another layout is refused. */
export interface TrackerStateLayout {
  maxTracks: number;
  /** The tracker's sensors (their ids and kinds go into the layout's fingerprint). */
  sensors: readonly SensorConfig[];
  /** Input channels of the tracker thread (one handled commit index each). */
  inputs: number;
  /** Whether the block carries a planner's state too (default true). */
  planning?: boolean;
}

/** The tracker thread's own state saved with the tracker and the planner. */
export interface TrackerThreadState {
  /** Sequence numbers of the last tracks and plan published. */
  tracksSeq: number;
  planSeq: number;
  /** Stamp of the newest odometry record taken (ns). */
  egoStampNs: bigint;
  /** Stamp of the newest measurement fused (ns). */
  newestFusedNs: bigint;
  /** How many times the thread was replaced (its generation when it saved). */
  generation: number;
  /** The newest odometry record (EGO.stride values). */
  ego: Float64Array;
  /**
   * Per input channel (the thread's input order), the scheduler block's consumed count at the
   * save: frames finished after it are not in the saved state (what a failover loses).
   */
  consumed: Uint32Array;
  /** When the save was made (monotonic ns). */
  savedAtNs: bigint;
}

/** A TrackerThreadState to save from or restore into, sized for `inputs` channels. */
export function createTrackerThreadState(inputs: number): TrackerThreadState {
  return {
    tracksSeq: 0,
    planSeq: 0,
    egoStampNs: 0n,
    newestFusedNs: 0n,
    generation: 0,
    ego: new Float64Array(EGO.stride),
    consumed: new Uint32Array(inputs),
    savedAtNs: 0n,
  };
}

/** What `info` tells for status. */
export interface TrackerStateInfo {
  /** Saves published since the block was created. */
  saves: number;
  /** Bank holding the newest complete save, or -1 before the first. */
  activeBank: number;
  /** savedAtNs and generation of that save (undefined / -1 before the first). */
  savedAtNs: bigint | undefined;
  generation: number;
  /** Size of the block (both banks and the header), bytes. */
  bytes: number;
}

const MAGIC = 0x54534d53; // 'SMST' little-endian
/** Version of the header and bank layout; bumped when either changes meaning. */
export const TRACKER_STATE_LAYOUT_VERSION = 1;
const HEADER_BYTES = 64;
/** Banks start on cache lines. */
const BANK_ALIGN = 64;
/** Header words (Int32Array over the first HEADER_BYTES). */
const H = {
  magic: 0,
  version: 1,
  fingerprint: 2,
  maxTracks: 3,
  sensors: 4,
  inputs: 5,
  planning: 6,
  bankBytes: 7,
  /** Bank of the newest complete save, -1 for none: the one word a save publishes with. */
  active: 8,
  saves: 9,
  /** Per bank: odd while being written, even when complete (a seqlock for readers). */
  bankSeq: 10,
} as const;
/** Places in a bank's thread numbers / stamps. */
const TN = { tracksSeq: 0, planSeq: 1, generation: 2, count: 3 } as const;
const TS = { egoStampNs: 0, newestFusedNs: 1, savedAtNs: 2, count: 3 } as const;
/** Attempts at reading a bank that a live writer keeps replacing. */
const READ_ATTEMPTS = 8;

/** One bank's views: the tracker snapshot, the planner's, the thread's scalars. */
class Bank {
  readonly tracker: TrackerSnapshot;
  readonly planner: PlannerSnapshot | undefined;
  readonly threadNumbers: Float64Array;
  readonly threadStamps: BigInt64Array;
  readonly ego: Float64Array;
  readonly consumed: Uint32Array;

  constructor(arena: TypedArrayArena, layout: TrackerStateLayout, template: Planner | undefined) {
    this.tracker = new TrackerSnapshot(layout.maxTracks, arena);
    this.planner = template?.createSnapshot(arena);
    this.threadNumbers = arena.f64(TN.count, 'thread numbers');
    this.threadStamps = arena.i64(TS.count, 'thread stamps');
    this.ego = arena.f64(EGO.stride, 'thread ego record');
    this.consumed = arena.u32(layout.inputs, 'thread consumed counts');
  }
}

/**
 * The tracker thread's checkpoint in shared memory, double-buffered, so that a thread started
 * in place of a dead one resumes where it left off (same track ids, no burst of new tracks).
 *
 * A SharedArrayBuffer with a small header (magic, layout version, a fingerprint of the layout
 * and its parts: maxTracks, sensor and input counts, whether it holds a planner; the active
 * bank; the save count) and two banks, each one complete state: tracker snapshot, planner
 * snapshot, the thread's scalars. `save` writes the inactive bank and then publishes it with
 * one Atomics store of the active index, so a writer killed mid-save leaves the previous bank
 * complete and active; `restore` reads the active bank, and retries if a writer still running
 * replaced it meanwhile (a per-bank sequence word). See the header words in H.
 */
export class TrackerStateBlock {
  private readonly header: Int32Array;
  private readonly banks: readonly [Bank, Bank];
  private readonly plannerLayout: string | undefined;
  /** The last planner whose layout was checked against the block's (checked once per instance). */
  private checkedPlanner: Planner | undefined;

  private constructor(
    readonly sab: SharedArrayBuffer,
    readonly layout: TrackerStateLayout,
    template: Planner | undefined,
    bankBytes: number,
  ) {
    this.header = new Int32Array(sab, 0, HEADER_BYTES / 4);
    this.plannerLayout = template?.stateLayout;
    this.banks = [0, 1].map(
      (k) =>
        new Bank(
          TypedArrayArena.over(sab, HEADER_BYTES + k * bankBytes, bankBytes, `tracker state bank ${k}`),
          layout,
          template,
        ),
    ) as [Bank, Bank];
  }

  /** Bytes of a block for `layout` (header and both banks). */
  static bytesFor(layout: TrackerStateLayout): number {
    return HEADER_BYTES + 2 * bankBytesFor(layout, templateFor(layout));
  }

  /** A new, empty block (no save yet) in a fresh SharedArrayBuffer: made once, by the main thread. */
  static create(layout: TrackerStateLayout): TrackerStateBlock {
    checkLayout(layout);
    const template = templateFor(layout);
    const bankBytes = bankBytesFor(layout, template);
    const sab = new SharedArrayBuffer(HEADER_BYTES + 2 * bankBytes);
    const h = new Int32Array(sab, 0, HEADER_BYTES / 4);
    h[H.version] = TRACKER_STATE_LAYOUT_VERSION;
    h[H.fingerprint] = fingerprintOf(layout, template, bankBytes);
    h[H.maxTracks] = layout.maxTracks;
    h[H.sensors] = layout.sensors.length;
    h[H.inputs] = layout.inputs;
    h[H.planning] = template ? 1 : 0;
    h[H.bankBytes] = bankBytes;
    h[H.active] = -1;
    // Magic last: a block is recognised only once its header is whole.
    Atomics.store(h, H.magic, MAGIC);
    return new TrackerStateBlock(sab, layout, template, bankBytes);
  }

  /**
   * The block in `sab` (made by `create` in another thread), checked against `layout`: a block
   * laid out for another maxTracks, sensor rig, input count or state version is refused, naming
   * what differs.
   */
  static attach(sab: SharedArrayBuffer, layout: TrackerStateLayout): TrackerStateBlock {
    checkLayout(layout);
    if (sab.byteLength < HEADER_BYTES) {
      throw new Error(
        `tracker state block: ${sab.byteLength} bytes, less than its ${HEADER_BYTES}-byte header`,
      );
    }
    const h = new Int32Array(sab, 0, HEADER_BYTES / 4);
    if (Atomics.load(h, H.magic) !== MAGIC) {
      throw new Error('tracker state block: no block in this buffer (bad magic)');
    }
    if (h[H.version] !== TRACKER_STATE_LAYOUT_VERSION) {
      throw new Error(
        `tracker state block: layout version ${h[H.version]}, this build reads ${TRACKER_STATE_LAYOUT_VERSION}`,
      );
    }
    const template = templateFor(layout);
    const want: [string, number, number][] = [
      ['maxTracks', h[H.maxTracks]!, layout.maxTracks],
      ['sensor count', h[H.sensors]!, layout.sensors.length],
      ['input count', h[H.inputs]!, layout.inputs],
      ['planning (1: with planner state)', h[H.planning]!, template ? 1 : 0],
    ];
    for (const [what, had, asked] of want) {
      if (had !== asked) {
        throw new Error(`tracker state block: laid out for ${what} ${had}, attached with ${asked}`);
      }
    }
    const bankBytes = bankBytesFor(layout, template);
    if (h[H.bankBytes] !== bankBytes || sab.byteLength !== HEADER_BYTES + 2 * bankBytes) {
      throw new Error(
        `tracker state block: banks of ${h[H.bankBytes]} bytes (buffer ${sab.byteLength}), this build lays ` +
          `them out in ${bankBytes} (the saved state's fields differ)`,
      );
    }
    const fp = fingerprintOf(layout, template, bankBytes);
    if (h[H.fingerprint] !== fp) {
      throw new Error(
        `tracker state block: layout fingerprint ${hex(h[H.fingerprint]!)}, attached with ${hex(fp)} ` +
          '(the sensors’ ids or kinds, or the fields of the saved state, differ)',
      );
    }
    return new TrackerStateBlock(sab, layout, template, bankBytes);
  }

  /**
   * Saves the whole state: writes the inactive bank, then publishes it (one Atomics store).
   * Pass the planner when the block carries planner state. No allocation.
   */
  save(tracker: MultiSensorTracker, planner: Planner | undefined, thread: TrackerThreadState): void {
    this.publish(this.writeInactiveBank(tracker, planner, thread));
  }

  /**
   * The first half of `save`: writes the whole state into the inactive bank and returns its
   * index, publishing nothing (a writer that stops here, or dies in here, leaves the previous
   * save active). Exposed so that tests can stop a save between its halves.
   */
  writeInactiveBank(
    tracker: MultiSensorTracker,
    planner: Planner | undefined,
    thread: TrackerThreadState,
  ): number {
    this.checkParts(tracker, planner, thread);
    const h = this.header;
    const k = Atomics.load(h, H.active) === 0 ? 1 : 0;
    const bank = this.banks[k];
    const seq = Atomics.load(h, H.bankSeq + k);
    Atomics.store(h, H.bankSeq + k, seq | 1);
    tracker.saveSnapshot(bank.tracker);
    if (planner && bank.planner) planner.saveSnapshot(bank.planner);
    const n = bank.threadNumbers;
    n[TN.tracksSeq] = thread.tracksSeq;
    n[TN.planSeq] = thread.planSeq;
    n[TN.generation] = thread.generation;
    const s = bank.threadStamps;
    s[TS.egoStampNs] = thread.egoStampNs;
    s[TS.newestFusedNs] = thread.newestFusedNs;
    s[TS.savedAtNs] = thread.savedAtNs;
    bank.ego.set(thread.ego);
    bank.consumed.set(thread.consumed);
    Atomics.store(h, H.bankSeq + k, (seq | 1) + 1);
    return k;
  }

  /** The second half of `save`: makes bank `k` (written by `writeInactiveBank`) the active one. */
  publish(k: number): void {
    if (k !== 0 && k !== 1) throw new Error(`tracker state block: no bank ${k}`);
    const seq = Atomics.load(this.header, H.bankSeq + k);
    if (seq & 1) throw new Error(`tracker state block: bank ${k} is not completely written`);
    Atomics.store(this.header, H.active, k);
    Atomics.add(this.header, H.saves, 1);
  }

  /**
   * Restores the newest complete save into `tracker`, `planner` (when the block carries planner
   * state) and `thread`; returns false, changing nothing, when nothing was saved yet. Built with
   * the same layout (sensors, maxTracks) and configuration, they continue exactly as the saving
   * ones would have. No allocation.
   */
  restore(tracker: MultiSensorTracker, planner: Planner | undefined, thread: TrackerThreadState): boolean {
    this.checkParts(tracker, planner, thread);
    const h = this.header;
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      const k = Atomics.load(h, H.active);
      if (k < 0) return false;
      const seq = Atomics.load(h, H.bankSeq + k);
      if (seq & 1) continue; // a live writer began on it after a newer save was published
      const bank = this.banks[k as 0 | 1];
      tracker.restoreSnapshot(bank.tracker);
      if (planner && bank.planner) planner.restoreSnapshot(bank.planner);
      const n = bank.threadNumbers;
      thread.tracksSeq = n[TN.tracksSeq]!;
      thread.planSeq = n[TN.planSeq]!;
      thread.generation = n[TN.generation]!;
      const s = bank.threadStamps;
      thread.egoStampNs = s[TS.egoStampNs]!;
      thread.newestFusedNs = s[TS.newestFusedNs]!;
      thread.savedAtNs = s[TS.savedAtNs]!;
      thread.ego.set(bank.ego);
      thread.consumed.set(bank.consumed);
      if (Atomics.load(h, H.bankSeq + k) === seq) return true;
    }
    throw new Error(
      `tracker state block: the active bank changed under ${READ_ATTEMPTS} reads in a row (is its writer still saving?)`,
    );
  }

  /**
   * The consumed counts of the newest complete save into `out` (per input); false when nothing
   * was saved yet. For the supervisor, which counts what a dead thread finished after its save.
   */
  savedConsumed(out: Uint32Array): boolean {
    const k = Atomics.load(this.header, H.active);
    if (k !== 0 && k !== 1) return false;
    out.set(this.banks[k].consumed);
    return true;
  }

  /** Save count, active bank, and when the active save was made (for status). */
  info(): TrackerStateInfo {
    const h = this.header;
    const k = Atomics.load(h, H.active);
    const bank = k === 0 || k === 1 ? this.banks[k] : undefined;
    return {
      saves: Atomics.load(h, H.saves),
      activeBank: bank ? k : -1,
      savedAtNs: bank?.threadStamps[TS.savedAtNs],
      generation: bank ? bank.threadNumbers[TN.generation]! : -1,
      bytes: this.sab.byteLength,
    };
  }

  private checkParts(
    tracker: MultiSensorTracker,
    planner: Planner | undefined,
    thread: TrackerThreadState,
  ): void {
    if (tracker.config.maxTracks !== this.layout.maxTracks) {
      throw new Error(
        `tracker state block: laid out for maxTracks ${this.layout.maxTracks}, the tracker has ${tracker.config.maxTracks}`,
      );
    }
    if (tracker.sensorCount !== this.layout.sensors.length) {
      throw new Error(
        `tracker state block: laid out for ${this.layout.sensors.length} sensors, the tracker has ${tracker.sensorCount}`,
      );
    }
    if ((planner !== undefined) !== (this.plannerLayout !== undefined)) {
      throw new Error(
        `tracker state block: ${this.plannerLayout ? 'carries planner state: pass the planner' : 'has no planner state (planning: false): pass no planner'}`,
      );
    }
    if (planner && planner !== this.checkedPlanner) {
      if (planner.stateLayout !== this.plannerLayout) {
        throw new Error("tracker state block: the planner's state fields differ from the block's layout");
      }
      this.checkedPlanner = planner;
    }
    if (thread.ego.length !== EGO.stride || thread.consumed.length !== this.layout.inputs) {
      throw new Error(
        `tracker state block: thread state with ${thread.ego.length} ego values and ${thread.consumed.length} ` +
          `handled commits; the block has ${EGO.stride} and ${this.layout.inputs} (inputs)`,
      );
    }
  }
}

function checkLayout(layout: TrackerStateLayout): void {
  if (!Number.isInteger(layout.maxTracks) || layout.maxTracks < 1) {
    throw new Error(`tracker state block: maxTracks ${layout.maxTracks} is not a positive integer`);
  }
  if (!Number.isInteger(layout.inputs) || layout.inputs < 0) {
    throw new Error(`tracker state block: inputs ${layout.inputs} is not a non-negative integer`);
  }
}

/** A planner to lay out planner state with (its layout does not depend on the configuration). */
function templateFor(layout: TrackerStateLayout): Planner | undefined {
  return layout.planning === false ? undefined : new Planner();
}

/** One bank's size, measured by laying one out (the code that places it later), on BANK_ALIGN. */
function bankBytesFor(layout: TrackerStateLayout, template: Planner | undefined): number {
  const arena = TypedArrayArena.measuring('tracker state bank');
  new Bank(arena, layout, template);
  return Math.ceil(arena.bytesUsed / BANK_ALIGN) * BANK_ALIGN;
}

/** FNV-1a of everything the layout depends on: a block fits only a reader that agrees on all of it. */
function fingerprintOf(layout: TrackerStateLayout, template: Planner | undefined, bankBytes: number): number {
  const text = [
    `v${TRACKER_STATE_LAYOUT_VERSION}`,
    TrackerSnapshot.layoutKey(layout.maxTracks),
    `sensors=${layout.sensors.map((s) => `${s.id}:${s.kind}`).join(',')}`,
    `inputs=${layout.inputs}`,
    `planner=${template ? template.stateLayout : 'none'}`,
    `bank=${bankBytes}`,
  ].join('\n');
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}
