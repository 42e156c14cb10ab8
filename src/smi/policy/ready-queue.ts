/**
 * Frames ready to run, ordered by class first and earliest deadline within a class (DESIGN.md,
 * "Stages and priorities"); ties by capture stamp, then by arrival. A binary heap over
 * struct-of-arrays storage of fixed capacity: no allocation per frame.
 */

/** One frame as the queue holds it; `pop` fills a caller's object (reuse it). */
export interface ReadyFrame {
  /** Pool channel of the measurement. */
  channel: number;
  slot: number;
  length: number;
  stampNs: bigint;
  commitNs: bigint;
  /** Index of the stage that will run it. */
  stage: number;
  /** CLASS_RANK of the stage's class: 0 critical … 3 best-effort. */
  classRank: number;
  /** stampNs + the stage's budget, as a number of ns (exact to 2^53 ns ≈ 104 days of uptime). */
  deadlineNs: number;
}

export function emptyReadyFrame(): ReadyFrame {
  return {
    channel: -1,
    slot: -1,
    length: 0,
    stampNs: 0n,
    commitNs: 0n,
    stage: -1,
    classRank: 0,
    deadlineNs: 0,
  };
}

export class ReadyQueue {
  private readonly channel: Int32Array;
  private readonly slot: Int32Array;
  private readonly length: Int32Array;
  private readonly stamp: BigInt64Array;
  private readonly commit: BigInt64Array;
  private readonly stage: Int32Array;
  private readonly rank: Int32Array;
  private readonly deadline: Float64Array;
  private readonly arrival: Float64Array;
  /** heap[i] = storage index; free[] = unused storage indices. */
  private readonly heap: Int32Array;
  private readonly free: Int32Array;
  private count = 0;
  private freeCount: number;
  private arrivals = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ReadyQueue: capacity ${capacity}`);
    this.channel = new Int32Array(capacity);
    this.slot = new Int32Array(capacity);
    this.length = new Int32Array(capacity);
    this.stamp = new BigInt64Array(capacity);
    this.commit = new BigInt64Array(capacity);
    this.stage = new Int32Array(capacity);
    this.rank = new Int32Array(capacity);
    this.deadline = new Float64Array(capacity);
    this.arrival = new Float64Array(capacity);
    this.heap = new Int32Array(capacity);
    this.free = Int32Array.from({ length: capacity }, (_, i) => capacity - 1 - i);
    this.freeCount = capacity;
  }

  get size(): number {
    return this.count;
  }

  /** Adds a frame; false (nothing changed) when the queue is full. */
  push(f: ReadyFrame): boolean {
    if (this.freeCount === 0) return false;
    const k = this.free[--this.freeCount]!;
    this.channel[k] = f.channel;
    this.slot[k] = f.slot;
    this.length[k] = f.length;
    this.stamp[k] = f.stampNs;
    this.commit[k] = f.commitNs;
    this.stage[k] = f.stage;
    this.rank[k] = f.classRank;
    this.deadline[k] = f.deadlineNs;
    this.arrival[k] = this.arrivals++;
    let i = this.count++;
    this.heap[i] = k;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(this.heap[i]!, this.heap[parent]!)) break;
      this.swap(i, parent);
      i = parent;
    }
    return true;
  }

  /** Class rank of the next frame, or -1 when empty. */
  peekRank(): number {
    return this.count === 0 ? -1 : this.rank[this.heap[0]!]!;
  }

  /** Deadline (ns) of the next frame, or Infinity when empty. */
  peekDeadline(): number {
    return this.count === 0 ? Infinity : this.deadline[this.heap[0]!]!;
  }

  /** Takes the next frame into `out`; false when empty. */
  pop(out: ReadyFrame): boolean {
    if (this.count === 0) return false;
    this.removeAt(0, out);
    return true;
  }

  /**
   * Takes the frame that would run last (the lowest class, latest deadline) into `out`: what
   * overload sheds first. Linear in the queue size (shedding is rare). False when empty.
   */
  popLast(out: ReadyFrame): boolean {
    if (this.count === 0) return false;
    let worst = 0;
    for (let i = 1; i < this.count; i++) if (this.before(this.heap[worst]!, this.heap[i]!)) worst = i;
    this.removeAt(worst, out);
    return true;
  }

  /** Frames waiting of a class rank. */
  countOfRank(rank: number): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) if (this.rank[this.heap[i]!] === rank) n++;
    return n;
  }

  private removeAt(i: number, out: ReadyFrame): void {
    const k = this.heap[i]!;
    out.channel = this.channel[k]!;
    out.slot = this.slot[k]!;
    out.length = this.length[k]!;
    out.stampNs = this.stamp[k]!;
    out.commitNs = this.commit[k]!;
    out.stage = this.stage[k]!;
    out.classRank = this.rank[k]!;
    out.deadlineNs = this.deadline[k]!;
    this.free[this.freeCount++] = k;
    const last = --this.count;
    if (i === last) return;
    this.heap[i] = this.heap[last]!;
    this.siftDown(i);
    // The moved entry may also belong above i (when i was not the root).
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(this.heap[i]!, this.heap[parent]!)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < this.count && this.before(this.heap[l]!, this.heap[best]!)) best = l;
      if (r < this.count && this.before(this.heap[r]!, this.heap[best]!)) best = r;
      if (best === i) return;
      this.swap(i, best);
      i = best;
    }
  }

  /** Whether storage entry a runs before b: class, then deadline, then stamp, then arrival. */
  private before(a: number, b: number): boolean {
    const ra = this.rank[a]!;
    const rb = this.rank[b]!;
    if (ra !== rb) return ra < rb;
    const da = this.deadline[a]!;
    const db = this.deadline[b]!;
    if (da !== db) return da < db;
    const sa = this.stamp[a]!;
    const sb = this.stamp[b]!;
    if (sa !== sb) return sa < sb;
    return this.arrival[a]! < this.arrival[b]!;
  }

  private swap(i: number, j: number): void {
    const t = this.heap[i]!;
    this.heap[i] = this.heap[j]!;
    this.heap[j] = t;
  }
}
