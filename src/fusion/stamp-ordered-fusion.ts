/**
 * Fuses measurements in stamp order although they arrive out of it (a lidar box list a few ms
 * after radar scans stamped later; a camera ECU's late object list), within a bounded window:
 * a late one rewinds the tracker to the checkpoint saved before the first later measurement,
 * fuses the late one, and fuses the later ones again. The result is exactly what fusing in stamp
 * order would have given (the tracker is deterministic and its checkpoints exact).
 *
 * Measurements are opaque frame ids to this class: the caller fuses one with `apply(id)` and is
 * told to `release(id)` once it leaves the window (e.g. to give its pool slot back).
 */
import type { TrackerCheckpoint } from './multi-sensor-tracker.js';

/** The tracker's side of rewinding: see MultiSensorTracker's checkpoint methods. */
export interface Rewindable<C = TrackerCheckpoint> {
  createCheckpoint(): C;
  saveCheckpoint(cp: C): void;
  restoreCheckpoint(cp: C): void;
}

export type FuseOutcome = 'in-order' | 'rewound' | 'too-late';

export interface StampOrderedFusionStats {
  inOrder: number;
  rewound: number;
  /** Measurements fused again during rewinds. */
  refused: number;
  /** Older than the window (or than every checkpoint): not fused. */
  tooLate: number;
  /** Frames that left the window early because the log was full. */
  evictedFull: number;
}

export class StampOrderedFusion<C = TrackerCheckpoint> {
  /** Log of fused frames in stamp order, as a ring: ids, stamps, checkpoint taken before each. */
  private readonly ids: Int32Array;
  private readonly stamps: BigInt64Array;
  private readonly checkpoints: C[];
  private head = 0;
  private size = 0;
  readonly stats: StampOrderedFusionStats = {
    inOrder: 0,
    rewound: 0,
    refused: 0,
    tooLate: 0,
    evictedFull: 0,
  };

  constructor(
    private readonly tracker: Rewindable<C>,
    readonly capacity: number,
    private readonly windowNs: bigint,
    private readonly apply: (id: number) => void,
    private readonly release: (id: number) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`StampOrderedFusion: capacity ${capacity}`);
    this.ids = new Int32Array(capacity);
    this.stamps = new BigInt64Array(capacity);
    this.checkpoints = Array.from({ length: capacity }, () => tracker.createCheckpoint());
  }

  /** Frames held in the window. */
  get held(): number {
    return this.size;
  }

  /** Newest stamp fused, or -1n when nothing is held. */
  get newestNs(): bigint {
    return this.size === 0 ? -1n : this.stamps[this.at(this.size - 1)]!;
  }

  /**
   * Fuses frame `id` stamped `stampNs` in its place in stamp order. 'too-late' frames are not
   * fused; the caller releases them itself.
   */
  fuse(id: number, stampNs: bigint): FuseOutcome {
    const newest = this.newestNs;
    if (this.size > 0 && stampNs < newest - this.windowNs) {
      this.stats.tooLate++;
      return 'too-late';
    }
    if (this.size === 0 || stampNs >= newest) {
      this.append(id, stampNs);
      this.expire(stampNs);
      this.stats.inOrder++;
      return 'in-order';
    }
    if (this.size === this.capacity) {
      // Room is made by evicting the oldest; a frame older than it has no checkpoint to go back to.
      if (stampNs < this.stamps[this.head]!) {
        this.stats.tooLate++;
        return 'too-late';
      }
      this.evictOldest(true);
    }
    // k: the first logged frame stamped after this one (exists: stampNs < newest).
    let k = this.size - 1;
    while (k > 0 && this.stamps[this.at(k - 1)]! > stampNs) k--;
    // The checkpoint before k is the state this frame must be fused on.
    this.tracker.restoreCheckpoint(this.checkpoints[this.at(k)]!);
    for (let j = this.size; j > k; j--) {
      this.ids[this.at(j)] = this.ids[this.at(j - 1)]!;
      this.stamps[this.at(j)] = this.stamps[this.at(j - 1)]!;
    }
    this.size++;
    this.ids[this.at(k)] = id;
    this.stamps[this.at(k)] = stampNs;
    for (let j = k; j < this.size; j++) {
      this.tracker.saveCheckpoint(this.checkpoints[this.at(j)]!);
      this.apply(this.ids[this.at(j)]!);
    }
    this.stats.refused += this.size - 1 - k;
    this.stats.rewound++;
    this.expire(this.newestNs);
    return 'rewound';
  }

  /** Releases every held frame (a reset, or the stage stopping). */
  clear(): void {
    while (this.size > 0) this.evictOldest(false);
  }

  /**
   * Releases the oldest held frame before the window would (its pool slot is needed, e.g. its
   * channel is running out of slots): a frame later than it can still be fused in order, one
   * earlier no longer. False when nothing is held.
   */
  releaseOldest(): boolean {
    if (this.size === 0) return false;
    this.evictOldest(true);
    return true;
  }

  private append(id: number, stampNs: bigint): void {
    if (this.size === this.capacity) this.evictOldest(true);
    const i = this.at(this.size);
    this.tracker.saveCheckpoint(this.checkpoints[i]!);
    this.ids[i] = id;
    this.stamps[i] = stampNs;
    this.size++;
    this.apply(id);
  }

  /** Frames older than the window behind `newestNs` can no longer be rewound to: release them. */
  private expire(newestNs: bigint): void {
    while (this.size > 1 && this.stamps[this.head]! < newestNs - this.windowNs) this.evictOldest(false);
  }

  private evictOldest(full: boolean): void {
    const id = this.ids[this.head]!;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
    if (full) this.stats.evictedFull++;
    this.release(id);
  }

  private at(k: number): number {
    return (this.head + k) % this.capacity;
  }
}
