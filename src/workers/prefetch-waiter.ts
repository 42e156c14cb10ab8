/**
 * How a stage thread waits for its next frame (predictive prefetch, README "Scheduler"). With a
 * learned period it sleeps until shortly before the next expected commit, then spins on its
 * doorbell and that channel's commit counter for a bounded time, so it already runs when the
 * commit lands instead of paying the thread wake-up (30-60 µs here) after it. Without a
 * prediction, or when the spin budget (a share of one core) is used up, it sleeps on the doorbell.
 */
import type { PrefetchSpec } from '../smi/spec/scheduler-spec.js';
import { STAGE_COUNTER, THREAD_TIMER, type SchedulerBlock } from './scheduler-block.js';
import type { StageInputs } from './stage-inputs.js';

/** The longest single sleep: stop requests and messages are looked at least this often. */
const MAX_SLEEP_MS = 20;
/** The earliest a spin starts before the expected commit, in spinUs (the CPU cap bounds it too). */
const MAX_EARLY_SPINS = 4;
/** The spin allowance holds this many spinUs: one early window, not a quiet second saved up. */
const BUCKET_SPINS = 8;

export class PrefetchWaiter {
  /** Spin allowance, ns of spinning, refilled at maxCpuPercent of the wall clock. */
  private tokensNs: number;
  private lastRefillNs = Number(process.hrtime.bigint());
  private readonly spinNs: number;
  private readonly leadNs: number;
  private readonly shareOfCore: number;

  constructor(
    private readonly block: SchedulerBlock,
    private readonly thread: number,
    private readonly inputs: StageInputs,
    private readonly spec: PrefetchSpec,
    /** Prefetch for inputs of stages up to this class rank (0: critical only). */
    private readonly maxRank: number,
    /** Stage whose counters record the spin hits and misses. */
    private readonly statsStage: number,
  ) {
    this.spinNs = spec.spinUs * 1000;
    this.leadNs = spec.leadUs * 1000;
    this.shareOfCore = spec.maxCpuPercent / 100;
    this.tokensNs = this.spinNs * BUCKET_SPINS;
  }

  /**
   * Blocks until the doorbell rings past `seen` or input is pending, or until `untilNs` (a timer
   * of the caller, e.g. a trigger cycle's deadline), or MAX_SLEEP_MS. Returns whether work came.
   */
  wait(seen: number, untilNs = Infinity): boolean {
    const now = Number(process.hrtime.bigint());
    this.refill(now);
    const limitNs = Math.min(untilNs, now + MAX_SLEEP_MS * 1e6);
    const next = this.spec.enabled ? this.inputs.nextExpected(now, this.maxRank) : undefined;
    if (next && next.atNs < limitNs) {
      // Wake early by the lead plus twice the channel's jitter (the mean deviation of its
      // intervals: ~100 µs here even for a producer that spins to its instant, since its own
      // wake-ups vary); spin until spinUs past the expected commit. A channel too jittery for
      // MAX_EARLY_SPINS × spinUs of early spinning, or an exhausted budget, just sleeps.
      const early = this.leadNs + 2 * next.jitterNs;
      // The timed sleep before the spin itself wakes late (~100 µs on this VM): learned, and slept
      // that much less, or the spin would start after the commit it was meant to catch.
      const oversleep = this.oversleepNs + 2 * this.oversleepDevNs;
      const windowNs = early + this.spinNs + oversleep;
      if (early <= MAX_EARLY_SPINS * this.spinNs && this.tokensNs >= windowNs) {
        const wakeAt = next.atNs - early - oversleep;
        if (wakeAt > now) {
          if (this.sleep(seen, (wakeAt - now) / 1e6)) return true;
          this.learnOversleep(Number(process.hrtime.bigint()) - wakeAt);
        }
        if (this.spin(seen, next.input, next.atNs + this.spinNs)) return true;
      }
    }
    const left = limitNs - Number(process.hrtime.bigint());
    return left > 0 ? this.sleep(seen, left / 1e6) : false;
  }

  /** How late a timed sleep returns (EW mean and mean deviation, ns). */
  private oversleepNs = 0;
  private oversleepDevNs = 0;

  private learnOversleep(lateNs: number): void {
    const late = Math.max(0, Math.min(lateNs, 2e6)); // a descheduled outlier must not dominate
    const err = late - this.oversleepNs;
    this.oversleepNs += 0.1 * err;
    this.oversleepDevNs += 0.1 * (Math.abs(err) - this.oversleepDevNs);
  }

  private sleep(seen: number, ms: number): boolean {
    if (this.block.rung(this.thread) !== seen || this.inputs.backlog() > 0) return true;
    return this.block.sleep(this.thread, seen, Math.max(0, ms)) || this.inputs.backlog() > 0;
  }

  /** Spins until a ring or a commit on `input`, or until `untilNs` (and never past the budget). */
  private spin(seen: number, input: number, untilNs: number): boolean {
    const reader = this.inputs.readers[input]!;
    const start = process.hrtime.bigint();
    const startN = Number(start);
    const endN = Math.min(untilNs, startN + this.tokensNs);
    let hit = false;
    for (let n = 0; ; n++) {
      if (this.block.rung(this.thread) !== seen || reader.backlog() > 0) {
        hit = true;
        break;
      }
      // Reading the clock costs more than the checks: look at it every few rounds.
      if ((n & 15) === 15 && Number(process.hrtime.bigint()) >= endN) break;
    }
    const spent = process.hrtime.bigint() - start;
    this.tokensNs -= Number(spent);
    this.block.addTime(this.thread, THREAD_TIMER.spinning, spent);
    this.block.count(this.statsStage, hit ? STAGE_COUNTER.spinHits : STAGE_COUNTER.spinMisses);
    return hit || this.inputs.backlog() > 0;
  }

  private refill(nowNs: number): void {
    const dt = nowNs - this.lastRefillNs;
    this.lastRefillNs = nowNs;
    // The bucket holds a few spins' worth, so a quiet second cannot be saved up for a burst.
    this.tokensNs = Math.min(this.tokensNs + dt * this.shareOfCore, this.spinNs * BUCKET_SPINS);
  }
}
