/**
 * A log-linear latency histogram over typed arrays (HDR-style: 32 sub-buckets per power of two,
 * so any recorded value is reported within ~3%). Used for the live status line and the bench;
 * recording allocates nothing.
 */
const SUB_BITS = 5;
const SUB = 1 << SUB_BITS;
const MAX_EXP = 40; // 2^40 ns ≈ 18 minutes

export class LatencyHistogram {
  private readonly counts = new Float64Array((MAX_EXP + 1) * SUB);
  private total = 0;
  private maxNs = 0;
  private sumNs = 0;

  /** Records one latency in nanoseconds; negative values count as 0, huge ones saturate. */
  record(ns: number): void {
    const v = ns > 0 ? Math.floor(ns) : 0;
    this.counts[LatencyHistogram.bucketOf(v)]!++;
    this.total++;
    this.sumNs += v;
    if (v > this.maxNs) this.maxNs = v;
  }

  get count(): number {
    return this.total;
  }

  get max(): number {
    return this.maxNs;
  }

  get mean(): number {
    return this.total ? this.sumNs / this.total : 0;
  }

  /** Value (ns) at quantile q in [0, 1], as the upper edge of its bucket; NaN when empty. */
  quantile(q: number): number {
    if (this.total === 0) return NaN;
    const target = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let b = 0; b < this.counts.length; b++) {
      seen += this.counts[b]!;
      if (seen >= target) return Math.min(LatencyHistogram.upperEdge(b), this.maxNs);
    }
    return this.maxNs;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.maxNs = 0;
    this.sumNs = 0;
  }

  private static bucketOf(v: number): number {
    if (v < SUB) return v;
    const exp = Math.min(Math.floor(Math.log2(v)), MAX_EXP);
    const sub = Math.min(Math.floor(v / 2 ** (exp - SUB_BITS)) - SUB, SUB - 1);
    return (exp - SUB_BITS + 1) * SUB + sub;
  }

  private static upperEdge(bucket: number): number {
    if (bucket < SUB) return bucket;
    const exp = Math.floor(bucket / SUB) + SUB_BITS - 1;
    const sub = bucket % SUB;
    return (SUB + sub + 1) * 2 ** (exp - SUB_BITS) - 1;
  }
}

/** Formats nanoseconds for people: 850ns, 12.3µs, 4.56ms, 1.20s. */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '-';
  if (ns < 1e3) return `${Math.round(ns)}ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(1)}µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(2)}ms`;
  return `${(ns / 1e9).toFixed(2)}s`;
}
