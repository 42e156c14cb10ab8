/**
 * The scheduler's own shared memory, beside the pool: what the stage threads and the main thread
 * tell each other without messages. One SharedArrayBuffer:
 *
 *   control   Int32 × 8: overload level, stop flag, reset epoch
 *   consumed  Uint32 per pool channel: messages its consuming stage has finished with (fused,
 *             shed or superseded), so the main thread can tell when the pipeline is idle
 *   open      Int32 per pool channel: messages its consumer has taken and not yet finished (what
 *             a consuming thread that dies loses; the supervisor settles them)
 *   doorbells Int32 × 2 per thread: [ring count, sleepers] (a stage thread sleeps on its doorbell;
 *             whoever commits to one of its inputs rings it)
 *   busy      Int32 per thread: 1 while it has taken frames it has not finished (and published)
 *   tids      Int32 per thread: its kernel thread id, written once when it starts (for per-thread CPU)
 *   counters  Uint32 × STAGE_COUNTERS per stage (single writer: the stage's thread)
 *   timers    BigInt64 × THREAD_TIMERS per thread (ns spent spinning, sleeping, working)
 *   status    Float64 × STATUS fields (the tracker thread's latest plan, for the status line)
 *   samples   one SampleRing per thread (latencies for metrics and histograms)
 *   spans     one SpanRing per thread, only when `shape.spanCapacity` > 0 (the bench's --trace)
 *
 * Every word has one writer; readers use Atomics (or plain loads of Float64 status, which is
 * informational).
 */
import { SampleRing } from './sample-ring.js';
import { SpanRing } from './span-ring.js';
import { waitAsync } from '../pool/wait-async.js';

export const CONTROL = { overload: 0, stop: 1, reset: 2, words: 8 } as const;

/** Per-stage counters (index into a stage's row). */
export const STAGE_COUNTER = {
  /** Frames the stage ran. */
  frames: 0,
  /** Frames that finished after their deadline. */
  misses: 1,
  /** Shed before starting: could no longer meet the deadline. */
  shedDeadline: 2,
  /** Shed before starting: the overload level sheds this class. */
  shedOverload: 3,
  /** Shed: a newer frame of the same channel superseded it (latest access). */
  shedSuperseded: 4,
  /** Ran degraded (lidar: coarser grid). */
  degraded: 5,
  /** Arrived later than the reorder window allows: not fused. */
  tooLate: 6,
  /** Late frames fused by rewinding the tracker. */
  rewinds: 7,
  /** Frames waiting in the stage's queue now (a gauge). */
  queueDepth: 8,
  /** Times the lag detector found the stage lagging. */
  lagEpisodes: 9,
  /** 1 while lagging (a gauge). */
  lagging: 10,
  /** Frames dropped because the ready queue was full. */
  queueFull: 11,
  /** Errors raised by the stage's code (the frame is released, the stage goes on). */
  errors: 12,
  /** Frames that arrived while the thread was spinning for them (prefetch hits). */
  spinHits: 13,
  /** Prefetch spins that ended without a frame (the futex wait followed). */
  spinMisses: 14,
  count: 15,
} as const;

/** Per-thread time accounting, ns. */
export const THREAD_TIMER = { spinning: 0, working: 1, count: 2 } as const;

/** The tracker thread's latest plan, for the status line (Float64 each). */
export const STATUS = {
  updates: 0,
  plans: 1,
  tracks: 2,
  decision: 3,
  leadId: 4,
  targetAccel: 5,
  ttc: 6,
  /** Plans per decision, PLAN_DECISIONS order (4 fields). */
  byDecision: 7,
  count: 12,
} as const;

/** Metric ids carried by samples (SampleRing entries). */
export const SAMPLE = {
  /** committed → the consuming stage starts using it. */
  sync: 0,
  /** committed → the consuming thread holds the descriptor (woke and took it). */
  handoff: 1,
  /** The stage's run time on one frame. */
  run: 2,
  /** The input's stampNs → the stage finished with it (what the budget bounds). */
  latency: 3,
  /** newest fused stampNs → tracks published. */
  fusion: 4,
  /** stampNs of the measurement that triggered a plan → plan published; `extra` = its channel. */
  e2e: 5,
  /** Lidar thread ingest: received → committed; `extra` = sensor index. */
  ingest: 6,
} as const;

const SAMPLES_PER_THREAD = 1 << 14;

export interface SchedulerBlockShape {
  /** Doorbells / timers / sample rings: one per stage thread, plus the main thread's. */
  threads: number;
  stages: number;
  channels: number;
  /** Per-frame spans per thread for tracing (a power of two); 0 or absent: none. */
  spanCapacity?: number;
}

export class SchedulerBlock {
  readonly control: Int32Array;
  readonly consumed: Uint32Array;
  readonly open: Int32Array;
  readonly doorbells: Int32Array;
  readonly busy: Int32Array;
  readonly tids: Int32Array;
  readonly counters: Uint32Array;
  readonly timers: BigInt64Array;
  readonly status: Float64Array;
  readonly samples: SampleRing[];
  /** Per thread, when tracing: the spans it reports (else empty, and threads push none). */
  readonly spans: SpanRing[];

  private constructor(
    readonly sab: SharedArrayBuffer,
    readonly shape: SchedulerBlockShape,
  ) {
    let off = 0;
    this.control = new Int32Array(sab, off, CONTROL.words);
    off += CONTROL.words * 4;
    this.consumed = new Uint32Array(sab, off, shape.channels);
    off += shape.channels * 4;
    this.open = new Int32Array(sab, off, shape.channels);
    off += shape.channels * 4;
    this.doorbells = new Int32Array(sab, off, shape.threads * 2);
    off += shape.threads * 8;
    this.busy = new Int32Array(sab, off, shape.threads);
    off += shape.threads * 4;
    this.tids = new Int32Array(sab, off, shape.threads);
    off += shape.threads * 4;
    this.counters = new Uint32Array(sab, off, shape.stages * STAGE_COUNTER.count);
    off += shape.stages * STAGE_COUNTER.count * 4;
    off = (off + 7) & ~7;
    this.timers = new BigInt64Array(sab, off, shape.threads * THREAD_TIMER.count);
    off += shape.threads * THREAD_TIMER.count * 8;
    this.status = new Float64Array(sab, off, STATUS.count);
    off += STATUS.count * 8;
    this.samples = [];
    for (let t = 0; t < shape.threads; t++) {
      this.samples.push(SampleRing.over(sab, off, SAMPLES_PER_THREAD));
      off += SampleRing.bytesFor(SAMPLES_PER_THREAD);
    }
    this.spans = [];
    const spanCapacity = shape.spanCapacity ?? 0;
    for (let t = 0; spanCapacity > 0 && t < shape.threads; t++) {
      this.spans.push(SpanRing.over(sab, off, spanCapacity));
      off += SpanRing.bytesFor(spanCapacity);
    }
  }

  static bytesFor(shape: SchedulerBlockShape): number {
    let off =
      CONTROL.words * 4 + shape.channels * 8 + shape.threads * 16 + shape.stages * STAGE_COUNTER.count * 4;
    off = (off + 7) & ~7;
    off += shape.threads * THREAD_TIMER.count * 8 + STATUS.count * 8;
    off += shape.threads * SampleRing.bytesFor(SAMPLES_PER_THREAD);
    const spans = shape.spanCapacity ?? 0;
    return spans > 0 ? off + shape.threads * SpanRing.bytesFor(spans) : off;
  }

  static create(shape: SchedulerBlockShape): SchedulerBlock {
    return new SchedulerBlock(new SharedArrayBuffer(SchedulerBlock.bytesFor(shape)), shape);
  }

  /** The same block in another thread (the buffer was posted to it). */
  static attach(sab: SharedArrayBuffer, shape: SchedulerBlockShape): SchedulerBlock {
    if (sab.byteLength !== SchedulerBlock.bytesFor(shape)) {
      throw new Error(
        `scheduler block: ${sab.byteLength} bytes, shape needs ${SchedulerBlock.bytesFor(shape)}`,
      );
    }
    return new SchedulerBlock(sab, shape);
  }

  count(stage: number, counter: number, n = 1): void {
    Atomics.add(this.counters, stage * STAGE_COUNTER.count + counter, n);
  }

  set(stage: number, counter: number, value: number): void {
    Atomics.store(this.counters, stage * STAGE_COUNTER.count + counter, value);
  }

  get(stage: number, counter: number): number {
    return Atomics.load(this.counters, stage * STAGE_COUNTER.count + counter);
  }

  addTime(thread: number, timer: number, ns: bigint): void {
    Atomics.add(this.timers, thread * THREAD_TIMER.count + timer, ns);
  }

  time(thread: number, timer: number): bigint {
    return Atomics.load(this.timers, thread * THREAD_TIMER.count + timer);
  }

  get overload(): number {
    return Atomics.load(this.control, CONTROL.overload);
  }

  set overload(level: number) {
    Atomics.store(this.control, CONTROL.overload, level);
  }

  /** A consuming stage finished with `n` messages of `channel`. */
  consume(channel: number, n = 1): void {
    Atomics.add(this.consumed, channel, n);
  }

  consumedOf(channel: number): number {
    return Atomics.load(this.consumed, channel);
  }

  /** The consumer of `channel` took a message (finished later: consumeTaken). */
  take(channel: number): void {
    Atomics.add(this.open, channel, 1);
  }

  /** The consumer finished with a message it took. */
  consumeTaken(channel: number): void {
    Atomics.add(this.consumed, channel, 1);
    Atomics.sub(this.open, channel, 1);
  }

  /**
   * The consumer of `channel` died: the messages it had taken and not finished are lost; they
   * count as consumed (so idle detection goes on). Returns how many.
   */
  settleOpen(channel: number): number {
    const n = Atomics.exchange(this.open, channel, 0);
    if (n > 0) this.consume(channel, n);
    return n;
  }

  /** Thread `t` has taken frames (1) / finished and published all it took (0). */
  setBusy(t: number, busy: boolean): void {
    Atomics.store(this.busy, t, busy ? 1 : 0);
  }

  isBusy(t: number): boolean {
    return Atomics.load(this.busy, t) !== 0;
  }

  /** Thread `t` says which kernel thread it is (0 = unknown). */
  setThreadId(t: number, tid: number): void {
    Atomics.store(this.tids, t, tid);
  }

  threadId(t: number): number {
    return Atomics.load(this.tids, t);
  }

  /** Bumped by the main thread to restart the tracker (a looped simulated drive). */
  get resetEpoch(): number {
    return Atomics.load(this.control, CONTROL.reset);
  }

  requestReset(): void {
    Atomics.add(this.control, CONTROL.reset, 1);
  }

  get stopping(): boolean {
    return Atomics.load(this.control, CONTROL.stop) !== 0;
  }

  /** Asks every stage thread to stop and wakes the sleeping ones. */
  requestStop(): void {
    Atomics.store(this.control, CONTROL.stop, 1);
    for (let t = 0; t < this.shape.threads; t++) this.ring(t);
  }

  /** Wakes thread `t` if it sleeps on its doorbell (a commit to one of its inputs). */
  ring(t: number): void {
    Atomics.add(this.doorbells, 2 * t, 1);
    if (Atomics.load(this.doorbells, 2 * t + 1) > 0) Atomics.notify(this.doorbells, 2 * t);
  }

  /** The doorbell count of thread `t` (compare before sleeping). */
  rung(t: number): number {
    return Atomics.load(this.doorbells, 2 * t);
  }

  /**
   * Resolves when doorbell `t` rings past `seen` or after `timeoutMs`, without blocking the
   * thread (the main thread, or a stage thread that has an event loop to keep turning). Counted
   * as a sleeper, so a ring notifies it.
   */
  async sleepAsync(t: number, seen: number, timeoutMs: number): Promise<void> {
    Atomics.add(this.doorbells, 2 * t + 1, 1);
    try {
      const r = waitAsync(this.doorbells, 2 * t, seen, timeoutMs);
      if (r.async) await r.value;
    } finally {
      Atomics.sub(this.doorbells, 2 * t + 1, 1);
    }
  }

  /**
   * Sleeps the calling thread (a worker) while its doorbell still reads `seen`, at most
   * `timeoutMs`. True when it was rung.
   */
  sleep(t: number, seen: number, timeoutMs: number): boolean {
    Atomics.add(this.doorbells, 2 * t + 1, 1);
    const r = Atomics.wait(this.doorbells, 2 * t, seen, timeoutMs);
    Atomics.sub(this.doorbells, 2 * t + 1, 1);
    return r !== 'timed-out';
  }
}
