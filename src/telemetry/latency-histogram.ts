/**
 * A log-linear latency histogram over typed arrays (HDR-style: 2^subBits sub-buckets per power of
 * two, so any recorded value is reported within 2^-subBits of itself: ~3% with the default 5 bits,
 * ~0.8% with 7, which the bench uses so that p99.9 is read to better than 1%). Used for the live
 * status line and the bench; recording allocates nothing.
 */
const DEFAULT_SUB_BITS = 5;
const MAX_EXP = 40; // 2^40 ns ≈ 18 minutes

export class LatencyHistogram {
  private readonly subBits: number;
  private readonly sub: number;
  private readonly counts: Float64Array;
  private total = 0;
  private maxNs = 0;
  private minNs = Infinity;
  private sumNs = 0;

  /** `subBits` (1-10): precision, as sub-buckets per power of two (2^subBits). */
  constructor(subBits = DEFAULT_SUB_BITS) {
    if (!Number.isInteger(subBits) || subBits < 1 || subBits > 10) {
      throw new RangeError(`LatencyHistogram: subBits ${subBits} must be an integer in 1..10`);
    }
    this.subBits = subBits;
    this.sub = 1 << subBits;
    this.counts = new Float64Array((MAX_EXP + 1) * this.sub);
  }

  /** Records one latency in nanoseconds; negative values count as 0, huge ones saturate. */
  record(ns: number): void {
    const v = ns > 0 ? Math.floor(ns) : 0;
    this.counts[this.bucketOf(v)]!++;
    this.total++;
    this.sumNs += v;
    if (v > this.maxNs) this.maxNs = v;
    if (v < this.minNs) this.minNs = v;
  }

  get count(): number {
    return this.total;
  }

  get max(): number {
    return this.maxNs;
  }

  /** Smallest value recorded, ns (NaN when empty). */
  get min(): number {
    return this.total ? this.minNs : NaN;
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
      if (seen >= target) return Math.min(this.upperEdge(b), this.maxNs);
    }
    return this.maxNs;
  }

  /**
   * The non-empty buckets in value order: [lower edge ns, upper edge ns, count] each (for plots of
   * the distribution and for carrying a histogram across threads or processes).
   */
  buckets(): [number, number, number][] {
    const out: [number, number, number][] = [];
    for (let b = 0; b < this.counts.length; b++) {
      const c = this.counts[b]!;
      if (c > 0) out.push([b === 0 ? 0 : this.upperEdge(b - 1) + 1, this.upperEdge(b), c]);
    }
    return out;
  }

  /** Adds another histogram of the same precision into this one. */
  add(other: LatencyHistogram): void {
    if (other.subBits !== this.subBits) {
      throw new RangeError(`LatencyHistogram.add: precision ${other.subBits} bits into ${this.subBits}`);
    }
    for (let b = 0; b < this.counts.length; b++) this.counts[b]! += other.counts[b]!;
    this.total += other.total;
    this.sumNs += other.sumNs;
    if (other.maxNs > this.maxNs) this.maxNs = other.maxNs;
    if (other.minNs < this.minNs) this.minNs = other.minNs;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.maxNs = 0;
    this.minNs = Infinity;
    this.sumNs = 0;
  }

  private bucketOf(v: number): number {
    const bits = this.subBits;
    if (v < this.sub) return v;
    const exp = Math.min(Math.floor(Math.log2(v)), MAX_EXP);
    const sub = Math.min(Math.floor(v / 2 ** (exp - bits)) - this.sub, this.sub - 1);
    return (exp - bits + 1) * this.sub + sub;
  }

  private upperEdge(bucket: number): number {
    const bits = this.subBits;
    if (bucket < this.sub) return bucket;
    const exp = Math.floor(bucket / this.sub) + bits - 1;
    const sub = bucket % this.sub;
    return (this.sub + sub + 1) * 2 ** (exp - bits) - 1;
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
