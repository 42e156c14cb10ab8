import type { Logger } from './logger.js';

/**
 * Logs a recurring problem at most once per key per interval, reporting how many were
 * suppressed in between, so a sensor spewing bad frames cannot flood the log.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { atMs: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 1000,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /** Logs `msg` with `fields` unless `key` was logged less than the interval ago. Returns whether it logged. */
  warn(key: string, fields: Record<string, unknown>, msg: string): boolean {
    const now = this.nowMs();
    const entry = this.last.get(key);
    if (entry && now - entry.atMs < this.intervalMs) {
      entry.suppressed++;
      return false;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.last.set(key, { atMs: now, suppressed: 0 });
    this.log.warn(suppressed > 0 ? { ...fields, suppressed } : fields, msg);
    return true;
  }
}
