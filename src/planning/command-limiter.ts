/**
 * Jerk limit on the acceleration command: between two plans dt s apart the command moves by at
 * most jerk · dt toward what the planner wants. After a discontinuity (first call, stamps going
 * backwards or more than MAX_STEP_S apart) it starts from the measured acceleration, so the
 * limit applies to what the vehicle actually does.
 */
export class CommandLimiter {
  private prev = 0;
  private prevS = NaN;

  /** Largest gap between plans (s) across which the previous command still holds. */
  static readonly MAX_STEP_S = 1;

  /**
   * The command at time tS (s) for a wanted acceleration, within [lo, hi] and `jerk` m/s³ of
   * the previous one; `measured` (m/s², ignored when not finite) seeds it after a discontinuity.
   */
  apply(tS: number, wanted: number, jerk: number, measured: number, lo: number, hi: number): number {
    const dt = tS - this.prevS;
    let prev = this.prev;
    if (!(dt >= 0 && dt <= CommandLimiter.MAX_STEP_S)) prev = Number.isFinite(measured) ? measured : 0;
    const step = jerk * (dt >= 0 && dt <= CommandLimiter.MAX_STEP_S ? dt : 0);
    let a = Number.isFinite(wanted) ? wanted : prev;
    if (a < prev - step) a = prev - step;
    if (a > prev + step) a = prev + step;
    if (!(a >= lo)) a = lo;
    if (a > hi) a = hi;
    this.prev = a;
    this.prevS = tS;
    return a;
  }

  /** The last command, m/s². */
  get last(): number {
    return this.prev;
  }

  reset(): void {
    this.prev = 0;
    this.prevS = NaN;
  }
}
