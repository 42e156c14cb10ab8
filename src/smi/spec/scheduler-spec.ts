/** `spec.scheduler`: how the SMI scheduler runs the stages (see README, "Scheduler"). */
import { arr, bool, int, num, obj, opt, str, type Schema } from '../../schema/schema.js';

export const SCHEDULER_MODES = ['stages', 'trigger-cycles', 'sync-window'] as const;
export type SchedulerMode = (typeof SCHEDULER_MODES)[number];

export interface PrefetchSpec {
  /** Wake consumers shortly before a periodic channel's next expected commit and spin for it. */
  enabled: boolean;
  /** Spin on the commit counter until this long past the expected commit, then futex wait, µs. */
  spinUs: number;
  /**
   * Wake this long (plus twice the channel's learned jitter) before the expected commit, µs. A
   * channel whose lead comes to more than spinUs is too jittery to prefetch: it is slept on.
   */
  leadUs: number;
  /** Spinning stops when it would use more than this share of one core, %. */
  maxCpuPercent: number;
}

export interface SchedulerSpec {
  /**
   * `stages`: every measurement is fused as it is committed, each stage on its placement, by class
   * and deadline. `trigger-cycles`: the baseline of earlier releases (one thread clusters lidar and
   * fuses batches cut at trigger sensors), kept to measure the scheduler against. `sync-window`:
   * the stages and threads of `stages`, but the tracker waits to align its inputs (the
   * synchronisation window asynchronous fusion removes): measurements are fused in batches cut
   * when a lidar's boxes arrive (at most `triggerCycles.maxWaitMs` apart), for the bench.
   */
  mode: SchedulerMode;
  /** How late (behind the newest fused stamp) a measurement may arrive and still be fused in stamp order, ms. */
  reorderWindowMs: number;
  prefetch: PrefetchSpec;
  /** Shed or degrade frames that can no longer meet their deadline, and lower classes under overload. */
  shedding: boolean;
  /** Run each stage's thread at its class's OS priority (nice; negative needs CAP_SYS_NICE). */
  threadPriorities: boolean;
  /**
   * SCHED_FIFO priority (1-99) of the critical threads (ingest, tracker) when threadPriorities is
   * on; 0 = nice only. Needs CAP_SYS_NICE or RLIMIT_RTPRIO and the native addon; else nice −10.
   */
  realtimePriority: number;
  /** Only for modes trigger-cycles (triggers, maxWaitMs) and sync-window (maxWaitMs). */
  triggerCycles: { triggers: string[]; maxWaitMs: number };
  recovery: RecoverySpec;
}

/** What happens when the tracker's thread dies (README "Failure behaviour"). */
export interface RecoverySpec {
  /** Replace a tracker thread that died (threw, crashed, was terminated). */
  restart: boolean;
  /** Keep a hot standby tracker thread loaded and waiting, so that a replacement takes over in ms, not the ~300 ms a cold start takes. */
  standby: boolean;
  /** Give up (leave the tracker down, status Degraded) after this many deaths within `windowS`. */
  maxRestarts: number;
  windowS: number;
}

export const SCHEDULER_SCHEMA: Schema = obj({
  mode: opt(str({ enum: SCHEDULER_MODES })),
  reorderWindowMs: opt(num({ min: 0, max: 1000 })),
  prefetch: opt(
    obj({
      enabled: opt(bool()),
      spinUs: opt(int({ min: 0, max: 5000 })),
      leadUs: opt(int({ min: 0, max: 5000 })),
      maxCpuPercent: opt(num({ min: 0, max: 100 })),
    }),
  ),
  shedding: opt(bool()),
  threadPriorities: opt(bool()),
  realtimePriority: opt(int({ min: 0, max: 99 })),
  triggerCycles: opt(
    obj({
      triggers: opt(arr(str(), { minItems: 1 })),
      maxWaitMs: opt(num({ min: 1, max: 10_000 })),
    }),
  ),
  recovery: opt(
    obj({
      restart: opt(bool()),
      standby: opt(bool()),
      maxRestarts: opt(int({ min: 1, max: 1000 })),
      windowS: opt(num({ min: 1, max: 86_400 })),
    }),
  ),
});

export function defaultScheduler(triggers: string[]): SchedulerSpec {
  return {
    mode: 'stages',
    reorderWindowMs: 150,
    prefetch: { enabled: true, spinUs: 200, leadUs: 100, maxCpuPercent: 5 },
    shedding: true,
    threadPriorities: true,
    realtimePriority: 10,
    triggerCycles: { triggers, maxWaitMs: 100 },
    recovery: { restart: true, standby: true, maxRestarts: 5, windowS: 60 },
  };
}

export interface RawScheduler {
  mode?: SchedulerMode;
  reorderWindowMs?: number;
  prefetch?: Partial<PrefetchSpec>;
  shedding?: boolean;
  threadPriorities?: boolean;
  realtimePriority?: number;
  triggerCycles?: { triggers?: string[]; maxWaitMs?: number };
  recovery?: Partial<RecoverySpec>;
}

export function resolveScheduler(raw: RawScheduler | undefined, defaultTriggers: string[]): SchedulerSpec {
  const d = defaultScheduler(defaultTriggers);
  return {
    mode: raw?.mode ?? d.mode,
    reorderWindowMs: raw?.reorderWindowMs ?? d.reorderWindowMs,
    prefetch: { ...d.prefetch, ...raw?.prefetch },
    shedding: raw?.shedding ?? d.shedding,
    threadPriorities: raw?.threadPriorities ?? d.threadPriorities,
    realtimePriority: raw?.realtimePriority ?? d.realtimePriority,
    triggerCycles: {
      triggers: raw?.triggerCycles?.triggers ?? d.triggerCycles.triggers,
      maxWaitMs: raw?.triggerCycles?.maxWaitMs ?? d.triggerCycles.maxWaitMs,
    },
    recovery: { ...d.recovery, ...raw?.recovery },
  };
}
