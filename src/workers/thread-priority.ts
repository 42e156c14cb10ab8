/**
 * OS priority per scheduler class: each stage thread runs at its class's nice value, so that under
 * CPU contention (other processes, or our own lower classes) the kernel runs critical threads
 * first. Linux nice values are per thread: setpriority() on the calling thread's id changes only
 * that thread (threads created afterwards inherit it). Raising priority (negative nice) needs
 * CAP_SYS_NICE; without it the thread keeps nice 0 and says so.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

export const CLASS_NICE: readonly number[] = [-10, 0, 5, 19]; // critical, high, normal, best-effort

/** Sets the calling thread's nice value; returns a sentence saying what it got. */
export function setThreadNice(nice: number): string {
  let tid = 0;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    // not Linux: setPriority(0) is the whole process there; leave it
    return `nice not set (no per-thread priority on ${process.platform})`;
  }
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
