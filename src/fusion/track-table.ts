import {
  TypedArrayArena,
  copyTypedArrays,
  typedArrayFields,
  type ArenaArray,
} from '../pool/typed-array-arena.js';
import { OBJECT_CLASS_COUNT, ObjectClass } from '../wire/layouts.js';

/**
 * State vector of a track, odom frame: position, velocity over ground, acceleration, yaw rate
 * (the turn rate of the velocity, estimated for vehicles; 0 for other classes).
 */
export const S = { x: 0, y: 1, vx: 2, vy: 3, ax: 4, ay: 5, w: 6, dim: 7 } as const;
export const COV_SIZE = S.dim * S.dim;

export const TrackStatus = { free: 0, tentative: 1, confirmed: 2 } as const;

/** Number of object classes (ObjectClass values are 0 .. CLASS_COUNT - 1). */
export const CLASS_COUNT = OBJECT_CLASS_COUNT;

/**
 * Smallest, typical and largest footprint (length, width) per class, m. Typical sizes fill in
 * what a partial view cannot see (a rear view shows no length); the bounds keep fragments and
 * merged clusters from shrinking or inflating a box beyond what the class allows.
 */
export const CLASS_DIMENSIONS: readonly {
  min: [number, number];
  typical: [number, number];
  max: [number, number];
  /** Typical height, m, until a measurement gives one. */
  height: number;
}[] = [
  { min: [0.3, 0.3], typical: [0.6, 0.6], max: [20, 4], height: 1 }, // unknown
  { min: [3.2, 1.5], typical: [4.5, 1.8], max: [6.5, 2.3], height: 1.5 }, // car
  { min: [5, 2], typical: [12, 2.55], max: [20, 3], height: 3.5 }, // truck (typical: EU rigid-truck limit)
  { min: [0.3, 0.3], typical: [0.5, 0.5], max: [1.2, 1.2], height: 1.75 }, // pedestrian
  { min: [1.2, 0.4], typical: [1.8, 0.6], max: [2.5, 1.2], height: 1.7 }, // cyclist
];

/** Largest id before wrapping back to 1: ids travel as f32 in TRACKS_LAYOUT, exact up to 2^24. */
export const MAX_TRACK_ID = 16_777_215;

/**
 * Fixed-capacity struct-of-arrays storage of tracks. Slot i's state is state[i*S.dim ..
 * (i+1)*S.dim) and its covariance cov[i*COV_SIZE .. (i+1)*COV_SIZE) (row-major). Slots are reused lowest-first, so the layout
 * depends only on the sequence of operations (determinism).
 */
export class TrackTable {
  readonly state: Float64Array;
  readonly cov: Float64Array;
  readonly status: Uint8Array;
  readonly id: Int32Array;
  /**
   * Existence probability: the object detectors' evidence (their calibrated scores, fading with
   * their misses) and the other sensors' evidence (hits raise it, misses lower it), fused as
   * independent sources: 1 − (1 − detector)(1 − sensors).
   */
  readonly existence: Float64Array;
  readonly detectorExistence: Float64Array;
  readonly sensorExistence: Float64Array;
  /** Hit (1) / miss (0) per scan in which the track was detectable; bit 0 is the latest. */
  readonly history: Uint32Array;
  /** Detectable scans seen since creation (saturates). */
  readonly scans: Uint32Array;
  readonly hits: Uint32Array;
  readonly createdS: Float64Array;
  /** Time (s) the state and covariance are predicted to: tracks are predicted when a scan needs them. */
  readonly timeS: Float64Array;
  readonly lastHitS: Float64Array;
  /**
   * Box footprint and heading; the heading comes from measured box headings when a detector
   * gives them (a filter of heading and heading rate), else it follows the velocity once the
   * object moves. yawVar is the heading's variance; headingRate and its variance, and their
   * covariance, are the rest of the heading filter (rad/s).
   */
  readonly length: Float64Array;
  readonly width: Float64Array;
  readonly yaw: Float64Array;
  readonly yawVar: Float64Array;
  readonly headingRate: Float64Array;
  readonly headingRateVar: Float64Array;
  readonly headingCov: Float64Array;
  /** Time a measurement last gave the box heading (s), -Infinity if none ever did. */
  readonly yawMeasuredS: Float64Array;
  /** Box centre height above the ground and box height, m (class-typical until measured). */
  readonly z: Float64Array;
  readonly height: Float64Array;
  /**
   * Extents seen by lidar along the track's own axes (0 = never seen): the largest partial
   * extent, or a running estimate once the dimension was seen whole (see dimsKnown).
   */
  readonly seenLength: Float64Array;
  readonly seenWidth: Float64Array;
  /** Decaying per-class evidence from camera classifications, CLASS_COUNT per slot. */
  readonly classScore: Float64Array;
  readonly classId: Uint8Array;
  /**
   * Class whose typical size fills in unseen extents: the camera class once known, before that
   * a guess from radar RCS or cluster size.
   */
  readonly shapeClass: Uint8Array;
  /** Bit 0: the lidar has seen the whole length (a side face); bit 1: the whole width (an end). */
  readonly dimsKnown: Uint8Array;
  /**
   * Detection scores that updated the track, as log-odds, averaged with a short memory (0 until
   * a detector's object list updates it).
   */
  readonly scoreLogit: Float64Array;
  /** Consecutive lidar scans in which the track was detectable but not seen. */
  readonly lidarMissStreak: Uint16Array;
  /**
   * [last id handed out (0: none, so the next is 1), slots in use]: kept in an array like the
   * rest, so that a table laid out in shared memory holds them and `copyFrom` copies them with
   * the other fields; all zero is an empty table, so a table built over saved memory changes
   * nothing in it.
   */
  private readonly counters: Uint32Array;
  /** Every typed-array field, in property order (what copyFrom copies). */
  private readonly arrays: readonly ArenaArray[];

  /**
   * A table of `capacity` slots; its arrays are placed in `arena` (shared memory, e.g. a
   * tracker snapshot), or are ordinary arrays without one.
   */
  constructor(
    readonly capacity: number,
    arena: TypedArrayArena = TypedArrayArena.measuring('TrackTable'),
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`TrackTable: bad capacity ${capacity}`);
    this.state = arena.f64(capacity * S.dim, 'TrackTable.state');
    this.cov = arena.f64(capacity * COV_SIZE, 'TrackTable.cov');
    this.status = arena.u8(capacity, 'TrackTable.status');
    this.id = arena.i32(capacity, 'TrackTable.id');
    this.existence = arena.f64(capacity, 'TrackTable.existence');
    this.detectorExistence = arena.f64(capacity, 'TrackTable.detectorExistence');
    this.sensorExistence = arena.f64(capacity, 'TrackTable.sensorExistence');
    this.history = arena.u32(capacity, 'TrackTable.history');
    this.scans = arena.u32(capacity, 'TrackTable.scans');
    this.hits = arena.u32(capacity, 'TrackTable.hits');
    this.createdS = arena.f64(capacity, 'TrackTable.createdS');
    this.timeS = arena.f64(capacity, 'TrackTable.timeS');
    this.lastHitS = arena.f64(capacity, 'TrackTable.lastHitS');
    this.length = arena.f64(capacity, 'TrackTable.length');
    this.width = arena.f64(capacity, 'TrackTable.width');
    this.yaw = arena.f64(capacity, 'TrackTable.yaw');
    this.yawVar = arena.f64(capacity, 'TrackTable.yawVar');
    this.headingRate = arena.f64(capacity, 'TrackTable.headingRate');
    this.headingRateVar = arena.f64(capacity, 'TrackTable.headingRateVar');
    this.headingCov = arena.f64(capacity, 'TrackTable.headingCov');
    this.yawMeasuredS = arena.f64(capacity, 'TrackTable.yawMeasuredS');
    this.z = arena.f64(capacity, 'TrackTable.z');
    this.height = arena.f64(capacity, 'TrackTable.height');
    this.seenLength = arena.f64(capacity, 'TrackTable.seenLength');
    this.seenWidth = arena.f64(capacity, 'TrackTable.seenWidth');
    this.classScore = arena.f64(capacity * CLASS_COUNT, 'TrackTable.classScore');
    this.classId = arena.u8(capacity, 'TrackTable.classId');
    this.shapeClass = arena.u8(capacity, 'TrackTable.shapeClass');
    this.lidarMissStreak = arena.u16(capacity, 'TrackTable.lidarMissStreak');
    this.scoreLogit = arena.f64(capacity, 'TrackTable.scoreLogit');
    this.dimsKnown = arena.u8(capacity, 'TrackTable.dimsKnown');
    this.counters = arena.u32(2, 'TrackTable.counters');
    this.arrays = typedArrayFields(this);
  }

  /** Number of slots in use. */
  get size(): number {
    return this.counters[1]!;
  }

  /** The id the next track will get (1 .. MAX_TRACK_ID). */
  get nextId(): number {
    return this.counters[0]! + 1;
  }

  /** Takes the lowest free slot as a new tentative track, or returns -1 when full. */
  allocate(tS: number): number {
    const counters = this.counters;
    if (counters[1] === this.capacity) return -1;
    let slot = 0;
    while (this.status[slot] !== TrackStatus.free) slot++;
    counters[1]!++;
    this.status[slot] = TrackStatus.tentative;
    const id = counters[0]! + 1;
    this.id[slot] = id;
    counters[0] = id >= MAX_TRACK_ID ? 0 : id;
    this.existence[slot] = 0;
    this.detectorExistence[slot] = 0;
    this.sensorExistence[slot] = 0;
    this.history[slot] = 1;
    this.scans[slot] = 1;
    this.hits[slot] = 1;
    this.createdS[slot] = tS;
    this.timeS[slot] = tS;
    this.lastHitS[slot] = tS;
    this.length[slot] = CLASS_DIMENSIONS[ObjectClass.unknown]!.typical[0];
    this.width[slot] = CLASS_DIMENSIONS[ObjectClass.unknown]!.typical[1];
    this.yaw[slot] = 0;
    this.yawVar[slot] = Math.PI * Math.PI;
    this.headingRate[slot] = 0;
    this.headingRateVar[slot] = 0;
    this.headingCov[slot] = 0;
    this.yawMeasuredS[slot] = -Infinity;
    this.height[slot] = CLASS_DIMENSIONS[ObjectClass.unknown]!.height;
    this.z[slot] = 0.5 * this.height[slot]!;
    this.seenLength[slot] = 0;
    this.seenWidth[slot] = 0;
    this.classScore.fill(0, slot * CLASS_COUNT, (slot + 1) * CLASS_COUNT);
    this.classId[slot] = ObjectClass.unknown;
    this.shapeClass[slot] = ObjectClass.unknown;
    this.lidarMissStreak[slot] = 0;
    this.scoreLogit[slot] = 0;
    this.dimsKnown[slot] = 0;
    this.state.fill(0, slot * S.dim, (slot + 1) * S.dim);
    this.cov.fill(0, slot * COV_SIZE, (slot + 1) * COV_SIZE);
    return slot;
  }

  /**
   * Makes this table an exact copy of `other` (same capacity): every typed-array field, found by
   * reflection so that a field added later is never forgotten, the id counter among them (the
   * table keeps all its state in typed arrays). No allocation.
   */
  copyFrom(other: TrackTable): void {
    if (other.capacity !== this.capacity) {
      throw new Error(`TrackTable.copyFrom: capacity ${other.capacity} into ${this.capacity}`);
    }
    copyTypedArrays(this.arrays, other.arrays, 'TrackTable.copyFrom');
  }

  /** Sets the existence from its two sources (see `existence`). */
  combineExistence(slot: number): void {
    this.existence[slot] = 1 - (1 - this.detectorExistence[slot]!) * (1 - this.sensorExistence[slot]!);
  }

  free(slot: number): void {
    if (this.status[slot] === TrackStatus.free) return;
    this.status[slot] = TrackStatus.free;
    this.counters[1]!--;
  }

  clear(): void {
    this.status.fill(TrackStatus.free);
    this.counters[0] = 0;
    this.counters[1] = 0;
  }

  /**
   * Records one detectable scan for the track: shifts its hit history and, for a tentative
   * track, confirms it once `hitsNeeded` of the last `window` scans were hits.
   * Returns true when this call confirmed the track.
   */
  recordScan(slot: number, hit: boolean, hitsNeeded: number, window: number): boolean {
    const mask = window >= 32 ? 0xffffffff : (1 << window) - 1;
    this.history[slot] = (((this.history[slot]! << 1) | (hit ? 1 : 0)) & mask) >>> 0;
    if (this.scans[slot]! < 0xffffffff) this.scans[slot]!++;
    if (hit) this.hits[slot]!++;
    if (this.status[slot] === TrackStatus.tentative && popcount(this.history[slot]!) >= hitsNeeded) {
      this.status[slot] = TrackStatus.confirmed;
      return true;
    }
    return false;
  }

  /** A tentative track that can no longer reach M hits in its first N scans has failed. */
  failedConfirmation(slot: number, hitsNeeded: number, window: number): boolean {
    return (
      this.status[slot] === TrackStatus.tentative &&
      this.scans[slot]! >= window &&
      popcount(this.history[slot]!) < hitsNeeded
    );
  }

  /**
   * uᵀ P u over the 2×2 covariance block of state axes i and j (S.x, S.y: position; S.vx, S.vy:
   * velocity), u = (ux, uy): the variance along u when u is a unit vector, times |u|² otherwise.
   */
  varianceAlong(slot: number, i: number, j: number, ux: number, uy: number): number {
    const c = slot * COV_SIZE;
    const P = this.cov;
    const n = S.dim;
    return ux * ux * P[c + i * n + i]! + 2 * ux * uy * P[c + i * n + j]! + uy * uy * P[c + j * n + j]!;
  }

  /** Position variance along the worse axis (trace of the position block / 2 is close enough). */
  positionVariance(slot: number): number {
    const o = slot * COV_SIZE;
    return Math.max(this.cov[o + S.x * S.dim + S.x]!, this.cov[o + S.y * S.dim + S.y]!);
  }
}

export function popcount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
