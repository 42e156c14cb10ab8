/**
 * OS priority per scheduler class: each stage thread runs at its class's priority, so that under
 * CPU contention (other processes, or our own lower classes) the kernel runs critical threads
 * first. Linux nice values and policies are per thread: setpriority() and sched_setscheduler() on
 * the calling thread change only that thread, and threads it creates afterwards inherit them.
 *
 * Nice alone is not enough on Linux 6.6+ (EEVDF): it sets a thread's share of the CPU, not how
 * soon it runs when it wakes, and a woken nice -10 thread could wait out a nice 0 thread's slice
 * (7.5 ms handoff p99 measured here with a lidar scan being cast and clustered on the other
 * threads; 0.5 ms with SCHED_FIFO). So critical threads ask for SCHED_FIFO at a low real-time
 * priority (through the native addon; needs CAP_SYS_NICE or an RLIMIT_RTPRIO) and fall back to
 * nice -10, saying so. A critical thread never spins unbounded (prefetch spins are bounded), and
 * the kernel's RT throttling keeps 5 % of each core for everything else.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { nativeAddon } from '../pool/native-addon.js';

export const CLASS_NICE: readonly number[] = [-10, 0, 5, 19]; // critical, high, normal, best-effort

/** The SCHED_FIFO priority critical threads ask for by default (low: above every normal thread, below the kernel's). */
export const DEFAULT_REALTIME_PRIORITY = 10;

/** The calling thread's kernel thread id (Linux), or 0 where there is none to read. */
export function currentThreadId(): number {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return 0;
  }
}

/** Sets the calling thread's nice value; returns a sentence saying what it got. */
export function setThreadNice(nice: number): string {
  const tid = currentThreadId();
  // not Linux: setPriority(0) is the whole process there; leave it
  if (tid === 0) return `nice not set (no per-thread priority on ${process.platform})`;
  try {
    setPriority(tid, nice);
    return `nice ${getPriority(tid)}`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    try {
      if (nice < 0) setPriority(tid, 0);
    } catch {
      // keep what it had
    }
    return `nice ${nice} refused (${code}; negative nice needs CAP_SYS_NICE): running at nice ${getPriority(tid)}`;
  }
}

/**
 * Sets the calling thread's priority for a class rank (0 critical … 3 best-effort): critical with
 * `realtimePriority` > 0 asks for SCHED_FIFO at it (falling back to nice −10); every other thread
 * is put back to SCHED_OTHER (a thread inherits its creator's policy) at its class's nice value.
 * Returns a sentence saying what it got.
 */
export function setThreadClass(rank: number, realtimePriority = DEFAULT_REALTIME_PRIORITY): string {
  const addon = nativeAddon();
  const canPolicy = typeof addon?.setThreadRealtime === 'function';
  if (rank === 0 && realtimePriority > 0) {
    if (!canPolicy) return `${setThreadNice(CLASS_NICE[0]!)} (SCHED_FIFO needs the native addon)`;
    const why = addon!.setThreadRealtime(realtimePriority);
    const nice = setThreadNice(CLASS_NICE[0]!);
    return why === ''
      ? `SCHED_FIFO ${realtimePriority}`
      : `SCHED_FIFO ${realtimePriority} refused (${why}): ${nice}`;
  }
  if (canPolicy) addon!.setThreadRealtime(0);
  return setThreadNice(CLASS_NICE[Math.min(Math.max(rank, 0), 3)]!);
}

/** The calling thread's scheduling policy ("fifo 10", "other 0"), or undefined without the addon. */
export function threadPolicy(): string | undefined {
  const addon = nativeAddon();
  return typeof addon?.threadPolicy === 'function' ? addon.threadPolicy() : undefined;
}

/**
 * The calling thread's policy and nice value now, as a function that puts them back (a service
 * that stops gives its thread back as it found it: the thread may go on to other work, such as
 * the next test file, which must not run at real-time priority).
 */
export function savedThreadPriority(): () => void {
  const policy = threadPolicy();
  let tid = 0;
  let nice = 0;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    nice = getPriority(tid);
  } catch {
    return () => undefined;
  }
  return () => {
    const [name, prio] = (policy ?? 'other 0').split(' ');
    const addon = nativeAddon();
    if (typeof addon?.setThreadRealtime === 'function')
      addon.setThreadRealtime(name === 'fifo' ? Number(prio) : 0);
    try {
      setPriority(tid, nice);
    } catch {
      // a raised priority cannot always be lowered back by an unprivileged thread; keep it
    }
  };
}
