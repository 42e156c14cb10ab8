import type { SensorConfig } from '../wire/rig.js';
import { SENSOR_KINDS } from '../wire/layouts.js';
import { formatNs, type LatencyHistogram } from './latency-histogram.js';

export interface StatusInputs {
  sensors: readonly SensorConfig[];
  received: Float64Array;
  rejected: () => number;
  dropped: () => number;
  tracks: () => number;
  decision: () => { decision: string; leadId: number; targetAccel: number; ttc: number };
  e2e: LatencyHistogram;
}

/**
 * The once-a-second summary: messages in per sensor kind (per second since the last line),
 * rejected and dropped, tracks, plan decision, and e2e p50/p99 over the last interval.
 */
export class StatusLine {
  private readonly last: Float64Array;
  private lastRejected = 0;
  private lastDropped = 0;
  private lastAtMs = performance.now();
  private readonly startMs = performance.now();

  constructor(private readonly inputs: StatusInputs) {
    this.last = new Float64Array(inputs.received.length);
  }

  /** Renders the line for the interval since the previous call and resets the e2e window. */
  next(): string {
    const { sensors, received, e2e } = this.inputs;
    const now = performance.now();
    const dt = Math.max((now - this.lastAtMs) / 1000, 1e-3);
    const perKind = SENSOR_KINDS.filter((kind) => sensors.some((s) => s.kind === kind)).map((kind) => {
      let n = 0;
      sensors.forEach((s, i) => {
        if (s.kind === kind) n += received[i]! - this.last[i]!;
      });
      return `${kind} ${Math.round(n / dt)}`;
    });
    this.last.set(received);
    const rejected = this.inputs.rejected();
    const dropped = this.inputs.dropped();
    const d = this.inputs.decision();
    const plan =
      d.decision === '-'
        ? 'plan -'
        : `plan ${d.decision}${d.leadId >= 0 ? ` lead #${d.leadId}` : ''} a=${d.targetAccel.toFixed(2)}${d.ttc >= 0 ? ` ttc ${d.ttc.toFixed(1)}s` : ''}`;
    const line =
      `[${Math.round((now - this.startMs) / 1000)
        .toString()
        .padStart(
          4,
        )}s] in/s ${perKind.join(' ')} | rejected ${rejected - this.lastRejected} dropped ${dropped - this.lastDropped}` +
      ` | tracks ${this.inputs.tracks()} | ${plan} | e2e p50 ${formatNs(e2e.quantile(0.5))} p99 ${formatNs(e2e.quantile(0.99))}`;
    this.lastRejected = rejected;
    this.lastDropped = dropped;
    this.lastAtMs = now;
    e2e.reset();
    return line;
  }
}
