/**
 * The progress line of `replay-batch`: drives done, failed, rate and time left. On a terminal it
 * rewrites one line; elsewhere (CI logs, a pod's log) it writes a line per finished drive.
 */
export class BatchProgress {
  private done_ = 0;
  private failed = 0;
  private readonly startedMs = Date.now();

  constructor(
    private readonly total: number,
    private readonly out: NodeJS.WriteStream,
  ) {}

  /** One drive finished. */
  done(ok: boolean): void {
    this.done_++;
    if (!ok) this.failed++;
    const line = this.line();
    if (this.out.isTTY) this.out.write(`\r${line}\x1b[K`);
    else this.out.write(`${line}\n`);
  }

  /** The line as it stands. */
  line(): string {
    const elapsedS = (Date.now() - this.startedMs) / 1000;
    const perHour = elapsedS > 0 ? (3600 * this.done_) / elapsedS : 0;
    const leftS = this.done_ > 0 ? ((this.total - this.done_) * elapsedS) / this.done_ : NaN;
    const left = Number.isFinite(leftS)
      ? leftS >= 90
        ? `~${Math.round(leftS / 60)} min left`
        : `~${Math.round(leftS)} s left`
      : 'time left unknown';
    return `replay-batch: ${this.done_}/${this.total} drives, ${this.failed} failed, ${perHour.toFixed(1)} drives/h, ${left}`;
  }

  finish(): void {
    if (this.out.isTTY && this.done_ > 0) this.out.write('\n');
  }
}
