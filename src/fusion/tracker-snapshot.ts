import type { TypedArrayArena } from '../pool/typed-array-arena.js';
import { EgoHistory } from './ego-history.js';
import { createTrackerStats, type TrackerStats } from './tracker-config.js';
import { TrackTable } from './track-table.js';

/** Odometry records a tracker keeps to place measurements at their capture time. */
export const EGO_HISTORY_CAPACITY = 256;

/** The tracker's counters in the order a snapshot stores them. */
export const TRACKER_STAT_KEYS: readonly (keyof TrackerStats)[] = Object.keys(
  createTrackerStats(),
) as (keyof TrackerStats)[];

/** Places in `TrackerSnapshot.scalars` before the counters. */
export const SNAPSHOT_SCALAR = { timeS: 0, epochSet: 1, stats: 2 } as const;

/**
 * Everything a tracker built with the same sensors and configuration needs to go on exactly as
 * the one that saved it (see MultiSensorTracker.saveSnapshot): the track table with its id
 * counter, the odometry history, the time tracks are predicted to, the stamp origin and the
 * counters. All of it lives in typed arrays from one arena, so over a SharedArrayBuffer a
 * snapshot written by one thread is read by another; building one over saved memory changes
 * nothing in it.
 */
export class TrackerSnapshot {
  readonly table: TrackTable;
  readonly egoHistory: EgoHistory;
  /** timeS, whether epochNs is set (0/1), then the counters in TRACKER_STAT_KEYS order. */
  readonly scalars: Float64Array;
  /** The stamp origin (ns) when scalars[epochSet] is 1. */
  readonly epochNs: BigInt64Array;

  constructor(
    readonly maxTracks: number,
    arena: TypedArrayArena,
  ) {
    this.table = new TrackTable(maxTracks, arena);
    this.egoHistory = new EgoHistory(EGO_HISTORY_CAPACITY, arena);
    this.scalars = arena.f64(SNAPSHOT_SCALAR.stats + TRACKER_STAT_KEYS.length, 'TrackerSnapshot.scalars');
    this.epochNs = arena.i64(1, 'TrackerSnapshot.epochNs');
  }

  /** What the layout depends on, for a fingerprint: a snapshot fits only a tracker with these. */
  static layoutKey(maxTracks: number): string {
    return `tracker maxTracks=${maxTracks} ego=${EGO_HISTORY_CAPACITY} stats=${TRACKER_STAT_KEYS.join(',')}`;
  }
}
