/**
 * Learns a periodic channel's period and jitter online, so a consumer can be awake shortly
 * before the next commit instead of paying the thread wake-up after it (predictive prefetch).
 * Exponentially weighted: period p ← p + α(Δ − p), jitter j ← j + α(|Δ − p| − j). Gaps longer
 * than `maxGapFactor` periods (a dropout, a pause) are not learned from.
 */
export class PeriodEstimator {
  private lastNs = -1;
  private periodNs: number;
  private jitterNs = 0;
  private samples = 0;

  /**
   * @param expectedPeriodNs the nominal period (from the sensor's rateHz), the starting estimate
   * @param alpha weight of each new interval (0..1)
   */
  constructor(
    readonly expectedPeriodNs: number,
    private readonly alpha = 0.05,
    private readonly maxGapFactor = 3,
  ) {
    this.periodNs = expectedPeriodNs;
  }

  /** Records an arrival (commit time, ns). */
  observe(atNs: number): void {
    if (this.lastNs >= 0) {
      const d = atNs - this.lastNs;
      if (d > 0 && d < this.maxGapFactor * this.periodNs) {
        const a = this.samples < 8 ? 1 / (this.samples + 1) : this.alpha;
        const err = d - this.periodNs;
        this.periodNs += a * err;
        this.jitterNs += a * (Math.abs(err) - this.jitterNs);
        this.samples++;
      }
    }
    this.lastNs = atNs;
  }

  get period(): number {
    return this.periodNs;
  }

  get jitter(): number {
    return this.jitterNs;
  }

  /** Whether enough intervals were seen to predict from (and the channel is periodic at all). */
  get trained(): boolean {
    return this.samples >= 8 && this.jitterNs < 0.25 * this.periodNs;
  }

  /**
   * The next expected arrival after `nowNs` (ns), or Infinity when untrained or silent for more
   * than `maxGapFactor` periods.
   */
  nextAfter(nowNs: number): number {
    if (!this.trained || this.lastNs < 0) return Infinity;
    const since = nowNs - this.lastNs;
    if (since > this.maxGapFactor * this.periodNs) return Infinity;
    const k = Math.max(1, Math.ceil(since / this.periodNs));
    return this.lastNs + k * this.periodNs;
  }
}

/**
 * A stage's lag detector: the average period at which it completes frames over a window of time
 * (at least 1 s and 20 expected periods), against the period it is expected to keep. Windows, not
 * a per-frame moving average: a stage fed by several sensors completes in bursts (ego and radar at
 * one instant, then nothing), and a short average of such gaps crosses any threshold many times a
 * second. Lagging when a window's average exceeds `enterFactor` × expected, recovered when one is
 * below `exitFactor` × (hysteresis); each change is reported once, at the end of a window.
 */
export class LagDetector {
  private windowStartNs = -1;
  private completions = 0;
  private avgNs: number;
  private lagging = false;
  /** Times the stage started lagging. */
  episodes = 0;
  readonly windowNs: number;

  constructor(
    readonly expectedPeriodNs: number,
    windowNs = Math.max(1e9, 20 * expectedPeriodNs),
    private readonly enterFactor = 1.5,
    private readonly exitFactor = 1.2,
  ) {
    this.avgNs = expectedPeriodNs;
    this.windowNs = windowNs;
  }

  /** Records a completion; returns 'lagging' or 'recovered' when the state changes, else undefined. */
  observe(atNs: number): 'lagging' | 'recovered' | undefined {
    const e = this.tick(atNs);
    if (this.windowStartNs < 0) this.windowStartNs = atNs;
    else this.completions++;
    return e;
  }

  /**
   * Closes the windows that `nowNs` has passed (a stalled stage completes nothing: its windows
   * close empty, and it lags); returns the state change, if any.
   */
  tick(nowNs: number): 'lagging' | 'recovered' | undefined {
    if (this.windowStartNs < 0) return undefined;
    let e: 'lagging' | 'recovered' | undefined;
    while (nowNs - this.windowStartNs >= this.windowNs) {
      this.avgNs = this.completions > 0 ? this.windowNs / this.completions : Infinity;
      this.completions = 0;
      this.windowStartNs += this.windowNs;
      e = this.evaluate() ?? e;
    }
    return e;
  }

  /** The last closed window's average period, ns (the expected one before the first closes). */
  get averagePeriod(): number {
    return this.avgNs;
  }

  get isLagging(): boolean {
    return this.lagging;
  }

  private evaluate(): 'lagging' | 'recovered' | undefined {
    if (!this.lagging && this.avgNs > this.enterFactor * this.expectedPeriodNs) {
      this.lagging = true;
      this.episodes++;
      return 'lagging';
    }
    if (this.lagging && this.avgNs < this.exitFactor * this.expectedPeriodNs) {
      this.lagging = false;
      return 'recovered';
    }
    return undefined;
  }
}
