// Named latency histograms of one case (the service's own LatencyHistogram at 7 sub-bucket bits:
// every percentile within 0.8% of the recorded value), and their summaries in milliseconds.
import { dist } from './dist.mjs';

const { LatencyHistogram } = await import(dist('telemetry/latency-histogram.js'));

export const PRECISION_BITS = 7;

export class HistogramSet {
  constructor() {
    this.byName = new Map();
  }

  /** The histogram called `name` (created empty the first time). */
  get(name) {
    let h = this.byName.get(name);
    if (!h) {
      h = new LatencyHistogram(PRECISION_BITS);
      this.byName.set(name, h);
    }
    return h;
  }

  record(name, ns) {
    this.get(name).record(ns);
  }

  /** { name: summary } in ms, with the distribution's buckets when `withBuckets`. */
  summaries(withBuckets = true) {
    const out = {};
    for (const [name, h] of [...this.byName].sort(([a], [b]) => (a < b ? -1 : 1))) {
      out[name] = summarize(h, withBuckets);
    }
    return out;
  }
}

const ms = (ns) => (Number.isFinite(ns) ? ns / 1e6 : NaN);

/** n, mean, p50/p90/p99/p99.9, max (ms) and, optionally, [upper edge ms, count] buckets. */
export function summarize(h, withBuckets = false) {
  const s = {
    n: h.count,
    mean: h.count ? ms(h.mean) : NaN,
    p50: ms(h.quantile(0.5)),
    p90: ms(h.quantile(0.9)),
    p99: ms(h.quantile(0.99)),
    p999: ms(h.quantile(0.999)),
    max: h.count ? ms(h.max) : NaN,
  };
  if (withBuckets) s.buckets = h.buckets().map(([, hi, c]) => [hi / 1e6, c]);
  return s;
}

/** A summary with no samples (a metric a case does not have). */
export const EMPTY = { n: 0, mean: NaN, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN };
