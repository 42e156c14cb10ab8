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
 * A stage's lag detector: a moving average of the period at which it completes frames against the
 * period it is expected to keep. Lagging when the average exceeds `enterFactor` × expected,
 * recovered below `exitFactor` × (hysteresis); each change is reported once.
 */
export class LagDetector {
  private avgNs: number;
  private lastNs = -1;
  private lagging = false;
  /** Times the stage started lagging. */
  episodes = 0;

  constructor(
    readonly expectedPeriodNs: number,
    private readonly alpha = 0.1,
    private readonly enterFactor = 1.5,
    private readonly exitFactor = 1.2,
  ) {
    this.avgNs = expectedPeriodNs;
  }

  /** Records a completion; returns 'lagging' or 'recovered' when the state changes, else undefined. */
  observe(atNs: number): 'lagging' | 'recovered' | undefined {
    if (this.lastNs >= 0) {
      const d = atNs - this.lastNs;
      if (d > 0) this.avgNs += this.alpha * (d - this.avgNs);
    }
    this.lastNs = atNs;
    return this.evaluate();
  }

  /** Time passing without completions also counts (a stalled stage completes nothing). */
  tick(nowNs: number): 'lagging' | 'recovered' | undefined {
    if (this.lastNs < 0) return undefined;
    const open = nowNs - this.lastNs;
    if (open > this.avgNs) this.avgNs += this.alpha * (open - this.avgNs);
    return this.evaluate();
  }

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
