/**
 * The trigger-cycle baseline (`spec.scheduler.mode: trigger-cycles`): measurements wait until a
 * trigger sensor's message arrives (or a channel is half full, or they have waited `maxWaitNs`),
 * then everything pending is fused as one batch in stamp order. This is how earlier releases ran;
 * it stays to measure the stage scheduler against (the wait is the `sync` latency it removes).
 */
export class TriggerCyclePolicy {
  private readonly pendingPerChannel: Int32Array;
  private pending = 0;
  private oldestPendingNs = -1;
  private cutRequested = false;

  constructor(
    private readonly isTrigger: Uint8Array,
    private readonly halfSlots: Int32Array,
    private readonly maxWaitNs: number,
  ) {
    this.pendingPerChannel = new Int32Array(isTrigger.length);
  }

  /** A measurement of `channel` is now pending (committed at `nowNs`). */
  add(channel: number, nowNs: number): void {
    this.pending++;
    this.pendingPerChannel[channel]!++;
    if (this.oldestPendingNs < 0) this.oldestPendingNs = nowNs;
    if (this.isTrigger[channel] || this.pendingPerChannel[channel]! >= this.halfSlots[channel]!) {
      this.cutRequested = true;
    }
  }

  /** Whether the pending batch should be fused now. */
  shouldCut(nowNs: number): boolean {
    if (this.pending === 0) return false;
    return this.cutRequested || nowNs - this.oldestPendingNs >= this.maxWaitNs;
  }

  /** Time at which the pending batch is due without a trigger, ns (Infinity when none pending). */
  dueAt(): number {
    return this.pending === 0 ? Infinity : this.oldestPendingNs + this.maxWaitNs;
  }

  /** The batch was taken. */
  cut(): void {
    this.pending = 0;
    this.pendingPerChannel.fill(0);
    this.oldestPendingNs = -1;
    this.cutRequested = false;
  }
}
