// CPU per kernel thread and per process from /proc (utime + stime, in USER_HZ ticks: coarse, so
// read over whole cases, not per call), and the bench process's memory.
import { readFileSync } from 'node:fs';

const TICK_S = 1 / 100; // USER_HZ

function cpuTicks(path) {
  try {
    const f = readFileSync(path, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return NaN; // the thread or process has gone
  }
}

/** CPU seconds a thread of this process has used (NaN when unknown). */
export const threadCpuS = (tid) => (tid > 0 ? cpuTicks(`/proc/self/task/${tid}/stat`) * TICK_S : NaN);

/** CPU seconds a process has used (NaN when it has gone). */
export const processCpuS = (pid) => cpuTicks(`/proc/${pid}/stat`) * TICK_S;

/** Samples this process's memory while a case runs; `stop()` returns the peaks in MiB. */
export function memorySampler(periodMs = 250) {
  const peak = { rssMiB: 0, heapUsedMiB: 0, externalMiB: 0, arrayBuffersMiB: 0 };
  const take = () => {
    const m = process.memoryUsage();
    peak.rssMiB = Math.max(peak.rssMiB, m.rss / 2 ** 20);
    peak.heapUsedMiB = Math.max(peak.heapUsedMiB, m.heapUsed / 2 ** 20);
    peak.externalMiB = Math.max(peak.externalMiB, m.external / 2 ** 20);
    peak.arrayBuffersMiB = Math.max(peak.arrayBuffersMiB, m.arrayBuffers / 2 ** 20);
  };
  take();
  const timer = setInterval(take, periodMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return peak;
    },
  };
}
